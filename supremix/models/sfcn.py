"""SFCN, the Simple Fully Convolutional Network for brain age (Peng et al. 2021; the SupReMix paper
[1]).

The SupReMix paper's §5.4 and Fig. 8 pretrain SFCN with SupReMix on UK Biobank and A4. The design
(the UK Biobank data card, from the authors' ``sfcn.py``): channels
``[32, 64, 128, 256, 256, 64]``; each of the first five blocks is a 3×3×3 convolution
(padding 1), BatchNorm, 2×2×2 max pooling and ReLU; the last block is a 1×1×1 convolution,
BatchNorm and ReLU. The authors' classifier average-pools with the fixed shape ``[5, 6, 5]``,
which is the whole feature map only for 160×192×160 inputs; this encoder pools globally
instead, which is the same operation at that size and adapts to any other (a 2 mm volume, a
phantom). The soft-label classifier head of the original (40 age bins, KL loss) is not part of
the encoder: a :class:`~supremix.models.heads.LinearRegressor` or a projection head goes on top.

Five poolings halve every spatial size five times, so inputs need at least 32 voxels per axis.
Module names follow the authors' (``feature_extractor.conv_{i}``), so
:func:`load_sfcn_checkpoint` reads their released brain-age weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .resnet import AVGPOOL, BATCHNORM, CONV, MAXPOOL, check_spatial_dims

SFCN_CHANNELS = (32, 64, 128, 256, 256, 64)


def sfcn_channels(width: int = 32) -> tuple[int, ...]:
    """SFCN's channel plan scaled so that the first block has ``width`` channels.

    ``width=32`` gives the paper's ``(32, 64, 128, 256, 256, 64)``.
    """
    if width < 1:
        raise ValueError(f"SFCN width must be a positive integer, got {width!r}")
    return tuple(c * width // 32 or 1 for c in SFCN_CHANNELS)


class SFCN(nn.Module):
    """SFCN feature extractor with global average pooling; returns ``(B, channels[-1])``."""

    def __init__(
        self,
        in_channels: int = 1,
        channels: Sequence[int] = SFCN_CHANNELS,
        *,
        spatial_dims: int = 3,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.spatial_dims = check_spatial_dims(spatial_dims)
        if len(channels) < 2 or min(channels) < 1 or in_channels < 1:
            raise ValueError(
                f"SFCN needs at least two positive channel counts and in_channels >= 1, got "
                f"channels={list(channels)}, in_channels={in_channels}"
            )
        conv, bn = CONV[spatial_dims], BATCHNORM[spatial_dims]
        self.in_channels = in_channels
        self.n_pools = len(channels) - 1
        self.feature_extractor = nn.Sequential()
        previous = in_channels
        for index, out in enumerate(channels):
            if index < self.n_pools:
                block = nn.Sequential(
                    conv(previous, out, 3, padding=1),
                    bn(out),
                    MAXPOOL[spatial_dims](2, stride=2),
                    nn.ReLU(inplace=True),
                )
            else:
                block = nn.Sequential(conv(previous, out, 1), bn(out), nn.ReLU(inplace=True))
            self.feature_extractor.add_module(f"conv_{index}", block)
            previous = out
        self.pool = AVGPOOL[spatial_dims](1)
        self.dropout = nn.Dropout(dropout)
        self.out_dim = int(channels[-1])

    @property
    def min_input_size(self) -> int:
        """Smallest size per spatial axis that survives the max poolings."""
        return 2**self.n_pools

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != self.spatial_dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"SFCN ({self.spatial_dims}-D) expects input (B, {self.in_channels}, "
                f"{', '.join('*' * self.spatial_dims)}), got shape {tuple(x.shape)}"
            )
        if min(x.shape[2:]) < self.min_input_size:
            raise ValueError(
                f"SFCN with {self.n_pools} max-pooling blocks needs at least "
                f"{self.min_input_size} voxels per axis, got spatial shape {tuple(x.shape[2:])}"
            )
        features = self.pool(self.feature_extractor(x))
        return self.dropout(torch.flatten(features, 1))


def load_sfcn_checkpoint(model: SFCN, path: str | Path) -> SFCN:
    """Load the feature extractor of an SFCN checkpoint saved by the authors' code.

    Reads a state dict (possibly of a ``DataParallel`` model, keys prefixed ``module.``) such
    as ``brain_age/run_20190719_00_epoch_best_mae.p``, keeps the ``feature_extractor.*``
    entries and loads them strictly; the soft-label classifier is dropped.
    """
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
    features = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        if key.startswith("feature_extractor."):
            features[key.removeprefix("feature_extractor.")] = value
    if not features:
        raise ValueError(
            f"{path}: no 'feature_extractor.*' entries; expected a state dict of the authors' "
            f"SFCN (keys like 'module.feature_extractor.conv_0.0.weight')"
        )
    model.feature_extractor.load_state_dict(features, strict=True)
    return model
