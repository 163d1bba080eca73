"""The SupReMix paper's ablations (§5.8, App. D.2, D.4-D.6; Tables 9-11, 15, 17-19), run as sweeps.

:data:`~supremix.experiments.ablation_specs.ABLATIONS` says which runs reproduce which rows;
:func:`run_ablation` trains them on each dataset with :func:`~supremix.experiments.sweep.run_sweep`
and returns an :class:`AblationRun`, which puts the numbers beside the paper's, draws them
(:func:`ablation_figure`), gives what they show (:meth:`AblationRun.findings`, whose words and
counts a notebook glues into its prose: :meth:`AblationRun.facts`) and writes the results summary:

>>> run = run_ablation("window", ["rsna"], seeds=[0, 1])       # doctest: +SKIP
>>> run.beside_paper()                                        # doctest: +SKIP

Without ``data_root`` the runs use the ``-cpu`` presets and the book's phantom settings
(:data:`supremix.studies.PHANTOM_SETTINGS`), with rows rewritten where the paper's setting does
not fit a phantom (:attr:`Ablation.phantom_row`: Table 15's batch sizes); those numbers show
the protocol at work and never reproduce the paper.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import spearmanr

from supremix.analysis.figure import report_figure
from supremix.notebook import data_banner
from supremix.paper import DATASETS, HIGHER_IS_BETTER, paper_results
from supremix.reporting import run_label
from supremix.train import TrainConfig, open_splits
from supremix.train.windows import check_window, config_window

from .ablation_specs import ABLATIONS, Ablation
from .run_facts import sweep_facts
from .settings import resolve_preset, study_config
from .sweep import METRIC_KEYS, Sweep, run_sweep

__all__ = [
    "ABLATIONS",
    "Ablation",
    "AblationRun",
    "ablation_figure",
    "ablation_paper_notes",
    "ablation_paper_table",
    "get_ablation",
    "run_ablation",
]


def get_ablation(name: str) -> Ablation:
    """The :class:`Ablation` called ``name`` (a key of :data:`ABLATIONS`)."""
    if name not in ABLATIONS:
        raise ValueError(f"unknown ablation {name!r}; expected one of {', '.join(ABLATIONS)}")
    return ABLATIONS[name]


def ablation_paper_table(name: str, datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """The paper's numbers of ablation ``name``: one row per (dataset, row label), one column
    per metric the table reports (every dataset of the table unless ``datasets`` is given).
    Raises ``ValueError`` when a row names no row of the table."""
    ablation = get_ablation(name)
    numbers = paper_results(ablation.paper, table=ablation.table)
    frames = []
    for dataset in ablation.datasets if datasets is None else datasets:
        part = numbers[numbers["dataset"] == dataset]
        for variant in ablation.variants(dataset):
            row = variant.paper
            if row is None:
                raise ValueError(
                    f"{name}: variant {variant.label!r} names no row of {ablation.reference}"
                )
            match = part[
                (part["method"] == row.method)
                & (part["setting"] == row.setting)
                & (part["subset"] == row.subset)
            ]
            if match.empty:
                raise ValueError(
                    f"{name}: {ablation.reference} has no row method={row.method!r}, "
                    f"setting={row.setting!r} for {dataset}"
                )
            frames.append(match.assign(dataset=dataset, row=variant.label))
    long = pd.concat(frames, ignore_index=True)
    wide = long.pivot(index=["dataset", "row"], columns="metric", values="value")
    order = pd.MultiIndex.from_frame(long[["dataset", "row"]].drop_duplicates())
    metrics = list(dict.fromkeys(long["metric"]))
    return wide.reindex(order)[metrics].rename_axis(columns=None)


def ablation_paper_notes(name: str) -> str:
    """The notes :mod:`supremix.paper` keeps for ablation ``name``'s table (how the numbers
    were read, what is missing or odd); ``""`` where there are none."""
    ablation = get_ablation(name)
    notes = paper_results(ablation.paper, table=ablation.table)["notes"]
    return " ".join(n for n in dict.fromkeys(notes) if n)


def _per_dataset(value: Any, datasets: Sequence[str], what: str) -> dict[str, Any]:
    """``value`` for each dataset: a mapping is looked up (missing: ``None``); a single value
    is only allowed for one dataset (a data folder or preset belongs to one)."""
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(datasets))
        if unknown:
            raise ValueError(f"{what} names datasets {unknown} that are not run ({datasets})")
        return {d: value.get(d) for d in datasets}
    if value is not None and len(datasets) > 1:
        raise ValueError(
            f"{what}={value!r} names one dataset's {what} but {len(datasets)} datasets are run "
            f"({', '.join(datasets)}); pass a mapping dataset -> {what}"
        )
    return {d: value for d in datasets}


def _datasets(ablation: Ablation, datasets: str | Sequence[str] | None) -> list[str]:
    if datasets is None:
        return list(ablation.default_datasets)
    chosen = [datasets] if isinstance(datasets, str) else list(datasets)
    if not chosen or len(set(chosen)) != len(chosen):
        raise ValueError(f"datasets must be a non-empty list of distinct names, got {chosen}")
    unknown = [d for d in chosen if d not in ablation.rows]
    if unknown:
        raise ValueError(
            f"{ablation.name} ({ablation.reference}) reports no dataset {unknown}; expected "
            f"some of {', '.join(ablation.datasets)}"
        )
    return chosen


def _check_methods(ablation: Ablation, datasets: Sequence[str], methods: Sequence[str]) -> None:
    methods = list(methods)
    known = [label for d in datasets for label in ablation.labels(d)]
    unknown = [m for m in methods if m not in known]
    if unknown or not methods:
        raise ValueError(
            f"unknown or no rows {unknown or methods} for {ablation.name} on "
            f"{', '.join(datasets)}; expected some of {', '.join(dict.fromkeys(known))}"
        )
    for dataset in datasets:
        if not any(m in ablation.labels(dataset) for m in methods):
            raise ValueError(
                f"none of the rows {methods} is a row of {dataset} in {ablation.reference}; "
                f"its rows: {', '.join(ablation.labels(dataset))}"
            )


def run_ablation(
    name: str,
    datasets: str | Sequence[str] | None = None,
    *,
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1),
    preset: str | Mapping[str, str] | None = None,
    epochs: int | None = None,
    probe_epochs: int | None = None,
    batch_size: int | None = None,
    data_root: str | Path | Mapping[str, str | Path] | None = None,
    device: str = "auto",
    smoke: bool = False,
    overrides: Mapping[str, Any] | None = None,
    cpu_threads: int | None = 1,
) -> AblationRun:
    """Run ablation ``name`` (a key of :data:`ABLATIONS`) on ``datasets`` (one name, several,
    or ``None``: the ablation's ``default_datasets``), one sweep per dataset.

    ``methods`` keeps the rows with these labels (one label or a list, :meth:`Ablation.labels`;
    each dataset runs those it has). ``preset`` and ``data_root`` are one value for a single
    dataset or a mapping dataset -> value; without a ``data_root`` a dataset runs on its
    phantom with the ``-cpu`` preset, where :attr:`Ablation.phantom_row` rewrites the rows.
    ``overrides`` change every run (e.g. ``{"protocol": "finetune"}``) but not a field a row
    sets; ``batch_size`` neither. Everything else is passed to
    :func:`~supremix.experiments.sweep.run_sweep` (``smoke``: the first seed, one epoch per
    stage, a small phantom).
    """
    ablation = get_ablation(name)
    chosen = _datasets(ablation, datasets)
    if isinstance(methods, str):
        methods = [methods]
    if methods is not None:
        _check_methods(ablation, chosen, methods)
    varied = {key for d in chosen for v in ablation.rows[d] for key in v.overrides}
    clash = sorted(varied & set(overrides or {}))
    if batch_size is not None and "batch_size" in varied:
        clash.append("batch_size")
    if clash:
        raise ValueError(
            f"{name} sets {', '.join(clash)} in its rows; leave them out of overrides and "
            "batch_size (use methods to choose rows)"
        )
    roots = _per_dataset(data_root, chosen, "data_root")
    presets = _per_dataset(preset, chosen, "preset")
    sweeps, windows = {}, []
    shared = {**ablation.overrides, **dict(overrides or {})}
    for dataset in chosen:
        resolved = resolve_preset(dataset, presets[dataset], roots[dataset])
        variants = ablation.variants(
            dataset, methods=methods, phantom=resolved.endswith("-cpu"), smoke=smoke
        )
        windows.append(
            _checked_windows(ablation, dataset, variants, resolved, roots[dataset], smoke, shared)
        )
    for dataset in chosen:
        resolved = resolve_preset(dataset, presets[dataset], roots[dataset])
        variants = ablation.variants(
            dataset, methods=methods, phantom=resolved.endswith("-cpu"), smoke=smoke
        )
        sweeps[dataset] = run_sweep(
            dataset,
            variants,
            seeds=seeds,
            preset=resolved,
            epochs=epochs,
            probe_epochs=probe_epochs,
            batch_size=batch_size,
            data_root=roots[dataset],
            device=device,
            smoke=smoke,
            overrides=shared,
            cpu_threads=cpu_threads,
        )
    return AblationRun(ablation, sweeps, pd.concat(windows, ignore_index=True))


def _dataset_name(dataset: str) -> str:
    """The name the SupReMix paper prints, e.g. ``"RSNA-BAA"``, ``"HCP-Lifespan"``."""
    if dataset not in DATASETS:
        return dataset
    return DATASETS[dataset][0].split(" (")[0].split(" / ")[0]


def _unit(dataset: str, metric: str) -> str:
    unit = DATASETS.get(dataset, ("", ""))[1]
    if not unit or metric in ("rho", "R2"):
        return ""
    return f"{unit}²" if metric == "MSE" else unit


def window_table(
    ablation: Ablation,
    dataset: str,
    variants: Sequence[Any],
    config: TrainConfig,
    train_labels: np.ndarray,
) -> pd.DataFrame:
    """Each SupReMix row's Mix-pos window on ``train_labels`` (the training labels), as
    :class:`~supremix.train.windows.EffectiveWindow` measures it (distinct labels after the
    row's ``label_bin``, their range, the median number inside the window on each side of an
    anchor, the share of anchors with a Mix-pos), checked:
    a row that forms no Mix-pos, or whose window covers the whole label range, raises
    :class:`~supremix.train.windows.WindowError` unless :attr:`Ablation.window_expect` says
    that is the experiment. Rows without Mix-pos (other methods, ``mix_pos=False``) are left
    out."""
    rows = []
    for variant in variants:
        run = config.replace(**variant.overrides)
        if run.method != "supremix" or not run.mix_pos:
            continue
        measured = config_window(run, train_labels)
        expect = ablation.window_expect.get(variant.label, "window")
        where = f"{ablation.reference}, {dataset}, row {variant.label!r}"
        check_window(measured, expect=expect, where=where)
        rows.append(
            {
                "dataset": dataset,
                "variant": variant.label,
                "γ": run.window,
                "|Δy|": "<= γ" if measured.inclusive else "< γ",
                "label_bin": run.label_bin,
                "distinct labels": measured.distinct,
                "lowest": measured.low,
                "highest": measured.high,
                "unit": measured.unit,
                "labels per side": measured.per_side,
                "anchors with Mix-pos": measured.mix_pos_fraction,
            }
        )
    return pd.DataFrame(rows)


def _checked_windows(
    ablation: Ablation,
    dataset: str,
    variants: Sequence[Any],
    preset: str,
    data_root: Any,
    smoke: bool,
    overrides: Mapping[str, Any],
) -> pd.DataFrame:
    """:func:`window_table` on the training split the sweep will use, before any training."""
    _, config = study_config(
        dataset, preset=preset, data_root=data_root, smoke=smoke, overrides=overrides
    )
    splits, _ = open_splits(config, data_root)
    return window_table(ablation, dataset, variants, config, np.asarray(splits["train"].targets))


@dataclass
class AblationRun:
    """The sweeps of one ablation (dataset -> :class:`~supremix.experiments.sweep.Sweep`) and
    the views its notebook shows; ``windows``: each SupReMix row's Mix-pos window on the
    training labels (:func:`window_table`)."""

    ablation: Ablation
    sweeps: dict[str, Sweep]
    windows: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def datasets(self) -> list[str]:
        return list(self.sweeps)

    @property
    def data_kind(self) -> str:
        """``"phantom"``, ``"real"``, or ``"phantom and real"`` when the datasets differ."""
        kinds = sorted({s.data_kind for s in self.sweeps.values()})
        return kinds[0] if len(kinds) == 1 else " and ".join(kinds)

    def sweep(self, dataset: str) -> Sweep:
        if dataset not in self.sweeps:
            raise KeyError(f"no sweep of {dataset!r}; datasets run: {', '.join(self.sweeps)}")
        return self.sweeps[dataset]

    def data_banners(self) -> str:
        """One :func:`~supremix.notebook.data_banner` per dataset (Markdown): real or phantom."""
        return "\n\n".join(
            data_banner(s.data_kind, _dataset_name(d), s.data["root"])
            for d, s in self.sweeps.items()
        )

    def _concat(self, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(frames, names=["dataset"])

    def settings_table(self) -> pd.DataFrame:
        """Each dataset's shared settings and what each row changes."""
        return self._concat({d: s.settings_table() for d, s in self.sweeps.items()})

    def table(self, metrics: Sequence[str] = ("MAE", "MSE", "GM")) -> pd.DataFrame:
        """This run's mean and std over seeds, one row per (dataset, variant)."""
        return self._concat({d: s.table(metrics) for d, s in self.sweeps.items()})

    def beside_paper(
        self, metrics: Sequence[str] | None = None, *, mean_predictor: bool = True
    ) -> pd.DataFrame:
        """Per dataset, :meth:`Sweep.beside_paper` of the ablation's table: this run's mean and
        std over seeds beside the paper's number, one row per (dataset, variant, metric);
        ``metrics`` defaults to those the table reports for the dataset."""
        paper, table = self.ablation.paper, self.ablation.table
        return self._concat(
            {
                d: s.beside_paper(paper, table, metrics=metrics, mean_predictor=mean_predictor)
                for d, s in self.sweeps.items()
            }
        )

    def _paper_values(self, dataset: str, metric: str) -> pd.Series:
        """The paper's ``metric`` per variant label of ``dataset`` (NaN where not reported)."""
        sweep = self.sweeps[dataset]
        numbers = sweep.paper_numbers(self.ablation.paper, self.ablation.table)
        values = numbers[numbers["metric"] == metric].set_index("variant")["value"]
        return values.reindex(sweep.labels).astype(float)

    def findings(self, metric: str | None = None) -> pd.DataFrame:
        """What each dataset's sweep measured, one row per dataset (named as the paper prints
        it): of :func:`~supremix.experiments.run_facts.sweep_facts` on ``metric`` (default: the
        ablation's), the ``rows`` run, the ``best row`` with its ``mean`` and ``sd`` over seeds,
        the rows' ``lowest sd`` and ``highest sd`` (NaN with one seed) and the ``training mean``
        predictor's ``metric``; the paper's best of the same rows (``paper's best row``,
        ``paper's value``; empty where the table reports no ``metric`` for the dataset); and
        Spearman's rank correlation ``Spearman ρ`` between this run's and the paper's ``metric``
        over the ``rows compared`` (those both have; NaN below three rows, or with ties)."""
        metric = metric or self.ablation.metric
        records = {}
        for dataset, sweep in self.sweeps.items():
            facts = sweep_facts(sweep, metric)
            ours = sweep.table([metric])[metric].reindex(sweep.labels)
            paper = self._paper_values(dataset, metric).dropna()
            both = ours.index.isin(paper.index) & ours.notna().to_numpy()
            rho = math.nan
            if both.sum() >= 3:
                rho = float(spearmanr(ours[both], paper[ours.index[both]]).statistic)
            best = None
            if not paper.empty:
                best = paper.idxmax() if metric in HIGHER_IS_BETTER else paper.idxmin()
            records[_dataset_name(dataset)] = {
                "rows": facts["variants"],
                "best row": facts["best"],
                "mean": facts["best_value"],
                "sd": facts["best_sd"],
                "lowest sd": facts["sd_lowest"],
                "highest sd": facts["sd_highest"],
                "training mean": facts["mean_predictor"],
                "paper's best row": best,
                "paper's value": math.nan if best is None else float(paper[best]),
                "rows compared": int(both.sum()),
                "Spearman ρ": rho,
            }
        return pd.DataFrame.from_dict(records, orient="index").rename_axis("dataset")

    def facts(self, metric: str | None = None) -> dict[str, Any]:
        """What the ablation notebooks' prose states around :meth:`findings`, by name
        (:func:`supremix.notebook.glue_facts`): ``metric``, ``reference`` (the paper's table),
        ``data`` (:attr:`data_kind`), the number of ``datasets`` and ``agrees``, on how many of
        them this run's best row is the paper's."""
        findings = self.findings(metric)
        return {
            "metric": metric or self.ablation.metric,
            "reference": self.ablation.reference,
            "data": self.data_kind,
            "datasets": len(findings),
            "agrees": int((findings["best row"] == findings["paper's best row"]).sum()),
        }

    def summary(self, *, notes: str = "") -> dict[str, Any]:
        """The runs as one :mod:`supremix.reporting` results summary. With several datasets
        each variant is named ``"<label> [<dataset>]"`` and ``dataset`` lists them all."""
        experiment = f"{self.ablation.name} ({self.ablation.reference})"
        summaries = {
            d: s.summary(notes=notes, experiment=experiment) for d, s in self.sweeps.items()
        }
        if len(summaries) == 1:
            return next(iter(summaries.values()))
        kinds = {s["data_kind"] for s in summaries.values()}
        if len(kinds) > 1:
            raise ValueError(
                f"the datasets mix data kinds {sorted(kinds)}; write one summary per sweep"
            )
        first = next(iter(summaries.values()))
        methods = {
            f"{method} [{dataset}]": entry
            for dataset, summary in summaries.items()
            for method, entry in summary["methods"].items()
        }
        provenance = {**first["provenance"], "datasets": list(summaries)}
        return {
            **first,
            "dataset": ", ".join(summaries),
            "provenance": provenance,
            "methods": methods,
        }

    def figure(self, metric: str | None = None) -> Figure:
        """:func:`ablation_figure` of this run."""
        return ablation_figure(self, metric)


def ablation_figure(run: AblationRun, metric: str | None = None) -> Figure:
    """One row of two panels per dataset: this run's ``metric`` per variant (diamonds: mean
    over seeds with their standard deviation, dots: seeds, dashed line: predicting the
    training mean) and, separately (the scales differ), the paper's number for the same rows.
    The axes are not forced to zero, so differences between rows stay visible."""
    metric = metric or run.ablation.metric
    if metric not in METRIC_KEYS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {list(METRIC_KEYS)}")
    n_rows = len(run.sweeps)
    width = max(len(s.variants) for s in run.sweeps.values())
    figure = report_figure(figsize=(2 * (1.4 + 0.65 * width), 3.2 * n_rows), layout="constrained")
    axes = figure.subplots(n_rows, 2, squeeze=False)
    reference = run.ablation.reference
    for (ours_ax, paper_ax), (dataset, sweep) in zip(axes, run.sweeps.items(), strict=True):
        labels = sweep.labels
        x = np.arange(len(labels))
        frame = sweep.metrics_frame()
        grouped = frame.groupby("variant")[metric]
        means = grouped.mean().reindex(labels).to_numpy(dtype=np.float64)
        stds = grouped.std(ddof=1).reindex(labels).fillna(0.0).to_numpy(dtype=np.float64)
        for index, label in enumerate(labels):
            seeds = frame.loc[frame["variant"] == label, metric]
            ours_ax.scatter(np.full(len(seeds), index), seeds, color="0.5", s=12, zorder=2)
        ours_ax.errorbar(x, means, yerr=stds, fmt="D", color="C0", capsize=4, zorder=3)
        floor = sweep.mean_predictor_metrics()[metric]
        if math.isfinite(floor):
            ours_ax.axhline(floor, color="0.4", linestyle="--", linewidth=1, label="training mean")
            ours_ax.legend(fontsize=7)
        name, unit = _dataset_name(dataset), _unit(dataset, metric)
        ours_ax.set_title(f"{name}: {run_label(sweep.data_kind)}", fontsize=9)
        paper = run._paper_values(dataset, metric)
        if paper.notna().any():
            paper_ax.plot(x, paper.to_numpy(), "D", color="C1")
        else:
            paper_ax.text(
                0.5, 0.5, f"no {metric} reported", ha="center", transform=paper_ax.transAxes
            )
        paper_ax.set_title(f"{name}: paper ({reference})", fontsize=9)
        for ax in (ours_ax, paper_ax):
            ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
            ax.set_xlim(-0.5, len(labels) - 0.5)
            ax.set_ylabel(f"{metric} ({unit})" if unit else metric)
            ax.grid(axis="y", alpha=0.3)
    figure.suptitle(f"{run.ablation.title} ({reference})", fontsize=10)
    return figure
