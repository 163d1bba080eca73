"""Automatic mixed precision (the SupReMix paper, App. C.1.2: "mixed precision training through
torch.cuda.amp"; the AMP state is kept in checkpoints).

``amp="auto"`` picks bfloat16 on GPUs that support it, float16 with a gradient scaler on other
GPUs, and plain float32 elsewhere (CPU, MPS). Losses are always computed in float32.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class Precision:
    """The autocast dtype (``None``: float32) and the gradient scaler (float16 only)."""

    device: torch.device
    dtype: torch.dtype | None
    scaler: torch.amp.GradScaler | None

    @property
    def name(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def state_dict(self) -> dict[str, Any]:
        return {} if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)


def choose_precision(mode: str, device: torch.device) -> Precision:
    """The :class:`Precision` for ``mode`` in {auto, off, bf16, fp16} on ``device``."""
    if mode not in ("auto", "off", "bf16", "fp16"):
        raise ValueError(f"amp={mode!r} is not valid; expected auto, off, bf16 or fp16")
    if mode in ("bf16", "fp16") and device.type != "cuda":
        raise ValueError(f"amp={mode!r} needs a CUDA device; this run is on {device}")
    if mode == "auto":
        if device.type != "cuda":
            mode = "off"
        else:
            mode = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if mode == "off":
        return Precision(device, None, None)
    if mode == "bf16":
        return Precision(device, torch.bfloat16, None)
    return Precision(device, torch.float16, torch.amp.GradScaler(device.type))
