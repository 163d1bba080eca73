"""Training-label statistics: range, empirical CDF (the AdaCon paper, eq. 5), shot regions."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from supremix.data.stats import EmpiricalCDF, label_bins, label_range, shot_regions

labels = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=60)


@given(train=labels, queries=labels)
def test_empirical_cdf_is_the_fraction_of_training_labels_at_or_below(train, queries):
    phi = EmpiricalCDF(train)
    expected = [sum(t <= q for t in train) / len(train) for q in queries]
    np.testing.assert_array_equal(phi(np.array(queries)), expected)
    as_tensor = phi(torch.tensor(queries, dtype=torch.float64))
    assert as_tensor.dtype == torch.float64
    np.testing.assert_array_equal(as_tensor.numpy(), expected)


def test_empirical_cdf_on_float32_tensors_and_its_range():
    phi = EmpiricalCDF([1.0, 2.0, 2.0, 5.0])
    out = phi(torch.tensor([0.0, 1.0, 2.0, 4.0, 5.0, 9.0]))
    assert out.dtype == torch.float32
    assert out.tolist() == [0.0, 0.25, 0.75, 0.75, 1.0, 1.0]
    with pytest.raises(ValueError, match="train_targets is empty"):
        EmpiricalCDF([])
    with pytest.raises(ValueError, match="train_targets must be finite"):
        EmpiricalCDF([1.0, math.nan])


def test_label_range():
    assert label_range(np.array([3.0, -1.5, 2.0])) == (-1.5, 3.0)
    with pytest.raises(ValueError, match="targets is empty"):
        label_range([])
    with pytest.raises(ValueError, match="targets must be 1-D"):
        label_range(np.zeros((2, 2)))


@given(
    train=st.lists(st.integers(0, 6), min_size=1, max_size=400),
    test=st.lists(st.floats(-2, 9, allow_nan=False), min_size=1, max_size=30),
    bin_size=st.sampled_from([0.5, 1.0, 2.0]),
    many=st.integers(5, 60),
    few=st.integers(0, 5),
)
def test_shot_regions_count_training_labels_per_bin(train, test, bin_size, many, few):
    rule = shot_regions(np.array(train, float), bin_size, many_threshold=many, few_threshold=few)
    regions = rule.region(test)
    for y, region in zip(test, regions, strict=True):
        count = sum(math.floor(t / bin_size) == math.floor(y / bin_size) for t in train)
        expected = "many" if count > many else "few" if count < few else "medium"
        assert region == expected
    masks = rule.masks(test)
    assert sum(m.astype(int) for m in masks.values()).tolist() == [1] * len(test)


def test_default_thresholds_are_more_than_100_and_fewer_than_20():
    train = [0.5] * 101 + [1.5] * 100 + [2.5] * 20 + [3.5] * 19
    rule = shot_regions(train)
    assert rule.region([0.1, 1.9, 2.0, 3.2, 7.0]).tolist() == [
        "many",
        "medium",
        "medium",
        "few",
        "few",
    ]
    assert rule.bin_count([0.0, 7.0]).tolist() == [101, 0]


def test_label_bins_use_floor_and_reject_bad_sizes():
    assert label_bins([103.38, 104.0, 140.987], 1.0).tolist() == [103, 104, 140]
    assert label_bins([0.05, 0.1, 4.99], 0.1).tolist() == [0, 1, 49]
    assert label_bins([5.0, 9.9, 10.0], 5.0, origin=5.0).tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="bin_size must be > 0, got 0"):
        label_bins([1.0], 0)
    with pytest.raises(ValueError, match="few_threshold \\(30\\) must not exceed"):
        shot_regions([1.0], few_threshold=30, many_threshold=10)
