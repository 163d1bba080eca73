"""Two augmented views per sample, the input of the contrastive losses.

The losses take one flat batch of ``2B`` views in which rows ``i`` and ``i + B`` are the two
views of sample ``i`` and share its label (the book's page "The SupReMix loss, specified",
notation; SimCLR/SupCon as used by the SupReMix paper's §5 and Mixup Your Own Pairs' §4).

Two ways to get there:

* on the device, per batch (fast): load single-view batches, then call
  :func:`two_view_batch` (tensor) or :func:`two_view_collate_on_device` (batch dict) with a
  batched augmentation from :mod:`supremix.data.augment`;
* per item, in DataLoader workers: wrap the dataset in :class:`TwoViewDataset` and collate
  with :func:`two_view_collate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from .base import Item, RegressionDataset

BatchAugmentation = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]


def two_view_batch(
    batch_x: torch.Tensor,
    augment: BatchAugmentation | None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``(2B, ...)``: rows ``i`` and ``i + B`` are two independent augmentations of ``batch_x[i]``.

    ``augment`` draws per-sample parameters, so augmenting the stacked ``[x; x]`` in one call
    gives two independent views. With ``augment=None`` (time series, tabular data: no
    augmentation, the SupReMix paper's §5) both views are the input itself.
    """
    stacked = torch.cat([batch_x, batch_x], dim=0)
    return stacked if augment is None else augment(stacked, generator)


def _repeat_twice(values: Any) -> Any:
    if isinstance(values, torch.Tensor):
        return torch.cat([values, values], dim=0)
    return list(values) + list(values)


def two_view_collate_on_device(
    batch: dict[str, Any],
    augment: BatchAugmentation | None,
    generator: torch.Generator | None = None,
) -> dict[str, Any]:
    """A collated single-view batch dict as a two-view batch of ``2B`` rows.

    ``x`` becomes :func:`two_view_batch` of ``batch["x"]``; every other field (``y``, ``id``,
    ``group``) is repeated so that row ``i + B`` carries the fields of row ``i``. Move the
    batch to the device first so that the augmentation runs there.
    """
    if "x" not in batch:
        raise KeyError(f"batch has no 'x' field; fields: {', '.join(batch)}")
    out = {key: _repeat_twice(value) for key, value in batch.items() if key != "x"}
    out["x"] = two_view_batch(batch["x"], augment, generator)
    return out


class TwoViewDataset(Dataset):
    """Items of ``base`` whose ``x`` holds two independently augmented views, shape ``(2, ...)``.

    The item is decoded once (:meth:`RegressionDataset.load` and ``prepare``; for a video the
    same clip) and ``augment`` is applied twice. ``augment`` takes one item ``(C, ...)`` and a
    generator; the batched augmentations of :mod:`supremix.data.augment` accept that too.
    ``base.transform`` is not used. Collate with :func:`two_view_collate`. Leave ``generator``
    ``None`` with DataLoader workers: each worker would get a copy of one generator and draw
    the same parameters, whereas torch seeds each worker's global generator differently.
    """

    def __init__(
        self,
        base: RegressionDataset,
        augment: BatchAugmentation | None,
        generator: torch.Generator | None = None,
    ):
        self.base = base
        self.augment = augment
        self.generator = generator

    def __len__(self) -> int:
        return len(self.base)

    @property
    def targets(self) -> np.ndarray:
        return self.base.targets

    @property
    def ids(self) -> list[str]:
        return self.base.ids

    @property
    def groups(self) -> np.ndarray | None:
        return self.base.groups

    def __getitem__(self, index: int) -> Item:
        x = self.base.prepare(self.base.load(index), index)
        views = [x if self.augment is None else self.augment(x, self.generator) for _ in "12"]
        item: Item = {"x": torch.stack(views), "y": float(self.targets[index])}
        item["id"] = self.ids[index]
        if self.groups is not None:
            item["group"] = int(self.groups[index])
        return item


def two_view_collate(items: Sequence[Item]) -> dict[str, Any]:
    """Collate :class:`TwoViewDataset` items into a flat ``2B`` batch (rows ``i``, ``i + B``)."""
    batch = default_collate(list(items))
    views = batch.pop("x")
    if views.ndim < 2 or views.shape[1] != 2:
        raise ValueError(f"expected items with x of shape (2, ...), got {tuple(views.shape[1:])}")
    out = {key: _repeat_twice(value) for key, value in batch.items()}
    out["x"] = torch.cat([views[:, 0], views[:, 1]], dim=0)
    return out
