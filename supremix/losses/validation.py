"""Input checks shared by every loss; each error names the loss, the problem and the expectation."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def check_features(loss: str, features: Tensor) -> Tensor:
    """Return ``features`` if it is a non-empty floating ``(n, d)`` tensor, else raise."""
    if not isinstance(features, Tensor):
        raise TypeError(f"{loss}: features must be a torch.Tensor, got {type(features).__name__}")
    if features.dim() != 2:
        raise ValueError(
            f"{loss}: features must be a 2-D tensor (n, d) with the views concatenated along "
            f"dim 0, got shape {tuple(features.shape)}"
        )
    if features.shape[0] == 0:
        raise ValueError(
            f"{loss}: empty batch (features have 0 rows); expected at least one sample"
        )
    if not features.is_floating_point():
        raise ValueError(f"{loss}: features must be a floating-point tensor, got {features.dtype}")
    return features


def check_labels(loss: str, labels: Tensor, n: int) -> Tensor:
    """Return ``labels`` flattened to ``(n,)`` float64; accepts ``(n,)`` or ``(n, 1)``.

    Raises ``ValueError`` for a shape that does not match the ``n`` feature rows or for NaN/inf.
    """
    labels = torch.as_tensor(labels)
    if labels.dim() == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.dim() != 1 or labels.shape[0] != n:
        raise ValueError(
            f"{loss}: labels must have shape ({n},) to match the {n} feature rows, "
            f"got shape {tuple(labels.shape)}"
        )
    labels = labels.to(torch.float64)
    if not bool(torch.isfinite(labels).all()):
        raise ValueError(
            f"{loss}: labels contain non-finite values (NaN or inf); expected finite regression "
            "targets"
        )
    return labels


def check_groups(loss: str, groups: Tensor | None, n: int) -> Tensor | None:
    """Return ``groups`` as an int64 ``(n,)`` tensor (or ``None``), else raise ``ValueError``."""
    if groups is None:
        return None
    groups = torch.as_tensor(groups)
    if groups.dim() != 1 or groups.shape[0] != n:
        raise ValueError(
            f"{loss}: groups must have shape ({n},) to match the {n} feature rows, "
            f"got shape {tuple(groups.shape)}"
        )
    if groups.is_floating_point() or groups.is_complex():
        raise ValueError(f"{loss}: groups must be integer group ids, got dtype {groups.dtype}")
    return groups.to(torch.int64)


def check_positive(loss: str, name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite and > 0, else raise ``ValueError``."""
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{loss}: {name} must be a positive finite number, got {value}")
    return value


def check_choice(loss: str, name: str, value: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError`` naming them."""
    if value not in allowed:
        raise ValueError(f"{loss}: {name} must be one of {', '.join(allowed)}, got {value!r}")
    return value
