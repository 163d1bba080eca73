"""Figures of the theory notebook: what each draws, and their errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from supremix.analysis.loss_anatomy import (
    ordered_line_embedding,
    pair_table,
    term_gradients,
    theorem_3_3_table,
)
from supremix.analysis.theory_plots import (
    plot_anchor_terms,
    plot_anchor_weights,
    plot_gap_vs_temperature,
    plot_term_gradients,
    plot_variant_comparison,
)

LABELS = torch.tensor([1.0, 2.0, 3.0, 4.0, 6.0], dtype=torch.float64).repeat(2)
ANGLES = 0.35 * LABELS + 0.01 * torch.arange(10, dtype=torch.float64)
FEATURES = torch.stack([ANGLES.cos(), ANGLES.sin()], dim=1)
LAMBDAS = torch.full((10, 10), 0.25, dtype=torch.float64)
TABLE = pair_table(LABELS, window=2.5, neg_lambdas=LAMBDAS, features=FEATURES, temperature=0.5)


def test_anchor_terms_draws_one_point_per_term_at_the_mixtures_place():
    figure = plot_anchor_terms(TABLE, FEATURES, 2)
    (axis,) = figure.axes
    rows = TABLE[TABLE["anchor"] == 2]
    collections = {c.get_label(): c for c in axis.collections}
    counts = rows["kind"].value_counts()
    for kind, count in counts.items():
        assert collections[f"{kind} ({count})"].get_offsets().shape == (count, 2)
    mix_pos = rows[rows["kind"] == "Mix-pos"].iloc[0]
    z = FEATURES / FEATURES.norm(dim=1, keepdim=True)
    expected = mix_pos["lam"] * z[mix_pos["first"]] + (1 - mix_pos["lam"]) * z[mix_pos["second"]]
    offsets = collections[f"Mix-pos ({counts['Mix-pos']})"].get_offsets()
    np.testing.assert_allclose(offsets[0], expected.numpy())
    sizes = collections[f"Mix-pos ({counts['Mix-pos']})"].get_sizes()
    assert (sizes == 40.0).all()  # Mix-pos weight 1
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot_anchor_terms(TABLE, torch.randn(10, 3), 2)
    with pytest.raises(ValueError, match="anchor 99 has no terms"):
        plot_anchor_terms(TABLE, FEATURES, 99)


def test_anchor_weights_bars_are_the_correct_and_published_weights():
    figure = Figure()
    axis = figure.add_subplot()
    assert plot_anchor_weights(TABLE, 2, ax=axis) is figure
    mixtures = TABLE[(TABLE["anchor"] == 2) & TABLE["kind"].isin(["Mix-neg", "Mix-pos"])]
    correct, published = axis.containers
    assert [bar.get_height() for bar in correct] == pytest.approx(mixtures["weight"].tolist())
    assert [bar.get_height() for bar in published] == pytest.approx(
        mixtures["published_weight"].tolist()
    )


def test_term_gradients_plot_shows_the_weight_ratio():
    gradients = term_gradients(TABLE, temperature=0.5)
    figure = plot_term_gradients(gradients, 2)
    left, right = figure.axes
    ratio = right.collections[0].get_offsets()[:, 1]
    negatives = gradients[(gradients["anchor"] == 2) & ~gradients["positive"]]
    # with and without weights the push differs by w times one constant per anchor
    np.testing.assert_allclose(ratio / negatives["weight"], (ratio / negatives["weight"])[0])
    assert left.get_yscale() == "log"


def test_gap_plot_has_one_curve_per_table_and_the_proof_bound():
    y = torch.arange(4, dtype=torch.float64).repeat(2)
    table = theorem_3_3_table(
        ordered_line_embedding(y),
        y,
        [1.0, 0.1, 0.01],
        window=2,
        neg_lambdas=torch.full((8, 8), 0.2, dtype=torch.float64),
    )
    figure = plot_gap_vs_temperature({"a": table, "b": table})
    left, right = figure.axes
    assert [line.get_label() for line in left.lines] == [
        "gap L - L*: a",
        "proof's bound (eq. 12): a",
        "gap L - L*: b",
    ]
    np.testing.assert_allclose(right.lines[0].get_ydata(), table["vanishing_term"])
    assert left.xaxis_inverted()


def test_variant_comparison_one_panel_per_metric():
    frame = pd.DataFrame(
        {"variant": ["a", "a", "b", "b"], "seed": [0, 1, 0, 1], "mae": [1.0, 3.0, 2.0, 2.0]}
    )
    figure = plot_variant_comparison(frame, {"mae": "MAE"})
    (axis,) = figure.axes
    means = [c.get_offsets()[0, 1] for c in axis.collections[1::2]]
    assert means == [2.0, 2.0]
    assert axis.get_ylabel() == "MAE"
    with pytest.raises(ValueError, match="expected 2 axes, got 1"):
        plot_variant_comparison(frame, {"mae": "MAE", "seed": "seed"}, axes=[axis])
