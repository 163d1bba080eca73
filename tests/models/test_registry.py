"""build_encoder and encoder_for_modality: every name, its out_dim, clear errors."""

import pytest
import torch
from torch import nn

from supremix.models import ENCODERS, MODALITY_ENCODERS, build_encoder, encoder_for_modality
from supremix.models.mlp import MLPEncoder
from supremix.models.resnet import ResNet
from supremix.models.sfcn import SFCN

# name -> (build_encoder arguments, input shape); small sizes where the name allows them
TINY = {
    "resnet1d": ({"in_channels": 400, "width": 8, "depth": 10}, (2, 400, 40)),
    "resnet2d": ({"in_channels": 1, "width": 8, "depth": 10}, (2, 1, 32, 24)),
    "resnet3d": ({"in_channels": 1, "width": 8, "depth": 10}, (2, 1, 16, 16, 16)),
    "r2plus1d": ({"in_channels": 3, "width": 8, "depth": 10}, (2, 3, 4, 16, 16)),
    "resnet18_1d": ({"in_channels": 400}, (2, 400, 40)),
    "resnet18_3d": ({"in_channels": 1}, (1, 1, 16, 16, 16)),
    "resnet50_2d": ({"in_channels": 1}, (2, 1, 32, 32)),
    "r2plus1d_18": ({"in_channels": 3}, (1, 3, 2, 16, 16)),
    "mlp": ({"in_channels": 5}, (4, 5)),
    "sfcn": ({"in_channels": 1, "width": 4}, (2, 1, 32, 32, 32)),
    "densenet2d": ({"in_channels": 1, "width": 8, "block_config": (2, 2, 2, 2)}, (2, 1, 32, 32)),
    "densenet121_2d": ({"in_channels": 1}, (1, 1, 32, 32)),
    "vit2d": ({"in_channels": 1, "width": 16, "depth": 1, "image_size": 32}, (2, 1, 32, 32)),
    "vit_b_16": ({"in_channels": 1}, (1, 1, 224, 224)),
    "densenet121_3d": (
        {"in_channels": 1, "width": 4, "init_features": 8, "block_config": (1, 1, 1, 1)},
        (2, 1, 32, 32, 32),
    ),
    "vit3d": (
        {"in_channels": 1, "width": 16, "depth": 1, "img_size": (16, 16, 16), "patch_size": 8},
        (2, 1, 16, 16, 16),
    ),
    "tcn": ({"in_channels": 400, "width": 8, "depth": 2}, (2, 400, 40)),
    "bilstm": ({"in_channels": 2, "vocab_size": 30, "width": 4, "depth": 1}, (2, 2, 7)),
}
PAPER_OUT_DIM = {
    "resnet18_1d": 512,
    "resnet18_3d": 512,
    "resnet50_2d": 2048,
    "r2plus1d_18": 512,
    "mlp": 10,
    "densenet121_2d": 1024,
    "vit_b_16": 768,
}


def test_every_registered_name_is_tested():
    assert set(TINY) == set(ENCODERS)


#: Full-size networks whose forward pass takes more than a few seconds on a 2-core CPU.
SLOW_ENCODERS = {"densenet121_3d", "densenet2d", "r2plus1d_18", "vit_b_16"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_ENCODERS else n for n in sorted(TINY)],
)
def test_every_encoder_returns_flat_features_of_out_dim(name):
    arguments, shape = TINY[name]
    encoder = build_encoder(name, **arguments).eval()
    assert isinstance(encoder.out_dim, int)
    x = torch.randint(1, 30, shape) if name == "bilstm" else torch.randn(shape)  # token ids
    with torch.no_grad():
        assert encoder(x).shape == (shape[0], encoder.out_dim)
    if name in PAPER_OUT_DIM:
        assert encoder.out_dim == PAPER_OUT_DIM[name]


def test_generic_defaults_are_the_paper_resnet18():
    encoder = build_encoder("resnet3d", in_channels=1)
    assert encoder.conv1.out_channels == 64 and len(encoder.layer1) == 2


def test_mlp_hidden_widths():
    encoder = build_encoder("mlp", in_channels=5, hidden=(20, 30, 10))
    linear = [m for m in encoder.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(5, 20), (20, 30), (30, 10)]
    assert build_encoder("mlp", in_channels=3, hidden=(4,)).out_dim == 4


@pytest.mark.parametrize("modality", sorted(MODALITY_ENCODERS))
def test_cpu_encoders_for_each_modality_run(modality):
    shapes = {
        "image2d": (2, 1, 32, 32),
        "volume3d": (2, 1, 16, 16, 16),
        "timeseries": (2, 400, 50),
        "video": (2, 3, 4, 16, 16),
        "tabular": (2, 5),
        "text": (2, 2, 9),
    }
    shape = shapes[modality]
    data = {"vocab_size": 50} if modality == "text" else {}
    encoder = encoder_for_modality(modality, in_channels=shape[1], size="cpu", **data).eval()
    x = torch.randint(1, 50, shape) if modality == "text" else torch.randn(shape)
    with torch.no_grad():
        assert encoder(x).shape == (2, encoder.out_dim)
    assert sum(p.numel() for p in encoder.parameters()) < 300_000


@pytest.mark.slow
def test_paper_encoders_for_each_modality_follow_table_13():
    assert encoder_for_modality("image2d", in_channels=1, size="paper").out_dim == 2048
    volume = encoder_for_modality("volume3d", in_channels=1, size="paper")
    assert isinstance(volume, ResNet) and volume.conv1.kernel_size == (7, 7, 7)
    series = encoder_for_modality("timeseries", in_channels=400, size="paper")
    assert series.conv1.in_channels == 400 and series.out_dim == 512
    assert encoder_for_modality("video", in_channels=3, size="paper").out_dim == 512
    assert isinstance(encoder_for_modality("tabular", in_channels=5, size="paper"), MLPEncoder)


def test_sfcn_is_built_with_its_channel_plan():
    encoder = build_encoder("sfcn", in_channels=1)
    assert isinstance(encoder, SFCN) and encoder.out_dim == 64


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: build_encoder("vit", in_channels=1), "unknown encoder 'vit'; expected one of"),
        (
            lambda: build_encoder("resnet3d", in_channels=1, pretrained=True),
            "encoder 'resnet3d' has no pretrained weights; encoders with weights: resnet50_2d",
        ),
        (
            lambda: build_encoder("resnet50_2d", in_channels=1, width=8),
            "encoder 'resnet50_2d' has the fixed width 64, got width=8",
        ),
        (
            lambda: build_encoder("resnet18_3d", in_channels=1, depth=10),
            "encoder 'resnet18_3d' has the fixed depth 18, got depth=10",
        ),
        (
            lambda: build_encoder("mlp", in_channels=5, depth=3),
            "encoder 'mlp' takes no width or depth",
        ),
        (
            lambda: build_encoder("sfcn", in_channels=1, pretrained=True),
            "load_sfcn_checkpoint",
        ),
        (lambda: build_encoder("resnet2d", in_channels=0), "in_channels must be a positive int"),
        (
            lambda: encoder_for_modality("audio", in_channels=1),
            "unknown modality 'audio'; expected one of image2d",
        ),
        (
            lambda: encoder_for_modality("video", in_channels=3, size="gpu"),
            "size must be one of cpu, paper, got 'gpu'",
        ),
    ],
)
def test_bad_requests_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_encoder_out_dim_reads_the_int_width_and_names_a_module_without_one():
    from supremix.models.registry import encoder_out_dim

    assert encoder_out_dim(build_encoder("mlp", in_channels=5)) == MLPEncoder(5).out_dim
    with pytest.raises(TypeError, match="Linear has no int 'out_dim'"):
        encoder_out_dim(nn.Linear(3, 2))
