"""The tabular encoder: an MLP with hidden widths d-20-30-10 (Mixup Your Own Pairs, §4, UCI
airfoil).

Mixup Your Own Pairs uses "a simple MLP (Cheng et al., 2023) with three hidden layers
(d-20-30-10-1)"; the final ``-1`` is the regressor, so the encoder stops at the last hidden layer
and returns
``(B, 10)`` features. Each hidden layer is Linear followed by ReLU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

MLP_HIDDEN = (20, 30, 10)


class MLPEncoder(nn.Module):
    """Linear-ReLU layers of widths ``hidden`` over ``in_features`` inputs."""

    def __init__(self, in_features: int, hidden: Sequence[int] = MLP_HIDDEN):
        super().__init__()
        if in_features < 1 or not hidden or min(hidden) < 1:
            raise ValueError(
                f"MLP needs in_features >= 1 and positive hidden widths, got "
                f"in_features={in_features}, hidden={list(hidden)}"
            )
        layers: list[nn.Module] = []
        previous = in_features
        for width in hidden:
            layers += [nn.Linear(previous, width), nn.ReLU(inplace=True)]
            previous = width
        self.layers = nn.Sequential(*layers)
        self.in_features = in_features
        self.out_dim = int(hidden[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"MLPEncoder expects input (B, {self.in_features}), got shape {tuple(x.shape)}"
            )
        return self.layers(x)
