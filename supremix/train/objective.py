"""The loss a stage minimises on one batch, built once per stage from what it needs.

A :class:`StageObjective` holds the pieces its stage uses and nothing else: the network that
runs the forward pass, a :class:`ContrastiveTerm` (views, label bins, input-level pairs, the
registered loss) in contrastive stages, a :class:`RegressionTerm` (standardised labels, LDS
weights) in regression stages, the stage's :class:`Mixup` (regression-only stages) and the
FDS layer whose statistics it collects (regression stages of FDS runs). Which of them a stage
gets is decided once, by :func:`stage_objective`, from the stage and the run's
:class:`~.config.TrainConfig` (the SupReMix paper §4.3, App. C.1.2 and D.3-D.6; the book's
page "The SupReMix loss, specified"). The views of contrastive stages: :mod:`.protocols`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from supremix.data.label_ops import discretize_labels
from supremix.data.views import two_view_batch
from supremix.imbalance import FDS, LDSWeights
from supremix.losses import regression_loss
from supremix.mixup import cmixup_batch, mixup_batch

from .config import TrainConfig
from .input_pairs import input_level_pairs
from .model import LabelScale, label_scale
from .protocols import (
    Augmentation,
    BatchObserver,
    ContrastiveLoss,
    Stage,
    build_contrastive_loss,
    contrastive_views,
)
from .windows import window_inclusive

Autocast = Callable[[], contextlib.AbstractContextManager]


@dataclass(frozen=True)
class InputPairs:
    """SupReMix's mixtures formed from inputs (``TrainConfig.mix_level == "input"``): the batch
    extended by mixed inputs labelled from the binned labels."""

    window: float
    alpha: float
    beta: float
    inclusive: bool
    label_bin: float | None
    use_groups: bool

    def __call__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        groups: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        labels = y if self.label_bin is None else discretize_labels(y, self.label_bin)
        return input_level_pairs(
            x,
            labels,
            window=self.window,
            alpha=self.alpha,
            beta=self.beta,
            inclusive=self.inclusive,
            groups=groups if self.use_groups else None,
            generator=generator,
        )


@dataclass(frozen=True)
class ContrastiveTerm:
    """A contrastive stage's inputs and loss: ``views`` views per sample (augmented by
    ``augment``), labels rounded to ``label_bin``, then the registered ``loss`` in float32."""

    loss: ContrastiveLoss
    views: int
    augment: Augmentation | None = None
    label_bin: float | None = None
    input_pairs: InputPairs | None = None

    def batch(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        groups: torch.Tensor | None,
        augment_generator: torch.Generator | None,
        loss_generator: torch.Generator | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The views (and input-level pairs) the encoder sees, with their labels and groups."""
        if self.views == 2:
            x = two_view_batch(x, self.augment, augment_generator)
            y = y.repeat(2)
            groups = None if groups is None else groups.repeat(2)
        elif self.augment is not None:
            x = self.augment(x, augment_generator)
        if self.input_pairs is not None:
            x, y, groups = self.input_pairs(x, y, groups, loss_generator)
        return x, y, groups

    def labels(self, y: torch.Tensor) -> torch.Tensor:
        """The labels the loss compares: binned, unless input-level pairs binned them already."""
        if self.label_bin is None or self.input_pairs is not None:
            return y
        return discretize_labels(y, self.label_bin)


@dataclass(frozen=True)
class RegressionTerm:
    """The regression loss (``kind``: l1, mse or huber) on labels standardised by the model's
    :class:`~.model.LabelScale`; Huber's ``huber_delta`` is in label units (1 standardised unit
    when ``None``); with ``lds`` each sample's loss is weighted by its LDS weight (the SupReMix
    paper App. D.5)."""

    kind: str
    scale: LabelScale
    huber_delta: float | None = None
    lds: LDSWeights | None = None

    def __call__(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        scale = self.scale
        pred = scale.standardize(pred.float())
        target = scale.standardize(y)
        delta = 1.0 if self.huber_delta is None else self.huber_delta / float(scale.std)
        if self.lds is None:
            return regression_loss(pred, target, kind=self.kind, huber_delta=delta)
        losses = regression_loss(pred, target, kind=self.kind, reduction="none", huber_delta=delta)
        return (losses * self.lds(y)).mean()


@dataclass(frozen=True)
class Mixup:
    """Mixup of a regression batch (the SupReMix paper App. D.6): ``kind`` ``"input"``
    (mixup) or ``"cmixup"`` (C-Mixup, label-distance sampling with bandwidth ``sigma``)."""

    kind: str
    alpha: float
    sigma: float

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kind == "input":
            return mixup_batch(x, y, alpha=self.alpha, generator=generator)
        return cmixup_batch(x, y, sigma=self.sigma, alpha=self.alpha, generator=generator)


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
    """``objective(x, y, groups) -> (loss, parts)`` for one batch of a stage.

    ``net`` runs the forward pass (the model, or its DDP wrapper); ``fds``, when set, is the
    model's FDS layer: the forward pass calibrates with the labels and the epoch's feature
    statistics are summed in ``fds_moments``. ``parts`` holds ``"con"`` and/or ``"reg"``;
    with both, the loss is ``reg + gamma_con * con`` (multi-task).
    """

    net: nn.Module
    contrastive: ContrastiveTerm | None = None
    regression: RegressionTerm | None = None
    gamma_con: float = 1.0
    regression_augment: Augmentation | None = None
    mixup: Mixup | None = None
    fds: FDS | None = None
    augment_generator: torch.Generator | None = None
    loss_generator: torch.Generator | None = None
    autocast: Autocast = contextlib.nullcontext
    observers: tuple[BatchObserver, ...] = ()
    fds_moments: EpochMoments = field(default_factory=EpochMoments)

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor, groups: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        contrastive = self.contrastive
        if contrastive is not None:
            x, y, groups = contrastive.batch(
                x, y, groups, self.augment_generator, self.loss_generator
            )
        elif self.regression_augment is not None:
            x = self.regression_augment(x, self.augment_generator)
        if self.mixup is not None:
            x, y = self.mixup(x, y, self.augment_generator)
        with self.autocast():
            out = self.net(x) if self.fds is None else self.net(x, y)
        if self.fds is not None:
            self.fds_moments.add(self.fds.bin_moments(out["features"].detach(), y))
        parts: dict[str, torch.Tensor] = {}
        if contrastive is not None:
            z = out["embedding"] if out["embedding"] is not None else out["features"]
            labels = contrastive.labels(y)
            parts["con"] = contrastive.loss(z.float(), labels, groups, self.loss_generator)
            for observe in self.observers:
                observe(z.detach().float(), labels.detach())
        if self.regression is not None:
            parts["reg"] = self.regression(out["pred"], y)
        if "con" in parts and "reg" in parts:
            return parts["reg"] + self.gamma_con * parts["con"], parts
        return next(iter(parts.values())), parts


def stage_objective(
    stage: Stage,
    config: TrainConfig,
    *,
    model: nn.Module,
    net: nn.Module | None = None,
    train_labels: np.ndarray | None = None,
    contrastive_loss: ContrastiveLoss | None = None,
    contrastive_augment: Augmentation | None = None,
    regression_augment: Augmentation | None = None,
    lds: LDSWeights | None = None,
    augment_generator: torch.Generator | None = None,
    loss_generator: torch.Generator | None = None,
    autocast: Autocast = contextlib.nullcontext,
    observers: tuple[BatchObserver, ...] = (),
) -> StageObjective:
    """The objective of ``stage`` of ``config``'s run on ``model`` (its forward pass through
    ``net``, e.g. the DDP wrapper; ``model`` itself by default).

    ``contrastive_loss`` defaults to the config method's registered loss
    (:func:`~.protocols.build_contrastive_loss`, which needs ``train_labels``); the regression
    term reads the label scale of ``model``'s regressor, and ``lds`` weights it. Mixup applies
    to stages without a contrastive loss; FDS (``config.fds``: ``model`` is an
    :class:`~.model.FDSRegressionNet`) to stages with a regression loss.
    """
    contrastive = regression = mixup = None
    if stage.contrastive:
        if contrastive_loss is None:
            contrastive_loss = build_contrastive_loss(config, train_labels)
        pairs = None
        if config.mix_level == "input":
            alpha, beta = config.beta_params
            pairs = InputPairs(
                window=config.window,
                alpha=alpha,
                beta=beta,
                inclusive=window_inclusive(config),
                label_bin=config.label_bin,
                use_groups=config.use_groups,
            )
        contrastive = ContrastiveTerm(
            loss=contrastive_loss,
            views=contrastive_views(config, contrastive_augment),
            augment=contrastive_augment,
            label_bin=config.label_bin,
            input_pairs=pairs,
        )
    if stage.regression:
        regression = RegressionTerm(
            config.regression_loss, label_scale(model), huber_delta=config.huber_delta, lds=lds
        )
        if not stage.contrastive and config.mixup != "none":
            mixup = Mixup(config.mixup, alpha=config.mixup_alpha, sigma=config.cmixup_sigma)
    fds: FDS | None = None
    if config.fds and stage.regression:
        layer = model.fds
        if not isinstance(layer, FDS):
            raise TypeError(
                f"config.fds needs a model with an FDS module (an FDSRegressionNet); "
                f"{type(model).__name__}.fds is a {type(layer).__name__}"
            )
        fds = layer
    return StageObjective(
        net=model if net is None else net,
        contrastive=contrastive,
        regression=regression,
        gamma_con=config.gamma_con,
        regression_augment=None if stage.contrastive else regression_augment,
        mixup=mixup,
        fds=fds,
        augment_generator=augment_generator,
        loss_generator=loss_generator,
        autocast=autocast,
        observers=tuple(observers),
    )
