"""Dataset variants for the papers' data experiments, as wrappers that keep the dataset contract.

* :func:`subsample`: a smaller training set (the SupReMix paper, §5.5, Fig. 9: "varying the training
  set
  sizes").
* :func:`remove_label_ranges` and :func:`in_label_ranges`: training sets without the samples
  whose label lies in given ranges, "missing targets" (the SupReMix paper, App. D.1, Table 14: UK
  Biobank without ages 45-50, 60-65 and 75-80; validation and test sets unchanged).
* :class:`LabelPermutation` and :func:`permute_labels`: group-wise label permutation, the
  ordinality experiment (the SupReMix paper, §5.1.1, Fig. 3: "randomly reassigns a new value to each
  bone age group"; Mixup Your Own Pairs' §1, Fig. 2: samples with identical labels keep identical
  labels, different labels stay different).
* :func:`discretize_labels` and :func:`discretize`: labels rounded to a bin size (the SupReMix paper
  App. D.4, Table 17: bin sizes 1 to 20 on Echo-Net).

Every wrapper is a :class:`SubsetDataset`: a :class:`~supremix.data.base.RegressionDataset`
with its own ``ids``, ``targets`` and ``groups`` that decodes through the wrapped dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import overload

import numpy as np
import torch

from .base import RegressionDataset, Transform

LabelRange = tuple[float, float]


class SubsetDataset(RegressionDataset):
    """Items ``indices`` of ``base``, optionally with replaced labels ``targets``.

    Decoding (:meth:`load`, :meth:`prepare`, :meth:`source_file`) goes to ``base`` at the
    original index; ``ids`` and ``groups`` are those of the chosen items; ``base_indices`` maps
    each item back to ``base``. The transform is ``base.transform`` unless one is given.
    """

    def __init__(
        self,
        base: RegressionDataset,
        indices: Sequence[int] | np.ndarray,
        *,
        targets: Sequence[float] | np.ndarray | None = None,
        transform: Transform | None = None,
    ):
        index = np.asarray(indices, dtype=np.int64).reshape(-1)
        if index.size and (index.min() < 0 or index.max() >= len(base)):
            raise IndexError(f"indices must lie in [0, {len(base)}) for a dataset of that size")
        self.name = base.name
        self.modality = base.modality
        labels = base.targets[index] if targets is None else np.asarray(targets, np.float64)
        if labels.shape != index.shape:
            raise ValueError(f"{index.size} indices but {labels.size} replacement targets")
        super().__init__(
            [base.ids[i] for i in index],
            labels,
            split=base.split,
            groups=None if base.groups is None else base.groups[index],
            transform=base.transform if transform is None else transform,
        )
        self.base = base
        self.base_indices = index
        self.options = dict(base.options)

    def load(self, index: int) -> torch.Tensor:
        return self.base.load(int(self.base_indices[index]))

    def prepare(self, x: torch.Tensor, index: int) -> torch.Tensor:
        return self.base.prepare(x, int(self.base_indices[index]))

    def source_file(self, index: int) -> Path | None:
        return self.base.source_file(int(self.base_indices[index]))


def subsample(dataset: RegressionDataset, size: int, *, seed: int = 0) -> SubsetDataset:
    """``size`` items drawn uniformly without replacement (the SupReMix paper, §5.5, Fig. 9).

    The draw is the first ``size`` items of one seeded permutation, so for a fixed seed the
    smaller training sets are nested in the larger ones. Items keep their original order.
    """
    if not 0 <= size <= len(dataset):
        raise ValueError(f"size must be in [0, {len(dataset)}] for this dataset, got {size}")
    chosen = np.random.default_rng(seed).permutation(len(dataset))[:size]
    return SubsetDataset(dataset, np.sort(chosen))


def _check_ranges(ranges: Sequence[LabelRange]) -> list[LabelRange]:
    checked = []
    for label_range in ranges:
        if len(label_range) != 2:
            raise ValueError(f"each range must be a (low, high) pair, got {label_range!r}")
        low, high = float(label_range[0]), float(label_range[1])
        if not low <= high:
            raise ValueError(f"range ({low}, {high}) has low > high")
        checked.append((low, high))
    return checked


def in_label_ranges(
    targets: np.ndarray | Sequence[float], ranges: Sequence[LabelRange]
) -> np.ndarray:
    """Mask of the labels with ``low <= y <= high`` for some ``(low, high)`` in ``ranges``.

    On the test set this selects the "MT" (missing targets) samples of the SupReMix paper's Table
    14.
    """
    y = np.asarray(targets, dtype=np.float64)
    mask = np.zeros(y.shape, dtype=bool)
    for low, high in _check_ranges(ranges):
        mask |= (y >= low) & (y <= high)
    return mask


def remove_label_ranges(dataset: RegressionDataset, ranges: Sequence[LabelRange]) -> SubsetDataset:
    """The dataset without the items whose label lies in a closed range (the SupReMix paper, App.
    D.1).

    ``remove_label_ranges(train, [(45, 50), (60, 65), (75, 80)])`` is the Table 14 setting.
    """
    keep = ~in_label_ranges(dataset.targets, ranges)
    return SubsetDataset(dataset, np.flatnonzero(keep))


class LabelPermutation:
    """A seeded bijection of a set of label values onto itself (the SupReMix paper, §5.1.1).

    The distinct values of ``labels`` are shuffled: every item labelled ``v`` gets the same new
    label ``mapping[v]``, and distinct labels stay distinct. Build it from the labels of all
    splits (or of a bin grid) so that the train, val and test sets share one mapping.
    """

    def __init__(self, labels: np.ndarray | Sequence[float], *, seed: int = 0):
        values = np.unique(np.asarray(labels, dtype=np.float64))
        if values.size == 0:
            raise ValueError("a label permutation needs at least one label")
        self.values = values
        self.permuted = values[np.random.default_rng(seed).permutation(values.size)]

    def __call__(self, targets: np.ndarray | Sequence[float]) -> np.ndarray:
        y = np.asarray(targets, dtype=np.float64)
        position = np.clip(np.searchsorted(self.values, y), 0, self.values.size - 1)
        unknown = self.values[position] != y
        if unknown.any():
            shown = ", ".join(f"{v:g}" for v in np.unique(y[unknown])[:5])
            raise ValueError(
                f"labels {shown} are not among the {self.values.size} values this permutation "
                "was built from; build it from the labels of every split"
            )
        return self.permuted[position]


def permute_labels(
    dataset: RegressionDataset, permutation: LabelPermutation | None = None, *, seed: int = 0
) -> SubsetDataset:
    """The dataset with labels mapped through a group-wise permutation (the SupReMix paper, §5.1.1).

    Without ``permutation`` one is built from this dataset's labels with ``seed``.
    """
    if permutation is None:
        permutation = LabelPermutation(dataset.targets, seed=seed)
    return SubsetDataset(dataset, np.arange(len(dataset)), targets=permutation(dataset.targets))


@overload
def discretize_labels(
    targets: torch.Tensor, bin_size: float, origin: float = 0.0
) -> torch.Tensor: ...
@overload
def discretize_labels(
    targets: np.ndarray | Sequence[float], bin_size: float, origin: float = 0.0
) -> np.ndarray: ...
def discretize_labels(
    targets: np.ndarray | torch.Tensor | Sequence[float], bin_size: float, origin: float = 0.0
) -> np.ndarray | torch.Tensor:
    """Each label replaced by the nearest point of the grid ``origin + k * bin_size``.

    The SupReMix paper's App. D.4, Table 17: contrastive learning on labels discretised with bin
    sizes 1, 5, 10 and 20. Ties (a label exactly between two grid points) round half to even. A
    tensor in gives a tensor out (same device and dtype), so the training step can call it.
    """
    if not bin_size > 0:
        raise ValueError(f"bin_size must be > 0, got {bin_size}")
    if isinstance(targets, torch.Tensor):
        return torch.round((targets - origin) / bin_size) * bin_size + origin
    y = np.asarray(targets, dtype=np.float64)
    return np.round((y - origin) / bin_size) * bin_size + origin


def discretize(dataset: RegressionDataset, bin_size: float, origin: float = 0.0) -> SubsetDataset:
    """The dataset with labels discretised by :func:`discretize_labels`."""
    return SubsetDataset(
        dataset,
        np.arange(len(dataset)),
        targets=np.asarray(discretize_labels(dataset.targets, bin_size, origin)),
    )
