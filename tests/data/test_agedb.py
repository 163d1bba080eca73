"""AgeDB-DIR and IMDB-WIKI-DIR loaders on phantoms in the DIR layout (Pillow JPEG, pandas CSV)."""

import csv
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.agedb import IMDBWIKIDIR, AgeDBDIR, gender_from_filename
from supremix.data.phantoms import write_phantom

SIZE = 24


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]], fields=("age", "path", "split")) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields))
        writer.writeheader()
        writer.writerows([{k: r[k] for k in fields} for r in rows])


@pytest.fixture(scope="module")
def agedb(tmp_path_factory) -> Path:
    return write_phantom("agedb", tmp_path_factory.mktemp("agedb"), n=90, image_size=SIZE)


@pytest.fixture(scope="module")
def imdbwiki(tmp_path_factory) -> Path:
    return write_phantom("imdbwiki", tmp_path_factory.mktemp("imdb"), n=60, image_size=SIZE)


@pytest.fixture()
def copy(agedb, tmp_path) -> Path:
    return Path(shutil.copytree(agedb, tmp_path / "copy"))


@pytest.mark.parametrize(
    ("name", "csv_name"), [("agedb", "agedb.csv"), ("imdbwiki", "imdb_wiki.csv")]
)
def test_official_splits_from_the_csv(request, name, csv_name):
    root = request.getfixturevalue(name)
    rows = rows_of(root / csv_name)
    seen = []
    for split in ("train", "val", "test"):
        dataset = get_dataset(name, root, split, image_size=SIZE)
        expected = [r for r in rows if r["split"] == split]
        assert dataset.ids == [r["path"] for r in expected]
        assert dataset.targets.tolist() == [float(r["age"]) for r in expected]
        seen += dataset.ids
    assert sorted(seen) == sorted(r["path"] for r in rows)
    assert len(set(seen)) == len(seen)


def test_agedb_items_are_rgb_in_unit_range_with_gender_group(agedb):
    dataset = AgeDBDIR(agedb, "val", image_size=SIZE)
    item = dataset[0]
    with Image.open(agedb / item["id"]) as image:
        expected = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    assert item["x"].shape == (3, SIZE, SIZE)
    assert torch.allclose(item["x"], torch.from_numpy(expected).permute(2, 0, 1))
    assert item["group"] == {"m": 1, "f": 0}[Path(item["id"]).stem[-1]]
    assert dataset.options == {"image_size": (SIZE, SIZE)}
    assert dataset.source_file(0) == agedb / item["id"]


def test_default_size_is_224_bilinear(agedb):
    dataset = AgeDBDIR(agedb, "test")
    with Image.open(dataset.source_file(0)) as image:
        expected = image.convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
    expected = torch.from_numpy(np.asarray(expected) / 255.0).float().permute(2, 0, 1)
    assert torch.equal(dataset.load(0), expected)


def test_imdbwiki_has_no_group(imdbwiki):
    dataset = IMDBWIKIDIR(imdbwiki, image_size=SIZE)
    assert dataset.groups is None and "group" not in dataset[0]
    assert dataset.ids[0].startswith(("imdb_crop/", "wiki_crop/"))


@pytest.mark.parametrize(
    ("path", "gender"),
    [
        ("AgeDB/11706_OliviaHussey_31_f.jpg", 0),
        ("AgeDB/1_A_B_50_m.jpg", 1),
        ("AgeDB/2_Name_50_M.JPG", 1),
        ("AgeDB/3_Name_50.jpg", None),
    ],
)
def test_gender_from_filename(path, gender):
    assert gender_from_filename(path) == gender


def test_missing_csv(tmp_path):
    with pytest.raises(DatasetLayoutError, match=r"label file .*agedb\.csv is missing; expected"):
        get_dataset("agedb", tmp_path)


def test_csv_without_split_column(copy):
    write_rows(copy / "agedb.csv", rows_of(copy / "agedb.csv"), fields=("age", "path"))
    with pytest.raises(DatasetLayoutError, match="has no column 'split'"):
        get_dataset("agedb", copy)


def test_unknown_split_value(copy):
    rows = rows_of(copy / "agedb.csv")
    rows[0]["split"] = "dev"
    write_rows(copy / "agedb.csv", rows)
    with pytest.raises(DatasetContentError, match=r"has values \['dev'\]; expected train, val"):
        get_dataset("agedb", copy)


def test_missing_image_is_named(copy):
    rows = rows_of(copy / "agedb.csv")
    first = next(r for r in rows if r["split"] == "train")
    (copy / first["path"]).unlink()
    with pytest.raises(
        DatasetLayoutError, match=rf"1 image\(s\) listed .* missing: {first['path']}"
    ):
        get_dataset("agedb", copy)


def test_corrupt_jpeg_is_reported_with_its_path(copy):
    dataset = get_dataset("agedb", copy, image_size=SIZE)
    path = dataset.source_file(2)
    path.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(DatasetContentError, match=rf"cannot read image {path}"):
        dataset.load(2)


def test_non_finite_age_is_rejected_with_its_id(copy):
    rows = rows_of(copy / "agedb.csv")
    train = [r for r in rows if r["split"] == "train"]
    train[0]["age"] = "inf"
    train[1]["age"] = "unknown"
    write_rows(copy / "agedb.csv", rows)
    with pytest.raises(
        DatasetContentError,
        match=rf"\(id {train[0]['path']}\): 'inf', .*\(id {train[1]['path']}\): 'unknown'",
    ):
        get_dataset("agedb", copy)


def test_agedb_name_without_gender_suffix(copy):
    rows = rows_of(copy / "agedb.csv")
    row = next(r for r in rows if r["split"] == "train")
    renamed = row["path"][: -len("_m.jpg")] + ".jpg"
    (copy / row["path"]).rename(copy / renamed)
    row["path"] = renamed
    write_rows(copy / "agedb.csv", rows)
    with pytest.raises(DatasetContentError, match=rf"without a _m/_f gender suffix: {renamed}"):
        get_dataset("agedb", copy)


def test_split_is_case_insensitive_and_counts_match(copy):
    rows = rows_of(copy / "agedb.csv")
    counts = Counter(r["split"] for r in rows)
    for r in rows:
        r["split"] = r["split"].upper()
    write_rows(copy / "agedb.csv", rows)
    assert len(get_dataset("agedb", copy, "val")) == counts["val"]
