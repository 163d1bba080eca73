"""Figures of the theory notebook: one anchor's terms, weights and gradients, the gap of
Theorem 3.3 against the temperature, and the bug study (the SupReMix paper, §3, App. A).

Every function draws into ``ax`` (or ``axes``) when given, else into a new
:class:`matplotlib.figure.Figure`, and returns the figure. Inputs are the tables of
:mod:`supremix.analysis.loss_anatomy` and :mod:`supremix.analysis.bug_study`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .figure import report_figure

KIND_STYLE = {
    "real positive": {"marker": "o", "color": "tab:green"},
    "real negative": {"marker": "o", "color": "tab:gray"},
    "Mix-neg": {"marker": "x", "color": "tab:red"},
    "Mix-pos": {"marker": "D", "color": "tab:blue"},
}


def _figure_and_axes(ax: Any, count: int = 1, size: tuple[float, float] = (5.0, 4.0)):
    if ax is not None:
        axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) != count:
            raise ValueError(f"expected {count} axes, got {len(axes)}")
        return axes[0].figure, axes
    figure = report_figure(figsize=size, layout="constrained")
    return figure, list(np.atleast_1d(figure.subplots(1, count)))


def _anchor_rows(table: pd.DataFrame, anchor: int) -> pd.DataFrame:
    rows = table[table["anchor"] == anchor]
    if rows.empty:
        raise ValueError(f"anchor {anchor} has no terms in the table")
    return rows


def plot_anchor_terms(
    table: pd.DataFrame, features: Any, anchor: int, *, ax: Any = None, size_scale: float = 40.0
):
    """Anchor ``anchor``'s terms in the plane of 2-D ``features`` (normalised to the unit
    circle): real views, Mix-negs and Mix-pos (mixtures of the normalised features, as the
    published code builds them), marker area proportional to the term's weight."""
    z = F.normalize(torch.as_tensor(features, dtype=torch.float64), dim=1)
    if z.dim() != 2 or z.shape[1] != 2:
        raise ValueError(f"features must have shape (n, 2) to be drawn, got {tuple(z.shape)}")
    rows = _anchor_rows(table, anchor)
    figure, (axis,) = _figure_and_axes(ax)
    circle = np.linspace(0, 2 * np.pi, 200)
    axis.plot(np.cos(circle), np.sin(circle), color="0.85", lw=1, zorder=0)
    for kind, style in KIND_STYLE.items():
        part = rows[rows["kind"] == kind]
        if part.empty:
            continue
        first = z[torch.tensor(part["first"].to_numpy())]
        second = z[torch.tensor(part["second"].clip(lower=0).to_numpy())]
        lam = torch.tensor(part["lam"].fillna(1.0).to_numpy())[:, None]
        points = (lam * first + (1 - lam) * second).numpy()
        axis.scatter(
            points[:, 0],
            points[:, 1],
            s=size_scale * part["weight"].to_numpy(),
            label=f"{kind} ({len(part)})",
            alpha=0.75,
            **style,
        )
    axis.scatter(*z[anchor].numpy(), s=160, marker="*", color="black", label="anchor", zorder=3)
    axis.set_aspect("equal")
    axis.set_xlabel("embedding dimension 1")
    axis.set_ylabel("embedding dimension 2")
    axis.set_title(f"anchor {anchor} (label {rows['anchor_label'].iloc[0]:g}): area ~ weight")
    axis.legend(fontsize="small", loc="best")
    return figure


def plot_anchor_weights(table: pd.DataFrame, anchor: int, *, ax: Any = None):
    """The weight of each mixture column of ``anchor``, correct and as the published code
    assigns it after its column compression (bug 2), Mix-pos columns shaded."""
    rows = _anchor_rows(table, anchor)
    rows = rows[rows["kind"].isin(["Mix-neg", "Mix-pos"])]
    figure, (axis,) = _figure_and_axes(ax, size=(7.0, 3.5))
    position = np.arange(len(rows))
    for start, is_pos in enumerate(rows["positive"].to_numpy()):
        if is_pos:
            axis.axvspan(start - 0.5, start + 0.5, color="tab:blue", alpha=0.12, lw=0)
    axis.bar(position - 0.2, rows["weight"], width=0.4, label="correct weight", color="0.5")
    axis.bar(
        position + 0.2,
        rows["published_weight"],
        width=0.4,
        label="published code's weight",
        color="tab:orange",
    )
    axis.set_xticks(position)
    axis.set_xticklabels(
        [("pos" if p else "neg") for p in rows["positive"]], rotation=90, fontsize="x-small"
    )
    axis.set_xlabel("mixture column, in the published code's order (shaded: Mix-pos)")
    axis.set_ylabel("weight 1 + |y_i - label|")
    axis.set_title(f"anchor {anchor}: mixture weights, correct vs misaligned")
    axis.legend(fontsize="small")
    return figure


def plot_term_gradients(gradients: pd.DataFrame, anchor: int, *, axes: Any = None):
    """Theorem 3.1 on ``anchor``: left, ``dL_i/ds`` of every negative (real and Mix-neg)
    against its label distance, with and without the distance weights; right, the ratio of
    the two, which the weights make proportional to ``w = 1 + |dy|``."""
    rows = _anchor_rows(gradients, anchor)
    rows = rows[~rows["positive"]]
    distance = (rows["anchor_label"] - rows["label"]).abs()
    figure, (left, right) = _figure_and_axes(axes, count=2, size=(10.0, 4.0))
    left.scatter(distance, rows["grad"], label="with weights 1 + |dy|", color="tab:red")
    left.scatter(
        distance, rows["grad_unweighted"], label="without weights", color="0.4", marker="s"
    )
    left.set_yscale("log")
    left.set_xlabel("label distance |y_i - label| of the negative")
    left.set_ylabel("dL_i / ds (push on the negative)")
    left.set_title(f"Theorem 3.1 on anchor {anchor}")
    left.legend(fontsize="small")
    right.scatter(distance, rows["grad"] / rows["grad_unweighted"], color="tab:red")
    right.set_xlabel("label distance |y_i - label| of the negative")
    right.set_ylabel("push with weights / push without")
    right.set_title("the ratio grows like w = 1 + |dy|")
    right.set_ylim(bottom=0)
    return figure


def plot_gap_vs_temperature(tables: Mapping[str, pd.DataFrame], *, axes: Any = None):
    """Left: ``L - L*`` against the temperature for each named :func:`theorem_3_3_table`
    (and the proof's bound for the first); right: the proof's vanishing term
    ``exp((cos theta_0 - 1) / t)``. Log temperature axis, t decreasing to the right."""
    figure, (left, right) = _figure_and_axes(axes, count=2, size=(10.0, 4.0))
    for index, (name, table) in enumerate(tables.items()):
        left.plot(table["temperature"], table["gap"], marker="o", label=f"gap L - L*: {name}")
        if index == 0:
            left.plot(
                table["temperature"],
                table["proof_bound"],
                ls="--",
                color="0.4",
                label=f"proof's bound (eq. 12): {name}",
            )
            right.plot(table["temperature"], table["vanishing_term"], marker="o", color="tab:red")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.invert_xaxis()
        axis.set_xlabel("temperature t (decreasing to the right: t -> 0+)")
    left.set_yscale("symlog", linthresh=1e-3)
    left.set_ylim(bottom=0)
    left.set_ylabel("L - L* (symmetric log scale, linear below 1e-3)")
    left.set_title("Theorem 3.3: gap to the Lemma 3.2 bound")
    left.legend(fontsize="x-small", loc="upper left")
    right.set_ylabel("exp((cos theta_0 - 1) / t)")
    right.set_title("the proof's vanishing term")
    return figure


def plot_variant_comparison(frame: pd.DataFrame, metrics: Mapping[str, str], *, axes: Any = None):
    """One panel per metric (``{column: axis label}``): every seed of every loss variant of
    :func:`~supremix.analysis.bug_study.compare_loss_variants`, with the mean."""
    figure, panels = _figure_and_axes(axes, count=len(metrics), size=(4.0 * len(metrics), 3.6))
    variants = list(dict.fromkeys(frame["variant"]))
    for axis, (column, label) in zip(panels, metrics.items(), strict=True):
        for position, variant in enumerate(variants):
            values = frame.loc[frame["variant"] == variant, column].to_numpy()
            axis.scatter(np.full(values.shape, position), values, color="0.4", s=18)
            axis.scatter([position], [values.mean()], color="tab:red", marker="_", s=400)
        axis.set_xticks(range(len(variants)))
        axis.set_xticklabels(variants, rotation=25, ha="right", fontsize="small")
        axis.set_ylabel(label)
    panels[0].set_title("dots: seeds; red bar: mean", fontsize="small", loc="left")
    return figure
