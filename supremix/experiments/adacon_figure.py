"""The figure of :mod:`supremix.experiments.adacon_schemes`: per table with two arms
(AdaCon Tables VIII, X, XII), this run's metric per group and arm above the paper's."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from supremix.analysis.figure import report_figure
from supremix.paper import DATASETS, reference_label
from supremix.reporting import run_label

from .adacon_rows import ARMS, DATASET, METRICS, PAPER

if TYPE_CHECKING:
    from .adacon_schemes import AdaConSchemes


def adacon_schemes_figure(result: AdaConSchemes, metric: str = "MAE") -> Figure:
    """One column per table run: this run's ``metric`` per group and arm (bars: mean over
    seeds, whiskers: sample sd) above the paper's numbers for the same rows; in this run's
    panels the regression baseline of Table XII is a dashed line and predicting the training
    mean a dotted one. R² in percent. Tables without two arms (XI, XIII) are tables only."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    tables = [t for t in result.tables if t in ARMS]
    if not tables:
        raise ValueError(
            f"none of the tables run ({', '.join(result.tables)}) compares two arms; the "
            f"figure shows {', '.join(ARMS)}"
        )
    figure = report_figure(figsize=(5.2 * len(tables), 6.4), layout="constrained")
    axes = figure.subplots(2, len(tables), squeeze=False)
    unit = "%" if metric == "R2" else DATASETS[DATASET][1]
    scale = 100.0 if metric == "R2" else 1.0
    colours = ("tab:gray", "tab:blue")
    for column, table in enumerate(tables):
        sweep = result.table_sweep(table)
        means = sweep.table([metric])
        paper = sweep.paper_numbers(PAPER, table)
        paper = paper[paper["metric"] == metric].set_index("variant")["value"]
        rows = result.rows[table]
        groups = list(dict.fromkeys(r.group for r in rows if r.arm))
        for line, (ax, title) in enumerate(
            zip(
                axes[:, column],
                (run_label(sweep.data_kind), f"paper ({reference_label(PAPER, table)})"),
                strict=True,
            )
        ):
            for offset, (arm, colour) in enumerate(zip(ARMS[table], colours, strict=True)):
                labels = {r.group: r.label for r in rows if r.arm == arm}
                x = [i + (offset - 0.5) * 0.38 for i, g in enumerate(groups) if g in labels]
                names = [labels[g] for g in groups if g in labels]
                if line == 0:
                    heights = [means.loc[n, metric] * scale for n in names]
                    spread = [means.loc[n, f"{metric} std"] * scale for n in names]
                    errors = None if all(math.isnan(e) for e in spread) else spread
                else:
                    heights, errors = [paper[n] for n in names], None
                ax.bar(x, heights, width=0.36, color=colour, yerr=errors, capsize=3, label=arm)
            if line == 0:
                for row in rows:
                    if not row.arm:
                        level = means.loc[row.label, metric] * scale
                        ax.axhline(level, color="k", linestyle="--", linewidth=1, label=row.label)
                floor = sweep.mean_predictor_metrics()[metric] * scale
                ax.axhline(floor, color="tab:red", linestyle=":", label="training mean")
            ax.set_xticks(np.arange(len(groups)), groups, rotation=15)
            ax.set_ylabel(f"{metric} ({unit})" if unit else metric)
            ax.set_title(f"{table}: {title}" if line == 0 else title, fontsize=10)
            low, high = ax.get_ylim()
            ax.set_ylim(low, high + 0.35 * (high - low))
            ax.legend(fontsize=8, loc="upper center", ncol=2)
    return figure
