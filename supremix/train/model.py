"""The network of a run: encoder, projection head (contrastive methods but RnC) and a linear
regressor whose output is in label units (after a parameter-free BatchNorm of the features for
contrastive methods, ``TrainConfig.probe_batchnorm``).

The regressor learns standardised targets: its linear layer is followed by :class:`LabelScale`,
``pred = mean + std * z`` with the training-label mean and standard deviation stored as
buffers, so a freshly initialised regressor already predicts near the label mean (an L1 probe
on bone age in months would otherwise spend thousands of Adam steps moving its bias) and the
regression losses are computed on standardised values.

With ``TrainConfig.fds`` the network is a :class:`FDSRegressionNet`: an
:class:`~supremix.imbalance.FDS` layer calibrates the encoder features before the regressor
during training (Yang et al. 2021; the SupReMix paper's App. D.3); its running statistics are
buffers of the model, hence in checkpoints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from supremix.imbalance import FDS, LabelBins
from supremix.models import (
    LinearRegressor,
    ProjectionHead,
    RegressionNet,
    build_encoder,
    encoder_for_modality,
)
from supremix.models.registry import encoder_out_dim

from .checkpoint import BEST, load_checkpoint
from .config import TrainConfig


class LabelScale(nn.Module):
    """``z -> mean + std * z`` (and :meth:`standardize` for the inverse)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: float = 0.0, std: float = 1.0):
        super().__init__()
        if not std > 0:
            raise ValueError(f"label std must be > 0, got {std}")
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.std + self.mean

    def standardize(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.mean) / self.std


class RegressorHead(nn.Sequential):
    """The regressor's layers, run in float32 even under autocast: in bfloat16 a prediction
    near 200 (months) would be rounded to whole units."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        with torch.autocast(features.device.type, enabled=False):
            return super().forward(features.float())


class FDSRegressionNet(RegressionNet):
    """A :class:`RegressionNet` whose regressor reads FDS-calibrated features.

    ``forward(x, labels)`` calibrates (training mode only) with ``labels``; without labels it is
    :class:`RegressionNet`'s forward. ``features`` in the output are the uncalibrated encoder
    features (what :meth:`FDS.update` collects); the projection head reads them too.
    """

    fds: FDS
    regressor: nn.Module

    def __init__(
        self,
        encoder: nn.Module,
        projection_head: nn.Module | None,
        regressor: nn.Module,
        fds: FDS,
    ):
        super().__init__(encoder, projection_head, regressor)
        self.fds = fds

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor | None]:
        features = self.encoder(x)
        embedding = None if self.projection_head is None else self.projection_head(features)
        calibrated = features if labels is None else self.fds(features, labels)
        return {"features": features, "embedding": embedding, "pred": self.regressor(calibrated)}


def label_statistics(targets: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the training labels (std 1 when all labels are equal)."""
    targets = np.asarray(targets, dtype=np.float64)
    if targets.size == 0:
        raise ValueError("the training set is empty")
    std = float(targets.std())
    return float(targets.mean()), std if std > 0 else 1.0


def build_encoder_for(
    config: TrainConfig, *, modality: str, in_channels: int, data_inputs: dict | None = None
) -> nn.Module:
    """``config.encoder`` by name (with ``config.encoder_kwargs``), else the modality's
    default encoder at ``config.model_size``; ``data_inputs`` are what the data give the
    encoder (:func:`supremix.train.data.encoder_inputs_of`)."""
    extra = dict(data_inputs or {})
    if config.encoder is not None:
        return build_encoder(
            config.encoder, in_channels=in_channels, **config.encoder_kwargs, **extra
        )
    return encoder_for_modality(modality, in_channels=in_channels, size=config.model_size, **extra)


def uses_projection_head(config: TrainConfig) -> bool:
    """Contrastive methods compare projections; RnC compares raw encoder features (its paper:
    "no projection head"; the book's page "The SupReMix loss, specified")."""
    return config.is_contrastive and config.method != "rnc"


def build_model(
    config: TrainConfig,
    *,
    modality: str,
    in_channels: int,
    label_mean: float = 0.0,
    label_std: float = 1.0,
    train_labels: np.ndarray | None = None,
    data_inputs: dict | None = None,
) -> RegressionNet:
    """Encoder + (projection head) + regressor: ``[BatchNorm1d(affine=False)] -> Linear ->
    LabelScale``, its output in label units; with ``config.fds`` an :class:`FDSRegressionNet`
    whose label bins cover ``train_labels`` (required then). ``data_inputs``: see
    :func:`build_encoder_for`."""
    encoder = build_encoder_for(
        config, modality=modality, in_channels=in_channels, data_inputs=data_inputs
    )
    out_dim = encoder_out_dim(encoder)
    head = None
    if uses_projection_head(config):
        head = ProjectionHead(out_dim, config.head_hidden_dim, config.feature_dim)
    layers: list[nn.Module] = [LinearRegressor(out_dim), LabelScale(label_mean, label_std)]
    if (config.is_contrastive or config.freeze_encoder) and config.probe_batchnorm:
        layers.insert(0, nn.BatchNorm1d(out_dim, affine=False))
    if not config.fds:
        return RegressionNet(encoder, head, RegressorHead(*layers))
    if train_labels is None:
        raise ValueError("build_model: config.fds=True needs train_labels (for the label bins)")
    fds = FDS(
        out_dim,
        LabelBins.from_labels(train_labels, config.imbalance_bin),
        momentum=config.fds_momentum,
        start_smooth=config.fds_start_smooth,
        **config.smoothing(),
    )
    return FDSRegressionNet(encoder, head, RegressorHead(*layers), fds)


def load_encoder_weights(model: RegressionNet, source: str | Path) -> Path:
    """Copy the encoder weights of a checkpoint into ``model.encoder`` (``init_encoder``).

    ``source`` is a checkpoint written by :func:`supremix.train.train` (``best.pt`` or
    ``last.pt``) or a run folder (its ``best.pt``). The encoders must have the same
    architecture; the projection head and regressor of the checkpoint are not used. Returns the
    checkpoint file read.
    """
    path = Path(source)
    if path.is_dir():
        path = path / BEST
    if not path.is_file():
        raise FileNotFoundError(
            f"init_encoder: no checkpoint at {path}; expected a best.pt/last.pt written by "
            "supremix.train.train, or the run folder holding best.pt"
        )
    state = load_checkpoint(path)
    if "model" not in state:
        raise ValueError(f"init_encoder: {path} holds no 'model' state; is it a supremix run?")
    prefix = "encoder."
    weights = {k[len(prefix) :]: v for k, v in state["model"].items() if k.startswith(prefix)}
    if not weights:
        raise ValueError(f"init_encoder: {path} has no encoder weights ('encoder.*' keys)")
    try:
        model.encoder.load_state_dict(weights)
    except RuntimeError as error:
        raise ValueError(
            f"init_encoder: the encoder in {path} does not match this run's encoder "
            f"(same encoder, model_size and input channels needed): {error}"
        ) from error
    return path


def label_scale(model: nn.Module) -> LabelScale:
    """The :class:`LabelScale` at the end of the model's regressor."""
    regressor = model.regressor
    scale = regressor[-1] if isinstance(regressor, nn.Sequential) else None
    if not isinstance(scale, LabelScale):
        raise TypeError("the model's regressor does not end with a LabelScale")
    return scale


def set_trainable(
    model: RegressionNet, *, encoder: bool, projection_head: bool, regressor: bool
) -> None:
    """Choose which parts receive gradients; a frozen encoder also keeps its BatchNorm
    statistics (linear probe, the SupReMix paper's §4.3)."""
    if encoder:
        model.unfreeze_encoder()
    else:
        model.freeze_encoder()
    if model.projection_head is not None:
        model.projection_head.requires_grad_(projection_head)
    if model.regressor is not None:
        model.regressor.requires_grad_(regressor)
