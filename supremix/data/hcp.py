"""HCP-Aging resting-state fMRI, Schaefer-400 parcellated -> age (brain age).

There is no official parcellated release (datasets.md §7): users parcellate the CIFTI dense
time series with the Schaefer-400 atlas and save one array per subject (or per run). The
loader reads, by default (data_cards/hcp.md)::

    <root>/ndar_subject01.txt              NDA table: tab-separated, row 2 = descriptions;
                                           src_subject_id, interview_age (months), sex (M/F)
    <root>/<src_subject_id>*.npy|.csv|.mat one 2-D array per subject: T x 400 or 400 x T

``timeseries`` (a folder under ``root``) and ``pattern`` (a glob with ``{subject}``) change
where the arrays are looked up, e.g. ``pattern="{subject}_V1_MR/*REST1_AP*.npy"``. When a
subject has several matching files (one per run) ``runs`` picks the first in name order or
concatenates them in time.

An item is ``(400, T)``, channels first for a 1-D ResNet over time (the SupReMix paper, §4.1.2:
input 400 x 478; App. C.1.2: per-ROI standardisation). No official split: a seeded subject split
(the SupReMix paper, Table 1: 456 / 100 / 100 of 656).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
import scipy.io.matlab
import torch

from .base import RegressionDataset, Transform, check_choice, check_root, check_split
from .checks import check_label_range, one_row_per_id
from .errors import DatasetContentError, DatasetLayoutError, warn_content
from .paths import check_plain_names
from .splits import seeded_split
from .tables import parse_label_numbers
from .volumeio import check_finite_array

SUFFIXES = (".npy", ".csv", ".mat")
ORIENTATIONS = ("auto", "time_by_roi", "roi_by_time")
TABLE_COLUMNS = ("src_subject_id", "interview_age", "sex")
SEX_GROUPS = {"F": 0, "M": 1}


def read_nda_table(path: Path, dataset: str = "hcp") -> pd.DataFrame:
    """An NDA structure file: tab-separated, header in row 1, descriptions in row 2.

    Row 2 is taken as the description row when its ``interview_age`` cell is not a number
    (NDA writes "Age in months at the time of the interview..."), and dropped. A table without
    it (a number there: a subject) keeps that row, with a warning. Cells are strings; the
    index is the file's row number minus 2.
    """
    if not path.is_file():
        raise DatasetLayoutError(
            dataset, f"{path} not found", "an NDA table (e.g. ndar_subject01.txt)"
        )
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DatasetContentError(
            dataset, f"cannot parse {path} ({error}); expected a tab-separated NDA table"
        ) from error
    missing = [c for c in TABLE_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetLayoutError(
            dataset,
            f"{path} lacks column(s) {', '.join(missing)}",
            "tab-separated columns src_subject_id, interview_age (months) and sex (M/F), "
            "with a description row under the header",
        )
    if len(frame) and pd.notna(pd.to_numeric(frame["interview_age"].iloc[0], errors="coerce")):
        warn_content(
            dataset,
            f"{path} has no NDA description row under its header (row 2 holds interview_age "
            f"{frame['interview_age'].iloc[0]!r}); row 2 is read as subject "
            f"{frame['src_subject_id'].iloc[0]!r}",
        )
        return frame
    return frame.iloc[1:]


def read_csv_matrix(path: Path) -> np.ndarray:
    """A numeric CSV, tolerating a header row and a label or index first column."""
    frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    values = frame.apply(pd.to_numeric, errors="coerce")
    header = bool(
        len(values) > 1 and values.iloc[0].isna().any() and values.iloc[1:].notna().all().all()
    )
    if header:
        first_cell = str(frame.iloc[0, 0]).strip()
        values = values.iloc[1:]
        if first_cell in ("", "Unnamed: 0"):  # pandas' index column
            values = values.iloc[:, 1:]
    if values.shape[1] > 1 and values.iloc[:, 0].isna().all():
        values = values.iloc[:, 1:]  # a column of ROI names
    if values.isna().any().any():
        raise ValueError("non-numeric values")
    return values.to_numpy(dtype=np.float64)


def read_mat_matrix(path: Path, key: str | None) -> np.ndarray:
    """The 2-D numeric array of a MATLAB file (``key``, or the only one)."""
    try:
        content = scipy.io.loadmat(str(path))
    except NotImplementedError as error:  # v7.3 files are HDF5
        raise ValueError("a MATLAB v7.3 (HDF5) file; save it with -v7 or as .npy") from error
    arrays = {
        k: v
        for k, v in content.items()
        if not k.startswith("__")
        and isinstance(v, np.ndarray)
        and v.ndim == 2
        and np.issubdtype(v.dtype, np.number)
    }
    if key is not None:
        if key not in arrays:
            raise ValueError(f"no 2-D numeric variable {key!r}; it has {sorted(arrays)}")
        return arrays[key]
    if len(arrays) != 1:
        raise ValueError(
            f"it holds {len(arrays)} 2-D numeric variables {sorted(arrays)}; "
            "pass mat_key= to choose"
        )
    return next(iter(arrays.values()))


READ_ERRORS = (OSError, EOFError, ValueError, IndexError, scipy.io.matlab.MatReadError)
EXPECTED = {
    ".npy": "a 2-D numeric array saved by numpy.save",
    ".csv": "a numeric CSV, one time point or one ROI per row",
    ".mat": "a MATLAB v4-v7.2 file holding one 2-D numeric variable",
}


def read_matrix(path: Path, mat_key: str | None = None) -> np.ndarray:
    """A 2-D array from ``.npy``, ``.csv`` or ``.mat``; ``ValueError`` naming the file and
    what was expected (a truncated ``.npy``, a damaged ``.mat``, a NaN or infinite value)."""
    if path.suffix not in SUFFIXES:
        raise ValueError(f"cannot read {path}: unsupported file type; expected {SUFFIXES}")
    try:
        if path.suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif path.suffix == ".csv":
            array = read_csv_matrix(path)
        else:
            array = read_mat_matrix(path, mat_key)
    except READ_ERRORS as error:  # pandas' parser errors are ValueErrors
        raise ValueError(
            f"cannot read {path} ({type(error).__name__}: {error}); expected "
            f"{EXPECTED[path.suffix]}"
        ) from error
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{path} holds an array of shape {array.shape}; expected 2-D")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{path} holds {array.dtype} values; expected {EXPECTED[path.suffix]}")
    return check_finite_array(array, str(path), "values")


def orient(array: np.ndarray, n_rois: int, orientation: str, path: Path) -> np.ndarray:
    """``array`` as ``(n_rois, T)``.

    ``"auto"`` decides from which axis has ``n_rois`` entries and refuses the ambiguous
    square case (T == n_rois).
    """
    rows, cols = array.shape
    if orientation == "auto":
        if rows == n_rois and cols == n_rois:
            raise ValueError(
                f"{path} is {rows} x {cols}: time and ROI axes cannot be told apart; pass "
                "orientation='time_by_roi' or 'roi_by_time'"
            )
        if rows == n_rois:
            return array
        if cols == n_rois:
            return array.T
        raise ValueError(f"{path} is {rows} x {cols}; expected one axis of {n_rois} ROIs")
    roi_axis = 1 if orientation == "time_by_roi" else 0
    if array.shape[roi_axis] != n_rois:
        raise ValueError(
            f"{path} is {rows} x {cols}; with orientation={orientation!r} axis {roi_axis} "
            f"should hold {n_rois} ROIs"
        )
    return array.T if roi_axis == 1 else array


def standardize_rows(series: np.ndarray) -> np.ndarray:
    """Zero mean and unit variance per ROI over time; a constant ROI becomes zeros."""
    centred = series - series.mean(axis=1, keepdims=True)
    std = centred.std(axis=1, keepdims=True)
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)


def fix_length(series: np.ndarray, length: int | None) -> np.ndarray:
    """Keep the first ``length`` frames, or append zero frames up to ``length``."""
    if length is None or series.shape[1] == length:
        return series
    if series.shape[1] > length:
        return series[:, :length]
    return np.pad(series, ((0, 0), (0, length - series.shape[1])))


class HCPAgingFMRI(RegressionDataset):
    """Schaefer-400 parcellated HCP-Aging rs-fMRI with age from the NDA table.

    Args:
        root: dataset folder.
        split: ``train``/``val``/``test`` of the seeded subject split.
        table: NDA table relative to ``root`` (``ndar_subject01.txt``).
        timeseries: folder of the arrays, relative to ``root`` (``"."``).
        pattern: glob of a subject's file(s), ``{subject}`` = ``src_subject_id``; only
            ``.npy``, ``.csv`` and ``.mat`` matches count.
        runs: several files for a subject: ``"first"`` (name order) or ``"concat"`` (in time).
        orientation: ``"auto"`` (from the axis with ``n_rois``), ``"time_by_roi"`` (T x 400)
            or ``"roi_by_time"`` (400 x T).
        n_rois: number of parcels (400).
        mat_key: variable of ``.mat`` files (default: the only 2-D numeric one).
        length: crop to the first ``length`` frames or zero-pad to it (the SupReMix paper: 478);
            ``None`` keeps each subject's length.
        standardize: z-score every ROI over time, run by run (the SupReMix paper, App. C.1.2),
        before
            ``length``.
        val, test: split fractions (or counts) of subjects.
        transform: applied to the ``(400, T)`` series.
        seed: seed of the split.

    Table subjects without any matching file are left out and listed in
    ``self.without_files``; a file that cannot be read raises with its path.
    """

    name = "hcp"
    modality = "timeseries"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        table: str | Path = "ndar_subject01.txt",
        timeseries: str | Path = ".",
        pattern: str = "{subject}*",
        runs: str = "first",
        orientation: str = "auto",
        n_rois: int = 400,
        mat_key: str | None = None,
        length: int | None = None,
        standardize: bool = True,
        val: float | int = 0.15,
        test: float | int = 0.15,
        transform: Transform | None = None,
        seed: int = 0,
    ):
        check_split(self.name, split)
        check_choice(self.name, "orientation", orientation, ORIENTATIONS)
        check_choice(self.name, "runs", runs, ("first", "concat"))
        if "{subject}" not in pattern:
            raise ValueError(f"hcp: pattern must contain '{{subject}}', got {pattern!r}")
        self.root = check_root(self.name, root)
        self.series_dir = self.root / timeseries
        if not self.series_dir.is_dir():
            raise DatasetLayoutError(
                self.name, f"{self.series_dir} is not a folder", "the folder of the time series"
            )
        subjects = self._read_subjects(self.root / table)
        files = {}
        self.without_files = []
        for subject in sorted(subjects):
            matches = sorted(
                p
                for p in self.series_dir.glob(pattern.format(subject=subject))
                if p.suffix in SUFFIXES and p.is_file()
            )
            if matches:
                files[subject] = matches if runs == "concat" else matches[:1]
            else:
                self.without_files.append(subject)
        if not files:
            raise DatasetLayoutError(
                self.name,
                f"no time series of any of the {len(subjects)} table subjects in {self.series_dir}",
                f"files matching {pattern!r} with suffix .npy, .csv or .mat",
            )
        ids = sorted(files)
        chosen = [ids[i] for i in seeded_split(ids, val=val, test=test, seed=seed)[split]]
        sexes = {s: subjects[s][1] for s in chosen}
        unknown = [s for s, sex in sexes.items() if sex not in SEX_GROUPS]
        if unknown:
            raise DatasetContentError(
                self.name, f"sex is not M or F for subjects {', '.join(unknown[:10])}"
            )
        self.files = [files[s] for s in chosen]
        super().__init__(
            chosen,
            [subjects[s][0] for s in chosen],
            split=split,
            groups=[SEX_GROUPS[sexes[s]] for s in chosen],
            transform=transform,
        )
        self.seed = seed
        self.orientation, self.n_rois, self.mat_key = orientation, n_rois, mat_key
        self.length, self.standardize = length, standardize
        self._first_length: int | None = None
        self.options = {
            "pattern": pattern,
            "runs": runs,
            "orientation": orientation,
            "n_rois": n_rois,
            "mat_key": mat_key,
            "length": length,
            "standardize": standardize,
        }

    def _read_subjects(self, path: Path) -> dict[str, tuple[float, str]]:
        """src_subject_id -> (age in years, sex)."""
        frame = read_nda_table(path, self.name)
        frame = frame[list(TABLE_COLUMNS)].apply(lambda c: c.str.strip())
        frame = frame[frame["src_subject_id"] != ""]
        check_plain_names(
            frame["src_subject_id"].tolist(),
            dataset=self.name,
            what="src_subject_id",
            listed_in=path,
        )
        frame = one_row_per_id(
            frame.drop_duplicates(),
            "src_subject_id",
            ["interview_age", "sex"],
            dataset=self.name,
            source=path,
        )
        months = parse_label_numbers(
            frame["interview_age"],
            dataset=self.name,
            source=path,
            column="interview_age",
            ids=frame["src_subject_id"].tolist(),
        )
        check_label_range(
            self.name, "hcp/age", months / 12.0, frame["src_subject_id"].tolist(), path
        )
        return {
            s: (m / 12.0, sex)
            for s, m, sex in zip(frame["src_subject_id"], months, frame["sex"], strict=True)
        }

    def source_file(self, index: int) -> Path:
        return self.files[index][0]

    def load(self, index: int) -> torch.Tensor:
        """The ``(n_rois, T)`` float32 series of item ``index``."""
        parts = []
        for path in self.files[index]:
            try:
                parts.append(
                    orient(read_matrix(path, self.mat_key), self.n_rois, self.orientation, path)
                )
            except ValueError as error:
                raise DatasetContentError(self.name, str(error)) from error
        if self.standardize:
            parts = [standardize_rows(p.astype(np.float64)) for p in parts]
        series = np.concatenate(parts, axis=1)
        if self.length is None and index != 0:
            self._check_same_length(index, series.shape[1])
        return torch.from_numpy(fix_length(series, self.length).astype(np.float32))

    def _check_same_length(self, index: int, frames: int) -> None:
        """With ``length=None`` every item must have as many frames as item 0 (a batch stacks
        them): otherwise a :class:`DatasetContentError` naming both files."""
        if self._first_length is None:
            self._first_length = int(self.load(0).shape[1])
        if frames != self._first_length:
            raise DatasetContentError(
                self.name,
                f"{self.files[index][0]} holds {frames} frames but {self.files[0][0]} (the "
                f"first subject of the split) holds {self._first_length}; pass length=<frames> "
                "to crop or zero-pad every subject to one length",
            )
