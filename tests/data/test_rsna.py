"""RSNA Bone Age loader on phantoms written in both official layouts (Pillow PNG, xlsx/CSV)."""

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageOps

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.phantoms import write_phantom
from supremix.data.rsna import RSNABoneAge
from supremix.data.tables import parse_sex

SIZE = (40, 32)
TRAIN_CSV = "Bone Age Training Set Annotations/train.csv"


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def official(tmp_path_factory) -> Path:
    return write_phantom("rsna", tmp_path_factory.mktemp("rsna_official"), n=60, image_size=SIZE)


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rsna_kaggle")
    return write_phantom("rsna", root, n=40, image_size=SIZE, seed=3, layout="kaggle")


@pytest.fixture()
def copy_of(tmp_path):
    def make(root: Path) -> Path:
        return Path(shutil.copytree(root, tmp_path / "copy"))

    return make


def test_official_layout_seeded_split_sizes_and_partition(official):
    rows = read_csv_rows(official / TRAIN_CSV)
    n = len(rows)
    train = get_dataset("rsna", official, "train", image_size=SIZE)
    val = get_dataset("rsna", official, "val", image_size=SIZE)
    assert train.layout == "official"
    assert len(val) == round(1000 / 12611 * n) and len(train) == n - len(val)
    assert not set(train.ids) & set(val.ids)
    assert set(train.ids) | set(val.ids) == {r["id"] for r in rows}


def test_seeded_split_is_deterministic_and_depends_on_seed(official):
    first = get_dataset("rsna", official, "val", image_size=SIZE, seed=5).ids
    again = get_dataset("rsna", official, "val", image_size=SIZE, seed=5).ids
    other = get_dataset("rsna", official, "val", image_size=SIZE, seed=6).ids
    assert first == again
    assert first != other


def test_items_match_the_label_files(official):
    rows = {r["id"]: r for r in read_csv_rows(official / TRAIN_CSV)}
    train = get_dataset("rsna", official, "train", image_size=SIZE)
    for index in (0, len(train) - 1):
        item = train[index]
        row = rows[item["id"]]
        assert item["y"] == float(row["boneage"])
        assert item["group"] == (1 if row["male"] == "True" else 0)
        assert item["x"].shape == (1, *SIZE) and item["x"].dtype == torch.float32
        assert item["x"].min() >= 0.0 and item["x"].max() <= 1.0
        assert train.source_file(index).name == f"{item['id']}.png"
    assert torch.equal(train.load(3), train.load(3))
    assert train.options == {"image_size": SIZE, "contrast": "equalize"}


def test_official_test_split_reads_the_xlsx_ground_truth(official):
    import pandas as pd

    truth = pd.read_excel(official / "Bone Age Test Set" / "Bone age ground truth.xlsx")
    test = get_dataset("rsna", official, "test", image_size=SIZE)
    assert test.ids == [str(v) for v in truth["Case ID"]]
    assert test.targets.tolist() == truth["Ground truth bone age (months)"].astype(float).tolist()
    assert test.groups.tolist() == [1 if s == "M" else 0 for s in truth["Sex"]]


def test_test_ground_truth_as_csv(tmp_path):
    root = write_phantom("rsna", tmp_path, n=20, image_size=SIZE, test_labels="csv")
    rows = read_csv_rows(root / "Bone Age Test Set" / "Bone age ground truth.csv")
    test = get_dataset("rsna", root, "test", image_size=SIZE)
    assert test.ids == [r["Case ID"] for r in rows]


def test_official_validation_set_spans_both_folders(official):
    rows = read_csv_rows(official / "Bone Age Validation Set" / "Validation Dataset.csv")
    val = get_dataset("rsna", official, "val", image_size=SIZE, validation="official")
    train = get_dataset("rsna", official, "train", image_size=SIZE, validation="official")
    assert val.ids == [r["Image ID"] for r in rows]
    assert val.targets.tolist() == [float(r["Bone Age (months)"]) for r in rows]
    assert {val.source_file(i).parent.name for i in range(len(val))} == {
        "boneage-validation-dataset-1",
        "boneage-validation-dataset-2",
    }
    assert len(train) == len(read_csv_rows(official / TRAIN_CSV))


def test_kaggle_layout_train_and_val(kaggle):
    rows = read_csv_rows(kaggle / "boneage-training-dataset.csv")
    train = get_dataset("rsna", kaggle, "train", image_size=SIZE)
    val = get_dataset("rsna", kaggle, "val", image_size=SIZE)
    assert train.layout == "kaggle"
    assert sorted(train.ids + val.ids) == sorted(r["id"] for r in rows)
    assert "boneage-training-dataset/boneage-training-dataset" in str(train.source_file(0))


def test_kaggle_test_split_names_the_missing_ground_truth(kaggle):
    with pytest.raises(
        DatasetLayoutError,
        match=r"the Kaggle copy has no test labels: .*Bone age ground truth\.xlsx \(or \.csv\) "
        r"is missing.*data_cards/rsna\.md",
    ):
        get_dataset("rsna", kaggle, "test", image_size=SIZE)


def test_kaggle_test_split_with_ground_truth_in_root(kaggle, copy_of):
    root = copy_of(kaggle)
    cases = read_csv_rows(root / "boneage-test-dataset.csv")
    with open(root / "Bone age ground truth.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Case ID", "Sex", "Ground truth bone age (months)"])
        for k, row in enumerate(cases):
            writer.writerow([row["Case ID"], row["Sex"], 100 + k])
    test = get_dataset("rsna", root, "test", image_size=SIZE)
    assert test.targets.tolist() == [100.0 + k for k in range(len(cases))]
    assert test.groups.tolist() == [1 if r["Sex"] == "M" else 0 for r in cases]


def test_official_validation_on_kaggle_layout_is_an_error(kaggle):
    with pytest.raises(DatasetLayoutError, match="the Kaggle copy has no official validation"):
        get_dataset("rsna", kaggle, "val", validation="official")


def test_folder_with_neither_layout(tmp_path):
    with pytest.raises(DatasetLayoutError, match=r"holds neither RSNA layout.*boneage-training"):
        get_dataset("rsna", tmp_path)
    with pytest.raises(DatasetLayoutError, match="does not exist"):
        get_dataset("rsna", tmp_path / "nope")


def test_missing_label_file(official, copy_of):
    root = copy_of(official)
    (root / TRAIN_CSV).unlink()
    with pytest.raises(DatasetLayoutError, match=r"label file .*train\.csv is missing"):
        get_dataset("rsna", root)


def test_label_file_without_expected_column(official, copy_of):
    root = copy_of(official)
    rows = read_csv_rows(root / TRAIN_CSV)
    with open(root / TRAIN_CSV, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "age", "male"])
        writer.writerows([[r["id"], r["boneage"], r["male"]] for r in rows])
    with pytest.raises(
        DatasetLayoutError, match=r"has no column 'boneage' \(its columns: id, age, male\)"
    ):
        get_dataset("rsna", root)


def test_missing_image_is_named(official, copy_of):
    root = copy_of(official)
    first = read_csv_rows(root / TRAIN_CSV)[0]["id"]
    (root / "Bone Age Training Set" / "boneage-training-dataset" / f"{first}.png").unlink()
    with pytest.raises(
        DatasetLayoutError, match=rf"1 image\(s\) listed in .* missing: {first}\.png"
    ):
        get_dataset("rsna", root, validation="official")


def test_corrupt_png_is_reported_with_its_path(official, copy_of):
    root = copy_of(official)
    dataset = get_dataset("rsna", root, image_size=SIZE)
    path = dataset.source_file(0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"broken" * 10)
    with pytest.raises(DatasetContentError, match=rf"cannot read image {path}"):
        dataset[0]


def test_non_finite_label_is_rejected_with_its_id(official, copy_of):
    root = copy_of(official)
    rows = read_csv_rows(root / TRAIN_CSV)
    rows[1]["boneage"] = ""
    rows[2]["boneage"] = "nan"
    with open(root / TRAIN_CSV, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "boneage", "male"])
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(
        DatasetContentError,
        match=rf"row 3 \(id {rows[1]['id']}\): '', row 4 \(id {rows[2]['id']}\): 'nan'",
    ):
        get_dataset("rsna", root, validation="official")


def test_unrecognised_sex_code_is_rejected(official, copy_of):
    root = copy_of(official)
    rows = read_csv_rows(root / TRAIN_CSV)
    rows[0]["male"] = "maybe"
    with open(root / TRAIN_CSV, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "boneage", "male"])
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(DatasetContentError, match=rf"{rows[0]['id']}: 'maybe'"):
        get_dataset("rsna", root, validation="official")


MALE = ["True", "true", "TRUE", "1", "1.0", "M", "m", "male", "Male"]
FEMALE = ["False", "false", "0", "0.0", "F", "f", "female", "Female"]


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 100)), min_size=1, max_size=30))
def test_parse_sex_accepts_every_spelling(draws):
    values = [(MALE if male else FEMALE)[k % len(MALE if male else FEMALE)] for male, k in draws]
    ids = [str(i) for i in range(len(values))]
    assert parse_sex(values, ids, "rsna", "t.csv").tolist() == [int(m) for m, _ in draws]
    assert parse_sex([True, False], ["a", "b"], "rsna", "t.csv").tolist() == [1, 0]


def test_sixteen_bit_png_is_scaled_not_clipped(official, copy_of):
    root = copy_of(official)
    dataset = RSNABoneAge(root, contrast="none", image_size=(8, 6))
    values = np.arange(48, dtype=np.uint16).reshape(8, 6) * 1300
    Image.fromarray(values).save(dataset.source_file(0))
    expected = np.rint(values / 65535.0 * 255.0) / 255.0
    assert np.allclose(dataset.load(0)[0].numpy(), expected, atol=1e-6)


def test_equalised_input_matches_pillow_equalize_then_resize(official):
    dataset = RSNABoneAge(official, image_size=SIZE)
    with Image.open(dataset.source_file(0)) as image:
        expected = ImageOps.equalize(image.convert("L")).resize(
            (SIZE[1], SIZE[0]), Image.Resampling.BILINEAR
        )
    assert torch.equal(dataset.load(0)[0], torch.from_numpy(np.asarray(expected) / 255.0).float())
