"""Figures of a method comparison: true vs predicted, t-SNE maps, paired t-tests.

Each function takes plain arrays or DataFrames (for instance from a
:class:`supremix.studies.Study`) and returns a matplotlib :class:`~matplotlib.figure.Figure`
made without pyplot, so no global figure state is touched, that shows itself as a PNG in
Jupyter whatever the matplotlib backend (:func:`report_figure`; the book builds with
``MPLBACKEND=Agg``, under which a plain Figure displays as text).

* :func:`true_vs_predicted_grid`: one panel per method, prediction against label, every seed.
* :func:`embedding_grid`: t-SNE maps of encoder features coloured by label, one per method
  (the SupReMix paper, Figs. 3 and 6).
* :func:`paired_test_heatmap`: mean differences of per-item absolute errors between methods,
  annotated with the paired t-test's stars (the SupReMix paper, Fig. 5).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from .analysis import embed_2d, plot_embedding
from .analysis.figure import report_figure
from .metrics import as_1d, pearson, significance_stars


def _grid(n: int, ncols: int, panel: tuple[float, float]) -> tuple[Figure, list[Any]]:
    if n < 1:
        raise ValueError("nothing to plot: no methods given")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    figure = report_figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return figure, list(axes[:n])


def _prediction_rows(name: str, values: Any, n: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != n:
        raise ValueError(
            f"predictions of {name} have shape {np.shape(values)}; expected ({n},) or "
            f"(seeds, {n}) for {n} targets"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"predictions of {name} contain non-finite values")
    return array


def true_vs_predicted_grid(
    predictions: Mapping[str, Any],
    targets: Any,
    *,
    label_name: str = "label",
    ncols: int = 3,
    title: str | None = None,
) -> Figure:
    """Prediction against label, one panel per method, every seed's points in one panel.

    ``predictions`` maps a method name to ``(items,)`` or ``(seeds, items)`` predictions of
    the same items as ``targets``. Every panel has the same limits and the identity line; its
    title gives the MAE and Pearson ρ of the prediction averaged over seeds (with several).
    """
    y = as_1d(targets, "targets")
    rows = {name: _prediction_rows(name, values, y.size) for name, values in predictions.items()}
    figure, axes = _grid(len(rows), ncols, (3.2, 3.0))
    low = min(y.min(), *(r.min() for r in rows.values()))
    high = max(y.max(), *(r.max() for r in rows.values()))
    pad = 0.05 * (high - low or 1.0)
    limits = (low - pad, high + pad)
    for ax, (name, values) in zip(axes, rows.items(), strict=True):
        for seed_index, row in enumerate(values):
            ax.scatter(y, row, s=10, alpha=0.6, linewidths=0, color=f"C{seed_index % 10}")
        ax.plot(limits, limits, color="0.4", linewidth=1, linestyle="--")
        ax.set_xlim(limits)
        ax.set_ylim(limits)
        ax.set_aspect("equal")
        mean = values.mean(axis=0)
        rho = pearson(mean, y)
        rho_text = "n/a" if math.isnan(rho) else f"{rho:.2f}"
        mae = float(np.mean(np.abs(mean - y)))
        which = "seed-mean prediction: " if len(values) > 1 else ""
        ax.set_title(f"{name}\n{which}MAE {mae:.3g}, ρ {rho_text}", fontsize=9)
        ax.set_xlabel(f"true {label_name}")
        ax.set_ylabel(f"predicted {label_name}")
    if title is not None:
        figure.suptitle(title)
    return figure


def embedding_grid(
    features: Mapping[str, Any],
    labels: Any,
    *,
    label_name: str = "label",
    ncols: int = 3,
    method: str = "tsne",
    seed: int = 0,
    title: str | None = None,
    threads: int | None = 1,
) -> Figure:
    """2-D maps (:func:`supremix.analysis.embed_2d`) of each method's ``(items, d)`` features,
    coloured by ``labels`` on one colour scale shared by all panels.

    ``threads`` caps the OpenMP/BLAS threads of the embedding (``None``: no cap); on a busy
    machine scikit-learn's t-SNE of a few hundred points is many times slower with more.
    """
    y = as_1d(labels, "labels")
    if not features:
        raise ValueError("nothing to plot: no features given")
    figure, axes = _grid(len(features), ncols, (3.4, 3.0))
    for ax, (name, values) in zip(axes, features.items(), strict=True):
        array = np.asarray(values)
        if array.ndim != 2 or array.shape[0] != y.size:
            raise ValueError(
                f"features of {name} have shape {array.shape}; expected ({y.size}, d) for "
                f"{y.size} labels"
            )
        limit = threadpool_limits(threads) if threads is not None else contextlib.nullcontext()
        with limit:
            coords = embed_2d(array, method=method, seed=seed)
        plot_embedding(coords, y, ax=ax, title=name, label_name=label_name, point_size=14.0)
        ax.collections[-1].set_clim(y.min(), y.max())
    if title is not None:
        figure.suptitle(title)
    return figure


def paired_test_heatmap(
    difference: pd.DataFrame,
    p: pd.DataFrame,
    *,
    title: str | None = "Mean difference in absolute error (row - column)",
    unit: str = "",
) -> Figure:
    """A heatmap of ``difference`` (row method minus column method, e.g. from
    :meth:`supremix.studies.Study.paired_matrix`), each cell annotated with the value and the
    stars of its p-value (``***`` < 0.001, ``**`` < 0.01, ``*`` < 0.05, ``ns``). Blue: the row
    method errs less."""
    if difference.shape != p.shape or list(difference.index) != list(p.index):
        raise ValueError("difference and p must have the same rows and columns")
    if list(difference.columns) != list(p.columns):
        raise ValueError("difference and p must have the same rows and columns")
    values = difference.to_numpy(dtype=np.float64)
    finite = values[np.isfinite(values)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    bound = bound or 1.0
    n_rows, n_cols = values.shape
    figure = report_figure(figsize=(1.1 * n_cols + 2.5, 0.7 * n_rows + 1.5), layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto"
    )
    for i in range(n_rows):
        for j in range(n_cols):
            if np.isfinite(values[i, j]):
                stars = significance_stars(float(p.iat[i, j]))
                colour = "white" if abs(values[i, j]) > 0.6 * bound else "black"
                text = f"{values[i, j]:.2g}\n{stars}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(n_cols), [str(c) for c in difference.columns], rotation=30, ha="right")
    ax.set_yticks(range(n_rows), [str(r) for r in difference.index])
    label = "mean |error| difference" + (f" ({unit})" if unit else "")
    figure.colorbar(image, ax=ax, label=label)
    if title is not None:
        ax.set_title(title)
    return figure
