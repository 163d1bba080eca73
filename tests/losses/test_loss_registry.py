"""One registry of losses: the training config, the engine and the paper vocabulary read it."""

from __future__ import annotations

import pytest
import torch

from supremix.losses import (
    AdaConLoss,
    AdaptiveTripletLoss,
    LossEntry,
    NPairLoss,
    RnCLoss,
    SimCSELoss,
    SupConLoss,
    adacon_loss,
    adaptive_triplet_loss,
    get_loss,
    loss_names,
    npair_loss,
    register_loss,
    rnc_loss,
    simcse_loss,
    supcon_loss,
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


TRAIN = torch.tensor([0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5])


@pytest.mark.parametrize(
    ("module", "function"),
    [
        (SupConLoss(temperature=0.5), lambda x, y: supcon_loss(x, y, temperature=0.5)),
        (SimCSELoss(temperature=0.5), lambda x, y: simcse_loss(x, y, temperature=0.5)),
        (NPairLoss(temperature=0.5), lambda x, y: npair_loss(x, y, temperature=0.5)),
        (RnCLoss(temperature=2.0), lambda x, y: rnc_loss(x, y, temperature=2.0)),
        (
            AdaConLoss(TRAIN, temperature=0.5),
            lambda x, y: adacon_loss(x, y, train_labels=TRAIN, temperature=0.5),
        ),
        (AdaptiveTripletLoss(TRAIN), lambda x, y: adaptive_triplet_loss(x, y, train_labels=TRAIN)),
    ],
    ids=["supcon", "simcse", "npair", "rnc", "adacon", "triplet"],
)
def test_modules_are_their_function_and_ignore_what_it_does_not_take(module, function):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 1.0, 2.5, 3.0, 3.0, 4.0, 0.0], dtype=torch.float64)
    groups = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    expected = function(x, y)
    torch.testing.assert_close(module(x, y), expected)
    torch.testing.assert_close(module(x, y, groups, torch.Generator().manual_seed(2)), expected)
