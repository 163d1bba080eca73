"""Optimiser groups, warm-up + cosine schedule, gradient clipping, EMA (the SupReMix paper, App.
C.1.2)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from supremix.train import ModelEMA, build_optimizer, build_scheduler
from supremix.train.optim import clip_gradients, split_decay


def paper_lr(step: int, warmup: int, total: int, lr_max: float, lr_min: float) -> float:
    """Linear warm-up, then eta_t = eta_min + 1/2 (eta_max - eta_min)(1 + cos(t pi / T))."""
    if step < warmup:
        return lr_max * (step + 1) / warmup
    t, horizon = step - warmup, total - warmup
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(t * math.pi / horizon))


def scheduled_rates(warmup: int, total: int, lr_min: float, lr: float = 1e-3) -> list[float]:
    """The learning rate of each of ``total`` optimiser steps under :func:`build_scheduler`."""
    optimizer = build_optimizer(nn.Linear(3, 1), lr=lr, weight_decay=1e-4)
    scheduler = build_scheduler(
        optimizer, warmup_steps=warmup, total_steps=total, lr=lr, min_lr=lr_min
    )
    seen = []
    for _ in range(total):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return seen


@settings(max_examples=40, deadline=None)
@given(total=st.integers(2, 200), warmup_fraction=st.floats(0, 0.9), lr_min=st.floats(0, 1e-4))
def test_warmup_cosine_matches_the_formula_at_every_step(total, warmup_fraction, lr_min):
    warmup = min(int(total * warmup_fraction), total - 1)
    expected = [paper_lr(step, warmup, total, 1e-3, lr_min) for step in range(total)]
    assert scheduled_rates(warmup, total, lr_min) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_scheduler_drives_the_optimizer_learning_rate():
    seen = scheduled_rates(4, 20, 1e-5)
    assert seen == pytest.approx([paper_lr(s, 4, 20, 1e-3, 1e-5) for s in range(20)])
    assert seen[3] == pytest.approx(1e-3) and seen[-1] < 2e-5


def test_schedule_rejects_a_warmup_as_long_as_the_run_and_a_foreign_rate():
    optimizer = build_optimizer(nn.Linear(3, 1), lr=1e-3, weight_decay=0.0)
    with pytest.raises(ValueError, match=r"warmup_steps must be in \[0, 10\), got 10"):
        build_scheduler(optimizer, warmup_steps=10, total_steps=10, lr=1e-3)
    with pytest.raises(ValueError, match=r"learning rates are \[0.001\]; the schedule is for 0.01"):
        build_scheduler(optimizer, warmup_steps=1, total_steps=10, lr=1e-2)


def test_weight_decay_skips_biases_and_norm_layers():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LayerNorm(4), nn.Linear(4, 2)
    )
    decay, no_decay = split_decay(model)
    assert {id(p) for p in decay} == {id(model[0].weight), id(model[4].weight)}
    expected = [model[0].bias, model[1].weight, model[1].bias, model[3].weight, model[3].bias]
    assert {id(p) for p in no_decay} == {id(p) for p in [*expected, model[4].bias]}
    optimizer = build_optimizer(model, lr=1e-3, weight_decay=1e-4)
    by_decay = {g["weight_decay"]: {id(p) for p in g["params"]} for g in optimizer.param_groups}
    assert by_decay[1e-4] == {id(p) for p in decay}
    assert by_decay[0.0] == {id(p) for p in no_decay}
    assert optimizer.defaults["betas"] == (0.9, 0.999) and optimizer.defaults["eps"] == 1e-8


def test_frozen_parameters_are_not_optimised():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    model[0].requires_grad_(False)
    optimizer = build_optimizer(model, lr=1e-3, weight_decay=0.0)
    ids = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert ids == {id(model[1].weight), id(model[1].bias)}


def test_clipping_scales_the_gradient_to_norm_one_and_keeps_its_direction():
    a, b = nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2))
    a.grad, b.grad = torch.tensor([3.0, 0.0, 4.0]), torch.tensor([0.0, 12.0])
    before = torch.cat([a.grad, b.grad]).clone()
    norm = clip_gradients([a, b], 1.0)
    after = torch.cat([a.grad, b.grad])
    assert float(norm) == pytest.approx(13.0)
    assert float(after.norm()) == pytest.approx(1.0, rel=1e-5)
    assert torch.allclose(after, before / 13.0, atol=1e-6)


def test_ema_follows_the_warmed_up_decay():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    ema = ModelEMA(model, decay=0.999)
    expected = {k: v.clone().double() for k, v in ema.module.state_dict().items()}
    for n in range(1, 6):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
            model[1].running_mean.add_(1.0)
            model[1].num_batches_tracked.add_(1)
        ema.update(model)
        d = min(0.999, n / (n + 9))
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                expected[k] = d * expected[k] + (1 - d) * v.double()
            else:
                expected[k] = v.clone().double()
    for k, v in ema.module.state_dict().items():
        assert torch.allclose(v.double(), expected[k], atol=1e-6), k
    assert not any(p.requires_grad for p in ema.module.parameters())


def test_ema_state_round_trip():
    model = nn.Linear(2, 1)
    ema = ModelEMA(model, decay=0.99)
    ema.update(model)
    other = ModelEMA(nn.Linear(2, 1), decay=0.5)
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1 and other.decay == 0.99
    assert torch.equal(other.module.weight, ema.module.weight)


def test_ema_is_bitwise_the_direct_lerp_of_the_state():
    """AveragedModel with the warmed-up decay gives the same floats as lerping every entry
    of the state dict directly (the implementation it replaced)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    ema = ModelEMA(model, decay=0.9)
    direct = {k: v.clone() for k, v in model.state_dict().items()}
    for n in range(1, 30):
        model.train()
        model(torch.randn(8, 3)).sum().backward()
        with torch.no_grad():
            for p in model.parameters():
                p.sub_(0.1 * p.grad)
                p.grad = None
        ema.update(model)
        d = min(0.9, n / (n + 9))
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                direct[k].lerp_(v, 1.0 - d)
            else:
                direct[k].copy_(v)
    for k, v in ema.module.state_dict().items():
        assert torch.equal(v, direct[k]), k
    assert ema.updates == 29


def test_sgd_with_momentum_is_offered_for_adacons_recipe():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sgd = build_optimizer(model, lr=1e-4, weight_decay=1e-4, optimizer="sgd", momentum=0.9)
    assert isinstance(sgd, torch.optim.SGD)
    assert [g["momentum"] for g in sgd.param_groups] == [0.9, 0.9]
    assert [g["weight_decay"] for g in sgd.param_groups] == [1e-4, 0.0]
    with pytest.raises(ValueError, match="optimizer must be 'adam' or 'sgd'"):
        build_optimizer(model, lr=1e-4, weight_decay=0.0, optimizer="lamb")


@pytest.mark.parametrize("warmup", [0, 1, 2])
def test_step_decay_divides_the_rate_by_ten_every_period_after_the_warmup(warmup):
    model = nn.Linear(2, 1)
    optimizer = build_optimizer(model, lr=1.0, weight_decay=0.0, optimizer="sgd")
    scheduler = build_scheduler(
        optimizer, warmup_steps=warmup, total_steps=50, lr=1.0, decay_every_steps=15
    )
    rates = []
    for _ in range(50):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [(s + 1) / warmup if s < warmup else 0.1 ** ((s - warmup) // 15) for s in range(50)]
    assert rates == pytest.approx(expected)
