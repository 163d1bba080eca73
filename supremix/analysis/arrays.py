"""Input checks shared by the analyses: features ``(n, d)`` and labels ``(n,)`` as numpy."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..metrics import as_1d


def as_features(features: Any, name: str = "features") -> np.ndarray:
    """``features`` (array or tensor) as a finite float64 array of shape ``(n, d)``."""
    if hasattr(features, "detach"):
        features = features.detach().cpu().numpy()
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains {int(np.sum(~np.isfinite(array)))} non-finite values")
    return array


def features_and_labels(
    features: Any, labels: Any, *, min_samples: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``(n, d)`` features and ``(n,)`` labels with at least ``min_samples`` rows."""
    x, y = as_features(features), as_1d(labels, "labels")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"features have {x.shape[0]} rows but labels have {y.shape[0]} values")
    if x.shape[0] < min_samples:
        raise ValueError(f"need at least {min_samples} samples, got {x.shape[0]}")
    return x, y


def map_and_labels(coords: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``(n, 2)`` map coordinates (of :func:`~supremix.analysis.embed_2d`) and the
    ``(n,)`` labels of their points."""
    xy = as_features(coords, "coords")
    if xy.shape[1] != 2:
        raise ValueError(f"coords must have shape (n, 2), got {xy.shape}; see embed_2d")
    y = as_1d(labels, "labels")
    if y.shape[0] != xy.shape[0]:
        raise ValueError(f"coords have {xy.shape[0]} rows but labels have {y.shape[0]} values")
    return xy, y
