"""SupReMix against a direct implementation with explicit mixture vectors, and the SupReMix paper's
§3.4."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from loss_reference import (
    assert_same,
    direct_supcon,
    direct_supremix,
    label_lists,
    lower_bound,
    make_batch,
    materialised_supremix,
    mix_pos_pairs,
    positive_count,
    value_and_grad,
)

from supremix.losses import (
    SupReMixLoss,
    SupReMixOptions,
    mix_pos_triples,
    supcon_loss,
    supremix_dense,
    supremix_loss,
    supremix_rows,
)
from supremix.losses.mixpos import MixPosLayout, chunks

ALL_ON = {
    "mix_neg": True,
    "mix_pos": True,
    "distance_weight": True,
    "detach": True,
    "renormalize": False,
    "normalize": True,
    "window_mode": "label",
    "window_edges": "inclusive",
    "reduction": "anchor",
    "weight_range": None,
}
options = st.fixed_dictionaries(
    {
        "mix_neg": st.booleans(),
        "mix_pos": st.booleans(),
        "distance_weight": st.booleans(),
        "detach": st.booleans(),
        "renormalize": st.booleans(),
        "normalize": st.booleans(),
        "window_mode": st.sampled_from(["label", "rank"]),
        "window_edges": st.sampled_from(["inclusive", "strict"]),
        "reduction": st.sampled_from(["anchor", "label"]),
        "weight_range": st.sampled_from([None, "batch", 7.5]),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(7),
    views=st.integers(1, 2),
    dim=st.integers(2, 5),
    continuous=st.booleans(),
    group_count=st.sampled_from([0, 0, 2]),
    window=st.sampled_from([1, 2, 3, 2.5]),
    temperature=st.sampled_from([0.1, 0.5, 1.0]),
    opts=options,
    dense=st.booleans(),
)
@example(  # window boundaries: y_j = y_i - g and y_k = y_i + g are included
    seed=1,
    sample_labels=[0, 2, 3, 1, 5, 4],
    views=2,
    dim=3,
    continuous=False,
    group_count=0,
    window=2,
    temperature=0.5,
    opts=ALL_ON,
    dense=True,
)
@example(  # ... and excluded with the published code's strict window, summed per label
    seed=1,
    sample_labels=[0, 2, 3, 1, 5, 4],
    views=2,
    dim=3,
    continuous=False,
    group_count=0,
    window=2,
    temperature=0.5,
    opts={**ALL_ON, "renormalize": True, "window_edges": "strict", "reduction": "label"},
    dense=True,
)
@example(  # groups restrict both mixtures
    seed=2,
    sample_labels=[0, 1, 2, 3, 2, 1, 4],
    views=1,
    dim=4,
    continuous=False,
    group_count=2,
    window=3,
    temperature=0.2,
    opts={**ALL_ON, "detach": False},
    dense=True,
)
def test_supremix_matches_direct_mixture_vectors(
    seed, sample_labels, views, dim, continuous, group_count, window, temperature, opts, dense
):
    """``dense``: the small-batch dense path, else the chunked factorised one."""
    x, y, groups, lam = make_batch(seed, sample_labels, views, dim, continuous, group_count)
    if opts["window_mode"] == "rank":
        window = math.ceil(window)

    def fast(features):
        return supremix_loss(
            features,
            y,
            temperature=temperature,
            window=window,
            neg_lambdas=lam,
            mix_neg=opts["mix_neg"],
            mix_pos=opts["mix_pos"],
            distance_weight=opts["distance_weight"],
            groups=groups,
            detach_mixtures=opts["detach"],
            renormalize_mixtures=opts["renormalize"],
            window_mode=opts["window_mode"],
            window_edges=opts["window_edges"],
            reduction=opts["reduction"],
            weight_range=opts["weight_range"],
            normalize=opts["normalize"],
        )

    def slow(features):
        return direct_supremix(
            features,
            y.tolist(),
            lam.tolist(),
            t=temperature,
            window=window,
            mix_neg=opts["mix_neg"],
            mix_pos=opts["mix_pos"],
            distance_weight=opts["distance_weight"],
            groups=None if groups is None else groups.tolist(),
            detach=opts["detach"],
            renormalize=opts["renormalize"],
            window_mode=opts["window_mode"],
            window_edges=opts["window_edges"],
            reduction=opts["reduction"],
            weight_range=opts["weight_range"],
            normalize=opts["normalize"],
        )

    with pytest.MonkeyPatch.context() as patch:
        if not dense:
            patch.setattr(supremix_dense, "DENSE_MAX_ENTRIES", 0)
        assert_same(fast, slow, x)


def test_module_matches_function_and_takes_groups():
    x, y, groups, _ = make_batch(3, [0, 1, 1, 2, 3, 3], 2, 4, group_count=2)
    options = SupReMixOptions(temperature=0.5, window=2, reduction="label")
    module = SupReMixLoss(options)
    expected = supremix_loss(
        x, y, groups=groups, options=options, generator=torch.Generator().manual_seed(4)
    )
    got = module(x, y, groups=groups, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(got, expected)
    assert SupReMixLoss(temperature=0.5, window=2, reduction="label").options == options
    assert "window_edges='inclusive'" in repr(module)
    assert "reduction='label'" in repr(module)


def test_options_are_one_frozen_object_and_errors_name_the_option():
    options = SupReMixOptions(temperature=0.5, window=2)
    x, y, _, lam = make_batch(0, [0, 1, 2, 1], 2, 3)
    torch.testing.assert_close(
        supremix_loss(x, y, options=options, window=3, neg_lambdas=lam),
        supremix_loss(x, y, temperature=0.5, window=3, neg_lambdas=lam),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.window = 3  # type: ignore[misc]
    unknown = re.escape("supremix: unknown option(s) windw; expected some of")
    with pytest.raises(TypeError, match=unknown):
        supremix_loss(x, y, temperature=0.5, windw=2)
    with pytest.raises(TypeError, match="supremix: window must be given"):
        SupReMixLoss(temperature=0.5)
    with pytest.raises(TypeError, match=re.escape("supremix: unknown option(s) neg_lambdas")):
        SupReMixLoss(options, neg_lambdas=lam)  # test hooks live on the function only
    with pytest.raises(ValueError, match="supremix: window_edges must be one of inclusive, strict"):
        SupReMixOptions(temperature=0.5, window=2, window_edges="open")
    with pytest.raises(ValueError, match="supremix: reduction must be one of anchor, label"):
        SupReMixOptions(temperature=0.5, window=2, reduction="mean")


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(12, levels=8),
    views=st.integers(1, 2),
)
def test_supremix_without_mixing_and_weights_is_supcon(seed, sample_labels, views):
    x, y, _, _ = make_batch(seed, sample_labels, views, 3)
    off = dict(mix_neg=False, mix_pos=False, distance_weight=False)
    assert_same(
        lambda f: supremix_loss(f, y, temperature=0.3, window=2, **off),
        lambda f: supcon_loss(f, y, temperature=0.3),
        x,
    )
    assert_same(
        lambda f: supcon_loss(f, y, temperature=0.3),
        lambda f: direct_supcon(f, y.tolist(), t=0.3),
        x,
    )


@settings(max_examples=60, deadline=None)
@given(
    labels=label_lists(14, levels=9),
    continuous=st.booleans(),
    window=st.sampled_from([0.5, 1, 2, 3, 3.5, math.inf]),
    window_mode=st.sampled_from(["label", "rank"]),
    groups=st.none() | st.lists(st.integers(0, 2), min_size=14, max_size=14),
)
def test_triple_enumeration_is_exactly_the_window_set(
    labels, continuous, window, window_mode, groups
):
    n = len(labels)
    y = torch.tensor(labels, dtype=torch.float64)
    if continuous:
        y = y * 0.7 + torch.arange(n) % 3 * 0.1
    if window_mode == "rank":
        window = 3 if math.isinf(window) else math.ceil(window)
    group_list = None if groups is None else groups[:n]
    found_i, found_j, found_k, per_anchor = mix_pos_triples(
        y, window, None if groups is None else torch.tensor(group_list), window_mode=window_mode
    )
    found = sorted(zip(found_i.tolist(), found_j.tolist(), found_k.tolist(), strict=True))
    expected = sorted(
        (a, b, c)
        for a in range(n)
        for b, c in mix_pos_pairs(y.tolist(), a, window, window_mode, group_list)
    )
    assert found == expected
    assert found_i.tolist() == sorted(found_i.tolist())  # grouped by anchor
    assert per_anchor.tolist() == [sum(1 for t in expected if t[0] == a) for a in range(n)]


def test_window_is_inclusive_by_default_and_strict_as_the_published_code():
    """Eq. (4): y_i - g <= y_j and y_k <= y_i + g; the published code: strict on both sides."""
    y = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64)

    def triples(**kwargs):
        i, j, k, _ = mix_pos_triples(y, 2.0, **kwargs)
        return sorted(zip(i.tolist(), j.tolist(), k.tolist(), strict=True))

    strict = [(1, 0, 2), (2, 1, 3), (3, 2, 4)]
    assert triples(window_edges="strict") == strict
    assert triples() == sorted([*strict, (1, 0, 3), (2, 0, 3), (2, 0, 4), (2, 1, 4), (3, 1, 4)])
    assert triples(window_mode="rank") == triples()  # consecutive integers: ranks are labels
    assert triples(window_mode="rank", window_edges="strict") == strict
    spread = torch.tensor([0.0, 10.0, 20.0, 30.0], dtype=torch.float64)
    assert mix_pos_pairs(spread.tolist(), 1, 1, "rank") == [(0, 2)]
    x = torch.randn(4, 3, dtype=torch.float64)
    label_mode = supremix_loss(x, spread, temperature=1.0, window=1, mix_neg=False)
    rank_mode = supremix_loss(
        x, spread, temperature=1.0, window=1, mix_neg=False, window_mode="rank"
    )
    assert label_mode.item() == 0.0  # no positive at all in label units
    assert rank_mode.item() > 0.0


@pytest.mark.parametrize("edges", ["inclusive", "strict"])
def test_every_table_10_rsna_window_is_a_different_loss_on_integer_labels(edges):
    """Table 10's RSNA rows (gamma = 1, 3, 5, 10, inf) on whole-month labels.

    Inclusive (the default), each row forms Mix-pos and the five losses differ. Strict, gamma = 1
    forms none: that row would be SupReMix without Mix-pos.
    """
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 40, (24,), generator=g).to(torch.float64).repeat(2)
    x = torch.randn(48, 8, generator=g, dtype=torch.float64)
    lam = torch.rand(48, 48, generator=g, dtype=torch.float64)
    rows = [1, 3, 5, 10, math.inf]
    losses = [
        supremix_loss(x, y, temperature=1.0, window=w, window_edges=edges, neg_lambdas=lam).item()
        for w in rows
    ]
    counts = [int(mix_pos_triples(y, w, window_edges=edges)[3].sum()) for w in rows]
    no_mix_pos = supremix_loss(x, y, temperature=1.0, window=1, mix_pos=False, neg_lambdas=lam)
    if edges == "inclusive":
        assert all(c > 0 for c in counts)
        assert len(set(losses)) == len(rows)
        assert counts == sorted(counts) and len(set(counts)) == len(rows)
    else:
        assert counts[0] == 0
        assert losses[0] == pytest.approx(no_mix_pos.item(), rel=1e-12)
        assert len(set(losses[1:])) == len(rows) - 1


def test_an_infinite_label_window_mixes_every_lower_with_every_higher_label():
    """γ = ∞ (the SupReMix paper, Table 10) is a window wider than the label range; ranks need an
    integer."""
    y = torch.tensor([0.0, 1.0, 5.0, 40.0, 40.0], dtype=torch.float64)
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    lambdas = torch.rand(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    kwargs = {"temperature": 0.5, "neg_lambdas": lambdas}
    unbounded = supremix_loss(x, y, window=math.inf, **kwargs)
    torch.testing.assert_close(unbounded, supremix_loss(x, y, window=41.0, **kwargs))
    assert not torch.isclose(unbounded, supremix_loss(x, y, window=2.0, **kwargs))
    with pytest.raises(ValueError, match="window must be a positive finite number, got inf"):
        supremix_loss(x, y, temperature=1.0, window=math.inf, window_mode="rank")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), sample_labels=label_lists(9), views=st.integers(1, 2))
def test_permuting_the_batch_leaves_the_loss_unchanged(seed, sample_labels, views):
    x, y, groups, lam = make_batch(seed, sample_labels, views, 4, group_count=2)
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed + 1))
    kwargs = dict(temperature=0.4, window=2)
    base, grad = value_and_grad(
        lambda f: supremix_loss(f, y, neg_lambdas=lam, groups=groups, **kwargs), x
    )
    permuted, grad_p = value_and_grad(
        lambda f: supremix_loss(
            f, y[perm], neg_lambdas=lam[perm][:, perm], groups=groups[perm], **kwargs
        ),
        x[perm],
    )
    torch.testing.assert_close(permuted, base)
    torch.testing.assert_close(grad_p, grad[perm])


# --- the SupReMix paper's §3.4
# -----------------------------------------------------------------------------


def far_near_gradient_ratio(distance_weight: bool, sims: tuple[float, float], t: float) -> float:
    """|dL/ds_far| / |dL/ds_near| of one anchor (two identical views, label 0).

    Negatives at labels 1 (near) and 5 (far); unit features used as they are (no projection
    by the normalisation). Mixtures are detached, so a negative's feature
    gradient is sum over anchors of dL/ds_ia * z_i = 2 dL/ds_0a * z_0: the ratio of the
    negatives' gradient norms is the ratio of dL/ds.
    """
    anchor = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    near = torch.tensor([sims[0], math.sqrt(1 - sims[0] ** 2), 0.0], dtype=torch.float64)
    far = torch.tensor([sims[1], 0.0, math.sqrt(1 - sims[1] ** 2)], dtype=torch.float64)
    x = torch.stack([anchor, anchor, near, far]).requires_grad_(True)
    y = torch.tensor([0.0, 0.0, 1.0, 5.0], dtype=torch.float64)
    lam = torch.full((4, 4), 0.3, dtype=torch.float64)
    loss = supremix_loss(
        x,
        y,
        temperature=t,
        window=1,
        neg_lambdas=lam,
        mix_pos=False,
        distance_weight=distance_weight,
        normalize=False,
    )
    (grad,) = torch.autograd.grad(loss, x)
    return float(grad[3].norm() / grad[2].norm())


@settings(max_examples=25, deadline=None)
@given(
    near=st.floats(-0.9, 0.9),
    far=st.floats(-0.9, 0.9),
    t=st.sampled_from([0.1, 0.5, 1.0]),
)
def test_theorem_3_1_weights_magnify_far_negatives(near, far, t):
    """Theorem 3.1: the far/near gradient ratio grows by exactly w_far / w_near = 6 / 2."""
    with_w = far_near_gradient_ratio(True, (near, far), t)
    without_w = far_near_gradient_ratio(False, (near, far), t)
    assert with_w > without_w
    assert with_w / without_w == pytest.approx(3.0, rel=1e-9)
    assert without_w == pytest.approx(math.exp((far - near) / t), rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(10),
    views=st.integers(1, 2),
    window=st.sampled_from([1, 2, 3]),
    t=st.sampled_from([0.05, 0.2, 1.0, 5.0]),
    weight_range=st.sampled_from([None, 10.0]),
    scale=st.sampled_from([0.01, 1.0, 30.0]),
)
def test_lemma_3_2_loss_never_below_its_bound(
    seed, sample_labels, views, window, t, weight_range, scale
):
    """Lemma 3.2: L >= mean_i log|P_i| (- log R with weights divided by R), any batch."""
    x, y, _, _ = make_batch(seed, sample_labels, views, 3)
    gen = torch.Generator().manual_seed(seed)
    loss = supremix_loss(
        x * scale,
        y,
        temperature=t,
        window=window,
        generator=gen,
        weight_range=weight_range,
        renormalize_mixtures=bool(seed % 2),
    )
    log_range = 0.0 if weight_range is None else math.log(weight_range)
    assert loss.item() >= lower_bound(y.tolist(), window, log_range=log_range) - 1e-9


def ordered_embedding(levels: int, views: int, shuffle: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """App. A construction: z*_m on the line x = 1, position proportional to the label m."""
    labels = torch.arange(levels, dtype=torch.float64)
    position = labels if not shuffle else labels[torch.tensor([3, 0, 5, 1, 4, 2])]
    points = torch.stack([torch.ones(levels), 3 * (position - 2.5) / 2.5], dim=1)
    return points.to(torch.float64).repeat(views, 1), labels.repeat(views)


def bound_gap(x, y, t, seed=0):
    gen = torch.Generator().manual_seed(seed)
    loss = supremix_loss(x, y, temperature=t, window=2, generator=gen, renormalize_mixtures=True)
    return loss.item() - lower_bound(y.tolist(), 2)


def test_theorem_3_3_ordered_embeddings_reach_the_bound_as_t_goes_to_zero():
    """Theorem 3.3 on the App. A construction, and the direction of its limit.

    With globally ordered, locally linear embeddings every positive (real and Mix-pos) equals
    the anchor after normalisation, so ``L - L* = mean log(1 + sum_neg w exp((s - 1)/t)/|P|)``:
    that vanishes as t -> 0+ (each ``exp((cos theta - 1)/t)`` does), NOT as t -> infinity where
    it tends to ``log(1 + sum w / |P|)``. The proof's "t -> infinity" is a typo for t -> 0+.
    """
    x, y = ordered_embedding(6, 2, shuffle=False)
    temperatures = [5.0, 1.0, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5]
    gaps = [bound_gap(x, y, t) for t in temperatures]
    # strictly shrinking until it reaches float64 resolution, then zero to ~1e-12
    assert all(b < a or abs(b) < 1e-9 for a, b in itertools.pairwise(gaps))
    assert abs(gaps[-1]) < 1e-9
    assert bound_gap(x, y, 1e3) > 1.0  # large t does not approach the bound
    shuffled, _ = ordered_embedding(6, 2, shuffle=True)
    assert bound_gap(shuffled, y, 1e-3) > 1.0  # not ordered: no convergence as t -> 0


# --- the exact factorisation against the triple form, chunked or not --------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    samples=st.integers(2, 30),
    levels=st.sampled_from([2, 4, 8, 40]),
    views=st.integers(1, 2),
    group_count=st.sampled_from([0, 0, 3]),
    window=st.sampled_from([1, 2, 3.5, math.inf]),
    window_mode=st.sampled_from(["label", "rank"]),
    window_edges=st.sampled_from(["inclusive", "strict"]),
    reduction=st.sampled_from(["anchor", "label"]),
    chunked=st.booleans(),
    distance_weight=st.booleans(),
    detach=st.booleans(),
)
def test_factorised_mix_pos_equals_the_triple_form(
    seed,
    samples,
    levels,
    views,
    group_count,
    window,
    window_mode,
    window_edges,
    reduction,
    chunked,
    distance_weight,
    detach,
):
    """Many views per label (ties), groups, every window, both reductions, tiny chunks."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, levels, (samples,), generator=g).tolist()
    x, y, groups, lam = make_batch(seed, labels, views, 5, group_count=group_count)
    if window_mode == "rank" and math.isinf(window):
        window = 3
    if window_mode == "rank":
        window = math.ceil(window)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(supremix_rows, "MIN_BUDGET", 1 if chunked else 2**20)
        patch.setattr(supremix_dense, "DENSE_MAX_ENTRIES", 0)  # the factorised path
        _assert_same_as_triple_form(
            x, y, groups, lam, window, window_mode, window_edges, reduction, distance_weight, detach
        )


def _assert_same_as_triple_form(
    x, y, groups, lam, window, window_mode, window_edges, reduction, distance_weight, detach
):
    settings_ = dict(
        temperature=0.3,
        window=window,
        window_mode=window_mode,
        window_edges=window_edges,
        reduction=reduction,
        distance_weight=distance_weight,
    )
    assert_same(
        lambda f: supremix_loss(
            f, y, groups=groups, neg_lambdas=lam, detach_mixtures=detach, **settings_
        ),
        lambda f: materialised_supremix(
            f,
            y,
            lam,
            t=0.3,
            window=window,
            window_mode=window_mode,
            window_edges=window_edges,
            groups=groups,
            reduction=reduction,
            distance_weight=distance_weight,
            detach=detach,
        ),
        x,
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    samples=st.integers(2, 30),
    levels=st.sampled_from([2, 4, 8, 40]),
    views=st.integers(1, 2),
    group_count=st.sampled_from([0, 0, 3]),
    window=st.sampled_from([1, 2, 3.5, math.inf]),
    window_mode=st.sampled_from(["label", "rank"]),
    window_edges=st.sampled_from(["inclusive", "strict"]),
    reduction=st.sampled_from(["anchor", "label"]),
    mix_neg=st.booleans(),
    distance_weight=st.booleans(),
    detach=st.booleans(),
    normalize=st.booleans(),
    weight_range=st.sampled_from([None, "batch"]),
)
def test_dense_small_batch_path_equals_the_chunked_path(
    seed,
    samples,
    levels,
    views,
    group_count,
    window,
    window_mode,
    window_edges,
    reduction,
    mix_neg,
    distance_weight,
    detach,
    normalize,
    weight_range,
):
    """Value and gradient of the dense path against the factorised path in one-anchor chunks."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, levels, (samples,), generator=g).tolist()
    x, y, groups, lam = make_batch(seed, labels, views, 5, group_count=group_count)
    if window_mode == "rank":
        window = 3 if math.isinf(window) else math.ceil(window)
    n = len(y)
    assert supremix_dense.dense_fits(n, n, None)

    def loss(features):
        return supremix_loss(
            features,
            y,
            groups=groups,
            neg_lambdas=lam,
            temperature=0.3,
            window=window,
            window_mode=window_mode,
            window_edges=window_edges,
            reduction=reduction,
            mix_neg=mix_neg,
            distance_weight=distance_weight,
            detach_mixtures=detach,
            normalize=normalize,
            weight_range=weight_range,
        )

    def chunked(features):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(supremix_dense, "DENSE_MAX_ENTRIES", 0)
            patch.setattr(supremix_rows, "MIN_BUDGET", 1)
            return loss(features)

    assert_same(loss, chunked, x)


def test_dense_path_only_where_its_triples_fit_the_gram_matrix():
    """The dense path takes at most ``n N`` Mix-pos triples, so memory stays O(n N)."""
    labels = torch.arange(40, dtype=torch.float64).repeat_interleave(3)
    layout = MixPosLayout(labels, slice(0, 120), 5.0)
    triples = int(layout.triples_per_anchor.sum())
    assert triples > 120 * 120  # wide levels: 3 x 3 views per pair of labels
    assert not supremix_dense.dense_fits(120, 120, layout)
    narrow = MixPosLayout(labels, slice(0, 120), 1.0)
    assert supremix_dense.dense_fits(120, 120, narrow)
    assert not supremix_dense.dense_fits(1024, 1024, None)


def test_chunks_split_a_batch_and_bound_each_chunk():
    cost = torch.tensor([5, 5, 5, 30, 1, 1, 1, 1])
    parts = chunks(cost, 10)
    assert parts[0][0] == 0 and parts[-1][1] == len(cost)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    for start, stop in parts:
        assert stop - start == 1 or int(cost[start:stop].sum()) <= 10 + int(cost[start:stop].max())
    assert len(parts) > 1


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sample_labels=label_lists(9),
    views=st.integers(1, 2),
    window=st.sampled_from([1, 2, 3]),
    t=st.sampled_from([0.1, 1.0]),
)
def test_lemma_3_2_for_the_label_reduction(seed, sample_labels, views, window, t):
    """App. A.2, eq. (10): L >= sum_m (1/k_m) sum_i |P_i| log |P_i| for eq. (6) as printed."""
    x, y, _, _ = make_batch(seed, sample_labels, views, 3)
    loss = supremix_loss(
        x,
        y,
        temperature=t,
        window=window,
        reduction="label",
        generator=torch.Generator().manual_seed(seed),
    )
    labels = y.tolist()
    bound = 0.0
    for i, label in enumerate(labels):
        count = positive_count(labels, i, window)
        if count:
            bound += count * math.log(count) / labels.count(label)
    assert loss.item() >= bound - 1e-9
