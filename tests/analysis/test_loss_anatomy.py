"""Loss anatomy (supremix.analysis.loss_anatomy) against direct loops, and the SupReMix paper's
§3.4."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.analysis.loss_anatomy import (
    TERM_KINDS,
    bug_effects,
    lemma_bound,
    ordered_line_embedding,
    pair_table,
    positive_counts,
    table_loss,
    term_gradients,
    theorem_3_3_table,
)
from supremix.losses import supremix_loss
from supremix.losses.published import mixture_columns, mixture_shift


def batch(seed: int, sample_labels: list[int], views: int, dim: int = 3, continuous=False):
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor(sample_labels, dtype=torch.float64)
    if continuous:
        y = y + torch.rand(len(sample_labels), generator=g, dtype=torch.float64)
    y = y.repeat(views)
    x = torch.randn(len(y), dim, generator=g, dtype=torch.float64)
    lam = torch.rand(len(y), len(y), generator=g, dtype=torch.float64)
    return x, y, lam


def direct_terms(y: list[float], lam, window: float) -> list[tuple]:
    """Every (anchor, kind, first, second, lam, label, weight), from the SupReMix paper's eqs.
    (1)-(5)."""
    rows = []
    n = len(y)
    for i in range(n):
        for a in range(n):
            if a != i:
                kind = "real positive" if y[a] == y[i] else "real negative"
                rows.append((i, kind, a, -1, None, y[a], 1 + abs(y[i] - y[a])))
        for k in range(n):
            if y[k] != y[i]:
                a = float(lam[i][k])
                label = a * y[i] + (1 - a) * y[k]
                rows.append((i, "Mix-neg", i, k, a, label, 1 + abs(y[i] - label)))
        for j in range(n):
            for k in range(n):
                if y[i] - window <= y[j] < y[i] < y[k] <= y[i] + window:  # eq. (4), inclusive
                    a = (y[k] - y[i]) / (y[k] - y[j])
                    rows.append((i, "Mix-pos", j, k, a, y[i], 1.0))
    return rows


def rounded(rows):
    return sorted(
        tuple(round(v, 9) if isinstance(v, float) else v for v in row)
        for row in [tuple(-1.0 if v is None else v for v in r) for r in rows]
    )


labels = st.lists(st.integers(0, 5), min_size=1, max_size=6)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    sample_labels=labels,
    views=st.integers(1, 2),
    continuous=st.booleans(),
    window=st.sampled_from([1, 2, 3.5]),
)
def test_pair_table_lists_exactly_the_terms_of_the_equations(
    seed, sample_labels, views, continuous, window
):
    _, y, lam = batch(seed, sample_labels, views, continuous=continuous)
    table = pair_table(y, window=window, neg_lambdas=lam)
    assert set(table["kind"]) <= set(TERM_KINDS)
    found = [
        (
            r.anchor,
            r.kind,
            r.first,
            r.second,
            None if math.isnan(r.lam) else r.lam,
            r.label,
            r.weight,
        )
        for r in table.itertuples()
    ]
    assert rounded(found) == rounded(direct_terms(y.tolist(), lam.tolist(), window))
    assert (table["positive"] == table["kind"].isin(["real positive", "Mix-pos"])).all()
    real = table["kind"].str.startswith("real")
    assert (table.loc[real, "published_weight"] == table.loc[real, "weight"]).all()


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    sample_labels=labels,
    views=st.integers(1, 2),
    temperature=st.sampled_from([0.1, 0.5, 2.0]),
    renormalize=st.booleans(),
)
def test_the_tables_terms_add_up_to_supremix_loss(
    seed, sample_labels, views, temperature, renormalize
):
    x, y, lam = batch(seed, sample_labels, views)
    table = pair_table(
        y,
        window=2,
        neg_lambdas=lam,
        features=x,
        temperature=temperature,
        renormalize_mixtures=renormalize,
    )
    expected = supremix_loss(
        x,
        y,
        temperature=temperature,
        window=2,
        neg_lambdas=lam,
        renormalize_mixtures=renormalize,
    )
    assert table_loss(table, temperature=temperature) == pytest.approx(expected.item(), abs=1e-10)
    np.testing.assert_allclose(table["logit"], table["similarity"] / temperature)


def test_similarities_are_those_of_explicit_mixture_vectors():
    x, y, lam = batch(1, [0, 1, 2, 3], 2)
    table = pair_table(y, window=2, neg_lambdas=lam, features=x, renormalize_mixtures=True)
    z = x / x.norm(dim=1, keepdim=True)
    for row in table.sample(25, random_state=0).itertuples():
        if row.second < 0:
            expected = z[row.anchor] @ z[row.first]
        else:
            m = row.lam * x[row.first] + (1 - row.lam) * x[row.second]
            expected = z[row.anchor] @ (m / m.norm())
        assert row.similarity == pytest.approx(float(expected), abs=1e-12)


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    sample_labels=labels,
    views=st.integers(1, 2),
    t=st.sampled_from([0.1, 0.5, 1.0]),
)
def test_term_gradients_are_the_closed_form_of_theorem_3_1(seed, sample_labels, views, t):
    """dL_i/ds_a = (w_a exp(s_a/t) / D_i - [a in P_i] / |P_i|) / t (App. A.1)."""
    x, y, lam = batch(seed, sample_labels, views)
    table = term_gradients(
        pair_table(y, window=2, neg_lambdas=lam, features=x, temperature=t), temperature=t
    )
    for _, rows in table.groupby("anchor"):
        count = int(rows["positive"].sum())
        if count == 0:
            assert rows["grad"].isna().all()
            continue
        for weights, column in (
            (rows["weight"], "grad"),
            (1.0 + 0 * rows["weight"], "grad_unweighted"),
        ):
            terms = weights * np.exp(rows["similarity"] / t)
            expected = (terms / terms.sum() - rows["positive"] / count) / t
            np.testing.assert_allclose(rows[column], expected, rtol=1e-9, atol=1e-12)


def test_theorem_3_1_weights_multiply_the_far_near_ratio_by_the_weight_ratio():
    x, y, lam = batch(4, [0, 1, 2, 5, 8], 2)
    table = term_gradients(
        pair_table(y, window=2, neg_lambdas=lam, features=x, temperature=0.5), temperature=0.5
    )
    negatives = table[(table["anchor"] == 0) & (table["kind"] == "real negative")]
    near = negatives[negatives["label"] == 1].iloc[0]
    far = negatives[negatives["label"] == 8].iloc[0]
    with_w = far["grad"] / near["grad"]
    without_w = far["grad_unweighted"] / near["grad_unweighted"]
    assert with_w / without_w == pytest.approx(9.0 / 2.0, rel=1e-9)  # w = 1 + |dy|: 9 vs 2
    assert with_w > without_w > 0


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    labels_=st.lists(st.integers(0, 6), min_size=1, max_size=12), window=st.sampled_from([1, 2, 3])
)
def test_positive_counts_and_the_bound_match_loops(labels_, window):
    y = [float(v) for v in labels_]
    n = len(y)
    counts = [
        sum(1 for a in range(n) if a != i and y[a] == y[i])
        + sum(
            1
            for j in range(n)
            for k in range(n)
            if y[i] - window <= y[j] < y[i] < y[k] <= y[i] + window  # eq. (4), inclusive
        )
        for i in range(n)
    ]
    assert positive_counts(y, window=window).tolist() == counts
    logs = [math.log(c) for c in counts if c > 0]
    expected = sum(logs) / len(logs) if logs else 0.0
    assert lemma_bound(y, window=window) == pytest.approx(expected)
    assert lemma_bound(y, window=window, weight_range=4.0) == pytest.approx(
        expected - (math.log(4.0) if logs else 0.0)
    )


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    sample_labels=labels,
    views=st.integers(1, 2),
    t=st.sampled_from([0.02, 0.5, 5.0]),
    scale=st.sampled_from([0.01, 1.0, 50.0]),
)
def test_lemma_3_2_the_loss_never_falls_below_the_bound(seed, sample_labels, views, t, scale):
    x, y, lam = batch(seed, sample_labels, views)
    loss = supremix_loss(x * scale, y, temperature=t, window=2, neg_lambdas=lam)
    assert loss.item() >= lemma_bound(y, window=2) - 1e-9


def test_lemma_3_2_equality_when_every_positive_collapses_and_negatives_vanish():
    """Two views per label, no Mix-pos (window below the label spacing), same-label views
    identical and t small: L_i = log|P_i| = log 1 = 0 in the limit."""
    y = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64).repeat(2)
    angles = torch.tensor([0.0, 2.1, 4.2], dtype=torch.float64).repeat(2)
    x = torch.stack([angles.cos(), angles.sin()], dim=1)
    lam = torch.full((6, 6), 0.2, dtype=torch.float64)
    loss = supremix_loss(x, y, temperature=0.01, window=0.5, neg_lambdas=lam)
    assert lemma_bound(y, window=0.5) == 0.0
    assert 0 <= loss.item() < 1e-12


def test_ordered_line_embedding_is_a_line_in_label_order():
    y = torch.tensor([3.0, 0.0, 1.0, 5.0])
    x = ordered_line_embedding(y, offset=2.0, spread=3.0)
    assert (x[:, 0] == 2.0).all()
    torch.testing.assert_close(x[:, 1], torch.tensor([0.6, -3.0, -1.8, 3.0], dtype=torch.float64))


def ordered_case(shuffle: bool = False):
    y = torch.arange(6, dtype=torch.float64).repeat(2)
    x = ordered_line_embedding(y)
    if shuffle:
        x = x[torch.tensor([3, 0, 5, 1, 4, 2]).repeat(2) + torch.tensor([0] * 6 + [6] * 6)]
    lam = torch.distributions.Beta(2.0, 8.0).sample((12, 12)).double()
    return x, y, lam


def test_theorem_3_3_the_gap_vanishes_as_t_goes_to_zero_not_to_infinity():
    torch.manual_seed(0)
    x, y, lam = ordered_case()
    temperatures = [100.0, 10.0, 1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-5]
    table = theorem_3_3_table(x, y, temperatures, window=2, neg_lambdas=lam)
    gaps = table["gap"].to_numpy()
    # shrinks as t decreases, to float64 rounding of logits of order 1/t (1e5 at t = 1e-5)
    assert (np.diff(gaps) <= 1e-10).all()
    assert abs(gaps[-1]) < 1e-9
    assert gaps[0] > 1.0  # t -> infinity does not approach the bound
    assert (table["gap"] <= table["proof_bound"] + 1e-10).all()
    assert (table["gap"] >= -1e-10).all()
    cos_theta0 = table["cos_theta0"].iloc[0]
    assert cos_theta0 < 1
    np.testing.assert_allclose(
        table["vanishing_term"], np.exp((cos_theta0 - 1) / table["temperature"])
    )
    assert table["vanishing_term"].iloc[0] > 0.99 and table["vanishing_term"].iloc[-1] < 1e-9


def test_theorem_3_3_needs_renormalised_mixtures_and_order():
    torch.manual_seed(0)
    x, y, lam = ordered_case()
    plain = theorem_3_3_table(
        x, y, [1.0, 0.01, 1e-3], window=2, neg_lambdas=lam, renormalize_mixtures=False
    )
    assert plain["gap"].iloc[-1] > plain["gap"].iloc[0] > 0  # Mix-pos shorter than 1: diverges
    shuffled, y, lam = ordered_case(shuffle=True)
    table = theorem_3_3_table(shuffled, y, [1e-3], window=2, neg_lambdas=lam)
    assert table["gap"].iloc[0] > 1.0


def test_bug_effects_match_the_published_columns_and_a_direct_share():
    x, y, lam = batch(9, [0, 1, 2, 2, 3, 5], 2, dim=8)
    effects = bug_effects(x, y, temperature=0.5, window=2.5, neg_lambdas=lam)
    columns = mixture_columns(y, 2.5, lam)
    np.testing.assert_allclose(
        effects["delta"], mixture_shift(x, y, columns, temperature=0.5).numpy()
    )
    table = pair_table(y, window=2.5, neg_lambdas=lam, features=x, temperature=0.5)
    for anchor in range(len(y)):
        rows = table[table["anchor"] == anchor]
        mixture = rows["kind"].isin(["Mix-neg", "Mix-pos"])
        delta = effects.loc[anchor, "delta"]
        terms = rows["weight"] * np.exp(rows["logit"])
        shifted = terms * np.where(mixture, math.exp(delta), 1.0)
        misaligned = rows["published_weight"] * np.exp(rows["logit"])
        row = effects.loc[anchor]
        assert row["mixture_share"] == pytest.approx(terms[mixture].sum() / terms.sum())
        assert row["mixture_share_shift"] == pytest.approx(shifted[mixture].sum() / shifted.sum())
        assert row["mixture_share_misaligned"] == pytest.approx(
            misaligned[mixture].sum() / misaligned.sum()
        )
        if delta > 0:
            assert row["mixture_share_shift"] > row["mixture_share"]
        assert row["mix_pos"] == int((rows["kind"] == "Mix-pos").sum())
        if row["mix_pos"]:
            assert row["mix_pos_weight"] == 1.0
            assert row["published_mix_pos_weight"] >= 1.0
    assert (effects["published_mix_pos_weight"].dropna() > 1.0).any()


def test_errors_name_the_problem():
    y = torch.tensor([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="mix_neg needs neg_lambdas"):
        pair_table(y, window=1)
    with pytest.raises(ValueError, match="no 'similarity' column"):
        term_gradients(pair_table(y, window=1, mix_neg=False), temperature=1.0)
    with pytest.raises(ValueError, match="labels are empty"):
        positive_counts([], window=1)
    with pytest.raises(ValueError, match="one row per label"):
        pair_table(y, window=1, mix_neg=False, features=torch.randn(2, 3))
    assert isinstance(pair_table(y, window=1, mix_neg=False), pd.DataFrame)
