"""Datasets of the seeds in their official on-disk layouts, phantoms, and data utilities.

>>> from supremix.data import get_dataset
>>> ds = get_dataset("airfoil", "/path/to/dir/with/airfoil_self_noise.dat", split="train")
"""

from .base import MODALITIES, SPLITS, RegressionDataset
from .errors import DatasetContentError, DatasetLayoutError
from .registry import LOADERS, dataset_class, get_dataset
from .splits import seeded_split

__all__ = [
    "LOADERS",
    "MODALITIES",
    "SPLITS",
    "DatasetContentError",
    "DatasetLayoutError",
    "RegressionDataset",
    "dataset_class",
    "get_dataset",
    "seeded_split",
]
