"""Regression metrics, shot regions, bootstrap intervals and paired t-tests (numpy/scipy).

The SupReMix paper's §4.4 reports "common metrics for regression [Yang et al. 2021]": MAE, MSE,
geometric mean (GM) error and Pearson ρ; we add RMSE and R². Shot regions follow the SupReMix
paper's App. D.3 (Table 16): label bins with more than 100 training samples are many-shot, fewer
than 20 few-shot, the rest medium-shot. The SupReMix paper's Fig. 5 marks differences between
methods by paired t-tests (``***`` p < 0.001, ``**`` p < 0.01, ``ns``).

Inputs are 1-D sequences, numpy arrays or torch tensors of equal length; non-finite values
are rejected. Conventions for degenerate input: Pearson ρ is NaN when fewer than two samples
are given or either side is constant; R² is NaN when fewer than two samples are given or the
targets are constant (the variance it divides by is zero).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .data.stats import SHOT_REGIONS
from .data.stats import shot_regions as training_shot_regions

GM_FLOOR = 1e-12
METRIC_NAMES = ("mae", "mse", "rmse", "gm", "pearson", "r2")


def as_1d(values: Any, name: str = "values") -> np.ndarray:
    """``values`` (list, array, tensor) as a 1-D float64 array of finite numbers."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains {int(np.sum(~np.isfinite(array)))} non-finite values")
    return array


def check_pair(pred: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` and ``target`` as finite 1-D float64 arrays of the same non-zero length."""
    p, t = as_1d(pred, "pred"), as_1d(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"pred has {p.size} values but target has {t.size}")
    if p.size == 0:
        raise ValueError("pred and target are empty")
    return p, t


def mae(pred: Any, target: Any) -> float:
    """Mean absolute error ``mean |pred - target|``."""
    p, t = check_pair(pred, target)
    return float(np.mean(np.abs(p - t)))


def mse(pred: Any, target: Any) -> float:
    """Mean squared error ``mean (pred - target)²``."""
    p, t = check_pair(pred, target)
    return float(np.mean((p - t) ** 2))


def rmse(pred: Any, target: Any) -> float:
    """Root mean squared error ``sqrt(MSE)``."""
    return math.sqrt(mse(pred, target))


def gm(pred: Any, target: Any, *, floor: float = GM_FLOOR) -> float:
    """Geometric mean of the absolute errors, ``exp(mean log max(|pred - target|, floor))``.

    The GM error of Yang et al. 2021 (the SupReMix paper [59]). A single exact zero error would make
    the plain geometric mean 0 whatever the other errors are, so absolute errors are floored at
    ``floor`` (1e-12 by default, far below any label resolution) before the logarithm. By the
    inequality of arithmetic and geometric means, ``gm <= mae`` whenever no error is below
    ``floor``.
    """
    if floor <= 0:
        raise ValueError(f"floor must be positive, got {floor!r}")
    p, t = check_pair(pred, target)
    return float(np.exp(np.mean(np.log(np.maximum(np.abs(p - t), floor)))))


def pearson(pred: Any, target: Any) -> float:
    """Pearson correlation ρ; NaN for fewer than two samples or a constant side."""
    p, t = check_pair(pred, target)
    if p.size < 2:
        return math.nan
    dp, dt = p - p.mean(), t - t.mean()
    denominator = math.sqrt(float(np.sum(dp**2)) * float(np.sum(dt**2)))
    if denominator == 0.0:
        return math.nan
    return float(np.clip(np.sum(dp * dt) / denominator, -1.0, 1.0))


def r2(pred: Any, target: Any) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``; NaN for constant targets."""
    p, t = check_pair(pred, target)
    total = float(np.sum((t - t.mean()) ** 2))
    if p.size < 2 or total == 0.0:
        return math.nan
    return 1.0 - float(np.sum((t - p) ** 2)) / total


METRICS: dict[str, Callable[[Any, Any], float]] = {
    "mae": mae,
    "mse": mse,
    "rmse": rmse,
    "gm": gm,
    "pearson": pearson,
    "r2": r2,
}


def regression_metrics(pred: Any, target: Any) -> dict[str, float]:
    """``{"mae", "mse", "rmse", "gm", "pearson", "r2"}`` of ``pred`` against ``target``."""
    p, t = check_pair(pred, target)
    return {name: function(p, t) for name, function in METRICS.items()}


def shot_regions(
    target: Any, train_targets: Any, *, bin_width: float = 1.0, many: float = 100, few: float = 20
) -> np.ndarray:
    """Region name (``"many"``, ``"medium"``, ``"few"``) of each test target.

    A test target falls in the label bin ``[k·bin_width, (k+1)·bin_width)``; the bin is
    many-shot when it holds more than ``many`` training targets, few-shot when it holds fewer
    than ``few`` (bins absent from training included), medium-shot otherwise (the SupReMix paper,
    Table 16, Yang et al. 2021 with integer labels and ``bin_width=1``). The rule is
    :func:`supremix.data.stats.shot_regions`.
    """
    rule = training_shot_regions(
        as_1d(train_targets, "train_targets"), bin_width, many_threshold=many, few_threshold=few
    )
    return rule.region(as_1d(target, "target"))


def shot_region_metrics(
    pred: Any,
    target: Any,
    train_targets: Any,
    *,
    bin_width: float = 1.0,
    many: float = 100,
    few: float = 20,
) -> dict[str, dict[str, float]]:
    """:func:`regression_metrics` overall and per shot region, each with a ``"count"``.

    Returns ``{"all": {...}, "many": {...}, "medium": {...}, "few": {...}}``; regions are
    defined by :func:`shot_regions`. A region without test samples has ``count`` 0 and every
    metric NaN.
    """
    p, t = check_pair(pred, target)
    regions = shot_regions(t, train_targets, bin_width=bin_width, many=many, few=few)
    result = {"all": {**regression_metrics(p, t), "count": float(p.size)}}
    for region in SHOT_REGIONS:
        mask = regions == region
        if mask.any():
            result[region] = {**regression_metrics(p[mask], t[mask]), "count": float(mask.sum())}
        else:
            result[region] = {**dict.fromkeys(METRIC_NAMES, math.nan), "count": 0.0}
    return result


@dataclass(frozen=True)
class BootstrapCI:
    """Point estimate and percentile bootstrap interval ``[low, high]`` at level 1 - alpha."""

    estimate: float
    low: float
    high: float
    n_boot: int
    alpha: float


def bootstrap_ci(
    pred: Any,
    target: Any,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "mae",
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> BootstrapCI:
    """Percentile bootstrap confidence interval of ``metric`` over test samples.

    Draws ``n_boot`` resamples of the (pred, target) pairs with replacement (numpy generator
    seeded by ``seed``) and takes the ``alpha/2`` and ``1 - alpha/2`` quantiles of the metric.
    ``metric`` is a name of :data:`METRICS` or a function ``(pred, target) -> float``.
    Resamples where the metric is NaN (e.g. ρ of a constant resample) are left out.
    """
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
        metric = METRICS[metric]
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    p, t = check_pair(pred, target)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, p.size, size=(n_boot, p.size))
    values = np.array([metric(p[index], t[index]) for index in draws], dtype=np.float64)
    values = values[np.isfinite(values)]
    low, high = (
        np.quantile(values, [alpha / 2, 1 - alpha / 2]) if values.size else (math.nan, math.nan)
    )
    return BootstrapCI(float(metric(p, t)), float(low), float(high), n_boot, alpha)


@dataclass(frozen=True)
class PairedTTest:
    """Paired t-test of ``a`` against ``b``: statistic, two-sided p, ``mean(a - b)``, pairs."""

    t: float
    p: float
    mean_difference: float
    n: int

    @property
    def stars(self) -> str:
        """The SupReMix paper's Fig. 5 annotation of ``p``."""
        return significance_stars(self.p)


def paired_ttest(a: Any, b: Any) -> PairedTTest:
    """Two-sided paired t-test of two matched samples (``scipy.stats.ttest_rel``).

    The SupReMix paper's Fig. 5 annotates MAE differences between methods with "paired t-tests"
    without saying what is paired. The pairs that exist for one test set are the samples: pass the
    per-sample absolute errors of two methods on the same test items (:func:`paired_error_ttest`
    does this from predictions), or per-seed metrics of two methods matched by seed. A negative
    ``mean_difference`` means ``a`` has the smaller values (errors). ``t`` and ``p`` are NaN when
    all differences are equal (zero variance).
    """
    x, y = as_1d(a, "a"), as_1d(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"a has {x.size} values but b has {y.size}; a paired test needs pairs")
    if x.size < 2:
        raise ValueError(f"a paired t-test needs at least 2 pairs, got {x.size}")
    difference = x - y
    if np.all(difference == difference[0]):
        return PairedTTest(math.nan, math.nan, float(difference[0]), int(x.size))
    result = stats.ttest_rel(x, y)
    return PairedTTest(
        float(result.statistic), float(result.pvalue), float(difference.mean()), int(x.size)
    )


def paired_error_ttest(pred_a: Any, pred_b: Any, target: Any) -> PairedTTest:
    """Paired t-test of the per-sample absolute errors of two methods on one test set."""
    pa, t = check_pair(pred_a, target)
    pb, _ = check_pair(pred_b, target)
    return paired_ttest(np.abs(pa - t), np.abs(pb - t))


def significance_stars(p: float) -> str:
    """``"***"`` for p < 0.001, ``"**"`` for p < 0.01, ``"*"`` for p < 0.05, else ``"ns"``."""
    if not p < 0.05:
        return "ns"
    return "***" if p < 0.001 else "**" if p < 0.01 else "*"
