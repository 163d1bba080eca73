"""The published code's SupReMix (supremix.losses.published) against a direct re-enactment.

``direct_published`` follows the scripts' procedure step by step, in loops: ``n * n`` slots
per anchor filled with explicit mixture VECTORS, the slot mask sorted (stably) with the
mixtures gathered in that order, the last ``max_i v_i`` columns kept with ``(-1, ..., -1)``
padding, the label row sorted on its own, two max shifts. Float64.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from loss_reference import assert_same, label_lists, make_batch

from supremix.losses import supremix_loss
from supremix.losses.published import (
    PublishedSupReMixLoss,
    mixture_columns,
    mixture_shift,
    published_supremix_loss,
)


def direct_published(
    x,
    y,
    lam,
    *,
    t,
    window,
    mix_neg=True,
    mix_pos=True,
    distance_weight=True,
    normalize=True,
    separate=True,
    misaligned=True,
):
    y = [float(v) for v in y]
    n, d = x.shape
    z = x / x.norm(dim=1, keepdim=True) if normalize else x
    source = z.detach()
    slots = n * n
    mask = [[-1] * slots for _ in range(n)]
    vector = [[None] * slots for _ in range(n)]
    slot_label = [[0.0] * slots for _ in range(n)]
    for i in range(n):
        for j in range(n):
            for k in range(n):
                s = j * n + k
                if mix_neg and j == i and k != i and y[j] != y[k]:
                    a = float(lam[i][k])
                    mask[i][s] = 0
                    vector[i][s] = a * source[i] + (1 - a) * source[k]
                    slot_label[i][s] = a * y[i] + (1 - a) * y[k]
                elif mix_pos and y[i] - window < y[j] < y[i] < y[k] < y[i] + window:
                    a = (y[k] - y[i]) / (y[k] - y[j])
                    mask[i][s] = 1
                    vector[i][s] = a * source[j] + (1 - a) * source[k]
                    slot_label[i][s] = y[i]
    valid = [sum(1 for m in row if m != -1) for row in mask]
    kept = max(valid)

    def key(v):
        return -math.inf if v == -1 else v

    def weight(anchor_label, label):
        return 1.0 + abs(anchor_label - label) if distance_weight else 1.0

    losses = []
    for i in range(n):
        order = sorted(range(slots), key=lambda s: (key(mask[i][s]), s))[slots - kept :]
        sorted_labels = sorted(slot_label[i], key=key)[slots - kept :]
        real = [z[i] @ z[a] / t for a in range(n)]  # the anchor's own column included
        mixed = []  # (logit, weight label, positive, padding)
        for c, s in enumerate(order):
            if mask[i][s] == -1:
                mixed.append((z[i] @ torch.full((d,), -1.0, dtype=z.dtype) / t, 0.0, False, True))
                continue
            weight_label = sorted_labels[c] if misaligned else slot_label[i][s]
            mixed.append((z[i] @ vector[i][s] / t, weight_label, mask[i][s] == 1, False))
        real_max = max(float(v.detach()) for v in real)
        mixed_max = max((float(m[0].detach()) for m in mixed), default=real_max)
        if not separate:
            real_max = mixed_max = max(real_max, mixed_max)

        terms, positives = [], []
        for a in range(n):
            if a == i:
                continue
            terms.append((real[a] - real_max, weight(y[i], y[a])))
            if y[a] == y[i]:
                positives.append(real[a] - real_max)
        for logit, label, positive, padding in mixed:
            if padding:
                continue
            terms.append((logit - mixed_max, weight(y[i], label)))
            if positive:
                positives.append(logit - mixed_max)
        if not positives:
            continue
        log_den = torch.log(sum(w * torch.exp(s) for s, w in terms))
        losses.append(-sum(p - log_den for p in positives) / len(positives))
    if not losses:
        return x.sum() * 0
    return sum(losses) / len(losses)


bugs = st.sampled_from([(False, False), (True, False), (False, True), (True, True)])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(5, levels=6),
    views=st.integers(1, 2),
    dim=st.integers(2, 6),
    continuous=st.booleans(),
    negative_labels=st.booleans(),
    window=st.sampled_from([1, 2, 2.5, 4]),
    temperature=st.sampled_from([0.1, 0.5, 1.0]),
    switches=st.fixed_dictionaries(
        {
            "mix_neg": st.booleans(),
            "mix_pos": st.booleans(),
            "distance_weight": st.booleans(),
            "normalize": st.booleans(),
        }
    ),
    bug=bugs,
)
@example(  # a label of exactly -1 sorts first in the scripts' label row
    seed=3,
    sample_labels=[0, 1, 2, 4],
    views=2,
    dim=3,
    continuous=False,
    negative_labels=True,
    window=2,
    temperature=0.5,
    switches={"mix_neg": True, "mix_pos": True, "distance_weight": True, "normalize": True},
    bug=(True, True),
)
def test_matches_the_direct_reenactment_of_the_scripts(
    seed, sample_labels, views, dim, continuous, negative_labels, window, temperature, switches, bug
):
    x, y, _, lam = make_batch(seed, sample_labels, views, dim, continuous)
    if negative_labels:
        y = y - 2.0
    separate, misaligned = bug
    assert_same(
        lambda f: published_supremix_loss(
            f,
            y,
            temperature=temperature,
            window=window,
            neg_lambdas=lam,
            separate_max_shift=separate,
            misaligned_weights=misaligned,
            **switches,
        ),
        lambda f: direct_published(
            f,
            y.tolist(),
            lam.tolist(),
            t=temperature,
            window=window,
            separate=separate,
            misaligned=misaligned,
            **switches,
        ),
        x,
    )


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(12, levels=8),
    views=st.integers(1, 2),
    continuous=st.booleans(),
    window=st.sampled_from([1, 2, 3.5]),
    temperature=st.sampled_from([0.05, 0.5, 2.0]),
    distance_weight=st.booleans(),
)
def test_without_the_bugs_it_is_supremix_loss(
    seed, sample_labels, views, continuous, window, temperature, distance_weight
):
    """The key check: bugs off = the project's loss (defaults: detached, not re-normalised)."""
    x, y, _, lam = make_batch(seed, sample_labels, views, 5, continuous)
    options = dict(temperature=temperature, window=window, neg_lambdas=lam)
    assert_same(
        lambda f: published_supremix_loss(
            f,
            y,
            distance_weight=distance_weight,
            separate_max_shift=False,
            misaligned_weights=False,
            **options,
        ),
        lambda f: supremix_loss(
            f, y, distance_weight=distance_weight, window_edges="strict", **options
        ),
        x,
    )


def test_the_same_generator_draws_the_same_lambdas_as_supremix_loss():
    x, y, _, _ = make_batch(7, [0, 1, 2, 3, 3, 5], 2, 4)
    correct = supremix_loss(
        x,
        y,
        temperature=0.5,
        window=3,
        window_edges="strict",  # the published code's window
        generator=torch.Generator().manual_seed(11),
    )
    published = published_supremix_loss(
        x,
        y,
        temperature=0.5,
        window=3,
        generator=torch.Generator().manual_seed(11),
        separate_max_shift=False,
        misaligned_weights=False,
    )
    torch.testing.assert_close(published, correct)


def test_misaligned_weights_give_the_mix_pos_the_largest_labels():
    """Labels 0..4, every Mix-neg lambda 0.2: anchor 1 (label 1) has Mix-negs labelled
    0.2 * 1 + 0.8 * y_k = 0.2, 1.8, 2.6, 3.4 (k = 0, 2, 3, 4) and one Mix-pos (views 0 and 2,
    label 1). Its sorted label row ends 0.2, 1.0, 1.8, 2.6, 3.4: the Mix-pos (last column) is
    weighted with 3.4, i.e. 1 + |1 - 3.4| = 3.4 instead of 1, and the Mix-negs with 0.2, 1.0,
    1.8, 2.6."""
    y = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    lam = torch.full((5, 5), 0.2, dtype=torch.float64)
    columns = mixture_columns(y, 2.0, lam)
    mine = columns.anchor == 1
    assert columns.positive[mine].tolist() == [False, False, False, False, True]
    assert columns.second[mine].tolist() == [0, 2, 3, 4, 2]
    torch.testing.assert_close(
        columns.label[mine], torch.tensor([0.2, 1.8, 2.6, 3.4, 1.0], dtype=torch.float64)
    )
    torch.testing.assert_close(
        columns.published_label[mine], torch.tensor([0.2, 1.0, 1.8, 2.6, 3.4], dtype=torch.float64)
    )


@settings(max_examples=40, deadline=None)
@given(sample_labels=label_lists(10, levels=7), views=st.integers(1, 2), seed=st.integers(0, 99))
def test_with_positive_labels_the_bug_permutes_an_anchors_weights_mix_pos_last(
    sample_labels, views, seed
):
    _, y, _, lam = make_batch(seed, sample_labels, views, 2, continuous=True)
    y = y + 1.0  # all labels positive: no slot label of 0 can be among the largest
    columns = mixture_columns(y, 3.0, lam)
    for anchor in range(len(y)):
        mine = columns.anchor == anchor
        labels, published = columns.label[mine], columns.published_label[mine]
        torch.testing.assert_close(torch.sort(labels).values, published)  # same multiset
        positive = columns.positive[mine]
        if positive.any() and (~positive).any():
            assert published[positive].min() >= published[~positive].max()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(8, levels=5),
    temperature=st.sampled_from([0.1, 0.5, 1.0]),
)
def test_separate_shifts_scale_each_anchors_mixture_terms_by_exp_delta(
    seed, sample_labels, temperature
):
    """Bug 1 = the correct loss with each mixture logit raised by delta_i = M_r - M_m; with
    unit features and no padding column, delta_i >= 0 (mixtures are up-weighted)."""
    x, y, _, lam = make_batch(seed, sample_labels, 2, 4)
    columns = mixture_columns(y, 2.0, lam)
    delta = mixture_shift(x, y, columns, temperature=temperature)
    z = x / x.norm(dim=1, keepdim=True)
    for i in range(len(y)):
        mine = columns.anchor == i
        if not mine.any():
            assert delta[i] == 0
            continue
        mixed = torch.lerp(
            z[i] @ z[columns.second[mine]].T, z[i] @ z[columns.first[mine]].T, columns.lam[mine]
        )
        m_max = mixed.max()
        if columns.counts[i] < columns.counts.max():
            m_max = max(m_max, -z[i].sum())
        else:
            assert delta[i] >= 0
        assert delta[i] == pytest.approx(float((1.0 - m_max) / temperature), abs=1e-12)


def test_shift_bug_up_weights_mix_negs_so_the_loss_rises():
    """No Mix-pos (window 0.5) and three balanced labels: every anchor has 4 Mix-negs, no
    padding, so delta_i > 0 multiplies negative terms only and the loss must go up."""
    x, _, _, _ = make_batch(5, [0, 1, 2], 2, 6)
    y = torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0, 2.0], dtype=torch.float64)
    lam = torch.full((6, 6), 0.3, dtype=torch.float64)
    columns = mixture_columns(y, 0.5, lam)
    assert columns.counts.tolist() == [4] * 6
    assert (mixture_shift(x, y, columns, temperature=0.5) > 0).all()
    options = dict(temperature=0.5, window=0.5, neg_lambdas=lam, misaligned_weights=False)
    with_bug = published_supremix_loss(x, y, **options)
    without = published_supremix_loss(x, y, separate_max_shift=False, **options)
    assert with_bug.item() > without.item() + 1e-6


def test_module_matches_function():
    x, y, _, _ = make_batch(2, [0, 1, 1, 2, 4], 2, 3)
    module = PublishedSupReMixLoss(temperature=0.5, window=2)
    expected = published_supremix_loss(
        x, y, temperature=0.5, window=2, generator=torch.Generator().manual_seed(4)
    )
    torch.testing.assert_close(module(x, y, generator=torch.Generator().manual_seed(4)), expected)
    assert "separate_max_shift=True" in repr(module)


def test_one_view_and_no_positive_give_an_attached_zero():
    x = torch.randn(1, 3, requires_grad=True)
    loss = published_supremix_loss(x, torch.tensor([2.0]), temperature=0.5, window=1)
    assert loss.item() == 0.0
    loss.backward()
    spread = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    far = torch.tensor([0.0, 10.0, 20.0], dtype=torch.float64)
    assert published_supremix_loss(spread, far, temperature=0.5, window=1).item() == 0.0


def test_bad_inputs_are_named():
    x = torch.randn(4, 3)
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"neg_lambdas must have shape \(4, 4\)"):
        published_supremix_loss(x, y, temperature=0.5, window=1, neg_lambdas=torch.ones(3, 3))
    with pytest.raises(ValueError, match="temperature must be a positive finite number"):
        published_supremix_loss(x, y, temperature=0.0, window=1)
    with pytest.raises(ValueError, match="labels must have shape"):
        published_supremix_loss(x, y[:3], temperature=0.5, window=1)
    with pytest.raises(ValueError, match="mix_neg needs neg_lambdas"):
        mixture_columns(y, 1.0)
