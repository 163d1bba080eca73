"""Atomic checkpoint files (seed 001 App. C.1.2, "Model Checkpointing").

A checkpoint is written to a temporary file in the destination folder, flushed and fsynced,
then moved over the final name with :func:`os.replace` (atomic on POSIX and Windows), and the
folder is fsynced. A process killed while writing leaves at worst a ``.<name>.tmp-<pid>`` file;
the file under the final name is always the previous complete checkpoint or the new one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from typing import Any

import torch

LAST = "last.pt"
BEST = "best.pt"


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, write: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_path(path)
    try:
        with open(temp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save(obj)`` to ``path`` atomically; returns ``path``."""
    return _atomic_write(Path(path), lambda handle: torch.save(obj, handle))


def _strict_json(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (strict JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def atomic_write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as indented, strict JSON to ``path`` atomically (NaN becomes null)."""
    text = json.dumps(_strict_json(obj), indent=2, allow_nan=False, default=str) + "\n"
    return _atomic_write(Path(path), lambda handle: handle.write(text.encode("utf-8")))


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return _atomic_write(Path(path), lambda handle: handle.write(text.encode("utf-8")))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`atomic_save` (tensors, numbers, strings and
    containers only: ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    return torch.load(path, map_location=map_location, weights_only=True)


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete temporary files left by writers that were killed mid-write; returns them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.glob(".*.tmp-*") if p.is_file()]
    for p in stale:
        p.unlink()
    return stale
