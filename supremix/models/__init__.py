"""Encoders and heads of the papers (the SupReMix paper, Table 13 and App. C.1.1, Mixup Your Own
Pairs' §4).

>>> from supremix.models import build_encoder, ProjectionHead, LinearRegressor, RegressionNet
>>> encoder = build_encoder("resnet3d", in_channels=1, width=8, depth=10)
>>> head, regressor = ProjectionHead(encoder.out_dim), LinearRegressor(encoder.out_dim)
>>> model = RegressionNet(encoder, head, regressor)
"""

from ..extras import require

require("train", by=__name__)

from .heads import LinearRegressor, ProjectionHead, RegressionNet
from .mlp import MLPEncoder
from .registry import (
    ENCODERS,
    MODALITY_ENCODERS,
    EncoderEntry,
    build_encoder,
    encoder_for_modality,
)
from .resnet import ResNet, resnet
from .sfcn import SFCN, load_sfcn_checkpoint, sfcn_channels
from .torchvision_encoders import (
    WeightsDownloadError,
    adapt_input_conv,
    densenet_2d,
    r2plus1d_18_video,
    resnet50_2d,
)

__all__ = [
    "ENCODERS",
    "MODALITY_ENCODERS",
    "SFCN",
    "EncoderEntry",
    "LinearRegressor",
    "MLPEncoder",
    "ProjectionHead",
    "RegressionNet",
    "ResNet",
    "WeightsDownloadError",
    "adapt_input_conv",
    "build_encoder",
    "densenet_2d",
    "encoder_for_modality",
    "load_sfcn_checkpoint",
    "r2plus1d_18_video",
    "resnet",
    "resnet50_2d",
    "sfcn_channels",
]
