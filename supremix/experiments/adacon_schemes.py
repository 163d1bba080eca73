"""Seed 003's training schemes and regression-loss ablation (Tables III, V, X and XII).

Seed 003 (AdaCon) trains its contrastive branch together with the regression branch,
``L = L_reg + gamma_con L_con`` (eq. (8), "multi-task"), and checks two choices on both of its
datasets:

* **Regression losses** (Tables III for BMD, X for EchoNet LVEF): L1, Huber and MSE, each
  alone (Vanilla) and with AdaCon multi-task. Huber's δ is in label units: 0.05 g/cm² for BMD,
  4 % for LVEF, "close to the MAE of our regression baselines" (§IV-A4, §IV-B4).
* **Training schemes** (Tables V and XII): the N-pair loss, SupCon, the adaptive triplet loss
  and AdaCon, each trained two-stage (contrastive pretraining, then fine-tuning the whole
  network with the regression loss: ``protocol="finetune"``) and multi-task
  (``protocol="multitask"``), with the regression loss of the dataset's main runs (MSE for
  EchoNet, §IV-B1).

The BMD tables (III, V) are of an in-house dataset we do not have: :func:`paper_reference`
shows their numbers as references only. The EchoNet tables (X, XII) are run here, on the
EchoNet phantom or, with a ``data_root``, on EchoNet-Dynamic: every row is a
:class:`~supremix.experiments.sweep.Variant` of one :func:`~supremix.experiments.sweep.run_sweep`
(settings of :func:`supremix.studies.study_config`, plus ``gamma_con`` = 0.75, seed 003
Table XI's best and its EchoNet code's value). A run two rows share (Table X's "MSE + AdaCon"
is Table XII's "AdaCon (multi-task)"; Table X's "MSE" is Table XII's regression baseline) is
trained once.

**Settings.** With a ``data_root`` the runs use AdaCon's own EchoNet recipe, preset
``echonet-adacon`` (:data:`supremix.train.presets.ADACON_ECHONET`: SGD with momentum 0.9, lr
1e-4, 45 epochs with the rate divided by 10 every 15, batch 20), because these are AdaCon's
tables; ``preset="echonet"`` gives the SupReMix paper's EchoNet settings instead. AdaCon's
loss runs at its code's scale s = 150 (``temperature`` 1/150) in every AdaCon row, the scale
``gamma_con`` = 0.75 was tuned at (the loss at s = 1 is 150 times weaker against the regression
loss). AdaCon starts from Kinetics-400 weights; ``kinetics=True`` loads torchvision's
``R2Plus1D_18_Weights.KINETICS400_V1`` (a download; the paper-size encoder only), off by
default. Two-stage rows keep one learning rate for both stages (AdaCon §IV-B6 fine-tunes at
1e-5 after pretraining at 1e-4).

Seed 003 prints R² in percent; so do :meth:`AdaConSchemes.beside_paper`,
:meth:`AdaConSchemes.arms` and :func:`paper_reference` (``"R2 (%)"``), for this run's numbers
as for the paper's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from supremix.analysis.figure import report_figure
from supremix.paper import DATASETS, canonical_method, paper_results, reference_label
from supremix.reporting import run_label

from .sweep import PaperRow, Sweep, Variant, run_sweep

SEED = 3
#: The dataset the runnable tables report (EchoNet-Dynamic, LVEF in %).
DATASET = "echonet"
#: Seed 003's EchoNet tables: regression losses (X) and training schemes (XII).
LOSS_TABLE = "Table X"
SCHEME_TABLE = "Table XII"
TABLES = (LOSS_TABLE, SCHEME_TABLE)
#: Table VIII: AdaCon against Ouyang et al.'s EchoNet (its R(2+1)D-18 with MSE, i.e. the
#: regression baseline). Runnable on request (``tables``); it shares both runs with Table X.
SOTA_TABLE = "Table VIII"
#: The BMD tables (in-house data: references only), each the counterpart of an EchoNet table.
BMD_TABLES = {"Table III": LOSS_TABLE, "Table V": SCHEME_TABLE}
#: Metrics seed 003 reports in these tables (R² printed in percent).
METRICS = ("MAE", "RMSE", "R2")
#: Huber's δ in label units (seed 003 §IV-A4: 0.05 g/cm² for BMD; §IV-B4: 4 % for LVEF).
HUBER_DELTA = {"bmd": 0.05, "echonet": 4.0}
#: The preset of a run on the real data: AdaCon's own EchoNet recipe.
PAPER_PRESET = "echonet-adacon"
#: AdaCon's loss scale s = 1/t of its code (gamma_con was tuned at it), set in every AdaCon row.
ADACON_LOSS: dict[str, Any] = {"temperature": 1.0 / 150.0}
#: What ``kinetics=True`` adds: torchvision's Kinetics-400 weights for the R(2+1)D-18 encoder.
KINETICS: dict[str, Any] = {"encoder_kwargs": {"pretrained": True}}
#: gamma_con of every multi-task run: seed 003 Table XI's best on EchoNet (its code's value).
GAMMA_CON = 0.75
#: Seed 003's training schemes and the protocols that implement them.
SCHEMES = {"two-stage": "finetune", "multi-task": "multitask"}
#: Table XII's representation losses, in the table's order.
SCHEME_METHODS = ("npair", "supcon", "triplet", "adacon")
#: Every training method of the experiment (what ``methods`` may select).
EXPERIMENT_METHODS = ("vanilla", *SCHEME_METHODS)
#: Table X's regression losses: (``TrainConfig.regression_loss``, the seed's name), in order.
REGRESSION_LOSSES = (("l1", "L1"), ("huber", "Huber"), ("mse", "MSE"))
#: The regression loss of seed 003's EchoNet runs (§IV-B1), hence of Table XII.
SCHEME_REGRESSION_LOSS = "mse"

WITHOUT_ADACON, WITH_ADACON = "without AdaCon", "with AdaCon"
#: The two arms each table compares, in the order the figure and :meth:`arms` show them.
ARMS = {
    LOSS_TABLE: (WITHOUT_ADACON, WITH_ADACON),
    SCHEME_TABLE: tuple(SCHEMES),
    SOTA_TABLE: (WITHOUT_ADACON, WITH_ADACON),
}
#: Label of Table XII's regression baseline (MSE alone; no row of Table XII, seed 003 Table IX).
BASELINE = "Regression (MSE)"


@dataclass(frozen=True)
class SchemeRow:
    """One row of Table X or XII: its :class:`Variant` (label, overrides, paper row), the
    training ``method``, and its place in the comparison: the ``group`` it belongs to (a
    regression loss, or a representation loss) and its ``arm`` in that group (one of
    :data:`ARMS`; ``""`` for the regression baseline shown beside Table XII)."""

    variant: Variant
    method: str
    group: str
    arm: str

    @property
    def label(self) -> str:
        return self.variant.label


def _regression(kind: str) -> dict[str, Any]:
    changes: dict[str, Any] = {"regression_loss": kind}
    if kind == "huber":
        changes["huber_delta"] = HUBER_DELTA[DATASET]
    return changes


def loss_rows() -> tuple[SchemeRow, ...]:
    """Table X: each regression loss alone (Vanilla) and with AdaCon multi-task."""
    rows = []
    for kind, name in REGRESSION_LOSSES:
        setting = f"δ={HUBER_DELTA[DATASET]:g}" if kind == "huber" else ""
        label = f"{name} (δ = {HUBER_DELTA[DATASET]:g})" if kind == "huber" else name
        plain = Variant(
            label,
            {"method": "vanilla", **_regression(kind)},
            PaperRow(f"{name} regression", setting),
        )
        adacon = Variant(
            f"{label} + AdaCon",
            {"method": "adacon", "protocol": "multitask", **_regression(kind), **ADACON_LOSS},
            PaperRow(f"{name} regression + AdaCon", setting),
        )
        rows += [
            SchemeRow(plain, "vanilla", label, WITHOUT_ADACON),
            SchemeRow(adacon, "adacon", label, WITH_ADACON),
        ]
    return tuple(rows)


def scheme_rows() -> tuple[SchemeRow, ...]:
    """Table XII: each representation loss two-stage and multi-task (MSE regression), then the
    MSE regression baseline (no row of Table XII; seed 003 compares with it in the text)."""
    rows = []
    for method in SCHEME_METHODS:
        name = canonical_method(method)
        for scheme, protocol in SCHEMES.items():
            variant = Variant(
                f"{name} ({scheme})",
                {
                    "method": method,
                    "protocol": protocol,
                    **_regression(SCHEME_REGRESSION_LOSS),
                    **(ADACON_LOSS if method == "adacon" else {}),
                },
                PaperRow(name, scheme),
            )
            rows.append(SchemeRow(variant, method, name, scheme))
    baseline = Variant(BASELINE, {"method": "vanilla", **_regression(SCHEME_REGRESSION_LOSS)})
    rows.append(SchemeRow(baseline, "vanilla", BASELINE, ""))
    return tuple(rows)


def sota_rows() -> tuple[SchemeRow, ...]:
    """Table VIII: Ouyang et al.'s model (R(2+1)D-18 regressed with MSE: a Vanilla run) and
    AdaCon multi-task with MSE; the same runs as Table X's "MSE" and "MSE + AdaCon"."""
    mse = _regression(SCHEME_REGRESSION_LOSS)
    group = "R(2+1)D-18, MSE"
    return (
        SchemeRow(
            Variant("Ouyang et al.", {"method": "vanilla", **mse}, PaperRow("Ouyang et al.")),
            "vanilla",
            group,
            WITHOUT_ADACON,
        ),
        SchemeRow(
            Variant(
                "AdaCon",
                {"method": "adacon", "protocol": "multitask", **mse, **ADACON_LOSS},
                PaperRow("AdaCon"),
            ),
            "adacon",
            group,
            WITH_ADACON,
        ),
    )


#: The rows of each runnable table.
ROWS: dict[str, tuple[SchemeRow, ...]] = {
    LOSS_TABLE: loss_rows(),
    SCHEME_TABLE: scheme_rows(),
    SOTA_TABLE: sota_rows(),
}


def select_rows(
    tables: Sequence[str] = TABLES, methods: Sequence[str] | None = None
) -> dict[str, list[SchemeRow]]:
    """The rows to run of each of ``tables``: all, or those whose training method is in
    ``methods`` (some of :data:`EXPERIMENT_METHODS`)."""
    tables = list(tables)
    unknown = [t for t in tables if t not in ROWS]
    if unknown or not tables:
        bmd = [t for t in unknown if t in BMD_TABLES]
        hint = f" ({', '.join(bmd)}: BMD, references only: paper_reference)" if bmd else ""
        raise ValueError(
            f"unknown or no tables {unknown or tables}{hint}; expected some of {', '.join(ROWS)}"
        )
    if methods is not None:
        methods = list(methods)
        wrong = [m for m in methods if m not in EXPERIMENT_METHODS]
        if wrong or not methods:
            raise ValueError(
                f"unknown or no methods {wrong or methods}; expected some of "
                f"{', '.join(EXPERIMENT_METHODS)}"
            )
    selected = {}
    for table in dict.fromkeys(tables):
        rows = [r for r in ROWS[table] if methods is None or r.method in methods]
        if not any(r.arm for r in rows):
            raise ValueError(f"methods {methods} select no row of seed 003 {table}")
        selected[table] = rows
    return selected


def _run_key(variant: Variant) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(variant.overrides.items()))


def distinct_variants(rows: Mapping[str, Sequence[SchemeRow]]) -> list[Variant]:
    """One variant per distinct configuration among ``rows``, labelled by the first row that
    needs it (so a run shared by two tables is trained once)."""
    variants: dict[tuple[tuple[str, Any], ...], Variant] = {}
    for table_rows in rows.values():
        for row in table_rows:
            variants.setdefault(_run_key(row.variant), row.variant)
    return list(variants.values())


def paper_reference(table: str) -> pd.DataFrame:
    """Seed 003's ``table`` as printed (any of Tables III, V, X, XII): one row per (printed
    label, setting) in the table's order, columns ``MAE``, ``RMSE`` and ``R2 (%)``; the column
    axis names the source. Tables III and V are BMD (g/cm²) on an in-house dataset:
    references, never reproduced here."""
    if table not in (*BMD_TABLES, *TABLES):
        raise ValueError(
            f"no table {table!r} in this experiment; expected one of "
            f"{', '.join([*BMD_TABLES, *TABLES])}"
        )
    numbers = paper_results(seed=SEED, table=table)
    order = list(dict.fromkeys(zip(numbers["label"], numbers["setting"], strict=True)))
    wide = numbers.pivot(index=["label", "setting"], columns="metric", values="value")
    wide = wide.reindex(pd.MultiIndex.from_tuples(order, names=["row", "setting"]))
    wide = wide[list(METRICS)].rename(columns={"R2": "R2 (%)"})
    wide.columns.name = f"paper ({reference_label(SEED, table)})"
    return wide


@dataclass
class AdaConSchemes:
    """The runs of :func:`run_adacon_schemes` and the views the notebook shows.

    ``sweep`` holds every distinct run, labelled by the first row needing it; ``rows`` the
    rows of each table run. :meth:`table_sweep` is the :class:`Sweep` of one table, every row
    under its own label.
    """

    sweep: Sweep
    rows: dict[str, list[SchemeRow]]

    @property
    def tables(self) -> list[str]:
        return list(self.rows)

    def _rows(self, table: str) -> list[SchemeRow]:
        if table not in self.rows:
            raise KeyError(f"{table} was not run; tables run: {', '.join(self.tables)}")
        return self.rows[table]

    def table_sweep(self, table: str) -> Sweep:
        """The sweep of ``table``: its rows as variants, each with the runs of its
        configuration relabelled to the row."""
        rows = self._rows(table)
        owner = {_run_key(v): v.label for v in self.sweep.variants}
        runs = [
            dataclasses.replace(run, label=row.label)
            for row in rows
            for run in self.sweep.variant_runs(owner[_run_key(row.variant)])
        ]
        return dataclasses.replace(self.sweep, variants=[r.variant for r in rows], runs=runs)

    def beside_paper(self, table: str, *, mean_predictor: bool = True) -> pd.DataFrame:
        """Mean and std over seeds of MAE, RMSE and R² beside seed 003's ``table``; R² of
        both in percent (metric ``"R2 (%)"``), as the seed prints it."""
        frame = self.table_sweep(table).beside_paper(
            SEED, table, metrics=METRICS, mean_predictor=mean_predictor
        )
        ours = run_label(self.sweep.data_kind)
        r2 = frame.index.get_level_values("metric") == "R2"
        frame.loc[r2, [ours, f"{ours} std"]] *= 100.0
        return frame.rename(index={"R2": "R2 (%)"}, level="metric")

    def arms(self, table: str, metric: str = "MAE") -> pd.DataFrame:
        """Per group of ``table`` (a regression loss, or a representation loss) with both arms
        run: this run's mean ``metric`` of each arm (:data:`ARMS`), ``difference`` (second
        minus first), the paired t-test of the two arms' per-item absolute errors (``p``,
        ``stars``; seed-averaged errors), and the paper's two numbers and difference. R² in
        percent."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
        first, second = ARMS[table]
        sweep = self.table_sweep(table)
        means = sweep.table([metric])[metric] * (100.0 if metric == "R2" else 1.0)
        paper = sweep.paper_numbers(SEED, table)
        paper = paper[paper["metric"] == metric].set_index("variant")["value"]
        source = f"paper ({reference_label(SEED, table)})"
        ours = run_label(self.sweep.data_kind)
        by_group: dict[str, dict[str, str]] = {}
        for row in self._rows(table):
            if row.arm:
                by_group.setdefault(row.group, {})[row.arm] = row.label
        records = []
        for group, labels in by_group.items():
            if set(labels) != {first, second}:
                continue
            a, b = labels[first], labels[second]
            test = sweep.paired_test(b, a)
            records.append(
                {
                    "group": group,
                    f"{ours} {first}": means[a],
                    f"{ours} {second}": means[b],
                    f"{ours} difference": means[b] - means[a],
                    "p": test.p,
                    "stars": test.stars,
                    f"{source} {first}": paper[a],
                    f"{source} {second}": paper[b],
                    f"{source} difference": paper[b] - paper[a],
                }
            )
        if not records:
            raise ValueError(f"no group of {table} has both arms ({first}, {second}) run")
        return pd.DataFrame(records).set_index("group")

    def describe(self, table: str, metric: str = "MAE") -> str:
        """A Markdown paragraph: in how many groups the second arm beat the first on this run
        and in the paper, computed from the numbers."""
        arms = self.arms(table, metric)
        ours = run_label(self.sweep.data_kind)
        source = f"paper ({reference_label(SEED, table)})"
        higher = metric == "R2"
        better = arms[f"{ours} difference"] > 0 if higher else arms[f"{ours} difference"] < 0
        paper_better = (
            arms[f"{source} difference"] > 0 if higher else arms[f"{source} difference"] < 0
        )
        significant = better & (arms["p"] < 0.05)
        what = {LOSS_TABLE: "regression losses", SCHEME_TABLE: "representation losses"}.get(
            table, "comparisons"
        )
        change = "multi-task training (vs two-stage)" if table == SCHEME_TABLE else "adding AdaCon"
        n = len(arms)
        parts = [
            f"On this run ({self.sweep.data_kind}, {len(self.sweep.seeds)} seed(s), "
            f"{self.sweep.targets.size} {self.sweep.eval_split} items), {change} improved "
            f"{metric} for {int(better.sum())} of {n} {what}"
            + (f" ({', '.join(arms.index[better])})" if better.any() else "")
            + f", significantly (paired t-test, p < 0.05) for {int(significant.sum())}; in "
            f"seed 003 {table} it improved {metric} for {int(paper_better.sum())} of {n}."
        ]
        if len(self.sweep.seeds) < 2:
            parts.append("With one seed there is no spread over seeds to judge differences by.")
        if self.sweep.data_kind == "phantom":
            parts.append("These are phantom numbers: they do not reproduce the paper.")
        return " ".join(parts)

    def summary(self, *, notes: str = "") -> dict[str, Any]:
        """Every distinct run as a :mod:`supremix.reporting` results summary (R² as a
        fraction, as in every results file)."""
        return self.sweep.summary(notes=notes, experiment="adacon_schemes")


def run_adacon_schemes(
    *,
    tables: Sequence[str] = TABLES,
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    preset: str | None = None,
    epochs: int | None = None,
    probe_epochs: int | None = None,
    batch_size: int | None = None,
    data_root: str | Path | None = None,
    device: str = "auto",
    smoke: bool = False,
    overrides: Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    cpu_threads: int | None = 1,
    kinetics: bool = False,
) -> AdaConSchemes:
    """Train the rows of ``tables`` (Tables X and XII; those of ``methods`` only, see
    :func:`select_rows`) on EchoNet: the phantom, or the real data under ``data_root``.

    Every distinct configuration is trained once per seed by
    :func:`~supremix.experiments.sweep.run_sweep` with ``gamma_con`` = :data:`GAMMA_CON` and
    ``overrides``; the other arguments are run_sweep's. Two-stage runs pretrain for ``epochs``
    and fine-tune for ``probe_epochs``; multi-task and Vanilla runs train for ``epochs``.
    ``preset`` ``None`` is :data:`PAPER_PRESET` with a ``data_root`` (else ``echonet-cpu``);
    ``kinetics`` starts the encoder from Kinetics-400 weights (:data:`KINETICS`).
    """
    rows = select_rows(tables, methods)
    if preset is None and data_root is not None:
        preset = PAPER_PRESET
    extra = dict(KINETICS) if kinetics else {}
    sweep = run_sweep(
        DATASET,
        distinct_variants(rows),
        seeds=seeds,
        preset=preset,
        epochs=epochs,
        probe_epochs=probe_epochs,
        batch_size=batch_size,
        data_root=data_root,
        device=device,
        smoke=smoke,
        overrides={"gamma_con": GAMMA_CON, **extra, **dict(overrides or {})},
        out_dir=out_dir,
        cpu_threads=cpu_threads,
    )
    return AdaConSchemes(sweep=sweep, rows=rows)


def adacon_schemes_figure(result: AdaConSchemes, metric: str = "MAE") -> Figure:
    """One column per table run: this run's ``metric`` per group and arm (bars: mean over
    seeds, whiskers: sample sd) above the paper's numbers for the same rows; in this run's
    panels the regression baseline of Table XII is a dashed line and predicting the training
    mean a dotted one. R² in percent."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    tables = result.tables
    figure = report_figure(figsize=(5.2 * len(tables), 6.4), layout="constrained")
    axes = figure.subplots(2, len(tables), squeeze=False)
    unit = "%" if metric == "R2" else DATASETS[DATASET][1]
    scale = 100.0 if metric == "R2" else 1.0
    colours = ("tab:gray", "tab:blue")
    for column, table in enumerate(tables):
        sweep = result.table_sweep(table)
        means = sweep.table([metric])
        paper = sweep.paper_numbers(SEED, table)
        paper = paper[paper["metric"] == metric].set_index("variant")["value"]
        rows = result.rows[table]
        groups = list(dict.fromkeys(r.group for r in rows if r.arm))
        for line, (ax, title) in enumerate(
            zip(
                axes[:, column],
                (run_label(sweep.data_kind), f"paper ({reference_label(SEED, table)})"),
                strict=True,
            )
        ):
            for offset, (arm, colour) in enumerate(zip(ARMS[table], colours, strict=True)):
                labels = {r.group: r.label for r in rows if r.arm == arm}
                x = [i + (offset - 0.5) * 0.38 for i, g in enumerate(groups) if g in labels]
                names = [labels[g] for g in groups if g in labels]
                if line == 0:
                    heights = [means.loc[n, metric] * scale for n in names]
                    errors = [means.loc[n, f"{metric} std"] * scale for n in names]
                    errors = None if all(math.isnan(e) for e in errors) else errors
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
