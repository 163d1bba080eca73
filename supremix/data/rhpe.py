"""RHPE, Radiological Hand Pose Estimation bone age data (the SupReMix paper, §4.1.3, Table 1, App.
B.1.3).

Layout as distributed by BAAR (data_cards/rhpe.md)::

    RHPE_train/ RHPE_val/ RHPE_test/        <5-digit id>.png
    RHPE_Annotations/
        RHPE_Boneage_train.csv  RHPE_Boneage_val.csv       ID, Male, Boneage, Chronological
        RHPE_Gender_Chronological_test.csv                 ID, Male, Chronological
        RHPE_anatomical_ROIs_{train,val,test}.json         COCO: images, annotations (bbox)

The newer package's ``RHPE_Annotations/RHPE_Annotations/BONEAGE/boneage_{train,val}.csv`` is
accepted too. ROI files are looked for anywhere under ``RHPE_Annotations`` by their name.

Preprocessing (the SupReMix paper, §4.1.3 / App. B.1.3): crop to the hand's ground-truth bounding
box (``crop="bbox"``; an all-zero or absent box means "not annotated" and keeps the full image, as
in BoNet), CLAHE, bilinear resize to ``image_size`` (520x400). ``crop="left_half"`` keeps the left
half of the radiograph (BoNet's crop when boxes are not used); ``crop="none"``.

Targets: ``target="boneage"`` (default) or ``"chronological"`` (age in months). The test bone
ages are withheld by the organisers (scored on their server), so ``split="test"`` with
``target="boneage"`` raises unless the test table has a ``Boneage`` column; the
chronological age of the test images is available.

Items: ``x`` ``(1, H, W)`` in [0, 1]; ``y`` months; ``id`` the 5-digit image stem; ``group``
1 male, 0 female.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .base import Transform, check_choice, check_split
from .checks import check_label_range, one_row_per_id
from .errors import DatasetContentError, DatasetLayoutError
from .imageio import CONTRASTS, Box, ImageFilesDataset, as_size, index_images
from .tables import (
    csv_has_column,
    locate_images,
    normalise_id,
    parse_label_numbers,
    parse_sex,
    read_label_table,
)

ANNOTATIONS_DIR = "RHPE_Annotations"
CROPS = ("bbox", "left_half", "none")
TARGETS = ("boneage", "chronological")

LABEL_FILES = {
    "train": ("RHPE_Boneage_train.csv", "RHPE_Annotations/BONEAGE/boneage_train.csv"),
    "val": ("RHPE_Boneage_val.csv", "RHPE_Annotations/BONEAGE/boneage_val.csv"),
    "test": ("RHPE_Gender_Chronological_test.csv",),
}
ROI_FILE = "RHPE_anatomical_ROIs_{split}.json"

BASE_COLUMNS: dict[str, tuple[str, ...]] = {"id": ("ID",), "male": ("Male",)}
TARGET_COLUMNS = {
    "boneage": ("Boneage", "Bone Age", "boneage"),
    "chronological": ("Chronological",),
}


def image_stem(value: str) -> str:
    """The PNG stem of an RHPE id: zero-padded to 5 digits (``7`` -> ``00007``)."""
    text = normalise_id(value)
    return text.zfill(5) if text.isdigit() else text


def read_roi_boxes(path: Path, dataset: str = "rhpe") -> dict[str, Box]:
    """COCO ROI file -> ``{file stem: (x, y, w, h)}`` (integers; all-zero boxes are left out)."""
    try:
        coco = json.loads(Path(path).read_text())
        names = {image["id"]: Path(image["file_name"]).stem for image in coco["images"]}
        boxes: dict[str, Box] = {}
        for annotation in coco["annotations"]:
            x, y, w, h = (float(v) for v in annotation["bbox"])
            stem = names.get(annotation["image_id"])
            if stem is not None and stem not in boxes and max(abs(x), abs(y), w, h) > 0:
                boxes[stem] = (int(np.floor(x)), int(np.floor(y)), int(np.ceil(w)), int(np.ceil(h)))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DatasetContentError(
            dataset,
            f"ROI file {path} is not COCO JSON with images[id, file_name] and "
            f"annotations[image_id, bbox] ({type(exc).__name__}: {exc})",
        ) from exc
    return boxes


class RHPE(ImageFilesDataset):
    """RHPE hand radiographs with bone age in months (the SupReMix paper, §4.1.3, Table 1).

    Parameters: ``root`` the folder holding ``RHPE_{train,val,test}/`` and
    ``RHPE_Annotations/``; ``split``; ``image_size`` (default 520x400); ``seed`` (unused: RHPE
    has official splits; accepted for a uniform signature); ``crop`` ``"bbox"``,
    ``"left_half"`` or ``"none"``; ``contrast`` ``"clahe"`` (App. B.1.3), ``"equalize"`` or
    ``"none"``; ``target`` ``"boneage"`` or ``"chronological"``.
    """

    name = "rhpe"
    modality = "image2d"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        image_size: int | Sequence[int] = (520, 400),
        transform: Transform | None = None,
        seed: int = 0,
        crop: str = "bbox",
        contrast: str = "clahe",
        target: str = "boneage",
    ):
        self.root = Path(root)
        split = check_split(self.name, split)
        check_choice(self.name, "crop", crop, CROPS)
        check_choice(self.name, "target", target, TARGETS)
        self.image_size = as_size(image_size, self.name)
        self.contrast = check_choice(self.name, "contrast", contrast, CONTRASTS)
        self.crop = crop
        self.target = target
        self.seed = seed
        annotations = self.root / ANNOTATIONS_DIR
        if not annotations.is_dir():
            raise DatasetLayoutError(
                self.name,
                f"folder {annotations} is missing",
                expected="RHPE_Annotations/ with the label CSVs and ROI JSONs beside RHPE_train/",
            )
        source = self._label_file(split)
        columns = dict(BASE_COLUMNS)
        columns["target"] = TARGET_COLUMNS[target]
        withheld = split == "test" and target == "boneage"
        if withheld and not csv_has_column(source, columns["target"]):
            raise DatasetContentError(
                self.name,
                f"the RHPE test bone ages are withheld by the organisers (scored on their "
                f"evaluation server), so {source} has no 'Boneage' column; evaluate on "
                "split='val', or use target='chronological' for the test images",
            )
        table = read_label_table(source, self.name, columns)
        table["id"] = [image_stem(v) for v in table["id"]]
        table = one_row_per_id(table, "id", ["target", "male"], dataset=self.name, source=source)
        stems = table["id"].tolist()
        labels = parse_label_numbers(
            table["target"],
            dataset=self.name,
            source=source,
            column=columns["target"][0],
            ids=stems,
        )
        check_label_range(self.name, f"rhpe/{target}", labels, stems, source)
        table = table.reset_index(drop=True)
        folder = self.root / f"RHPE_{split}"
        if not folder.is_dir():
            raise DatasetLayoutError(
                self.name, f"image folder {folder} is missing", expected="<5-digit id>.png files"
            )
        self.paths = locate_images(
            stems, index_images(folder), dataset=self.name, folder=folder, listed_in=source
        )
        self.boxes = self._boxes(split, stems)
        super().__init__(
            stems,
            labels,
            split=split,
            groups=parse_sex(table["male"].tolist(), stems, self.name, str(source)),
            transform=transform,
        )
        self.options: dict[str, Any] = {
            "image_size": self.image_size,
            "crop": self.crop,
            "contrast": self.contrast,
        }

    def _label_file(self, split: str) -> Path:
        annotations = self.root / ANNOTATIONS_DIR
        for name in LABEL_FILES[split]:
            if (annotations / name).is_file():
                return annotations / name
        return annotations / LABEL_FILES[split][0]

    def _roi_file(self, split: str) -> Path:
        annotations = self.root / ANNOTATIONS_DIR
        exact = annotations / ROI_FILE.format(split=split)
        if exact.is_file():
            return exact
        for path in sorted(annotations.rglob("*.json")):
            name = path.stem.lower()
            if "roi" in name and name.endswith(f"_{split}"):
                return path
        raise DatasetLayoutError(
            self.name,
            f"crop='bbox' needs the ROI file of split {split!r} and {exact} is missing",
            expected="the COCO ROI JSON from the RHPE annotations, or crop='left_half'/'none'",
        )

    def _boxes(self, split: str, stems: list[str]) -> list[Box | None]:
        if self.crop != "bbox":
            return [None] * len(stems)
        boxes = read_roi_boxes(self._roi_file(split), self.name)
        return [boxes.get(stem) for stem in stems]

    def region(self, index: int) -> Box | Literal["left_half"] | None:
        """The hand's box of item ``index`` (``crop="bbox"``), its left half or all of it; the
        image is then CLAHE-enhanced and resized."""
        return "left_half" if self.crop == "left_half" else self.boxes[index]
