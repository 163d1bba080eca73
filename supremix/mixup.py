"""Mixup baselines of the SupReMix paper's App. D.5-D.6 (Tables 18 and 19): input-level mixup (Zhang
et al. 2018) and C-Mixup (Yao et al. 2022).

Both mix a batch ``x`` (inputs, or a hidden representation passed in its place) and its labels
with one ``lambda ~ Beta(alpha, alpha)`` per batch: ``x_i' = lambda x_i + (1 - lambda) x_j``,
``y_i' = lambda y_i + (1 - lambda) y_j``. They differ in the partner ``j`` of ``i``:

* mixup: ``j = perm(i)`` for a uniformly random permutation of the batch;
* C-Mixup: ``j`` drawn independently for each ``i`` with
  ``P(j | i) = exp(-(y_i - y_j)^2 / (2 sigma^2)) / sum_k exp(-(y_i - y_k)^2 / (2 sigma^2))``
  over the batch, ``k = i`` included: as in the original, whose kernel density over the
  training labels includes the sample itself (pairing ``i`` with itself leaves it unchanged).
  Partners come from the batch (the original's batch variant) rather than from the whole
  training set. Airfoil defaults of the original code: ``sigma = 1.75``, ``alpha = 2``
  (C-Mixup's released code).
"""

from __future__ import annotations

import torch
from torch import Tensor

from supremix.losses import sample_beta


def _check_batch(x: Tensor, y: Tensor, alpha: float) -> None:
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (n,), got {tuple(y.shape)}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"got {x.shape[0]} inputs but {y.shape[0]} labels; expected equal")
    if y.shape[0] == 0:
        raise ValueError("cannot mix an empty batch")


def mix(x: Tensor, y: Tensor, partners: Tensor, lam: Tensor) -> tuple[Tensor, Tensor]:
    """``(lam x + (1 - lam) x[partners], lam y + (1 - lam) y[partners])``, computed in the
    dtype of each tensor."""
    mixed_x = torch.lerp(x[partners], x, lam.to(x.dtype))
    mixed_y = torch.lerp(y[partners], y, lam.to(y.dtype))
    return mixed_x, mixed_y


def _draw_lambda(alpha: float, device: torch.device, generator: torch.Generator | None) -> Tensor:
    return sample_beta((), alpha, alpha, generator=generator, device=device)


def mixup_batch(
    x: Tensor, y: Tensor, *, alpha: float, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Input-level mixup: partners from a random permutation, one lambda per batch."""
    _check_batch(x, y, alpha)
    partners = torch.randperm(y.shape[0], generator=generator, device=y.device)
    return mix(x, y, partners, _draw_lambda(alpha, y.device, generator))


def cmixup_probabilities(labels: Tensor, *, sigma: float) -> Tensor:
    """``(n, n)`` matrix of ``P(j | i)`` (module docstring), rows summing to 1 (float32)."""
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    y = labels.float().reshape(-1)
    logits = -((y[:, None] - y[None, :]) ** 2) / (2.0 * sigma**2)
    return torch.softmax(logits, dim=1)


def cmixup_partners(
    labels: Tensor, *, sigma: float, generator: torch.Generator | None = None
) -> Tensor:
    """One partner index per sample drawn from :func:`cmixup_probabilities` (may be itself)."""
    probabilities = cmixup_probabilities(labels, sigma=sigma)
    return torch.multinomial(probabilities, 1, generator=generator).reshape(-1)


def cmixup_batch(
    x: Tensor,
    y: Tensor,
    *,
    sigma: float,
    alpha: float,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """C-Mixup of ``x`` (inputs or hidden features) and labels ``y``, one lambda per batch."""
    _check_batch(x, y, alpha)
    partners = cmixup_partners(y, sigma=sigma, generator=generator)
    return mix(x, y, partners, _draw_lambda(alpha, y.device, generator))
