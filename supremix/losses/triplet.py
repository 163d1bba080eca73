"""Adaptive-margin triplet loss for regression (the AdaCon paper, §III-B and App. B; Zheng et al.
2021).

The adaptive triplet loss puts a margin that grows with the label difference into the triplet
loss ``[||z_a - z_p||^2 - ||z_a - z_n||^2 + m]_+`` of an anchor ``a``, a positive ``p`` closer
to it in label and a negative ``n`` farther away (the AdaCon paper, §III-B: "larger margins on
sample pairs with larger differences in values"; its App. B derives the form
``||z_i - z_p||^2 - ||z_i - z_n||^2 + 2 d_in`` with AdaCon's margin ``d`` of eq. (4)). The AdaCon
paper does not state the margin of its comparison runs; this loss measures label distances as AdaCon
does, on the empirical CDF ``phi`` of the TRAINING labels (eq. (5)), so that margins lie in ``[0,
margin_scale]`` whatever the label's unit:

``D_ab = |phi(y_a) - phi(y_b)|``, ``m_apn = margin_scale * (D_an - D_ap)``

Triplets are every ``(a, p, n)`` of the batch with ``p != a`` and ``D_ap < D_an`` ("batch
all": their number grows with the cube of the batch, the AdaCon paper's §III-B); a view of equal
label is a positive (``D_ap = 0``) of every farther row. With the default ``margin_scale = 4`` such
a positive gets App. B's margin ``2 d_an = 4 |phi(y_a) - phi(y_n)|``, in ``[0, 4]`` like the squared
distance of two unit vectors. Distances are squared Euclidean between L2-normalised features (the
AdaCon paper's framework; ``normalize=False`` keeps the raw features, as Zheng et al. do). ``L_a``
is the mean over anchor ``a``'s triplets, ``L`` the mean of ``L_a`` over anchors with at least one
(0, attached to the graph, when none has one).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .adacon import empirical_cdf
from .common import (
    TrainLabelsModule,
    attached_zero,
    full_precision,
    make_options,
    prepare,
    sorted_train_labels,
)
from .validation import check_positive

LOSS = "triplet"

#: App. B of the AdaCon paper: an equal-label positive gets margin 2 d_an = 4 |phi(y_a) - phi(y_n)|.
DEFAULT_MARGIN_SCALE = 4.0


@dataclass(frozen=True)
class TripletOptions:
    """Settings of the adaptive triplet loss: ``margin_scale`` (App. B of the AdaCon paper: 4),
    ``normalize`` and ``gather`` as for SupCon. The training labels are data, not settings."""

    margin_scale: float = DEFAULT_MARGIN_SCALE
    normalize: bool = True
    gather: bool = True

    def __post_init__(self) -> None:
        check_positive(LOSS, "margin_scale", self.margin_scale)


def adaptive_triplet_loss(
    features: Tensor,
    labels: Tensor,
    *,
    train_labels: Tensor,
    options: TripletOptions | None = None,
    **settings: object,
) -> Tensor:
    """Adaptive triplet loss (module docstring) of ``features`` ``(n, d)`` (views concatenated
    along dim 0) with ``labels`` ``(n,)``; ``train_labels`` define ``phi``. Under
    ``torch.distributed`` anchors form triplets with the batch of all ranks unless
    ``gather=False``."""
    opts: TripletOptions = make_options(LOSS, TripletOptions, options, settings)
    sorted_train = sorted_train_labels(LOSS, train_labels)
    return _triplet(features, labels, sorted_train=sorted_train, options=opts)


def _triplet(
    features: Tensor, labels: Tensor, *, sorted_train: Tensor, options: TripletOptions
) -> Tensor:
    margin_scale = options.margin_scale
    with full_precision(features):
        batch = prepare(LOSS, features, labels, normalize=options.normalize, gather=options.gather)
        if batch.N < 3:
            return attached_zero(features)
        phi = empirical_cdf(sorted_train, batch.labels)
        gap = (phi[batch.batch_rows()][:, None] - phi[None, :]).abs()
        distance = (batch.anchors[:, None, :] - batch.z[None, :, :]).pow(2).sum(dim=-1)
        # (anchor, positive, negative): p is nearer the anchor's label than n, and p != a
        valid = (gap[:, :, None] < gap[:, None, :]) & ~batch.self_mask()[:, :, None]
        margin = (margin_scale * (gap[:, None, :] - gap[:, :, None])).to(distance.dtype)
        hinge = torch.relu(distance[:, :, None] - distance[:, None, :] + margin)
        count = valid.sum(dim=(1, 2))
        per_anchor = torch.where(valid, hinge, 0.0).sum(dim=(1, 2)) / count.clamp_min(1)
        return batch.mean(per_anchor, count > 0)


class AdaptiveTripletLoss(TrainLabelsModule[TripletOptions]):
    """Module form of :func:`adaptive_triplet_loss`: ``AdaptiveTripletLoss(train_labels,
    margin_scale=4.0)``, ``forward(features, labels, groups=None, generator=None)``. The
    sorted training labels are a (non-persistent) buffer."""

    loss_name, options_type = LOSS, TripletOptions
    loss_function = staticmethod(_triplet)
