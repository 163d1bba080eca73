"""Shared helpers of the representation-analysis experiment tests: a tiny tabular dataset with
integer labels (equal labels occur, so contrastive positives exist) and optional sex groups,
and a training configuration small enough for a CPU test."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from supremix.data.base import RegressionDataset
from supremix.train import TrainConfig


class ToyRegression(RegressionDataset):
    """``n`` rows of ``d`` Gaussian features; integer labels from a fixed linear map; groups
    alternate 0, 1 (or none)."""

    name = "toy"
    modality = "tabular"

    def __init__(self, n: int = 48, d: int = 5, seed: int = 0, split: str = "train", groups=True):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n, d)).astype(np.float32)
        targets = np.round(20 + 4 * self.x @ np.linspace(-1.0, 1.0, d))
        super().__init__(
            [f"{split}{i}" for i in range(n)],
            targets,
            split=split,
            groups=np.arange(n) % 2 if groups else None,
        )

    def load(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.x[index])


def toy_splits(n_train: int = 48, n_eval: int = 16, groups: bool = True) -> dict[str, Any]:
    return {
        "train_set": ToyRegression(n_train, seed=0, split="train", groups=groups),
        "val_set": ToyRegression(n_eval, seed=1, split="val", groups=groups),
        "test_set": ToyRegression(n_eval, seed=2, split="test", groups=groups),
    }


def toy_config(**changes: Any) -> TrainConfig:
    values: dict[str, Any] = {
        "method": "supremix",
        "protocol": "linear_probe",
        "epochs": 3,
        "probe_epochs": 2,
        "warmup_epochs": 0,
        "batch_size": 16,
        "feature_dim": 8,
        "head_hidden_dim": 16,
        "window": 3.0,
        "model_size": "cpu",
        "augment": "none",
        "checkpoint_every": 1,
        "progress": False,
        "device": "cpu",
    }
    values.update(changes)
    return TrainConfig(**values)
