"""One registry of losses: the training config, the engine and the paper vocabulary read it."""

from __future__ import annotations

import pytest
import torch

from supremix.losses import (
    LossEntry,
    SupConLoss,
    get_loss,
    loss_names,
    register_loss,
    supremix_loss,
)
from supremix.losses import registry as registry_module
from supremix.paper import canonical_method
from supremix.train import TrainConfig
from supremix.train.config import CONTRASTIVE_METHODS, MAIN_METHODS, REGRESSION_LOSSES
from supremix.train.protocols import build_contrastive_loss


def test_the_config_and_the_vocabulary_read_the_registry():
    assert loss_names("contrastive") == CONTRASTIVE_METHODS
    assert REGRESSION_LOSSES == loss_names("regression") == ("l1", "mse", "huber")
    assert MAIN_METHODS == ("vanilla", "simclr", "supcon", "adacon", "rnc", "supremix")
    for name in CONTRASTIVE_METHODS:
        assert canonical_method(name) == get_loss(name).display
    assert canonical_method("Rank-N-Contrast") == "RnC"
    assert canonical_method("adaptive_triplet") == "Adaptive Triplet"
    assert canonical_method("l1") == "l1"  # a regression loss is no method name


def test_a_registered_loss_is_found_and_names_cannot_clash():
    entry = LossEntry("plainsup", "PlainSup", "contrastive", SupConLoss, aliases=("plain-sup",))
    register_loss(entry)
    try:
        assert get_loss("Plain-Sup") is entry
        assert "plainsup" in loss_names("contrastive")
        with pytest.raises(ValueError, match="loss 'other': plain-sup already registered"):
            register_loss(
                LossEntry("other", "Other", "contrastive", SupConLoss, aliases=("plain-sup",))
            )
    finally:
        del registry_module._REGISTRY["plainsup"]
    with pytest.raises(ValueError, match="unknown loss 'plainsup'; expected one of simclr"):
        get_loss("plainsup")
    with pytest.raises(ValueError, match="kind must be one of contrastive, regression"):
        register_loss(LossEntry("x", "X", "ranking", SupConLoss))


def test_the_engine_builds_the_registered_loss_with_the_config_settings():
    config = TrainConfig(
        method="supremix",
        temperature=0.4,
        window=3.0,
        beta_params=(5.0, 5.0),
        mix_neg=True,
        use_groups=True,
    )
    loss = build_contrastive_loss(config, torch.arange(10.0).numpy())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(12, 4, generator=g)
    y = torch.randint(0, 5, (12,), generator=g).float()
    groups = torch.randint(0, 2, (12,), generator=g)
    expected = supremix_loss(
        x,
        y,
        groups=groups,
        temperature=0.4,
        window=3.0,
        alpha=5.0,
        beta=5.0,
        generator=torch.Generator().manual_seed(3),
    )
    torch.testing.assert_close(loss(x, y, groups, torch.Generator().manual_seed(3)), expected)
    with pytest.raises(ValueError, match="'vanilla' is not a contrastive method"):
        build_contrastive_loss(TrainConfig(method="vanilla"), torch.arange(3.0).numpy())
