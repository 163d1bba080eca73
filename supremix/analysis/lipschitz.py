"""Normalised Lipschitz Factor Distribution (NLFD) and its bootstrap Z-gap (the SupReMix paper,
§5.3, Fig. 7).

The SupReMix paper's eq. (7) defines the local Lipschitz factor of a representation φ between two
inputs as the ratio of the target distance to the representation distance,

    L(x, x') = |T(x) - T(x')| / ||φ(x) - φ(x')||,

and builds the NLFD (after Tang et al. 2024, the SupReMix paper [63]) in three steps (the paper's
list prints the nearest-neighbour step twice):

1. full-batch normalisation: every coordinate of φ gets zero mean and unit variance over the
   data set (population variance; a constant coordinate carries no information and is set
   to 0);
2. for every point, L with respect to its nearest ℓ2 neighbour in representation space;
3. all factors are multiplied by √d, d the embedding dimension. The SupReMix paper's
   extracted text reads "scale all factors by d": its square roots are lost in extraction (the
   Z-gap formula below lost its root too). √d is the scale that makes factors comparable
   across dimensions: the distance between two standardised d-dimensional points grows as √d,
   so with √d a representation whose every coordinate is repeated has exactly the factors of
   the original.

Small factors mean nearby representations have nearby targets; a left-skewed NLFD is better.
Targets are used as given: pass standardised targets to compare data sets with other units.

The Z-gap between a baseline (vanilla) NLFD and a method's (SupReMix) NLFD is

    Z = (μ_baseline - μ_method) / sqrt(σ_baseline² + σ_method²)

with μ, σ the mean and (population) standard deviation of each distribution; Z > 0 when the
method's factors are smaller. The SupReMix paper's Fig. 7 (B) draws B = 100 bootstrap resamples of
the test set, computes Z and the regression performance gap (gap in Pearson ρ) on each, and reports
their Pearson correlation: :func:`bootstrap_nlfd_gap`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..metrics import as_1d, check_pair, pearson
from .arrays import features_and_labels

CHUNK_ROWS = 1024


def standardize_features(features: np.ndarray) -> np.ndarray:
    """Zero mean and unit (population) variance per coordinate; constant coordinates become 0."""
    centred = features - features.mean(axis=0)
    std = centred.std(axis=0)
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)


def nearest_neighbors(
    features: np.ndarray, sample_ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index and Euclidean distance of each row's nearest other row.

    Rows that share a ``sample_ids`` value (copies of one sample in a bootstrap resample) are
    never each other's neighbours. Ties go to the lowest index. Computed in chunks of rows, so
    memory stays at ``CHUNK_ROWS × n``.
    """
    n = features.shape[0]
    ids = np.arange(n) if sample_ids is None else np.asarray(sample_ids)
    if ids.shape != (n,):
        raise ValueError(f"sample_ids must have shape ({n},), got {ids.shape}")
    if np.unique(ids).size < 2:
        raise ValueError("nearest neighbours need at least two distinct samples")
    squared_norms = np.einsum("ij,ij->i", features, features)
    index = np.empty(n, dtype=np.int64)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        block = features[start:stop]
        squared = (
            squared_norms[start:stop, None] + squared_norms[None, :] - 2.0 * block @ features.T
        )
        squared[ids[start:stop, None] == ids[None, :]] = np.inf
        index[start:stop] = np.argmin(squared, axis=1)
    distance = np.linalg.norm(features - features[index], axis=1)
    return index, distance


def lipschitz_factors(
    features: Any, targets: Any, *, sample_ids: np.ndarray | None = None
) -> np.ndarray:
    """The NLFD: one normalised Lipschitz factor per sample (the SupReMix paper, eq. (7), §5.3 steps
    1-3).

    ``features`` ``(n, d)`` are standardised over the ``n`` samples, each sample is paired with
    its nearest neighbour in the standardised space and the factor is
    ``√d · |y_i - y_nn(i)| / ||z_i - z_nn(i)||``. Raises if two distinct samples have the same
    representation (the factor would be infinite).
    """
    x, y = features_and_labels(features, targets)
    z = standardize_features(x)
    neighbour, distance = nearest_neighbors(z, sample_ids)
    coincident = int(np.sum(distance == 0.0))
    if coincident:
        raise ValueError(
            f"{coincident} samples have a representation identical to their nearest neighbour's "
            f"after standardisation; the Lipschitz factor is undefined there"
        )
    return math.sqrt(x.shape[1]) * np.abs(y - y[neighbour]) / distance


def nlfd_z_gap(baseline: Any, method: Any) -> float:
    """Z-gap ``(μ_baseline - μ_method) / sqrt(σ_baseline² + σ_method²)`` of two NLFDs.

    Positive when ``method``'s factors are smaller (smoother representation); NaN when both
    distributions have zero spread.
    """
    a, b = as_1d(baseline, "baseline"), as_1d(method, "method")
    if a.size == 0 or b.size == 0:
        raise ValueError("nlfd_z_gap needs two non-empty distributions")
    spread = math.sqrt(float(a.var()) + float(b.var()))
    if spread == 0.0:
        return math.nan
    return (float(a.mean()) - float(b.mean())) / spread


@dataclass(frozen=True)
class NLFDBootstrap:
    """Per-resample Z-gaps, per-resample ρ gaps (or None) and their Pearson correlation."""

    z_gap: np.ndarray
    performance_gap: np.ndarray | None
    correlation: float


def bootstrap_nlfd_gap(
    baseline_features: Any,
    method_features: Any,
    targets: Any,
    *,
    baseline_pred: Any = None,
    method_pred: Any = None,
    n_boot: int = 100,
    seed: int = 0,
) -> NLFDBootstrap:
    """The SupReMix paper's Fig. 7 (B): NLFD Z-gap and Pearson-ρ gap on ``n_boot`` bootstrap
    resamples.

    Each resample draws test samples with replacement (numpy generator seeded by ``seed``);
    both representations are evaluated on the same draw, copies of one sample are not
    neighbours of each other, and standardisation uses the resample. With predictions, the
    performance gap is ``ρ(method_pred) - ρ(baseline_pred)`` on the resample and
    ``correlation`` is the Pearson correlation of Z-gaps and performance gaps across
    resamples where both are finite (NaN without predictions).
    """
    a, y = features_and_labels(baseline_features, targets)
    b, _ = features_and_labels(method_features, targets)
    if (baseline_pred is None) != (method_pred is None):
        raise ValueError("give both baseline_pred and method_pred, or neither")
    with_pred = baseline_pred is not None
    if with_pred:
        pa, _ = check_pair(baseline_pred, y)
        pb, _ = check_pair(method_pred, y)
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot!r}")
    rng = np.random.default_rng(seed)
    n = y.size
    z_gap = np.empty(n_boot)
    performance_gap = np.empty(n_boot) if with_pred else None
    for k in range(n_boot):
        draw = rng.integers(0, n, size=n)
        z_gap[k] = nlfd_z_gap(
            lipschitz_factors(a[draw], y[draw], sample_ids=draw),
            lipschitz_factors(b[draw], y[draw], sample_ids=draw),
        )
        if performance_gap is not None:
            performance_gap[k] = pearson(pb[draw], y[draw]) - pearson(pa[draw], y[draw])
    correlation = math.nan
    if performance_gap is not None:
        finite = np.isfinite(z_gap) & np.isfinite(performance_gap)
        correlation = pearson(z_gap[finite], performance_gap[finite]) if finite.any() else math.nan
    return NLFDBootstrap(z_gap, performance_gap, correlation)
