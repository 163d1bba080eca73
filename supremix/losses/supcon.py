"""SupCon (Khosla et al. 2020) and SimCLR / NT-Xent (Chen et al. 2020) on a flat batch.

SupCon is SupReMix without mixtures and weights (book page "The SupReMix loss, specified"):
``L_i = -(1/|P_i|) sum_{p in P_i} log [exp(s_ip/t) / sum_{a != i} exp(s_ia/t)]`` with
``P_i`` the other views of exactly equal label, averaged over anchors with ``|P_i| > 0``.
SimCLR is the same with one positive per anchor: the other view of its own sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

from .common import (
    OptionsModule,
    anchor_losses,
    attached_zero,
    full_precision,
    make_options,
    prepare,
)
from .distributed import is_distributed
from .validation import check_features, check_positive


@dataclass(frozen=True)
class SupConOptions:
    """Settings of SupCon: temperature ``t``; L2-normalise the features (``normalize``);
    under ``torch.distributed`` contrast with the batch of all ranks (``gather``)."""

    temperature: float
    normalize: bool = True
    gather: bool = True

    def __post_init__(self) -> None:
        check_positive("supcon", "temperature", self.temperature)


@dataclass(frozen=True)
class SimCLROptions(SupConOptions):
    """Settings of SimCLR / NT-Xent (the fields of :class:`SupConOptions`)."""

    def __post_init__(self) -> None:
        check_positive("simclr", "temperature", self.temperature)


def supcon_loss(
    features: Tensor,
    labels: Tensor,
    *,
    options: SupConOptions | None = None,
    **settings: object,
) -> Tensor:
    """Supervised contrastive loss; positives are other views with exactly equal label.

    ``features`` ``(n, d)`` (views concatenated), ``labels`` ``(n,)``; ``options`` a
    :class:`SupConOptions`, or its fields as keywords (``temperature=0.5``).
    """
    opts: SupConOptions = make_options("supcon", SupConOptions, options, settings)
    return supcon_as("supcon", features, labels, opts.temperature, opts.normalize, opts.gather)


def supcon_as(
    loss: str, features: Tensor, labels: Tensor, temperature: float, normalize: bool, gather: bool
) -> Tensor:
    """SupCon of ``features`` with ``labels``, its errors naming ``loss`` (the losses that are
    SupCon on labels of their own: SimCLR's sample ids, SimCSE's sides of the threshold)."""
    with full_precision(features):
        batch = prepare(loss, features, labels, normalize=normalize, gather=gather)
        if batch.N < 2:
            return attached_zero(features)
        logits = (batch.anchors / temperature) @ batch.z.T
        per_anchor, counted = anchor_losses(logits, logits, batch)
        return batch.mean(per_anchor, counted)


class SupConLoss(OptionsModule[SupConOptions]):
    """Module form of :func:`supcon_loss`: ``SupConLoss(options)`` or
    ``SupConLoss(temperature=...)``; ``forward(features, labels, groups=None, generator=None)``
    (``groups`` and ``generator`` unused, so every contrastive module is called alike)."""

    loss_name, options_type = "supcon", SupConOptions
    loss_function = staticmethod(supcon_loss)


def simclr_loss(
    features: Tensor, *, options: SimCLROptions | None = None, **settings: object
) -> Tensor:
    """NT-Xent: rows ``i`` and ``i + n/2`` are the two views of one sample, the only positives.

    ``options`` a :class:`SimCLROptions` or its fields as keywords. Under ``torch.distributed``
    the pairing is within each rank's batch and every anchor is contrasted with the views of
    all ranks.
    """
    opts: SimCLROptions = make_options("simclr", SimCLROptions, options, settings)
    check_features("simclr", features)
    n = features.shape[0]
    if n % 2:
        raise ValueError(
            "simclr: features must hold two views (rows i and i + n/2), so n must be even, "
            f"got n={n}"
        )
    # The sample index (offset per rank by the gather) makes the pairs the only equal labels.
    sample = torch.arange(n // 2, device=features.device).repeat(2)
    labels = _unique_per_rank(sample)
    return supcon_as("simclr", features, labels, opts.temperature, opts.normalize, opts.gather)


def _unique_per_rank(sample: Tensor) -> Tensor:
    """Sample ids that stay distinct across ranks once gathered (rank r adds r * 2**32)."""
    if is_distributed():
        sample = sample + dist.get_rank() * 2**32
    return sample.to(torch.float64)


class SimCLRLoss(OptionsModule[SimCLROptions]):
    """Module form of :func:`simclr_loss`; ``forward(features, labels=None, groups=None,
    generator=None)``: ``labels``, ``groups`` and ``generator`` are accepted (and ignored) so
    every contrastive module can be called alike."""

    loss_name, options_type = "simclr", SimCLROptions

    def forward(
        self,
        features: Tensor,
        labels: Tensor | None = None,
        groups: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        return simclr_loss(features, options=self.options)
