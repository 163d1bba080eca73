"""AdaCon's EchoNet tables as data: the rows of Tables VIII, X, XI, XII and XIII, each a
:class:`~supremix.experiments.sweep.Variant` of one sweep, and the BMD tables (III, V) as
references (:func:`paper_reference`). :mod:`supremix.experiments.adacon_schemes` runs them.

* **Table X** (regression losses): L1, Huber (δ = 4 LVEF points, AdaCon §IV-B4) and MSE, each
  alone (Vanilla) and with AdaCon multi-task.
* **Table XI** (the contrastive weight): AdaCon multi-task with MSE at ``gamma_con`` = 0.50,
  0.75 and 1.00 (AdaCon §IV-B5; ``gamma_reg`` = 1 as in eq. (8)). The 0.75 row is Table X's
  "MSE + AdaCon" (:data:`GAMMA_CON` is every other multi-task row's weight).
* **Table XII** (training schemes): the N-pair loss, SupCon, the adaptive triplet loss and
  AdaCon, two-stage (``protocol="finetune"``) and multi-task, with MSE. Two-stage rows follow
  AdaCon §IV-B6: fine-tuning starts 10 times lower than pretraining (``probe_lr_factor`` =
  :data:`FINETUNE_LR_FACTOR`: 1e-5 after 1e-4) and, with AdaCon's own preset,
  :data:`TWO_STAGE_SCHEDULE` (25 + 25 epochs, the rate divided by 10 at epochs 10 and 20).
* **Table VIII** (against Ouyang et al.'s EchoNet model, R(2+1)D-18 regressed with MSE: a
  Vanilla run) and **Table XIII** (the same two models evaluated on CAMUS, by image quality,
  AdaCon §IV-B7): the runs of Table X's "MSE" and "MSE + AdaCon".

A run several rows share is trained once (:func:`distinct_variants`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from supremix.paper import canonical_method, paper_results, reference_label

from .sweep import PaperRow, Variant, known_choices

#: The paper whose tables these rows reproduce (a key of :data:`~supremix.paper.PAPERS`).
PAPER = "adacon"
#: The dataset the runnable tables report (EchoNet-Dynamic, LVEF in %).
DATASET = "echonet"
#: AdaCon's EchoNet tables run by default: regression losses (X) and training schemes (XII).
LOSS_TABLE = "Table X"
SCHEME_TABLE = "Table XII"
TABLES = (LOSS_TABLE, SCHEME_TABLE)
#: Table VIII: AdaCon against Ouyang et al.'s EchoNet (its R(2+1)D-18 with MSE, i.e. the
#: regression baseline). Runnable on request (``tables``); it shares both runs with Table X.
SOTA_TABLE = "Table VIII"
#: Table XI: AdaCon multi-task (MSE) at three contrastive weights. Runnable on request.
GAMMA_TABLE = "Table XI"
#: Table XI's contrastive weights gamma_con (gamma_reg = 1), in the table's order.
GAMMA_CONS = (0.50, 0.75, 1.00)
#: Table XIII: Table VIII's two EchoNet-trained models evaluated on CAMUS (AdaCon §IV-B7).
CAMUS_TABLE = "Table XIII"
#: The setting column of Table XIII in :mod:`supremix.paper`.
CAMUS_SETTING = "trained on EchoNet-Dynamic; evaluated on the CAMUS 4-chamber training sequences"
#: The BMD tables (in-house data: references only), each the counterpart of an EchoNet table.
BMD_TABLES = {"Table III": LOSS_TABLE, "Table V": SCHEME_TABLE}
#: Metrics the AdaCon paper reports in these tables (R² printed in percent).
METRICS = ("MAE", "RMSE", "R2")
#: Huber's δ in label units (the AdaCon paper, §IV-A4: 0.05 g/cm² for BMD; §IV-B4: 4 % for LVEF).
HUBER_DELTA = {"bmd": 0.05, "echonet": 4.0}
#: The preset of a run on the real data: AdaCon's own EchoNet recipe.
PAPER_PRESET = "echonet-adacon"
#: AdaCon's loss scale s = 1/t of its code (gamma_con was tuned at it), set in every AdaCon row.
ADACON_LOSS: dict[str, Any] = {"temperature": 1.0 / 150.0}
#: What ``kinetics=True`` adds: torchvision's Kinetics-400 weights for the R(2+1)D-18 encoder.
KINETICS: dict[str, Any] = {"encoder_kwargs": {"pretrained": True}}
# gamma_con of every multi-task run: the AdaCon paper's Table XI's best on EchoNet (its code's
# value).
GAMMA_CON = 0.75
#: The AdaCon paper's training schemes and the protocols that implement them.
SCHEMES = {"two-stage": "finetune", "multi-task": "multitask"}
#: Fine-tuning's learning rate against pretraining's in AdaCon's two-stage runs: 1e-5 after
#: 1e-4 on EchoNet (§IV-B6), 1e-3 after 1e-2 on BMD (§IV-A6).
FINETUNE_LR_FACTOR = 0.1
#: AdaCon's EchoNet two-stage schedule (§IV-B6): 25 epochs of pretraining and 25 of
#: fine-tuning, each stage's rate divided by 10 at epochs 10 and 20. Set on the two-stage rows
#: of a run with :data:`PAPER_PRESET` and the preset's epochs (:func:`with_two_stage_schedule`).
TWO_STAGE_SCHEDULE: dict[str, Any] = {"epochs": 25, "probe_epochs": 25, "lr_decay_every": 10}
#: Table XII's representation losses, in the table's order.
SCHEME_METHODS = ("npair", "supcon", "triplet", "adacon")
#: Every training method of the experiment (what ``methods`` may select).
EXPERIMENT_METHODS = ("vanilla", *SCHEME_METHODS)
#: Table X's regression losses: (``TrainConfig.regression_loss``, the paper's name), in order.
REGRESSION_LOSSES = (("l1", "L1"), ("huber", "Huber"), ("mse", "MSE"))
#: The regression loss of the AdaCon paper's EchoNet runs (§IV-B1), hence of Table XII.
SCHEME_REGRESSION_LOSS = "mse"

WITHOUT_ADACON, WITH_ADACON = "without AdaCon", "with AdaCon"
#: The two arms each table compares, in the order the figure and :meth:`arms` show them.
ARMS = {
    LOSS_TABLE: (WITHOUT_ADACON, WITH_ADACON),
    SCHEME_TABLE: tuple(SCHEMES),
    SOTA_TABLE: (WITHOUT_ADACON, WITH_ADACON),
}
#: The arm of every Table XI row (one scheme, three weights: no pair of arms to compare).
MULTI_TASK = "multi-task"
# Label of Table XII's regression baseline (MSE alone; no row of Table XII, the AdaCon paper's Table
# IX).
BASELINE = "Regression (MSE)"


@dataclass(frozen=True)
class SchemeRow:
    """One row of a table: its :class:`Variant` (label, overrides, paper row), the training
    ``method``, and its place in the comparison: the ``group`` it belongs to (a regression
    loss, a representation loss, a weight) and its ``arm`` in that group (one of :data:`ARMS`,
    :data:`MULTI_TASK` in Table XI; ``""`` for the regression baseline shown beside Table
    XII)."""

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
    """Table XII: each representation loss two-stage (fine-tuning at :data:`FINETUNE_LR_FACTOR`
    times the pretraining rate) and multi-task (MSE regression), then the MSE regression
    baseline (no row of Table XII; the AdaCon paper compares with it in the text)."""
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
                    **({"probe_lr_factor": FINETUNE_LR_FACTOR} if protocol == "finetune" else {}),
                },
                PaperRow(name, scheme),
            )
            rows.append(SchemeRow(variant, method, name, scheme))
    baseline = Variant(BASELINE, {"method": "vanilla", **_regression(SCHEME_REGRESSION_LOSS)})
    rows.append(SchemeRow(baseline, "vanilla", BASELINE, ""))
    return tuple(rows)


def sota_rows(setting: str = "") -> tuple[SchemeRow, ...]:
    """Table VIII: Ouyang et al.'s model (R(2+1)D-18 regressed with MSE: a Vanilla run) and
    AdaCon multi-task with MSE; the same runs as Table X's "MSE" and "MSE + AdaCon". With the
    ``setting`` :data:`CAMUS_SETTING`, Table XIII's rows (the same runs)."""
    mse = _regression(SCHEME_REGRESSION_LOSS)
    group = "R(2+1)D-18, MSE"
    return (
        SchemeRow(
            Variant(
                "Ouyang et al.",
                {"method": "vanilla", **mse},
                PaperRow("Ouyang et al.", setting),
            ),
            "vanilla",
            group,
            WITHOUT_ADACON,
        ),
        SchemeRow(
            Variant(
                "AdaCon",
                {"method": "adacon", "protocol": "multitask", **mse, **ADACON_LOSS},
                PaperRow("AdaCon", setting),
            ),
            "adacon",
            group,
            WITH_ADACON,
        ),
    )


def gamma_rows() -> tuple[SchemeRow, ...]:
    """Table XI: AdaCon multi-task with MSE at each of :data:`GAMMA_CONS` (gamma_reg = 1). The
    row at :data:`GAMMA_CON` is the run of Table X's "MSE + AdaCon"."""
    mse = _regression(SCHEME_REGRESSION_LOSS)
    rows = []
    for gamma in GAMMA_CONS:
        overrides = {"method": "adacon", "protocol": "multitask", **mse, **ADACON_LOSS}
        variant = Variant(
            f"γ_con = {gamma:.2f}",
            {**overrides, "gamma_con": gamma},
            PaperRow("AdaCon", f"γ_reg=1, γ_con={gamma:.2f}"),
        )
        rows.append(SchemeRow(variant, "adacon", f"γ_con = {gamma:.2f}", MULTI_TASK))
    return tuple(rows)


#: The rows of each runnable table.
ROWS: dict[str, tuple[SchemeRow, ...]] = {
    LOSS_TABLE: loss_rows(),
    SCHEME_TABLE: scheme_rows(),
    SOTA_TABLE: sota_rows(),
    GAMMA_TABLE: gamma_rows(),
    CAMUS_TABLE: sota_rows(CAMUS_SETTING),
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
        methods = known_choices("method", methods, EXPERIMENT_METHODS)
    selected = {}
    for table in dict.fromkeys(tables):
        rows = [r for r in ROWS[table] if methods is None or r.method in methods]
        if not any(r.arm for r in rows):
            raise ValueError(f"methods {methods} select no row of the AdaCon paper's {table}")
        selected[table] = rows
    return selected


def run_key(variant: Variant) -> tuple[tuple[str, Any], ...]:
    """What a variant's run computes: its overrides, ``gamma_con`` dropped where it is the
    sweep's :data:`GAMMA_CON` (Table XI's 0.75 row is Table X's "MSE + AdaCon")."""
    overrides = dict(variant.overrides)
    if overrides.get("gamma_con") == GAMMA_CON:
        del overrides["gamma_con"]
    return tuple(sorted(overrides.items()))


def with_two_stage_schedule(
    rows: Mapping[str, Sequence[SchemeRow]],
) -> dict[str, list[SchemeRow]]:
    """``rows`` with :data:`TWO_STAGE_SCHEDULE` added to every two-stage row (AdaCon §IV-B6's
    25 + 25 epochs); the other rows are unchanged."""
    scheduled: dict[str, list[SchemeRow]] = {}
    for table, table_rows in rows.items():
        scheduled[table] = [
            replace(
                row,
                variant=replace(
                    row.variant, overrides={**row.variant.overrides, **TWO_STAGE_SCHEDULE}
                ),
            )
            if row.variant.overrides.get("protocol") == "finetune"
            else row
            for row in table_rows
        ]
    return scheduled


def distinct_variants(rows: Mapping[str, Sequence[SchemeRow]]) -> list[Variant]:
    """One variant per distinct configuration among ``rows``, labelled by the first row that
    needs it (so a run shared by two tables is trained once)."""
    variants: dict[tuple[tuple[str, Any], ...], Variant] = {}
    for table_rows in rows.values():
        for row in table_rows:
            variants.setdefault(run_key(row.variant), row.variant)
    return list(variants.values())


def paper_reference(table: str) -> pd.DataFrame:
    """AdaCon's ``table`` as printed (Tables III and V, or any of :data:`ROWS`): one row per
    (printed label, setting[, subset: Table XIII's quality classes]) in the table's order,
    columns ``MAE``, ``RMSE`` and ``R2 (%)``; the column axis names the source. Tables III
    and V are BMD (g/cm²) on an in-house dataset: references, never reproduced here."""
    if table not in (*BMD_TABLES, *ROWS):
        raise ValueError(
            f"no table {table!r} in this experiment; expected one of "
            f"{', '.join([*BMD_TABLES, *ROWS])}"
        )
    numbers = paper_results(PAPER, table=table)
    keys = ["label", "setting"] + (["subset"] if numbers["subset"].ne("").any() else [])
    order = list(dict.fromkeys(zip(*(numbers[k] for k in keys), strict=True)))
    wide = numbers.pivot(index=keys, columns="metric", values="value")
    names = ["row", *keys[1:]]
    wide = wide.reindex(pd.MultiIndex.from_tuples(order, names=names))
    wide = wide[list(METRICS)].rename(columns={"R2": "R2 (%)"})
    wide.columns.name = f"paper ({reference_label(PAPER, table)})"
    return wide
