"""Resilience to reduced training data: Vanilla and SupReMix on nested subsets of the training
split (the SupReMix paper, §5.5, Fig. 9).

The SupReMix paper trains both methods on training sets of several sizes per dataset, "keeping all
other training parameters consistent": UK Biobank 2,500-20,000 samples, A4 500-3,500, RSNA
2,000-12,000, RHPE 1,000-5,000 and EchoNet 1,000-7,000 (:data:`PAPER_SIZE_RANGES`). The figure is a
chart; :mod:`supremix.paper` holds only the values the text quotes (UK Biobank MAE at 2,500 samples
for both methods, RSNA ρ of SupReMix at 2,000), which the variants of those sizes carry as
:class:`~.sweep.PaperRow`.

The sizes are the paper's, evenly spaced over its range (:func:`paper_sizes`; the figure's own
grid is not stated), each turned into a number of items of this training split by
:func:`scaled_training_size`: the same fraction of the split as of the paper's training set
(the SupReMix paper, Table 1). On the real dataset that is the paper's size; on a phantom it is the
same share of a much smaller split. Each seed draws its own subset
(:func:`~supremix.data.label_ops.subsample`; for one seed the smaller sets are nested in the
larger).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from supremix.analysis.figure import report_figure
from supremix.data.base import RegressionDataset
from supremix.data.label_ops import subsample
from supremix.paper import HIGHER_IS_BETTER, canonical_method, paper_results, paper_settings
from supremix.train import TrainConfig, open_splits

from .settings import RunSettings
from .sweep import PaperRow, Sweep, Variant, known_choices, run_sweep

#: Where the SupReMix paper quotes the values of Fig. 9 (the figure itself is a chart).
PAPER_TABLE = "Figure 9 (text §5.5)"

#: Training-set sizes of the SupReMix paper's §5.5 per dataset: (smallest, largest).
PAPER_SIZE_RANGES: dict[str, tuple[int, int]] = {
    "ukb": (2_500, 20_000),
    "a4": (500, 3_500),
    "rsna": (2_000, 12_000),
    "rhpe": (1_000, 5_000),
    "echonet": (1_000, 7_000),
}

#: The two settings of Fig. 9.
METHODS = ("vanilla", "supremix")


def paper_train_size(dataset: str) -> int:
    """Training items of ``dataset`` in the SupReMix paper's Table 1 (``#Train``), from
    :func:`supremix.paper.paper_settings`."""
    table = paper_settings("supremix", table="Table 1", dataset=dataset)
    row = table[table["name"] == "#Train"]
    if row.empty:
        raise ValueError(f"the SupReMix paper's Table 1 gives no training-set size for {dataset!r}")
    return int(str(row["value"].iloc[0]).replace(",", ""))


def scaled_training_size(paper_size: int, dataset: str, n_train: int, *, min_size: int = 1) -> int:
    """Items of a training split of ``n_train`` items that stand for ``paper_size`` samples of
    ``dataset``: ``round(paper_size * n_train / N)``, ``N`` the paper's training-set size
    (:func:`paper_train_size`), at least ``min_size`` (one batch: a smaller set has no full
    batch) and at most ``n_train``. On a copy as large as the paper's it is ``paper_size``."""
    if n_train < 1:
        raise ValueError(f"n_train must be >= 1, got {n_train}")
    if paper_size < 1:
        raise ValueError(f"paper_size must be >= 1, got {paper_size}")
    if not 1 <= min_size <= n_train:
        raise ValueError(
            f"min_size must be in [1, {n_train}] (the training split's size), got {min_size}"
        )
    scaled = round(paper_size * n_train / paper_train_size(dataset))
    return min(n_train, max(min_size, scaled))


def paper_sizes(dataset: str, points: int = 3) -> list[int]:
    """``points`` sizes evenly spaced over the SupReMix paper's §5.5's range for ``dataset``, ends
    included, rounded to whole samples."""
    if dataset not in PAPER_SIZE_RANGES:
        raise ValueError(
            "the SupReMix paper's §5.5 reduces the training data of "
            f"{', '.join(PAPER_SIZE_RANGES)}, not {dataset!r}"
        )
    if points < 2:
        raise ValueError(f"points must be >= 2 (the range's two ends), got {points}")
    low, high = PAPER_SIZE_RANGES[dataset]
    return [round(float(v)) for v in np.linspace(low, high, points)]


@dataclass(frozen=True)
class TrainingSize:
    """One point of the sweep: ``paper`` samples in the SupReMix paper, ``items`` in this split."""

    paper: int
    items: int

    @property
    def setting(self) -> str:
        """The ``setting`` of this size in :func:`supremix.paper.paper_results`."""
        return f"{self.paper:,} training samples"


def training_sizes(
    dataset: str, n_train: int, *, points: int = 3, min_size: int = 1
) -> list[TrainingSize]:
    """The sweep's sizes: :func:`paper_sizes` scaled by :func:`scaled_training_size`. Paper
    sizes that land on the same number of items (a small phantom) keep the smallest."""
    sizes: list[TrainingSize] = []
    for paper in paper_sizes(dataset, points):
        items = scaled_training_size(paper, dataset, n_train, min_size=min_size)
        if all(s.items != items for s in sizes):
            sizes.append(TrainingSize(paper, items))
    return sizes


def draw_subset(size: int, train: RegressionDataset, seed: int) -> RegressionDataset:
    """``size`` items of ``train`` drawn with ``seed``
    (:func:`~supremix.data.label_ops.subsample`); ``functools.partial(draw_subset, size)`` is
    a ``Variant.train_subset``."""
    return subsample(train, size, seed=seed)


def reduced_data_variants(
    dataset: str,
    n_train: int,
    *,
    methods: Sequence[str] | None = None,
    points: int = 3,
    min_size: int = 1,
) -> list[Variant]:
    """One variant per (method, size) of :func:`training_sizes`, labelled ``"<Method>, <n>
    items"``; those whose paper size and method the SupReMix paper quotes carry that paper row."""
    methods = known_choices("method", methods, METHODS)
    quoted = paper_results("supremix", table=PAPER_TABLE, dataset=dataset)
    rows = set(zip(quoted["method"], quoted["setting"], strict=True))
    variants = []
    for method in methods:
        name = canonical_method(method)
        for size in training_sizes(dataset, n_train, points=points, min_size=min_size):
            paper = PaperRow(name, size.setting) if (name, size.setting) in rows else None
            variants.append(
                Variant(
                    f"{name}, {size.items} items",
                    {"method": method},
                    paper=paper,
                    train_subset=functools.partial(draw_subset, size.items),
                )
            )
    return variants


def training_split_size(
    dataset: str, settings: RunSettings | None = None, **changes: Any
) -> tuple[int, TrainConfig]:
    """``(items in the training split, configuration)`` of the runs that
    :func:`~.sweep.run_sweep` makes with ``settings`` and ``changes``, before any variant's
    changes (the splits are opened to count the items)."""
    settings = RunSettings.of(settings, **changes)
    _, config = settings.train_config(dataset)
    splits, _ = open_splits(config, settings.data_root)
    return len(splits["train"]), config


def run_reduced_data(
    dataset: str = "rsna",
    *,
    methods: Sequence[str] | None = None,
    points: int = 3,
    seeds: Sequence[int] = (0, 1),
    settings: RunSettings | None = None,
    **changes: Any,
) -> Sweep:
    """Train :func:`reduced_data_variants` on ``dataset`` with every seed (the SupReMix paper
    §5.5).

    ``methods``: some of :data:`METHODS` (``None``: both). ``points`` sizes per method; the
    smallest is one batch at least. ``settings`` and ``changes``: :func:`~.sweep.run_sweep`.
    """
    settings = RunSettings.of(settings, **changes)
    n_train, config = training_split_size(dataset, settings)
    variants = reduced_data_variants(
        dataset, n_train, methods=methods, points=points, min_size=min(config.batch_size, n_train)
    )
    return run_sweep(dataset, variants, settings, seeds=seeds)


def size_curves(sweep: Sweep, metrics: Sequence[str] = ("MAE", "rho", "MSE")) -> pd.DataFrame:
    """Mean and standard deviation over seeds per (method, training items): the curves of
    Fig. 9, columns ``method``, ``items``, then ``"<metric>"`` and ``"<metric> std"``."""
    table = sweep.table(metrics)
    items = sweep.metrics_frame().groupby("variant", sort=False)["n_train"].first()
    frame = table.reset_index()
    frame.insert(0, "items", [int(items[v]) for v in frame["variant"]])
    methods = [canonical_method(sweep.variant(v).overrides["method"]) for v in frame["variant"]]
    frame.insert(0, "method", methods)
    return frame.drop(columns="variant").sort_values(["method", "items"], ignore_index=True)


def reduced_data_figure(sweep: Sweep, metrics: Sequence[str] = ("MAE", "rho", "MSE")) -> Figure:
    """Fig. 9 for this run: one panel per metric, each method's mean over seeds against the
    number of training items, with ± one standard deviation as error bars."""
    curves = size_curves(sweep, metrics)
    figure = report_figure(figsize=(3.6 * len(metrics), 3.2), layout="constrained")
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    for axis, metric in zip(axes, metrics, strict=True):
        for method, part in curves.groupby("method", sort=False):
            axis.errorbar(
                part["items"],
                part[metric],
                yerr=part[f"{metric} std"].fillna(0.0),
                marker="o",
                capsize=3,
                linestyle="-" if method == "SupReMix" else "--",
                label=method,
            )
        better = "higher" if metric in HIGHER_IS_BETTER else "lower"
        axis.set(xlabel="training items", ylabel=metric, title=f"{metric} ({better} is better)")
    axes[0].legend()
    return figure
