"""Adaptive-margin triplet loss for regression (seed 003 §III-B and App. B; Zheng et al. 2021).

The adaptive triplet loss puts a margin that grows with the label difference into the triplet
loss ``[||z_a - z_p||^2 - ||z_a - z_n||^2 + m]_+`` of an anchor ``a``, a positive ``p`` closer
to it in label and a negative ``n`` farther away (seed 003 §III-B: "larger margins on sample
pairs with larger differences in values"; its App. B derives the form
``||z_i - z_p||^2 - ||z_i - z_n||^2 + 2 d_in`` with AdaCon's margin ``d`` of eq. (4)). Seed 003
does not state the margin of its comparison runs; this loss measures label distances as
AdaCon does, on the empirical CDF ``phi`` of the TRAINING labels (eq. (5)), so that margins
lie in ``[0, margin_scale]`` whatever the label's unit:

``D_ab = |phi(y_a) - phi(y_b)|``, ``m_apn = margin_scale * (D_an - D_ap)``

Triplets are every ``(a, p, n)`` of the batch with ``p != a`` and ``D_ap < D_an`` ("batch
all": their number grows with the cube of the batch, seed 003 §III-B); a view of equal label
is a positive (``D_ap = 0``) of every farther row. With the default ``margin_scale = 4`` such
a positive gets App. B's margin ``2 d_an = 4 |phi(y_a) - phi(y_n)|``, in ``[0, 4]`` like the
squared distance of two unit vectors. Distances are squared Euclidean between L2-normalised
features (seed 003's framework; ``normalize=False`` keeps the raw features, as Zheng et al.
do). ``L_a`` is the mean over anchor ``a``'s triplets, ``L`` the mean of ``L_a`` over anchors
with at least one (0, attached to the graph, when none has one).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .adacon import empirical_cdf
from .common import attached_zero, full_precision, prepare
from .validation import check_positive

LOSS = "triplet"

#: App. B of seed 003: an equal-label positive gets margin 2 d_an = 4 |phi(y_a) - phi(y_n)|.
DEFAULT_MARGIN_SCALE = 4.0


def checked_train_labels(train_labels: Tensor) -> Tensor:
    """The training labels as a sorted float64 vector; raises for an empty or non-finite one."""
    train_labels = torch.as_tensor(train_labels).detach().to(torch.float64).reshape(-1)
    if train_labels.numel() == 0:
        raise ValueError(f"{LOSS}: train_labels is empty; expected the training set's labels")
    if not bool(torch.isfinite(train_labels).all()):
        raise ValueError(f"{LOSS}: train_labels contain non-finite values (NaN or inf)")
    return train_labels.sort().values


def adaptive_triplet_loss(
    features: Tensor,
    labels: Tensor,
    *,
    train_labels: Tensor,
    margin_scale: float = DEFAULT_MARGIN_SCALE,
    normalize: bool = True,
    gather: bool = True,
) -> Tensor:
    """Adaptive triplet loss (module docstring) of ``features`` ``(n, d)`` (views concatenated
    along dim 0) with ``labels`` ``(n,)``; ``train_labels`` define ``phi``. Under
    ``torch.distributed`` anchors form triplets with the batch of all ranks unless
    ``gather=False``."""
    margin_scale = check_positive(LOSS, "margin_scale", margin_scale)
    sorted_train = checked_train_labels(train_labels)
    return _triplet(features, labels, sorted_train, margin_scale, normalize, gather)


def _triplet(
    features: Tensor,
    labels: Tensor,
    sorted_train: Tensor,
    margin_scale: float,
    normalize: bool,
    gather: bool,
) -> Tensor:
    with full_precision(features):
        batch = prepare(LOSS, features, labels, normalize=normalize, gather=gather)
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


class AdaptiveTripletLoss(nn.Module):
    """Module form of :func:`adaptive_triplet_loss`: ``AdaptiveTripletLoss(train_labels,
    margin_scale=4.0)``, ``forward(features, labels)``. The sorted training labels are a
    (non-persistent) buffer."""

    def __init__(
        self,
        train_labels: Tensor,
        *,
        margin_scale: float = DEFAULT_MARGIN_SCALE,
        normalize: bool = True,
        gather: bool = True,
    ):
        super().__init__()
        self.margin_scale = check_positive(LOSS, "margin_scale", margin_scale)
        self.normalize = normalize
        self.gather = gather
        self.register_buffer("train_labels", checked_train_labels(train_labels), persistent=False)

    def forward(
        self,
        features: Tensor,
        labels: Tensor,
        groups: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``groups`` and ``generator`` are accepted (and unused) so every contrastive
        module is called alike."""
        return _triplet(
            features, labels, self.train_labels, self.margin_scale, self.normalize, self.gather
        )

    def extra_repr(self) -> str:
        return f"margin_scale={self.margin_scale}, train_labels={self.train_labels.numel()}"
