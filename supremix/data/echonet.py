"""EchoNet-Dynamic: apical-4-chamber echocardiogram videos -> ejection fraction.

Layout (datasets.md §3; data_cards/echonet.md)::

    <root>/FileList.csv           FileName, EF, ESV, EDV, FrameHeight, FrameWidth, FPS,
                                  NumberOfFrames, Split (TRAIN / VAL / TEST)
    <root>/VolumeTracings.csv     optional: FileName (with .avi), X1, Y1, X2, Y2, Frame
    <root>/Videos/<FileName>.avi  112x112 MJPG, RGB-encoded grey

An item is one clip of ``length`` frames taken 1 in every ``period`` (32 and 2: the AdaCon paper
§IV-B, the EchoNet recipe), shape ``(3, 32, H, W)``; random start and a random crop of the
12-pixel zero-padded frame at ``train``, the first frame otherwise; ``clips="all"`` stacks every
start for test-time averaging. :func:`video_mean_std` gives the per-channel statistics of the
training videos that the recipe normalises with.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd
import torch

from .base import RegressionDataset, Transform
from .checks import LABEL_RANGES, check_label_range, one_row_per_id
from .errors import DatasetContentError, DatasetLayoutError
from .imageio import as_size
from .paths import resolve_entries, table_row
from .tables import parse_label_numbers
from .videoio import random_pad_crop, read_avi, resize_video, sample_clips

if TYPE_CHECKING:
    from typing_extensions import Unpack

SPLIT_VALUES = {"train": "TRAIN", "val": "VAL", "test": "TEST"}
TRACING_COLUMNS = ["FileName", "X1", "Y1", "X2", "Y2", "Frame"]


def _as_channel_stats(value: float | Sequence[float] | None, default: float) -> list[float]:
    if value is None:
        return [default] * 3
    values = [float(value)] * 3 if isinstance(value, Real) else [float(v) for v in list(value)]  # type: ignore[arg-type]
    if len(values) != 3:
        raise ValueError(f"mean/std must be a scalar or 3 values (RGB), got {value!r}")
    return values


class ClipOptions(TypedDict, total=False):
    """How a video loader cuts and normalises its clips, as keyword arguments of
    :class:`EchoNetDynamic` and :class:`~supremix.data.camus.CAMUS` (documented on
    :class:`EchoNetDynamic`; the defaults are those of :meth:`EchoVideoDataset._init_video`)."""

    length: int
    period: int
    clips: int | str
    pad: int | None
    augment: bool | None
    mean: float | Sequence[float] | None
    std: float | Sequence[float] | None
    size: int | Sequence[int] | None


class EchoVideoDataset(RegressionDataset):
    """Shared video machinery of EchoNet-Dynamic and CAMUS (same clips, same normalisation).

    Subclasses implement :meth:`raw_video` (float ``(3, F, H, W)`` on the 0-255 scale at the
    loader's resolution). :meth:`load` normalises it with ``mean``/``std``; :meth:`prepare`
    takes the clip(s).
    """

    modality = "video"

    def _init_video(
        self,
        *,
        length: int = 32,
        period: int = 2,
        clips: int | str = 1,
        pad: int | None = 12,
        augment: bool | None = None,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        size: int | Sequence[int] | None = None,
    ) -> None:
        """Check and keep the :class:`ClipOptions` (defaults: the EchoNet recipe, 32 frames
        one in 2, 12-pixel padding, the file's resolution)."""
        if length < 1 or period < 1:
            raise ValueError(f"length and period must be >= 1, got {length} and {period}")
        if clips != "all" and (not isinstance(clips, int) or clips < 1):
            raise ValueError(f"clips must be a positive int or 'all', got {clips!r}")
        self.length, self.period, self.clips = length, period, clips
        self.pad = pad
        self.augment = self.split == "train" if augment is None else augment
        self.size = None if size is None else as_size(size, self.name, "size")
        self.mean = _as_channel_stats(mean, 0.0)
        self.std = _as_channel_stats(std, 1.0)
        if min(self.std) <= 0:
            raise ValueError(f"std must be positive, got {self.std}")
        self.options = {"size": self.size, "mean": self.mean, "std": self.std}

    def raw_video(self, index: int) -> torch.Tensor:
        """Float ``(3, F, H, W)`` on the 0-255 scale, resized to ``size``."""
        raise NotImplementedError

    def load(self, index: int) -> torch.Tensor:
        """The whole video, normalised: ``(video - mean) / std`` per channel."""
        video = self.raw_video(index)
        mean = torch.tensor(self.mean).view(3, 1, 1, 1)
        std = torch.tensor(self.std).view(3, 1, 1, 1)
        return (video - mean) / std

    def prepare(self, x: torch.Tensor, index: int) -> torch.Tensor:
        """The clip(s) of the item; random start and pad-and-crop when ``augment``."""
        clip = sample_clips(
            x, length=self.length, period=self.period, clips=self.clips, random=self.augment
        )
        if self.augment and self.pad:
            clip = random_pad_crop(clip, self.pad)
        return clip

    def _resized(self, video: torch.Tensor) -> torch.Tensor:
        return video if self.size is None else resize_video(video, self.size)


class EchoNetDynamic(EchoVideoDataset):
    """EchoNet-Dynamic (Ouyang et al., Nature 2020) with its official ``Split`` column.

    Args:
        root: folder holding ``FileList.csv`` and ``Videos/``.
        split: ``train``, ``val`` or ``test`` (rows whose ``Split`` is TRAIN/VAL/TEST; the
            column is matched case-insensitively, see data_cards/echonet.md).
        target: label column of ``FileList.csv`` (``EF``; ``EDV``/``ESV`` also work).
        length, period: clip of ``length`` frames, one every ``period`` (the AdaCon paper: 32, 2).
        clips: 1 (one clip per item, ``(3, length, H, W)``), an int ``k`` (``(k, 3, ...)``)
            or ``"all"`` (every start; test-time averaging).
        pad: zero padding before the random crop when augmenting (EchoNet: 12); ``None``/0 off.
        augment: random start and pad-and-crop; default ``split == "train"``.
        mean, std: per-channel (RGB) statistics on the 0-255 scale, e.g. from
            :func:`video_mean_std` on the training split; default 0 and 1 (no normalisation).
        size: resize frames to ``size`` (int or ``(H, W)``); default keep the file's 112x112.
        transform: applied to the prepared clip.
        seed: accepted for the common loader signature; the split is official, so unused.
    """

    name = "echonet"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        target: str = "EF",
        transform: Transform | None = None,
        seed: int = 0,
        **clip: Unpack[ClipOptions],
    ):
        self.root = Path(root)
        self.seed = seed
        self.video_dir = self.root / "Videos"
        table = self._read_file_list(target)
        wanted = SPLIT_VALUES.get(split, split)
        rows = table[table["Split"] == wanted]
        names = [p.name for p in self._video_paths(rows)]
        if not self.video_dir.is_dir():
            raise DatasetLayoutError(
                self.name, f"no Videos folder in {self.root}", "<root>/Videos/<FileName>.avi"
            )
        missing = [n for n in names if not (self.video_dir / n).is_file()]
        if missing:
            raise DatasetLayoutError(
                self.name,
                f"{len(missing)} videos listed in FileList.csv are missing from "
                f"{self.video_dir}: {', '.join(missing[:5])}",
                "one <FileName>.avi per FileList.csv row",
            )
        self.frame_counts = self._frame_counts(rows)
        self.files = names
        super().__init__(
            [Path(n).stem for n in names],
            rows[target].to_numpy(dtype=np.float64),
            split=split,
            transform=transform,
        )
        self.target = target
        self._init_video(**clip)
        self.tracings = self._read_tracings()

    @staticmethod
    def _avi_name(file_name: str) -> str:
        return file_name if file_name.lower().endswith(".avi") else f"{file_name}.avi"

    def _video_paths(self, rows: pd.DataFrame) -> list[Path]:
        """``Videos/<FileName>.avi`` of ``rows``; a name leaving ``Videos/`` raises."""
        names = [self._avi_name(n) for n in rows["FileName"]]
        source = self.root / "FileList.csv"
        lines = [table_row(int(i)) for i in rows.index]
        paths = resolve_entries(
            self.video_dir, names, dataset=self.name, listed_in=source, rows=lines
        )
        nested = [
            f"row {r}: {n!r}"
            for r, n, p in zip(lines, names, paths, strict=True)
            if p.parent != self.video_dir
        ]
        if nested:
            raise DatasetContentError(
                self.name,
                f"FileName of {source} names a subfolder ({', '.join(nested[:5])}); "
                "expected a file name directly in Videos/",
            )
        return paths

    def _frame_counts(self, rows: pd.DataFrame) -> list[int | None]:
        """``NumberOfFrames`` of ``rows`` when the column exists (checked against the video)."""
        if "NumberOfFrames" not in rows:
            return [None] * len(rows)
        counts = parse_label_numbers(
            rows["NumberOfFrames"].astype(str),
            dataset=self.name,
            source=self.root / "FileList.csv",
            column="NumberOfFrames",
            ids=rows["FileName"].tolist(),
        )
        return [int(c) for c in counts]

    def _read_file_list(self, target: str) -> pd.DataFrame:
        """``FileList.csv`` with ``FileName`` as the video stem, one row per video, a numeric
        ``target`` within its documented range (data_cards/echonet.md)."""
        path = self.root / "FileList.csv"
        if not path.is_file():
            raise DatasetLayoutError(self.name, f"{path} not found", "<root>/FileList.csv")
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise DatasetContentError(
                self.name, f"cannot parse {path} ({error}); expected a CSV table"
            ) from error
        missing = [c for c in ("FileName", target, "Split") if c not in table.columns]
        if missing:
            raise DatasetLayoutError(
                self.name,
                f"{path} lacks column(s) {', '.join(missing)}",
                f"columns FileName, {target} and Split (TRAIN/VAL/TEST)",
            )
        table["Split"] = table["Split"].astype(str).str.strip().str.upper()
        unknown = sorted(set(table["Split"]) - set(SPLIT_VALUES.values()))
        if unknown:
            raise DatasetContentError(
                self.name, f"{path}: unknown Split value(s) {unknown}; expected TRAIN, VAL, TEST"
            )
        table["FileName"] = [
            n[:-4] if n.lower().endswith(".avi") else n for n in table["FileName"].str.strip()
        ]
        table = one_row_per_id(table, "FileName", [target, "Split"], dataset=self.name, source=path)
        values = parse_label_numbers(
            table[target],
            dataset=self.name,
            source=path,
            column=target,
            ids=table["FileName"].tolist(),
        )
        if f"echonet/{target}" in LABEL_RANGES:
            check_label_range(
                self.name, f"echonet/{target}", values, table["FileName"].tolist(), path
            )
        table[target] = values
        return table

    def _read_tracings(self) -> dict[str, dict[int, np.ndarray]]:
        """``VolumeTracings.csv`` as ``{video id: {frame: rows (X1, Y1, X2, Y2)}}``.

        Frames keep their order of first appearance in the file, as in EchoNet's ``Echo``,
        which takes the last as the large (ED) and the first as the small (ES) trace. Only
        the videos of this split are kept; absent file -> ``{}``.
        """
        path = self.root / "VolumeTracings.csv"
        if not path.is_file():
            return {}
        try:
            table = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise DatasetContentError(
                self.name, f"cannot parse {path} ({error}); expected a CSV table"
            ) from error
        if list(table.columns) != TRACING_COLUMNS:
            raise DatasetLayoutError(
                self.name,
                f"{path} has columns {list(table.columns)}",
                "the header FileName,X1,Y1,X2,Y2,Frame",
            )
        table["FileName"] = table["FileName"].astype(str).map(lambda n: Path(n).stem)
        table = table[table["FileName"].isin(set(self.ids))]
        numbers = table[TRACING_COLUMNS[1:]].apply(pd.to_numeric, errors="coerce")
        bad = numbers.index[~np.isfinite(numbers.to_numpy(dtype=np.float64)).all(axis=1)]
        if len(bad):
            rows = ", ".join(str(table_row(int(i))) for i in bad[:10])
            raise DatasetContentError(
                self.name,
                f"{path}: rows {rows} hold a coordinate or frame that is not a finite number; "
                "expected numbers in X1, Y1, X2, Y2 and Frame",
            )
        table[TRACING_COLUMNS[1:]] = numbers
        tracings: dict[str, dict[int, np.ndarray]] = {}
        for (video, frame), rows in table.groupby(["FileName", "Frame"], sort=False):
            coords = rows[["X1", "Y1", "X2", "Y2"]].to_numpy(dtype=np.float64)
            tracings.setdefault(str(video), {})[int(frame)] = coords
        return tracings

    def traced_frames(self, index: int) -> tuple[int, int] | None:
        """``(ED, ES)`` traced frame numbers of item ``index`` (EchoNet: last, first)."""
        frames = list(self.tracings.get(self.ids[index], {}))
        return (frames[-1], frames[0]) if len(frames) >= 2 else None

    def source_file(self, index: int) -> Path:
        return self.video_dir / self.files[index]

    def raw_video(self, index: int) -> torch.Tensor:
        path = self.source_file(index)
        try:
            video = read_avi(path)
        except ValueError as error:
            raise DatasetContentError(
                self.name, f"unreadable video {path}: {error}; expected an AVI OpenCV decodes"
            ) from error
        expected = self.frame_counts[index]
        if expected is not None and video.shape[1] < expected:
            raise DatasetContentError(
                self.name,
                f"{path} holds {video.shape[1]} frames but NumberOfFrames in FileList.csv says "
                f"{expected}; the file is truncated (download it again)",
            )
        return self._resized(torch.from_numpy(video).float())


def video_mean_std(
    dataset: EchoVideoDataset, samples: int | None = 128, seed: int = 0
) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of raw (0-255) videos, as ``echonet.utils.get_mean_and_std``.

    Pools every pixel of every frame of ``samples`` videos drawn without replacement (all when
    ``None`` or when the dataset is smaller), typically from the training split.
    """
    n = len(dataset)
    if n == 0:
        raise ValueError("cannot compute video statistics of an empty dataset")
    rng = np.random.default_rng(seed)
    chosen = range(n) if samples is None or samples >= n else rng.choice(n, samples, False)
    total = np.zeros(3)
    squares = np.zeros(3)
    count = 0
    for index in chosen:
        video = dataset.raw_video(int(index)).double().flatten(1)
        total += video.sum(dim=1).numpy()
        squares += (video**2).sum(dim=1).numpy()
        count += video.shape[1]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return mean.tolist(), std.tolist()


def clip_options(dataset: EchoVideoDataset) -> ClipOptions:
    """The clip settings of ``dataset``, to build another loader with the same pipeline.

    The AdaCon paper's §IV-B.7 evaluates an EchoNet-trained model on CAMUS "with the same parameters
    and data processing pipeline": pass ``**clip_options(echonet_train)`` to :class:`CAMUS`.
    When ``dataset`` keeps the file resolution, ``size`` is read from its first video.
    """
    size = dataset.size
    if size is None and len(dataset):
        height, width = dataset.raw_video(0).shape[-2:]
        size = (int(height), int(width))
    return {
        "length": dataset.length,
        "period": dataset.period,
        "mean": dataset.mean,
        "std": dataset.std,
        "size": size,
    }
