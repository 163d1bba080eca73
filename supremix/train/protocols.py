"""The stages of each training protocol and the loss each stage minimises.

Protocols (seed 001 §4.3 and App. C.1.2, seed 002 §4 "Evaluation schemes", seed 003 eq. (8)):

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
an exact copy, so seed 002 (App. C.1) uses real positives only.

Stages with a regression loss apply the run's LDS weights and FDS calibration; those without a
contrastive loss also its mixup (``TrainConfig.lds``, ``fds``, ``mixup``; seed 001 App. D.3-D.6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from supremix.data.label_ops import discretize_labels
from supremix.data.views import two_view_batch
from supremix.imbalance import LDSWeights
from supremix.losses import get_loss, regression_loss
from supremix.mixup import cmixup_batch, mixup_batch

from .config import TrainConfig
from .input_pairs import input_level_pairs
from .model import FDSRegressionNet, label_scale, uses_projection_head
from .windows import window_inclusive

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


def build_contrastive_loss(config: TrainConfig, train_labels: np.ndarray) -> ContrastiveLoss:
    """``loss(features, labels, groups, generator)`` for ``config.method``, computed in
    float32: the registered loss (:mod:`supremix.losses.registry`) with the config's settings."""
    try:
        entry = get_loss(config.method)
    except ValueError:
        entry = None
    if entry is None or entry.kind != "contrastive":
        raise ValueError(f"{config.method!r} is not a contrastive method")
    labels = torch.tensor(np.asarray(train_labels, dtype=np.float64))
    module = entry.from_config(config, labels if entry.needs_train_labels else None)

    def loss(z, y, groups, generator):
        return module.to(z.device)(z, y, groups if config.use_groups else None, generator)

    return loss


@dataclass
class EpochMoments:
    """Sums over an epoch's batches of :meth:`supremix.imbalance.FDS.bin_moments`."""

    sums: list[torch.Tensor] | None = None

    def add(self, moments: tuple[torch.Tensor, ...]) -> None:
        if self.sums is None:
            self.sums = [m.clone() for m in moments]
        else:
            for total, m in zip(self.sums, moments, strict=True):
                total.add_(m)

    def pop(self) -> list[torch.Tensor] | None:
        """The sums so far (``None`` before any batch); starts a new epoch."""
        sums, self.sums = self.sums, None
        return sums


@dataclass
class StageObjective:
    """Computes a stage's loss on one batch: views, forward pass, losses."""

    stage: Stage
    config: TrainConfig
    contrastive_loss: ContrastiveLoss | None
    views: int
    contrastive_augment: Augmentation | None
    regression_augment: Augmentation | None
    lds: LDSWeights | None = None
    fds_moments: EpochMoments = field(default_factory=EpochMoments)
    observers: tuple[BatchObserver, ...] = ()

    def __call__(
        self,
        model: torch.nn.Module,
        net: torch.nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        groups: torch.Tensor | None,
        generators: dict[str, torch.Generator],
        autocast: Callable[[], object],
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(loss, parts)`` for batch ``x, y``; ``net`` is the (possibly DDP-wrapped) model
        that runs the forward pass, ``model`` the bare module (for the label scale)."""
        stage = self.stage
        if stage.contrastive:
            if self.views == 2:
                x = two_view_batch(x, self.contrastive_augment, generators["augment"])
                y = y.repeat(2)
                groups = None if groups is None else groups.repeat(2)
            elif self.contrastive_augment is not None:
                x = self.contrastive_augment(x, generators["augment"])
            if self.config.mix_level == "input":
                x, y, groups = self._input_pairs(x, y, groups, generators["loss"])
        elif self.regression_augment is not None:
            x = self.regression_augment(x, generators["augment"])
        if stage.regression and not stage.contrastive and self.config.mixup != "none":
            x, y = self._mix(x, y, generators["augment"])
        fds = stage.regression and isinstance(model, FDSRegressionNet)
        with autocast():
            out = net(x, y) if fds else net(x)
        if fds:
            self.fds_moments.add(model.fds.bin_moments(out["features"].detach(), y))
        parts: dict[str, torch.Tensor] = {}
        if stage.contrastive:
            z = out["embedding"] if out["embedding"] is not None else out["features"]
            bin_size = self.config.label_bin
            # input-level pairs were labelled from binned labels already (_input_pairs)
            binned = bin_size is None or self.config.mix_level == "input"
            labels = y if binned else discretize_labels(y, bin_size)
            parts["con"] = self.contrastive_loss(z.float(), labels, groups, generators["loss"])
            for observe in self.observers:
                observe(z.detach().float(), labels.detach())
        if stage.regression:
            scale = label_scale(model)
            pred = scale.standardize(out["pred"].float())
            kind, target = self.config.regression_loss, scale.standardize(y)
            delta = self.config.huber_delta
            delta = 1.0 if delta is None else delta / float(scale.std)
            if self.lds is None:
                parts["reg"] = regression_loss(pred, target, kind=kind, huber_delta=delta)
            else:
                losses = regression_loss(
                    pred, target, kind=kind, reduction="none", huber_delta=delta
                )
                parts["reg"] = (losses * self.lds(y)).mean()
        if "con" in parts and "reg" in parts:
            return parts["reg"] + self.config.gamma_con * parts["con"], parts
        return next(iter(parts.values())), parts

    def _input_pairs(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        groups: torch.Tensor | None,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The batch extended by SupReMix's mixtures formed from inputs (``mix_level``)."""
        config = self.config
        alpha, beta = config.beta_params
        labels = y if config.label_bin is None else discretize_labels(y, config.label_bin)
        x, labels, groups = input_level_pairs(
            x,
            labels,
            window=config.window,
            alpha=alpha,
            beta=beta,
            inclusive=window_inclusive(config),
            groups=groups if config.use_groups else None,
            generator=generator,
        )
        return x, labels, groups

    def _mix(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        config = self.config
        if config.mixup == "input":
            return mixup_batch(x, y, alpha=config.mixup_alpha, generator=generator)
        return cmixup_batch(
            x, y, sigma=config.cmixup_sigma, alpha=config.mixup_alpha, generator=generator
        )
