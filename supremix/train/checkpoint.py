"""Atomic checkpoint files (the SupReMix paper, App. C.1.2, "Model Checkpointing").

A checkpoint is written to a temporary file, flushed and fsynced, then moved over the final
name with :func:`os.replace` (atomic on POSIX and Windows), and the folder is fsynced. The
temporary file is created exclusively (:func:`tempfile.mkstemp`: a fresh random name, never a
file that exists), in ``temp_dir`` when given (a run's own folder, see
:mod:`supremix.train.run_folder`), else beside the final name; a failed write removes it. The
file under the final name is always the previous complete checkpoint or the new one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch

LAST = "last.pt"
BEST = "best.pt"
TEMP_SUFFIX = ".tmp"

# what torch.load raises on an empty, truncated or foreign file
_UNREADABLE = (OSError, EOFError, RuntimeError, LookupError, ValueError, pickle.UnpicklingError)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read; the message names the file."""


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, write: Any, temp_dir: Path | None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=temp_dir or path.parent
    )
    temp = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def atomic_save(obj: Any, path: str | Path, *, temp_dir: str | Path | None = None) -> Path:
    """``torch.save(obj)`` to ``path`` atomically; returns ``path``."""
    folder = None if temp_dir is None else Path(temp_dir)
    return _atomic_write(Path(path), lambda handle: torch.save(obj, handle), folder)


def _strict_json(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (strict JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def atomic_write_json(obj: Any, path: str | Path, *, temp_dir: str | Path | None = None) -> Path:
    """Write ``obj`` as indented, strict JSON to ``path`` atomically (NaN becomes null)."""
    text = json.dumps(_strict_json(obj), indent=2, allow_nan=False, default=str) + "\n"
    return atomic_write_text(text, path, temp_dir=temp_dir)


def atomic_write_text(text: str, path: str | Path, *, temp_dir: str | Path | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    folder = None if temp_dir is None else Path(temp_dir)
    return _atomic_write(Path(path), lambda handle: handle.write(text.encode("utf-8")), folder)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`atomic_save` (tensors, numbers, strings and
    containers only: ``weights_only=True``).

    Raises :class:`FileNotFoundError` when there is no file and :class:`CheckpointError`, naming
    the file, when it is empty, truncated or not a torch checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except _UNREADABLE as error:
        size = path.stat().st_size
        what = "empty" if size == 0 else "truncated, damaged or not written by torch.save"
        raise CheckpointError(
            f"{path} is not a readable torch checkpoint ({size} bytes, {what}: "
            f"{type(error).__name__})"
        ) from None
