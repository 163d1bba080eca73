"""The runs of a sweep or study and the views the notebooks show: one result class.

A :class:`Sweep` holds every trained (variant, seed) as a :class:`VariantRun`: metrics and
per-item predictions on the evaluation split, encoder features where kept. Its views are the
same for every experiment: the shared settings, one row of metrics per run, mean and sample
standard deviation over seeds, the table beside a paper's rows, paired t-tests on per-item
errors (the SupReMix paper Fig. 5), encoder features for t-SNE maps and the results summary of
:mod:`supremix.reporting`. A method comparison (:class:`~supremix.experiments.comparison.Study`)
is a sweep whose variants are methods.

Metric names are the papers' (``MAE``, ``MSE``, ``RMSE``, ``GM``, ``rho``, ``R2``,
:func:`~supremix.paper.canonical_metric`) in every view; :data:`METRIC_KEYS` maps them to the
names of :func:`supremix.metrics.regression_metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supremix.experiments.run_facts import sweep_facts
from supremix.metrics import METRICS, PairedTTest, paired_ttest, regression_metrics
from supremix.notebook import data_banner
from supremix.paper import DATASETS, canonical_metric, paper_results, reference_label
from supremix.paper.sources import SHOWN_METRICS
from supremix.reporting import run_label

from .session import SplitRuns

if TYPE_CHECKING:
    from supremix.train.windows import EffectiveWindow

    from .sweep import Variant

#: The papers' metric names -> :func:`supremix.metrics.regression_metrics`' (one vocabulary).
METRIC_KEYS = {canonical_metric(key): key for key in METRICS}

#: Configuration fields shown by :meth:`Sweep.settings_table`, in this order.
SETTINGS_SHOWN = (
    "method",
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


def shown_metrics(values: Mapping[str, float]) -> dict[str, float]:
    """``values`` of :func:`~supremix.metrics.regression_metrics` under the papers' names."""
    return {name: values[key] for name, key in METRIC_KEYS.items()}


@dataclass
class VariantRun:
    """One trained (variant, seed): metrics and per-item predictions on the evaluation split,
    encoder features there where kept, the number of training items it saw, the validation
    metrics of the selected weights, the per-epoch history where kept and its augmentation."""

    label: str
    seed: int
    metrics: dict[str, float]
    preds: np.ndarray
    features: np.ndarray | None
    seconds: float
    n_train: int = 0
    val_metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    augment: str = ""


def _mean_sd(values: pd.Series) -> tuple[float, float]:
    values = values.dropna()
    if values.empty:
        return math.nan, math.nan
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else math.nan


@dataclass
class Sweep(SplitRuns):
    """Every run of a sweep and the tables the notebooks show.

    ``targets`` (and ``ids``, where given) are the items of ``eval_split`` (``"test"``, or
    ``"val"`` where the test labels are withheld) in the order of every run's ``preds``;
    ``train_targets`` the labels of the whole training split (before any variant's
    ``train_subset``). Encoder features are those of ``embedding_seed`` (``None``: the first).
    ``window`` is the Mix-pos window the SupReMix variants trained with, measured on the
    training labels (:func:`~supremix.experiments.windows.sweep_window`; ``None``: no variant
    trained at the configuration's window).
    """

    targets: np.ndarray
    train_targets: np.ndarray
    variants: list[Variant]
    smoke: bool = False
    runs: list[VariantRun] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    embedding_seed: int | None = None
    window: EffectiveWindow | None = None

    # ------------------------------------------------------------------ what was run
    @property
    def labels(self) -> list[str]:
        """Variant labels in the order they were given."""
        return [v.label for v in self.variants]

    @property
    def train_mean(self) -> float:
        """The mean training label: what :meth:`mean_predictor_metrics` predicts."""
        return float(np.mean(self.train_targets))

    def data_banner(self) -> str:
        """The Markdown banner a notebook shows above this sweep's results
        (:func:`supremix.notebook.data_banner`): real data or a phantom, the dataset by its
        name in :data:`supremix.paper.DATASETS`, and the folder read."""
        return data_banner(self.data_kind, DATASETS[self.dataset][0], self.data["root"])

    def variant(self, label: str) -> Variant:
        for variant in self.variants:
            if variant.label == label:
                return variant
        raise KeyError(f"no variant {label!r}; variants: {', '.join(self.labels)}")

    def variant_runs(self, label: str) -> list[VariantRun]:
        """The runs of variant ``label``, by seed."""
        self.variant(label)
        return sorted((r for r in self.runs if r.label == label), key=lambda r: r.seed)

    def run(self, label: str, seed: int) -> VariantRun:
        """The run of variant ``label`` with ``seed``."""
        for run in self.variant_runs(label):
            if run.seed == seed:
                return run
        runs = ", ".join(f"{r.label}/{r.seed}" for r in self.runs) or "none"
        raise KeyError(f"no run of {label} with seed {seed}; runs: {runs}")

    def settings_table(self) -> pd.DataFrame:
        """The shared settings (:data:`SETTINGS_SHOWN`), then what each variant changes."""
        values = self.config.to_dict()
        split = "official val" if "reported_split" in self.data else self.eval_split
        rows: dict[str, Any] = {
            "preset": self.preset,
            "data": self.data_kind,
            "evaluated on": f"{split} ({self.targets.size} items)",
        }
        if self.window is not None:
            rows.update(self.window.settings_rows())
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
        evaluation items): variant, seed, subset, items, training items, seconds, the
        validation MAE of the selected weights (``val MAE``) and the metrics (MAE, MSE, RMSE,
        GM, rho, R2)."""
        masks = self.masks(subsets)
        rows = []
        for run in self.runs:
            for subset, mask in masks.items():
                rows.append(
                    {
                        "variant": run.label,
                        "seed": run.seed,
                        "subset": subset,
                        "items": int(mask.sum()),
                        "n_train": run.n_train,
                        "seconds": round(run.seconds, 2),
                        "val MAE": run.val_metrics.get("mae", math.nan),
                        **shown_metrics(regression_metrics(run.preds[mask], self.targets[mask])),
                    }
                )
        return pd.DataFrame(rows)

    def masks(self, subsets: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
        """``subsets`` (name -> mask) checked against the evaluation items; ``None``: all."""
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
        inputs (rho is NaN: the prediction is constant)."""
        targets = self.targets if mask is None else self.targets[mask]
        return shown_metrics(regression_metrics(np.full_like(targets, self.train_mean), targets))

    # ------------------------------------------------------------------ the paper
    def paper_numbers(
        self, paper: str, table: str, *, dataset: str | None = None, subsets: bool = False
    ) -> pd.DataFrame:
        """The rows of ``paper``'s ``table`` (``paper``: a key of
        :data:`~supremix.paper.PAPERS`) that the variants reproduce, long format, with the
        variant's label in ``variant``. ``dataset`` defaults to the sweep's; with ``subsets``
        every subset of the variant's paper row is kept (else only its own ``subset``)."""
        numbers = paper_results(paper, table=table, dataset=dataset or self.dataset)
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
                    f"variant {variant.label!r}: {reference_label(paper, table)} has no row "
                    f"method={row.method!r}, setting={row.setting!r}, subset={row.subset!r}"
                )
            parts.append(part.assign(variant=variant.label))
        if not parts:
            raise ValueError("no variant names a paper row (Variant.paper)")
        return pd.concat(parts, ignore_index=True)

    def beside_paper(
        self,
        paper: str,
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
        numbers = self.paper_numbers(paper, table, dataset=dataset, subsets=subsets is not None)
        # a paper column this run cannot compute (e.g. "GM (MSE scale)") is never set beside ours
        computed = [m for m in dict.fromkeys(numbers["metric"]) if m in METRIC_KEYS]
        metrics = computed if metrics is None else list(metrics)
        ours = run_label(self.data_kind)
        source = f"paper ({reference_label(paper, table)})"
        wide = self.table(metrics, subsets)
        keys = ["variant"] if subsets is None else ["variant", "subset"]
        reported = numbers.set_index([*keys, "metric"])["value"]
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
                        source: reported.get((*key, metric), np.nan),
                    }
                )
        if mean_predictor:
            for subset, mask in self.masks(subsets).items():
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

    def all_predictions(self) -> dict[str, np.ndarray]:
        """:meth:`predictions` of every variant that ran, in order."""
        ran = {r.label for r in self.runs}
        return {label: self.predictions(label) for label in self.labels if label in ran}

    def absolute_errors(self, label: str) -> np.ndarray:
        """Per-item absolute error of variant ``label``, averaged over its seeds."""
        return np.abs(self.predictions(label) - self.targets[None, :]).mean(axis=0)

    def paired_test(self, label: str, other: str) -> PairedTTest:
        """Paired t-test of two variants' per-item absolute errors (the SupReMix paper
        Fig. 5 stars); a negative ``mean_difference``: ``label`` errs less."""
        return paired_ttest(self.absolute_errors(label), self.absolute_errors(other))

    def paired_tests(self, reference: str) -> pd.DataFrame:
        """:meth:`paired_test` of ``reference`` against every other variant that ran.

        Columns: the two MAEs of the errors averaged over seeds, ``difference`` (reference
        minus variant: negative when the reference errs less), ``t``, ``p``, ``stars``
        (:func:`~supremix.metrics.significance_stars`) and ``items``.
        """
        ours = self.absolute_errors(reference)
        rows = []
        for label in self.all_predictions():
            if label == reference:
                continue
            theirs = self.absolute_errors(label)
            test = paired_ttest(ours, theirs)
            rows.append(
                {
                    "method": label,
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
        """``(difference, p)``: for every ordered pair of variants (row, column) the mean of
        row's minus column's per-item absolute errors (averaged over seeds) and the p-value of
        the paired t-test; the diagonal is NaN."""
        errors = {label: self.absolute_errors(label) for label in self.all_predictions()}
        names = list(errors)
        difference = pd.DataFrame(np.nan, index=names, columns=names)
        p = difference.copy()
        for a in names:
            for b in names:
                if a != b:
                    test = paired_ttest(errors[a], errors[b])
                    difference.loc[a, b], p.loc[a, b] = test.mean_difference, test.p
        difference.index.name = p.index.name = "row method"
        difference.columns.name = p.columns.name = "column method"
        return difference, p

    @property
    def feature_seed(self) -> int:
        """The seed whose runs kept encoder features: ``embedding_seed``, else the first."""
        return self.seeds[0] if self.embedding_seed is None else self.embedding_seed

    def embeddings(self) -> dict[str, np.ndarray]:
        """Encoder features of the evaluation items per variant, from the embedding seed
        (where they were kept)."""
        seed = self.feature_seed
        return {r.label: r.features for r in self.runs if r.seed == seed and r.features is not None}

    # ------------------------------------------------------------------ reporting
    def undefined_metrics(self) -> dict[str, set[str]]:
        """Per variant, the metrics that are not finite (or missing) in some seed, such as rho
        of a model that predicts one constant; the summary leaves them out for that variant."""
        dropped: dict[str, set[str]] = {}
        names: dict[str, set[str]] = {}
        for r in self.runs:
            dropped.setdefault(r.label, set()).update(
                k for k, v in r.metrics.items() if not math.isfinite(v)
            )
            names.setdefault(r.label, set()).update(r.metrics)
        for r in self.runs:
            dropped[r.label] |= names[r.label] - set(r.metrics)
        return dropped

    def records(self, method_suffix: str = "") -> list[dict[str, Any]]:
        """One ``{"method", "seed", "metrics"}`` per run, without :meth:`undefined_metrics`,
        for :func:`~supremix.reporting.summarise_runs`; ``method_suffix`` is appended to each
        label (to tell two sweeps' runs of one variant apart)."""
        dropped = self.undefined_metrics()
        return [
            {
                "method": r.label + method_suffix,
                "seed": r.seed,
                "metrics": {k: v for k, v in r.metrics.items() if k not in dropped[r.label]},
            }
            for r in self.runs
        ]

    def summary(
        self,
        *,
        notes: str = "",
        experiment: str = "",
        provenance: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The runs as a :mod:`supremix.reporting` results summary, one "method" per variant
        (means over seeds; metrics undefined in some seed are left out and named in the
        notes)."""
        dropped = self.undefined_metrics()
        if any(dropped.values()):
            gaps = "; ".join(f"{m}: {', '.join(sorted(d))}" for m, d in dropped.items() if d)
            notes = f"{notes} Undefined in some seed, left out (method: metrics): {gaps}.".strip()
        window = {} if self.window is None else {"mix_pos_window": self.window.summary()}
        return self.summarise(
            self.records(),
            smoke=self.smoke,
            notes=notes,
            experiment=experiment,
            provenance={**window, **dict(provenance or {})},
        )

    def facts(self, metric: str = "MAE") -> dict[str, Any]:
        """What this run measured, by name, for a notebook's prose (:func:`sweep_facts`)."""
        return sweep_facts(self, metric)
