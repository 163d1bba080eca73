"""Hand-radiograph phantoms: official RSNA/RHPE file layouts, determinism, generative model."""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from scipy.stats import spearmanr

from supremix.data.phantoms import write_phantom
from supremix.data.phantoms.bone_xray import hand_anatomy

TRAIN_CSV = "Bone Age Training Set Annotations/train.csv"


def header(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        return next(csv.reader(handle))


def pngs(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.png")}


def test_rsna_official_layout(tmp_path):
    root = write_phantom("rsna", tmp_path, n=30, image_size=(32, 28))
    train = pd.read_csv(root / TRAIN_CSV)
    val = pd.read_csv(root / "Bone Age Validation Set" / "Validation Dataset.csv")
    truth = pd.read_excel(root / "Bone Age Test Set" / "Bone age ground truth.xlsx")
    assert header(root / TRAIN_CSV) == ["id", "boneage", "male"]
    assert list(val.columns) == ["Image ID", "male", "Bone Age (months)"]
    assert list(truth.columns) == ["Case ID", "Sex", "Ground truth bone age (months)"]
    assert (len(train), len(val), len(truth)) == (24, 3, 3)
    assert set(train["male"].astype(str)) <= {"True", "False"} and set(truth["Sex"]) <= {"M", "F"}
    images = root / "Bone Age Training Set" / "boneage-training-dataset"
    assert pngs(images) == {str(i) for i in train["id"]}
    val_root = root / "Bone Age Validation Set"
    halves = (
        pngs(val_root / "boneage-validation-dataset-1"),
        pngs(val_root / "boneage-validation-dataset-2"),
    )
    assert halves[0] and halves[1] and halves[0] | halves[1] == {str(i) for i in val["Image ID"]}
    assert pngs(root / "Bone Age Test Set" / "Test Set Images") == {
        str(i) for i in truth["Case ID"]
    }
    all_ids = [*train["id"], *val["Image ID"], *truth["Case ID"]]
    assert len(set(all_ids)) == 30
    with Image.open(next(images.glob("*.png"))) as image:
        assert image.format == "PNG" and image.mode == "L"
        assert 28 <= image.height <= 36  # nominal 32 +- 10 %


def test_rsna_kaggle_layout(tmp_path):
    root = write_phantom("rsna", tmp_path, n=20, image_size=(32, 28), layout="kaggle")
    assert header(root / "boneage-training-dataset.csv") == ["id", "boneage", "male"]
    assert header(root / "boneage-test-dataset.csv") == ["Case ID", "Sex"]
    train = pd.read_csv(root / "boneage-training-dataset.csv")
    test = pd.read_csv(root / "boneage-test-dataset.csv")
    assert (len(train), len(test)) == (18, 2)
    nested = root / "boneage-training-dataset" / "boneage-training-dataset"
    assert pngs(nested) == {str(i) for i in train["id"]}
    assert pngs(root / "boneage-test-dataset" / "boneage-test-dataset") == {
        str(i) for i in test["Case ID"]
    }
    assert not (root / "Bone Age Validation Set").exists()
    assert not list(root.glob("Bone age ground truth.*"))


def test_rsna_phantom_is_deterministic_by_seed(tmp_path):
    a = write_phantom("rsna", tmp_path / "a", n=12, image_size=(24, 20), seed=4)
    b = write_phantom("rsna", tmp_path / "b", n=12, image_size=(24, 20), seed=4)
    c = write_phantom("rsna", tmp_path / "c", n=12, image_size=(24, 20), seed=5)
    assert (a / TRAIN_CSV).read_bytes() == (b / TRAIN_CSV).read_bytes()
    assert (a / TRAIN_CSV).read_bytes() != (c / TRAIN_CSV).read_bytes()
    for path in sorted(a.rglob("*.png")):
        assert path.read_bytes() == (b / path.relative_to(a)).read_bytes()


def test_rsna_label_distribution_is_shaped_like_the_real_one(tmp_path):
    root = write_phantom("rsna", tmp_path, n=300, image_size=(16, 16), seed=2)
    ages = np.concatenate(
        [
            pd.read_csv(root / TRAIN_CSV)["boneage"],
            pd.read_csv(root / "Bone Age Validation Set" / "Validation Dataset.csv")[
                "Bone Age (months)"
            ],
        ]
    )
    assert ages.min() >= 1 and ages.max() <= 228
    assert abs(ages.mean() - 127) < 10 and abs(ages.std() - 41) < 8


def test_bone_brightness_tracks_bone_age(tmp_path):
    """Fraction of bright (bone) pixels in the written PNGs: rank-correlated with the label."""
    root = write_phantom("rsna", tmp_path, n=200, seed=7)
    table = pd.read_csv(root / TRAIN_CSV)
    folder = root / "Bone Age Training Set" / "boneage-training-dataset"
    fractions = []
    for image_id in table["id"]:
        with Image.open(folder / f"{image_id}.png") as image:
            x = np.asarray(image, dtype=np.float64)
        low, high = np.percentile(x, 5), np.percentile(x, 99.5)
        fractions.append(np.mean(x > low + 0.6 * (high - low)))
    assert spearmanr(fractions, table["boneage"])[0] > 0.6


ages = st.floats(0.0, 240.0)


@given(ages, ages, st.booleans())
def test_anatomy_matures_monotonically(a, b, male):
    young, old = hand_anatomy(min(a, b), male), hand_anatomy(max(a, b), male)
    assert young.growth <= old.growth and young.density <= old.density
    assert young.ossification <= old.ossification
    assert young.physis_gap >= old.physis_gap
    assert np.all(young.carpal_radii <= old.carpal_radii)


@given(ages)
def test_girls_mature_earlier_at_equal_bone_age(a):
    girl, boy = hand_anatomy(a, male=False), hand_anatomy(a, male=True)
    assert girl.physis_gap <= boy.physis_gap
    assert girl.ossification >= boy.ossification
    assert np.all(girl.carpal_radii >= boy.carpal_radii)


def test_model_is_non_linear_in_the_label():
    growth = [hand_anatomy(a, True).growth for a in (0, 60, 168, 228)]
    assert growth[1] - growth[0] > 3 * (growth[3] - growth[2])  # saturating growth
    gap = [hand_anatomy(a, True).physis_gap for a in (24, 120, 190, 228)]
    assert gap[0] - gap[1] < 0.1 * (gap[1] - gap[3])  # the physis closes late
    assert hand_anatomy(170, False).physis_gap < 0.5 * hand_anatomy(170, True).physis_gap


def test_rhpe_layout_and_annotations(tmp_path):
    root = write_phantom("rhpe", tmp_path, n=30, image_size=(32, 50), missing_box_fraction=0.2)
    annotations = root / "RHPE_Annotations"
    for split in ("train", "val"):
        assert header(annotations / f"RHPE_Boneage_{split}.csv") == [
            "ID",
            "Male",
            "Boneage",
            "Chronological",
        ]
    assert header(annotations / "RHPE_Gender_Chronological_test.csv") == [
        "ID",
        "Male",
        "Chronological",
    ]
    missing = 0
    for split, count in (("train", 24), ("val", 3), ("test", 3)):
        coco = json.loads((annotations / f"RHPE_anatomical_ROIs_{split}.json").read_text())
        names = [im["file_name"] for im in coco["images"]]
        assert len(names) == count and all(len(Path(n).stem) == 5 for n in names)
        assert {Path(n).stem for n in names} == pngs(root / f"RHPE_{split}")
        assert len(coco["categories"][0]["keypoints"]) == 17
        for annotation in coco["annotations"]:
            x, y, w, h = annotation["bbox"]
            points = np.asarray(annotation["keypoints"]).reshape(17, 3)
            if w == 0:
                missing += 1
                assert not points.any()
                continue
            assert x + w <= 25  # the box holds the left hand only
            on_canvas = (points[:, 0] >= 0) & (points[:, 0] < 25) & (points[:, 1] >= 0)
            on_canvas &= points[:, 1] < 32
            in_box = (points[:, 0] >= x) & (points[:, 0] <= x + w)
            in_box &= (points[:, 1] >= y) & (points[:, 1] <= y + h)
            assert in_box[on_canvas].all()
    assert missing > 0
    with Image.open(next((root / "RHPE_train").glob("*.png"))) as image:
        assert image.size == (50, 32) and image.mode == "L"


def test_bad_phantom_parameters():
    with pytest.raises(ValueError, match="needs n >= 3"):
        write_phantom("rsna", "/nonexistent", n=2)
    with pytest.raises(ValueError, match="unknown RSNA phantom layout 'zip'"):
        write_phantom("rsna", "/nonexistent", layout="zip")
    with pytest.raises(ValueError, match="at least 16x16"):
        write_phantom("rhpe", "/nonexistent", image_size=(8, 8))
