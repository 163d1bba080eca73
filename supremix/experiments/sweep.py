"""Sweeps: one dataset, several variants of a training run, several seeds, one table.

Most experiments of the seeds beyond their main tables change one thing of a run and report a
metric per setting: the window γ (seed 001 Table 10), the Beta distribution of Mix-neg
(Table 11), the batch size (Table 15), SupReMix's ingredients (Table 9), LDS/FDS (Table 16)...
A :class:`Variant` is one such row: its label, the :class:`~supremix.train.TrainConfig` fields
it changes, an optional change of the training set (:attr:`Variant.train_subset`: fewer
items, removed label ranges) and the row of the paper's table it corresponds to
(:class:`PaperRow`). :func:`run_sweep` trains every variant with every seed on the same splits
and keeps each run's predictions on the evaluation split; :class:`Sweep` turns them into the
views the notebooks show: the table beside the paper's numbers, metrics on subsets of the
evaluation items (missing targets, shot regions), per-item errors and encoder features.

>>> sweep = run_sweep("rsna", [Variant("γ=1", {"window": 1.0}), Variant("γ=5", {"window": 5.0})])
>>> sweep.beside_paper(1, "Table 10")          # doctest: +SKIP

Settings are those of :func:`supremix.studies.study_config` (the paper's preset with a
``data_root``, else the ``-cpu`` preset with the book's phantom settings), then each variant's
overrides. The paper's numbers are references from :mod:`supremix.paper`, never results.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch.utils.data import Dataset

from supremix.metrics import paired_ttest, regression_metrics
from supremix.paper import paper_results, reference_label
from supremix.reporting import run_label, summarise_runs
from supremix.studies import (
    SHOWN_METRICS,
    open_study_splits,
    run_seeds,
    study_config,
    training_session,
)
from supremix.train import TrainConfig, predict, train
from supremix.train.run_folder import check_new_run_folders

#: Metric names of :func:`supremix.metrics.regression_metrics` under the seeds' spelling.
METRIC_KEYS = {"MAE": "mae", "MSE": "mse", "RMSE": "rmse", "GM": "gm", "rho": "pearson", "R2": "r2"}

#: Shared settings shown by :meth:`Sweep.settings_table`, in this order.
SETTINGS_SHOWN = (
    "method",
    "protocol",
    "encoder",
    "epochs",
    "probe_epochs",
    "batch_size",
    "lr",
    "temperature",
    "window",
    "augment",
    "phantom_n",
)

#: ``train_subset(train_split, seed) -> dataset``: a variant's training items.
TrainSubset = Callable[[Dataset, int], Dataset]


def run_folder(out_dir: str | Path, index: int, seed: int) -> Path:
    """The folder :func:`run_sweep` writes the run of its ``index``-th variant with ``seed``
    into (checkpoints, ``metrics.csv``, ``results.json``), under ``out_dir``."""
    return Path(out_dir) / f"variant{index}-seed{seed}"


@dataclass(frozen=True)
class PaperRow:
    """Where a variant's numbers are in a table of :mod:`supremix.paper`: the ``method`` and
    ``setting`` columns of :func:`~supremix.paper.paper_results` (``setting`` ``""`` where the
    table has none) and, where the table reports a subset of the data as its whole, that
    ``subset`` (e.g. ``"all"`` in seed 001 Table 16)."""

    method: str
    setting: str = ""
    subset: str = ""


@dataclass(frozen=True)
class Variant:
    """One row of a sweep: ``label`` (shown), the ``overrides`` of the sweep's configuration,
    an optional ``train_subset`` of the training split and the ``paper`` row it reproduces."""

    label: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    paper: PaperRow | None = None
    train_subset: TrainSubset | None = None


@dataclass
class VariantRun:
    """One trained (variant, seed): metrics and per-item predictions on the evaluation split,
    encoder features there where kept, and the number of training items it saw."""

    label: str
    seed: int
    metrics: dict[str, float]
    preds: np.ndarray
    features: np.ndarray | None
    seconds: float
    n_train: int
    val_metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


def _mean_sd(values: pd.Series) -> tuple[float, float]:
    values = values.dropna()
    if values.empty:
        return math.nan, math.nan
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else math.nan


@dataclass
class Sweep:
    """Every run of :func:`run_sweep` and the tables the experiment notebooks show.

    ``targets`` are the labels of ``eval_split`` (``"test"``, or ``"val"`` where the test
    labels are withheld) in the order of every run's ``preds``; ``train_targets`` the labels of
    the whole training split (before any variant's ``train_subset``).
    """

    dataset: str
    preset: str
    config: TrainConfig
    data: dict[str, Any]
    eval_split: str
    targets: np.ndarray
    train_targets: np.ndarray
    variants: list[Variant]
    smoke: bool = False
    runs: list[VariantRun] = field(default_factory=list)

    # ------------------------------------------------------------------ what was run
    @property
    def labels(self) -> list[str]:
        """Variant labels in the order they were given."""
        return [v.label for v in self.variants]

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.runs})

    @property
    def data_kind(self) -> str:
        return self.data["kind"]

    def variant(self, label: str) -> Variant:
        for variant in self.variants:
            if variant.label == label:
                return variant
        raise KeyError(f"no variant {label!r}; variants: {', '.join(self.labels)}")

    def variant_runs(self, label: str) -> list[VariantRun]:
        """The runs of variant ``label``, by seed."""
        self.variant(label)
        return sorted((r for r in self.runs if r.label == label), key=lambda r: r.seed)

    def settings_table(self) -> pd.DataFrame:
        """The shared settings, then what each variant changes."""
        values = self.config.to_dict()
        rows: dict[str, Any] = {
            "preset": self.preset,
            "data": self.data_kind,
            "evaluated on": f"{self.eval_split} ({self.targets.size} items)",
        }
        varied = {key for variant in self.variants for key in variant.overrides}
        for key in SETTINGS_SHOWN:
            rows[key] = "per variant (below)" if key in varied else values[key]
        rows["seeds"] = self.seeds
        rows["device"] = values["device"]
        for variant in self.variants:
            changes = ", ".join(f"{k}={v}" for k, v in variant.overrides.items()) or "-"
            if variant.train_subset is not None:
                sizes = sorted({r.n_train for r in self.variant_runs(variant.label)})
                changes += f"; training items: {', '.join(map(str, sizes))}"
            rows[f"variant {variant.label}"] = changes
        return pd.DataFrame({"value": [str(v) for v in rows.values()]}, index=list(rows))

    # ------------------------------------------------------------------ metrics
    def metrics_frame(self, subsets: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """One row per run (and per subset of ``subsets``: name -> boolean mask over the
        evaluation items): variant, seed, subset, items, training items, seconds and the
        metrics under the seeds' names (MAE, MSE, RMSE, GM, rho, R2)."""
        masks = self._masks(subsets)
        rows = []
        for run in self.runs:
            for subset, mask in masks.items():
                values = regression_metrics(run.preds[mask], self.targets[mask])
                rows.append(
                    {
                        "variant": run.label,
                        "seed": run.seed,
                        "subset": subset,
                        "items": int(mask.sum()),
                        "n_train": run.n_train,
                        "seconds": round(run.seconds, 2),
                        **{name: values[key] for name, key in METRIC_KEYS.items()},
                    }
                )
        return pd.DataFrame(rows)

    def _masks(self, subsets: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
        if subsets is None:
            return {"": np.ones(self.targets.size, dtype=bool)}
        masks = {}
        for name, mask in subsets.items():
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != self.targets.shape:
                raise ValueError(
                    f"subset {name!r}: mask of shape {mask.shape}, expected one boolean per "
                    f"evaluation item {self.targets.shape}"
                )
            if not mask.any():
                raise ValueError(f"subset {name!r} holds no evaluation item")
            masks[name] = mask
        return masks

    def table(
        self, metrics: Sequence[str] = SHOWN_METRICS, subsets: Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Mean and sample standard deviation over seeds, one row per variant (and subset),
        columns ``"<metric>"`` and ``"<metric> std"``."""
        unknown = [m for m in metrics if m not in METRIC_KEYS]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; expected some of {list(METRIC_KEYS)}")
        frame = self.metrics_frame(subsets)
        index = ["variant"] if subsets is None else ["variant", "subset"]
        rows = {}
        for key, part in frame.groupby(index, sort=False):
            row = {}
            for metric in metrics:
                row[metric], row[f"{metric} std"] = _mean_sd(part[metric])
            rows[key] = row
        table = pd.DataFrame.from_dict(rows, orient="index")
        if subsets is None:
            table.index = pd.Index(
                [k[0] if isinstance(k, tuple) else k for k in rows], name="variant"
            )
        else:
            table.index = pd.MultiIndex.from_tuples(list(rows), names=index)
        return table

    def mean_predictor_metrics(self, mask: np.ndarray | None = None) -> dict[str, float]:
        """Metrics of predicting the training mean for every evaluation item (or those of the
        boolean ``mask``): the floor a model must beat to have learned anything from the
        inputs."""
        targets = self.targets if mask is None else self.targets[mask]
        values = regression_metrics(np.full_like(targets, np.mean(self.train_targets)), targets)
        return {name: values[key] for name, key in METRIC_KEYS.items()}

    # ------------------------------------------------------------------ the paper
    def paper_numbers(
        self, seed: int, table: str, *, dataset: str | None = None, subsets: bool = False
    ) -> pd.DataFrame:
        """The rows of ``seed``'s ``table`` that the variants reproduce, long format, with the
        variant's label in ``variant``. ``dataset`` defaults to the sweep's; with ``subsets``
        every subset of the variant's paper row is kept (else only its own ``subset``)."""
        numbers = paper_results(seed=seed, table=table, dataset=dataset or self.dataset)
        parts = []
        for variant in self.variants:
            row = variant.paper
            if row is None:
                continue
            part = numbers[(numbers["method"] == row.method) & (numbers["setting"] == row.setting)]
            if not subsets:
                part = part[part["subset"] == row.subset]
            if part.empty:
                raise ValueError(
                    f"variant {variant.label!r}: {reference_label(seed, table)} has no row "
                    f"method={row.method!r}, setting={row.setting!r}, subset={row.subset!r}"
                )
            parts.append(part.assign(variant=variant.label))
        if not parts:
            raise ValueError("no variant names a paper row (Variant.paper)")
        return pd.concat(parts, ignore_index=True)

    def beside_paper(
        self,
        seed: int,
        table: str,
        *,
        metrics: Sequence[str] | None = None,
        dataset: str | None = None,
        subsets: Mapping[str, Any] | None = None,
        mean_predictor: bool = True,
    ) -> pd.DataFrame:
        """This run's mean and std over seeds beside the paper's number, one row per (variant,
        metric) or, with ``subsets`` (name -> mask, named as the table's ``subset`` column),
        per (variant, subset, metric). ``metrics`` defaults to those the table reports.
        ``mean_predictor`` adds the rows ``"Training mean"``."""
        paper = self.paper_numbers(seed, table, dataset=dataset, subsets=subsets is not None)
        # a paper column this run cannot compute (e.g. "GM (MSE scale)") is never set beside ours
        computed = [m for m in dict.fromkeys(paper["metric"]) if m in METRIC_KEYS]
        metrics = computed if metrics is None else list(metrics)
        ours = run_label(self.data_kind)
        source = f"paper ({reference_label(seed, table)})"
        wide = self.table(metrics, subsets)
        keys = ["variant"] if subsets is None else ["variant", "subset"]
        paper = paper.set_index([*keys, "metric"])["value"]
        rows = []
        for key, values in wide.iterrows():
            key = key if isinstance(key, tuple) else (key,)
            for metric in metrics:
                rows.append(
                    {
                        **dict(zip(keys, key, strict=True)),
                        "metric": metric,
                        ours: values[metric],
                        f"{ours} std": values[f"{metric} std"],
                        source: paper.get((*key, metric), np.nan),
                    }
                )
        if mean_predictor:
            for subset, mask in self._masks(subsets).items():
                floor = self.mean_predictor_metrics(mask)
                for metric in metrics:
                    row = {"variant": "Training mean", "metric": metric, ours: floor[metric]}
                    if subsets is not None:
                        row["subset"] = subset
                    rows.append(row)
        frame = pd.DataFrame(rows).set_index([*keys, "metric"])
        return frame[[ours, f"{ours} std", source]]

    # ------------------------------------------------------------------ per-item views
    def predictions(self, label: str) -> np.ndarray:
        """``(seeds, items)`` predictions of variant ``label``."""
        runs = self.variant_runs(label)
        if not runs:
            raise KeyError(f"variant {label!r} has no run")
        return np.stack([r.preds for r in runs])

    def absolute_errors(self, label: str) -> np.ndarray:
        """Per-item absolute error of variant ``label``, averaged over its seeds."""
        return np.abs(self.predictions(label) - self.targets[None, :]).mean(axis=0)

    def paired_test(self, label: str, other: str) -> dict[str, Any]:
        """Paired t-test of two variants' per-item absolute errors (seed 001 Fig. 5 stars)."""
        test = paired_ttest(self.absolute_errors(label), self.absolute_errors(other))
        return {
            "difference": test.mean_difference,
            "t": test.t,
            "p": test.p,
            "stars": test.stars,
            "items": test.n,
        }

    def embeddings(self) -> dict[str, np.ndarray]:
        """Encoder features of the evaluation items per variant, from the first seed (where
        :func:`run_sweep` kept them)."""
        first = self.seeds[0]
        return {
            r.label: r.features for r in self.runs if r.seed == first and r.features is not None
        }

    # ------------------------------------------------------------------ reporting
    def summary(self, *, notes: str = "", experiment: str = "") -> dict[str, Any]:
        """The runs as a :mod:`supremix.reporting` results summary, one "method" per variant
        (finite metrics only)."""
        records = [
            {
                "method": r.label,
                "seed": r.seed,
                "metrics": {k: v for k, v in r.metrics.items() if math.isfinite(v)},
            }
            for r in self.runs
        ]
        common: dict[str, set[str]] = {}
        for record in records:
            names = set(record["metrics"])
            common[record["method"]] = common.get(record["method"], names) & names
        for record in records:
            record["metrics"] = {
                k: v for k, v in record["metrics"].items() if k in common[record["method"]]
            }
        provenance = {
            "experiment": experiment,
            "preset": self.preset,
            "eval_split": self.eval_split,
            "smoke": self.smoke,
            "epochs": self.config.epochs,
            "probe_epochs": self.config.probe_epochs,
            "batch_size": self.config.batch_size,
            "device": self.config.device,
        }
        return summarise_runs(
            records,
            data_kind=self.data_kind,
            dataset=self.dataset,
            notes=notes,
            provenance=provenance,
        )

    def describe(self, metric: str = "MAE") -> str:
        """A Markdown paragraph stating what this run measured, computed from its numbers."""
        table = self.table([metric])
        values = table[metric]
        better = max if metric in ("rho", "R2") else min
        best = better(values.index, key=lambda k: values[k])
        floor = self.mean_predictor_metrics()[metric]
        kind = "phantom" if self.data_kind == "phantom" else "real data"
        spread = (
            f"{values.min():.3g} to {values.max():.3g}"
            if len(values) > 1
            else f"{values.iloc[0]:.3g}"
        )
        parts = [
            f"On this run ({kind}, {len(self.seeds)} seed(s), {self.targets.size} "
            f"{self.eval_split} items) the variants' mean {metric} ranges over {spread}; the "
            f"best is {best!r} ({values[best]:.3g}). Predicting the training mean gives "
            f"{floor:.3g}."
        ]
        if len(self.seeds) < 2:
            parts.append("With one seed there is no spread to judge differences by.")
        else:
            sd = table[f"{metric} std"]
            parts.append(
                f"The standard deviation over seeds is {sd.min():.2g} to {sd.max():.2g}: "
                "differences smaller than that are noise."
            )
        if self.data_kind == "phantom":
            parts.append("These are phantom numbers: they do not reproduce the paper.")
        return " ".join(parts)


def run_sweep(
    dataset: str,
    variants: Sequence[Variant],
    *,
    seeds: Sequence[int] = (0, 1),
    preset: str | None = None,
    epochs: int | None = None,
    probe_epochs: int | None = None,
    batch_size: int | None = None,
    data_root: str | Path | None = None,
    device: str = "auto",
    smoke: bool = False,
    overrides: Mapping[str, Any] | None = None,
    keep_features: bool = False,
    keep_history: bool = False,
    out_dir: str | Path | None = None,
    cpu_threads: int | None = 1,
    memory_cache: bool | None = None,
) -> Sweep:
    """Train every variant with every seed on ``dataset``'s splits (see the module docstring).

    The splits are opened once (:func:`supremix.train.open_splits`); each run is
    :func:`supremix.train.train` with the sweep's configuration
    (:func:`supremix.studies.study_config` with ``overrides``) updated by the variant's
    overrides and the seed, on the variant's ``train_subset(train, seed)`` where it has one.
    ``smoke`` runs the first seed only at one epoch per stage. ``keep_features`` keeps the
    first seed's encoder features of the evaluation items; ``keep_history`` every run's
    per-epoch metrics. ``out_dir``, ``cpu_threads`` and ``memory_cache`` are those of
    :func:`supremix.studies.compare_methods`.
    """
    variants = list(variants)
    labels = [v.label for v in variants]
    if not variants:
        raise ValueError("no variants given")
    if len(set(labels)) != len(labels):
        raise ValueError(f"variant labels must be distinct, got {labels}")
    seeds = run_seeds(seeds, smoke)
    name, config = study_config(
        dataset,
        preset=preset,
        data_root=data_root,
        epochs=epochs,
        probe_epochs=probe_epochs,
        batch_size=batch_size,
        smoke=smoke,
        overrides=overrides,
    )
    config = config.replace(device=device)
    for variant in variants:
        config.replace(**variant.overrides)  # fail before any training on a bad override
    splits, info, eval_split = open_study_splits(config, data_root, memory_cache)
    evaluation = splits[eval_split]
    sweep = Sweep(
        dataset=dataset,
        preset=name,
        config=config,
        data=info,
        eval_split=eval_split,
        targets=np.asarray(evaluation.targets, dtype=np.float64),
        train_targets=np.asarray(splits["train"].targets, dtype=np.float64),
        variants=variants,
        smoke=smoke,
    )
    with training_session(config, out_dir, cpu_threads, prefix="sweep-") as out_dir:
        check_new_run_folders(
            run_folder(out_dir, i, s) for i in range(len(variants)) for s in seeds
        )
        for index, variant in enumerate(variants):
            for seed in seeds:
                train_set = splits["train"]
                if variant.train_subset is not None:
                    train_set = variant.train_subset(train_set, seed)
                began = time.perf_counter()
                run_config = config.replace(**variant.overrides, seed=seed)
                result = train(
                    run_config,
                    train_set=train_set,
                    val_set=splits["val"],
                    test_set=splits["test"],
                    out_dir=run_folder(out_dir, index, seed),
                    data_info=info,
                )
                outputs = predict(result.model, evaluation, batch_size=run_config.batch_size)
                sweep.runs.append(
                    VariantRun(
                        label=variant.label,
                        seed=seed,
                        metrics=outputs.metrics(),
                        preds=outputs.preds,
                        features=outputs.features if keep_features and seed == seeds[0] else None,
                        seconds=time.perf_counter() - began,
                        n_train=len(train_set),
                        val_metrics=dict(result.metrics.get("val", {})),
                        history=list(result.history) if keep_history else [],
                    )
                )
    return sweep
