"""torchvision encoders: single-channel stems, feature outputs, weights handling (no download)."""

from urllib.error import URLError

import pytest
import torch
import torchvision
from torch import nn

from supremix.models import (
    WeightsDownloadError,
    adapt_input_conv,
    densenet_2d,
    r2plus1d_18_video,
    resnet50_2d,
)
from supremix.models.torchvision_encoders import RESNET50_WEIGHTS, checkpoint_path


def test_resnet50_single_channel_stem_and_head():
    model = resnet50_2d(1)
    assert model.conv1.in_channels == 1 and model.conv1.kernel_size == (7, 7)
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [3, 4, 6, 3]
    assert model.out_dim == 2048 and isinstance(model.fc, nn.Identity)


def test_r2plus1d_18_stem_and_head():
    model = r2plus1d_18_video(1)
    assert model.stem[0].in_channels == 1 and model.stem[0].kernel_size == (1, 7, 7)
    assert model.out_dim == 512 and isinstance(model.fc, nn.Identity)


def test_densenet_small_and_121():
    small = densenet_2d(1, growth_rate=8, block_config=(2, 2, 2, 2))
    assert small.features.conv0.in_channels == 1 and small.features.conv0.out_channels == 16
    assert small(torch.randn(2, 1, 32, 32)).shape == (2, small.out_dim)
    assert densenet_2d(1).out_dim == 1024


@pytest.mark.parametrize("conv_type", [nn.Conv2d, nn.Conv3d])
@pytest.mark.parametrize("in_channels", [1, 2, 5])
def test_adapted_stem_answers_a_grey_input_like_the_rgb_stem(conv_type, in_channels):
    rgb = conv_type(3, 6, 3, padding=1, bias=True)
    adapted = adapt_input_conv(rgb, in_channels)
    assert adapted.in_channels == in_channels
    spatial = (5, 6) if conv_type is nn.Conv2d else (3, 5, 6)
    grey = torch.randn(2, 1, *spatial)
    with torch.no_grad():
        expected = rgb(grey.expand(-1, 3, *spatial))
        torch.testing.assert_close(adapted(grey.expand(-1, in_channels, *spatial)), expected)


def test_adapted_single_channel_weight_is_the_sum_over_rgb():
    rgb = nn.Conv2d(3, 4, 7, stride=2, padding=3, bias=False)
    adapted = adapt_input_conv(rgb, 1)
    torch.testing.assert_close(adapted.weight[:, 0], rgb.weight.sum(dim=1))
    assert adapted.stride == (2, 2) and adapted.padding == (3, 3) and adapted.bias is None


def test_pretrained_resnet50_with_a_cached_file_adapts_the_imagenet_stem(monkeypatch):
    reference = torchvision.models.resnet50()
    monkeypatch.setattr(
        torchvision.models._api, "load_state_dict_from_url", lambda url, **_: reference.state_dict()
    )
    model = resnet50_2d(1, pretrained=True)
    torch.testing.assert_close(model.conv1.weight[:, 0], reference.conv1.weight.sum(dim=1))
    torch.testing.assert_close(model.layer4[2].conv3.weight, reference.layer4[2].conv3.weight)


@pytest.mark.parametrize(
    "build",
    [
        lambda: resnet50_2d(1, pretrained=True),
        lambda: r2plus1d_18_video(3, pretrained=True),
        lambda: densenet_2d(1, pretrained=True),
    ],
)
def test_failed_download_names_the_file_and_where_to_put_it(monkeypatch, build):
    def offline(url, **_):
        raise URLError("no network")

    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", offline)
    with pytest.raises(
        WeightsDownloadError, match=r"could not load the pretrained weights"
    ) as info:
        build()
    message = str(info.value)
    assert "https://download.pytorch.org/models/" in message and "pretrained=False" in message
    assert "/checkpoints/" in message


def test_checkpoint_path_is_in_the_torch_hub_cache():
    path = checkpoint_path(RESNET50_WEIGHTS)
    assert path.startswith(torch.hub.get_dir()) and path.endswith("resnet50-11ad3fa6.pth")


def test_pretrained_densenet_needs_the_121_configuration():
    with pytest.raises(ValueError, match="pretrained DenseNet weights exist only for DenseNet-121"):
        densenet_2d(1, growth_rate=8, pretrained=True)
