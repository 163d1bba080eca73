"""Hardness of contrastive pairs over training, SupCon against SupReMix (the SupReMix paper, §5.1.2,
Fig. 4).

The SupReMix paper's §5.1.2 trains on RSNA and tracks, over 100 training epochs, "the average of
logit values (i.e. the inner product of two embeddings with norm of 1)" of "all positive pairs and
the top 1k most challenging negative pairs", with a Pearson correlation on a second axis. It reports
that SupCon's positive logits saturate quickly, near 1, so those pairs stop contributing to the loss
(and fewer and fewer negatives do), while SupReMix keeps improving through the 100 epochs because
its mixed pairs stay hard. The figure prints no numbers.

Here every contrastive step of a run is observed (``train(..., batch_observers=...)``): an
:class:`EpochHardnessRecorder` feeds the batch's detached embeddings and the labels the loss
saw to :class:`supremix.analysis.LogitHardnessTracker`, and an epoch callback closes each
pretraining epoch. The SupReMix paper does not say what its Pearson curve correlates during
pretraining, when the linear-probe protocol has no regressor yet; the recorder measures how
linearly the label can be read from the epoch's embeddings: a ridge regression fitted on half
of the epoch's batches predicts the other half and vice versa
(:func:`cross_fitted_pearson`), and ρ is taken over these held-out predictions. After
pretraining the usual linear probe is trained and evaluated (test ρ and MAE per run).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from supremix.analysis import LogitHardnessTracker
from supremix.analysis.figure import report_figure
from supremix.metrics import pearson
from supremix.paper import canonical_method
from supremix.train.config import CONTRASTIVE_METHODS

from .session import SplitRuns, open_study_splits, training_session
from .settings import RunSettings
from .sweep import Variant, known_choices, train_variant
from .table_facts import extreme

#: Stages whose steps use a contrastive loss (the engine's stage names).
CONTRASTIVE_STAGES = ("pretrain", "multitask")
#: The SupReMix paper's §5.1.2: "the top 1k most challenging negative pairs".
PAPER_HARD_NEGATIVES = 1000
#: Pretraining epochs tracked: Fig. 4's 100 on real data; 48 on the book's phantom (twice the
#: phantom settings' 24, enough to see saturation at CPU cost).
PAPER_EPOCHS = 100
PHANTOM_EPOCHS = 48


def hardness_epochs(epochs: int | None, data_root: str | Path | None) -> int:
    """``epochs``, or by default Fig. 4's :data:`PAPER_EPOCHS` with real data (``data_root``)
    and :data:`PHANTOM_EPOCHS` on the phantom."""
    if epochs is not None:
        return epochs
    return PAPER_EPOCHS if data_root is not None else PHANTOM_EPOCHS


#: Rows of a contrastive batch in the SupReMix paper's RSNA runs: batch 128 (Table 13), two views.
PAPER_BATCH_ROWS = 256
#: The paper's 1k hardest negatives as a fraction of a batch's pairs.
PAPER_HARD_FRACTION = PAPER_HARD_NEGATIVES / (PAPER_BATCH_ROWS * (PAPER_BATCH_ROWS - 1) / 2)
#: Ridge penalty of :func:`cross_fitted_pearson`.
RIDGE_ALPHA = 1e-2
CURVES = ("positive", "hard_negative", "probe_rho")


def hard_negative_count(rows: int, fraction: float = PAPER_HARD_FRACTION) -> int:
    """The number of hardest negatives that is ``fraction`` of the pairs of a batch of ``rows``
    embeddings (at least 1): the paper's 1k of 32,640 pairs, scaled to a smaller batch."""
    if rows < 2:
        raise ValueError(f"a batch needs at least 2 rows to hold a pair, got {rows}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return max(1, round(fraction * rows * (rows - 1) / 2))


def middle_epoch(last: int) -> int:
    """The epoch halfway to ``last`` (rounded up, at least 1): where :meth:`HardnessStudy.table`
    starts a curve's second half."""
    return max(1, math.ceil(last / 2))


def ridge_fit(
    features: np.ndarray, targets: np.ndarray, alpha: float = RIDGE_ALPHA
) -> tuple[np.ndarray, float]:
    """Ridge regression with intercept: ``(w, b)`` minimising
    ``||(X - mean X) w - (y - mean y)||² + alpha ||w||²``, ``b = mean y - mean X · w``."""
    x_mean, y_mean = features.mean(axis=0), targets.mean()
    centred = features - x_mean
    gram = centred.T @ centred + alpha * np.eye(features.shape[1])
    weights = np.linalg.solve(gram, centred.T @ (targets - y_mean))
    return weights, float(y_mean - x_mean @ weights)


def cross_fitted_pearson(
    embeddings: Sequence[Any], labels: Sequence[Any], *, alpha: float = RIDGE_ALPHA
) -> float:
    """Pearson ρ of held-out ridge predictions of the labels from the embeddings.

    ``embeddings`` and ``labels`` are per-batch lists (one entry per step of an epoch). Even
    and odd batches form two folds; a ridge regression (:func:`ridge_fit`) fitted on one fold
    predicts the other, and ρ is computed over all held-out predictions. Batches never
    share a sample within an epoch, so the two views of a sample stay in one fold. NaN with
    fewer than two batches or a constant side.
    """
    if len(embeddings) != len(labels):
        raise ValueError(f"{len(embeddings)} embedding batches but {len(labels)} label batches")
    if len(embeddings) < 2:
        return math.nan
    folds = [
        (
            np.concatenate([np.asarray(z, dtype=np.float64) for z in embeddings[start::2]]),
            np.concatenate([np.asarray(y, dtype=np.float64) for y in labels[start::2]]),
        )
        for start in (0, 1)
    ]
    predictions, truths = [], []
    for fit, held_out in ((folds[0], folds[1]), (folds[1], folds[0])):
        weights, bias = ridge_fit(*fit, alpha=alpha)
        predictions.append(held_out[0] @ weights + bias)
        truths.append(held_out[1])
    return pearson(np.concatenate(predictions), np.concatenate(truths))


class EpochHardnessRecorder:
    """Per-epoch logit hardness and embedding ρ of one training run (the SupReMix paper, Fig. 4).

    Pass :meth:`observe` to ``train(batch_observers=[...])`` and :meth:`close_epoch` to
    ``train(callbacks=[...])``; epochs of stages without a contrastive loss (the probe) are
    ignored. :meth:`frame` gives one row per contrastive epoch: ``positive`` (mean logit of
    all positive pairs of the epoch), ``hard_negative`` (mean logit of the
    ``n_hard_negatives`` largest negative logits of each batch, pooled over the epoch),
    ``probe_rho`` (:func:`cross_fitted_pearson` of the epoch's embeddings) and the pair
    counts. ``n_hard_negatives=None`` takes :func:`hard_negative_count` of the first batch's
    rows (the paper's share of a batch's pairs).
    """

    def __init__(
        self,
        *,
        n_hard_negatives: int | None = None,
        label_tolerance: float = 0.0,
        alpha: float = RIDGE_ALPHA,
    ):
        if n_hard_negatives is not None and n_hard_negatives < 1:
            raise ValueError(f"n_hard_negatives must be >= 1 or None, got {n_hard_negatives}")
        self.n_hard_negatives = n_hard_negatives
        self.label_tolerance = label_tolerance
        self.alpha = alpha
        self.tracker: LogitHardnessTracker | None = None
        self.rows: list[dict[str, Any]] = []
        self._embeddings: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []
        self._counts = {"n_positive": 0, "n_hard_negative": 0}

    def observe(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        """One contrastive step: its embeddings (all views) and the labels the loss saw."""
        if self.tracker is None:
            if self.n_hard_negatives is None:
                self.n_hard_negatives = hard_negative_count(embeddings.shape[0])
            self.tracker = LogitHardnessTracker(
                n_hard_negatives=self.n_hard_negatives, label_tolerance=self.label_tolerance
            )
        stats = self.tracker.update(embeddings, labels)
        self._counts["n_positive"] += stats.n_positive
        self._counts["n_hard_negative"] += stats.n_hard_negative
        self._embeddings.append(embeddings.detach().cpu().double().numpy())
        self._labels.append(labels.detach().cpu().double().numpy().reshape(-1))

    def close_epoch(self, row: Mapping[str, Any]) -> None:
        """Epoch callback: closes a contrastive epoch (``row["stage"]`` in
        :data:`CONTRASTIVE_STAGES`), ignores the others."""
        if row["stage"] not in CONTRASTIVE_STAGES:
            return
        if self.tracker is None or not self._embeddings:
            raise RuntimeError(
                f"epoch {row['epoch']} of stage {row['stage']!r} ended without an observed "
                "batch; pass EpochHardnessRecorder.observe to train(batch_observers=[...])"
            )
        means = self.tracker.end_epoch()
        self.rows.append(
            {
                "epoch": len(self.rows) + 1,
                "positive": means["positive"],
                "hard_negative": means["hard_negative"],
                "probe_rho": cross_fitted_pearson(self._embeddings, self._labels, alpha=self.alpha),
                **self._counts,
            }
        )
        self._embeddings, self._labels = [], []
        self._counts = {"n_positive": 0, "n_hard_negative": 0}

    def frame(self) -> pd.DataFrame:
        """One row per closed contrastive epoch (see the class docstring)."""
        columns = ["epoch", *CURVES, "n_positive", "n_hard_negative"]
        return pd.DataFrame(self.rows, columns=columns)


@dataclass
class HardnessRun:
    """One (method, seed): its per-epoch curves and the test metrics of its linear probe."""

    method: str
    seed: int
    curves: pd.DataFrame
    metrics: dict[str, float]
    seconds: float


@dataclass
class HardnessStudy(SplitRuns):
    """Every run of :func:`track_hardness` on one dataset."""

    n_hard_negatives: int | None
    smoke: bool = False
    runs: list[HardnessRun] = field(default_factory=list)

    @property
    def methods(self) -> list[str]:
        """Methods in the order they were run (canonical names)."""
        return list(dict.fromkeys(r.method for r in self.runs))

    def curves(self) -> pd.DataFrame:
        """Long table: method, seed, epoch and the curves of every run."""
        parts = [r.curves.assign(method=r.method, seed=r.seed) for r in self.runs]
        frame = pd.concat(parts, ignore_index=True)
        return frame[["method", "seed", *[c for c in frame.columns if c not in ("method", "seed")]]]

    def settings_table(self) -> pd.DataFrame:
        """The settings every run shared."""
        values = self.config.to_dict()
        rows: dict[str, Any] = {"preset": self.preset, "data": self.data_kind}
        for key in ("epochs", "probe_epochs", "batch_size", "lr", "temperature", "window"):
            rows[key] = values[key]
        for key in ("augment", "feature_dim", "phantom_n"):
            rows[key] = values[key]
        rows["hardest negatives per batch"] = self.n_hard_negatives
        rows["evaluated on"] = self.eval_split
        rows["seeds"] = self.seeds
        rows["device"] = values["device"]
        return pd.DataFrame({"value": [str(v) for v in rows.values()]}, index=list(rows))

    def table(self) -> pd.DataFrame:
        """Per method, means over seeds: each curve at the first, middle and last epoch, its
        gain over the second half of training (``last - middle``: near 0 once a curve has
        saturated) and the probe's test MAE and ρ."""
        curves = self.curves()
        rows = {}
        for method in self.methods:
            part = curves[curves["method"] == method]
            last = int(part["epoch"].max())
            middle = middle_epoch(last)
            row: dict[str, float] = {}
            for curve in ("positive", "hard_negative"):
                at = {e: part.loc[part["epoch"] == e, curve].mean() for e in (1, middle, last)}
                row[f"{curve} epoch 1"] = at[1]
                row[f"{curve} epoch {middle}"] = at[middle]
                row[f"{curve} epoch {last}"] = at[last]
                row[f"{curve} gain, 2nd half"] = at[last] - at[middle]
            runs = [r for r in self.runs if r.method == method]
            row["test MAE"] = float(np.mean([r.metrics["mae"] for r in runs]))
            row["test rho"] = float(np.mean([r.metrics["pearson"] for r in runs]))
            rows[method] = row
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")

    def facts(self) -> dict[str, Any]:
        """The headline of :meth:`table`, by name, for the notebook's prose: ``methods``,
        ``epochs`` (the last) and ``middle`` (the epochs the table reads), the method whose
        positive logit is highest at the last epoch (``highest_positive``), those whose
        positive logit gains the most and the least over the second half
        (``largest_gain``, ``smallest_gain``), the method whose hardest negatives end highest
        (``hardest_negatives``) and the lowest probe MAE (``lowest_mae``), each with its
        ``*_value`` (:func:`~supremix.experiments.table_facts.extreme`)."""
        table = self.table()
        last = int(self.curves()["epoch"].max())
        gain = table["positive gain, 2nd half"]
        return {
            "methods": len(table),
            "epochs": last,
            "middle": middle_epoch(last),
            **extreme(table[f"positive epoch {last}"], "highest_positive"),
            **extreme(gain, "largest_gain"),
            **extreme(gain, "smallest_gain", largest=False),
            **extreme(table[f"hard_negative epoch {last}"], "hardest_negatives"),
            **extreme(table["test MAE"], "lowest_mae", largest=False),
        }

    def summary(self, *, notes: str = "") -> dict[str, Any]:
        """The runs as a :mod:`supremix.reporting` results summary: the probe's test metrics
        and the last epoch's mean positive and hard-negative logits."""
        records: list[dict[str, Any]] = []
        for run in self.runs:
            final = run.curves.iloc[-1]
            values = {
                **run.metrics,
                "positive logit, last epoch": float(final["positive"]),
                "hard-negative logit, last epoch": float(final["hard_negative"]),
            }
            records.append({"method": run.method, "seed": run.seed, "metrics": values})
        keep = set.intersection(
            *({k for k, v in r["metrics"].items() if math.isfinite(v)} for r in records)
        )
        for record in records:
            record["metrics"] = {k: v for k, v in record["metrics"].items() if k in keep}
        return self.summarise(
            records,
            smoke=self.smoke,
            notes=notes,
            experiment="hardness",
            provenance={"hard_negatives": self.n_hard_negatives},
        )


def track_hardness(
    dataset: str = "rsna",
    *,
    methods: Sequence[str] = ("supcon", "supremix"),
    seeds: Sequence[int] = (0,),
    settings: RunSettings | None = None,
    n_hard_negatives: int | None = None,
    **changes: Any,
) -> HardnessStudy:
    """Train each contrastive method of ``methods`` with each seed, recording the logit
    hardness of every pretraining epoch (the SupReMix paper, Fig. 4).

    ``settings`` with ``changes`` (:class:`~supremix.experiments.settings.RunSettings` fields,
    as :func:`~supremix.experiments.sweep.run_sweep` takes them) say how: ``smoke`` runs the
    first seed at one epoch per stage; ``epochs`` ``None`` is :func:`hardness_epochs` (100
    with real data, as Fig. 4). Each run is :func:`supremix.train.train` with an
    :class:`EpochHardnessRecorder`, then its selected weights predict the evaluation split
    (test, else val). ``n_hard_negatives``: hardest negatives per batch; ``None``: the
    paper's 1k of a 256-row batch's pairs, as a share of this run's batch
    (:func:`hard_negative_count`).
    """
    settings = RunSettings.of(settings, **changes)
    methods = known_choices("contrastive method", methods, CONTRASTIVE_METHODS)
    seeds = settings.seeds(seeds)
    settings = settings.replace(epochs=hardness_epochs(settings.epochs, settings.data_root))
    name, config = settings.train_config(dataset)
    data = open_study_splits(config, settings.data_root, settings.memory_cache)
    study = HardnessStudy.on_splits(
        dataset, name, config, data, n_hard_negatives=n_hard_negatives, smoke=settings.smoke
    )
    with training_session(
        config, settings.out_dir, settings.cpu_threads, prefix="hardness-"
    ) as out_dir:
        for method in methods:
            for seed in seeds:
                recorder = EpochHardnessRecorder(n_hard_negatives=n_hard_negatives)
                run = train_variant(
                    config.replace(seed=seed),
                    Variant(canonical_method(method), {"method": method}),
                    data,
                    out_dir / f"{method}-seed{seed}",
                    keep_features=False,
                    callbacks=[recorder.close_epoch],
                    batch_observers=[recorder.observe],
                )
                study.n_hard_negatives = recorder.n_hard_negatives
                curves = recorder.frame()
                study.runs.append(HardnessRun(run.label, seed, curves, run.metrics, run.seconds))
    return study


def hardness_figure(study: HardnessStudy, *, title: str | None = None) -> Figure:
    """The SupReMix paper's Fig. 4 for this study: one panel per method, the mean logit of positive
    pairs (solid) and of the hardest negatives (dashed) per epoch on the left axis, the embedding ρ
    (:func:`cross_fitted_pearson`, dotted) on the right; lines are means over seeds, bands
    their range. Logit axes are shared so the panels compare directly."""
    curves = study.curves()
    methods = study.methods
    figure = report_figure(figsize=(4.2 * len(methods), 3.4), layout="constrained")
    axes = figure.subplots(1, len(methods), squeeze=False, sharey=True)[0]
    styles = {
        "positive": ("C0", "-", "positive pairs"),
        "hard_negative": ("C3", "--", f"{study.n_hard_negatives} hardest negatives / batch"),
    }
    for ax, method in zip(axes, methods, strict=True):
        part = curves[curves["method"] == method].groupby("epoch")
        right = ax.twinx()
        right.set_ylim(-0.05, 1.05)
        handles = []
        for curve, (colour, style, label) in styles.items():
            epochs = np.asarray(list(part.groups))
            mean, low, high = part[curve].mean(), part[curve].min(), part[curve].max()
            (line,) = ax.plot(epochs, mean, color=colour, linestyle=style, label=label)
            ax.fill_between(epochs, low, high, color=colour, alpha=0.15, linewidth=0)
            handles.append(line)
        (rho,) = right.plot(
            np.asarray(list(part.groups)),
            part["probe_rho"].mean(),
            color="0.35",
            linestyle=":",
            label="ρ of held-out ridge on embeddings",
        )
        handles.append(rho)
        ax.set_title(method)
        ax.set_xlabel("pretraining epoch")
        right.set_ylabel("Pearson ρ")
    axes[0].set_ylabel("mean logit (cosine similarity)")
    axes[0].legend(handles=handles, fontsize=7, loc="lower right")
    if title is not None:
        figure.suptitle(title)
    return figure
