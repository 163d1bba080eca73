"""Regression metrics against direct formulas, scipy and scikit-learn; properties."""

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from supremix.metrics import (
    bootstrap_ci,
    gm,
    mae,
    paired_error_ttest,
    paired_ttest,
    pearson,
    r2,
    regression_metrics,
    rmse,
    shot_region_metrics,
    shot_regions,
    significance_stars,
)

values = st.floats(-1e3, 1e3, allow_nan=False)
pairs = st.integers(2, 40).flatmap(
    lambda n: st.tuples(
        st.lists(values, min_size=n, max_size=n), st.lists(values, min_size=n, max_size=n)
    )
)


def test_against_scikit_learn_and_scipy():
    rng = np.random.default_rng(0)
    target = rng.normal(50, 10, 300)
    pred = target + rng.normal(0, 3, 300)
    result = regression_metrics(pred, target)
    assert set(result) == {"mae", "mse", "rmse", "gm", "pearson", "r2"}
    assert result["mae"] == pytest.approx(mean_absolute_error(target, pred))
    assert result["mse"] == pytest.approx(mean_squared_error(target, pred))
    assert result["rmse"] == pytest.approx(math.sqrt(mean_squared_error(target, pred)))
    assert result["gm"] == pytest.approx(stats.gmean(np.abs(pred - target)))
    assert result["pearson"] == pytest.approx(stats.pearsonr(pred, target).statistic)
    assert result["r2"] == pytest.approx(r2_score(target, pred))


def test_accepts_tensors_and_column_vectors():
    target = torch.tensor([[1.0], [2.0], [4.0]])
    pred = torch.tensor([1.5, 2.0, 3.0], requires_grad=True)
    assert mae(pred, target) == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_mae_at_most_rmse_and_permutation_invariance(pair):
    pred, target = np.array(pair[0]), np.array(pair[1])
    assert mae(pred, target) <= rmse(pred, target) * (1 + 1e-12) + 1e-12
    order = np.random.default_rng(len(pred)).permutation(len(pred))
    shuffled = regression_metrics(pred[order], target[order])
    for key, value in regression_metrics(pred, target).items():
        assert shuffled[key] == pytest.approx(value, nan_ok=True, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(1e-6, 1e3), min_size=1, max_size=40),
    st.lists(st.floats(-1e3, 1e3), min_size=40, max_size=40),
)
def test_gm_at_most_mae(errors, targets):
    target = np.array(targets[: len(errors)])
    pred = target + np.array(errors) * np.where(np.arange(len(errors)) % 2, 1, -1)
    assert gm(pred, target) <= mae(pred, target) * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(values, min_size=2, max_size=40))
def test_perfect_predictions(target):
    assume(np.ptp(target) > 1e-6)
    result = regression_metrics(target, target)
    assert result["r2"] == 1.0 and result["mae"] == 0.0 and result["mse"] == 0.0
    assert result["pearson"] == pytest.approx(1.0)


def test_gm_floors_zero_errors_instead_of_collapsing():
    assert gm([1.0, 2.0, 3.0], [1.0, 4.0, 7.0]) == pytest.approx((1e-12 * 2 * 4) ** (1 / 3))
    assert gm([1.0, 2.0], [1.0, 2.0], floor=1e-3) == pytest.approx(1e-3)


def test_degenerate_inputs_give_nan():
    assert math.isnan(pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    assert math.isnan(pearson([1.0], [2.0]))
    assert math.isnan(r2([1.0, 2.0], [3.0, 3.0]))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="pred has 2 values but target has 3"):
        mae([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="target contains 1 non-finite values"):
        mae([1, 2], [1, np.nan])
    with pytest.raises(ValueError, match="pred and target are empty"):
        mae([], [])


def slow_regions(target, train, width, many, few):
    regions = []
    for t in target:
        bin_index = math.floor(t / width)
        count = sum(1 for v in train if math.floor(v / width) == bin_index)
        regions.append("many" if count > many else "few" if count < few else "medium")
    return regions


def test_shot_region_boundaries():
    # bins: 0 -> 101 samples, 1 -> 100, 2 -> 20, 3 -> 19, 4 -> none
    train = np.concatenate(
        [np.full(101, 0.5), np.full(100, 1.2), np.full(20, 2.9), np.full(19, 3.0)]
    )
    target = np.array([0.1, 1.9, 2.0, 3.5, 4.2])
    assert list(shot_regions(target, train)) == ["many", "medium", "medium", "few", "few"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 30), min_size=1, max_size=30),
    st.lists(st.floats(0, 30), max_size=300),
    st.sampled_from([0.5, 1.0, 2.5]),
    st.integers(0, 20),
    st.integers(0, 20),
)
def test_shot_regions_match_a_direct_count(target, train, width, few, extra):
    many = few + extra
    expected = slow_regions(target, train, width, many, few)
    got = shot_regions(target, train, bin_width=width, many=many, few=few)
    assert list(got) == expected


def test_shot_region_metrics_per_region_and_empty_region():
    train = np.concatenate([np.full(150, 10.0), np.full(5, 30.0)])
    target = np.array([10.2, 10.7, 30.1, 30.4, 55.0])
    pred = np.array([11.2, 10.7, 28.1, 30.4, 50.0])
    result = shot_region_metrics(pred, target, train)
    assert result["all"]["count"] == 5 and result["all"]["mae"] == pytest.approx(8 / 5)
    assert result["many"]["count"] == 2 and result["many"]["mae"] == pytest.approx(0.5)
    assert result["few"]["count"] == 3 and result["few"]["mae"] == pytest.approx(7 / 3)
    assert result["medium"]["count"] == 0
    assert all(
        math.isnan(result["medium"][k]) for k in ("mae", "mse", "rmse", "gm", "pearson", "r2")
    )


def test_bootstrap_interval_of_mae_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    target = rng.normal(0, 1, 2000)
    pred = target + rng.normal(0, 2, 2000)
    errors = np.abs(pred - target)
    ci = bootstrap_ci(pred, target, "mae", n_boot=400, alpha=0.05, seed=3)
    half_width = 1.96 * errors.std() / math.sqrt(errors.size)
    assert ci.estimate == pytest.approx(errors.mean())
    assert ci.low == pytest.approx(errors.mean() - half_width, abs=0.25 * half_width)
    assert ci.high == pytest.approx(errors.mean() + half_width, abs=0.25 * half_width)


def test_bootstrap_is_seeded_and_takes_functions():
    rng = np.random.default_rng(2)
    target = rng.normal(size=50)
    pred = target + rng.normal(size=50)
    first = bootstrap_ci(pred, target, lambda p, t: float(np.median(np.abs(p - t))), seed=5)
    again = bootstrap_ci(pred, target, lambda p, t: float(np.median(np.abs(p - t))), seed=5)
    other = bootstrap_ci(pred, target, lambda p, t: float(np.median(np.abs(p - t))), seed=6)
    assert first == again and first != other
    assert first.low <= first.estimate <= first.high
    with pytest.raises(ValueError, match="unknown metric 'mape'"):
        bootstrap_ci(pred, target, "mape")


def test_paired_ttest_against_the_formula_and_scipy():
    rng = np.random.default_rng(4)
    a = rng.normal(5, 1, 30)
    b = a + rng.normal(0.3, 0.5, 30)
    result = paired_ttest(a, b)
    d = a - b
    t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))
    assert result.t == pytest.approx(t)
    assert result.p == pytest.approx(2 * stats.t.sf(abs(t), d.size - 1))
    assert result.p == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert result.mean_difference == pytest.approx(d.mean()) and result.n == 30


def test_paired_error_ttest_uses_absolute_errors():
    target = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    better = target + np.array([0.1, -0.2, 0.1, 0.0, -0.1])
    worse = target + np.array([1.0, -1.5, 0.8, 1.2, -0.9])
    result = paired_error_ttest(better, worse, target)
    expected = stats.ttest_rel(np.abs(better - target), np.abs(worse - target))
    assert result.t == pytest.approx(expected.statistic) and result.t < 0
    assert result.p == pytest.approx(expected.pvalue)


def test_paired_ttest_degenerate_and_bad_input():
    constant = paired_ttest([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    assert math.isnan(constant.t) and math.isnan(constant.p) and constant.mean_difference == 1.0
    with pytest.raises(ValueError, match="a has 3 values but b has 2"):
        paired_ttest([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2 pairs"):
        paired_ttest([1], [2])


@pytest.mark.parametrize(
    ("p", "stars"),
    [
        (0.0005, "***"),
        (0.001, "**"),
        (0.009, "**"),
        (0.01, "*"),
        (0.049, "*"),
        (0.05, "ns"),
        (math.nan, "ns"),
    ],
)
def test_significance_stars(p, stars):
    assert significance_stars(p) == stars
