"""A fingerprint of the data a run trains on, kept in its checkpoints so that a resumed run
refuses other data (the book's page on rerunning experiments).

The fingerprint holds, for each split, its size and SHA-256 digests of its label table (the
targets as float64) and of its item ids; and, when the data come from files, the list of files
under the data root with their sizes. :func:`data_differences` compares two fingerprints and
names what differs, down to the files added, removed or resized.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset, Subset

from .data import dataset_length, targets_of

# file listings longer than this are kept as a digest only (differences are then counted,
# not named)
MAX_LISTED_FILES = 20_000
NAMED_FILES = 5


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ids_of(dataset: Dataset) -> list[str] | None:
    if isinstance(dataset, Subset):
        ids = _ids_of(dataset.dataset)
        return None if ids is None else [ids[i] for i in dataset.indices]
    ids = getattr(dataset, "ids", None)
    return None if ids is None else [str(i) for i in ids]


def split_fingerprint(dataset: Dataset) -> dict[str, Any]:
    """``{"n", "labels", "ids"}``: the size and SHA-256 digests of the labels and ids."""
    targets = np.ascontiguousarray(np.asarray(targets_of(dataset), dtype=np.float64))
    ids = _ids_of(dataset)
    return {
        "n": dataset_length(dataset),
        "labels": _digest(targets.tobytes()),
        "ids": None if ids is None else _digest("\n".join(ids).encode("utf-8")),
    }


def file_listing(root: str | Path) -> list[list[Any]]:
    """``[[relative path, size in bytes], ...]`` of the files under ``root`` (a folder) or of
    ``root`` itself (a file), sorted by path."""
    root = Path(root)
    if root.is_file():
        return [[root.name, root.stat().st_size]]
    listing = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                listing.append([path.relative_to(root).as_posix(), path.stat().st_size])
    return sorted(listing)


def dataset_fingerprint(
    splits: Mapping[str, Dataset | None], root: str | Path | None = None
) -> dict[str, Any]:
    """The fingerprint of ``splits`` (``name -> dataset``; ``None`` entries are recorded as
    absent) read from ``root`` (a folder, a file, or ``None`` for data held in memory)."""
    fingerprint: dict[str, Any] = {
        "splits": {
            name: None if dataset is None else split_fingerprint(dataset)
            for name, dataset in splits.items()
        },
        "files": None,
    }
    if root is not None and Path(root).exists():
        listing = file_listing(root)
        fingerprint["files"] = {
            "root": str(root),
            "count": len(listing),
            "bytes": sum(size for _, size in listing),
            "digest": _digest(repr(listing).encode("utf-8")),
            "listing": listing if len(listing) <= MAX_LISTED_FILES else None,
        }
    return fingerprint


def _named(paths: list[str]) -> str:
    shown = ", ".join(paths[:NAMED_FILES])
    return shown + (f" and {len(paths) - NAMED_FILES} more" if len(paths) > NAMED_FILES else "")


def _file_differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    if saved["digest"] == now["digest"]:
        return []
    if saved["listing"] is None or now["listing"] is None:
        return [
            f"the files under {now['root']}: {saved['count']} files of {saved['bytes']} bytes "
            f"then, {now['count']} of {now['bytes']} now"
        ]
    before = dict(map(tuple, saved["listing"]))
    after = dict(map(tuple, now["listing"]))
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    resized = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    parts = [
        f"{label} {_named(paths)}"
        for label, paths in (("added", added), ("removed", removed), ("resized", resized))
        if paths
    ]
    return [f"the files under {now['root']}: {'; '.join(parts)}"]


def data_differences(saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs between two fingerprints, one phrase each (empty when they agree)."""
    differences = []
    for split in sorted(set(saved["splits"]) | set(now["splits"])):
        before, after = saved["splits"].get(split), now["splits"].get(split)
        if before == after:
            continue
        if before is None or after is None:
            differences.append(f"the {split} split is {'absent' if after is None else 'new'}")
            continue
        changed = [key for key in ("n", "labels", "ids") if before[key] != after[key]]
        what = {"n": "size", "labels": "labels", "ids": "item ids"}
        text = ", ".join(what[key] for key in changed)
        if "n" in changed:
            text += f" ({before['n']} items then, {after['n']} now)"
        differences.append(f"the {split} split's {text}")
    saved_files, now_files = saved.get("files"), now.get("files")
    if saved_files is not None and now_files is not None:
        differences.extend(_file_differences(saved_files, now_files))
    elif (saved_files is None) != (now_files is None):
        differences.append("the data were read from files in one run and from memory in the other")
    return differences
