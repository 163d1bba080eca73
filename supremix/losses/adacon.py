"""AdaCon's adaptive-margin contrastive loss (seed 003 eqs. (4)-(6)).

SupCon in which every term of an anchor's denominator gets an additive margin
``d_ia = 2 |phi(y_i) - phi(y_a)|`` (eq. (4)), ``phi`` the empirical CDF of the TRAINING labels
(eq. (5): ``phi(y) = (1/N) #{train labels <= y}``), clamped to [0, 2]:

``L_i = -(1/|P_i|) sum_{p in P_i} log [exp(s_ip/t) / sum_{a != i} exp((s_ia + d_ia)/t)]``

with ``s`` the cosine similarity, ``1/t`` the scale ``s`` of eq. (6) and ``P_i`` the other views
of exactly equal label (their margin is 0). Seed 003 sums over anchors; as for SupCon, this
averages over anchors with ``|P_i| > 0``. AdaCon is trained multi-task with a regression loss
(``L = L_reg + gamma_con L_con``, seed 003 eq. (7)); that sum belongs to the training code.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .common import anchor_losses, attached_zero, full_precision, prepare
from .validation import check_positive

LOSS = "adacon"


def sorted_train_labels(train_labels: Tensor) -> Tensor:
    """The training labels as a sorted float64 vector, checked (1-D, non-empty, finite)."""
    train_labels = torch.as_tensor(train_labels).detach().to(torch.float64).reshape(-1)
    if train_labels.numel() == 0:
        raise ValueError(f"{LOSS}: train_labels is empty; expected the training set's labels")
    if not bool(torch.isfinite(train_labels).all()):
        raise ValueError(f"{LOSS}: train_labels contain non-finite values (NaN or inf)")
    return train_labels.sort().values


def empirical_cdf(sorted_train: Tensor, values: Tensor) -> Tensor:
    """``phi(y) = (1/N) #{train labels <= y}`` (seed 003 eq. (5)) for each of ``values``."""
    sorted_train = sorted_train.to(values.device)
    below = torch.searchsorted(sorted_train, values.to(sorted_train.dtype), right=True)
    return below.to(torch.float64) / sorted_train.numel()


def adacon_loss(
    features: Tensor,
    labels: Tensor,
    *,
    train_labels: Tensor,
    temperature: float,
    normalize: bool = True,
    gather: bool = True,
) -> Tensor:
    """AdaCon loss (module docstring) of a flat batch; ``train_labels`` define the margins."""
    temperature = check_positive(LOSS, "temperature", temperature)
    sorted_train = sorted_train_labels(train_labels)
    return _adacon(features, labels, sorted_train, temperature, normalize, gather)


def _adacon(
    features: Tensor,
    labels: Tensor,
    sorted_train: Tensor,
    temperature: float,
    normalize: bool,
    gather: bool,
) -> Tensor:
    with full_precision(features):
        batch = prepare(LOSS, features, labels, normalize=normalize, gather=gather)
        if batch.N < 2:
            return attached_zero(features)
        phi = empirical_cdf(sorted_train, batch.labels)
        anchor_phi = phi[batch.batch_rows()]
        margin = (2 * (anchor_phi[:, None] - phi[None, :]).abs()).clamp(0, 2)
        logits = (batch.anchors / temperature) @ batch.z.T
        denominator = logits + (margin / temperature).to(logits.dtype)
        per_anchor, counted = anchor_losses(logits, denominator, batch)
        return batch.mean(per_anchor, counted)


class AdaConLoss(nn.Module):
    """Module form of :func:`adacon_loss`: ``AdaConLoss(train_labels, temperature=...)``,
    ``forward(features, labels)``. The sorted training labels are a (non-persistent) buffer.
    """

    def __init__(
        self,
        train_labels: Tensor,
        *,
        temperature: float,
        normalize: bool = True,
        gather: bool = True,
    ):
        super().__init__()
        self.temperature = check_positive(LOSS, "temperature", temperature)
        self.normalize = normalize
        self.gather = gather
        self.register_buffer("train_labels", sorted_train_labels(train_labels), persistent=False)

    def forward(
        self,
        features: Tensor,
        labels: Tensor,
        groups: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``groups`` and ``generator`` are accepted (and unused) so every contrastive
        module is called alike."""
        return _adacon(
            features, labels, self.train_labels, self.temperature, self.normalize, self.gather
        )

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, train_labels={self.train_labels.numel()}"
