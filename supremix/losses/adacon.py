"""AdaCon's adaptive-margin contrastive loss (the AdaCon paper, eqs. (4)-(6)).

SupCon in which every term of an anchor's denominator gets an additive margin
``d_ia = 2 |phi(y_i) - phi(y_a)|`` (eq. (4)), ``phi`` the empirical CDF of the TRAINING labels
(eq. (5): ``phi(y) = (1/N) #{train labels <= y}``), clamped to [0, 2]:

``L_i = -(1/|P_i|) sum_{p in P_i} log [exp(s_ip/t) / sum_{a != i} exp((s_ia + d_ia)/t)]``

with ``s`` the cosine similarity, ``1/t`` the scale ``s`` of eq. (6) and ``P_i`` the other views
of exactly equal label (their margin is 0). The AdaCon paper sums over anchors; as for SupCon, this
averages over anchors with ``|P_i| > 0``. AdaCon is trained multi-task with a regression loss
(``L = L_reg + gamma_con L_con``, the AdaCon paper's eq. (7)); that sum belongs to the training
code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .common import (
    TrainLabelsModule,
    anchor_losses,
    attached_zero,
    full_precision,
    make_options,
    prepare,
    sorted_train_labels,
)
from .validation import check_positive

LOSS = "adacon"


def empirical_cdf(sorted_train: Tensor, values: Tensor) -> Tensor:
    """``phi(y) = (1/N) #{train labels <= y}`` (the AdaCon paper, eq. (5)) for each of
    ``values``."""
    sorted_train = sorted_train.to(values.device)
    below = torch.searchsorted(sorted_train, values.to(sorted_train.dtype), right=True)
    return below.to(torch.float64) / sorted_train.numel()


@dataclass(frozen=True)
class AdaConOptions:
    """Settings of AdaCon: temperature ``t`` (``1/t`` is the scale ``s`` of the AdaCon paper's eq.
    (6));
    ``normalize`` and ``gather`` as for SupCon. The training labels are data, not settings."""

    temperature: float
    normalize: bool = True
    gather: bool = True

    def __post_init__(self) -> None:
        check_positive(LOSS, "temperature", self.temperature)


def adacon_loss(
    features: Tensor,
    labels: Tensor,
    *,
    train_labels: Tensor,
    options: AdaConOptions | None = None,
    **settings: object,
) -> Tensor:
    """AdaCon loss (module docstring) of a flat batch; ``train_labels`` define the margins;
    ``options`` an :class:`AdaConOptions` or its fields as keywords."""
    opts: AdaConOptions = make_options(LOSS, AdaConOptions, options, settings)
    sorted_train = sorted_train_labels(LOSS, train_labels)
    return _adacon(features, labels, sorted_train=sorted_train, options=opts)


def _adacon(
    features: Tensor, labels: Tensor, *, sorted_train: Tensor, options: AdaConOptions
) -> Tensor:
    with full_precision(features):
        batch = prepare(LOSS, features, labels, normalize=options.normalize, gather=options.gather)
        if batch.N < 2:
            return attached_zero(features)
        phi = empirical_cdf(sorted_train, batch.labels)
        anchor_phi = phi[batch.batch_rows()]
        margin = (2 * (anchor_phi[:, None] - phi[None, :]).abs()).clamp(0, 2)
        logits = (batch.anchors / options.temperature) @ batch.z.T
        denominator = logits + (margin / options.temperature).to(logits.dtype)
        per_anchor, counted = anchor_losses(logits, denominator, batch)
        return batch.mean(per_anchor, counted)


class AdaConLoss(TrainLabelsModule[AdaConOptions]):
    """Module form of :func:`adacon_loss`: ``AdaConLoss(train_labels, temperature=...)`` (or
    ``AdaConLoss(train_labels, options)``), ``forward(features, labels, groups=None,
    generator=None)``. The sorted training labels are a (non-persistent) buffer."""

    loss_name, options_type = LOSS, AdaConOptions
    loss_function = staticmethod(_adacon)
