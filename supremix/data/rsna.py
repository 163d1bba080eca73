"""RSNA Pediatric Bone Age Challenge 2017 (the SupReMix paper, §4.1.3, Table 1, App. B.1.3).

Reads the dataset as downloaded, in either of its two public layouts (data_cards/rsna.md):

* ``kaggle`` (``kmader/rsna-bone-age``): ``boneage-training-dataset.csv`` (id, boneage, male)
  and ``boneage-training-dataset/boneage-training-dataset/<id>.png``; no validation set and no
  test labels. Put the official ``Bone age ground truth.xlsx`` (or a ``.csv`` conversion) in
  the root to evaluate on the test images.
* ``official`` (the RSNA zips, extracted): ``Bone Age Training Set/``, ``Bone Age Training Set
  Annotations/train.csv``, ``Bone Age Validation Set/`` and ``Bone Age Test Set/``.

Splits follow the SupReMix paper's Table 1: ``train``/``val`` are a seeded 11,611/1,000 partition of
the 12,611 training images (``val = round(1000 / 12611 * n)`` for a copy with ``n`` training
images), ``test`` is the 200 official test images with the official ground truth. With
``validation="official"`` the 1,425 images of the official validation set are ``val`` and all
training images are ``train``.

Items: ``x`` a ``(1, H, W)`` gray tensor in [0, 1], histogram-equalised then bilinearly resized
to ``image_size`` (App. B.1.3: 520x400); ``y`` bone age in months; ``id`` the RSNA image id;
``group`` 1 male, 0 female.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .base import Transform, check_choice
from .checks import check_label_range, one_row_per_id
from .errors import DatasetContentError, DatasetLayoutError, list_some
from .imageio import CONTRASTS, ImageFilesDataset, as_size, index_images
from .splits import seeded_split
from .tables import (
    locate_images,
    normalise_id,
    parse_label_numbers,
    parse_sex,
    read_label_table,
)

# Official counts (the SupReMix paper, Table 1): the seeded val split keeps this ratio on smaller
# copies.
OFFICIAL_TRAIN_IMAGES = 12_611
SEEDED_VAL_IMAGES = 1_000

KAGGLE_TRAIN_CSV = "boneage-training-dataset.csv"
KAGGLE_TRAIN_DIR = "boneage-training-dataset"
KAGGLE_TEST_DIR = "boneage-test-dataset"
OFFICIAL_TRAIN_DIR = "Bone Age Training Set"
OFFICIAL_TRAIN_CSV = "Bone Age Training Set Annotations/train.csv"
OFFICIAL_VAL_DIR = "Bone Age Validation Set"
OFFICIAL_VAL_CSV = "Bone Age Validation Set/Validation Dataset.csv"
OFFICIAL_TEST_DIR = "Bone Age Test Set"
TEST_TRUTH_STEM = "Bone age ground truth"

LAYOUTS = ("auto", "kaggle", "official")
VALIDATION_SOURCES = ("seeded", "official")

TRAIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "boneage": ("boneage",),
    "male": ("male",),
}
VAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("Image ID",),
    "boneage": ("Bone Age (months)",),
    "male": ("male",),
}
TEST_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("Case ID",),
    "boneage": ("Ground truth bone age (months)", "Bone Age (months)", "boneage"),
    "male": ("Sex", "male"),
}


def detect_layout(root: Path) -> str:
    """``"official"`` (the RSNA zips) or ``"kaggle"``; the official layout wins if both exist."""
    if (root / OFFICIAL_TRAIN_DIR).is_dir() or (root / OFFICIAL_TRAIN_CSV).parent.is_dir():
        return "official"
    if (root / KAGGLE_TRAIN_CSV).is_file() or (root / KAGGLE_TRAIN_DIR).is_dir():
        return "kaggle"
    raise DatasetLayoutError(
        "rsna",
        f"{root} holds neither RSNA layout",
        expected=(
            f"the Kaggle copy ({KAGGLE_TRAIN_CSV}, {KAGGLE_TRAIN_DIR}/) or the extracted "
            f"RSNA zips ({OFFICIAL_TRAIN_DIR}/, {Path(OFFICIAL_TRAIN_CSV).parent}/)"
        ),
    )


class RSNABoneAge(ImageFilesDataset):
    """RSNA Bone Age radiographs with bone age in months (the SupReMix paper, §4.1.3, Table 1).

    Parameters: ``root`` the folder as downloaded (either layout); ``split`` train/val/test;
    ``image_size`` ``(height, width)`` or an int (default 520x400, the SupReMix paper's Table 13);
    ``seed`` of the train/val partition; ``validation`` ``"seeded"`` (Table 1) or
    ``"official"``; ``contrast`` ``"equalize"`` (App. B.1.3), ``"clahe"`` or ``"none"``;
    ``layout`` ``"auto"``, ``"kaggle"`` or ``"official"``; ``test_labels`` a ground-truth
    file to use instead of the one looked for in the layout.
    """

    name = "rsna"
    modality = "image2d"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        image_size: int | Sequence[int] = (520, 400),
        transform: Transform | None = None,
        seed: int = 0,
        validation: str = "seeded",
        contrast: str = "equalize",
        layout: str = "auto",
        test_labels: str | Path | None = None,
    ):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetLayoutError(
                self.name, f"folder {self.root} does not exist", expected="the RSNA download"
            )
        check_choice(self.name, "layout", layout, LAYOUTS)
        check_choice(self.name, "validation", validation, VALIDATION_SOURCES)
        self.layout = detect_layout(self.root) if layout == "auto" else layout
        self.image_size = as_size(image_size, self.name)
        self.contrast = check_choice(self.name, "contrast", contrast, CONTRASTS)
        self.validation = validation
        self.seed = seed
        if split == "test":
            ids, ages, sexes, self.paths = self._test_table(test_labels)
        elif split == "val" and validation == "official":
            ids, ages, sexes, self.paths = self._official_validation_table()
        else:
            ids, ages, sexes, self.paths = self._training_table(split)
        super().__init__(ids, ages, split=split, groups=sexes, transform=transform)
        self.options: dict[str, Any] = {
            "image_size": self.image_size,
            "contrast": self.contrast,
        }

    # -- tables -------------------------------------------------------------------------

    def _read(self, source: Path, columns: dict[str, tuple[str, ...]]) -> pd.DataFrame:
        """The label table with one row per id (repeats that disagree raise), bone ages
        checked against 0-240 months over the whole file."""
        table = read_label_table(source, self.name, columns)
        table["id"] = [normalise_id(v) for v in table["id"]]
        table = one_row_per_id(table, "id", ["boneage", "male"], dataset=self.name, source=source)
        ages = parse_label_numbers(
            table["boneage"],
            dataset=self.name,
            source=source,
            column=columns["boneage"][0],
            ids=table["id"].tolist(),
        )
        check_label_range(self.name, "rsna/boneage", ages, table["id"].tolist(), source)
        return table.reset_index(drop=True)

    def _items(
        self, table: pd.DataFrame, source: Path, folder: Path
    ) -> tuple[list[str], np.ndarray, np.ndarray, list[Path]]:
        ids = table["id"].tolist()
        ages = pd.to_numeric(table["boneage"]).to_numpy(dtype=np.float64)
        sexes = parse_sex(table["male"].tolist(), ids, self.name, str(source))
        paths = locate_images(
            ids, index_images(folder), dataset=self.name, folder=folder, listed_in=source
        )
        return ids, ages, sexes, paths

    def _training_table(self, split: str) -> tuple[list[str], np.ndarray, np.ndarray, list[Path]]:
        if self.layout == "kaggle":
            source, folder = self.root / KAGGLE_TRAIN_CSV, self.root / KAGGLE_TRAIN_DIR
        else:
            source, folder = self.root / OFFICIAL_TRAIN_CSV, self.root / OFFICIAL_TRAIN_DIR
        table = self._read(source, TRAIN_COLUMNS)
        official_val = self.root / OFFICIAL_VAL_CSV
        if self.validation == "official" and official_val.is_file():
            self._refuse_shared_ids(table, source, official_val, VAL_COLUMNS)
        if self.validation == "seeded":
            ids = table["id"].tolist()
            n_val = round(SEEDED_VAL_IMAGES / OFFICIAL_TRAIN_IMAGES * len(ids))
            chosen = seeded_split(ids, val=n_val, test=0, seed=self.seed)[split]
            table = table.iloc[chosen].reset_index(drop=True)
        return self._items(table, source, folder)

    def _official_validation_table(self) -> tuple[list[str], np.ndarray, np.ndarray, list[Path]]:
        source = self.root / OFFICIAL_VAL_CSV
        if self.layout == "kaggle" and not source.is_file():
            raise DatasetLayoutError(
                self.name,
                f"the Kaggle copy has no official validation set: {source} is missing",
                expected=f"the extracted RSNA validation zip under {self.root / OFFICIAL_VAL_DIR}"
                ", or validation='seeded'",
            )
        table = self._read(source, VAL_COLUMNS)
        training = self.root / (KAGGLE_TRAIN_CSV if self.layout == "kaggle" else OFFICIAL_TRAIN_CSV)
        if training.is_file():
            self._refuse_shared_ids(table, source, training, TRAIN_COLUMNS)
        return self._items(table, source, self.root / OFFICIAL_VAL_DIR)

    def _refuse_shared_ids(
        self,
        table: pd.DataFrame,
        source: Path,
        other: Path,
        columns: dict[str, tuple[str, ...]],
    ) -> None:
        """An image id in both the training and the official validation table would be trained
        and validated on: refused, listing the ids."""
        others = {normalise_id(v) for v in read_label_table(other, self.name, columns)["id"]}
        shared = sorted(set(table["id"]) & others)
        if shared:
            raise DatasetContentError(
                self.name,
                f"{len(shared)} id(s) in both {source} and {other}: {list_some(shared)}; "
                "expected the training and validation images to be distinct",
            )

    def _test_truth_file(self, test_labels: str | Path | None) -> Path:
        if test_labels is not None:
            return Path(test_labels)
        folder = self.root if self.layout == "kaggle" else self.root / OFFICIAL_TEST_DIR
        for suffix in (".xlsx", ".csv"):
            candidate = folder / f"{TEST_TRUTH_STEM}{suffix}"
            if candidate.is_file():
                return candidate
        what = "the Kaggle copy has no test labels" if self.layout == "kaggle" else "no test labels"
        raise DatasetLayoutError(
            self.name,
            f"split='test' needs the official test ground truth and {what}: "
            f"{folder / (TEST_TRUTH_STEM + '.xlsx')} (or .csv) is missing",
            expected=(
                "the RSNA file 'Bone age ground truth.xlsx' (columns Case ID, Sex, Ground truth "
                "bone age (months)) there, or test_labels=<path>"
            ),
        )

    def _test_table(
        self, test_labels: str | Path | None
    ) -> tuple[list[str], np.ndarray, np.ndarray, list[Path]]:
        source = self._test_truth_file(test_labels)
        folder = (
            self.root / KAGGLE_TEST_DIR
            if self.layout == "kaggle"
            else self.root / OFFICIAL_TEST_DIR
        )
        return self._items(self._read(source, TEST_COLUMNS), source, folder)
