"""The dataset contract and seeded splits."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supremix.data import DatasetContentError, get_dataset, seeded_split
from supremix.data.base import RegressionDataset


@given(
    n=st.integers(0, 300),
    val=st.floats(0.0, 0.45),
    test=st.floats(0.0, 0.45),
    seed=st.integers(0, 2**31),
)
def test_seeded_split_partitions_and_ignores_listing_order(n, val, test, seed):
    ids = [f"id{i:04d}" for i in range(n)]
    parts = seeded_split(ids, val=val, test=test, seed=seed)
    joined = np.concatenate([parts["train"], parts["val"], parts["test"]])
    assert sorted(joined.tolist()) == list(range(n))
    assert len(parts["val"]) == round(val * n) and len(parts["test"]) == round(test * n)
    shuffled = list(reversed(ids))
    again = seeded_split(shuffled, val=val, test=test, seed=seed)
    for name in parts:
        assert {ids[i] for i in parts[name]} == {shuffled[i] for i in again[name]}


def test_seeded_split_rejects_oversized_request():
    with pytest.raises(ValueError, match="cannot take 6 val \\+ 5 test items from 10"):
        seeded_split([str(i) for i in range(10)], val=6, test=5)


def test_non_finite_labels_are_reported_with_their_ids():
    with pytest.raises(DatasetContentError, match="non-finite labels for ids b, d"):
        RegressionDataset(["a", "b", "c", "d"], [1.0, np.nan, 2.0, np.inf], split="train")


def test_unknown_dataset_and_split_name_the_choices():
    with pytest.raises(ValueError, match="unknown dataset 'nope'; expected one of"):
        get_dataset("nope", "/tmp")
    with pytest.raises(ValueError, match="unknown split 'dev'; expected one of train, val, test"):
        RegressionDataset(["a"], [1.0], split="dev")
