"""Multi-class N-pair loss (Sohn 2016, eq. (3)) on a flat batch, each distinct label a class.

The AdaCon paper (§IV-A3, Tables II, V, IX and XII) compares AdaCon with the N-pair loss, "treating
each unique label as an individual class", inside its framework: L2-normalised projections, scale
``s = 1/t``. Sohn's loss for ``N`` pairs ``(f_i, f_i+)`` of ``N`` classes is
``(1/N) sum_i log(1 + sum_{j != i} exp(f_i . f_j+ - f_i . f_i+))``. On a flat batch of views
(rows ``(n, d)``, labels ``(n,)``) every anchor ``i`` is paired with each of its positives
``p in P_i`` (other views of exactly equal label) and contrasted with the rows of other labels
``Q_i``:

``l_ip = log(1 + sum_{q in Q_i} exp(s_iq - s_ip))``,  ``s_ia = z_i . z_a / t``

``L_i = mean of l_ip over p in P_i``; ``L`` = mean of ``L_i`` over anchors with ``|P_i| > 0``
(0, attached to the graph, when none has one). Unlike SupCon, the other positives of ``i`` are
not in the denominator; with exactly one positive per anchor the two losses are equal.
Differences from Sohn: every row of another label is a negative (Sohn has one per class, the
other pairs' ``f_j+``), and with ``normalize=True`` (the AdaCon paper's framework) the L2
regulariser Sohn puts on unnormalised embeddings is a constant and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .common import NEG_INF, OptionsModule, attached_zero, full_precision, make_options, prepare
from .validation import check_positive

LOSS = "npair"


@dataclass(frozen=True)
class NPairOptions:
    """Settings of the N-pair loss: temperature (``1/t`` the scale ``s``), ``normalize`` and
    ``gather`` as for SupCon."""

    temperature: float = 1.0
    normalize: bool = True
    gather: bool = True

    def __post_init__(self) -> None:
        check_positive(LOSS, "temperature", self.temperature)


def npair_loss(
    features: Tensor, labels: Tensor, *, options: NPairOptions | None = None, **settings: object
) -> Tensor:
    """N-pair loss (module docstring) of ``features`` ``(n, d)`` (views concatenated along dim
    0) with ``labels`` ``(n,)``; features are L2-normalised unless ``normalize=False``; under
    ``torch.distributed`` anchors are contrasted with the batch of all ranks unless
    ``gather=False``."""
    opts: NPairOptions = make_options(LOSS, NPairOptions, options, settings)
    return _npair(features, labels, opts.temperature, opts.normalize, opts.gather)


def _npair(
    features: Tensor, labels: Tensor, temperature: float, normalize: bool, gather: bool
) -> Tensor:
    with full_precision(features):
        batch = prepare(LOSS, features, labels, normalize=normalize, gather=gather)
        if batch.N < 2:
            return attached_zero(features)
        logits = (batch.anchors / temperature) @ batch.z.T
        negatives = ~batch.same_label()
        has_negative = negatives.any(dim=1)
        # rows without a negative get finite entries, so that logsumexp has a finite gradient
        rows = torch.where(negatives | ~has_negative[:, None], logits, NEG_INF)
        negative_lse = torch.where(has_negative, torch.logsumexp(rows, dim=1), NEG_INF)
        pair_losses = F.softplus(negative_lse[:, None] - logits)
        positives = batch.positives()
        count = positives.sum(dim=1)
        per_anchor = torch.where(positives, pair_losses, 0.0).sum(dim=1) / count.clamp_min(1)
        return batch.mean(per_anchor, count > 0)


class NPairLoss(OptionsModule[NPairOptions]):
    """Module form of :func:`npair_loss`: ``NPairLoss(temperature=...)``, ``forward(features,
    labels, groups=None, generator=None)`` (``groups`` and ``generator`` unused)."""

    loss_name, options_type = LOSS, NPairOptions
    loss_function = staticmethod(npair_loss)
