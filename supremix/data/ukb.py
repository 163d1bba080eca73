"""UK Biobank T1 brain MRI -> age at the imaging visit (brain age).

Layout (datasets.md §5; data_cards/ukb.md). Under ``images`` (default ``root``) each subject is
one of::

    <eid>_20252_2_0.zip                             bulk field 20252, as downloaded
        T1/T1_brain_to_MNI.nii.gz
    <eid>_20252_2_0/T1/T1_brain_to_MNI.nii.gz       the zip extracted into a folder of its name
    <eid>/T1/T1_brain_to_MNI.nii.gz                 or into a folder named by the eid

and ``<root>/<main dataset>.csv`` holds ``eid``, ``21003-2.0`` (age, years, at instance 2) and
``31-0.0`` (sex: 0 female, 1 male -> ``group``). ``registration="linear"`` reads
``T1/T1_brain_linearto_MNI.nii.gz`` instead, the linearly registered brain that the SFCN
weights expect (users make it from ``T1/transforms/T1_to_MNI_linear.mat``).

Preprocessing (the SupReMix paper, §4.1.1 and App. B.1.1): resample to 2 mm, centre crop 100^3, zero
mean and unit variance; ``size`` shrinks further for CPU work. :data:`SFCN_OPTIONS` gives the SFCN
recipe instead (1 mm linear MNI, ``data / data.mean()``, centre crop 160x192x160). UK Biobank has no
official split: a seeded subject split (the SupReMix paper, Table 1: 19,509 / 2,431 / 2,431).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .base import Transform, check_choice, check_root, check_split
from .checks import check_label_range, one_row_per_id, refuse_text_cells
from .errors import DatasetContentError, DatasetLayoutError
from .splits import seeded_split
from .tables import resolve_missing_labels
from .volumeio import NORMALIZATIONS, read_nifti
from .volumes import PreprocessedVolumes

IMAGE_FILES = {
    "nonlinear": "T1/T1_brain_to_MNI.nii.gz",
    "linear": "T1/T1_brain_linearto_MNI.nii.gz",
}
SFCN_OPTIONS = {
    "registration": "linear",
    "spacing": 1.0,
    "crop": (160, 192, 160),
    "normalize": "mean",
}


def find_table(root: Path, columns: Sequence[str], dataset: str, what: str) -> Path:
    """The one CSV directly under ``root`` whose header has every name in ``columns``."""
    matches = []
    for path in sorted(root.glob("*.csv")):
        try:
            header = pd.read_csv(path, nrows=0).columns
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            continue
        if all(c in header for c in columns):
            matches.append(path)
    if not matches:
        raise DatasetLayoutError(
            dataset, f"no CSV in {root} has the columns {', '.join(columns)}", what
        )
    if len(matches) > 1:
        names = ", ".join(p.name for p in matches)
        raise DatasetLayoutError(
            dataset, f"several CSVs in {root} qualify ({names})", "one; pass table=<file>"
        )
    return matches[0]


class UKBiobankT1(PreprocessedVolumes):
    """UK Biobank bulk field 20252 T1 volumes with age from field 21003.

    Args:
        root: folder with the main-dataset CSV (and, by default, the images).
        split: ``train``/``val``/``test`` of the seeded subject split.
        table: the main-dataset CSV (relative to ``root`` or absolute); default the one CSV
            in ``root`` with columns ``eid`` and ``21003-<instance>.0``.
        images: folder holding the zips / extracted folders; default ``root``.
        instance: imaging visit (2 = first, 3 = repeat): zip suffix and age column.
        registration: ``"nonlinear"`` (``T1_brain_to_MNI``) or ``"linear"``
            (``T1_brain_linearto_MNI``).
        spacing: resample to this isotropic voxel size in mm (``None``: keep).
        crop: central crop / zero pad to this shape in voxels (``None``: keep).
        size: then resize to this shape (int or three ints) for CPU work (``None``: keep).
        normalize: ``"zscore"`` (the SupReMix paper), ``"mean"`` (SFCN) or ``"none"``.
        canonical: reorient to RAS+ before anything else.
        missing_label: ``"error"`` (default) or ``"skip"`` for images whose eid has no age;
            skipped eids are listed in ``self.skipped``.
        val, test: split fractions (or counts).
        transform: applied to the ``(1, D, H, W)`` volume.
        seed: seed of the split.
    """

    name = "ukb"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        table: str | Path | None = None,
        images: str | Path | None = None,
        instance: int = 2,
        registration: str = "nonlinear",
        spacing: float | None = 2.0,
        crop: int | Sequence[int] | None = (100, 100, 100),
        size: int | Sequence[int] | None = None,
        normalize: str = "zscore",
        canonical: bool = True,
        missing_label: str = "error",
        val: float | int = 0.1,
        test: float | int = 0.1,
        transform: Transform | None = None,
        seed: int = 0,
    ):
        check_split(self.name, split)
        check_choice(self.name, "registration", registration, list(IMAGE_FILES))
        check_choice(self.name, "normalize", normalize, NORMALIZATIONS)
        self.root = check_root(self.name, root)
        self.image_dir = self.root if images is None else self.root / images
        self.member = IMAGE_FILES[registration]
        self.age_column, self.sex_column = f"21003-{instance}.0", "31-0.0"
        self.instance = instance
        sources = self._find_images()
        ages, sexes = self._read_table(table)
        unlabelled = [e for e in sorted(sources) if e not in ages]
        self.skipped = resolve_missing_labels(
            self.name, unlabelled, missing_label, f"column {self.age_column} of {self.table}"
        )
        eids = sorted(e for e in sources if e in ages)
        if not eids:
            raise DatasetLayoutError(self.name, f"no labelled image under {self.image_dir}")
        part = seeded_split(eids, val=val, test=test, seed=seed)[split]
        chosen = [eids[i] for i in part]
        self.sources = [sources[e] for e in chosen]
        groups = None
        if sexes is not None:
            unknown = [e for e in chosen if e not in sexes]
            if unknown:
                raise DatasetContentError(
                    self.name,
                    f"no sex in column {self.sex_column} for eids {', '.join(unknown[:10])}",
                )
            groups = [sexes[e] for e in chosen]
        super().__init__(
            chosen, [ages[e] for e in chosen], split=split, groups=groups, transform=transform
        )
        self.seed = seed
        self.options = {"registration": registration, "instance": instance}
        self._init_preprocessing(
            spacing=spacing, crop=crop, size=size, normalize=normalize, canonical=canonical
        )

    def _find_images(self) -> dict[str, Path]:
        """eid -> zip file or image file, preferring an extracted folder over its zip."""
        if not self.image_dir.is_dir():
            raise DatasetLayoutError(
                self.name, f"{self.image_dir} is not a folder", "the folder of the 20252 zips"
            )
        pattern = re.compile(rf"^(\d+)(_20252_{self.instance}_0)?(\.zip)?$")
        found: dict[str, Path] = {}
        incomplete = []
        for entry in sorted(self.image_dir.iterdir()):
            match = pattern.match(entry.name)
            if not match:
                continue
            eid, bulk, is_zip = match.groups()
            if is_zip and bulk and entry.is_file():
                found.setdefault(eid, entry)
            elif not is_zip and entry.is_dir():
                image = entry / self.member
                if image.is_file():
                    found[eid] = image
                else:
                    incomplete.append(str(image))
        if incomplete:
            raise DatasetLayoutError(
                self.name,
                f"{len(incomplete)} subject folders lack the image: {', '.join(incomplete[:5])}",
                f"<eid>/{self.member}",
            )
        if not found:
            raise DatasetLayoutError(
                self.name,
                f"no subject image under {self.image_dir}",
                f"<eid>_20252_{self.instance}_0.zip, <eid>_20252_{self.instance}_0/"
                f"{self.member} or <eid>/{self.member}",
            )
        return found

    def _read_table(
        self, table: str | Path | None
    ) -> tuple[dict[str, float], dict[str, int] | None]:
        expected = f"a main-dataset CSV with columns eid and {self.age_column}"
        if table is None:
            path = find_table(self.root, ["eid", self.age_column], self.name, expected)
        else:
            path = self.root / table
            if not path.is_file():
                raise DatasetLayoutError(self.name, f"{path} not found", expected)
        self.table = path
        header = pd.read_csv(path, nrows=0).columns
        missing = [c for c in ("eid", self.age_column) if c not in header]
        if missing:
            raise DatasetLayoutError(
                self.name, f"{path} lacks column(s) {', '.join(missing)}", expected
            )
        columns = ["eid", self.age_column] + (
            [self.sex_column] if self.sex_column in header else []
        )
        try:
            frame = pd.read_csv(path, usecols=columns, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise DatasetContentError(
                self.name, f"cannot parse {path} ({error}); expected a CSV table"
            ) from error
        frame = frame.apply(lambda column: column.str.strip())
        frame = one_row_per_id(frame, "eid", columns[1:], dataset=self.name, source=path)
        age = pd.to_numeric(frame[self.age_column], errors="coerce")
        labelled = pd.Series(np.isfinite(age.to_numpy(dtype=np.float64)), index=age.index)
        text = frame[self.age_column][~labelled & (frame[self.age_column] != "")]
        refuse_text_cells(self.name, text, self.age_column, path, "an age in years")
        check_label_range(
            self.name, "ukb/age", age[labelled], frame["eid"][labelled].tolist(), path
        )
        ages = dict(zip(frame["eid"][labelled], age[labelled].astype(float), strict=True))
        if self.sex_column not in frame:
            return ages, None
        sex = pd.to_numeric(frame[self.sex_column], errors="coerce")
        known = sex.isin([0, 1])
        return ages, dict(zip(frame["eid"][known], sex[known].astype(int), strict=True))

    def source_file(self, index: int) -> Path:
        return self.sources[index]

    def _read(self, path: Path) -> tuple[np.ndarray, tuple[float, ...]]:
        if path.suffix != ".zip":
            return read_nifti(path, canonical=self.canonical)
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.endswith(self.member)]
                if not names:
                    raise DatasetContentError(self.name, f"{path} has no member {self.member}")
                data = archive.read(names[0])
        except zipfile.BadZipFile as error:
            raise DatasetContentError(self.name, f"unreadable zip {path}: {error}") from error
        return read_nifti(data, canonical=self.canonical, name=f"{path}!{names[0]}")

    def load(self, index: int) -> torch.Tensor:
        """The preprocessed ``(1, D, H, W)`` float32 volume of item ``index``."""
        path = self.sources[index]
        try:
            volume, zooms = self._read(path)
        except ValueError as error:
            if isinstance(error, DatasetContentError):
                raise
            raise DatasetContentError(self.name, str(error)) from error
        if volume.ndim != 3:
            raise DatasetContentError(self.name, f"{path} holds shape {volume.shape}; expected 3-D")
        return self.preprocess(volume, zooms)
