"""Task-specific encoders of §5.4 from maintained libraries (torchvision, MONAI) and the TCN."""

from __future__ import annotations

import sys

import pytest
import torch

from supremix.models import build_encoder
from supremix.models.task_specific import TCN, densenet121_3d, vit_2d


def test_tcn_is_causal_and_dilates_by_powers_of_two():
    torch.manual_seed(0)
    tcn = TCN(3, (8, 8, 8), kernel=3, dropout=0.0).eval()
    assert [b.conv1.dilation[0] for b in tcn.blocks] == [1, 2, 4]
    x = torch.randn(2, 3, 50)
    changed = x.clone()
    changed[..., 30:] += torch.randn(2, 3, 20)
    with torch.no_grad():
        before, after = tcn.blocks(x), tcn.blocks(changed)
    torch.testing.assert_close(before[..., :30], after[..., :30])  # the past ignores the future
    assert not torch.allclose(before[..., 30:], after[..., 30:])
    with torch.no_grad():
        torch.testing.assert_close(tcn(x), before.mean(-1))


def test_vit_returns_torchvisions_class_token():
    torch.manual_seed(0)
    model = vit_2d(1, image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16).eval()
    x = torch.randn(2, 1, 32, 32)
    vit = model.vit
    with torch.no_grad():
        tokens = vit._process_input(x)
        tokens = torch.cat([vit.class_token.expand(2, -1, -1), tokens], dim=1)
        direct = vit.encoder(tokens)[:, 0]
        torch.testing.assert_close(model(x), direct)
    assert model.out_dim == 16
    with pytest.raises(ValueError, match="image_size 30 is not a multiple of patch_size 8"):
        vit_2d(1, image_size=30, patch_size=8)


def test_vit_b_16_has_the_papers_size():
    model = build_encoder("vit_b_16", in_channels=3)
    assert model.out_dim == 768 and len(model.vit.encoder.layers) == 12
    with pytest.raises(ValueError, match="fixed size"):
        build_encoder("vit_b_16", in_channels=3, width=64)


def test_monai_densenet_3d_gives_the_pooled_features_of_monais_network():
    from monai.networks.nets import DenseNet121

    torch.manual_seed(0)
    ours = densenet121_3d(1, init_features=8, growth_rate=4, block_config=(1, 1, 1, 1)).eval()
    theirs = DenseNet121(
        spatial_dims=3, in_channels=1, out_channels=1, init_features=8, growth_rate=4,
        block_config=(1, 1, 1, 1),
    ).eval()  # fmt: skip
    theirs.load_state_dict(
        {k: v for k, v in ours.state_dict().items()}
        | {
            "class_layers.out.weight": torch.zeros(1, ours.out_dim),
            "class_layers.out.bias": torch.zeros(1),
        }
    )
    x = torch.randn(2, 1, 32, 32, 32)
    with torch.no_grad():
        pooled = theirs.class_layers[:-1](theirs.features(x))
        torch.testing.assert_close(ours(x), pooled)


def test_without_monai_the_3d_densenet_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "monai.networks.nets", None)
    with pytest.raises(ImportError, match=r"supremix\[medical\]"):
        densenet121_3d(1)


def test_monai_vit_3d_gives_the_class_token_of_monais_network_after_its_final_norm():
    """The features are MONAI's ViT computed step by step: patch embedding, class token,
    transformer blocks, final LayerNorm, token 0."""
    from supremix.models.task_specific import vit_3d

    torch.manual_seed(0)
    ours = vit_3d(
        1, img_size=(16, 16, 16), patch_size=8, hidden_size=32, num_layers=2, num_heads=2
    ).eval()
    vit = ours.vit
    x = torch.randn(2, 1, 16, 16, 16)
    with torch.no_grad():
        tokens = vit.patch_embedding(x)
        tokens = torch.cat([vit.cls_token.expand(2, -1, -1), tokens], dim=1)
        for block in vit.blocks:
            tokens = block(tokens)
        direct = vit.norm(tokens)[:, 0]
        torch.testing.assert_close(ours(x), direct)
    assert ours.out_dim == 32 and ours(x).shape == (2, 32)
    model = build_encoder("vit3d", in_channels=1, img_size=(16, 16, 16), patch_size=8, width=32)
    assert len(model.vit.blocks) == 12 and model.out_dim == 32
    with pytest.raises(ValueError, match=r"vit3d: img_size \(100, 100, 100\) must be three"):
        vit_3d(1, img_size=(100, 100, 100), patch_size=16)


def test_without_einops_the_3d_vit_names_the_extra(monkeypatch):
    from supremix.models.task_specific import vit_3d

    monkeypatch.setitem(sys.modules, "einops", None)
    with pytest.raises(ImportError, match=r"needs MONAI and einops.*supremix\[medical\]"):
        vit_3d(1, img_size=(16, 16, 16), patch_size=8)
