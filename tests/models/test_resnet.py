"""The 1-D/2-D/3-D ResNet builder against the paper's description and torchvision."""

import pytest
import torch
import torchvision
from torch import nn

from supremix.models import resnet
from supremix.models.resnet import Conv2Plus1d, midplanes_2plus1d


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def basic_resnet_params(in_channels, widths, blocks, kernel_volume, stem_volume) -> int:
    """Parameter count of a basic-block ResNet, written from the SupReMix paper's App. C.1.1."""
    total = in_channels * widths[0] * stem_volume + 2 * widths[0]  # stem conv + BN
    previous = widths[0]
    for stage, (width, n_blocks) in enumerate(zip(widths, blocks, strict=True)):
        for b in range(n_blocks):
            stride = 2 if stage > 0 and b == 0 else 1
            total += previous * width * kernel_volume + 2 * width  # conv1 + BN
            total += width * width * kernel_volume + 2 * width  # conv2 + BN
            if stride != 1 or previous != width:
                total += previous * width + 2 * width  # 1x1 projection + BN
            previous = width
    return total


def test_resnet18_3d_matches_seed_description():
    model = resnet(3, in_channels=1, depth=18, width=64)
    stem = model.conv1
    assert isinstance(stem, nn.Conv3d)
    assert stem.kernel_size == (7, 7, 7) and stem.stride == (2, 2, 2)
    assert stem.in_channels == 1 and stem.out_channels == 64
    assert isinstance(model.maxpool, nn.MaxPool3d)
    assert model.maxpool.kernel_size == 3 and model.maxpool.stride == 2
    widths = [getattr(model, f"layer{i}")[-1].conv2.out_channels for i in range(1, 5)]
    assert widths == [64, 128, 256, 512]
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [2, 2, 2, 2]
    assert all(isinstance(m.bn1, nn.BatchNorm3d) for m in model.layer1)
    assert model.out_dim == 512
    assert n_params(model) == basic_resnet_params(1, [64, 128, 256, 512], [2] * 4, 27, 343)


def test_resnet18_1d_reads_400_rois_as_channels():
    model = resnet(1, in_channels=400, depth=18)
    assert isinstance(model.conv1, nn.Conv1d)
    assert model.conv1.in_channels == 400 and model.conv1.out_channels == 64
    assert model.conv1.kernel_size == (7,) and model.conv1.stride == (2,)
    assert n_params(model) == basic_resnet_params(400, [64, 128, 256, 512], [2] * 4, 3, 7)


@pytest.mark.parametrize(
    ("spatial_dims", "shape"),
    [(1, (3, 5, 50)), (2, (3, 5, 24, 20)), (3, (3, 5, 12, 16, 10))],
)
@pytest.mark.parametrize(
    ("depth", "expansion"), [(10, 1), (18, 1), pytest.param(50, 4, marks=pytest.mark.slow)]
)
def test_output_shape_and_out_dim(spatial_dims, shape, depth, expansion):
    model = resnet(spatial_dims, in_channels=5, depth=depth, width=4)
    out = model(torch.randn(shape))
    assert out.shape == (3, 32 * expansion) == (3, model.out_dim)


def test_time_series_of_any_length():
    model = resnet(1, in_channels=12, depth=10, width=8).eval()
    for length in (7, 33, 100):
        assert model(torch.randn(2, 12, length)).shape == (2, 64)


@pytest.mark.slow
@pytest.mark.parametrize(("builder", "depth"), [("resnet18", 18), ("resnet50", 50)])
def test_2d_resnet_equals_torchvision_with_its_weights(builder, depth):
    reference = getattr(torchvision.models, builder)()
    reference.fc = nn.Identity()
    ours = resnet(2, in_channels=3, depth=depth, width=64)
    state = {k: v for k, v in reference.state_dict().items() if not k.startswith("fc.")}
    ours.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 40, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), reference.eval()(x))


def test_r2plus1d_matches_torchvision_r2plus1d_18_layout():
    reference = torchvision.models.video.r2plus1d_18()
    ours = resnet(3, in_channels=3, depth=18, width=64, conv="2plus1d")
    assert n_params(ours) == n_params(reference) - n_params(reference.fc)
    spatial, temporal = ours.layer2[0].conv1[0], ours.layer2[0].conv1[3]
    assert spatial.kernel_size == (1, 3, 3) and spatial.stride == (1, 2, 2)
    assert temporal.kernel_size == (3, 1, 1) and temporal.stride == (2, 1, 1)
    assert spatial.out_channels == 64 * 128 * 27 // (64 * 9 + 3 * 128)
    assert ours.conv1[0].kernel_size == (1, 7, 7) and ours.conv1[0].out_channels == 45
    assert isinstance(ours.maxpool, nn.Identity)


def test_2plus1d_video_shape_and_stride_in_time():
    model = resnet(3, in_channels=3, depth=10, width=4, conv="2plus1d")
    assert model(torch.randn(2, 3, 8, 32, 32)).shape == (2, 32)
    trunk = nn.Sequential(model.conv1, model.bn1, model.relu, model.layer1, model.layer2)
    assert trunk(torch.randn(1, 3, 8, 32, 32)).shape == (1, 8, 4, 8, 8)


def test_midplanes_keep_the_parameter_count_of_a_full_convolution():
    for in_planes, out_planes in [(3, 8), (64, 64), (64, 128), (512, 512)]:
        mid = midplanes_2plus1d(in_planes, out_planes)
        factorised = n_params(Conv2Plus1d(in_planes, out_planes, mid)) - 2 * mid  # minus BN
        full = 27 * in_planes * out_planes
        assert factorised <= full < factorised + 9 * in_planes + 3 * out_planes


def test_gradients_reach_every_parameter():
    model = resnet(3, in_channels=1, depth=10, width=4)
    model(torch.randn(2, 1, 16, 16, 16)).pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_single_channel_stem():
    for spatial_dims in (1, 2, 3):
        model = resnet(spatial_dims, in_channels=1, depth=10, width=4)
        assert model.conv1.weight.shape[:2] == (4, 1)


def test_wrong_input_and_options_are_named():
    model = resnet(3, in_channels=1, depth=10, width=4)
    with pytest.raises(ValueError, match=r"3-D\) expects input \(B, 1, \*, \*, \*\), got shape"):
        model(torch.randn(2, 3, 16, 16, 16))
    with pytest.raises(ValueError, match="depth must be one of 10, 18, 34, 50, got 19"):
        resnet(2, in_channels=1, depth=19)
    with pytest.raises(ValueError, match="conv='2plus1d' needs spatial_dims=3"):
        resnet(2, in_channels=1, conv="2plus1d")
    with pytest.raises(ValueError, match="spatial_dims must be 1, 2 or 3, got 4"):
        resnet(4, in_channels=1)
