"""A loader for one's own data: a CSV with one row per item, for any modality.

File inputs: a path column (paths relative to the CSV's folder, or absolute) and a target
column; the file extension picks the modality and the decoder:

=====================================  ==========  ========================================
extension                              modality    ``load`` returns (float32)
=====================================  ==========  ========================================
.png .jpg .jpeg .bmp .tif .tiff        image2d     ``(C, H, W)`` in [0, 1] (Pillow)
.nii .nii.gz                           volume3d    ``(1, X, Y, Z)`` voxel values (nibabel)
.avi .mp4                              video       ``(C, T, H, W)`` in [0, 1] (OpenCV)
.npy                                   timeseries  ``(C, T)``: the array as stored, 1-D -> 1 row
.csv                                   timeseries  ``(C, T)``: rows of the file are time points
=====================================  ==========  ========================================

Tabular inputs: ``feature_columns`` names numeric columns of the CSV itself; ``x`` is the
feature vector ``(F,)``.

Optional columns: ``split_column`` (values ``train``/``val``/``test``; without it a seeded
split from :func:`supremix.data.splits.seeded_split` with fractions ``val`` and ``test``),
``group_column`` (integers, e.g. sex 0/1) and ``id_column`` (default: the path as written, or
the row number for tabular data). See data_cards/csv.md.

Decoding and resizing go through the shared readers of :mod:`~supremix.data.imageio`,
:mod:`~supremix.data.volumeio` and :mod:`~supremix.data.videoio`; the last two are imported when
a volume or video is first read, so a CSV of images or arrays needs neither nibabel nor OpenCV.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from . import imageio
from .base import RegressionDataset, Transform, check_choice
from .errors import DatasetContentError, DatasetLayoutError
from .paths import resolve_entries, table_row
from .splits import seeded_split

NAME = "csv"

EXTENSIONS: dict[str, str] = {
    ".png": "image2d",
    ".jpg": "image2d",
    ".jpeg": "image2d",
    ".bmp": "image2d",
    ".tif": "image2d",
    ".tiff": "image2d",
    ".nii": "volume3d",
    ".nii.gz": "volume3d",
    ".avi": "video",
    ".mp4": "video",
    ".npy": "timeseries",
    ".csv": "timeseries",
}

NORMALIZE_CHOICES = (None, "zscore", "minmax")
SPATIAL_DIMS = {"image2d": 2, "volume3d": 3, "video": 2, "timeseries": 1}


def file_modality(path: str | Path) -> str:
    """The modality of a file from its extension (see the table in the module docstring)."""
    name = str(path).lower()
    for extension in sorted(EXTENSIONS, key=len, reverse=True):
        if name.endswith(extension):
            return EXTENSIONS[extension]
    raise DatasetContentError(
        NAME,
        f"cannot tell the modality of {path!s}; supported extensions: {', '.join(EXTENSIONS)}",
    )


def read_image(path: Path, channels: int = 1) -> np.ndarray:
    """A 2-D image as ``(channels, H, W)`` float32 in [0, 1]; 16-bit images keep their depth
    (:func:`supremix.data.imageio.read_image`)."""
    array = imageio.read_image(path, "L" if channels == 1 else "RGB", NAME)
    return np.ascontiguousarray(array[None] if channels == 1 else array.transpose(2, 0, 1))


def read_volume(path: Path) -> np.ndarray:
    """A NIfTI volume as ``(1, X, Y, Z)`` float32 (scaled voxel values, array axis order);
    a 4-D file with one frame counts as 3-D."""
    from .volumeio import read_nifti

    try:
        array, _ = read_nifti(path)
    except ValueError as error:
        raise DatasetContentError(NAME, str(error)) from error
    if array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    if array.ndim != 3:
        raise DatasetContentError(NAME, f"{path} holds a {array.ndim}-D image, expected 3-D")
    return array[None]


def read_video(path: Path, channels: int = 1) -> np.ndarray:
    """All frames of a video as ``(channels, T, H, W)`` float32 in [0, 1] (RGB order)."""
    from .videoio import read_avi, to_gray

    try:
        video = read_avi(path)
    except ValueError as error:
        raise DatasetContentError(
            NAME, f"{error}; expected a video OpenCV decodes (.avi, .mp4)"
        ) from error
    if channels == 1:
        video = to_gray(video)
    return video.astype(np.float32) / 255.0


def read_timeseries(path: Path) -> np.ndarray:
    """A time series as ``(C, T)`` float32: ``.npy`` as stored, ``.csv`` rows = time points.

    A truncated or pickled ``.npy``, an unparsable or non-numeric CSV, or a NaN/inf value
    raises :class:`DatasetContentError` naming the file and what was expected.
    """
    try:
        if str(path).lower().endswith(".npy"):
            array = np.load(path, allow_pickle=False).astype(np.float32)
            array = array[None] if array.ndim == 1 else array
        else:
            table = pd.read_csv(path, header=None)
            if not all(pd.api.types.is_numeric_dtype(t) for t in table.dtypes):
                table = pd.read_csv(path)
            array = table.to_numpy(dtype=np.float32).T
    except (OSError, EOFError, ValueError, pd.errors.EmptyDataError) as error:
        kind = "a numeric .npy array" if str(path).lower().endswith(".npy") else "a numeric CSV"
        raise DatasetContentError(
            NAME, f"cannot read {path} ({type(error).__name__}: {error}); expected {kind}"
        ) from error
    if array.ndim != 2:
        raise DatasetContentError(NAME, f"{path} holds a {array.ndim}-D array, expected (C, T)")
    return np.ascontiguousarray(finite(array, path, "values"))


def finite(array: np.ndarray, path: Path, what: str) -> np.ndarray:
    """``array``, or a :class:`DatasetContentError` naming ``path`` when a value is NaN/inf."""
    bad = int(array.size - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise DatasetContentError(
            NAME, f"{path} holds {bad} NaN or infinite {what}; expected finite values"
        )
    return array


def resize(array: np.ndarray, size: Sequence[int], modality: str) -> np.ndarray:
    """``array`` resampled to ``size``: ``(H, W)`` for images and video frames (antialiased
    bilinear, :func:`~supremix.data.imageio.resize_planes`), 3 axes for volumes (area averaging
    when every axis shrinks, else trilinear: :func:`~supremix.data.volumeio.resize_volume`),
    ``(T,)`` for time series (linear)."""
    size = tuple(int(s) for s in size)
    if len(size) != SPATIAL_DIMS[modality]:
        raise ValueError(f"size for {modality} needs {SPATIAL_DIMS[modality]} values, got {size}")
    if modality in ("image2d", "video"):
        return imageio.resize_planes(array, (size[0], size[1]))
    if modality == "volume3d":
        from .volumeio import resize_volume

        return resize_volume(torch.from_numpy(np.ascontiguousarray(array[0])), size)[None].numpy()
    x = torch.from_numpy(np.ascontiguousarray(array))[None]
    return F.interpolate(x, size=size, mode="linear", align_corners=False)[0].numpy()


def feature_scaling(features: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """``(shift, scale)`` per column so that ``(x - shift) / scale`` is z-scored (``"zscore"``)
    or in [0, 1] (``"minmax"``) on ``features``; constant columns get scale 1."""
    if method == "zscore":
        shift, scale = features.mean(axis=0), features.std(axis=0)
    elif method == "minmax":
        shift, scale = features.min(axis=0), features.max(axis=0) - features.min(axis=0)
    else:
        raise ValueError(f"unknown normalize {method!r}; expected None, 'zscore' or 'minmax'")
    return shift, np.where(scale > 0, scale, 1.0)


def normalize_item(x: torch.Tensor, method: str | None) -> torch.Tensor:
    """Per-item intensity normalisation: ``None``, ``"zscore"`` or ``"minmax"``."""
    if method is None:
        return x
    shift, scale = feature_scaling(x.reshape(-1, 1).numpy(), method)
    return (x - float(shift[0])) / float(scale[0])


def _column(table: pd.DataFrame, column: str, what: str, csv_path: Path) -> pd.Series:
    if column not in table.columns:
        raise DatasetLayoutError(
            NAME,
            f"{what} column {column!r} not in {csv_path} (columns: {', '.join(table.columns)})",
            expected=f"a column named {column!r}, or pass {what}_column=<name>",
        )
    return table[column]


def _numeric(series: pd.Series, what: str) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        rows = ", ".join(f"row {i}: {series[i]!r}" for i in series.index[bad][:5])
        raise DatasetContentError(NAME, f"{what} column {series.name!r} is not numeric ({rows})")
    return values.to_numpy(dtype=np.float64)


def _groups(series: pd.Series) -> np.ndarray:
    values = series.to_numpy()
    if values.dtype == bool:
        return values.astype(np.int64)
    numeric = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(numeric).any() or (numeric != np.round(numeric)).any():
        shown = next(v for v, n in zip(values, numeric, strict=True) if n != np.round(n))
        raise DatasetContentError(
            NAME, f"group column {series.name!r} must hold integers (e.g. 0/1), got {shown!r}"
        )
    return numeric.astype(np.int64)


def _split_rows(
    table: pd.DataFrame,
    ids: list[str],
    split: str,
    split_column: str | None,
    val: float | int,
    test: float | int,
    seed: int,
    csv_path: Path,
) -> np.ndarray:
    if split_column is None:
        return seeded_split(ids, val=val, test=test, seed=seed)[split]
    values = _column(table, split_column, "split", csv_path).astype(str).str.strip().str.lower()
    unknown = sorted(set(values) - {"train", "val", "test"})
    if unknown:
        raise DatasetContentError(
            NAME,
            f"split column {split_column!r} has values {', '.join(map(repr, unknown))}; "
            "expected train, val or test",
        )
    return np.flatnonzero((values == split).to_numpy())


class CSVDataset(RegressionDataset):
    """Items listed in a CSV file: files of any supported modality, or tabular features.

    ``root`` is the CSV file, or the folder holding ``csv_file``. Options: ``size`` resamples
    every item to one shape (needed to batch images of different sizes and for
    :class:`~supremix.data.cache.CachedDataset`); ``channels`` 1 (grayscale) or 3 (RGB) for
    images and video; ``frames`` resamples videos to that many evenly spaced frames;
    ``normalize`` (``"zscore"`` or ``"minmax"``) is per item for files and per feature,
    fitted on the train split, for tabular data.
    """

    name = NAME

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        csv_file: str = "labels.csv",
        path_column: str = "path",
        target_column: str = "target",
        feature_columns: Sequence[str] | None = None,
        id_column: str | None = None,
        split_column: str | None = None,
        group_column: str | None = None,
        size: Sequence[int] | None = None,
        channels: int = 1,
        frames: int | None = None,
        normalize: str | None = None,
        val: float | int = 0.1,
        test: float | int = 0.1,
        seed: int = 0,
        transform: Transform | None = None,
    ):
        root = Path(root)
        csv_path = root if root.suffix.lower() == ".csv" and root.is_file() else root / csv_file
        if not csv_path.is_file():
            raise DatasetLayoutError(
                NAME, f"no CSV file at {csv_path}", expected="a CSV with one row per item"
            )
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        check_choice(NAME, "normalize", normalize, NORMALIZE_CHOICES)
        try:
            table = pd.read_csv(csv_path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise DatasetContentError(
                NAME, f"cannot parse {csv_path} ({error}); expected a CSV with a header row"
            ) from error
        if table.empty:
            raise DatasetContentError(NAME, f"{csv_path} has no rows")
        targets = _numeric(_column(table, target_column, "target", csv_path), "target")

        if feature_columns is not None:
            self.modality = "tabular"
            columns = [_column(table, c, "feature", csv_path) for c in feature_columns]
            features = np.stack([_numeric(c, "feature") for c in columns], axis=1)
            default_ids = [str(i) for i in range(len(table))]
        else:
            paths = _column(table, path_column, "path", csv_path).astype(str).tolist()
            modalities = {file_modality(p) for p in paths}
            if len(modalities) > 1:
                raise DatasetContentError(
                    NAME, f"{csv_path} mixes modalities {', '.join(sorted(modalities))}"
                )
            self.modality = modalities.pop()
            default_ids = paths
        ids = (
            default_ids
            if id_column is None
            else _column(table, id_column, "id", csv_path).astype(str).tolist()
        )
        duplicates = pd.Series(ids)[pd.Series(ids).duplicated()].unique()
        if len(duplicates):
            raise DatasetContentError(
                NAME, f"duplicate ids in {csv_path}: {', '.join(map(str, duplicates[:5]))}"
            )
        rows = _split_rows(table, ids, split, split_column, val, test, seed, csv_path)
        groups = None
        if group_column is not None:
            groups = _groups(_column(table, group_column, "group", csv_path))[rows]

        super().__init__(
            [ids[i] for i in rows], targets[rows], split=split, groups=groups, transform=transform
        )
        self.csv_path = csv_path
        self.size = None if size is None else tuple(int(s) for s in size)
        self.channels, self.frames, self.normalize = channels, frames, normalize
        self.options: dict[str, Any] = {
            "csv": str(csv_path.resolve()),
            "path_column": path_column,
            "feature_columns": None if feature_columns is None else list(feature_columns),
            "size": self.size,
            "channels": channels,
            "frames": frames,
            "normalize": normalize,
            "split_column": split_column,
            "val": val,
            "test": test,
            "seed": seed,
        }
        self.features: np.ndarray | None
        if self.modality == "tabular":
            self.features = self._scaled_features(features, table, ids, split_column, rows)
            self.files: list[Path] = []
        else:
            self.features = None
            self.files = [self._resolve(paths[i], table_row(i)) for i in rows]

    def _scaled_features(self, features, table, ids, split_column, rows) -> np.ndarray:
        chosen = features[rows]
        if self.normalize is not None:
            settings = (self.options["val"], self.options["test"], self.options["seed"])
            train = _split_rows(table, ids, "train", split_column, *settings, self.csv_path)
            if train.size == 0:
                raise DatasetContentError(NAME, "normalize needs train rows to fit on; none")
            shift, scale = feature_scaling(features[train], self.normalize)
            chosen = (chosen - shift) / scale
        if not np.isfinite(chosen).all():
            raise DatasetContentError(NAME, f"feature columns of {self.csv_path} hold NaN")
        return chosen.astype(np.float32)

    def _resolve(self, path: str, row: int) -> Path:
        """``path`` under the CSV's folder (refused if it climbs out with ``..``), or as
        written when absolute (data_cards/csv.md)."""
        (resolved,) = resolve_entries(
            self.csv_path.parent,
            [path],
            dataset=NAME,
            listed_in=self.csv_path,
            rows=[row],
            allow_absolute=True,
        )
        if not resolved.is_file():
            raise DatasetLayoutError(
                NAME,
                f"file {path!r} (row {row}) listed in {self.csv_path} is missing",
                expected=f"paths relative to {self.csv_path.parent} or absolute",
            )
        return resolved

    def source_file(self, index: int) -> Path:
        return self.csv_path if self.modality == "tabular" else self.files[index]

    def load(self, index: int) -> torch.Tensor:
        if self.features is not None:  # tabular
            return torch.from_numpy(self.features[index].copy())
        path = self.files[index]
        if self.modality == "image2d":
            array = read_image(path, self.channels)
        elif self.modality == "volume3d":
            array = read_volume(path)
        elif self.modality == "video":
            array = read_video(path, self.channels)
            if self.frames is not None:
                picks = np.round(np.linspace(0, array.shape[1] - 1, self.frames)).astype(int)
                array = array[:, picks]
        else:
            array = read_timeseries(path)
        if self.size is not None:
            array = resize(array, self.size, self.modality)
        return normalize_item(torch.from_numpy(np.ascontiguousarray(array)), self.normalize)
