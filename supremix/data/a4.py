"""A4 / LEARN florbetapir amyloid PET -> composite SUVR (cerebellar reference).

Layout (datasets.md §6; data_cards/a4.md)::

    <root>/NII/<BID>/<session>/FBP/A4_PET_FBP_<BID>_<session>.nii.gz    3-D, or 4-D frames
    <root>/imaging_SUVR_amyloid.csv     (or clinical/External Data/imaging_SUVR_amyloid.csv,
                                         or A4_PETSUVR*.csv, or "A4 Imaging data and docs"/...)

The SUVR table is long: one row per (``BID``, ``VISCODE``, ``brain_region``); the label is
column ``suvr_cer`` (whole-cerebellum reference) of the row ``brain_region ==
"Composite_Summary"`` (the A4LEARN vignette's "Amyloid PET SUVr"). The ``<session>`` folder is
the visit code written with three digits (``002`` = screening, ``VISCODE`` 2).

Preprocessing (the SupReMix paper, §4.1.5, App. B.1.5): frames averaged, native space, centre crop
to 128^3 voxels after resampling to 2 mm (``spacing=None`` keeps native voxels), per-volume
normalisation (default: divide by the mean, which keeps intensity ratios, hence SUVR). No official
split: a seeded split of subjects (the SupReMix paper, Table 1: 3,486 / 500 / 500).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .base import Transform, check_choice, check_root, check_split
from .checks import check_label_range, refuse_text_cells
from .errors import DatasetContentError, DatasetLayoutError
from .splits import seeded_split
from .tables import resolve_missing_labels
from .volumeio import NORMALIZATIONS, mean_over_frames, read_nifti
from .volumes import PreprocessedVolumes

TABLE_COLUMNS = ("BID", "VISCODE", "brain_region")
FIXED_TABLES = (
    "imaging_SUVR_amyloid.csv",
    "clinical/External Data/imaging_SUVR_amyloid.csv",
    "External Data/imaging_SUVR_amyloid.csv",
)
TABLE_GLOBS = ("A4_PETSUVR*.csv", "A4 Imaging data and docs/A4_PETSUVR*.csv")


class A4AmyloidPET(PreprocessedVolumes):
    """A4 florbetapir PET volumes with the composite SUVR of the A4 SUVR table.

    Args:
        root: the download folder (``NII/`` and the SUVR table).
        split: ``train``/``val``/``test`` of the seeded subject split.
        table: SUVR table (relative to ``root`` or absolute); default the first found of
            ``imaging_SUVR_amyloid.csv``, ``clinical/External Data/...``,
            ``External Data/...``, ``A4_PETSUVR*.csv``, ``A4 Imaging data and docs/...``.
        reference: SUVR column: ``suvr_cer`` (whole cerebellum, the SupReMix paper), ``suvr_persi``
            or ``suvr_crus``.
        region: ``brain_region`` row used as label (``Composite_Summary``).
        viscode: visit to read (2 = screening); ``None`` reads every visit (several items per
            subject, still split by subject).
        spacing, crop, size, normalize, canonical: as :class:`~supremix.data.ukb.UKBiobankT1`.
        missing_label: ``"error"`` or ``"skip"`` for PET files without a table row.
        val, test: split fractions (or counts) of subjects.
        transform: applied to the ``(1, D, H, W)`` volume.
        seed: seed of the split.
    """

    name = "a4"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        table: str | Path | None = None,
        reference: str = "suvr_cer",
        region: str = "Composite_Summary",
        viscode: int | None = 2,
        spacing: float | None = 2.0,
        crop: int | Sequence[int] | None = (128, 128, 128),
        size: int | Sequence[int] | None = None,
        normalize: str = "mean",
        canonical: bool = True,
        missing_label: str = "error",
        val: float | int = 0.1,
        test: float | int = 0.1,
        transform: Transform | None = None,
        seed: int = 0,
    ):
        check_split(self.name, split)
        check_choice(self.name, "normalize", normalize, NORMALIZATIONS)
        self.root = check_root(self.name, root)
        self.reference, self.region, self.viscode = reference, region, viscode
        scans = self._find_scans()
        suvr = self._read_table(table)
        unlabelled = [f"{b}_{s}" for (b, s) in scans if (b, int(s)) not in suvr]
        self.skipped = resolve_missing_labels(
            self.name, unlabelled, missing_label, f"{self.table} ({region}, {reference})"
        )
        keys = sorted(k for k in scans if (k[0], int(k[1])) in suvr)
        if not keys:
            raise DatasetLayoutError(self.name, f"no labelled PET under {self.root / 'NII'}")
        subjects = sorted({bid for bid, _ in keys})
        part = {subjects[i] for i in seeded_split(subjects, val=val, test=test, seed=seed)[split]}
        chosen = [k for k in keys if k[0] in part]
        self.sources = [scans[k] for k in chosen]
        self.subjects = [bid for bid, _ in chosen]
        super().__init__(
            [f"{b}_{s}" for b, s in chosen],
            [suvr[(b, int(s))] for b, s in chosen],
            split=split,
            transform=transform,
        )
        self.seed = seed
        self._init_preprocessing(
            spacing=spacing, crop=crop, size=size, normalize=normalize, canonical=canonical
        )

    def _find_scans(self) -> dict[tuple[str, str], Path]:
        """(BID, session) -> PET file, from ``NII/<BID>/<session>/FBP/``."""
        nii = self.root / "NII"
        if not nii.is_dir():
            raise DatasetLayoutError(
                self.name,
                f"no NII folder in {self.root}",
                "<root>/NII/<BID>/<session>/FBP/A4_PET_FBP_<BID>_<session>.nii.gz",
            )
        scans: dict[tuple[str, str], Path] = {}
        for folder in sorted(nii.glob("*/*/FBP")):
            bid, session = folder.parent.parent.name, folder.parent.name
            if not session.isdigit() or (self.viscode is not None and int(session) != self.viscode):
                continue
            for suffix in (".nii.gz", ".nii"):
                path = folder / f"A4_PET_FBP_{bid}_{session}{suffix}"
                if path.is_file():
                    scans[(bid, session)] = path
                    break
            else:
                raise DatasetLayoutError(
                    self.name,
                    f"{folder} holds no PET file",
                    f"A4_PET_FBP_{bid}_{session}.nii.gz",
                )
        if not scans:
            visit = "" if self.viscode is None else f" of visit {self.viscode:03d}"
            raise DatasetLayoutError(
                self.name,
                f"no PET file{visit} under {nii}",
                "NII/<BID>/<session>/FBP/A4_PET_FBP_<BID>_<session>.nii.gz",
            )
        return scans

    def _table_path(self, table: str | Path | None) -> Path:
        if table is not None:
            path = self.root / table
            if not path.is_file():
                raise DatasetLayoutError(self.name, f"{path} not found", "the SUVR table")
            return path
        for name in FIXED_TABLES:
            if (self.root / name).is_file():
                return self.root / name
        for pattern in TABLE_GLOBS:
            found = sorted(self.root.glob(pattern))
            if len(found) > 1:
                names = ", ".join(p.name for p in found)
                raise DatasetLayoutError(
                    self.name, f"several SUVR tables ({names})", "one; pass table=<file>"
                )
            if found:
                return found[0]
        raise DatasetLayoutError(
            self.name,
            f"no SUVR table in {self.root}",
            "imaging_SUVR_amyloid.csv or A4_PETSUVR*.csv (" + ", ".join(FIXED_TABLES) + ")",
        )

    def _read_table(self, table: str | Path | None) -> dict[tuple[str, int], float]:
        """(BID, VISCODE) -> SUVR of the ``region`` rows."""
        path = self._table_path(table)
        self.table = path
        try:
            frame = pd.read_csv(path, dtype={"BID": str, "brain_region": str})
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise DatasetContentError(
                self.name, f"cannot parse {path} ({error}); expected a CSV table"
            ) from error
        needed = [*TABLE_COLUMNS, self.reference]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DatasetLayoutError(
                self.name,
                f"{path} lacks column(s) {', '.join(missing)}",
                "a long table with columns " + ", ".join(needed),
            )
        rows = frame[frame["brain_region"].str.strip() == self.region].copy()
        if rows.empty:
            raise DatasetContentError(
                self.name, f"{path} has no brain_region == {self.region!r} row"
            )
        rows["VISCODE"] = pd.to_numeric(rows["VISCODE"], errors="coerce")
        rows = rows[rows["VISCODE"].notna()]
        rows["BID"] = rows["BID"].str.strip()
        values = pd.to_numeric(rows[self.reference], errors="coerce")
        cells = rows[self.reference].astype(str).str.strip()
        text = cells[values.isna() & rows[self.reference].notna() & (cells != "")]
        refuse_text_cells(self.name, text, self.reference, path, "an SUVR")
        finite = values.notna()
        check_label_range(
            self.name,
            "a4/suvr",
            values[finite],
            [
                f"{b}/{int(c)}"
                for b, c in zip(rows["BID"][finite], rows["VISCODE"][finite], strict=True)
            ],
            path,
        )
        suvr: dict[tuple[str, int], float] = {}
        conflicts = []
        for bid, code, value in zip(rows["BID"], rows["VISCODE"].astype(int), values, strict=True):
            key = (bid, int(code))
            if key in suvr and not (
                suvr[key] == value or (np.isnan(suvr[key]) and np.isnan(value))
            ):
                conflicts.append(f"{bid}/{code}")
            suvr[key] = float(value)
        if conflicts:
            raise DatasetContentError(
                self.name, f"{path}: conflicting {self.region} rows for {', '.join(conflicts[:10])}"
            )
        return suvr

    def source_file(self, index: int) -> Path:
        return self.sources[index]

    def load(self, index: int) -> torch.Tensor:
        """The preprocessed ``(1, D, H, W)`` float32 PET volume (frames averaged)."""
        path = self.sources[index]
        try:
            volume, zooms = read_nifti(path, canonical=self.canonical)
            volume = mean_over_frames(volume)
        except ValueError as error:
            raise DatasetContentError(self.name, f"unreadable PET {path}: {error}") from error
        return self.preprocess(volume, zooms[:3])
