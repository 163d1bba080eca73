"""SFCN: the channel plan of the authors' model, adaptive pooling, checkpoint loading."""

import pytest
import torch
from torch import nn

from supremix.models import SFCN, load_sfcn_checkpoint, sfcn_channels


def test_paper_channels_and_block_structure():
    model = SFCN(1)
    blocks = list(model.feature_extractor.children())
    assert [b[0].out_channels for b in blocks] == [32, 64, 128, 256, 256, 64]
    for block in blocks[:5]:
        conv, bn, pool, relu = block
        assert isinstance(conv, nn.Conv3d) and conv.kernel_size == (3, 3, 3)
        assert conv.padding == (1, 1, 1)
        assert isinstance(bn, nn.BatchNorm3d) and isinstance(pool, nn.MaxPool3d)
        assert pool.kernel_size == 2 and pool.stride == 2 and isinstance(relu, nn.ReLU)
    conv, bn, relu = blocks[5]
    assert conv.kernel_size == (1, 1, 1) and isinstance(relu, nn.ReLU)
    assert model.out_dim == 64


def test_width_scales_the_channel_plan():
    assert sfcn_channels(32) == (32, 64, 128, 256, 256, 64)
    assert sfcn_channels(4) == (4, 8, 16, 32, 32, 8)


@pytest.mark.parametrize("shape", [(32, 32, 32), (40, 48, 40), (33, 64, 37)])
def test_pooling_adapts_to_input_size(shape):
    model = SFCN(1, sfcn_channels(4)).eval()
    assert model(torch.randn(2, 1, *shape)).shape == (2, 8)


def test_global_pool_equals_the_fixed_pool_of_the_original_at_its_size():
    # 160x192x160 after five poolings is 5x6x5: the authors' AvgPool3d([5, 6, 5]) is global.
    model = SFCN(1).to("meta").eval()
    feature_map = model.feature_extractor(torch.empty(1, 1, 160, 192, 160, device="meta"))
    assert feature_map.shape == (1, 64, 5, 6, 5)
    small = SFCN(1, sfcn_channels(4)).eval()
    maps = torch.randn(2, 8, 5, 6, 5)
    fixed = nn.AvgPool3d([5, 6, 5])(maps).flatten(1)
    torch.testing.assert_close(small.pool(maps).flatten(1), fixed)


def test_two_dimensional_variant():
    model = SFCN(1, sfcn_channels(4), spatial_dims=2)
    assert model(torch.randn(2, 1, 64, 40)).shape == (2, 8)


def test_too_small_input_is_named():
    model = SFCN(1, sfcn_channels(4))
    with pytest.raises(ValueError, match=r"needs at least 32 voxels per axis, got spatial shape"):
        model(torch.randn(1, 1, 32, 31, 32))


def test_gradients_flow():
    model = SFCN(1, sfcn_channels(4))
    model(torch.randn(2, 1, 32, 32, 32)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_loads_a_dataparallel_checkpoint_and_drops_the_classifier(tmp_path):
    source = SFCN(1, sfcn_channels(4))
    for p in source.parameters():
        nn.init.normal_(p)
    state = {f"module.{k}": v for k, v in source.state_dict().items() if k.startswith("feature")}
    state["module.classifier.conv_6.weight"] = torch.randn(40, 8, 1, 1, 1)
    path = tmp_path / "run_epoch_best_mae.p"
    torch.save(state, path)
    target = load_sfcn_checkpoint(SFCN(1, sfcn_channels(4)), path)
    for key, value in source.feature_extractor.state_dict().items():
        torch.testing.assert_close(target.feature_extractor.state_dict()[key], value)


def test_checkpoint_without_features_is_named(tmp_path):
    path = tmp_path / "other.p"
    torch.save({"fc.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match=r"no 'feature_extractor\.\*' entries"):
        load_sfcn_checkpoint(SFCN(1, sfcn_channels(4)), path)
