"""Shared helpers of the training-engine tests: a tiny in-memory tabular dataset and configs."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from supremix.data.base import RegressionDataset
from supremix.train import TrainConfig


class ToyTabular(RegressionDataset):
    """``n`` rows of ``d`` Gaussian features; integer labels from a fixed linear map (so equal
    labels, the positives of SupCon/SupReMix, occur); alternating groups."""

    name = "toy"
    modality = "tabular"

    def __init__(self, n: int = 64, d: int = 6, seed: int = 0, split: str = "train"):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n, d)).astype(np.float32)
        weights = np.linspace(-1.0, 1.0, d)
        targets = np.round(20 + 4 * self.x @ weights)
        super().__init__(
            [f"{split}{i}" for i in range(n)], targets, split=split, groups=np.arange(n) % 2
        )

    def load(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.x[index])


def toy_splits(n_train: int = 64, n_eval: int = 24) -> dict[str, ToyTabular]:
    return {
        "train_set": ToyTabular(n_train, seed=0, split="train"),
        "val_set": ToyTabular(n_eval, seed=1, split="val"),
        "test_set": ToyTabular(n_eval, seed=2, split="test"),
    }


def toy_config(**changes: Any) -> TrainConfig:
    """A configuration small enough for a CPU test (tabular MLP encoder, small heads)."""
    values: dict[str, Any] = {
        "method": "supremix",
        "protocol": "linear_probe",
        "epochs": 3,
        "probe_epochs": 2,
        "warmup_epochs": 1,
        "batch_size": 16,
        "feature_dim": 8,
        "head_hidden_dim": 16,
        "temperature": 1.0,
        "window": 3.0,
        "model_size": "cpu",
        "checkpoint_every": 1,
        "progress": False,
    }
    values.update(changes)
    return TrainConfig(**values)


def gaussian_noise(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """A random augmentation drawing from the run's generator (exercises its state)."""
    return x + 0.1 * torch.randn(x.shape, generator=generator, device=x.device)
