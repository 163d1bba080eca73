"""What :func:`supremix.train.train` returns (the book's page on the training engine)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from .config import TrainConfig


@dataclass
class RunResult:
    """What :func:`train` returns.

    ``model``: the selected EMA weights (best validation MAE of the final stage, else the last
    epoch) in evaluation mode; ``metrics``: ``{"test": ..., "val": ...}`` for the sets given;
    ``history``: the per-epoch rows of ``metrics.csv``; ``results``: the content of
    ``results.json``.
    """

    model: nn.Module
    config: TrainConfig
    metrics: dict[str, dict[str, float]]
    history: list[dict[str, Any]]
    out_dir: Path
    results: dict[str, Any]
