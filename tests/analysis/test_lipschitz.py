"""NLFD (the SupReMix paper, §5.3) against a direct implementation; properties; bootstrap Z-gap."""

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.analysis import (
    bootstrap_nlfd_gap,
    lipschitz_factors,
    nearest_neighbors,
    nlfd_z_gap,
    standardize_features,
)


def slow_factors(features, targets, ids=None):
    """The SupReMix paper's §5.3 written out with loops: standardise, nearest neighbour, ratio times
    √d."""
    n, d = len(features), len(features[0])
    ids = list(range(n)) if ids is None else list(ids)
    columns = []
    for k in range(d):
        column = [row[k] for row in features]
        mean, std = statistics.fmean(column), statistics.pstdev(column)
        columns.append([(v - mean) / std if std > 0 else 0.0 for v in column])
    z = [[columns[k][i] for k in range(d)] for i in range(n)]
    factors = []
    for i in range(n):
        best, best_j = math.inf, None
        for j in range(n):
            if ids[j] == ids[i]:
                continue
            distance = math.dist(z[i], z[j])
            if distance < best:
                best, best_j = distance, j
        factors.append(math.sqrt(d) * abs(targets[i] - targets[best_j]) / best)
    return np.array(factors)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 25), d=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_matches_the_direct_implementation(n, d, seed):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d)
    targets = rng.normal(size=n)
    np.testing.assert_allclose(
        lipschitz_factors(features, targets), slow_factors(features.tolist(), targets.tolist())
    )


def test_bootstrap_copies_are_not_neighbours_of_each_other():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(8, 3))
    draw = np.array([0, 0, 1, 2, 2, 2, 5, 7, 7, 3])
    features, targets = base[draw], rng.normal(size=8)[draw]
    got = lipschitz_factors(features, targets, sample_ids=draw)
    np.testing.assert_allclose(got, slow_factors(features.tolist(), targets.tolist(), draw))
    index, _ = nearest_neighbors(standardize_features(features), draw)
    assert np.all(draw[index] != draw)


def test_chunked_neighbours_equal_brute_force(monkeypatch):
    import supremix.analysis.lipschitz as module

    monkeypatch.setattr(module, "CHUNK_ROWS", 7)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4))
    index, distance = nearest_neighbors(x)
    full = np.linalg.norm(x[:, None] - x[None], axis=2) + np.diag(np.full(30, np.inf))
    np.testing.assert_array_equal(index, full.argmin(axis=1))
    np.testing.assert_allclose(distance, full.min(axis=1))


def test_invariant_to_feature_scale_and_to_replicated_coordinates():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 5)), rng.normal(size=40)
    factors = lipschitz_factors(x, y)
    np.testing.assert_allclose(lipschitz_factors(x * [1, 10, 0.1, 3, 7] + 4, y), factors)
    # √d scaling: repeating every coordinate doubles d and scales distances by √2.
    np.testing.assert_allclose(lipschitz_factors(np.hstack([x, x]), y), factors)
    np.testing.assert_allclose(lipschitz_factors(x, 3 * y), 3 * factors)


def line_and_shuffled(n=200, d=8, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.uniform(0, 100, n)
    direction = rng.normal(size=d)
    ordered = labels[:, None] * direction + 0.5 * rng.normal(size=(n, d))
    shuffled = rng.permutation(labels)[:, None] * direction + 0.5 * rng.normal(size=(n, d))
    return labels, ordered, shuffled


def test_ordered_collinear_embedding_is_tighter_than_a_shuffled_one():
    labels, ordered, shuffled = line_and_shuffled()
    tight, loose = lipschitz_factors(ordered, labels), lipschitz_factors(shuffled, labels)
    assert np.median(tight) < 0.2 * np.median(loose)
    assert nlfd_z_gap(loose, tight) > 0.5


def test_z_gap_formula():
    a, b = np.array([1.0, 2.0, 6.0]), np.array([0.5, 1.0, 1.5, 1.0])
    expected = (a.mean() - b.mean()) / math.sqrt(a.var() + b.var())
    assert nlfd_z_gap(a, b) == pytest.approx(expected)
    assert nlfd_z_gap(b, a) == pytest.approx(-expected)
    assert math.isnan(nlfd_z_gap([1.0, 1.0], [1.0]))


def test_identical_representations_are_rejected():
    with pytest.raises(ValueError, match="2 samples have a representation identical"):
        lipschitz_factors([[0.0, 1.0], [0.0, 1.0], [3.0, 1.0]], [1.0, 2.0, 3.0])


def test_bootstrap_gap_of_ordered_against_shuffled():
    labels, ordered, shuffled = line_and_shuffled(n=60)
    rng = np.random.default_rng(5)
    good_pred = labels + rng.normal(0, 5, labels.size)
    bad_pred = labels + rng.normal(0, 30, labels.size)
    result = bootstrap_nlfd_gap(
        shuffled, ordered, labels, baseline_pred=bad_pred, method_pred=good_pred, n_boot=12
    )
    assert result.z_gap.shape == (12,) and np.all(result.z_gap > 0)
    assert np.all(result.performance_gap > 0)
    expected = np.corrcoef(result.z_gap, result.performance_gap)[0, 1]
    assert result.correlation == pytest.approx(expected)
    again = bootstrap_nlfd_gap(
        shuffled, ordered, labels, baseline_pred=bad_pred, method_pred=good_pred, n_boot=12
    )
    np.testing.assert_array_equal(again.z_gap, result.z_gap)


def test_bootstrap_of_a_representation_against_itself_gives_zero_gaps():
    labels, ordered, _ = line_and_shuffled(n=30)
    result = bootstrap_nlfd_gap(ordered, ordered, labels, n_boot=5, seed=1)
    np.testing.assert_array_equal(result.z_gap, np.zeros(5))
    assert result.performance_gap is None and math.isnan(result.correlation)
    with pytest.raises(ValueError, match="give both baseline_pred and method_pred, or neither"):
        bootstrap_nlfd_gap(ordered, ordered, labels, baseline_pred=labels)
