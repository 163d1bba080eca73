"""Name -> loader lookup for :func:`get_dataset`.

Loaders are imported on first use, so ``import supremix`` stays fast and a missing optional
library (OpenCV, nibabel) only matters for the datasets that need it.
"""

from __future__ import annotations

from typing import Any

from ..extras import import_entry
from .base import RegressionDataset

# name -> "module:ClassName" under supremix.data
LOADERS: dict[str, str] = {
    "rsna": "rsna:RSNABoneAge",
    "rhpe": "rhpe:RHPE",
    "agedb": "agedb:AgeDBDIR",
    "imdbwiki": "agedb:IMDBWIKIDIR",
    "ukb": "ukb:UKBiobankT1",
    "hcp": "hcp:HCPAgingFMRI",
    "a4": "a4:A4AmyloidPET",
    "echonet": "echonet:EchoNetDynamic",
    "camus": "camus:CAMUS",
    "airfoil": "airfoil:Airfoil",
    "stsb": "stsb:STSBDIR",
    "csv": "generic:CSVDataset",
}


def dataset_class(name: str) -> type[RegressionDataset]:
    """The loader class registered under ``name``."""
    return import_entry(LOADERS, name, "supremix.data", f"unknown dataset {name!r}")


def get_dataset(name: str, root: Any, split: str = "train", **options: Any) -> RegressionDataset:
    """Open dataset ``name`` stored under ``root`` in its official layout.

    ``options`` go to the loader (see each loader's docstring and data card). Items are dicts
    with ``x``, ``y``, ``id`` and, where the dataset has one, ``group``.
    """
    return dataset_class(name)(root, split=split, **options)
