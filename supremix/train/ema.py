"""Exponential moving average of model weights, used for evaluation (the SupReMix paper
App. C.1.2: "EMA model averaging with a momentum value of 0.999").

After update ``n`` (1-based) the average is ``e <- d_n e + (1 - d_n) w`` with
``d_n = min(decay, n / (n + 9))``: the usual warm-up of the decay, so that a short run is not
evaluated on weights that are still 99.9% its random initialisation. Floating-point buffers
(BatchNorm running statistics) are averaged the same way; integer buffers are copied. The
averaging is :class:`torch.optim.swa_utils.AveragedModel` with this decay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


class ModelEMA:
    """A detached copy of ``model`` holding the moving average of its state."""

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.averaged = AveragedModel(model, multi_avg_fn=self._average, use_buffers=True)
        self.averaged.update_parameters(model)  # the first call copies the current state
        self.module.eval()
        for param in self.module.parameters():
            param.requires_grad_(False)

    @property
    def module(self) -> nn.Module:
        """The averaged model."""
        return self.averaged.module

    def current_decay(self) -> float:
        """The decay the next :meth:`update` will use."""
        n = self.updates + 1
        return min(self.decay, n / (n + 9))

    def _average(
        self,
        averages: Sequence[torch.Tensor],
        values: Sequence[torch.Tensor],
        _: torch.Tensor | int,
    ) -> None:
        # AveragedModel's own count (a tensor) is not read: self.updates needs no device sync.
        if averages[0].is_floating_point():
            weight = 1.0 - self.current_decay()
            for average, value in zip(averages, values, strict=True):
                average.lerp_(value.to(average.dtype), weight)
        else:
            for average, value in zip(averages, values, strict=True):
                average.copy_(value)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards the current weights of ``model``."""
        self.averaged.update_parameters(model)
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
