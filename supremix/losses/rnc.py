"""Rank-N-Contrast (Zha et al. 2023; "SupCR" in Mixup Your Own Pairs), vectorised.

Features are used as they are (the encoder output: no normalisation, no projection head),
``s_ij = -||z_i - z_j||_2``, ``d_ij = |y_i - y_j|`` and

``L = 1/(n(n-1)) sum_i sum_{j != i} -log [exp(s_ij/t) / sum_{k != i, d_ik >= d_ij} exp(s_ik/t)]``

where the set of ``k`` includes ``j`` itself and every tie. Instead of the official O(n^3) loop,
each anchor's row is sorted by label distance once; a reverse cumulative logsumexp then gives
every suffix ``{k : d_ik >= d}``, read at the first position of the tie group of ``d_ij``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .common import OptionsModule, attached_zero, full_precision, make_options, prepare
from .validation import check_positive

LOSS = "rnc"


@dataclass(frozen=True)
class RnCOptions:
    """Settings of RnC: temperature (2, its authors' default); ``gather`` as for SupCon."""

    temperature: float = 2.0
    gather: bool = True

    def __post_init__(self) -> None:
        check_positive(LOSS, "temperature", self.temperature)


def rnc_loss(
    features: Tensor, labels: Tensor, *, options: RnCOptions | None = None, **settings: object
) -> Tensor:
    """RnC loss (module docstring) of a flat batch ``features`` ``(n, d)``, ``labels`` ``(n,)``;
    ``options`` an :class:`RnCOptions` or its fields as keywords."""
    opts: RnCOptions = make_options(LOSS, RnCOptions, options, settings)
    temperature = opts.temperature
    with full_precision(features):
        batch = prepare(LOSS, features, labels, normalize=False, gather=opts.gather)
        n, N = batch.n, batch.N
        if N < 2:
            return attached_zero(features)
        distance = torch.cdist(batch.anchors, batch.z, compute_mode="donot_use_mm_for_euclid_dist")
        others = ~batch.self_mask()
        logits = (-distance / temperature)[others].view(n, N - 1)
        gap = (batch.anchor_labels[:, None] - batch.labels[None, :]).abs()[others].view(n, N - 1)
        gap, order = gap.sort(dim=1, stable=True)
        logits = logits.gather(1, order)
        suffix = torch.logcumsumexp(logits.flip(1), dim=1).flip(1)
        starts = torch.ones_like(gap, dtype=torch.bool)
        starts[:, 1:] = gap[:, 1:] != gap[:, :-1]
        position = torch.arange(N - 1, device=gap.device).expand(n, N - 1)
        tie_start = torch.where(starts, position, 0).cummax(dim=1).values
        per_anchor = (suffix.gather(1, tie_start) - logits).mean(dim=1)
        return batch.mean(per_anchor, torch.ones(n, dtype=torch.bool, device=gap.device))


class RnCLoss(OptionsModule[RnCOptions]):
    """Module form of :func:`rnc_loss`; ``forward(features, labels, groups=None,
    generator=None)`` (``groups`` and ``generator`` unused)."""

    loss_name, options_type = LOSS, RnCOptions
    loss_function = staticmethod(rnc_loss)
