"""Supervised SimCSE on scores binarised at 2 (Mixup Your Own Pairs App. C.1) against direct
code written from its equation, its properties, errors and registration."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from loss_reference import assert_same

from supremix.losses import (
    SIMCSE_THRESHOLD,
    SimCSELoss,
    build_loss,
    simcse_loss,
    supcon_loss,
)
from supremix.train import TrainConfig
from supremix.train.protocols import build_contrastive_loss


def direct_simcse(x, scores, *, t, threshold=2.0):
    """L_i = -(1/|P_i|) sum_p log[exp(s_ip/t) / sum_{a != i} exp(s_ia/t)], P_i the other items
    on anchor i's side of the threshold (score > threshold or not); mean over anchors with
    |P_i| > 0."""
    z = x / x.norm(dim=1, keepdim=True)
    side = [float(s) > threshold for s in scores]
    n = len(side)
    losses = []
    for i in range(n):
        positives = [p for p in range(n) if p != i and side[p] == side[i]]
        if not positives:
            continue
        log_den = torch.log(sum(torch.exp(z[i] @ z[a] / t) for a in range(n) if a != i))
        losses.append(-sum(z[i] @ z[p] / t - log_den for p in positives) / len(positives))
    return sum(losses) / len(losses) if losses else x.sum() * 0


scores_st = st.lists(
    st.sampled_from([0.0, 0.4, 1.999, 2.0, 2.001, 3.2, 5.0]) | st.floats(0, 5),
    min_size=1,
    max_size=9,
)


def features(seed: int, n: int, dim: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=g, dtype=torch.float64)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), scores=scores_st, t=st.sampled_from([0.1, 1.0]))
def test_simcse_matches_direct_value_and_gradient(seed, scores, t):
    x = features(seed, len(scores))
    y = torch.tensor(scores, dtype=torch.float64)
    assert_same(
        lambda f: simcse_loss(f, y, temperature=t), lambda f: direct_simcse(f, scores, t=t), x
    )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), scores=scores_st, data=st.data())
def test_only_the_side_of_the_threshold_matters(seed, scores, data):
    x = features(seed, len(scores))
    moved = [
        data.draw(st.floats(2.0, 5.0, exclude_min=True)) if s > 2 else data.draw(st.floats(0, 2))
        for s in scores
    ]
    before = simcse_loss(x, torch.tensor(scores, dtype=torch.float64), temperature=0.5)
    after = simcse_loss(x, torch.tensor(moved, dtype=torch.float64), temperature=0.5)
    torch.testing.assert_close(before, after)
    sides = torch.tensor([float(s > 2) for s in scores])
    torch.testing.assert_close(before, supcon_loss(x, sides, temperature=0.5))


def test_a_score_of_exactly_two_is_a_negative_and_the_threshold_is_a_setting():
    x = features(3, 4)
    y = torch.tensor([2.0, 2.0, 2.5, 4.0], dtype=torch.float64)
    assert SIMCSE_THRESHOLD == 2.0
    torch.testing.assert_close(
        simcse_loss(x, y, temperature=1.0), direct_simcse(x, y.tolist(), t=1.0)
    )
    lower = simcse_loss(x, y, temperature=1.0, threshold=1.5)  # all four on one side
    torch.testing.assert_close(lower, direct_simcse(x, y.tolist(), t=1.0, threshold=1.5))
    assert not torch.isclose(lower, simcse_loss(x, y, temperature=1.0))


def test_no_positive_anywhere_gives_an_attached_zero():
    x = features(0, 2).requires_grad_(True)
    loss = simcse_loss(x, torch.tensor([0.5, 4.5]), temperature=1.0)
    loss.backward()
    assert loss.item() == 0.0 and torch.count_nonzero(x.grad) == 0


def test_errors_name_the_loss_and_the_problem():
    x = features(0, 3)
    with pytest.raises(ValueError, match=r"simcse: threshold must be a finite number, got nan"):
        simcse_loss(x, torch.zeros(3), temperature=1.0, threshold=float("nan"))
    with pytest.raises(ValueError, match=r"simcse.*temperature"):
        SimCSELoss(temperature=0.0)
    with pytest.raises(ValueError, match=r"simcse.*label"):
        simcse_loss(x, torch.tensor([0.0, float("nan"), 3.0]), temperature=1.0)
    with pytest.raises(ValueError, match=r"simcse"):
        simcse_loss(x, torch.zeros(2), temperature=1.0)


def test_module_factory_and_training_method_are_the_function():
    x, y = features(5, 6), torch.tensor([0.1, 1.0, 2.4, 3.0, 4.9, 2.0])
    expected = simcse_loss(x, y, temperature=0.7)
    torch.testing.assert_close(SimCSELoss(temperature=0.7)(x, y), expected)
    torch.testing.assert_close(build_loss("simcse", temperature=0.7)(x, y), expected)
    config = TrainConfig(method="simcse", temperature=0.7)
    assert config.is_contrastive and config.has_second_stage
    trained = build_contrastive_loss(config, np.zeros(3))
    torch.testing.assert_close(trained(x, y, None, None), expected)
