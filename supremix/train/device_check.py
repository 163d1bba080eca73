"""Refuse a device this machine does not have, in one line, before any data are loaded."""

from __future__ import annotations

import torch

KNOWN = "auto, cpu, cuda, cuda:N or mps"


def device_problem(name: str) -> str | None:
    """Why ``name`` (``TrainConfig.device``) cannot be used on this machine, or ``None``."""
    if name == "auto":
        return None
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        return f"unknown device {name!r}; expected {KNOWN}"
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return (
                f"device {name!r}: this machine has no CUDA GPU usable by torch "
                f"{torch.__version__} (CUDA {torch.version.cuda}); use cpu or auto"
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            return (
                f"device {name!r}: this machine has {count} CUDA device(s), "
                f"cuda:0 to cuda:{count - 1}"
            )
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            return f"device {name!r}: Apple MPS is not available on this machine; use cpu or auto"
    elif device.type != "cpu":
        return f"device {name!r}: supremix trains on {KNOWN}"
    return None


def check_device(name: str) -> None:
    """Raise :class:`ValueError` when :func:`device_problem` finds one."""
    problem = device_problem(name)
    if problem is not None:
        raise ValueError(problem)
