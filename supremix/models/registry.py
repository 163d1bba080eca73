"""Encoders by name (:func:`build_encoder`) and by input modality (:func:`encoder_for_modality`).

Every encoder maps a batch to flat features ``(B, out_dim)`` and has an int ``out_dim``.

Generic builders take a base ``width`` and a ``depth``; fixed paper configurations (aliases)
take neither. Only the torchvision configurations have pretrained weights.

=============== ========================================= ===================== ==========
name            encoder                                   input                 pretrained
=============== ========================================= ===================== ==========
resnet1d        ResNet over time, ROIs as channels        (B, C, T)             no
resnet2d        ResNet on images                          (B, C, H, W)          no
resnet3d        ResNet on volumes (7×7×7 stem, max pool)  (B, C, D, H, W)       no
r2plus1d        ResNet with (2+1)-D convolutions          (B, C, T, H, W)       no
resnet18_1d     resnet1d, depth 18, width 64 (HCP)        (B, 400, T)           no
resnet18_3d     resnet3d, depth 18, width 64 (UKB, A4)    (B, 1, D, H, W)       no
resnet50_2d     torchvision ResNet-50 (RSNA, RHPE)        (B, 1, H, W)          ImageNet
r2plus1d_18     torchvision r2plus1d-18 (EchoNet)         (B, 3, T, H, W)       Kinetics-400
mlp             Linear-ReLU d-20-30-10 (airfoil)          (B, d)                no
bilstm          BiLSTM pair encoder (STS-B-DIR)           (B, 2, L) token ids   GloVe**
sfcn            SFCN, brain age (the SupReMix paper, §5.4)           (B, 1, D, H, W)       no
densenet2d      torchvision DenseNet (bone age, §5.4)     (B, 1, H, W)          ImageNet*
densenet121_2d  densenet2d at the DenseNet-121 size       (B, 1, H, W)          ImageNet
vit2d           torchvision ViT (§5.4)                    (B, C, H, W)          no
vit_b_16        vit2d at the ViT-B/16 size                (B, C, 224, 224)      no
densenet121_3d  MONAI 3-D DenseNet-121 (A4, §5.4)         (B, C, D, H, W)       no
vit3d           MONAI 3-D ViT, ViT-B size (UKB, §5.4)     (B, C, D, H, W)       no
tcn             temporal convolutional network (HCP)      (B, C, T)             no
=============== ========================================= ===================== ==========

``densenet121_3d`` needs MONAI, ``vit3d`` MONAI and einops: the optional extra ``medical``
(:mod:`supremix.models.task_specific`).

(*) only at the DenseNet-121 size. (**) word vectors that the dataset passes as ``vectors``
(:meth:`supremix.data.stsb.STSBDIR.encoder_inputs`), never downloaded. ``width`` means: the
stem width of the ResNets (64), the first-block channels of SFCN (32), the growth rate of
DenseNet (32), the LSTM units per direction of the BiLSTM (1500; ``depth``: its layers, 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..data.base import MODALITIES
from .mlp import MLP_HIDDEN, MLPEncoder
from .resnet import resnet
from .sfcn import SFCN, sfcn_channels
from .task_specific import (
    build_densenet121_3d,
    build_tcn,
    build_vit2d,
    build_vit3d,
    build_vit_b_16,
)
from .text import PAPER_SIZE, BiLSTMPairEncoder
from .torchvision_encoders import densenet_2d, r2plus1d_18_video, resnet50_2d

SIZES = ("cpu", "paper")


@dataclass(frozen=True)
class EncoderEntry:
    """A registered encoder: its builder, one line on what it is, its pretrained weights."""

    build: Callable[..., nn.Module]
    summary: str
    pretrained_weights: str | None = None


def _no_pretrained(name: str, pretrained: bool) -> None:
    if pretrained:
        with_weights = ", ".join(n for n, e in ENCODERS.items() if e.pretrained_weights)
        raise ValueError(
            f"encoder {name!r} has no pretrained weights; encoders with weights: {with_weights}"
        )


def _fixed(name: str, width: int | None, depth: int | None, fixed_width: int, fixed_depth: int):
    """Reject a width or depth that differs from a fixed configuration's."""
    for what, given, fixed in (("width", width, fixed_width), ("depth", depth, fixed_depth)):
        if given is not None and given != fixed:
            raise ValueError(
                f"encoder {name!r} has the fixed {what} {fixed}, got {what}={given}; use the "
                f"generic builder (e.g. 'resnet2d', 'resnet3d', 'r2plus1d') for other sizes"
            )


def _no_size(name: str, width: int | None, depth: int | None) -> None:
    if width is not None or depth is not None:
        raise ValueError(
            f"encoder {name!r} takes no width or depth, got width={width}, depth={depth}"
        )


def _resnet_builder(spatial_dims: int, conv: str = "standard") -> Callable[..., nn.Module]:
    name = "r2plus1d" if conv == "2plus1d" else f"resnet{spatial_dims}d"

    def build(*, in_channels: int, width: int | None, depth: int | None, pretrained: bool):
        _no_pretrained(name, pretrained)
        return resnet(
            spatial_dims,
            in_channels=in_channels,
            width=64 if width is None else width,
            depth=18 if depth is None else depth,
            conv=conv,
        )

    return build


def _resnet18_builder(spatial_dims: int) -> Callable[..., nn.Module]:
    name = f"resnet18_{spatial_dims}d"

    def build(*, in_channels: int, width: int | None, depth: int | None, pretrained: bool):
        _fixed(name, width, depth, 64, 18)
        _no_pretrained(name, pretrained)
        return resnet(spatial_dims, in_channels=in_channels, width=64, depth=18)

    return build


def _resnet50_2d(*, in_channels: int, width: int | None, depth: int | None, pretrained: bool):
    _fixed("resnet50_2d", width, depth, 64, 50)
    return resnet50_2d(in_channels, pretrained=pretrained)


def _r2plus1d_18(*, in_channels: int, width: int | None, depth: int | None, pretrained: bool):
    _fixed("r2plus1d_18", width, depth, 64, 18)
    return r2plus1d_18_video(in_channels, pretrained=pretrained)


def _mlp(
    *,
    in_channels: int,
    width: int | None,
    depth: int | None,
    pretrained: bool,
    hidden: Sequence[int] = MLP_HIDDEN,
):
    _no_size("mlp", width, depth)
    _no_pretrained("mlp", pretrained)
    return MLPEncoder(in_channels, hidden)


def _sfcn(
    *,
    in_channels: int,
    width: int | None,
    depth: int | None,
    pretrained: bool,
    spatial_dims: int = 3,
    dropout: float = 0.0,
):
    if depth is not None:
        raise ValueError(f"encoder 'sfcn' takes no depth, got depth={depth}")
    if pretrained:
        raise ValueError(
            "encoder 'sfcn' downloads no weights; load the authors' brain-age checkpoint with "
            "supremix.models.load_sfcn_checkpoint(model, path)"
        )
    channels = sfcn_channels(32 if width is None else width)
    return SFCN(in_channels, channels, spatial_dims=spatial_dims, dropout=dropout)


def _densenet2d(
    *,
    in_channels: int,
    width: int | None,
    depth: int | None,
    pretrained: bool,
    block_config: Sequence[int] = (6, 12, 24, 16),
):
    if depth is not None and depth != 121:
        raise ValueError(
            f"encoder 'densenet2d' takes depth 121 or block_config=(...), got depth={depth}"
        )
    return densenet_2d(
        in_channels,
        growth_rate=32 if width is None else width,
        block_config=block_config,
        pretrained=pretrained,
    )


def _densenet121_2d(*, in_channels: int, width: int | None, depth: int | None, pretrained: bool):
    _fixed("densenet121_2d", width, depth, 32, 121)
    return densenet_2d(in_channels, pretrained=pretrained)


def _bilstm(
    *,
    in_channels: int,
    width: int | None,
    depth: int | None,
    pretrained: bool,
    vocab_size: int | None = None,
    vectors: Any = None,
    embedding_dim: int = PAPER_SIZE["embedding_dim"],
    dropout: float = PAPER_SIZE["dropout"],
):
    if in_channels != 2 or vocab_size is None:
        raise ValueError(
            "encoder 'bilstm' reads sentence pairs: in_channels must be 2 and vocab_size given "
            f"(by the dataset's encoder_inputs), got in_channels={in_channels}, "
            f"vocab_size={vocab_size}"
        )
    if pretrained and vectors is None:
        raise ValueError("encoder 'bilstm' has pretrained word vectors only when given vectors")
    return BiLSTMPairEncoder(
        vocab_size,
        vectors=vectors,
        embedding_dim=embedding_dim,
        hidden=PAPER_SIZE["hidden"] if width is None else width,
        layers=PAPER_SIZE["layers"] if depth is None else depth,
        dropout=dropout,
    )


ENCODERS: dict[str, EncoderEntry] = {
    "resnet1d": EncoderEntry(_resnet_builder(1), "ResNet over time, input (B, C, T)"),
    "resnet2d": EncoderEntry(_resnet_builder(2), "ResNet on images, input (B, C, H, W)"),
    "resnet3d": EncoderEntry(_resnet_builder(3), "ResNet on volumes, input (B, C, D, H, W)"),
    "r2plus1d": EncoderEntry(
        _resnet_builder(3, "2plus1d"), "(2+1)-D ResNet on videos, input (B, C, T, H, W)"
    ),
    "resnet18_1d": EncoderEntry(_resnet18_builder(1), "1-D ResNet-18 of HCP (the SupReMix paper)"),
    "resnet18_3d": EncoderEntry(
        _resnet18_builder(3), "3-D ResNet-18 of UKB and A4 (the SupReMix paper)"
    ),
    "resnet50_2d": EncoderEntry(
        _resnet50_2d, "torchvision ResNet-50, RSNA and RHPE (the SupReMix paper)", "ImageNet-1k"
    ),
    "r2plus1d_18": EncoderEntry(
        _r2plus1d_18, "torchvision r2plus1d-18, EchoNet (the SupReMix paper)", "Kinetics-400"
    ),
    "mlp": EncoderEntry(_mlp, "MLP d-20-30-10, UCI airfoil (Mixup Your Own Pairs)"),
    "bilstm": EncoderEntry(_bilstm, "BiLSTM sentence-pair encoder, STS-B-DIR"),
    "sfcn": EncoderEntry(_sfcn, "SFCN, brain age (the SupReMix paper, §5.4)"),
    "densenet2d": EncoderEntry(
        _densenet2d, "torchvision DenseNet, bone age (the SupReMix paper, §5.4)", "ImageNet-1k"
    ),
    "densenet121_2d": EncoderEntry(
        _densenet121_2d,
        "torchvision DenseNet-121, bone age (the SupReMix paper, §5.4)",
        "ImageNet-1k",
    ),
    "vit2d": EncoderEntry(build_vit2d, "torchvision Vision Transformer (§5.4)"),
    "vit_b_16": EncoderEntry(build_vit_b_16, "torchvision ViT-B/16 (§5.4)"),
    "densenet121_3d": EncoderEntry(build_densenet121_3d, "MONAI 3-D DenseNet-121, A4 (§5.4)"),
    "vit3d": EncoderEntry(build_vit3d, "MONAI 3-D Vision Transformer, UK Biobank (§5.4)"),
    "tcn": EncoderEntry(build_tcn, "temporal convolutional network, HCP (§5.4)"),
}


def encoder_out_dim(encoder: nn.Module) -> int:
    """The width ``out_dim`` of the features ``encoder`` returns (every registered encoder
    has one)."""
    out_dim = getattr(encoder, "out_dim", None)
    if not isinstance(out_dim, int):
        raise TypeError(
            f"{type(encoder).__name__} has no int 'out_dim'; expected an encoder of "
            "supremix.models (features of shape (B, out_dim))"
        )
    return out_dim


def build_encoder(
    name: str,
    *,
    in_channels: int,
    width: int | None = None,
    depth: int | None = None,
    pretrained: bool = False,
    **kwargs: Any,
) -> nn.Module:
    """The encoder registered as ``name`` (see the module table); returns ``(B, out_dim)``.

    ``width`` and ``depth`` default to the paper's (ResNets: 64 and 18). For ``"mlp"``,
    ``in_channels`` is the number of input features and ``hidden`` (default ``(20, 30, 10)``)
    the hidden widths. Other keyword arguments: ``spatial_dims`` and ``dropout`` for
    ``"sfcn"``, ``block_config`` for ``"densenet2d"``.
    """
    try:
        entry = ENCODERS[name]
    except KeyError:
        raise ValueError(
            f"unknown encoder {name!r}; expected one of {', '.join(ENCODERS)}"
        ) from None
    if not isinstance(in_channels, int) or in_channels < 1:
        raise ValueError(f"in_channels must be a positive int, got {in_channels!r}")
    return entry.build(
        in_channels=in_channels, width=width, depth=depth, pretrained=pretrained, **kwargs
    )


# modality -> size -> (encoder name, build_encoder keyword arguments)
MODALITY_ENCODERS: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "image2d": {"paper": ("resnet50_2d", {}), "cpu": ("resnet2d", {"width": 8, "depth": 10})},
    "volume3d": {"paper": ("resnet18_3d", {}), "cpu": ("resnet3d", {"width": 8, "depth": 10})},
    "timeseries": {
        "paper": ("resnet18_1d", {}),
        "cpu": ("resnet1d", {"width": 16, "depth": 10}),
    },
    "video": {"paper": ("r2plus1d_18", {}), "cpu": ("r2plus1d", {"width": 8, "depth": 10})},
    "tabular": {"paper": ("mlp", {}), "cpu": ("mlp", {})},
    "text": {
        "paper": ("bilstm", {}),
        "cpu": ("bilstm", {"width": 32, "depth": 1, "embedding_dim": 32}),
    },
}


def encoder_for_modality(
    modality: str,
    *,
    in_channels: int,
    size: str = "cpu",
    pretrained: bool = False,
    **data_inputs: Any,
) -> nn.Module:
    """The paper's encoder for ``modality`` (``size="paper"``) or a small CPU variant.

    Paper encoders follow the SupReMix paper's Table 13 (and Mixup Your Own Pairs for tabular data);
    the CPU variants are the same families at depth 10 and width 8 (16 for time series).
    ``pretrained`` is valid where the chosen encoder has weights (``image2d`` and ``video`` at the
    paper size).
    ``data_inputs``: what the data give the encoder (text: ``vocab_size`` and ``vectors``).
    """
    if modality not in MODALITY_ENCODERS:
        raise ValueError(f"unknown modality {modality!r}; expected one of {', '.join(MODALITIES)}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    name, options = MODALITY_ENCODERS[modality][size]
    return build_encoder(
        name, in_channels=in_channels, pretrained=pretrained, **options, **data_inputs
    )
