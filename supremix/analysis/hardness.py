"""Logit hardness of contrastive pairs during training (the SupReMix paper, §5.1.2, Fig. 4).

The SupReMix paper tracks, over training epochs on RSNA, "the average of logit values (i.e. the
inner product of two embeddings with norm of 1)" for "all positive pairs and the top 1k most
challenging negative pairs". Positive pairs are two distinct batch items with the same label (two
augmented views of one image included); negative pairs have different labels; the most challenging
negatives are those with the largest logits. SupCon's positive logits saturate near 1 early,
SupReMix's keep rising: its pairs stay hard.

Each unordered pair counts once. Embeddings are L2-normalised here (idempotent for the output
of a :class:`~supremix.models.ProjectionHead`). ``temperature`` divides the inner products as
in the loss; the default 1 gives the plain inner products that Fig. 4 plots. Labels within
``label_tolerance`` of each other count as equal (0: exact equality).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F


def _as_tensor(values: Any, name: str) -> torch.Tensor:
    tensor = torch.as_tensor(values).detach()
    if not torch.is_floating_point(tensor):
        tensor = tensor.double()
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains non-finite values")
    return tensor


def pair_logits(
    embeddings: Any,
    labels: Any,
    *,
    temperature: float = 1.0,
    label_tolerance: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``<z_i, z_j> / temperature`` of positive and of negative pairs ``i < j``.

    ``embeddings`` ``(B, d)`` are L2-normalised first. Returns two 1-D tensors.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    z = _as_tensor(embeddings, "embeddings")
    y = _as_tensor(labels, "labels").to(z.device).reshape(-1)
    if z.dim() != 2 or z.shape[0] != y.shape[0]:
        raise ValueError(
            f"embeddings must be (B, d) with one label per row, got embeddings "
            f"{tuple(z.shape)} and {y.shape[0]} labels"
        )
    z = F.normalize(z, dim=1)
    logits = z @ z.T / temperature
    rows, cols = torch.triu_indices(z.shape[0], z.shape[0], offset=1, device=z.device)
    pair = logits[rows, cols]
    same = (y[rows] - y[cols]).abs() <= label_tolerance
    return pair[same], pair[~same]


@dataclass(frozen=True)
class HardnessStats:
    """Mean positive logit, mean logit of the hardest negatives, and how many pairs each."""

    positive_mean: float
    hard_negative_mean: float
    n_positive: int
    n_hard_negative: int


def logit_hardness(
    embeddings: Any,
    labels: Any,
    *,
    n_hard_negatives: int = 1000,
    temperature: float = 1.0,
    label_tolerance: float = 0.0,
) -> HardnessStats:
    """Mean logit of all positive pairs and of the ``n_hard_negatives`` largest negative ones.

    A mean is NaN when the batch has no pair of that kind; fewer negatives than
    ``n_hard_negatives`` are all used.
    """
    if n_hard_negatives < 1:
        raise ValueError(f"n_hard_negatives must be >= 1, got {n_hard_negatives!r}")
    with torch.no_grad():
        positive, negative = pair_logits(
            embeddings, labels, temperature=temperature, label_tolerance=label_tolerance
        )
        hard = torch.topk(negative, min(n_hard_negatives, negative.numel())).values
    return HardnessStats(
        positive_mean=float(positive.mean()) if positive.numel() else math.nan,
        hard_negative_mean=float(hard.mean()) if hard.numel() else math.nan,
        n_positive=int(positive.numel()),
        n_hard_negative=int(hard.numel()),
    )


class LogitHardnessTracker:
    """Accumulates :func:`logit_hardness` over the batches of an epoch (the SupReMix paper, Fig. 4).

    Call :meth:`update` on every batch and :meth:`end_epoch` after the last; ``history`` holds
    one value per epoch for ``"positive"`` (mean over all positive pairs of the epoch) and
    ``"hard_negative"`` (mean over the hardest negatives taken from every batch).
    """

    def __init__(
        self,
        *,
        n_hard_negatives: int = 1000,
        temperature: float = 1.0,
        label_tolerance: float = 0.0,
    ):
        self.n_hard_negatives = n_hard_negatives
        self.temperature = temperature
        self.label_tolerance = label_tolerance
        self.history: dict[str, list[float]] = {"positive": [], "hard_negative": []}
        self._reset()

    def _reset(self) -> None:
        self._sums = {"positive": 0.0, "hard_negative": 0.0}
        self._counts = {"positive": 0, "hard_negative": 0}

    def update(self, embeddings: Any, labels: Any) -> HardnessStats:
        """Add one batch; returns its own statistics."""
        stats = logit_hardness(
            embeddings,
            labels,
            n_hard_negatives=self.n_hard_negatives,
            temperature=self.temperature,
            label_tolerance=self.label_tolerance,
        )
        for key, mean, count in (
            ("positive", stats.positive_mean, stats.n_positive),
            ("hard_negative", stats.hard_negative_mean, stats.n_hard_negative),
        ):
            if count:
                self._sums[key] += mean * count
                self._counts[key] += count
        return stats

    def end_epoch(self) -> dict[str, float]:
        """Close the epoch: append its means to ``history`` (NaN if no pair) and return them."""
        epoch = {
            key: self._sums[key] / self._counts[key] if self._counts[key] else math.nan
            for key in self.history
        }
        for key, value in epoch.items():
            self.history[key].append(value)
        self._reset()
        return epoch
