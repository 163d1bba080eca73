"""One residual-network builder for 1-D, 2-D and 3-D inputs (the SupReMix paper, Table 13, App.
C.1.1).

:func:`resnet` builds the ResNets of the papers from ``spatial_dims`` (MONAI style), ``depth``
and a base ``width``:

* ``spatial_dims=3``: the 3-D ResNet-18 of UK Biobank and A4 (the SupReMix paper, App. C.1.1): a
  7×7×7
  stem convolution with stride 2 and 64 channels, 3×3×3 max pooling with stride 2, four stages
  of widths [64, 128, 256, 512], BatchNorm3d and ReLU after every convolution, global average
  pooling. Input ``(B, C, D, H, W)``.
* ``spatial_dims=1``: the 1-D ResNet-18 of HCP (the SupReMix paper, App. C.1.1): the 400 ROI time
  series
  are the input channels, the stem is a kernel-7 stride-2 convolution to 64 channels and the
  residual stages run over time; adaptive average pooling accepts any length. Input
  ``(B, ROIs, T)``.
* ``spatial_dims=2``: the same design on images, ``(B, C, H, W)``. At ``depth=50``,
  ``width=64`` its modules and parameter names are those of torchvision's ResNet-50 (without
  ``fc``), so a torchvision state dict loads into it.
* ``conv="2plus1d"`` (3-D only): R(2+1)D convolutions, a spatial 1×3×3 convolution followed by
  a temporal 3×1×1 one, with the intermediate width that gives about the parameters of the
  full 3×3×3 convolution (Tran et al. 2018, the r2plus1d-18 of the SupReMix paper's App. C.1.1).
  Input
  ``(B, C, T, H, W)``. As in torchvision's r2plus1d-18 the stem is a 1×7×7 spatial convolution
  with stride (1, 2, 2) then a 3×1×1 temporal one, without max pooling, and stages 2-4 stride
  time as well as space; at ``depth=18, width=64`` the parameter count equals torchvision's.

The stem of the 1-D and 2-D networks keeps the max pooling of the standard ResNet; the SupReMix
paper states it only for the 3-D network. ``depth`` picks the blocks: 10 and 18 and 34 use basic
blocks ([1,1,1,1], [2,2,2,2], [3,4,6,3]), 50 uses bottlenecks ([3,4,6,3]). ``width`` is the
stem width; the stages have ``width × (1, 2, 4, 8)`` channels (times 4 for bottlenecks), so
``width=8, depth=10`` is a network small enough for a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
BATCHNORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
MAXPOOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVGPOOL = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}
CONV_TYPES = ("standard", "2plus1d")


def check_spatial_dims(spatial_dims: int) -> int:
    """Return ``spatial_dims`` if it is 1, 2 or 3, else raise a clear ``ValueError``."""
    if spatial_dims not in CONV:
        raise ValueError(f"spatial_dims must be 1, 2 or 3, got {spatial_dims!r}")
    return spatial_dims


def midplanes_2plus1d(in_planes: int, out_planes: int) -> int:
    """Intermediate width of a (2+1)-D convolution with the parameters of a full 3×3×3 one.

    ``⌊27·in·out / (9·in + 3·out)⌋`` (Tran et al. 2018, "A closer look at spatiotemporal
    convolutions", §3.5).
    """
    return max(1, (in_planes * out_planes * 27) // (in_planes * 9 + 3 * out_planes))


class Conv2Plus1d(nn.Sequential):
    """A 3×3×3 convolution factorised into a 1×3×3 spatial and a 3×1×1 temporal convolution.

    ``mid`` channels between them, with BatchNorm and ReLU; ``stride`` applies to space in the
    first and to time in the second.
    """

    def __init__(self, in_planes: int, out_planes: int, mid: int, stride: int = 1):
        super().__init__(
            nn.Conv3d(
                in_planes, mid, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False
            ),
            nn.BatchNorm3d(mid),
            nn.ReLU(inplace=True),
            nn.Conv3d(
                mid, out_planes, (3, 1, 1), stride=(stride, 1, 1), padding=(1, 0, 0), bias=False
            ),
        )


def conv3x3(
    spatial_dims: int, conv: str, in_planes: int, out_planes: int, stride: int = 1, mid: int = 0
) -> nn.Module:
    """The 3-wide convolution of a residual block: full, or (2+1)-D with ``mid`` channels."""
    if conv == "2plus1d":
        return Conv2Plus1d(in_planes, out_planes, mid, stride)
    return CONV[spatial_dims](in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


def conv1x1(spatial_dims: int, in_planes: int, out_planes: int, stride: int = 1) -> nn.Module:
    """A pointwise convolution (projection shortcut and bottleneck ends)."""
    return CONV[spatial_dims](in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3-wide convolutions with a residual connection (He et al. 2016, Fig. 2).

    In (2+1)-D both convolutions use the intermediate width computed from the block's input
    and output widths, as torchvision's r2plus1d-18 does.
    """

    expansion = 1

    def __init__(self, spatial_dims: int, conv: str, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        bn = BATCHNORM[spatial_dims]
        mid = midplanes_2plus1d(in_planes, planes)
        self.conv1 = conv3x3(spatial_dims, conv, in_planes, planes, stride, mid)
        self.bn1 = bn(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(spatial_dims, conv, planes, planes, 1, mid)
        self.bn2 = bn(planes)
        self.downsample = shortcut(spatial_dims, in_planes, planes * self.expansion, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1-wide, 3-wide (strided) and 1-wide convolutions, widening by 4 (He et al. 2016, Fig. 5)."""

    expansion = 4

    def __init__(self, spatial_dims: int, conv: str, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        bn = BATCHNORM[spatial_dims]
        self.conv1 = conv1x1(spatial_dims, in_planes, planes)
        self.bn1 = bn(planes)
        mid = midplanes_2plus1d(in_planes, planes)
        self.conv2 = conv3x3(spatial_dims, conv, planes, planes, stride, mid)
        self.bn2 = bn(planes)
        self.conv3 = conv1x1(spatial_dims, planes, planes * self.expansion)
        self.bn3 = bn(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = shortcut(spatial_dims, in_planes, planes * self.expansion, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def shortcut(spatial_dims: int, in_planes: int, out_planes: int, stride: int) -> nn.Module | None:
    """Projection shortcut (1-wide convolution + BatchNorm) where the shape changes, else None."""
    if stride == 1 and in_planes == out_planes:
        return None
    return nn.Sequential(
        conv1x1(spatial_dims, in_planes, out_planes, stride), BATCHNORM[spatial_dims](out_planes)
    )


# depth -> (block, blocks per stage)
DEPTHS: dict[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    10: (BasicBlock, (1, 1, 1, 1)),
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
}


class ResNet(nn.Module):
    """Stem, four residual stages and global average pooling; returns ``(B, out_dim)`` features.

    Build it with :func:`resnet`. ``out_dim`` is ``widths[-1] × block.expansion``.
    """

    def __init__(
        self,
        *,
        spatial_dims: int,
        in_channels: int,
        block: type[BasicBlock] | type[Bottleneck],
        layers: Sequence[int],
        widths: Sequence[int],
        conv: str = "standard",
    ):
        super().__init__()
        self.spatial_dims = check_spatial_dims(spatial_dims)
        if conv not in CONV_TYPES:
            raise ValueError(f"conv must be one of {', '.join(CONV_TYPES)}, got {conv!r}")
        if conv == "2plus1d" and spatial_dims != 3:
            raise ValueError(f"conv='2plus1d' needs spatial_dims=3 (video), got {spatial_dims}")
        if len(layers) != len(widths) or not layers:
            raise ValueError(
                f"layers {list(layers)} and widths {list(widths)} must be non-empty and match"
            )
        if in_channels < 1 or min(widths) < 1 or min(layers) < 1:
            raise ValueError(
                f"in_channels, widths and layers must be positive, got in_channels={in_channels}, "
                f"widths={list(widths)}, layers={list(layers)}"
            )
        self.in_channels = in_channels
        self.conv_type = conv
        bn = BATCHNORM[spatial_dims]
        stem_width = widths[0]
        self.conv1: nn.Module
        self.maxpool: nn.Module
        if conv == "2plus1d":
            mid = max(1, round(45 * stem_width / 64))  # r2plus1d-18 stem: 45 channels at width 64
            self.conv1 = nn.Sequential(
                nn.Conv3d(
                    in_channels, mid, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False
                ),
                bn(mid),
                nn.ReLU(inplace=True),
                nn.Conv3d(mid, stem_width, (3, 1, 1), padding=(1, 0, 0), bias=False),
            )
            self.maxpool = nn.Identity()
        else:
            self.conv1 = CONV[spatial_dims](
                in_channels, stem_width, 7, stride=2, padding=3, bias=False
            )
            self.maxpool = MAXPOOL[spatial_dims](kernel_size=3, stride=2, padding=1)
        self.bn1 = bn(stem_width)
        self.relu = nn.ReLU(inplace=True)
        planes_in = stem_width
        stages = []
        for index, (n_blocks, planes) in enumerate(zip(layers, widths, strict=True)):
            stride = 1 if index == 0 else 2
            blocks = []
            for b in range(n_blocks):
                blocks.append(block(spatial_dims, conv, planes_in, planes, stride if b == 0 else 1))
                planes_in = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        # Named layer1..layerN as in torchvision, so its ResNet state dicts load.
        for index, stage in enumerate(stages, start=1):
            self.add_module(f"layer{index}", stage)
        self.n_stages = len(stages)
        self.avgpool = AVGPOOL[spatial_dims](1)
        self.out_dim = planes_in
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != self.spatial_dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} ({self.spatial_dims}-D) expects input "
                f"(B, {self.in_channels}, {', '.join('*' * self.spatial_dims)}), "
                f"got shape {tuple(x.shape)}"
            )
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index in range(1, self.n_stages + 1):
            x = getattr(self, f"layer{index}")(x)
        return torch.flatten(self.avgpool(x), 1)


def resnet(
    spatial_dims: int,
    *,
    in_channels: int,
    depth: int = 18,
    width: int = 64,
    conv: str = "standard",
) -> ResNet:
    """A ResNet of ``depth`` (10, 18, 34, 50) and stem width ``width`` over ``spatial_dims``.

    ``resnet(3, in_channels=1)`` is the 3-D ResNet-18 of the SupReMix paper's App. C.1.1;
    ``resnet(1, in_channels=400)`` the 1-D ResNet-18 of HCP; ``resnet(3, in_channels=3,
    conv="2plus1d")`` an R(2+1)D-18 with the layout of torchvision's r2plus1d-18.
    """
    if depth not in DEPTHS:
        raise ValueError(
            f"ResNet depth must be one of {', '.join(map(str, DEPTHS))}, got {depth!r}"
        )
    if width < 1:
        raise ValueError(f"ResNet width must be a positive integer, got {width!r}")
    block, layers = DEPTHS[depth]
    return ResNet(
        spatial_dims=spatial_dims,
        in_channels=in_channels,
        block=block,
        layers=layers,
        widths=tuple(width * 2**i for i in range(4)),
        conv=conv,
    )
