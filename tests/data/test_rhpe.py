"""RHPE loader on a phantom in the BAAR layout (Pillow PNG, COCO ROI JSON, label CSVs)."""

import csv
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data.phantoms import write_phantom
from supremix.data.rhpe import RHPE, image_stem

HEIGHT, WIDTH = 40, 64
ANNOTATIONS = "RHPE_Annotations"


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def raw_pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def coco_boxes(root: Path, split: str) -> dict[str, list[float]]:
    coco = json.loads((root / ANNOTATIONS / f"RHPE_anatomical_ROIs_{split}.json").read_text())
    names = {im["id"]: Path(im["file_name"]).stem for im in coco["images"]}
    return {names[a["image_id"]]: a["bbox"] for a in coco["annotations"]}


@pytest.fixture(scope="module")
def phantom(tmp_path_factory) -> Path:
    return write_phantom(
        "rhpe", tmp_path_factory.mktemp("rhpe"), n=40, image_size=(HEIGHT, WIDTH), seed=1
    )


@pytest.fixture()
def copy(phantom, tmp_path) -> Path:
    return Path(shutil.copytree(phantom, tmp_path / "copy"))


@pytest.mark.parametrize("split", ["train", "val"])
def test_splits_follow_the_label_files(phantom, split):
    rows = rows_of(phantom / ANNOTATIONS / f"RHPE_Boneage_{split}.csv")
    dataset = get_dataset("rhpe", phantom, split, image_size=(32, 24))
    assert dataset.ids == [r["ID"].zfill(5) for r in rows]
    assert dataset.targets.tolist() == [float(r["Boneage"]) for r in rows]
    assert dataset.groups.tolist() == [1 if r["Male"] == "True" else 0 for r in rows]
    item = dataset[0]
    assert item["x"].shape == (1, 32, 24) and item["id"] == dataset.source_file(0).stem
    assert dataset.options == {"image_size": (32, 24), "crop": "bbox", "contrast": "clahe"}


def test_splits_are_disjoint(phantom):
    ids = [
        set(get_dataset("rhpe", phantom, s, target="chronological").ids)
        for s in ("train", "val", "test")
    ]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


def test_test_bone_ages_are_withheld(phantom):
    with pytest.raises(
        DatasetContentError, match=r"test bone ages are withheld.*target='chronological'"
    ):
        get_dataset("rhpe", phantom, "test")


def test_chronological_target(phantom):
    rows = rows_of(phantom / ANNOTATIONS / "RHPE_Gender_Chronological_test.csv")
    test = get_dataset("rhpe", phantom, "test", target="chronological")
    assert test.targets.tolist() == [float(r["Chronological"]) for r in rows]
    val_rows = rows_of(phantom / ANNOTATIONS / "RHPE_Boneage_val.csv")
    val = get_dataset("rhpe", phantom, "val", target="chronological")
    assert val.targets.tolist() == [float(r["Chronological"]) for r in val_rows]


def test_bbox_crop_equals_the_box_of_the_raw_image(phantom):
    boxes = coco_boxes(phantom, "train")
    probe = RHPE(phantom, contrast="none")
    index = next(i for i, s in enumerate(probe.ids) if any(boxes[s]))
    x, y, w, h = (int(v) for v in boxes[probe.ids[index]])
    dataset = RHPE(phantom, contrast="none", image_size=(h, w))
    expected = raw_pixels(dataset.source_file(index))[y : y + h, x : x + w] / 255.0
    assert np.allclose(dataset.load(index)[0].numpy(), expected, atol=1e-6)
    assert w < WIDTH // 2 + 1  # the box holds the left hand only


def test_all_zero_bbox_keeps_the_full_image(copy):
    path = copy / ANNOTATIONS / "RHPE_anatomical_ROIs_train.json"
    coco = json.loads(path.read_text())
    coco["annotations"][0]["bbox"] = [0, 0, 0, 0]
    path.write_text(json.dumps(coco))
    stem = Path(coco["images"][0]["file_name"]).stem
    dataset = RHPE(copy, contrast="none", image_size=(HEIGHT, WIDTH))
    index = dataset.ids.index(stem)
    expected = raw_pixels(dataset.source_file(index)) / 255.0
    assert np.allclose(dataset.load(index)[0].numpy(), expected, atol=1e-6)


def test_left_half_crop(phantom):
    dataset = RHPE(phantom, crop="left_half", contrast="none", image_size=(HEIGHT, WIDTH // 2))
    expected = raw_pixels(dataset.source_file(2))[:, : WIDTH // 2] / 255.0
    assert np.allclose(dataset.load(2)[0].numpy(), expected, atol=1e-6)


def test_clahe_matches_opencv_on_the_crop(phantom):
    boxes = coco_boxes(phantom, "val")
    probe = RHPE(phantom, "val")
    index = next(i for i, s in enumerate(probe.ids) if any(boxes[s]))
    x, y, w, h = (int(v) for v in boxes[probe.ids[index]])
    dataset = RHPE(phantom, "val", image_size=(h, w))
    crop = np.ascontiguousarray(raw_pixels(dataset.source_file(index))[y : y + h, x : x + w])
    expected = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(crop) / 255.0
    assert np.allclose(dataset.load(index)[0].numpy(), expected, atol=1e-6)


def test_newer_nested_annotation_layout(copy):
    nested = copy / ANNOTATIONS / "RHPE_Annotations" / "BONEAGE"
    nested.mkdir(parents=True)
    for split in ("train", "val"):
        shutil.move(
            copy / ANNOTATIONS / f"RHPE_Boneage_{split}.csv", nested / f"boneage_{split}.csv"
        )
    rois = copy / ANNOTATIONS / "RHPE_Annotations" / "ROIS"
    rois.mkdir()
    shutil.move(
        copy / ANNOTATIONS / "RHPE_anatomical_ROIs_val.json", rois / "RHPE_anatomical_ROIs_val.json"
    )
    rows = rows_of(nested / "boneage_val.csv")
    val = get_dataset("rhpe", copy, "val")
    assert val.ids == [image_stem(r["ID"]) for r in rows]
    assert val.load(0).shape == (1, 520, 400)


def test_missing_roi_file_with_bbox_crop(copy):
    (copy / ANNOTATIONS / "RHPE_anatomical_ROIs_train.json").unlink()
    with pytest.raises(
        DatasetLayoutError, match=r"needs the ROI file .*RHPE_anatomical_ROIs_train\.json"
    ):
        get_dataset("rhpe", copy)
    assert len(get_dataset("rhpe", copy, crop="none")) > 0


def test_missing_annotations_folder(tmp_path):
    with pytest.raises(DatasetLayoutError, match=r"folder .*RHPE_Annotations is missing"):
        get_dataset("rhpe", tmp_path)


def test_missing_label_columns(copy):
    path = copy / ANNOTATIONS / "RHPE_Boneage_train.csv"
    rows = rows_of(path)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID", "Boneage"])
        writer.writerows([[r["ID"], r["Boneage"]] for r in rows])
    with pytest.raises(DatasetLayoutError, match="has no column 'Male'"):
        get_dataset("rhpe", copy)


def test_missing_and_corrupt_images(copy):
    dataset = get_dataset("rhpe", copy, image_size=(16, 16))
    broken = dataset.source_file(1)
    broken.write_bytes(b"not a png")
    with pytest.raises(DatasetContentError, match=rf"cannot read image {broken}"):
        dataset.load(1)
    gone = dataset.source_file(0)
    gone.unlink()
    with pytest.raises(DatasetLayoutError, match=rf"missing: {gone.name}"):
        get_dataset("rhpe", copy)


def test_bad_options_name_the_choices(phantom):
    with pytest.raises(
        ValueError, match="unknown crop 'box'; expected one of bbox, left_half, none"
    ):
        get_dataset("rhpe", phantom, crop="box")
    with pytest.raises(ValueError, match="unknown target 'age'"):
        get_dataset("rhpe", phantom, target="age")


def test_load_is_deterministic(phantom):
    dataset = get_dataset("rhpe", phantom, image_size=(24, 20))
    assert torch.equal(dataset.load(0), dataset.load(0))
