"""The contract every dataset of :func:`supremix.data.get_dataset` honours.

An item is a dict ``{"x": Tensor, "y": float, "id": str}`` plus ``"group": int`` where the
dataset has a grouping variable (sex: 0 female, 1 male). The dataset exposes ``targets`` (1-D
float64 array in item order), ``ids`` (the dataset's own identifiers as strings), ``groups``
(int array or ``None``), ``modality`` and ``split``.

An item is produced in three steps, so that decoding can be cached and randomness cannot be:

1. :meth:`RegressionDataset.load` decodes the source file(s) of an item into a float tensor at
   the loader's resolution. Deterministic: the same index gives the same tensor. This is
   what :mod:`supremix.data.cache` stores.
2. :meth:`RegressionDataset.prepare` does the dataset's own per-item sampling (an EchoNet clip
   of 32 frames, random at ``train``, fixed otherwise). Identity by default.
3. ``transform``: augmentation supplied by the caller.

``options`` holds every loader setting that changes what :meth:`load` returns (resolution,
crop, orientation); together with ``name``, ``split`` and :meth:`source_file` it keys caches.

What a loader refuses (book: "What bad input gets"; each data card: "What is refused, what is
warned"): at construction, a repeated id whose rows disagree and labels outside the documented
range (:mod:`~supremix.data.checks`), paths in a label file that leave the root
(:mod:`~supremix.data.paths`), label cells that are not numbers; in :meth:`load`, a file the
decoder cannot read and NaN or infinite values. Every refusal is a :class:`DatasetLayoutError`
or :class:`DatasetContentError` on one line naming the file, rows or folder, and no file is
written, moved or deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import DatasetContentError, DatasetLayoutError, list_some

Item = dict[str, Any]
Transform = Callable[[torch.Tensor], torch.Tensor]

MODALITIES = ("image2d", "volume3d", "video", "timeseries", "tabular", "text")
SPLITS = ("train", "val", "test")


def check_choice(name: str, what: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else a ``ValueError`` naming dataset
    ``name``, the option ``what`` and the choices."""
    if value not in choices:
        raise ValueError(
            f"{name}: unknown {what} {value!r}; expected one of {', '.join(map(str, choices))}"
        )
    return value


def check_split(name: str, split: str) -> str:
    """Return ``split`` if it is one of :data:`SPLITS`, else raise a clear ``ValueError``."""
    return check_choice(name, "split", split, SPLITS)


def check_root(name: str, root: str | Path) -> Path:
    """``root`` as a path, or a :class:`DatasetLayoutError` when it is not a folder."""
    path = Path(root)
    if not path.is_dir():
        raise DatasetLayoutError(name, f"{path} is not a folder", "the dataset root")
    return path


def check_finite_targets(name: str, targets: np.ndarray, ids: Sequence[str]) -> np.ndarray:
    """Return ``targets`` as float64, or raise naming the ids whose label is not finite."""
    targets = np.asarray(targets, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(targets))
    if bad.size:
        raise DatasetContentError(
            name, f"non-finite labels for ids {list_some([ids[int(i)] for i in bad])}"
        )
    return targets


class RegressionDataset(Dataset):
    """Base class: holds ids, targets and groups; subclasses implement :meth:`load`.

    Subclasses set ``name`` and ``modality`` and call ``super().__init__`` with the item
    table; :meth:`load` returns the input tensor of item ``index`` before ``transform``.
    """

    name: str = "dataset"
    modality: str = "tabular"

    def __init__(
        self,
        ids: Sequence[str],
        targets: Sequence[float] | np.ndarray,
        *,
        split: str,
        groups: Sequence[int] | np.ndarray | None = None,
        transform: Transform | None = None,
    ):
        self.split = check_split(self.name, split)
        self.ids = [str(i) for i in ids]
        self.targets = check_finite_targets(self.name, np.asarray(targets), self.ids)
        if len(self.ids) != len(self.targets):
            raise ValueError(f"{self.name}: {len(self.ids)} ids but {len(self.targets)} targets")
        self.groups = None if groups is None else np.asarray(groups, dtype=np.int64)
        if self.groups is not None and len(self.groups) != len(self.ids):
            raise ValueError(f"{self.name}: {len(self.ids)} ids but {len(self.groups)} groups")
        self.transform = transform
        self.options: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, index: int) -> torch.Tensor:
        """The input of item ``index`` as a float tensor, before ``transform``."""
        raise NotImplementedError

    def source_file(self, index: int) -> Path | None:
        """The file item ``index`` is decoded from (``None`` for in-memory tables)."""
        return None

    def prepare(self, x: torch.Tensor, index: int) -> torch.Tensor:
        """Per-item sampling after :meth:`load` (e.g. a video clip); identity by default."""
        return x

    def __getitem__(self, index: int) -> Item:
        x = self.prepare(self.load(index), index)
        if self.transform is not None:
            x = self.transform(x)
        item: Item = {"x": x, "y": float(self.targets[index]), "id": self.ids[index]}
        if self.groups is not None:
            item["group"] = int(self.groups[index])
        return item

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(split={self.split!r}, n={len(self)}, "
            f"modality={self.modality!r}, label range=[{self.targets.min():.4g}, "
            f"{self.targets.max():.4g}])"
            if len(self)
            else f"{type(self).__name__}(split={self.split!r}, n=0)"
        )
