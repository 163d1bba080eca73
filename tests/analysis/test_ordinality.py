"""Ordinality score (the SupReMix paper, §5.1.1) against a direct implementation; properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from supremix.analysis import ordinality_score, pair_indices, permutation_sensitivity


def slow_score(features, labels):
    feature_distance, label_distance = [], []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            feature_distance.append(math.dist(features[i], features[j]))
            label_distance.append(abs(labels[i] - labels[j]))
    return float(np.corrcoef(rankdata(feature_distance), rankdata(label_distance))[0, 1])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 20), d=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_matches_the_direct_implementation(n, d, seed):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, d))
    labels = rng.integers(0, 5, n).astype(float)
    if np.ptp(labels) == 0:
        labels[0] += 1.0
    expected = slow_score(features.tolist(), labels.tolist())
    assert ordinality_score(features, labels) == pytest.approx(expected)


def test_ordered_line_scores_one_and_shuffled_scores_near_zero():
    rng = np.random.default_rng(0)
    labels = rng.uniform(0, 100, 150)
    direction = rng.normal(size=6)
    assert ordinality_score(labels[:, None] * direction, labels) == pytest.approx(1.0)
    shuffled = rng.permutation(labels)[:, None] * direction
    assert abs(ordinality_score(shuffled, labels)) < 0.15


def clusters(labels, seed):
    """One tight cluster per label value at a random place (a SupCon-like representation)."""
    rng = np.random.default_rng(seed)
    centres = {value: rng.normal(size=16) * 10 for value in np.unique(labels)}
    return np.stack([centres[v] for v in labels]) + 0.1 * rng.normal(size=(labels.size, 16))


def test_permutation_drop_is_large_for_order_and_small_for_clusters():
    rng = np.random.default_rng(1)
    genuine = rng.integers(0, 20, 200).astype(float)
    mapping = dict(zip(range(20), rng.permutation(20), strict=True))
    permuted = np.array([mapping[int(v)] for v in genuine], dtype=float)
    curve = np.stack([np.cos(genuine / 8), np.sin(genuine / 8), genuine / 10], axis=1)
    disrupted = rng.normal(size=(200, 3))
    ordered = permutation_sensitivity(curve, genuine, disrupted, permuted)
    clustered = permutation_sensitivity(
        clusters(genuine, 2), genuine, clusters(permuted, 3), permuted
    )
    assert ordered["genuine"] > 0.8 and ordered["drop"] > 0.6
    assert abs(clustered["drop"]) < 0.3
    assert ordered["drop"] == pytest.approx(ordered["genuine"] - ordered["permuted"])


def test_sampled_pairs_approximate_all_pairs():
    rng = np.random.default_rng(4)
    labels = rng.uniform(0, 10, 300)
    features = labels[:, None] + rng.normal(0, 2, size=(300, 2))
    exact = ordinality_score(features, labels)
    sampled = ordinality_score(features, labels, max_pairs=5000, seed=1)
    assert sampled == pytest.approx(exact, abs=0.03)
    pairs = pair_indices(300, max_pairs=5000, seed=1)
    assert pairs.shape == (5000, 2) and np.all(pairs[:, 0] != pairs[:, 1])
    np.testing.assert_array_equal(pairs, pair_indices(300, max_pairs=5000, seed=1))
    assert pair_indices(5).shape == (10, 2)


def test_constant_labels_give_nan():
    assert math.isnan(ordinality_score(np.random.default_rng(0).normal(size=(5, 2)), [1.0] * 5))
