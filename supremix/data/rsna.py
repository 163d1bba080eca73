"""RSNA Pediatric Bone Age Challenge 2017 (seed 001 §4.1.3, Table 1, App. B.1.3).

Reads the dataset as downloaded, in either of its two public layouts (data_cards/rsna.md):

* ``kaggle`` (``kmader/rsna-bone-age``): ``boneage-training-dataset.csv`` (id, boneage, male)
  and ``boneage-training-dataset/boneage-training-dataset/<id>.png``; no validation set and no
  test labels. Put the official ``Bone age ground truth.xlsx`` (or a ``.csv`` conversion) in
  the root to evaluate on the test images.
* ``official`` (the RSNA zips, extracted): ``Bone Age Training Set/``, ``Bone Age Training Set
  Annotations/train.csv``, ``Bone Age Validation Set/`` and ``Bone Age Test Set/``.

Splits follow seed 001 Table 1: ``train``/``val`` are a seeded 11,611/1,000 partition of the
12,611 training images (``val = round(1000 / 12611 * n)`` for a copy with ``n`` training
images), ``test`` is the 200 official test images with the official ground truth. With
``validation="official"`` the 1,425 images of the official validation set are ``val`` and all
training images are ``train``.

Items: ``x`` a ``(1, H, W)`` gray tensor in [0, 1], histogram-equalised then bilinearly resized
to ``image_size`` (App. B.1.3: 520x400); ``y`` bone age in months; ``id`` the RSNA image id;
``group`` 1 male, 0 female.

The helpers :func:`read_label_table`, :func:`parse_sex` and :func:`normalise_id` are shared
with the RHPE and AgeDB/IMDB-WIKI loaders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .base import RegressionDataset, Transform
from .errors import DatasetContentError, DatasetLayoutError
from .imageio import as_size, check_contrast, index_images, load_image
from .splits import seeded_split

# Official counts (seed 001 Table 1): the seeded val split keeps this ratio on smaller copies.
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

TRAIN_COLUMNS = {"id": ("id",), "boneage": ("boneage",), "male": ("male",)}
VAL_COLUMNS = {"id": ("Image ID",), "boneage": ("Bone Age (months)",), "male": ("male",)}
TEST_COLUMNS = {
    "id": ("Case ID",),
    "boneage": ("Ground truth bone age (months)", "Bone Age (months)", "boneage"),
    "male": ("Sex", "male"),
}

_SEX_CODES = {
    "true": 1,
    "t": 1,
    "1": 1,
    "1.0": 1,
    "m": 1,
    "male": 1,
    "false": 0,
    "0": 0,
    "0.0": 0,
    "f": 0,
    "female": 0,
}


def _header_key(name: object) -> str:
    return " ".join(str(name).strip().lower().split())


def read_label_table(
    path: Path, dataset: str, columns: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Read a CSV or XLSX label file; return its wanted columns under canonical names.

    ``columns`` maps a canonical name to the header spellings accepted for it (compared
    case-insensitively, surrounding spaces ignored). Cells are returned as strings. A missing
    file, an empty file or a missing column raises :class:`DatasetLayoutError`.
    """
    path = Path(path)
    wanted = ", ".join(repr(spellings[0]) for spellings in columns.values())
    if not path.is_file():
        raise DatasetLayoutError(
            dataset, f"label file {path} is missing", expected=f"a table with columns {wanted}"
        )
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype=object)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DatasetLayoutError(
            dataset, f"label file {path} is empty", expected=f"columns {wanted}"
        ) from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise DatasetContentError(dataset, f"cannot parse label file {path} ({exc})") from exc
    found = {_header_key(h): h for h in frame.columns}
    selected: dict[str, pd.Series] = {}
    missing = []
    for canonical, spellings in columns.items():
        header = next((found[_header_key(s)] for s in spellings if _header_key(s) in found), None)
        if header is None:
            missing.append(" or ".join(repr(s) for s in spellings))
        else:
            selected[canonical] = frame[header].map(lambda v: "" if pd.isna(v) else str(v).strip())
    if missing:
        raise DatasetLayoutError(
            dataset,
            f"label file {path} has no column {'; no column '.join(missing)} "
            f"(its columns: {', '.join(map(str, frame.columns))})",
            expected=f"columns {wanted}",
        )
    return pd.DataFrame(selected)


def normalise_id(value: str) -> str:
    """An id cell as text: spaces stripped, ``"1377.0"`` (a spreadsheet number) as ``"1377"``."""
    text = str(value).strip()
    return text.split(".")[0] if re.fullmatch(r"\d+\.0*", text) else text


def parse_sex(values: Sequence[str], ids: Sequence[str], dataset: str, source: str) -> np.ndarray:
    """Sex codes to 1 (male) / 0 (female).

    Accepts booleans and their text (``True``/``False``, as in the RSNA ``male`` column),
    ``1``/``0``, and ``M``/``F`` or ``male``/``female`` (the test ground truth's ``Sex``),
    case-insensitively. Anything else raises naming the ids.
    """
    codes = [_SEX_CODES.get(str(v).strip().lower()) for v in values]
    bad = [f"{ids[i]}: {values[i]!r}" for i, c in enumerate(codes) if c is None]
    if bad:
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise DatasetContentError(
            dataset,
            f"unrecognised sex codes in {source} ({shown}); expected True/False, 1/0 or M/F",
        )
    return np.asarray(codes, dtype=np.int64)


def parse_numbers(values: Sequence[str]) -> np.ndarray:
    """Text cells to float64; unparsable or empty cells become NaN (rejected with their ids)."""
    return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(
        dtype=np.float64
    )


def locate_images(
    ids: Sequence[str],
    stems: Sequence[str],
    index: Mapping[str, Path],
    *,
    dataset: str,
    folder: Path,
    listed_in: Path,
    suffix: str = ".png",
) -> list[Path]:
    """The image path of every item, or a :class:`DatasetLayoutError` naming the missing ones."""
    missing = [f"{stem}{suffix}" for stem in stems if stem not in index]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        hint = ""
        archives = sorted(p.name for p in folder.glob("*.zip")) if folder.is_dir() else []
        if archives:
            hint = f" (extract the archives {', '.join(archives)} there)"
        raise DatasetLayoutError(
            dataset,
            f"{len(missing)} image(s) listed in {listed_in} are missing: {shown}",
            expected=f"<id>{suffix} files under {folder}{hint}",
        )
    return [index[stem] for stem in stems]


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


class RSNABoneAge(RegressionDataset):
    """RSNA Bone Age radiographs with bone age in months (seed 001 §4.1.3, Table 1).

    Parameters: ``root`` the folder as downloaded (either layout); ``split`` train/val/test;
    ``image_size`` ``(height, width)`` or an int (default 520x400, seed 001 Table 13);
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
        if layout not in LAYOUTS:
            raise ValueError(f"rsna: unknown layout {layout!r}; expected one of {LAYOUTS}")
        if validation not in VALIDATION_SOURCES:
            raise ValueError(
                f"rsna: unknown validation {validation!r}; expected one of {VALIDATION_SOURCES}"
            )
        self.layout = detect_layout(self.root) if layout == "auto" else layout
        self.image_size = as_size(image_size, self.name)
        self.contrast = check_contrast(contrast, self.name)
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

    def _items(
        self, table: pd.DataFrame, source: Path, folder: Path
    ) -> tuple[list[str], np.ndarray, np.ndarray, list[Path]]:
        ids = [normalise_id(v) for v in table["id"]]
        ages = parse_numbers(table["boneage"].tolist())
        sexes = parse_sex(table["male"].tolist(), ids, self.name, str(source))
        paths = locate_images(
            ids, ids, index_images(folder), dataset=self.name, folder=folder, listed_in=source
        )
        return ids, ages, sexes, paths

    def _training_table(self, split: str) -> tuple[list[str], np.ndarray, np.ndarray, list[Path]]:
        if self.layout == "kaggle":
            source, folder = self.root / KAGGLE_TRAIN_CSV, self.root / KAGGLE_TRAIN_DIR
        else:
            source, folder = self.root / OFFICIAL_TRAIN_CSV, self.root / OFFICIAL_TRAIN_DIR
        table = read_label_table(source, self.name, TRAIN_COLUMNS)
        if self.validation == "seeded":
            ids = [normalise_id(v) for v in table["id"]]
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
        table = read_label_table(source, self.name, VAL_COLUMNS)
        return self._items(table, source, self.root / OFFICIAL_VAL_DIR)

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
        return self._items(read_label_table(source, self.name, TEST_COLUMNS), source, folder)

    # -- items --------------------------------------------------------------------------

    def source_file(self, index: int) -> Path:
        """The PNG of item ``index``."""
        return self.paths[index]

    def load(self, index: int) -> torch.Tensor:
        """Item ``index`` as a ``(1, H, W)`` float tensor in [0, 1] (equalised, resized)."""
        return load_image(
            self.paths[index],
            mode="L",
            size=self.image_size,
            dataset=self.name,
            contrast=self.contrast,
        )
