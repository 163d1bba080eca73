"""What produced a result: code version, software, hardware, data and timing."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

import supremix

PACKAGE_DIR = Path(supremix.__file__).resolve().parent


def git_commit(path: Path = PACKAGE_DIR) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git checkout holding ``path``, or ``None``
    when it is not in a checkout or git is unavailable."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=path, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        sha = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": sha, "dirty": dirty}


def device_description(device: torch.device) -> dict[str, Any]:
    """Kind and name of ``device`` (GPU model and memory for CUDA)."""
    info: dict[str, Any] = {"type": device.type, "name": platform.processor() or "cpu"}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1))
    elif device.type == "mps":
        info["name"] = "Apple MPS"
    else:
        info["threads"] = torch.get_num_threads()
    return info


def software_versions() -> dict[str, str]:
    """Versions of Python and the libraries a result depends on."""
    import torchvision

    return {
        "supremix": supremix.__version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "cuda": str(torch.version.cuda),
        "platform": platform.platform(),
    }


def now_iso() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def collect(
    *,
    device: torch.device,
    world_size: int,
    precision: str,
    started: str,
    wall_time_s: float,
) -> dict[str, Any]:
    """The provenance block of ``results.json`` (with the peak GPU memory of CUDA runs)."""
    block = {
        "git": git_commit(),
        "software": software_versions(),
        "device": device_description(device),
        "world_size": world_size,
        "precision": precision,
        "started": started,
        "finished": now_iso(),
        "wall_time_s": round(wall_time_s, 3),
    }
    if device.type == "cuda":
        block["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 3)
    return block
