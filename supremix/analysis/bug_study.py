"""Train with the correct SupReMix loss and with the published code's bugs, and compare.

The published SupReMix code (:mod:`supremix.losses.published`) differs from the loss of the SupReMix
paper's §3.3 (:func:`supremix.losses.supremix_loss`) by two bugs: separate max shifts for the real
and the mixture blocks, and mixture weights misaligned by a column-compression step. This module
trains the same encoder on the same data with each :data:`LOSS_VARIANTS` entry and measures what the
representation became: a linear probe's test MAE (the SupReMix paper, §4.3), the ordinality of the
test features (:func:`supremix.analysis.ordinality_score`, the SupReMix paper's §5.1.1) and the gap
between the correct SupReMix loss of the training embeddings and its Lemma 3.2 bound (how close
training came to the infimum of the objective the paper states).

The training engine (:func:`supremix.train.train`) builds its loss from the configuration
and takes no custom loss, so this module has its own small loop, built from the engine's
parts (:func:`supremix.train.model.build_model`, :func:`supremix.train.open_splits`): Adam
with the configuration's learning rate, weight decay and gradient clipping, no warm-up, no
EMA, one view per sample (no augmentation: a phantom run of a few epochs), and labels binned
by ``label_bin`` for the loss as in the engine. The probe is a closed-form ridge regression
on the standardised frozen encoder features (projection head dropped): one linear layer,
without an optimiser's noise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import Ridge
from torch import Tensor, nn

from supremix.data.label_ops import discretize_labels
from supremix.losses import supremix_loss
from supremix.losses.published import published_supremix_loss
from supremix.train.config import TrainConfig
from supremix.train.data import modality_of
from supremix.train.experiment import open_splits
from supremix.train.model import build_model
from supremix.train.rng import derive_seed, seed_everything

from .loss_anatomy import lemma_bound, positive_counts
from .ordinality import ordinality_score


@dataclass(frozen=True)
class LossVariant:
    """Which of the published code's bugs a training loss has."""

    separate_max_shift: bool
    misaligned_weights: bool


LOSS_VARIANTS: dict[str, LossVariant] = {
    "correct": LossVariant(False, False),
    "separate max shift": LossVariant(True, False),
    "misaligned weights": LossVariant(False, True),
    "published (both bugs)": LossVariant(True, True),
}

ContrastiveLoss = Callable[[Tensor, Tensor, torch.Generator | None], Tensor]


def variant_loss(name: str, config: TrainConfig) -> ContrastiveLoss:
    """``loss(embeddings, labels, generator)`` of variant ``name`` with ``config``'s
    temperature, window and Beta parameters; ``"correct"`` is :func:`supremix_loss`."""
    if name not in LOSS_VARIANTS:
        raise ValueError(
            f"unknown loss variant {name!r}; expected one of {', '.join(LOSS_VARIANTS)}"
        )
    variant = LOSS_VARIANTS[name]
    alpha, beta = config.beta_params
    if not (variant.separate_max_shift or variant.misaligned_weights):

        def correct(z: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
            # the published code's strict window, so that only the two bugs differ
            return supremix_loss(
                z,
                y,
                alpha=alpha,
                beta=beta,
                generator=generator,
                window_edges="strict",
                temperature=config.temperature,
                window=config.window,
            )

        return correct

    def published(z: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        return published_supremix_loss(
            z,
            y,
            alpha=alpha,
            beta=beta,
            generator=generator,
            separate_max_shift=variant.separate_max_shift,
            misaligned_weights=variant.misaligned_weights,
            temperature=config.temperature,
            window=config.window,
        )

    return published


@dataclass(frozen=True)
class StudyData:
    """A dataset's train and evaluation splits as tensors (small phantoms fit in memory)."""

    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor
    modality: str
    info: dict[str, Any]


def load_study_data(config: TrainConfig, data_root: str | Path | None = None) -> StudyData:
    """Every item of ``config.dataset``'s train and test splits (the validation split when the
    test labels are withheld), from ``data_root`` or the dataset's phantom."""
    splits, info = open_splits(config, data_root)
    train = splits["train"]
    if train is None:
        raise ValueError(f"{config.dataset}: the dataset has no training split to train on")
    test = splits["test"] if splits["test"] is not None else splits["val"]

    def stacked(dataset) -> tuple[Tensor, Tensor]:
        items = [dataset[i] for i in range(len(dataset))]
        x = torch.stack([torch.as_tensor(item["x"], dtype=torch.float32) for item in items])
        y = torch.tensor([float(item["y"]) for item in items], dtype=torch.float64)
        return x, y

    train_x, train_y = stacked(train)
    test_x, test_y = stacked(test)
    return StudyData(train_x, train_y, test_x, test_y, modality_of(train), info)


def _contrastive_labels(y: Tensor, config: TrainConfig) -> Tensor:
    return y if config.label_bin is None else discretize_labels(y, config.label_bin)


def train_encoder(
    config: TrainConfig,
    data: StudyData,
    variant: str,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    device: str = "cpu",
) -> nn.Module:
    """Contrastive training of encoder + projection head with loss ``variant`` (module
    docstring); the same ``seed`` gives every variant the same initialisation and batches."""
    if epochs < 1 or batch_size < 2:
        raise ValueError(f"need epochs >= 1 and batch_size >= 2, got {epochs} and {batch_size}")
    loss_fn = variant_loss(variant, config)
    seed_everything(seed)
    std = float(data.train_y.std()) or 1.0
    model = build_model(
        config.replace(method="supremix"),
        modality=data.modality,
        in_channels=int(data.train_x.shape[1]),
        label_mean=float(data.train_y.mean()),
        label_std=std,
    ).to(device)
    head = model.projection_head
    if head is None:
        raise ValueError("the SupReMix model was built without a projection head")
    parameters = [*model.encoder.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    batches = torch.Generator().manual_seed(derive_seed(seed, 2))
    draws = torch.Generator(device=device).manual_seed(derive_seed(seed, 3))
    labels = _contrastive_labels(data.train_y, config)
    n = data.train_x.shape[0]
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=batches)
        for start in range(0, n - 1, batch_size):
            rows = order[start : start + batch_size]
            if rows.numel() < 2:
                continue
            embedding = model(data.train_x[rows].to(device))["embedding"]
            loss = loss_fn(embedding, labels[rows].to(device), draws)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                nn.utils.clip_grad_norm_(parameters, config.grad_clip)
            optimizer.step()
    return model.eval()


@torch.no_grad()
def encode(
    model: nn.Module, x: Tensor, *, device: str = "cpu", chunk: int = 64
) -> tuple[Tensor, Tensor]:
    """Encoder features and projection-head embeddings of ``x`` (float64, on the CPU)."""
    features, embeddings = [], []
    for start in range(0, x.shape[0], chunk):
        out = model(x[start : start + chunk].to(device))
        features.append(out["features"].double().cpu())
        embeddings.append(out["embedding"].double().cpu())
    return torch.cat(features), torch.cat(embeddings)


def ridge_probe_mae(
    train_features: Tensor, train_y: Tensor, test_features: Tensor, test_y: Tensor
) -> float:
    """Test MAE of a ridge regression (alpha 1) on features standardised with the training
    statistics: the linear probe of the module docstring."""
    mean = train_features.mean(dim=0)
    std = train_features.std(dim=0).clamp_min(1e-8)
    probe = Ridge(alpha=1.0).fit(((train_features - mean) / std).numpy(), train_y.numpy())
    prediction = probe.predict(((test_features - mean) / std).numpy())
    return float(np.mean(np.abs(prediction - test_y.numpy())))


def evaluate_encoder(
    model: nn.Module,
    data: StudyData,
    config: TrainConfig,
    *,
    batch_size: int,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, float]:
    """``mae`` (:func:`ridge_probe_mae`), ``ordinality`` of the test features and
    ``bound_gap``: the correct SupReMix loss minus its :func:`~.loss_anatomy.lemma_bound`,
    averaged over the training set cut in batches of ``batch_size`` (in order; Beta draws
    seeded by ``seed``; batches without any positive pair left out)."""
    train_features, train_embeddings = encode(model, data.train_x, device=device)
    test_features, _ = encode(model, data.test_x, device=device)
    labels = _contrastive_labels(data.train_y, config)
    alpha, beta = config.beta_params
    draws = torch.Generator().manual_seed(seed)
    gaps = []
    for start in range(0, labels.shape[0], batch_size):
        y = labels[start : start + batch_size]
        if not (positive_counts(y, window=config.window) > 0).any():
            continue
        loss = supremix_loss(
            train_embeddings[start : start + batch_size],
            y,
            temperature=config.temperature,
            window=config.window,
            alpha=alpha,
            beta=beta,
            generator=draws,
        )
        gaps.append(float(loss) - lemma_bound(y, window=config.window))
    return {
        "mae": ridge_probe_mae(train_features, data.train_y, test_features, data.test_y),
        "ordinality": ordinality_score(test_features, data.test_y),
        "bound_gap": float(np.mean(gaps)) if gaps else float("nan"),
    }


def compare_loss_variants(
    config: TrainConfig,
    data: StudyData,
    *,
    variants: Sequence[str] = tuple(LOSS_VARIANTS),
    seeds: Sequence[int] = (0,),
    epochs: int,
    batch_size: int,
    device: str = "cpu",
) -> pd.DataFrame:
    """Train and evaluate every variant with every seed: one row per run with ``variant``,
    ``seed``, the :func:`evaluate_encoder` metrics and ``seconds`` (training and evaluation)."""
    if not variants or not seeds:
        raise ValueError(f"need at least one variant and one seed, got {variants!r}, {seeds!r}")
    rows = []
    for variant in variants:
        for seed in seeds:
            start = time.perf_counter()
            model = train_encoder(
                config,
                data,
                variant,
                epochs=epochs,
                batch_size=batch_size,
                seed=seed,
                device=device,
            )
            metrics = evaluate_encoder(
                model, data, config, batch_size=batch_size, seed=seed, device=device
            )
            seconds = time.perf_counter() - start
            rows.append({"variant": variant, "seed": seed, **metrics, "seconds": seconds})
    return pd.DataFrame(rows)
