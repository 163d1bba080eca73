"""Predictions, embeddings and metrics of a trained model on a dataset.

:func:`predict` returns everything the analyses need (encoder features, projections,
predictions, labels, ids, groups) in dataset order; :func:`evaluate` the regression metrics
of the SupReMix paper's §4.4 (MAE, MSE, GM, Pearson; plus RMSE and R^2). Under
DistributedDataParallel each process predicts a shard and the results are gathered, in dataset
order, on every process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from supremix.metrics import regression_metrics

from .data import dataset_length, eval_loader, shard
from .distributed import DistEnv, all_gather_objects, unwrap


@dataclass
class Predictions:
    """Per-item outputs of a model on a dataset, in dataset order.

    ``features``: encoder output ``(n, d)``; ``embeddings``: L2-normalised projections
    ``(n, k)`` or ``None`` without a projection head; ``preds`` and ``targets``: ``(n,)``.
    """

    features: np.ndarray
    embeddings: np.ndarray | None
    preds: np.ndarray
    targets: np.ndarray
    ids: list[str]
    groups: np.ndarray | None

    def metrics(self) -> dict[str, float]:
        """:func:`supremix.metrics.regression_metrics` of ``preds`` against ``targets``."""
        return regression_metrics(self.preds, self.targets)


def _model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


@torch.no_grad()
def _predict_local(
    model: nn.Module,
    dataset: Dataset,
    *,
    batch_size: int,
    device: torch.device,
    num_workers: int,
    autocast: Callable[[], Any],
) -> dict[str, Any]:
    features: list[torch.Tensor] = []
    embeddings: list[torch.Tensor] = []
    preds: list[torch.Tensor] = []
    targets: list[torch.Tensor] = []
    groups: list[torch.Tensor] = []
    ids: list[str] = []
    for batch in eval_loader(dataset, batch_size, num_workers):
        x = batch["x"].to(device, non_blocking=True)
        with autocast():
            out = model(x)
        features.append(out["features"].float().cpu())
        if out.get("embedding") is not None:
            embeddings.append(out["embedding"].float().cpu())
        if out.get("pred") is None:
            raise ValueError("the model has no regressor; predictions need RegressionNet.regressor")
        preds.append(out["pred"].float().cpu())
        targets.append(torch.as_tensor(batch["y"], dtype=torch.float64))
        ids.extend(str(i) for i in batch["id"])
        if "group" in batch:
            groups.append(torch.as_tensor(batch["group"]))
    return {
        "features": torch.cat(features).numpy() if features else None,
        "embeddings": torch.cat(embeddings).numpy() if embeddings else None,
        "preds": torch.cat(preds).double().numpy() if preds else np.zeros(0),
        "targets": torch.cat(targets).numpy() if targets else np.zeros(0),
        "ids": ids,
        "groups": torch.cat(groups).numpy() if groups else None,
    }


def _interleave(parts: list[Any], n: int, world: int) -> Any:
    """Inverse of sharding ``rank, rank + world, ...``: rows back in dataset order."""
    if parts[0] is None:
        return None
    if isinstance(parts[0], list):
        out: list[Any] = [None] * n
        for rank, part in enumerate(parts):
            out[rank::world] = part
        return out
    first = parts[0]
    out_array = np.empty((n, *first.shape[1:]), dtype=first.dtype)
    for rank, part in enumerate(parts):
        out_array[rank::world] = part
    return out_array


def predict(
    model: nn.Module,
    dataset: Dataset,
    *,
    batch_size: int = 64,
    device: torch.device | str | None = None,
    num_workers: int = 0,
    env: DistEnv | None = None,
    autocast: Callable[[], Any] = contextlib.nullcontext,
) -> Predictions:
    """Run ``model`` (a :class:`~supremix.models.RegressionNet`, in evaluation mode) over
    ``dataset`` without augmentation and collect its outputs."""
    model = unwrap(model)
    device = _model_device(model) if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    try:
        local = _predict_local(
            model,
            shard(dataset, env) if env is not None else dataset,
            batch_size=batch_size,
            device=device,
            num_workers=num_workers,
            autocast=autocast,
        )
    finally:
        model.train(was_training)
    if env is not None and env.is_distributed:
        gathered = all_gather_objects(local, env)
        n = dataset_length(dataset)
        local = {k: _interleave([g[k] for g in gathered], n, env.world_size) for k in local}
    return Predictions(**local)


def evaluate(model: nn.Module, dataset: Dataset, **kwargs: Any) -> dict[str, float]:
    """Regression metrics of ``model`` on ``dataset`` (keyword arguments as :func:`predict`)."""
    return predict(model, dataset, **kwargs).metrics()
