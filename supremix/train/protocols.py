"""The stages of each training protocol and the loss each stage minimises.

Protocols (the SupReMix paper, §4.3 and App. C.1.2, Mixup Your Own Pairs' §4 "Evaluation schemes",
the AdaCon paper's eq. (8)):

================ ====================================================================
vanilla          ``regression``: encoder + regressor, L1/MSE/Huber
linear_probe     ``pretrain`` (encoder + head, contrastive) then ``probe`` (frozen
                 encoder, head dropped, linear regressor)
finetune         ``pretrain`` then ``finetune`` (encoder + regressor, regression loss)
multitask        ``multitask``: ``L_reg + gamma_con * L_con`` in one stage
================ ====================================================================

Contrastive stages feed ``V`` views of each sample, stacked so rows ``i`` and ``i + B`` are the
two views of sample ``i`` (the layout of :mod:`supremix.losses`). ``V`` is 2 when the run
augments its inputs (or for SimCLR) and 1 otherwise: without augmentation a second view is
an exact copy, so Mixup Your Own Pairs (App. C.1) uses real positives only.

What a stage computes on each batch is its :class:`~.objective.StageObjective`: stages with a
regression loss apply the run's LDS weights and FDS calibration; those without a contrastive
loss also its mixup (``TrainConfig.lds``, ``fds``, ``mixup``; the SupReMix paper's App. D.3-D.6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from supremix.losses import get_loss

from .config import TrainConfig
from .model import uses_projection_head

Augmentation = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]
#: Called on every contrastive step with the batch's embeddings (all views, detached, float32)
#: and the labels the contrastive loss saw: e.g. :class:`supremix.analysis.LogitHardnessTracker`.
BatchObserver = Callable[[torch.Tensor, torch.Tensor], None]
ContrastiveLoss = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Generator | None], torch.Tensor
]


@dataclass(frozen=True)
class Stage:
    """One optimisation stage: what it trains, its peak and final learning rates (``lr``,
    ``min_lr``) and which losses it uses."""

    name: str
    epochs: int
    warmup_epochs: int
    lr: float
    min_lr: float
    contrastive: bool
    regression: bool
    train_encoder: bool
    train_head: bool
    train_regressor: bool


def plan_stages(config: TrainConfig) -> list[Stage]:
    """The stages of ``config``'s protocol, in order; the stage after contrastive pretraining
    runs at ``lr * probe_lr_factor`` (AdaCon's two-stage scheme: 10 times lower)."""
    head = uses_projection_head(config)
    first: dict[str, Any] = {
        "epochs": config.epochs,
        "warmup_epochs": config.warmup_epochs,
        "lr": config.lr,
        "min_lr": config.min_lr,
    }
    if config.method == "vanilla":
        flags = {"contrastive": False, "regression": True, "train_head": False}
        encoder = not config.freeze_encoder
        return [Stage("regression", **first, **flags, train_encoder=encoder, train_regressor=True)]
    if config.protocol == "multitask":
        flags = {"contrastive": True, "regression": True, "train_head": head}
        return [Stage("multitask", **first, **flags, train_encoder=True, train_regressor=True)]
    pretrain = Stage(
        "pretrain",
        **first,
        contrastive=True,
        regression=False,
        train_encoder=True,
        train_head=head,
        train_regressor=False,
    )
    probe = config.protocol == "linear_probe"
    second = Stage(
        "probe" if probe else "finetune",
        epochs=config.probe_epochs,
        warmup_epochs=config.probe_warmup_epochs,
        lr=config.lr * config.probe_lr_factor,
        min_lr=config.min_lr * config.probe_lr_factor,
        contrastive=False,
        regression=True,
        train_encoder=not probe,
        train_head=False,
        train_regressor=True,
    )
    return [pretrain, second]


def contrastive_views(config: TrainConfig, augment: Augmentation | None) -> int:
    """Views per sample in contrastive stages (``config.views``, else 2 with augmentation or
    for SimCLR, 1 otherwise)."""
    if config.views is not None:
        return config.views
    return 2 if augment is not None or config.method == "simclr" else 1


def build_contrastive_loss(config: TrainConfig, train_labels: np.ndarray | None) -> ContrastiveLoss:
    """``loss(features, labels, groups, generator)`` for ``config.method``, computed in
    float32: the registered loss (:mod:`supremix.losses.registry`) with the config's settings.
    ``train_labels`` may be ``None`` for a loss that does not read the training labels."""
    try:
        entry = get_loss(config.method)
    except ValueError:
        entry = None
    if entry is None or entry.kind != "contrastive":
        raise ValueError(f"{config.method!r} is not a contrastive method")
    labels = None
    if entry.needs_train_labels:
        if train_labels is None:
            raise ValueError(f"{config.method!r} needs the training labels (train_labels)")
        labels = torch.tensor(np.asarray(train_labels, dtype=np.float64))
    module = entry.from_config(config, labels)

    def loss(z, y, groups, generator):
        return module.to(z.device)(z, y, groups if config.use_groups else None, generator)

    return loss
