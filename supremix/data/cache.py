"""A one-time preprocessing cache: every decoded item in one memory-mapped ``.npy`` file.

Decoding PNG, AVI or NIfTI files and resizing them costs far more than reading the result
back, so :class:`CachedDataset` stores ``dataset.load(i)`` for every item once and serves
items from the memory map afterwards, still through the dataset's ``prepare`` (per-item
sampling such as a video clip) and ``transform`` (augmentation): caching never freezes
randomness.

A cache is a folder ``<cache_dir>/<name>-<split>-<key>/`` holding ``data.npy`` and
``manifest.json``. The manifest records the loader class, name, split, options, item ids, each
item's source file with its size and modification time, and the array's dtype and shape. The
cache is reused only when a freshly computed manifest equals the stored one; otherwise it is
rebuilt. The build writes the array to a temporary file, renames it into place, and writes the
manifest last, also through a temporary file and a rename; the old manifest is removed before
a rebuild starts. So a manifest on disk always describes a complete ``data.npy``.

The default ``cache_dir`` is ``$SUPREMIX_CACHE``, else ``~/.cache/supremix``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .base import RegressionDataset, Transform

MANIFEST_VERSION = 1


def default_cache_dir() -> Path:
    """``$SUPREMIX_CACHE`` if set, else ``~/.cache/supremix``."""
    configured = os.environ.get("SUPREMIX_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "supremix"


def _jsonable(value: Any) -> Any:
    """``value`` with tuples, paths and NumPy scalars turned into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _source_record(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    stat = Path(path).stat()
    return {"path": str(Path(path).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def dataset_manifest(dataset: RegressionDataset) -> dict[str, Any]:
    """What identifies the decoded content of ``dataset``: everything but dtype and shape."""
    sources: dict[str, dict[str, Any] | None] = {}
    per_item = []
    for index in range(len(dataset)):
        path = dataset.source_file(index)
        key = None if path is None else str(path)
        if key is not None and key not in sources:
            sources[key] = _source_record(path)
        per_item.append(key)
    manifest = {
        "version": MANIFEST_VERSION,
        "loader": f"{type(dataset).__module__}.{type(dataset).__qualname__}",
        "name": dataset.name,
        "split": dataset.split,
        "options": _jsonable(dataset.options),
        "ids": list(dataset.ids),
        "source_files": per_item,
        "sources": sources,
    }
    return _jsonable(manifest)


def _cache_folder(cache_dir: Path, manifest: dict[str, Any]) -> Path:
    identity = {key: manifest[key] for key in ("loader", "name", "split", "options", "ids")}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir / f"{manifest['name']}-{manifest['split']}-{digest}"


def _write_atomic(path: Path, write) -> None:
    """Call ``write(temporary_path)``, then rename the temporary file onto ``path``."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _as_numpy(x: torch.Tensor, index: int) -> np.ndarray:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"cache: load({index}) returned {type(x).__name__}, expected a tensor")
    return x.detach().cpu().numpy()


def build_cache(dataset: RegressionDataset, folder: Path, manifest: dict[str, Any]) -> None:
    """Decode every item of ``dataset`` into ``folder/data.npy`` and write the manifest."""
    if len(dataset) == 0:
        raise ValueError(f"cache: {dataset.name} ({dataset.split}) has no items to cache")
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / "manifest.json"
    manifest_path.unlink(missing_ok=True)
    first = _as_numpy(dataset.load(0), 0)

    def write_array(path: Path) -> None:
        array = np.lib.format.open_memmap(
            path, mode="w+", dtype=first.dtype, shape=(len(dataset), *first.shape)
        )
        array[0] = first
        for index in range(1, len(dataset)):
            item = _as_numpy(dataset.load(index), index)
            if item.shape != first.shape or item.dtype != first.dtype:
                raise ValueError(
                    f"cache: item {index} ({dataset.ids[index]}) is {item.dtype} {item.shape} "
                    f"but item 0 is {first.dtype} {first.shape}; a cache needs one shape and "
                    "dtype for all items (set the loader's size option)"
                )
            array[index] = item
        array.flush()
        del array

    _write_atomic(folder / "data.npy", write_array)
    complete = dict(manifest, dtype=first.dtype.str, shape=[len(dataset), *first.shape])
    _write_atomic(
        manifest_path, lambda path: path.write_text(json.dumps(complete, indent=1) + "\n")
    )


def _stored_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _array_matches(folder: Path, manifest: dict[str, Any]) -> bool:
    try:
        array = np.load(folder / "data.npy", mmap_mode="r")
    except (FileNotFoundError, ValueError, OSError):
        return False
    return array.dtype.str == manifest["dtype"] and list(array.shape) == manifest["shape"]


class DecodedDataset(RegressionDataset):
    """Base of the caches below: ``dataset``'s items, ids, labels, groups and options, with
    ``dataset.prepare`` applied to what :meth:`load` returns (the subclass's stored decoding)
    and the transform (``dataset.transform`` unless one is given)."""

    def __init__(self, dataset: RegressionDataset, transform: Transform | None = None):
        self.name = dataset.name
        self.modality = dataset.modality
        super().__init__(
            dataset.ids,
            dataset.targets,
            split=dataset.split,
            groups=dataset.groups,
            transform=dataset.transform if transform is None else transform,
        )
        self.dataset = dataset
        self.options = dict(dataset.options)

    def prepare(self, x: torch.Tensor, index: int) -> torch.Tensor:
        return self.dataset.prepare(x, index)

    def source_file(self, index: int) -> Path | None:
        return self.dataset.source_file(index)


class CachedDataset(DecodedDataset):
    """``dataset`` served from a memory-mapped cache of its decoded items.

    Items equal those of ``dataset`` bit for bit: ``x`` is the stored ``dataset.load(i)`` put
    through ``dataset.prepare`` and the transform (``dataset.transform`` unless one is given).
    ``rebuilt`` tells whether this call (re)built the cache.
    """

    def __init__(
        self,
        dataset: RegressionDataset,
        cache_dir: str | Path | None = None,
        *,
        transform: Transform | None = None,
    ):
        super().__init__(dataset, transform)
        manifest = dataset_manifest(dataset)
        self.folder = _cache_folder(
            Path(cache_dir) if cache_dir is not None else default_cache_dir(), manifest
        )
        stored = _stored_manifest(self.folder)
        current = (
            stored is not None
            and {key: value for key, value in stored.items() if key not in ("dtype", "shape")}
            == manifest
        )
        self.rebuilt = not (current and stored is not None and _array_matches(self.folder, stored))
        if self.rebuilt:
            build_cache(dataset, self.folder, manifest)
        self._array: np.ndarray | None = None

    @property
    def array(self) -> np.ndarray:
        """The read-only memory map of all decoded items, opened on first use per process."""
        if self._array is None:
            self._array = np.load(self.folder / "data.npy", mmap_mode="r")
        return self._array

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_array"] = None
        return state

    def load(self, index: int) -> torch.Tensor:
        return torch.from_numpy(np.array(self.array[index]))


class InMemoryDataset(DecodedDataset):
    """``dataset`` with each item decoded once (on first use) and kept in memory.

    Items equal ``dataset``'s: the stored :meth:`load` output (a copy per call) goes through
    ``dataset.prepare`` and ``dataset.transform``. Unlike :class:`CachedDataset`
    nothing is written to disk and items may differ in shape (videos of different lengths), so
    it suits small data such as phantoms that every run of a study reads many times.
    """

    def __init__(self, dataset: RegressionDataset):
        super().__init__(dataset)
        self._items: dict[int, torch.Tensor] = {}

    def load(self, index: int) -> torch.Tensor:
        if index not in self._items:
            self._items[index] = self.dataset.load(index)
        return self._items[index].clone()
