"""Encoders built from torchvision: ResNet-50 (2-D), R(2+1)D-18 (video) and DenseNet (2-D).

* ResNet-50 with a single-channel stem for the hand X-rays of RSNA and RHPE (the SupReMix paper,
  Table 13,
  App. C.1.1: "the input convolution layer was adjusted to accept single-channel images while
  maintaining the standard bottleneck blocks in a [3,4,6,3] layer configuration").
* r2plus1d-18 for EchoNet videos (the SupReMix paper, Table 13), input ``(B, C, T, H, W)``.
* DenseNet, a task-specific encoder for the pretraining experiment (the SupReMix paper, §5.4, Fig.
  8: 3D
  DenseNet for A4; here the 2-D torchvision DenseNet, single-channel, for bone age).

The classification layer is replaced by the identity, so each encoder returns its pooled
features ``(B, out_dim)``.

Weights: ``pretrained=True`` loads torchvision's ImageNet (``ResNet50_Weights.IMAGENET1K_V2``,
``DenseNet121_Weights.IMAGENET1K_V1``) or Kinetics-400 (``R2Plus1D_18_Weights.KINETICS400_V1``)
weights through torchvision, which downloads them once into ``torch.hub.get_dir()``. Where the
download fails, :class:`WeightsDownloadError` says which file to place where. A stem with
``in_channels != 3`` is adapted by :func:`adapt_input_conv`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision.models import (
    DenseNet,
    DenseNet121_Weights,
    ResNet50_Weights,
    WeightsEnum,
    densenet121,
    resnet50,
)
from torchvision.models.video import R2Plus1D_18_Weights, r2plus1d_18

RESNET50_WEIGHTS = ResNet50_Weights.IMAGENET1K_V2
R2PLUS1D_18_WEIGHTS = R2Plus1D_18_Weights.KINETICS400_V1
DENSENET121_WEIGHTS = DenseNet121_Weights.IMAGENET1K_V1
DENSENET121_CONFIG = (32, (6, 12, 24, 16))  # growth rate, layers per dense block


class WeightsDownloadError(RuntimeError):
    """Pretrained weights could not be downloaded or read."""


def checkpoint_path(weights: WeightsEnum) -> str:
    """Where torchvision caches the file of ``weights`` (and where a user may place it)."""
    filename = os.path.basename(urlparse(weights.url).path)
    return os.path.join(torch.hub.get_dir(), "checkpoints", filename)


def build_with_weights(builder: Callable[..., nn.Module], weights: WeightsEnum) -> nn.Module:
    """``builder(weights=weights)``, turning a failed download into a clear error."""
    try:
        return builder(weights=weights)
    except (OSError, RuntimeError) as error:
        raise WeightsDownloadError(
            f"could not load the pretrained weights {weights} from {weights.url} ({error}). "
            f"Download that file on a machine with internet access and copy it to "
            f"{checkpoint_path(weights)}, or build the encoder with pretrained=False."
        ) from error


def adapt_input_conv(conv: nn.Conv2d | nn.Conv3d, in_channels: int) -> nn.Conv2d | nn.Conv3d:
    """A copy of the RGB stem ``conv`` that reads ``in_channels`` channels.

    The new weight of every input channel is the sum of the RGB weights divided by
    ``in_channels``, so a grey image repeated over the ``in_channels`` inputs gives exactly the
    response of the RGB network to that grey image repeated over R, G and B. For one channel
    this is the sum of the RGB kernels, i.e. their average times 3: plain averaging would scale
    the first activations by 1/3, which the following BatchNorm does not undo at evaluation.
    """
    if in_channels < 1:
        raise ValueError(f"in_channels must be >= 1, got {in_channels!r}")
    if in_channels == conv.in_channels:
        return conv
    new = _with_inputs(conv, in_channels)
    with torch.no_grad():
        summed = conv.weight.sum(dim=1, keepdim=True)
        repeats = (1, in_channels) + (1,) * (conv.weight.dim() - 2)
        new.weight.copy_(summed.repeat(repeats) / in_channels)
        if conv.bias is not None and new.bias is not None:
            new.bias.copy_(conv.bias)
    return new


def _with_inputs(conv: nn.Conv2d | nn.Conv3d, in_channels: int) -> nn.Conv2d | nn.Conv3d:
    """An untrained convolution like ``conv`` (kernel, stride, padding, ...) but with
    ``in_channels`` inputs."""
    settings: dict[str, Any] = {
        "kernel_size": conv.kernel_size,
        "stride": conv.stride,
        "padding": conv.padding,
        "dilation": conv.dilation,
        "groups": conv.groups,
        "bias": conv.bias is not None,
    }
    return type(conv)(in_channels, conv.out_channels, **settings)


def fresh_input_conv(conv: nn.Conv2d | nn.Conv3d, in_channels: int) -> nn.Conv2d | nn.Conv3d:
    """A randomly initialised copy of ``conv`` with ``in_channels`` inputs."""
    if in_channels < 1:
        raise ValueError(f"in_channels must be >= 1, got {in_channels!r}")
    new = _with_inputs(conv, in_channels)
    nn.init.kaiming_normal_(new.weight, mode="fan_out", nonlinearity="relu")
    return new


def _stem(conv: nn.Conv2d | nn.Conv3d, in_channels: int, pretrained: bool) -> nn.Module:
    if pretrained:
        return adapt_input_conv(conv, in_channels)
    return fresh_input_conv(conv, in_channels)


def resnet50_2d(in_channels: int = 1, *, pretrained: bool = False) -> nn.Module:
    """torchvision ResNet-50 with an ``in_channels`` stem and no ``fc``; ``out_dim`` 2048."""
    model: Any = build_with_weights(resnet50, RESNET50_WEIGHTS) if pretrained else resnet50()
    model.conv1 = _stem(model.conv1, in_channels, pretrained)
    model.out_dim = model.fc.in_features
    model.fc = nn.Identity()
    return model


def r2plus1d_18_video(in_channels: int = 3, *, pretrained: bool = False) -> nn.Module:
    """torchvision r2plus1d-18 with an ``in_channels`` stem and no ``fc``; ``out_dim`` 512."""
    model: Any = (
        build_with_weights(r2plus1d_18, R2PLUS1D_18_WEIGHTS) if pretrained else r2plus1d_18()
    )
    model.stem[0] = _stem(model.stem[0], in_channels, pretrained)
    model.out_dim = model.fc.in_features
    model.fc = nn.Identity()
    return model


def densenet_2d(
    in_channels: int = 1,
    *,
    growth_rate: int = 32,
    block_config: Sequence[int] = (6, 12, 24, 16),
    pretrained: bool = False,
) -> nn.Module:
    """torchvision DenseNet (DenseNet-121 by default) with an ``in_channels`` stem.

    ``growth_rate`` and ``block_config`` give small variants (e.g. 8 and ``(2, 2, 2, 2)``); the
    stem has ``2 × growth_rate`` channels as in the DenseNet paper. ImageNet weights exist only
    for the DenseNet-121 configuration.
    """
    config = (growth_rate, tuple(block_config))
    if pretrained and config != DENSENET121_CONFIG:
        raise ValueError(
            f"pretrained DenseNet weights exist only for DenseNet-121 (growth_rate=32, "
            f"block_config=(6, 12, 24, 16)), got growth_rate={growth_rate}, "
            f"block_config={tuple(block_config)}"
        )
    model: Any
    if pretrained:
        model = build_with_weights(densenet121, DENSENET121_WEIGHTS)
    else:
        model = DenseNet(
            growth_rate=growth_rate,
            block_config=tuple(block_config),
            num_init_features=2 * growth_rate,
        )
    model.features.conv0 = _stem(model.features.conv0, in_channels, pretrained)
    model.out_dim = model.classifier.in_features
    model.classifier = nn.Identity()
    return model
