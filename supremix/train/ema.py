"""Exponential moving average of model weights, used for evaluation (seed 001 App. C.1.2:
"EMA model averaging with a momentum value of 0.999").

After update ``n`` (1-based) the average is ``e <- d_n e + (1 - d_n) w`` with
``d_n = min(decay, n / (n + 9))``: the usual warm-up of the decay, so that a short run is not
evaluated on weights that are still 99.9% its random initialisation. Floating-point buffers
(BatchNorm running statistics) are averaged the same way; integer buffers are copied.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class ModelEMA:
    """A detached copy of ``model`` holding the moving average of its state."""

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.module = copy.deepcopy(model).eval()
        for param in self.module.parameters():
            param.requires_grad_(False)

    def current_decay(self) -> float:
        """The decay the next :meth:`update` will use."""
        n = self.updates + 1
        return min(self.decay, n / (n + 9))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards the current weights of ``model``."""
        d = self.current_decay()
        source = model.state_dict()
        for name, average in self.module.state_dict().items():
            value = source[name].detach()
            if average.is_floating_point():
                average.lerp_(value.to(average.dtype), 1.0 - d)
            else:
                average.copy_(value)
        self.updates += 1

    @torch.no_grad()
    def copy_from(self, model: nn.Module) -> None:
        """Reset the average to the current weights of ``model`` (keeps ``updates``)."""
        self.module.load_state_dict(model.state_dict())

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "updates": self.updates, "module": self.module.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.decay = float(state["decay"])
        self.updates = int(state["updates"])
        self.module.load_state_dict(state["module"])
