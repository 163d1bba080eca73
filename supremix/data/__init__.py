"""Datasets of the papers in their official on-disk layouts, phantoms, and data utilities.

>>> from supremix.data import get_dataset
>>> ds = get_dataset("airfoil", "/path/to/dir/with/airfoil_self_noise.dat", split="train")

Importing the package loads torch and numpy only: the loaders (and Pillow, OpenCV, nibabel,
pandas with them) are imported when first used, through :func:`get_dataset` or, for the video
helpers :func:`video_mean_std` and :func:`clip_options`, on first access.
"""

from __future__ import annotations

from typing import Any

from ..extras import import_part
from .augment import default_augmentation
from .base import MODALITIES, SPLITS, RegressionDataset
from .cache import CachedDataset
from .errors import DatasetContentError, DatasetContentWarning, DatasetLayoutError
from .label_ops import discretize, permute_labels, remove_label_ranges, subsample
from .registry import LOADERS, dataset_class, get_dataset
from .splits import seeded_split
from .stats import EmpiricalCDF, shot_regions
from .views import two_view_batch, two_view_collate_on_device

# public names whose modules import heavy libraries: name -> module under supremix.data
_LAZY = {"video_mean_std": "echonet", "clip_options": "echonet"}

__all__ = [
    "LOADERS",
    "MODALITIES",
    "SPLITS",
    "CachedDataset",
    "DatasetContentError",
    "DatasetContentWarning",
    "DatasetLayoutError",
    "EmpiricalCDF",
    "RegressionDataset",
    "clip_options",
    "dataset_class",
    "default_augmentation",
    "discretize",
    "get_dataset",
    "permute_labels",
    "remove_label_ranges",
    "seeded_split",
    "shot_regions",
    "subsample",
    "two_view_batch",
    "two_view_collate_on_device",
    "video_mean_std",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_part(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
