"""UCI airfoil on the real file (../shared/data), variants of its format, and the download."""

import hashlib
import io
import os
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.airfoil import (
    FILENAME,
    SHA256,
    Airfoil,
    download_airfoil,
    locate_airfoil,
    read_airfoil,
)


def shared_folder() -> Path:
    configured = os.environ.get("SUPREMIX_DATA")
    if configured and (Path(configured) / FILENAME).is_file():
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


SHARED = shared_folder()
pytestmark = pytest.mark.skipif(
    not (SHARED / FILENAME).is_file(), reason="the real airfoil file (../shared/data) is absent"
)


def test_shared_copy_is_the_uci_file_with_1503_rows():
    raw = (SHARED / FILENAME).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SHA256
    splits = {s: get_dataset("airfoil", SHARED, s) for s in ("train", "val", "test")}
    assert [len(d) for d in splits.values()] == [1203, 150, 150]  # Mixup Your Own Pairs' Table 12
    ids = [i for d in splits.values() for i in d.ids]
    assert sorted(ids, key=int) == [str(i) for i in range(1503)]
    targets = np.concatenate([d.targets for d in splits.values()])
    assert targets.min() == 103.38 and targets.max() == 140.987


def test_items_are_rows_of_the_file():
    lines = (SHARED / FILENAME).read_text().splitlines()
    holder = next(d for s in ("train", "val", "test") if "0" in (d := Airfoil(SHARED, s)).ids)
    item = holder[holder.ids.index("0")]
    np.testing.assert_allclose(item["x"].numpy(), [800, 0, 0.3048, 71.3, 0.00266337], rtol=1e-6)
    assert item["y"] == 126.201 and item["id"] == "0" and "group" not in item
    assert holder.source_file(3) == SHARED / FILENAME
    test = Airfoil(SHARED, "test")
    for index in (0, 77, 149):
        row = int(test.ids[index])
        fields = [float(f) for f in lines[row].split()]
        np.testing.assert_allclose(test[index]["x"].numpy(), fields[:5], rtol=1e-6)
        assert test.targets[index] == fields[5]


def test_split_depends_only_on_the_seed():
    first, again = Airfoil(SHARED, "val", seed=5), Airfoil(SHARED, "val", seed=5)
    assert first.ids == again.ids
    assert Airfoil(SHARED, "val", seed=6).ids != first.ids
    assert len(Airfoil(SHARED, "test", val=0.2, test=0.1)) == 150


def test_normalisation_uses_train_statistics_for_every_split():
    table = read_airfoil(SHARED / FILENAME)
    train_rows = [int(i) for i in Airfoil(SHARED, "train").ids]
    mean, std = table[train_rows, :5].mean(axis=0), table[train_rows, :5].std(axis=0)
    low, high = table[train_rows, :5].min(axis=0), table[train_rows, :5].max(axis=0)
    val = Airfoil(SHARED, "val", normalize="zscore")
    rows = [int(i) for i in val.ids]
    np.testing.assert_allclose(val.features, (table[rows, :5] - mean) / std, rtol=1e-5, atol=1e-6)
    scaled = Airfoil(SHARED, "train", normalize="minmax").features
    np.testing.assert_allclose(scaled.min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(scaled.max(axis=0), 1, atol=1e-6)
    test = Airfoil(SHARED, "test", normalize="minmax")
    expected = (table[[int(i) for i in test.ids], :5] - low) / (high - low)
    np.testing.assert_allclose(test.features, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"unknown normalize 'l2'"):
        Airfoil(SHARED, normalize="l2")


def test_reader_tolerates_header_and_line_endings(tmp_path):
    original = read_airfoil(SHARED / FILENAME)
    text = (SHARED / FILENAME).read_bytes().decode().replace("\r\n", "\n")
    variants = {
        "lf.dat": text,
        "header.dat": "Freq Angle Length Vel Displ Pressure\n" + text,
        "crlf_header.dat": ("X0,X1,X2,X3,X4,TARGET\n" + text).replace("\n", "\r\n"),
        "spaces.dat": text.replace("\t", "   ") + "\n\n",
    }
    for name, content in variants.items():
        (tmp_path / name).write_text(content, newline="")
        np.testing.assert_array_equal(read_airfoil(tmp_path / name), original)


def test_reader_names_bad_lines(tmp_path):
    (tmp_path / "short.dat").write_text("800 0 0.3048 71.3 0.0026 126.2\n800 0 0.3 71.3 126.2\n")
    with pytest.raises(
        DatasetContentError, match=r"line 2 of .*short.dat has 5 fields, expected 6"
    ):
        read_airfoil(tmp_path / "short.dat")
    (tmp_path / "text.dat").write_text("800 0 0.3048 71.3 0.0026 126.2\nfoo 0 0 0 0 1\n")
    with pytest.raises(DatasetContentError, match=r"line 2 of .*text.dat is not numeric"):
        read_airfoil(tmp_path / "text.dat")


def test_locate_uses_root_then_environment(tmp_path, monkeypatch):
    assert locate_airfoil(SHARED) == SHARED / FILENAME
    assert locate_airfoil(SHARED / FILENAME) == SHARED / FILENAME
    monkeypatch.setenv("SUPREMIX_DATA", str(SHARED))
    assert locate_airfoil() == SHARED / FILENAME
    assert len(get_dataset("airfoil", None, "test")) == 150
    with pytest.raises(DatasetLayoutError, match=rf"airfoil: {FILENAME} is not in {tmp_path}"):
        locate_airfoil(tmp_path, download=False)


class FakeWeb:
    """An ``urlopen`` stand-in: url -> bytes, or an exception to raise."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def __call__(self, url, timeout):
        self.asked.append(url)
        answer = self.answers[url]
        if isinstance(answer, Exception):
            raise answer
        return io.BytesIO(answer)


def test_download_verifies_the_checksum_and_writes_atomically(tmp_path):
    good = (SHARED / FILENAME).read_bytes()
    web = FakeWeb({"https://a/x.dat": urllib.error.URLError("offline"), "https://b/y.dat": good})
    path = download_airfoil(tmp_path / "new", urls=list(web.answers), opener=web)
    assert path.read_bytes() == good and web.asked == ["https://a/x.dat", "https://b/y.dat"]
    assert sorted(p.name for p in path.parent.iterdir()) == [FILENAME]

    tampered = good.replace(b"126.201", b"126.202")
    bad = FakeWeb({"https://a/x.dat": tampered})
    with pytest.raises(DatasetContentError, match=r"has SHA-256 [0-9a-f]{64}, expected 74c75fd7"):
        download_airfoil(tmp_path / "bad", urls=["https://a/x.dat"], opener=bad)
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_download_reads_the_zip_archive_and_reports_failures(tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(FILENAME, (SHARED / FILENAME).read_bytes())
    web = FakeWeb({"https://u/airfoil.zip": archive.getvalue()})
    path = download_airfoil(tmp_path, urls=["https://u/airfoil.zip"], opener=web)
    assert path.read_bytes() == (SHARED / FILENAME).read_bytes()

    down = FakeWeb({"https://u/a.dat": urllib.error.URLError("no route")})
    with pytest.raises(
        DatasetLayoutError, match=r"the download failed \(https://u/a.dat: .*no route"
    ):
        download_airfoil(tmp_path / "none", urls=["https://u/a.dat"], opener=down)
