"""Logit hardness (the SupReMix paper, §5.1.2, Fig. 4) against a direct implementation; the
tracker."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.analysis import LogitHardnessTracker, logit_hardness, pair_logits


def slow_pairs(embeddings, labels, temperature=1.0, tolerance=0.0):
    positives, negatives = [], []
    n = len(embeddings)
    unit = [np.asarray(e, dtype=float) / np.linalg.norm(e) for e in embeddings]
    for i in range(n):
        for j in range(i + 1, n):
            logit = float(unit[i] @ unit[j]) / temperature
            same = abs(labels[i] - labels[j]) <= tolerance
            (positives if same else negatives).append(logit)
    return positives, negatives


def slow_hardness(embeddings, labels, k, temperature=1.0, tolerance=0.0):
    positives, negatives = slow_pairs(embeddings, labels, temperature, tolerance)
    hardest = sorted(negatives, reverse=True)[:k]
    return (
        float(np.mean(positives)) if positives else math.nan,
        float(np.mean(hardest)) if hardest else math.nan,
        len(positives),
        len(hardest),
    )


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 20),
    k=st.integers(1, 30),
    temperature=st.sampled_from([0.5, 1.0, 2.0]),
    seed=st.integers(0, 10_000),
)
def test_matches_the_direct_implementation(n, k, temperature, seed):
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(n, 4))
    labels = rng.integers(0, 4, n).astype(float)
    stats = logit_hardness(embeddings, labels, n_hard_negatives=k, temperature=temperature)
    expected = slow_hardness(embeddings, labels, k, temperature)
    got = (stats.positive_mean, stats.hard_negative_mean, stats.n_positive, stats.n_hard_negative)
    np.testing.assert_allclose(got, expected)


def test_label_tolerance_groups_close_labels():
    embeddings = np.random.default_rng(0).normal(size=(6, 3))
    labels = [1.0, 1.05, 2.0, 2.02, 3.0, 5.0]
    positive, negative = pair_logits(embeddings, labels, label_tolerance=0.1)
    slow_positive, slow_negative = slow_pairs(embeddings, labels, tolerance=0.1)
    assert sorted(positive.tolist()) == pytest.approx(sorted(slow_positive))
    assert sorted(negative.tolist()) == pytest.approx(sorted(slow_negative))


def batch_with_negatives_at(angle, n_per_label=4, seed=0):
    """Two labels; each label's embeddings near its own direction, ``angle`` between them."""
    rng = np.random.default_rng(seed)
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([math.cos(angle), math.sin(angle), 0.0])
    noise = 0.05 * rng.normal(size=(2 * n_per_label, 3))
    embeddings = np.vstack([np.tile(a, (n_per_label, 1)), np.tile(b, (n_per_label, 1))]) + noise
    labels = np.repeat([0.0, 1.0], n_per_label)
    return embeddings, labels


def test_far_negatives_are_easier_than_close_ones():
    far = logit_hardness(*batch_with_negatives_at(math.pi * 0.9), n_hard_negatives=5)
    close = logit_hardness(*batch_with_negatives_at(math.pi * 0.1), n_hard_negatives=5)
    assert far.hard_negative_mean < close.hard_negative_mean
    assert far.positive_mean == pytest.approx(1.0, abs=0.02)


def test_embeddings_are_normalised_and_tensors_on_any_device_work():
    embeddings, labels = batch_with_negatives_at(1.0)
    scaled = logit_hardness(torch.tensor(embeddings * 7.0), torch.tensor(labels))
    plain = logit_hardness(embeddings, labels)
    assert scaled.positive_mean == pytest.approx(plain.positive_mean)
    assert scaled.hard_negative_mean == pytest.approx(plain.hard_negative_mean)


def test_tracker_pools_pairs_over_the_epoch():
    rng = np.random.default_rng(3)
    tracker = LogitHardnessTracker(n_hard_negatives=5, temperature=0.5)
    batches = [(rng.normal(size=(8, 4)), rng.integers(0, 3, 8).astype(float)) for _ in range(3)]
    positives, hardest = [], []
    for embeddings, labels in batches:
        tracker.update(embeddings, labels)
        pos, neg = slow_pairs(embeddings, labels, temperature=0.5)
        positives += pos
        hardest += sorted(neg, reverse=True)[:5]
    epoch = tracker.end_epoch()
    assert epoch["positive"] == pytest.approx(np.mean(positives))
    assert epoch["hard_negative"] == pytest.approx(np.mean(hardest))
    tracker.update(*batches[0])
    tracker.end_epoch()
    assert len(tracker.history["positive"]) == 2
    assert tracker.history["positive"][1] == pytest.approx(
        np.mean(slow_pairs(*batches[0], temperature=0.5)[0])
    )


def test_tracker_reports_nan_for_a_batch_without_positives():
    tracker = LogitHardnessTracker()
    tracker.update(np.eye(3), [1.0, 2.0, 3.0])
    epoch = tracker.end_epoch()
    assert math.isnan(epoch["positive"]) and epoch["hard_negative"] == pytest.approx(0.0)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="temperature must be positive"):
        pair_logits(np.eye(2), [0, 1], temperature=0)
    with pytest.raises(ValueError, match=r"embeddings must be \(B, d\) with one label per row"):
        pair_logits(np.eye(3), [0, 1])
