"""CAMUS loader: both releases, official and seeded splits, EchoNet-shaped clips, errors."""

import re
import shutil
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.camus import CAMUS, read_cfg
from supremix.data.echonet import EchoNetDynamic, clip_options
from supremix.data.phantoms import write_phantom
from supremix.data.volumeio import read_mhd


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("camus")
    return {
        release: write_phantom("camus", root / release, n=20, size=32, seed=8, release=release)
        for release in ("2019", "2023")
    }


@pytest.fixture
def copy(tmp_path, releases):
    target = tmp_path / "copy"
    shutil.copytree(releases["2019"], target)
    return target


def listed(root, name):
    return sorted((root / name).read_text().split())


def test_both_releases_give_the_same_patients_labels_and_videos(releases):
    old, new = releases["2019"], releases["2023"]
    for split, word in (("train", "training"), ("val", "validation"), ("test", "testing")):
        a, b = CAMUS(old, split), CAMUS(new, split)
        assert a.release == "2019" and b.release == "2023"
        assert a.ids == listed(old, f"listSubGroups/subGroup1_{word}.txt")
        assert b.ids == listed(new, f"database_split/subgroup_{word}.txt")
    a = CAMUS(old, "test", all_patients=True, size=None)
    b = CAMUS(new, "test", all_patients=True, size=None)
    assert a.ids == b.ids == [f"patient{k:04d}" for k in range(1, 21)]
    assert np.array_equal(a.targets, b.targets) and a.split_source == "all"
    for i in (0, 7):
        assert torch.equal(a.load(i), b.load(i))
    for i, patient in enumerate(a.ids):
        info = read_cfg(old / "training" / patient / "Info_4CH.cfg")
        assert a.targets[i] == float(info["LVef"])
        assert a.groups[i] == {"F": 0, "M": 1}[info["Sex"]]
        assert a.quality[i] == info["ImageQuality"]


def test_items_are_shaped_like_echonet_clips(releases):
    ds = get_dataset("camus", releases["2019"], "val", augment=False)
    x = ds[0]["x"]
    assert x.shape == (3, 32, 112, 112) and x.dtype == torch.float32
    assert torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])  # grey in three channels
    frames, _ = read_mhd(ds.source_file(0))
    assert not x[:, (frames.shape[0] + 1) // 2 :].any()  # 10-34 frames at period 2, zero-padded
    native = CAMUS(releases["2019"], "val", size=None, augment=False)
    assert torch.equal(native.raw_video(0)[0], torch.tensor(frames, dtype=torch.float32))
    assert native.options == {"size": None, "mean": [0.0] * 3, "std": [1.0] * 3, "view": "4CH"}


def test_echonet_pipeline_carries_over(releases, tmp_path):
    echo = write_phantom("echonet", tmp_path, n=6, size=32, seed=1)
    train = EchoNetDynamic(echo, "train", mean=[30.0, 31.0, 32.0], std=[40.0, 41.0, 42.0])
    ds = CAMUS(releases["2023"], "test", all_patients=True, augment=False, **clip_options(train))
    assert ds[0]["x"].shape == (3, 32, 32, 32) and ds.options["size"] == (32, 32)
    raw = CAMUS(releases["2023"], "test", all_patients=True, size=32).raw_video(0)
    expected = (raw - torch.tensor([30.0, 31.0, 32.0]).view(3, 1, 1, 1)) / torch.tensor(
        [40.0, 41.0, 42.0]
    ).view(3, 1, 1, 1)
    torch.testing.assert_close(ds.load(0), expected)


def test_two_chamber_view_and_other_fold(releases):
    two = CAMUS(releases["2019"], "train", view="2CH", size=None)
    assert two.source_file(0).name.endswith("_2CH_half_sequence.mhd")
    fold3 = CAMUS(releases["2019"], "test", fold=3)
    assert fold3.ids == listed(releases["2019"], "listSubGroups/subGroup3_testing.txt")
    assert fold3.ids != CAMUS(releases["2019"], "test").ids


def test_seeded_split_when_no_split_files(copy):
    shutil.rmtree(copy / "listSubGroups")
    parts = {s: CAMUS(copy, s, seed=4) for s in ("train", "val", "test")}
    assert [len(p) for p in parts.values()] == [16, 2, 2]
    assert all(p.split_source == "seeded" for p in parts.values())
    assert len(set().union(*(p.ids for p in parts.values()))) == 20
    assert CAMUS(copy, "val", seed=4).ids == parts["val"].ids


def test_sequence_stored_es_first_is_reversed(copy):
    reference = CAMUS(copy, "test", all_patients=True, size=None).raw_video(1)
    folder = copy / "training" / "patient0002"
    sequence = folder / "patient0002_4CH_half_sequence.raw"
    frames, _ = read_mhd(folder / "patient0002_4CH_half_sequence.mhd")
    sequence.write_bytes(np.ascontiguousarray(frames[::-1]).tobytes())
    info = (folder / "Info_4CH.cfg").read_text()
    n = len(frames)
    (folder / "Info_4CH.cfg").write_text(info.replace("ED: 1\nES: " + str(n), f"ED: {n}\nES: 1"))
    assert read_cfg(folder / "Info_4CH.cfg")["ED"] == str(n)
    swapped = CAMUS(copy, "test", all_patients=True, size=None)
    assert torch.equal(swapped.raw_video(1), reference)


def test_older_sequence_name_is_accepted(copy):
    folder = copy / "training" / "patient0005"
    for suffix in (".mhd", ".raw"):
        (folder / f"patient0005_4CH_half_sequence{suffix}").rename(
            folder / f"patient0005_4CH_sequence{suffix}"
        )
    header = folder / "patient0005_4CH_sequence.mhd"
    header.write_text(header.read_text().replace("_half_sequence.raw", "_sequence.raw"))
    ds = CAMUS(copy, "test", all_patients=True)
    assert ds.source_file(4).name == "patient0005_4CH_sequence.mhd"
    assert ds[4]["x"].shape == (3, 32, 112, 112)


def test_bad_inputs_name_what_was_expected(copy, tmp_path):
    with pytest.raises(DatasetLayoutError, match=r"neither database_nifti/ nor training/ in"):
        CAMUS(tmp_path / "nothing")
    (copy / "listSubGroups" / "subGroup1_validation.txt").unlink()
    with pytest.raises(DatasetLayoutError, match=r"incomplete split files: .*subGroup1_validation"):
        CAMUS(copy)
    folder = copy / "training" / "patient0003"
    info = folder / "Info_4CH.cfg"
    text = info.read_text()
    info.write_text(re.sub(r"LVef: .*\n", "", text))
    with pytest.raises(DatasetContentError, match=r"Info_4CH.cfg of patient0003 has no LVef or EF"):
        CAMUS(copy, all_patients=True)
    info.unlink()
    with pytest.raises(DatasetLayoutError, match=r"Info_4CH.cfg not found; expected Info_4CH.cfg"):
        CAMUS(copy, all_patients=True)
    info.write_text(text)
    (folder / "patient0003_4CH_half_sequence.mhd").unlink()
    with pytest.raises(DatasetLayoutError, match=r"no 4CH sequence in .*patient0003; expected"):
        CAMUS(copy, all_patients=True)
    with pytest.raises(ValueError, match=r"unknown view '3CH'; expected 2CH or 4CH"):
        CAMUS(copy, view="3CH")


def test_listed_patient_without_folder_and_unreadable_sequence(releases, tmp_path):
    root = tmp_path / "new"
    shutil.copytree(releases["2023"], root)
    (root / "database_split" / "subgroup_testing.txt").write_text("patient0099\n")
    with pytest.raises(DatasetLayoutError, match=r"lists 1 patients without a folder: patient0099"):
        CAMUS(root, "test")
    ds = CAMUS(root, "val")
    ds.source_file(0).write_bytes(b"\x1f\x8bbroken")
    with pytest.raises(
        DatasetContentError, match=f"unreadable sequence {re.escape(str(ds.source_file(0)))}"
    ):
        ds[0]


MET = {
    "u1": "MET_UCHAR",
    "i2": "MET_SHORT",
    "u2": "MET_USHORT",
    "f4": "MET_FLOAT",
    "f8": "MET_DOUBLE",
}


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(sorted(MET)),
    st.booleans(),
    st.sampled_from(["raw", "local", "zlib"]),
    hnp.array_shapes(min_dims=2, max_dims=3, max_side=5),
    st.data(),
)
def test_metaimage_reader_matches_the_bytes(tmp_path_factory, code, msb, storage, shape, data):
    dtype = np.dtype(code).newbyteorder(">" if msb else "<")
    array = data.draw(
        hnp.arrays(
            dtype,
            shape,
            elements=hnp.from_dtype(np.dtype(code), allow_nan=False, allow_infinity=False),
        )
    )
    folder = tmp_path_factory.mktemp("mhd")
    payload = array.tobytes()
    lines = [
        "ObjectType = Image",
        f"NDims = {len(shape)}",
        "DimSize = " + " ".join(str(s) for s in reversed(shape)),
        f"ElementType = {MET[code]}",
        f"BinaryDataByteOrderMSB = {msb}",
        "ElementSpacing = " + " ".join(f"{0.5 * (k + 1)}" for k in range(len(shape))),
    ]
    if storage == "zlib":
        payload = zlib.compress(payload)
        lines.append("CompressedData = True")
    if storage == "local":
        lines.append("ElementDataFile = LOCAL")
        (folder / "image.mhd").write_bytes(("\n".join(lines) + "\n").encode() + payload)
    else:
        lines.append("ElementDataFile = image.raw")
        (folder / "image.mhd").write_text("\n".join(lines) + "\n")
        (folder / "image.raw").write_bytes(payload)
    read, spacing = read_mhd(folder / "image.mhd")
    assert read.shape == array.shape and np.array_equal(read, array.astype(np.dtype(code)))
    assert spacing == tuple(0.5 * (k + 1) for k in reversed(range(len(shape))))


def test_metaimage_reader_rejects_short_data(tmp_path):
    (tmp_path / "a.mhd").write_text(
        "NDims = 2\nDimSize = 4 4\nElementType = MET_SHORT\nElementDataFile = a.raw\n"
    )
    (tmp_path / "a.raw").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match=r"data holds 10 bytes, expected 32 for DimSize \[4, 4\]"):
        read_mhd(tmp_path / "a.mhd")
