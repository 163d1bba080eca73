"""SupCon (Khosla et al. 2020) and SimCLR / NT-Xent (Chen et al. 2020) on a flat batch.

SupCon is SupReMix without mixtures and weights (book page "The SupReMix loss, specified"):
``L_i = -(1/|P_i|) sum_{p in P_i} log [exp(s_ip/t) / sum_{a != i} exp(s_ia/t)]`` with
``P_i`` the other views of exactly equal label, averaged over anchors with ``|P_i| > 0``.
SimCLR is the same with one positive per anchor: the other view of its own sample.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor, nn

from .common import anchor_losses, attached_zero, full_precision, prepare
from .distributed import is_distributed
from .validation import check_features, check_positive


def supcon_loss(
    features: Tensor,
    labels: Tensor,
    *,
    temperature: float,
    normalize: bool = True,
    gather: bool = True,
) -> Tensor:
    """Supervised contrastive loss; positives are other views with exactly equal label.

    ``features`` ``(n, d)`` (views concatenated), ``labels`` ``(n,)``. Features are
    L2-normalised unless ``normalize=False``; under ``torch.distributed`` anchors are
    contrasted with the batch of all ranks unless ``gather=False``.
    """
    temperature = check_positive("supcon", "temperature", temperature)
    return _supcon("supcon", features, labels, temperature, normalize, gather)


def _supcon(
    loss: str, features: Tensor, labels: Tensor, temperature: float, normalize: bool, gather: bool
) -> Tensor:
    with full_precision(features):
        batch = prepare(loss, features, labels, normalize=normalize, gather=gather)
        if batch.N < 2:
            return attached_zero(features)
        logits = (batch.anchors / temperature) @ batch.z.T
        per_anchor, counted = anchor_losses(logits, logits, batch)
        return batch.mean(per_anchor, counted)


class SupConLoss(nn.Module):
    """Module form of :func:`supcon_loss`; ``forward(features, labels, groups=None,
    generator=None)``."""

    def __init__(self, *, temperature: float, normalize: bool = True, gather: bool = True):
        super().__init__()
        self.temperature = check_positive("supcon", "temperature", temperature)
        self.normalize = normalize
        self.gather = gather

    def forward(
        self,
        features: Tensor,
        labels: Tensor,
        groups: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``groups`` and ``generator`` are accepted (and unused) so every contrastive
        module is called alike."""
        return supcon_loss(
            features,
            labels,
            temperature=self.temperature,
            normalize=self.normalize,
            gather=self.gather,
        )

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"


def simclr_loss(
    features: Tensor, *, temperature: float, normalize: bool = True, gather: bool = True
) -> Tensor:
    """NT-Xent: rows ``i`` and ``i + n/2`` are the two views of one sample, the only positives.

    Under ``torch.distributed`` the pairing is within each rank's batch and every anchor is
    contrasted with the views of all ranks.
    """
    temperature = check_positive("simclr", "temperature", temperature)
    check_features("simclr", features)
    n = features.shape[0]
    if n % 2:
        raise ValueError(
            "simclr: features must hold two views (rows i and i + n/2), so n must be even, "
            f"got n={n}"
        )
    # The sample index (offset per rank by the gather) makes the pairs the only equal labels.
    sample = torch.arange(n // 2, device=features.device).repeat(2)
    return _supcon("simclr", features, _unique_per_rank(sample), temperature, normalize, gather)


def _unique_per_rank(sample: Tensor) -> Tensor:
    """Sample ids that stay distinct across ranks once gathered (rank r adds r * 2**32)."""
    if is_distributed():
        sample = sample + dist.get_rank() * 2**32
    return sample.to(torch.float64)


class SimCLRLoss(nn.Module):
    """Module form of :func:`simclr_loss`; ``forward(features, labels=None)``.

    ``labels``, ``groups`` and ``generator`` are accepted (and ignored) so every contrastive
    module can be called alike.
    """

    def __init__(self, *, temperature: float, normalize: bool = True, gather: bool = True):
        super().__init__()
        self.temperature = check_positive("simclr", "temperature", temperature)
        self.normalize = normalize
        self.gather = gather

    def forward(
        self,
        features: Tensor,
        labels: Tensor | None = None,
        groups: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``groups`` and ``generator`` are accepted (and unused) so every contrastive
        module is called alike."""
        return simclr_loss(
            features, temperature=self.temperature, normalize=self.normalize, gather=self.gather
        )

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"
