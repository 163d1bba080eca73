"""Method comparisons on one dataset: what every dataset notebook of the book shares.

A dataset notebook trains Vanilla, SimCLR (where the modality has an augmentation), SupCon,
AdaCon, RnC and SupReMix with several seeds (seed 001 §4.3, seed 002 §4) and shows the metrics
of seed 001 §4.4 beside the papers' numbers, paired t-tests on per-item errors (seed 001
Fig. 5), true-vs-predicted scatter and t-SNE maps of the encoder features (seed 001 Figs. 3
and 6). :func:`compare_methods` does the training and collects what those views need into a
:class:`Study`:

>>> study = compare_methods("rsna", methods=["vanilla", "supremix"], seeds=[0, 1])
>>> study.comparison()        # this run beside seed 001 Tables 5 and Figure 5  # doctest: +SKIP
>>> study.paired_tests()      # SupReMix against every other method           # doctest: +SKIP

Settings are resolved in one place (:func:`study_config`): the preset (the paper's with a
``data_root``, its ``-cpu`` variant on a phantom), then the book's phantom settings
(:data:`PHANTOM_SETTINGS`, applied to ``-cpu`` presets only), then the smoke settings, then
the caller's ``overrides``, ``epochs``, ``probe_epochs`` and ``batch_size``. The paper's
numbers come from :mod:`supremix.paper` (:data:`PAPER_SOURCES` names the tables); they are
references, never results of a run.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .data.cache import InMemoryDataset
from .metrics import paired_ttest, regression_metrics
from .paper import HIGHER_IS_BETTER, canonical_method, paper_results, reference_label
from .reporting import comparison_table, run_label, summarise_runs
from .train import PRESETS, TrainConfig, open_splits, predict, train
from .train.config import MAIN_METHODS, METHODS

#: The four metrics of seed 001 §4.4, in the order the book shows them.
SHOWN_METRICS = ("MAE", "MSE", "GM", "rho")

#: :meth:`Study.describe` says a run learned little when even its best MAE is above this
#: fraction of the MAE of predicting the training mean.
LEARNED_LITTLE = 0.9


@dataclass(frozen=True)
class PaperSource:
    """One table of a seed whose numbers a dataset notebook shows beside its own.

    ``subset`` and ``setting`` select one row per method where the table has several (e.g.
    the ``"overall"`` rows of a missing-target table); ``metrics`` limits the metrics taken.
    """

    seed: int
    table: str
    subset: str = ""
    setting: str = ""
    metrics: tuple[str, ...] = SHOWN_METRICS
    note: str = ""


#: dataset -> the seeds' main comparison tables for it (seed 001 Tables 2-7 and Figure 5 text,
#: seed 002 Tables 1 and 3-6; seed 003 Table IX for EchoNet).
PAPER_SOURCES: dict[str, tuple[PaperSource, ...]] = {
    "ukb": (
        PaperSource(1, "Table 2"),
        PaperSource(2, "Table 4", note="seed 002's own protocol (fine-tuning, preset ukb-seed002)"),
    ),
    "hcp": (
        PaperSource(1, "Table 3"),
        PaperSource(2, "Table 6", note="seed 002's HCP-Aging protocol (fine-tuning)"),
    ),
    "rsna": (
        PaperSource(1, "Table 5"),
        PaperSource(1, "Figure 5 (text §5.2)", note="MAE quoted in the text; Figure 5 is a chart"),
    ),
    "rhpe": (PaperSource(1, "Table 6"),),
    "echonet": (
        PaperSource(1, "Table 4"),
        PaperSource(1, "Figure 5 (text §5.2)", note="MAE quoted in the text; Figure 5 is a chart"),
        PaperSource(3, "Table IX", metrics=("MAE",), note="seed 003's multi-task protocol"),
    ),
    "a4": (PaperSource(1, "Table 7"),),
    "airfoil": (PaperSource(2, "Table 5"),),
    "agedb": (PaperSource(2, "Table 1"),),
    "imdbwiki": (PaperSource(2, "Table 3"),),
}

_SHORT = {"lr": 3e-3, "augment": "none", "epochs": 12, "probe_epochs": 6}

#: The book's phantom runs, applied on top of a "<dataset>-cpu" preset: every method with two
#: seeds in a few minutes on two CPU cores (one torch thread). Short runs learn little with
#: augmentation and at lr 1e-3, so augmentation is off (SimCLR keeps it: see compare_methods)
#: and lr is 3e-3. The phantoms are several hundred items (test splits of 40-80 items) and the
#: schedules short: at a fixed budget more items taught more than more epochs (the phantoms
#: page, book/phantoms.md). UK Biobank volumes are 24 voxels a side (preset ukb-cpu); EchoNet
#: clips are 8 frames at period 4 (about one heart cycle) of 24 x 24 pixels, in batches of 8
#: (more steps in the same time learned more). Not the papers' settings.
PHANTOM_SETTINGS: dict[str, dict[str, Any]] = {
    "ukb": {**_SHORT, "phantom_n": 400, "epochs": 10, "probe_epochs": 5},
    "hcp": {**_SHORT, "phantom_n": 480, "epochs": 12, "probe_epochs": 6},
    "rsna": {**_SHORT, "phantom_n": 800, "epochs": 12, "probe_epochs": 6},
    "rhpe": {**_SHORT, "phantom_n": 320, "epochs": 24, "probe_epochs": 12},
    "echonet": {
        **_SHORT,
        "phantom_n": 400,
        "epochs": 10,
        "probe_epochs": 3,
        "batch_size": 8,
        "dataset_options": {"length": 8, "period": 4, "size": 24},
    },
    "a4": {**_SHORT, "phantom_n": 160},
    "agedb": {**_SHORT, "phantom_n": 480},
    "imdbwiki": {**_SHORT, "phantom_n": 480},
}

#: The airfoil notebook's strong Vanilla baseline, as overrides of preset "airfoil": the paper's
#: MLP (d-20-30-10) on the same z-scored inputs, batch 32, L1 loss, but Adam at 1e-2 for 80
#: epochs after a 2-epoch warm-up, keeping the weights of the epoch with the best validation MAE
#: (the engine's selection). Learning rate and epoch budget were chosen on validation MAE alone
#: (mean of seeds 0-2) over lr 1e-3, 3e-3, 1e-2, 3e-2 and 20, 40, 80 epochs: validation MAE fell
#: with the budget at every rate, and 1e-2 with 80 epochs was lowest (about 1.3, against about
#: 2.2 for the paper's 1e-3 at 80 epochs). Budgets above 80 epochs were not tried (book time).
AIRFOIL_STRONG_BASELINE: dict[str, Any] = {"lr": 1e-2, "epochs": 80, "warmup_epochs": 2}

#: ``smoke=True``: one epoch per stage on a small phantom, to check that everything runs.
SMOKE_SETTINGS: dict[str, Any] = {
    "epochs": 1,
    "probe_epochs": 1,
    "warmup_epochs": 0,
    "probe_warmup_epochs": 0,
}
#: ``smoke=True`` on a phantom: its number of items (the faces' balanced splits need more).
SMOKE_PHANTOM_N: dict[str, int] = {
    "ukb": 64,
    "hcp": 64,
    "rsna": 64,
    "rhpe": 64,
    "echonet": 64,
    "a4": 64,
    "agedb": 160,
    "imdbwiki": 160,
}

#: TrainConfig fields shown by :meth:`Study.settings_table`, in this order.
SETTINGS_SHOWN = (
    "protocol",
    "encoder",
    "model_size",
    "epochs",
    "probe_epochs",
    "warmup_epochs",
    "batch_size",
    "lr",
    "temperature",
    "rnc_temperature",
    "window",
    "label_bin",
    "augment",
    "ema_decay",
    "phantom_n",
    "dataset_options",
)


def default_methods(dataset: str) -> list[str]:
    """The methods a dataset notebook trains: the main methods
    (``supremix.train.config.MAIN_METHODS``, not seed 003's N-pair and triplet baselines),
    less SimCLR where the dataset's paper preset has no augmentation (HCP, airfoil: time series
    and tables are never augmented, seed 001 §4.2, seed 002 App. C.1, and SimCLR's two views
    differ only by augmentation)."""
    preset = _paper_preset(dataset)
    if PRESETS[preset].augment == "none":
        return [m for m in MAIN_METHODS if m != "simclr"]
    return list(MAIN_METHODS)


def _paper_preset(dataset: str) -> str:
    if dataset not in PRESETS:
        known = sorted(n for n in PRESETS if not n.endswith("-cpu"))
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(known)}")
    return dataset


def resolve_preset(dataset: str, preset: str | None, data_root: str | Path | None) -> str:
    """``preset``, or when it is ``None``: the paper's preset ``dataset`` with a ``data_root``
    (seed 001 or 002 Table 13), else its CPU variant ``"<dataset>-cpu"`` for the phantom."""
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(
                f"unknown preset {preset!r}; expected one of {', '.join(sorted(PRESETS))}"
            )
        return preset
    paper = _paper_preset(dataset)
    return paper if data_root is not None else f"{paper}-cpu"


def _fit_warmup(values: dict[str, Any]) -> dict[str, Any]:
    """Shorten warm-ups that would not fit in a shortened schedule (to a tenth of it)."""
    for warmup, total in (("warmup_epochs", "epochs"), ("probe_warmup_epochs", "probe_epochs")):
        if values[warmup] >= values[total]:
            values[warmup] = values[total] // 10
    return values


def study_config(
    dataset: str,
    *,
    preset: str | None = None,
    data_root: str | Path | None = None,
    epochs: int | None = None,
    probe_epochs: int | None = None,
    batch_size: int | None = None,
    smoke: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[str, TrainConfig]:
    """``(preset name, configuration)`` shared by every run of a study (method and seed unset).

    Order: the preset (:func:`resolve_preset`); :data:`PHANTOM_SETTINGS` for ``-cpu``
    presets; ``overrides``; ``epochs``, ``probe_epochs`` and ``batch_size`` where not ``None``;
    then :data:`SMOKE_SETTINGS` (and :data:`SMOKE_PHANTOM_N` on a phantom) when ``smoke``.
    ``dataset_options`` are merged key by key, not replaced. A warm-up as long as its stage is
    cut to a tenth of the stage.
    """
    name = resolve_preset(dataset, preset, data_root)
    values = PRESETS[name].to_dict()
    if values["dataset"] != dataset:
        raise ValueError(f"preset {name!r} is for dataset {values['dataset']!r}, not {dataset!r}")
    layers = [PHANTOM_SETTINGS.get(dataset, {})] if name.endswith("-cpu") else []
    for layer in [*layers, dict(overrides or {})]:
        options = {**values["dataset_options"], **layer.get("dataset_options", {})}
        values.update(layer, dataset_options=options)
    explicit = {"epochs": epochs, "probe_epochs": probe_epochs, "batch_size": batch_size}
    values.update({k: v for k, v in explicit.items() if v is not None})
    if smoke:
        values.update(SMOKE_SETTINGS)
        if data_root is None and dataset in SMOKE_PHANTOM_N:
            values["phantom_n"] = SMOKE_PHANTOM_N[dataset]
    values["progress"] = False
    return name, TrainConfig.from_dict(_fit_warmup(values))


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (``None``: leave them as they are)."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise ValueError(f"threads must be >= 1 or None, got {threads}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_seeds(seeds: Sequence[int], smoke: bool) -> list[int]:
    """The seeds a study runs: ``seeds`` as integers (only the first when ``smoke``); they must
    be distinct and at least one."""
    chosen = [int(s) for s in seeds][: 1 if smoke else None]
    if not chosen or len(set(chosen)) != len(chosen):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {chosen}")
    return chosen


def open_study_splits(
    config: TrainConfig, data_root: str | Path | None, memory_cache: bool | None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """``(splits, data_info, eval_split)`` of a study: :func:`supremix.train.open_splits`,
    served from :class:`InMemoryDataset` when ``memory_cache`` (``None``: for phantoms, unless
    ``cache_items`` caches them on disk already), evaluated on ``"test"`` or, where the test
    labels are withheld, ``"val"``."""
    splits, info = open_splits(config, data_root)
    if memory_cache is None:
        memory_cache = info["kind"] == "phantom" and not config.cache_items
    if memory_cache:
        splits = {k: None if d is None else InMemoryDataset(d) for k, d in splits.items()}
    eval_split = "test" if splits["test"] is not None else "val"
    if splits[eval_split] is None:
        raise ValueError(
            f"{config.dataset}: neither a labelled test nor a val split to evaluate on"
        )
    return splits, info, eval_split


@contextlib.contextmanager
def training_session(
    config: TrainConfig, out_dir: str | Path | None, cpu_threads: int | None, *, prefix: str
) -> Iterator[Path]:
    """The folder a study's runs write to (``out_dir``, else a temporary one removed at the
    end), with ``cpu_threads`` torch threads while training on the CPU."""
    cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    with contextlib.ExitStack() as stack:
        if out_dir is None:
            out_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))
        stack.enter_context(torch_threads(cpu_threads if cpu else None))
        yield Path(out_dir)


@dataclass
class MethodRun:
    """One trained (method, seed): metrics and per-item predictions on the evaluation split,
    and the encoder features there where they were kept (the embedding seed)."""

    method: str
    seed: int
    metrics: dict[str, float]
    preds: np.ndarray
    features: np.ndarray | None
    seconds: float
    val_metrics: dict[str, float] = field(default_factory=dict)
    augment: str = ""


@dataclass
class Study:
    """Every run of :func:`compare_methods` on one dataset, and the views the notebooks show.

    ``method`` names are canonical (``"SupReMix"``); ``targets`` and ``ids`` are the items of
    ``eval_split`` (``"test"``, or ``"val"`` where the test labels are withheld, as for RHPE),
    in the same order as every run's ``preds``.
    """

    dataset: str
    preset: str
    config: TrainConfig
    data: dict[str, Any]
    eval_split: str
    targets: np.ndarray
    ids: list[str]
    train_mean: float
    embedding_seed: int
    smoke: bool = False
    runs: list[MethodRun] = field(default_factory=list)

    # ------------------------------------------------------------------ what was run
    @property
    def methods(self) -> list[str]:
        """Methods in the order they were run."""
        return list(dict.fromkeys(r.method for r in self.runs))

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.runs})

    @property
    def data_kind(self) -> str:
        return self.data["kind"]

    def run(self, method: str, seed: int) -> MethodRun:
        method = canonical_method(method)
        for run in self.runs:
            if run.method == method and run.seed == seed:
                return run
        raise KeyError(f"no run of {method} with seed {seed}; runs: {self._names()}")

    def _names(self) -> str:
        return ", ".join(f"{r.method}/{r.seed}" for r in self.runs) or "none"

    def _method_runs(self, method: str) -> list[MethodRun]:
        method = canonical_method(method)
        runs = [r for r in self.runs if r.method == method]
        if not runs:
            raise KeyError(f"no run of {method}; methods run: {', '.join(self.methods)}")
        return sorted(runs, key=lambda r: r.seed)

    def settings_table(self) -> pd.DataFrame:
        """The settings every run shared (one row per field of :data:`SETTINGS_SHOWN`)."""
        values = self.config.to_dict()
        rows = {"preset": self.preset, "data": self.data_kind, "evaluated on": self.eval_split}
        rows.update({k: values[k] for k in SETTINGS_SHOWN})
        simclr = [r.augment for r in self.runs if r.method == "SimCLR"]
        if simclr and simclr[0] != values["augment"]:
            rows["augment"] = f"{values['augment']} (SimCLR: {simclr[0]})"
        rows["seeds"] = self.seeds
        rows["device"] = values["device"]
        return pd.DataFrame({"value": [str(v) for v in rows.values()]}, index=list(rows))

    # ------------------------------------------------------------------ metrics
    def metrics_frame(self) -> pd.DataFrame:
        """One row per run: method, seed, seconds, the validation MAE of the selected weights
        (``val_mae``) and every metric of the evaluation split."""
        rows = [
            {
                "method": r.method,
                "seed": r.seed,
                "seconds": round(r.seconds, 2),
                "val_mae": r.val_metrics.get("mae", math.nan),
                **r.metrics,
            }
            for r in self.runs
        ]
        return pd.DataFrame(rows)

    def mean_predictor_metrics(self) -> dict[str, float]:
        """Metrics of predicting the training mean for every item: what a model that learned
        nothing from the inputs scores (ρ is NaN: the prediction is constant)."""
        return regression_metrics(np.full_like(self.targets, self.train_mean), self.targets)

    def records(self, method_suffix: str = "") -> list[dict[str, Any]]:
        """One ``{"method", "seed", "metrics"}`` per run, without :meth:`undefined_metrics`,
        for :func:`~supremix.reporting.summarise_runs`; ``method_suffix`` is appended to each
        method name (to tell two studies' runs of one method apart)."""
        dropped = self.undefined_metrics()
        return [
            {
                "method": r.method + method_suffix,
                "seed": r.seed,
                "metrics": {k: v for k, v in r.metrics.items() if k not in dropped[r.method]},
            }
            for r in self.runs
        ]

    def summary(
        self, *, notes: str = "", provenance: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The runs as a :mod:`supremix.reporting` results summary (means over seeds)."""
        dropped = self.undefined_metrics()
        records = self.records()
        if any(dropped.values()):
            gaps = "; ".join(f"{m}: {', '.join(sorted(d))}" for m, d in dropped.items() if d)
            notes = f"{notes} Undefined in some seed, left out (method: metrics): {gaps}.".strip()
        where = {
            "preset": self.preset,
            "eval_split": self.eval_split,
            "smoke": self.smoke,
            "epochs": self.config.epochs,
            "probe_epochs": self.config.probe_epochs,
            "batch_size": self.config.batch_size,
            "device": self.config.device,
            **dict(provenance or {}),
        }
        return summarise_runs(
            records, data_kind=self.data_kind, dataset=self.dataset, notes=notes, provenance=where
        )

    def undefined_metrics(self) -> dict[str, set[str]]:
        """Per method, the metrics that are not finite in some seed (ρ of a model that
        predicts one constant); the summary leaves them out for that method."""
        dropped: dict[str, set[str]] = {m: set() for m in self.methods}
        for r in self.runs:
            dropped[r.method].update(k for k, v in r.metrics.items() if not math.isfinite(v))
        return dropped

    def paper_reference(self) -> pd.DataFrame:
        """The papers' numbers for this dataset (:data:`PAPER_SOURCES`), long format."""
        return paper_reference(self.dataset)

    def comparison(
        self, *, metrics: Sequence[str] = SHOWN_METRICS, mean_predictor: bool = True
    ) -> pd.DataFrame:
        """This run's means and standard deviations over seeds beside the papers' numbers.

        One row per (method, metric) of ``metrics``; paper columns are labelled with their
        source (``"paper (seed 001 Table 5)"``), empty where the paper has no number. With
        ``mean_predictor``, rows ``"Training mean"`` give the metrics of predicting the
        training mean (the floor a model must beat to have learned anything).
        """
        summary = self.summary()
        for entry in summary["methods"].values():
            entry["metrics"] = {k: v for k, v in entry["metrics"].items() if k in metrics}
        table = comparison_table(summary, self.paper_reference())
        if mean_predictor:
            ours = run_label(self.data_kind)
            reference = self.mean_predictor_metrics()
            keys = {"MAE": "mae", "MSE": "mse", "GM": "gm", "rho": "pearson"}
            rows = pd.DataFrame(
                {ours: [reference[keys[m]] for m in metrics if m in keys]},
                index=pd.MultiIndex.from_tuples(
                    [("Training mean", m) for m in metrics if m in keys], names=table.index.names
                ),
            )
            table = pd.concat([table, rows])
            table[f"{ours} seeds"] = table[f"{ours} seeds"].astype("Int64")
        return table

    # ------------------------------------------------------------------ per-item views
    def predictions(self, method: str) -> np.ndarray:
        """``(seeds, items)`` predictions of ``method`` on the evaluation split."""
        return np.stack([r.preds for r in self._method_runs(method)])

    def all_predictions(self) -> dict[str, np.ndarray]:
        """:meth:`predictions` of every method, in the order they were run."""
        return {method: self.predictions(method) for method in self.methods}

    def absolute_errors(self, method: str) -> np.ndarray:
        """Per-item absolute error of ``method``, averaged over its seeds: ``(items,)``."""
        return np.abs(self.predictions(method) - self.targets[None, :]).mean(axis=0)

    def embeddings(self) -> dict[str, np.ndarray]:
        """Encoder features of every method on the evaluation split, from the embedding seed."""
        return {
            r.method: r.features
            for r in self.runs
            if r.seed == self.embedding_seed and r.features is not None
        }

    def paired_tests(self, reference: str | None = None) -> pd.DataFrame:
        """Paired t-tests of ``reference``'s per-item absolute errors against each other
        method's (errors averaged over seeds; seed 001 Fig. 5 marks such differences).

        ``reference`` defaults to SupReMix when it was run, else the last method. Columns:
        the two MAEs of the averaged errors, ``difference`` (reference minus method: negative
        when the reference errs less), ``t``, ``p``, ``stars``
        (:func:`~supremix.metrics.significance_stars`) and ``items``.
        """
        reference = self._reference(reference)
        ours = self.absolute_errors(reference)
        rows = []
        for method in self.methods:
            if method == reference:
                continue
            theirs = self.absolute_errors(method)
            test = paired_ttest(ours, theirs)
            rows.append(
                {
                    "method": method,
                    f"MAE {reference}": float(ours.mean()),
                    "MAE method": float(theirs.mean()),
                    "difference": test.mean_difference,
                    "t": test.t,
                    "p": test.p,
                    "stars": test.stars,
                    "items": test.n,
                }
            )
        return pd.DataFrame(rows).set_index("method")

    def paired_matrix(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(difference, p)``: for every ordered pair of methods (row, column) the mean of
        row's minus column's per-item absolute errors (averaged over seeds) and the p-value of
        the paired t-test; the diagonal is NaN."""
        methods = self.methods
        errors = {m: self.absolute_errors(m) for m in methods}
        difference = pd.DataFrame(np.nan, index=methods, columns=methods)
        p = difference.copy()
        for a in methods:
            for b in methods:
                if a != b:
                    test = paired_ttest(errors[a], errors[b])
                    difference.loc[a, b], p.loc[a, b] = test.mean_difference, test.p
        difference.index.name = p.index.name = "row method"
        difference.columns.name = p.columns.name = "column method"
        return difference, p

    def _reference(self, reference: str | None) -> str:
        if reference is None:
            return "SupReMix" if "SupReMix" in self.methods else self.methods[-1]
        reference = canonical_method(reference)
        if reference not in self.methods:
            raise KeyError(f"{reference} was not run; methods run: {', '.join(self.methods)}")
        return reference

    # ------------------------------------------------------------------ words
    def describe(self, reference: str | None = None, baseline: str = "Vanilla") -> str:
        """A Markdown paragraph stating what this run measured, computed from its numbers."""
        reference = self._reference(reference)
        frame = self.metrics_frame().groupby("method", sort=False)["mae"]
        mae, sd = frame.mean(), frame.std()
        floor = self.mean_predictor_metrics()["mae"]
        n_items = self.targets.size
        kind = "phantom" if self.data_kind == "phantom" else "real data"
        best = mae.idxmin()
        parts = [
            f"On this run ({kind}, {len(self.seeds)} seed(s), {n_items} {self.eval_split} items) "
            f"the lowest mean MAE is {best}'s, {mae[best]:.3g}"
            + (f" (sd {sd[best]:.2g} over seeds)" if not math.isnan(sd[best]) else "")
            + "."
        ]
        ratio = mae / floor
        spread = (
            f"{ratio.min():.2f}" if len(ratio) == 1 else f"{ratio.min():.2f} to {ratio.max():.2f}"
        )
        parts.append(
            f"Predicting the training mean for every item gives MAE {floor:.3g}; the methods' "
            f"MAEs are {spread} times that"
            + (
                ", so at these settings they learned little from the inputs."
                if ratio.min() > LEARNED_LITTLE
                else "."
            )
        )
        baseline = canonical_method(baseline)
        if baseline in mae.index and reference != baseline and n_items >= 2:
            test = paired_ttest(self.absolute_errors(reference), self.absolute_errors(baseline))
            relation = "lower" if mae[reference] < mae[baseline] else "higher"
            significance = "not significant" if test.stars == "ns" else f"significant, {test.stars}"
            p_text = "undefined" if math.isnan(test.p) else f"{test.p:.2g}"
            parts.append(
                f"{reference}'s MAE ({mae[reference]:.3g}) is {relation} than {baseline}'s "
                f"({mae[baseline]:.3g}); the paired t-test on per-item errors gives p = "
                f"{p_text} ({significance})."
            )
        if self.data_kind == "phantom":
            parts.append("These are phantom numbers: they do not reproduce the paper.")
        return " ".join(parts)


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def side_by_side(
    studies: Mapping[str, Study], *, metrics: Sequence[str] = SHOWN_METRICS
) -> pd.DataFrame:
    """Several studies of one dataset (e.g. two protocols) beside each other and the papers.

    One row per (method, metric); for each study ``label`` the columns ``"<label>"`` (mean
    over seeds) and ``"<label> std"``, then the papers' columns of the first study. A method a
    study did not run is empty in its columns.
    """
    if not studies:
        raise ValueError("no studies given")
    datasets = {study.dataset for study in studies.values()}
    if len(datasets) != 1:
        raise ValueError(f"the studies are of different datasets: {sorted(datasets)}")
    parts = []
    for label, study in studies.items():
        table = study.comparison(metrics=metrics, mean_predictor=False)
        ours = run_label(study.data_kind)
        parts.append(
            table[[ours, f"{ours} std"]].rename(
                columns={ours: label, f"{ours} std": f"{label} std"}
            )
        )
    first = next(iter(studies.values())).comparison(metrics=metrics, mean_predictor=False)
    papers = [c for c in first.columns if c.startswith("paper (")]
    frame = parts[0].join(parts[1:], how="outer") if len(parts) > 1 else parts[0]
    frame = frame.join(first[papers], how="left")
    order = list(dict.fromkeys([*first.index, *frame.index]))
    return frame.reindex(pd.MultiIndex.from_tuples(order, names=first.index.names))


def describe_baseline_gap(
    paper_protocol: Study,
    strong_baseline: Study | None = None,
    *,
    seed: int = 2,
    table: str = "Table 5",
) -> str:
    """Markdown bullets: the paper's Vanilla and SupReMix MAE (``seed``'s ``table`` for the
    study's dataset), this run's MAE per method under the paper's protocol and, with
    ``strong_baseline`` (a study whose Vanilla is trained to its best, e.g.
    :data:`AIRFOIL_STRONG_BASELINE`), how the paper's numbers compare with that baseline: what
    the paper's gains are relative to."""
    paper = paper_results(seed=seed, table=table, dataset=paper_protocol.dataset, metric="MAE")
    paper = paper.set_index("method")["value"]
    missing = [m for m in ("Vanilla", "SupReMix") if m not in paper.index]
    if missing:
        raise ValueError(f"{reference_label(seed, table)} has no MAE for {', '.join(missing)}")
    source = reference_label(seed, table)
    ours = paper_protocol.metrics_frame().groupby("method", sort=False)["mae"].mean()
    config = paper_protocol.config
    lines = [
        f"- Paper ({source}): Vanilla MAE {paper['Vanilla']:.2f}, SupReMix "
        f"{paper['SupReMix']:.2f}, a {1 - paper['SupReMix'] / paper['Vanilla']:.0%} reduction.",
        f"- This run, the paper's protocol ({config.epochs} pretraining and "
        f"{config.probe_epochs} probe epochs, {len(paper_protocol.seeds)} seeds): "
        + ", ".join(f"{m} {v:.2f}" for m, v in ours.items())
        + ".",
    ]
    if strong_baseline is not None:
        strong = strong_baseline.metrics_frame()["mae"]
        mean = float(strong.mean())
        sd = f" ± {strong.std():.2f}" if len(strong) > 1 else ""
        lines.append(
            f"- Strong baseline MAE {mean:.2f}{sd} ({len(strong)} seeds) vs paper vanilla "
            f"{paper['Vanilla']:.2f}: the paper's Vanilla has {paper['Vanilla'] / mean:.1f} "
            f"times its error, and the paper's SupReMix {paper['SupReMix'] / mean:.1f} times."
        )
        relation = "below" if paper["SupReMix"] < mean else "above"
        beaten = "beats" if paper["Vanilla"] > mean else "does not beat"
        lines.append(
            f"- So the paper's SupReMix MAE is {relation} what plain Vanilla training reaches "
            f"here: the gains of {source} are measured against a Vanilla baseline that this "
            f"strong baseline {beaten}."
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------- the papers' numbers


def paper_reference(dataset: str) -> pd.DataFrame:
    """The numbers of :data:`PAPER_SOURCES` for ``dataset``, one per (source, method, metric),
    as rows of :func:`~supremix.paper.paper_results`."""
    if dataset not in PAPER_SOURCES:
        raise ValueError(
            f"no paper sources for {dataset!r}; expected one of {', '.join(PAPER_SOURCES)}"
        )
    parts = []
    for source in PAPER_SOURCES[dataset]:
        part = paper_results(seed=source.seed, table=source.table, dataset=dataset)
        part = part[part["metric"].isin(source.metrics)]
        part = part[(part["subset"] == source.subset) & (part["setting"] == source.setting)]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def paper_coverage(dataset: str, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Which of :data:`SHOWN_METRICS` each paper source reports, for which of ``methods``.

    One row per metric, one column per source (plus ``"missing"``): the methods with a
    number, ``"-"`` for none; ``missing`` lists the methods no source reports the metric for.
    ``methods`` defaults to :func:`default_methods`.
    """
    wanted = [canonical_method(m) for m in (methods or default_methods(dataset))]
    reference = paper_reference(dataset)
    columns: dict[str, list[str]] = {}
    covered = {metric: set() for metric in SHOWN_METRICS}
    for source in PAPER_SOURCES[dataset]:
        part = reference[(reference["seed"] == source.seed) & (reference["table"] == source.table)]
        cells = []
        for metric in SHOWN_METRICS:
            have = [m for m in wanted if ((part["method"] == m) & (part["metric"] == metric)).any()]
            covered[metric].update(have)
            cells.append(", ".join(have) if have else "-")
        columns[reference_label(source.seed, source.table)] = cells
    columns["missing"] = [
        ", ".join(m for m in wanted if m not in covered[metric]) or "-" for metric in SHOWN_METRICS
    ]
    return pd.DataFrame(columns, index=pd.Index(SHOWN_METRICS, name="metric"))


def describe_coverage(dataset: str, methods: Sequence[str] | None = None) -> str:
    """One Markdown sentence per source saying what it reports, and what no source reports."""
    coverage = paper_coverage(dataset, methods)
    sentences = []
    for source in PAPER_SOURCES[dataset]:
        label = reference_label(source.seed, source.table)
        reported = [m for m in SHOWN_METRICS if coverage.loc[m, label] != "-"]
        what = _join(reported) if reported else "no metric"
        text = f"{label[0].upper()}{label[1:]} reports {what}"
        sentences.append(text + (f" ({source.note})." if source.note else "."))
    missing = [m for m in SHOWN_METRICS if coverage.loc[m, "missing"] != "-"]
    if missing:
        details = "; ".join(f"{m}: {coverage.loc[m, 'missing']}" for m in missing)
        sentences.append(f"No source gives these (metric: methods): {details}.")
    return " ".join(sentences)


def best_in_paper(dataset: str, metric: str) -> tuple[str, float, str]:
    """``(method, value, source)`` of the best number the sources report for ``metric``."""
    reference = paper_reference(dataset)
    part = reference[reference["metric"] == metric]
    if part.empty:
        raise ValueError(f"no paper source reports {metric} for {dataset}")
    index = part["value"].idxmax() if metric in HIGHER_IS_BETTER else part["value"].idxmin()
    row = part.loc[index]
    return row["method"], float(row["value"]), reference_label(row["seed"], row["table"])


# ---------------------------------------------------------------------- running


def compare_methods(
    dataset: str,
    *,
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1),
    preset: str | None = None,
    epochs: int | None = None,
    probe_epochs: int | None = None,
    batch_size: int | None = None,
    data_root: str | Path | None = None,
    device: str = "auto",
    smoke: bool = False,
    overrides: Mapping[str, Any] | None = None,
    embedding_seed: int | None = None,
    out_dir: str | Path | None = None,
    cpu_threads: int | None = 1,
    memory_cache: bool | None = None,
) -> Study:
    """Train every method of ``methods`` with every seed of ``seeds`` on ``dataset``.

    The data are opened once (``supremix.train.open_splits``: the real data under
    ``data_root``, else the phantom, or for airfoil the UCI file) and each run is
    ``supremix.train.train`` on them: the two steps of ``supremix.train.run_experiment``.
    After each run the selected weights predict the evaluation split (test,
    or val where the test labels are withheld) in float32; those predictions give every
    metric of the study. Encoder features are kept for ``embedding_seed`` (default: the first
    seed). ``smoke`` runs the first seed only. Settings: :func:`study_config`; where they
    turn augmentation off (the book's phantom runs), SimCLR keeps the paper preset's, since
    its two views differ only by augmentation.

    ``out_dir`` keeps each run's folder (checkpoints, ``metrics.csv``, ``results.json``) as
    ``<out_dir>/<method>-seed<seed>``; ``None`` uses a temporary folder. ``cpu_threads``: torch
    CPU threads while training on the CPU (the small CPU models run several times faster on one
    thread than on two busy cores); ``None`` leaves torch's setting. ``memory_cache``: serve
    the splits from :class:`InMemoryDataset` (decode each item once); ``None``: for phantoms,
    unless ``cache_items`` already caches them on disk.
    """
    methods = list(default_methods(dataset) if methods is None else methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(
            f"unknown or no methods {unknown or methods}; expected some of {', '.join(METHODS)}"
        )
    if len(set(methods)) != len(methods):
        raise ValueError(f"methods {methods} name a method twice")
    seeds = run_seeds(seeds, smoke)
    embedding_seed = seeds[0] if embedding_seed is None else embedding_seed
    if embedding_seed not in seeds:
        raise ValueError(f"embedding_seed {embedding_seed} is not one of the seeds {seeds}")
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
    splits, info, eval_split = open_study_splits(config, data_root, memory_cache)
    evaluation = splits[eval_split]
    study = Study(
        dataset=dataset,
        preset=name,
        config=config,
        data=info,
        eval_split=eval_split,
        targets=np.asarray(evaluation.targets, dtype=np.float64),
        ids=[str(i) for i in evaluation.ids],
        train_mean=float(np.mean(splits["train"].targets)),
        embedding_seed=embedding_seed,
        smoke=smoke,
    )
    simclr_augment = _simclr_augment(dataset, config)
    with training_session(config, out_dir, cpu_threads, prefix="study-") as out_dir:
        for method in methods:
            for seed in seeds:
                changes = {"augment": simclr_augment} if method == "simclr" else {}
                study.runs.append(
                    _run_one(
                        config.replace(method=method, seed=seed, **changes),
                        splits,
                        info,
                        evaluation,
                        Path(out_dir) / f"{method}-seed{seed}",
                        keep_features=seed == embedding_seed,
                    )
                )
    return study


def _simclr_augment(dataset: str, config: TrainConfig) -> str:
    """SimCLR's augmentation: the study's, or the paper preset's where the study has none
    (SimCLR's two views differ only by augmentation; without it the loss is degenerate)."""
    if config.augment != "none" or dataset not in PRESETS:
        return config.augment
    return PRESETS[dataset].augment


def _run_one(
    config: TrainConfig,
    splits: Mapping[str, Any],
    info: Mapping[str, Any],
    evaluation: Any,
    out_dir: Path,
    *,
    keep_features: bool,
) -> MethodRun:
    began = time.perf_counter()
    result = train(
        config,
        train_set=splits["train"],
        val_set=splits["val"],
        test_set=splits["test"],
        out_dir=out_dir,
        data_info=info,
    )
    outputs = predict(result.model, evaluation, batch_size=config.batch_size)
    return MethodRun(
        method=canonical_method(config.method),
        seed=config.seed,
        metrics=outputs.metrics(),
        preds=outputs.preds,
        features=outputs.features if keep_features else None,
        seconds=time.perf_counter() - began,
        val_metrics=dict(result.metrics.get("val", {})),
        augment=config.augment,
    )
