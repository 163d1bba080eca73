"""How much of the label ordering a representation keeps (the SupReMix paper, §5.1.1, Mixup Your Own
Pairs' §1 Fig. 2).

The label-permutation experiment of the SupReMix paper's §5.1.1 reassigns, at random, a new value to
every label group (all X-rays of 12 months become, say, 48 months): equal labels stay equal, the
order between groups is scrambled. An ordinality-aware method (SupReMix) learns an ordered,
continuous representation from genuine labels and loses it with permuted labels; SupCon makes
clusters either way. The permutation itself is a data operation; this module scores the
representations.

Score: :func:`ordinality_score`, the Spearman rank correlation, over pairs of samples, between
the Euclidean distance of their representations and the absolute difference of their labels
(a Mantel-type statistic). We chose it over a k-NN or linear probe error because

* it asks exactly the question of §5.1.1, whether farther labels lie farther apart, and
  being rank-based it measures order rather than linearity or scale, so encoders of different
  widths and label sets of different units compare directly;
* it trains nothing, so no probe capacity or hyperparameter (k) enters the number;
* under group-wise permutation, pairs inside a label group keep distance 0 in both labelings
  and only the between-group order changes, which is what the statistic ranks.

It is 1 for points on a line in label order, near 0 for a representation unrelated to the
labels, and low for well-separated clusters placed in arbitrary order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from .arrays import features_and_labels

MAX_PAIRS = 200_000


def pair_indices(n: int, *, max_pairs: int = MAX_PAIRS, seed: int = 0) -> np.ndarray:
    """Index pairs ``(i, j)``, ``i != j``: all ``i < j`` if they are at most ``max_pairs``, else
    ``max_pairs`` pairs drawn uniformly at random (with replacement) by a generator seeded by
    ``seed``. Shape ``(m, 2)``."""
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be >= 1, got {max_pairs!r}")
    if n * (n - 1) // 2 <= max_pairs:
        rows, cols = np.triu_indices(n, k=1)
        return np.stack([rows, cols], axis=1)
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n, size=max_pairs)
    second = (first + rng.integers(1, n, size=max_pairs)) % n
    return np.stack([first, second], axis=1)


def ordinality_score(
    features: Any, labels: Any, *, max_pairs: int = MAX_PAIRS, seed: int = 0
) -> float:
    """Spearman correlation of representation distances with label distances over pairs.

    ``features`` ``(n, d)``, ``labels`` ``(n,)``; pairs from :func:`pair_indices`. NaN when all
    labels or all representations are equal.
    """
    x, y = features_and_labels(features, labels)
    pairs = pair_indices(x.shape[0], max_pairs=max_pairs, seed=seed)
    i, j = pairs[:, 0], pairs[:, 1]
    feature_distance = np.linalg.norm(x[i] - x[j], axis=1)
    label_distance = np.abs(y[i] - y[j])
    if np.ptp(feature_distance) == 0 or np.ptp(label_distance) == 0:
        return math.nan
    return float(stats.spearmanr(feature_distance, label_distance).statistic)


def permutation_sensitivity(
    genuine_features: Any,
    genuine_labels: Any,
    permuted_features: Any,
    permuted_labels: Any,
    *,
    max_pairs: int = MAX_PAIRS,
    seed: int = 0,
) -> dict[str, float]:
    """Ordinality of a model trained on genuine labels and of one trained on permuted labels.

    Each representation is scored against the labels its model was trained with. Returns
    ``{"genuine", "permuted", "drop"}``, ``drop = genuine - permuted``: large for an
    ordinality-aware method (the SupReMix paper, Fig. 3, SupReMix), small for one that only clusters
    (SupCon).
    """
    genuine = ordinality_score(genuine_features, genuine_labels, max_pairs=max_pairs, seed=seed)
    permuted = ordinality_score(permuted_features, permuted_labels, max_pairs=max_pairs, seed=seed)
    return {"genuine": genuine, "permuted": permuted, "drop": genuine - permuted}
