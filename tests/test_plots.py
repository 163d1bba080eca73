"""Figures of a method comparison (supremix.plots): what each panel draws, errors, PNG output."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter
from matplotlib.figure import Figure
from PIL import Image

from supremix.metrics import significance_stars
from supremix.plots import (
    embedding_grid,
    paired_test_heatmap,
    true_vs_predicted_grid,
)

rng = np.random.default_rng(0)
TARGETS = rng.uniform(10, 90, size=24)


def visible_axes(figure: Figure) -> list:
    return [ax for ax in figure.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_scatter_panels_hold_every_seed_and_title_the_seed_mean_mae():
    preds = {
        "Vanilla": np.stack([TARGETS + 3, TARGETS - 1]),
        "SupReMix": TARGETS + rng.normal(size=TARGETS.size),
    }
    figure = true_vs_predicted_grid(preds, TARGETS, label_name="age", ncols=2)
    assert type(figure) is Figure
    first, second = visible_axes(figure)
    offsets = [c.get_offsets() for c in first.collections]
    assert len(offsets) == 2
    np.testing.assert_allclose(offsets[0], np.column_stack([TARGETS, TARGETS + 3]))
    np.testing.assert_allclose(offsets[1], np.column_stack([TARGETS, TARGETS - 1]))
    assert first.get_title() == "Vanilla\nseed-mean prediction: MAE 1, ρ 1.00"
    mae = np.mean(np.abs(preds["SupReMix"] - TARGETS))
    assert second.get_title().startswith(f"SupReMix\nMAE {mae:.3g}, ρ ")
    assert first.get_xlim() == second.get_xlim() == first.get_ylim()
    assert first.get_xlabel() == "true age" and first.get_ylabel() == "predicted age"


def test_unused_grid_cells_are_hidden():
    preds = {m: TARGETS for m in ("A", "B", "C", "D")}
    figure = true_vs_predicted_grid(preds, TARGETS, ncols=3)
    assert len(figure.axes) == 6 and len(visible_axes(figure)) == 4


def test_scatter_refuses_predictions_of_other_items():
    with pytest.raises(ValueError, match=r"predictions of A have shape \(3,\); expected \(24,\)"):
        true_vs_predicted_grid({"A": [1.0, 2.0, 3.0]}, TARGETS)
    with pytest.raises(ValueError, match="nothing to plot: no methods given"):
        true_vs_predicted_grid({}, TARGETS)


def test_embedding_panels_share_one_colour_scale():
    ordered = np.column_stack([TARGETS, TARGETS**0.5, rng.normal(size=TARGETS.size)])
    figure = embedding_grid(
        {"A": ordered, "B": rng.normal(size=(TARGETS.size, 5))}, TARGETS, label_name="age"
    )
    panels = visible_axes(figure)
    assert [ax.get_title() for ax in panels] == ["A", "B"]
    for ax in panels:
        (points,) = ax.collections
        assert points.get_clim() == (TARGETS.min(), TARGETS.max())
        np.testing.assert_allclose(points.get_array(), TARGETS)
        assert points.get_offsets().shape == (TARGETS.size, 2)


def test_embedding_refuses_features_of_other_items():
    with pytest.raises(ValueError, match=r"features of A have shape \(5, 3\); expected \(24, d\)"):
        embedding_grid({"A": np.zeros((5, 3))}, TARGETS)


def test_heatmap_cells_show_value_and_stars_of_their_p():
    methods = ["Vanilla", "SupCon", "SupReMix"]
    difference = pd.DataFrame(
        [[np.nan, 0.5, 1.2], [-0.5, np.nan, 0.7], [-1.2, -0.7, np.nan]],
        index=methods,
        columns=methods,
    )
    p = pd.DataFrame(
        [[np.nan, 0.2, 0.0004], [0.2, np.nan, 0.004], [0.0004, 0.004, np.nan]],
        index=methods,
        columns=methods,
    )
    figure = paired_test_heatmap(difference, p)
    ax = figure.axes[0]
    texts = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts
    }
    assert len(texts) == 6
    for i in range(3):
        for j in range(3):
            if i != j:
                value = difference.iat[i, j]
                assert texts[(i, j)] == f"{value:.2g}\n{significance_stars(p.iat[i, j])}"
    assert texts[(0, 2)].endswith("***") and texts[(1, 2)].endswith("**")
    image = ax.images[0]
    assert image.get_clim() == (-1.2, 1.2)


def test_heatmap_refuses_mismatched_frames():
    a = pd.DataFrame(np.zeros((2, 2)), index=["x", "y"], columns=["x", "y"])
    b = pd.DataFrame(np.zeros((2, 2)), index=["x", "z"], columns=["x", "z"])
    with pytest.raises(ValueError, match="difference and p must have the same rows and columns"):
        paired_test_heatmap(a, b)


def test_figures_render_as_png_for_jupyter_without_an_inline_backend():
    figure = true_vs_predicted_grid({"A": TARGETS}, TARGETS)
    data, _ = DisplayFormatter().format(figure)
    png = data["image/png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and min(image.size) > 100
