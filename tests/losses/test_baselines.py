"""SimCLR, AdaCon, RnC and the regression losses against direct implementations; the factory."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from loss_reference import (
    assert_same,
    direct_adacon,
    direct_rnc,
    direct_simclr,
    label_lists,
    make_batch,
)

from supremix.losses import (
    CONTRASTIVE_LOSSES,
    LOSS_NAMES,
    AdaConLoss,
    AdaptiveTripletLoss,
    NPairLoss,
    RegressionLoss,
    RnCLoss,
    SimCLRLoss,
    SupConLoss,
    SupReMixLoss,
    adacon_loss,
    build_loss,
    empirical_cdf,
    regression_loss,
    rnc_loss,
    simclr_loss,
    supcon_loss,
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), pairs=st.integers(1, 6), t=st.sampled_from([0.1, 0.5]))
def test_simclr_matches_direct(seed, pairs, t):
    x, _, _, _ = make_batch(seed, [0] * pairs, 2, 3)
    assert_same(lambda f: simclr_loss(f, temperature=t), lambda f: direct_simclr(f, t=t), x)


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(8),
    views=st.integers(1, 2),
    train=st.lists(st.integers(-1, 7), min_size=1, max_size=12),
    t=st.sampled_from([0.1, 1.0]),
)
def test_adacon_matches_direct(seed, sample_labels, views, train, t):
    x, y, _, _ = make_batch(seed, sample_labels, views, 3)
    train = torch.tensor(train, dtype=torch.float64)
    assert_same(
        lambda f: adacon_loss(f, y, train_labels=train, temperature=t),
        lambda f: direct_adacon(f, y.tolist(), train.tolist(), t=t),
        x,
    )
    module = AdaConLoss(train, temperature=t)
    torch.testing.assert_close(module(x, y), adacon_loss(x, y, train_labels=train, temperature=t))


def test_empirical_cdf_counts_training_labels_at_or_below():
    train = torch.tensor([3.0, 1.0, 2.0, 2.0])
    values = torch.tensor([0.5, 1.0, 2.0, 2.5, 9.0], dtype=torch.float64)
    phi = empirical_cdf(torch.sort(train).values.double(), values)
    assert phi.tolist() == [0.0, 0.25, 0.75, 0.75, 1.0]


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(7),
    views=st.integers(1, 2),
    t=st.sampled_from([0.5, 2.0]),
    duplicate=st.booleans(),
)
def test_rnc_matches_direct_including_ties(seed, sample_labels, views, t, duplicate):
    x, y, _, _ = make_batch(seed, sample_labels, views, 3)
    x = x * 3
    if duplicate and len(y) > 2:
        x[1] = x[2]  # equal features: zero distance, finite gradients
    assert_same(lambda f: rnc_loss(f, y, temperature=t), lambda f: direct_rnc(f, y, t=t), x)


def test_rnc_uses_unnormalised_features():
    x, y, _, _ = make_batch(0, [0, 1, 2, 3], 1, 3)
    assert rnc_loss(x, y).item() != pytest.approx(rnc_loss(2 * x, y).item())


@pytest.mark.parametrize("kind", ["l1", "mse", "huber"])
def test_regression_losses_match_their_formulas(kind):
    pred = torch.tensor([[0.0], [1.5], [-3.0], [2.0]])
    target = torch.tensor([0.5, 1.0, 0.0, 2.0])
    error = (pred[:, 0] - target).abs()
    expected = {
        "l1": error.mean(),
        "mse": (error**2).mean(),
        "huber": torch.where(error < 1.0, 0.5 * error**2, error - 0.5).mean(),
    }[kind]
    torch.testing.assert_close(regression_loss(pred, target, kind), expected)
    torch.testing.assert_close(build_loss(kind)(pred, target), expected)


def test_regression_loss_errors():
    with pytest.raises(ValueError, match=r"unknown kind 'l3'; expected one of l1, mse, huber"):
        regression_loss(torch.zeros(2), torch.zeros(2), "l3")
    with pytest.raises(
        ValueError, match=r"pred and target must have matching shapes, got \(3,\) and \(2,\)"
    ):
        regression_loss(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match=r"huber_delta must be a positive finite number, got 0\.0"):
        RegressionLoss("huber", huber_delta=0)(torch.zeros(2), torch.ones(2))


def test_build_loss_covers_every_name():
    train = torch.arange(5.0)
    keywords = {
        "adacon": {"train_labels": train, "temperature": 0.5},
        "triplet": {"train_labels": train},
        "supremix": {"temperature": 0.5, "window": 2},
    }
    built = {
        name: build_loss(
            name, **keywords.get(name, {"temperature": 0.5} if name in CONTRASTIVE_LOSSES else {})
        )
        for name in LOSS_NAMES
    }
    assert isinstance(built["supremix"], SupReMixLoss)
    assert isinstance(built["supcon"], SupConLoss)
    assert isinstance(built["simclr"], SimCLRLoss)
    assert isinstance(built["adacon"], AdaConLoss)
    assert isinstance(built["rnc"], RnCLoss)
    assert built["huber"].kind == "huber"
    assert set(LOSS_NAMES) == {*CONTRASTIVE_LOSSES, "l1", "mse", "huber"}
    assert isinstance(built["npair"], NPairLoss)
    assert isinstance(built["triplet"], AdaptiveTripletLoss)
    with pytest.raises(ValueError, match="unknown loss 'quadruplet'; expected one of simclr"):
        build_loss("quadruplet")


def test_modules_match_their_functions():
    x, y, _, _ = make_batch(5, [0, 1, 1, 2], 2, 3)
    torch.testing.assert_close(
        SupConLoss(temperature=0.3)(x, y), supcon_loss(x, y, temperature=0.3)
    )
    torch.testing.assert_close(SimCLRLoss(temperature=0.3)(x, y), simclr_loss(x, temperature=0.3))
    torch.testing.assert_close(RnCLoss(temperature=1.5)(x, y), rnc_loss(x, y, temperature=1.5))
