"""Projection head, linear regressor and the encoder + heads wrapper.

The SupReMix paper's App. C.1.1: "The projection head architecture consists of three layers: a
linear transformation from 512 to 2048 dimensions, ReLU activation, and a final linear layer
reducing to 128 dimensions" (feature dim 128 in Table 13); contrastive losses compare L2-normalised
projections (the SupReMix paper, §5.1.2: "inner product of two embeddings with norm of 1"). The
regressor of the linear probe (the SupReMix paper, §4.3, Mixup Your Own Pairs' §4 "Evaluation
schemes") is one linear layer on the encoder features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ProjectionHead(nn.Module):
    """Linear(in_dim, hidden_dim), ReLU, Linear(hidden_dim, out_dim), then L2 normalisation."""

    def __init__(self, in_dim: int, hidden_dim: int = 2048, out_dim: int = 128):
        super().__init__()
        if min(in_dim, hidden_dim, out_dim) < 1:
            raise ValueError(
                f"ProjectionHead sizes must be positive, got in_dim={in_dim}, "
                f"hidden_dim={hidden_dim}, out_dim={out_dim}"
            )
        self.layers = nn.Sequential(
            nn.Linear(in_dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, out_dim)
        )
        self.in_dim = in_dim
        self.out_dim = out_dim

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.layers(features), dim=1)


class LinearRegressor(nn.Module):
    """One linear layer from ``in_dim`` features to a scalar per sample, shape ``(B,)``."""

    def __init__(self, in_dim: int):
        super().__init__()
        if in_dim < 1:
            raise ValueError(f"LinearRegressor in_dim must be positive, got {in_dim!r}")
        self.linear = nn.Linear(in_dim, 1)
        self.in_dim = in_dim

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features).squeeze(-1)


class RegressionNet(nn.Module):
    """An encoder with an optional projection head and an optional regressor.

    ``forward(x)`` returns ``{"features": encoder(x), "embedding": head(features) or None,
    "pred": regressor(features) or None}``. Both heads read the encoder features: the
    projection is for the contrastive loss, the regressor for prediction (linear probe or
    fine-tuning).

    :meth:`freeze_encoder` stops gradients into the encoder and keeps it in evaluation mode
    (BatchNorm statistics fixed) even after ``model.train()``: the linear probe protocol.
    """

    def __init__(
        self,
        encoder: nn.Module,
        projection_head: nn.Module | None = None,
        regressor: nn.Module | None = None,
    ):
        super().__init__()
        self.encoder = encoder
        self.projection_head = projection_head
        self.regressor = regressor
        self.encoder_frozen = False

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor | None]:
        features = self.encoder(x)
        embedding = None if self.projection_head is None else self.projection_head(features)
        pred = None if self.regressor is None else self.regressor(features)
        return {"features": features, "embedding": embedding, "pred": pred}

    def freeze_encoder(self) -> RegressionNet:
        """Freeze the encoder's parameters and BatchNorm statistics; returns ``self``."""
        self.encoder.requires_grad_(False)
        self.encoder.eval()
        self.encoder_frozen = True
        return self

    def unfreeze_encoder(self) -> RegressionNet:
        """Undo :meth:`freeze_encoder` (for fine-tuning); returns ``self``."""
        self.encoder.requires_grad_(True)
        self.encoder_frozen = False
        self.encoder.train(self.training)
        return self

    def train(self, mode: bool = True) -> RegressionNet:
        super().train(mode)
        if self.encoder_frozen:
            self.encoder.eval()
        return self
