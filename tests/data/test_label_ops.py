"""Subsampling, missing label ranges, group-wise permutation and discretisation (the SupReMix
paper)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from supremix.data.base import RegressionDataset
from supremix.data.label_ops import (
    LabelPermutation,
    SubsetDataset,
    discretize,
    discretize_labels,
    in_label_ranges,
    permute_labels,
    remove_label_ranges,
    subsample,
)


class Toy(RegressionDataset):
    """Item i: x = [i, i], a label, a group, a fake source file; prepare adds 0.5."""

    name = "toy"
    modality = "tabular"

    def __init__(self, targets, split="train"):
        n = len(targets)
        super().__init__([f"s{i}" for i in range(n)], targets, split=split, groups=np.arange(n) % 2)
        self.options = {"size": 2}

    def load(self, index):
        return torch.tensor([float(index), float(index)])

    def prepare(self, x, index):
        return x + 0.5

    def source_file(self, index):
        return Path(f"/data/{index}.png")


def test_subset_keeps_the_dataset_contract():
    base = Toy(np.linspace(0, 9, 10), split="val")
    sub = SubsetDataset(base, [7, 2, 5])
    assert sub.ids == ["s7", "s2", "s5"]
    assert sub.targets.tolist() == [7.0, 2.0, 5.0]
    assert sub.groups.tolist() == [1, 0, 1]
    assert (sub.name, sub.split, sub.modality, sub.options) == (
        "toy",
        "val",
        "tabular",
        {"size": 2},
    )
    assert sub.source_file(0) == Path("/data/7.png")
    item = sub[0]
    assert torch.equal(item["x"], base[7]["x"])
    assert item == {"x": item["x"], "y": 7.0, "id": "s7", "group": 1}
    nested = SubsetDataset(sub, [2])
    assert nested.ids == ["s5"] and torch.equal(nested[0]["x"], base[5]["x"])
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 10\)"):
        SubsetDataset(base, [10])


def test_subset_uses_the_base_transform_unless_given_one():
    base = Toy(np.zeros(3))
    base.transform = lambda x: x * 10
    assert SubsetDataset(base, [1])[0]["x"].tolist() == [15.0, 15.0]
    assert SubsetDataset(base, [1], transform=lambda x: -x)[0]["x"].tolist() == [-1.5, -1.5]


@given(n=st.integers(1, 80), seed=st.integers(0, 1000), data=st.data())
def test_subsample_sizes_are_nested_for_one_seed(n, seed, data):
    base = Toy(np.arange(n, dtype=float))
    small_size = data.draw(st.integers(0, n))
    large_size = data.draw(st.integers(small_size, n))
    small, large = subsample(base, small_size, seed=seed), subsample(base, large_size, seed=seed)
    assert len(small) == small_size and len(large) == large_size
    assert set(small.ids) <= set(large.ids)
    assert list(large.base_indices) == sorted(large.base_indices)
    assert len(set(large.ids)) == large_size


def test_subsample_rejects_sizes_out_of_range():
    with pytest.raises(ValueError, match=r"size must be in \[0, 4\] for this dataset, got 5"):
        subsample(Toy(np.zeros(4)), 5)


@given(targets=st.lists(st.floats(40, 85), min_size=1, max_size=100))
def test_removing_label_ranges_drops_exactly_the_labels_inside(targets):
    ranges = [(45, 50), (60, 65), (75, 80)]  # the SupReMix paper's Table 14
    kept = remove_label_ranges(Toy(np.array(targets)), ranges)
    inside = [any(lo <= y <= hi for lo, hi in ranges) for y in targets]
    assert kept.targets.tolist() == [y for y, drop in zip(targets, inside, strict=True) if not drop]
    assert in_label_ranges(targets, ranges).tolist() == inside


def test_label_range_bounds_are_inclusive_and_checked():
    assert in_label_ranges([44.9, 45.0, 50.0, 50.1], [(45, 50)]).tolist() == [
        False,
        True,
        True,
        False,
    ]
    with pytest.raises(ValueError, match=r"range \(50.0, 45.0\) has low > high"):
        in_label_ranges([1.0], [(50, 45)])


@given(
    values=st.lists(st.integers(0, 30), min_size=1, max_size=200),
    seed=st.integers(0, 10_000),
)
def test_label_permutation_is_a_bijection_of_label_groups(values, seed):
    targets = np.array(values, dtype=float)
    permuted = LabelPermutation(targets, seed=seed)(targets)
    for a in range(len(values)):
        for b in range(a + 1, min(len(values), a + 20)):
            assert (targets[a] == targets[b]) == (permuted[a] == permuted[b])
    assert sorted(set(permuted)) == sorted(set(targets))


def test_one_permutation_serves_all_splits_and_rejects_unknown_labels():
    train, test = Toy(np.array([1.0, 2.0, 3.0, 2.0])), Toy(np.array([3.0, 1.0]), split="test")
    mapping = LabelPermutation(np.concatenate([train.targets, test.targets]), seed=3)
    new_train, new_test = permute_labels(train, mapping), permute_labels(test, mapping)
    lookup = dict(zip(train.targets, new_train.targets, strict=True))
    assert new_test.targets.tolist() == [lookup[3.0], lookup[1.0]]
    assert torch.equal(new_train[1]["x"], train[1]["x"]) and new_train.ids == train.ids
    many = np.arange(50, dtype=float)
    assert not np.array_equal(LabelPermutation(many, seed=0)(many), many)
    assert np.array_equal(
        LabelPermutation(many, seed=1)(many), LabelPermutation(many, seed=1)(many)
    )
    with pytest.raises(ValueError, match="labels 7 are not among the 3 values"):
        mapping([7.0])


@given(
    targets=st.lists(st.floats(-100, 100), min_size=1, max_size=50),
    bin_size=st.sampled_from([1.0, 5.0, 10.0, 20.0]),
)
def test_discretised_labels_are_the_nearest_grid_points(targets, bin_size):
    y = np.array(targets)
    out = discretize_labels(y, bin_size)
    assert np.all(np.abs(out - y) <= bin_size / 2 + 1e-9)
    np.testing.assert_allclose(out / bin_size, np.round(out / bin_size), atol=1e-9)
    as_tensor = discretize_labels(torch.tensor(y), bin_size)
    np.testing.assert_allclose(as_tensor.numpy(), out)


def test_discretize_wrapper_and_bad_bin_size():
    base = Toy(np.array([6.91, 12.5, 96.96]))
    binned = discretize(base, 5.0)
    assert binned.targets.tolist() == [5.0, 10.0, 95.0]
    assert torch.equal(binned[2]["x"], base[2]["x"])
    assert discretize_labels([7.4], 5.0, origin=2.5).tolist() == [7.5]
    with pytest.raises(ValueError, match="bin_size must be > 0, got -1"):
        discretize_labels([1.0], -1)
