"""A run from a dataset name: open (or synthesise) the data, then :func:`~.engine.train`.

Without a data root, datasets with a phantom (:data:`supremix.data.phantoms.PHANTOMS`) are
written once into the cache (``$SUPREMIX_CACHE/phantoms``, else
``~/.cache/supremix/phantoms``) and reused; UCI airfoil is located by its loader
(``$SUPREMIX_DATA`` or the cache). ``results.json`` records whether the data were real or a
phantom.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from supremix.data import DatasetContentError, get_dataset
from supremix.data.base import RegressionDataset
from supremix.data.cache import CachedDataset, default_cache_dir
from supremix.data.label_ops import SubsetDataset
from supremix.data.phantoms import GENERATION, PHANTOMS, write_phantom

from .config import TrainConfig
from .device_check import check_device
from .engine import train
from .run_folder import check_run_folder
from .run_result import RunResult

NO_PHANTOM_REAL_DATA = ("airfoil",)


def phantom_dir(
    name: str, *, n: int | None, seed: int, cache_dir: str | Path | None = None
) -> Path:
    """Where the phantom of ``name`` with ``n`` items and ``seed`` is cached."""
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    size = "default" if n is None else f"n{n}"
    return base / "phantoms" / f"{name}-{size}-seed{seed}-g{GENERATION}"


def ensure_phantom(
    name: str, *, n: int | None, seed: int, cache_dir: str | Path | None = None
) -> Path:
    """The cached phantom of ``name``, written first if absent.

    It is written into a temporary folder beside its final place and renamed into place, so
    concurrent processes (e.g. under ``torchrun``) and interrupted writes never leave a
    partial phantom under the final name.
    """
    if name not in PHANTOMS:
        raise ValueError(f"no phantom for {name!r}; expected one of {', '.join(sorted(PHANTOMS))}")
    target = phantom_dir(name, n=n, seed=seed, cache_dir=cache_dir)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_phantom(name, temp, n=n, seed=seed)
        try:
            os.rename(temp, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(temp)
    return target


#: Caption of numbers reported on an official validation split (test labels withheld).
REPORTED_VALIDATION = (
    "the official validation split (the test labels are withheld); each run's checkpoint was "
    "selected on a held-out part of the training split, never on the reported split"
)
#: Seed of the selection split held out of the training split (the same for every run).
SELECTION_SEED = 0


def hold_out_selection(train: RegressionDataset, size: int) -> tuple[SubsetDataset, SubsetDataset]:
    """``(train minus selection, selection)``: ``size`` items of ``train`` (at most a fifth of
    it, at least one), drawn with :data:`SELECTION_SEED`, to select checkpoints on when the
    official validation split is the one reported."""
    n = len(train)
    size = max(1, min(size, n // 5))
    order = np.random.default_rng(SELECTION_SEED).permutation(n)
    keep, held = np.sort(order[size:]), np.sort(order[:size])
    return SubsetDataset(train, keep), SubsetDataset(train, held)


def open_splits(
    config: TrainConfig,
    data_root: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
) -> tuple[dict[str, RegressionDataset | None], dict[str, Any]]:
    """``({"train", "val", "test"} -> dataset, data_info)`` for ``config.dataset``.

    ``data_root=None`` uses a phantom (or, for airfoil, the loader's own search); ``data_info``
    holds ``name``, ``kind`` ("real" or "phantom") and ``root``. Where the test labels are
    withheld (RHPE: scored on the organisers' server; ``data_info["test_unavailable"]`` says
    why), the official validation split becomes the reported split ``"test"`` and a seeded
    selection split, as large as it and drawn from the training split
    (:func:`hold_out_selection`), becomes ``"val"``: checkpoints are then never selected on
    the split that is reported. ``data_info["reported_split"]`` says so, for captions. With
    ``config.cache_items`` each split is served from a decoded-item cache under ``cache_dir``.
    """
    name = config.dataset
    if name is None:
        raise ValueError("config.dataset is not set; choose a dataset (e.g. --dataset rsna)")
    if data_root is not None:
        root: Path | None = Path(data_root)
        kind = "real"
    elif name in PHANTOMS:
        root = ensure_phantom(
            name, n=config.phantom_n, seed=config.phantom_seed, cache_dir=cache_dir
        )
        kind = "phantom"
    elif name in NO_PHANTOM_REAL_DATA:
        root, kind = None, "real"
    else:
        raise ValueError(
            f"dataset {name!r} has no phantom; pass its data root in the official layout"
        )
    splits: dict[str, RegressionDataset | None] = {
        split: get_dataset(name, root, split, **config.dataset_options)
        for split in ("train", "val")
    }
    test_missing = None
    try:
        splits["test"] = get_dataset(name, root, "test", **config.dataset_options)
    except DatasetContentError as error:  # e.g. RHPE: test labels withheld by the organisers
        splits["test"], test_missing = None, str(error)
    train_split, val_split = splits["train"], splits["val"]
    if splits["test"] is None and train_split is not None and val_split is not None:
        train, selection = hold_out_selection(train_split, len(val_split))
        splits = {"train": train, "val": selection, "test": splits["val"]}
    if config.cache_items:
        splits = {s: None if d is None else CachedDataset(d, cache_dir) for s, d in splits.items()}
    if root is None:
        root = getattr(splits["train"], "path", None)
    info: dict[str, Any] = {"name": name, "kind": kind, "root": None if root is None else str(root)}
    if test_missing is not None:
        info["test_unavailable"] = test_missing
        info["reported_split"] = REPORTED_VALIDATION
    if kind == "phantom":
        info.update(phantom_n=config.phantom_n, phantom_seed=config.phantom_seed)
    return splits, info


def run_experiment(
    config: TrainConfig,
    *,
    out_dir: str | Path,
    data_root: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    cache_dir: str | Path | None = None,
    **train_kwargs: Any,
) -> RunResult:
    """Open ``config.dataset`` (see :func:`open_splits`) and :func:`~.engine.train` on it.

    The device and ``out_dir`` (with ``resume``/``overwrite``, see :mod:`~.run_folder`) are
    checked before the data are opened.
    """
    check_device(config.device)
    check_run_folder(out_dir, resume=resume, overwrite=overwrite)
    splits, info = open_splits(config, data_root, cache_dir=cache_dir)
    train_set = splits["train"]
    if train_set is None:
        raise ValueError(f"{config.dataset}: the dataset has no training split to train on")
    return train(
        config,
        train_set=train_set,
        val_set=splits["val"],
        test_set=splits["test"],
        out_dir=out_dir,
        resume=resume,
        overwrite=overwrite,
        data_info=info,
        **train_kwargs,
    )
