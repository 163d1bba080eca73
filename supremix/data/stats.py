"""Statistics of the training labels that the experiments and losses need.

* label range (the SupReMix paper, Table 12, Mixup Your Own Pairs' Table 12);
* the empirical CDF of the training labels, ``phi(y) = (1/N) sum_j 1[y_j <= y]`` (the AdaCon paper
  eq. (5)), which AdaCon's adaptive margin ``d = 2 |phi(y_i) - phi(y_q)|`` uses (the AdaCon paper
  eq. (4));
* label bins and shot regions: many-shot bins have more than 100 training samples, few-shot
  bins fewer than 20, medium-shot the rest (the SupReMix paper, Table 16, Mixup Your Own Pairs'
  Table 7, following the DIR benchmark of Yang et al. 2021). A bin that has no training sample is
  few-shot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SHOT_REGIONS = ("many", "medium", "few")


def _labels(values: np.ndarray | torch.Tensor | list[float], what: str) -> np.ndarray:
    """``values`` as a finite 1-D float64 array, or a ``ValueError`` naming ``what``."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} must be finite; found NaN or infinity")
    return array


def label_range(targets: np.ndarray | torch.Tensor | list[float]) -> tuple[float, float]:
    """``(min, max)`` of the labels (the SupReMix paper / Mixup Your Own Pairs' Table 12, "Target
    range")."""
    y = _labels(targets, "targets")
    if y.size == 0:
        raise ValueError("targets is empty; a label range needs at least one label")
    return float(y.min()), float(y.max())


class EmpiricalCDF:
    """Empirical CDF of the training labels, ``phi(y) = #{j : y_j <= y} / N`` (the AdaCon paper, eq.
    5).

    Calling it on a NumPy array returns float64 values; on a tensor it returns a tensor of the
    same dtype (floating) on the same device, so a loss can call it inside a training step.
    """

    def __init__(self, train_targets: np.ndarray | torch.Tensor | list[float]):
        y = _labels(train_targets, "train_targets")
        if y.size == 0:
            raise ValueError("train_targets is empty; the empirical CDF needs at least one label")
        self.sorted_targets = np.sort(y)
        self._tensors: dict[tuple[torch.device, torch.dtype], torch.Tensor] = {}

    def __len__(self) -> int:
        return self.sorted_targets.size

    def _sorted_as(self, y: torch.Tensor) -> torch.Tensor:
        dtype = torch.float64 if y.dtype == torch.float64 else torch.float32
        key = (y.device, dtype)
        if key not in self._tensors:
            self._tensors[key] = torch.as_tensor(self.sorted_targets, dtype=dtype, device=y.device)
        return self._tensors[key]

    def __call__(self, y: np.ndarray | torch.Tensor | float) -> np.ndarray | torch.Tensor:
        if isinstance(y, torch.Tensor):
            reference = self._sorted_as(y)
            counts = torch.searchsorted(reference, y.to(reference.dtype).contiguous(), right=True)
            out_dtype = y.dtype if y.is_floating_point() else torch.float32
            return (counts.to(torch.float64) / len(self)).to(out_dtype)
        ranks = np.searchsorted(self.sorted_targets, np.asarray(y, dtype=np.float64), "right")
        return ranks / len(self)


def label_bins(
    targets: np.ndarray | torch.Tensor | list[float], bin_size: float = 1.0, origin: float = 0.0
) -> np.ndarray:
    """Bin index ``floor((y - origin) / bin_size)`` of each label (int64).

    The papers bin labels by a dataset-specific size (Mixup Your Own Pairs, Table 12, "Bin size": 1
    for ages and airfoil, 0.1 for STS-B).
    """
    if not bin_size > 0:
        raise ValueError(f"bin_size must be > 0, got {bin_size}")
    y = _labels(targets, "targets")
    return np.floor((y - origin) / bin_size).astype(np.int64)


@dataclass(frozen=True)
class ShotRegions:
    """Training-sample counts per label bin and the shot region they put each label in.

    ``many``: a bin with more than ``many_threshold`` training samples; ``few``: fewer than
    ``few_threshold``; ``medium`` otherwise (the SupReMix paper, Table 16 caption: >100 and <20).
    """

    bin_size: float
    origin: float
    counts: dict[int, int]
    many_threshold: float = 100
    few_threshold: float = 20

    def bin_count(self, targets: np.ndarray | torch.Tensor | list[float]) -> np.ndarray:
        """Number of training samples in the bin of each label (0 for unseen bins)."""
        bins = label_bins(targets, self.bin_size, self.origin)
        return np.array([self.counts.get(int(b), 0) for b in bins], dtype=np.int64)

    def region(self, targets: np.ndarray | torch.Tensor | list[float]) -> np.ndarray:
        """``"many"``, ``"medium"`` or ``"few"`` for each label (e.g. of the test set)."""
        count = self.bin_count(targets)
        region = np.full(count.shape, "medium", dtype=object)
        region[count > self.many_threshold] = "many"
        region[count < self.few_threshold] = "few"
        return region.astype(str)

    def masks(self, targets: np.ndarray | torch.Tensor | list[float]) -> dict[str, np.ndarray]:
        """Boolean mask of each shot region over ``targets``, keyed as :data:`SHOT_REGIONS`."""
        region = self.region(targets)
        return {name: region == name for name in SHOT_REGIONS}


def shot_regions(
    train_targets: np.ndarray | torch.Tensor | list[float],
    bin_size: float = 1.0,
    origin: float = 0.0,
    many_threshold: float = 100,
    few_threshold: float = 20,
) -> ShotRegions:
    """Count training labels per bin of ``bin_size`` and return the shot-region rule."""
    if few_threshold > many_threshold:
        raise ValueError(
            f"few_threshold ({few_threshold}) must not exceed many_threshold ({many_threshold})"
        )
    bins, counts = np.unique(label_bins(train_targets, bin_size, origin), return_counts=True)
    return ShotRegions(
        bin_size=float(bin_size),
        origin=float(origin),
        counts={int(b): int(c) for b, c in zip(bins, counts, strict=True)},
        many_threshold=many_threshold,
        few_threshold=few_threshold,
    )
