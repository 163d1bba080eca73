"""Task-specific encoders of the SupReMix paper's §5.4 (Figure 8) from maintained libraries.

Figure 8 pretrains task-specific architectures with SupReMix. Where a maintained library
provides one, it is built from there rather than written here:

* ``vit_b_16``: torchvision's ViT-B/16 (Dosovitskiy et al. 2021; the paper's "ViT-B" [46]) for
  2-D images, with an ``in_channels`` patch embedding and any ``image_size`` divisible by 16;
  its classification head is dropped, the class token (768 features) is the output.
* ``densenet121_3d``: MONAI's 3-D DenseNet-121 (``monai.networks.nets.DenseNet121``, the
  paper's "3D DenseNet" [55] for A4), its final linear layer dropped (1024 features). MONAI is
  the optional extra ``medical`` (``pip install supremix[medical]``); without it the builder
  says so.
* ``vit3d``: MONAI's Vision Transformer (``monai.networks.nets.ViT``) on volumes, ViT-B's
  size by default (12 layers, 12 heads, width 768, MLP 3072; the paper's "ViT-B" for UK
  Biobank), its class token (after the final norm) as the output. It needs MONAI and einops,
  both in the optional extra ``medical``.
* ``tcn``: a temporal convolutional network for HCP (the paper cites Lea et al. 2017 [49] for
  its TCN; this one is the generic design of Bai, Kolter and Koltun 2018): residual blocks of
  two dilated causal 1-D convolutions (dilation doubling per block, kernel 3, weight-normalised,
  ReLU, dropout), ROIs as input channels, then an average over time. No maintained library ships
  one for this input, so it is written here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

#: ViT-B/16's size: patch 16, 12 layers, 12 heads, width 768, MLP 3072.
VIT_B_16 = {"patch_size": 16, "num_layers": 12, "num_heads": 12, "hidden_dim": 768}
VIT_B_16_MLP = 3072


class ViTFeatures(nn.Module):
    """torchvision's ``VisionTransformer`` returning its class token, ``(B, hidden_dim)``."""

    def __init__(self, vit: nn.Module):
        super().__init__()
        vit.heads = nn.Identity()
        self.vit = vit
        self.out_dim = vit.hidden_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit(x)


def vit_2d(
    in_channels: int = 1,
    *,
    image_size: int = 224,
    patch_size: int = 16,
    num_layers: int = 12,
    num_heads: int = 12,
    hidden_dim: int = 768,
    mlp_dim: int | None = None,
) -> nn.Module:
    """torchvision's ``VisionTransformer`` (ViT-B/16 by default) with an ``in_channels``
    patch embedding; ``image_size`` must be a multiple of ``patch_size``."""
    from torchvision.models.vision_transformer import VisionTransformer

    if image_size % patch_size:
        raise ValueError(
            f"vit: image_size {image_size} is not a multiple of patch_size {patch_size}; "
            "resize the images or change patch_size"
        )
    vit = VisionTransformer(
        image_size=image_size,
        patch_size=patch_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        mlp_dim=mlp_dim or 4 * hidden_dim,
    )
    if in_channels != 3:
        vit.conv_proj = nn.Conv2d(
            in_channels, hidden_dim, kernel_size=patch_size, stride=patch_size
        )
    return ViTFeatures(vit)


def densenet121_3d(in_channels: int = 1, **kwargs) -> nn.Module:
    """MONAI's 3-D DenseNet-121 without its final linear layer, ``out_dim`` 1024 (keyword
    arguments go to ``monai.networks.nets.DenseNet121``, e.g. ``init_features``,
    ``growth_rate``, ``block_config`` for a smaller network)."""
    try:
        from monai.networks.nets import DenseNet121
    except ImportError as error:
        raise ImportError(
            "densenet121_3d is MONAI's 3-D DenseNet-121; install the optional extra "
            "'medical' (pip install 'supremix[medical]', or pip install monai)"
        ) from error
    model: Any = DenseNet121(spatial_dims=3, in_channels=in_channels, out_channels=1, **kwargs)
    model.out_dim = model.class_layers.out.in_features
    model.class_layers.out = nn.Identity()
    return model


class ViT3DFeatures(nn.Module):
    """MONAI's ``ViT`` returning its class token, ``(B, hidden_size)``."""

    def __init__(self, vit: nn.Module, hidden_size: int):
        super().__init__()
        vit.classification_head = nn.Identity()
        self.vit = vit
        self.out_dim = hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit(x)[0]


def vit_3d(
    in_channels: int = 1,
    *,
    img_size: Sequence[int],
    patch_size: int | Sequence[int] = 16,
    hidden_size: int = 768,
    mlp_dim: int | None = None,
    num_layers: int = 12,
    num_heads: int = 12,
) -> nn.Module:
    """MONAI's 3-D ViT (ViT-B by default) on volumes of ``img_size``, which ``patch_size`` must
    divide; ``out_dim`` ``hidden_size``."""
    try:
        import einops  # noqa: F401  (MONAI's ViT imports it lazily; fail here, clearly)
        from monai.networks.nets import ViT
    except ImportError as error:
        raise ImportError(
            "vit3d is MONAI's ViT, which needs MONAI and einops; install the optional extra "
            "'medical' (pip install 'supremix[medical]')"
        ) from error
    sizes = tuple(img_size)
    patches = (patch_size,) * len(sizes) if isinstance(patch_size, int) else tuple(patch_size)
    if len(sizes) != 3 or any(s % p for s, p in zip(sizes, patches, strict=True)):
        raise ValueError(
            f"vit3d: img_size {sizes} must be three sizes, each a multiple of patch_size "
            f"{patches}; crop the volumes or change patch_size"
        )
    vit = ViT(
        in_channels=in_channels,
        img_size=sizes,
        patch_size=patches,
        hidden_size=hidden_size,
        mlp_dim=mlp_dim or 4 * hidden_size,
        num_layers=num_layers,
        num_heads=num_heads,
        classification=True,
        num_classes=1,
        spatial_dims=3,
    )
    return ViT3DFeatures(vit, hidden_size)


class TemporalBlock(nn.Module):
    """Two dilated causal convolutions with a residual connection (Bai et al. 2018, Fig. 1)."""

    def __init__(self, in_ch: int, out_ch: int, *, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = weight_norm(nn.Conv1d(in_ch, out_ch, kernel, dilation=dilation))
        self.conv2 = weight_norm(nn.Conv1d(out_ch, out_ch, kernel, dilation=dilation))
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def _causal(self, conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return conv(nn.functional.pad(x, (self.pad, 0)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dropout(torch.relu(self._causal(self.conv1, x)))
        out = self.dropout(torch.relu(self._causal(self.conv2, out)))
        return torch.relu(out + self.skip(x))


class TCN(nn.Module):
    """A temporal convolutional network over ``(B, C, T)`` series: one
    :class:`TemporalBlock` per entry of ``channels`` (dilation ``2**i``), then the mean over
    time, ``(B, channels[-1])``."""

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int] = (128, 128, 128, 128),
        *,
        kernel: int = 3,
        dropout: float = 0.1,
    ):
        super().__init__()
        if not channels or min(channels) < 1 or kernel < 2:
            raise ValueError(
                f"tcn: channels must be positive and kernel >= 2, got {channels}, {kernel}"
            )
        widths = [in_channels, *channels]
        self.blocks = nn.Sequential(
            *(
                TemporalBlock(a, b, kernel=kernel, dilation=2**i, dropout=dropout)
                for i, (a, b) in enumerate(itertools.pairwise(widths))
            )
        )
        self.out_dim = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x).mean(dim=-1)


def _no_weights(name: str, pretrained: bool) -> None:
    if pretrained:
        raise ValueError(f"encoder {name!r} has no pretrained weights here; use pretrained=False")


def _vit_size(
    name: str, pretrained: bool, width: int | None, depth: int | None, kwargs: dict[str, Any]
) -> tuple[int, int, dict[str, Any]]:
    """Token width (ViT-B's 768 unless ``width``), layers (12 unless ``depth``) and ``kwargs``
    with one head per 64 channels unless they name ``num_heads``."""
    _no_weights(name, pretrained)
    hidden = 768 if width is None else width
    return hidden, 12 if depth is None else depth, {"num_heads": max(1, hidden // 64), **kwargs}


def build_vit2d(
    *, in_channels: int, width: int | None, depth: int | None, pretrained: bool, **kwargs
) -> nn.Module:
    """Registry builder ``vit2d``: ``width`` is the token width (768), ``depth`` the number
    of layers (12); ``image_size``, ``patch_size``, ``num_heads`` as keywords."""
    hidden, layers, kwargs = _vit_size("vit2d", pretrained, width, depth, kwargs)
    return vit_2d(in_channels, hidden_dim=hidden, num_layers=layers, **kwargs)


def build_vit_b_16(
    *, in_channels: int, width: int | None, depth: int | None, pretrained: bool, image_size=224
) -> nn.Module:
    """Registry builder ``vit_b_16``: ViT-B/16 exactly (no width or depth)."""
    _no_weights("vit_b_16", pretrained)
    if width is not None or depth is not None:
        raise ValueError("encoder 'vit_b_16' has a fixed size; use 'vit2d' for other sizes")
    return vit_2d(in_channels, image_size=image_size, **VIT_B_16, mlp_dim=VIT_B_16_MLP)


def build_vit3d(
    *, in_channels: int, width: int | None, depth: int | None, pretrained: bool, **kwargs
) -> nn.Module:
    """Registry builder ``vit3d`` (MONAI): ``width`` is the token width (768), ``depth`` the
    number of layers (12); ``img_size`` (required), ``patch_size``, ``num_heads`` as keywords."""
    hidden, layers, kwargs = _vit_size("vit3d", pretrained, width, depth, kwargs)
    return vit_3d(in_channels, hidden_size=hidden, num_layers=layers, **kwargs)


def build_densenet121_3d(
    *, in_channels: int, width: int | None, depth: int | None, pretrained: bool, **kwargs
) -> nn.Module:
    """Registry builder ``densenet121_3d`` (MONAI): ``width`` is the growth rate (32)."""
    _no_weights("densenet121_3d", pretrained)
    if depth is not None:
        raise ValueError("encoder 'densenet121_3d' takes block_config=(...), not depth")
    if width is not None:
        kwargs["growth_rate"] = width
    return densenet121_3d(in_channels, **kwargs)


def build_tcn(
    *, in_channels: int, width: int | None, depth: int | None, pretrained: bool, **kwargs
) -> nn.Module:
    """Registry builder ``tcn``: ``width`` channels in each of ``depth`` blocks (128, 4)."""
    _no_weights("tcn", pretrained)
    channels = [128 if width is None else width] * (4 if depth is None else depth)
    return TCN(in_channels, channels, **kwargs)
