"""dataset_length: the length of a map-style dataset, a clear error for a dataset without one."""

import pytest
import torch
from torch.utils.data import Dataset, IterableDataset, TensorDataset

from supremix.train.data import dataset_length


class _Stream(IterableDataset):
    def __iter__(self):
        return iter(range(3))


class _NoLength(Dataset):
    def __getitem__(self, index: int) -> int:
        return index


def test_the_length_of_a_map_style_dataset():
    assert dataset_length(TensorDataset(torch.zeros(7, 2))) == 7


@pytest.mark.parametrize("dataset", [_Stream(), _NoLength()])
def test_a_dataset_without_length_is_named(dataset):
    name = type(dataset).__name__
    with pytest.raises(TypeError, match=f"{name} has no length; expected a map-style dataset"):
        dataset_length(dataset)
