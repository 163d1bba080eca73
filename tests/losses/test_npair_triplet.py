"""N-pair and adaptive triplet losses (the AdaCon paper's baselines) against direct implementations
written from their equations, their properties and errors, and their registration as methods."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from loss_reference import assert_same, label_lists, make_batch

from supremix.losses import (
    AdaptiveTripletLoss,
    NPairLoss,
    adaptive_triplet_loss,
    build_loss,
    npair_loss,
    supcon_loss,
)
from supremix.paper import canonical_method
from supremix.train import TrainConfig
from supremix.train.config import CONTRASTIVE_METHODS, MAIN_METHODS, METHODS
from supremix.train.protocols import build_contrastive_loss


def unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True)


def direct_npair(x, y, *, t, normalize=True):
    """Sohn 2016 eq. (3) per (anchor, positive): log(1 + sum_q exp(s_iq - s_ip)), loops."""
    z = unit(x) if normalize else x
    y = y.tolist()
    n = len(y)
    per_anchor = []
    for i in range(n):
        positives = [p for p in range(n) if p != i and y[p] == y[i]]
        negatives = [q for q in range(n) if y[q] != y[i]]
        if not positives:
            continue
        terms = []
        for p in positives:
            s_ip = z[i] @ z[p] / t
            total = 1 + sum((torch.exp(z[i] @ z[q] / t - s_ip) for q in negatives), z.sum() * 0)
            terms.append(torch.log(total))
        per_anchor.append(torch.stack(terms).mean())
    return torch.stack(per_anchor).mean() if per_anchor else x.sum() * 0


def ecdf(train, value):
    return sum(1 for u in train if u <= value) / len(train)


def direct_triplet(x, y, train, *, scale, normalize=True):
    """[||z_a - z_p||^2 - ||z_a - z_n||^2 + scale (D_an - D_ap)]_+ over every triplet with
    p != a and D_ap < D_an, D = |phi(y_a) - phi(y_b)|; mean per anchor, then over anchors."""
    z = unit(x) if normalize else x
    phi = [ecdf(train, v) for v in y.tolist()]
    n = len(phi)
    per_anchor = []
    for a in range(n):
        terms = []
        for p in range(n):
            for q in range(n):
                gap_p, gap_q = abs(phi[a] - phi[p]), abs(phi[a] - phi[q])
                if p == a or not gap_p < gap_q:
                    continue
                d_p = ((z[a] - z[p]) ** 2).sum()
                d_q = ((z[a] - z[q]) ** 2).sum()
                terms.append(torch.relu(d_p - d_q + scale * (gap_q - gap_p)))
        if terms:
            per_anchor.append(torch.stack(terms).mean())
    return torch.stack(per_anchor).mean() if per_anchor else x.sum() * 0


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(7),
    views=st.integers(1, 2),
    t=st.sampled_from([0.1, 0.5, 1.0]),
    normalize=st.booleans(),
)
def test_npair_matches_direct(seed, sample_labels, views, t, normalize):
    x, y, _, _ = make_batch(seed, sample_labels, views, 3)
    assert_same(
        lambda f: npair_loss(f, y, temperature=t, normalize=normalize),
        lambda f: direct_npair(f, y, t=t, normalize=normalize),
        x,
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(6),
    views=st.integers(1, 2),
    train=st.lists(st.integers(-1, 7), min_size=1, max_size=12),
    scale=st.sampled_from([0.5, 4.0]),
    normalize=st.booleans(),
)
def test_adaptive_triplet_matches_direct(seed, sample_labels, views, train, scale, normalize):
    x, y, _, _ = make_batch(seed, sample_labels, views, 3)
    train_labels = torch.tensor(train, dtype=torch.float64)
    assert_same(
        lambda f: adaptive_triplet_loss(
            f, y, train_labels=train_labels, margin_scale=scale, normalize=normalize
        ),
        lambda f: direct_triplet(f, y, train, scale=scale, normalize=normalize),
        x,
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), samples=st.integers(2, 6), t=st.sampled_from([0.2, 1.0]))
def test_npair_equals_supcon_with_one_positive_per_anchor(seed, samples, t):
    """Two views of distinct labels: SupCon's denominator is then the positive + negatives."""
    x, y, _, _ = make_batch(seed, list(range(samples)), 2, 4)
    torch.testing.assert_close(npair_loss(x, y, temperature=t), supcon_loss(x, y, temperature=t))


def test_npair_leaves_other_positives_out_of_the_denominator():
    x, y, _, _ = make_batch(3, [0, 0, 1], 2, 4)
    assert not torch.allclose(npair_loss(x, y, temperature=0.5), supcon_loss(x, y, temperature=0.5))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), sample_labels=label_lists(6), views=st.integers(1, 2))
def test_adaptive_triplet_depends_on_labels_only_through_their_training_ranks(
    seed, sample_labels, views
):
    """phi is invariant under a strictly increasing map of the batch and training labels."""
    x, y, _, _ = make_batch(seed, sample_labels, views, 3)
    train = torch.tensor([0.0, 1.0, 1.0, 2.5, 4.0, 5.0], dtype=torch.float64)
    torch.testing.assert_close(
        adaptive_triplet_loss(x, y, train_labels=train),
        adaptive_triplet_loss(x, torch.exp(y) - 7.0, train_labels=torch.exp(train) - 7.0),
    )


def test_adaptive_triplet_of_collapsed_features_is_the_mean_margin():
    """All features equal: every hinge is its margin, 4 (D_an - D_ap)."""
    y = torch.tensor([0.0, 1.0, 2.0])
    train = torch.tensor([0.0, 1.0, 2.0, 3.0])
    # phi = 1/4, 2/4, 3/4; anchor 0: (p=1, n=2) margin 4 * (2/4 - 1/4) = 1
    # anchor 1: no triplet (both others at 1/4); anchor 2: (p=1, n=0) margin 1
    features = torch.ones(3, 2, requires_grad=True)
    loss = adaptive_triplet_loss(features, y, train_labels=train)
    torch.testing.assert_close(loss, torch.tensor(1.0))


@pytest.mark.parametrize(
    "loss",
    [
        lambda f, y: npair_loss(f, y, temperature=0.5),
        lambda f, y: adaptive_triplet_loss(f, y, train_labels=torch.arange(5.0)),
    ],
    ids=["npair", "triplet"],
)
def test_degenerate_batches_give_an_attached_zero_with_finite_gradients(loss):
    """One row; equal labels everywhere (no negative: N-pair terms are log 1, no triplet)."""
    for features, labels in [
        (torch.randn(1, 3, requires_grad=True), torch.tensor([2.0])),
        (torch.randn(4, 3, requires_grad=True), torch.full((4,), 2.0)),
    ]:
        value = loss(features, labels)
        assert value.requires_grad and value.item() == 0.0
        value.backward()
        assert torch.equal(features.grad, torch.zeros_like(features))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_losses_are_computed_in_float32_under_autocast(dtype):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(8, 16, generator=g) * 1e3).requires_grad_(True)
    y = torch.tensor([0.0, 1.0, 2.0, 3.0]).repeat(2)
    with torch.autocast("cpu", dtype=dtype):
        values = [
            npair_loss(x, y, temperature=0.05),
            adaptive_triplet_loss(x, y, train_labels=torch.arange(4.0)),
        ]
    for value in values:
        assert value.dtype == torch.float32 and torch.isfinite(value)
        (grad,) = torch.autograd.grad(value, x)
        assert torch.isfinite(grad).all()


def test_errors_name_the_problem():
    with pytest.raises(
        ValueError, match=re.escape("npair: temperature must be a positive finite number, got 0.0")
    ):
        npair_loss(torch.randn(3, 2), torch.zeros(3), temperature=0)
    with pytest.raises(
        ValueError, match=re.escape("npair: labels must have shape (3,) to match the 3 feature")
    ):
        NPairLoss()(torch.randn(3, 2), torch.zeros(2))
    with pytest.raises(
        ValueError, match=re.escape("triplet: margin_scale must be a positive finite number")
    ):
        adaptive_triplet_loss(
            torch.randn(3, 2), torch.zeros(3), train_labels=torch.ones(2), margin_scale=-1
        )
    with pytest.raises(ValueError, match=re.escape("triplet: train_labels is empty; expected")):
        AdaptiveTripletLoss(torch.zeros(0))
    with pytest.raises(ValueError, match=re.escape("triplet: train_labels contain non-finite")):
        AdaptiveTripletLoss(torch.tensor([1.0, math.nan]))
    with pytest.raises(
        ValueError,
        match=re.escape("triplet: labels contain non-finite values (NaN or inf); expected finite"),
    ):
        adaptive_triplet_loss(
            torch.randn(2, 2), torch.tensor([0.0, math.inf]), train_labels=torch.ones(2)
        )


def test_modules_and_factory_match_the_functions():
    x, y, _, _ = make_batch(11, [0, 1, 1, 2], 2, 3)
    train = torch.tensor([0.0, 1.0, 2.0, 2.0, 5.0])
    expected_npair = npair_loss(x, y, temperature=0.3)
    expected_triplet = adaptive_triplet_loss(x, y, train_labels=train, margin_scale=2.0)
    torch.testing.assert_close(NPairLoss(temperature=0.3)(x, y), expected_npair)
    torch.testing.assert_close(build_loss("npair", temperature=0.3)(x, y), expected_npair)
    module = AdaptiveTripletLoss(train, margin_scale=2.0)
    torch.testing.assert_close(module(x, y), expected_triplet)
    built = build_loss("triplet", train_labels=train, margin_scale=2.0)
    torch.testing.assert_close(built(x, y), expected_triplet)
    assert "margin_scale=2.0" in repr(module) and "train_labels=5" in repr(module)


def test_npair_and_triplet_are_training_methods_outside_the_main_comparison():
    assert (*MAIN_METHODS, "npair", "triplet", "simcse") == METHODS
    assert {"npair", "triplet"} <= set(CONTRASTIVE_METHODS)
    assert canonical_method("npair") == "N-Pair"
    assert canonical_method("triplet") == "Adaptive Triplet"
    assert TrainConfig(method="triplet", protocol="multitask").is_contrastive


def test_build_contrastive_loss_uses_the_config_and_training_labels():
    x, y, _, _ = make_batch(2, [0, 1, 2, 2], 2, 3)
    x = x.float()
    train = np.array([0.0, 1.0, 1.0, 3.0])
    npair = build_contrastive_loss(TrainConfig(method="npair", temperature=0.7), train)
    torch.testing.assert_close(npair(x, y, None, None), npair_loss(x, y, temperature=0.7))
    triplet = build_contrastive_loss(TrainConfig(method="triplet"), train)
    torch.testing.assert_close(
        triplet(x, y, None, None),
        adaptive_triplet_loss(x, y, train_labels=torch.from_numpy(train)),
    )
