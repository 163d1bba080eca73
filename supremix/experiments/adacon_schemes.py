"""AdaCon's training schemes, regression losses and contrastive weight, and its external
validation on CAMUS (AdaCon Tables III, V, VIII, X, XI, XII and XIII).

AdaCon trains its contrastive branch together with the regression branch,
``L = L_reg + gamma_con L_con`` (eq. (8), "multi-task"), and checks its choices on both of its
datasets:

* **Regression losses** (Tables III for BMD, X for EchoNet LVEF): L1, Huber and MSE, each
  alone (Vanilla) and with AdaCon multi-task. Huber's δ is in label units: 0.05 g/cm² for BMD,
  4 % for LVEF, "close to the MAE of our regression baselines" (§IV-A4, §IV-B4).
* **The contrastive weight** (Table XI): ``gamma_con`` = 0.50, 0.75, 1.00 with MSE.
* **Training schemes** (Tables V and XII): the N-pair loss, SupCon, the adaptive triplet loss
  and AdaCon, each trained two-stage (contrastive pretraining, then fine-tuning the whole
  network with the regression loss: ``protocol="finetune"``) and multi-task
  (``protocol="multitask"``), with the regression loss of the dataset's main runs (MSE for
  EchoNet, §IV-B1).
* **Against Ouyang et al.** (Table VIII), and the same two models on CAMUS by image quality
  (Table XIII, :mod:`supremix.experiments.adacon_camus`).

The rows are data (:mod:`supremix.experiments.adacon_rows`). The BMD tables (III, V) are of an
in-house dataset we do not have: :func:`paper_reference` shows their numbers as references
only. The EchoNet tables are run here, on the EchoNet phantom or, with a ``data_root``, on
EchoNet-Dynamic: every row is a :class:`~supremix.experiments.sweep.Variant` of one
:func:`~supremix.experiments.sweep.run_sweep` (settings of
:func:`supremix.studies.study_config`, plus ``gamma_con`` = 0.75, Table XI's best and
AdaCon's EchoNet code's value, except in Table XI's other rows). A run several rows share
(Table X's "MSE + AdaCon" is Table XII's "AdaCon (multi-task)", Table XI's 0.75 row and
Table VIII's and XIII's "AdaCon") is trained once.

**Settings.** With a ``data_root`` the runs use AdaCon's own EchoNet recipe, preset
``echonet-adacon`` (:data:`supremix.train.presets.ADACON_ECHONET`: SGD with momentum 0.9, lr
1e-4, 45 epochs with the rate divided by 10 every 15, batch 20), because these are AdaCon's
tables; ``preset="echonet"`` gives the SupReMix paper's EchoNet settings instead. AdaCon's
loss runs at its code's scale s = 150 (``temperature`` 1/150) in every AdaCon row, the scale
``gamma_con`` = 0.75 was tuned at (the loss at s = 1 is 150 times weaker against the regression
loss). AdaCon starts from Kinetics-400 weights; ``kinetics=True`` loads torchvision's
``R2Plus1D_18_Weights.KINETICS400_V1`` (a download; the paper-size encoder only), off by
default. Two-stage rows fine-tune at a tenth of the pretraining rate (AdaCon §IV-B6: 1e-5
after 1e-4; ``probe_lr_factor``) under every preset, and with AdaCon's preset (and its epochs)
follow §IV-B6's schedule, 25 + 25 epochs with the rate divided by 10 at epochs 10 and 20.

AdaCon prints R² in percent; so do :meth:`AdaConSchemes.beside_paper`,
:meth:`AdaConSchemes.arms` and :func:`paper_reference` (``"R2 (%)"``), for this run's numbers
as for the paper's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supremix.paper import HIGHER_IS_BETTER, reference_label
from supremix.reporting import run_label

from .adacon_camus import camus_sweep
from .adacon_figure import adacon_schemes_figure
from .adacon_rows import (
    ARMS,
    BASELINE,
    BMD_TABLES,
    CAMUS_TABLE,
    DATASET,
    GAMMA_CON,
    GAMMA_TABLE,
    KINETICS,
    LOSS_TABLE,
    METRICS,
    PAPER,
    PAPER_PRESET,
    ROWS,
    SCHEME_TABLE,
    SOTA_TABLE,
    TABLES,
    SchemeRow,
    distinct_variants,
    paper_reference,
    run_key,
    select_rows,
    with_two_stage_schedule,
)
from .run_facts import data_words
from .settings import RunSettings
from .sweep import Sweep, run_sweep

__all__ = [
    "BASELINE",
    "BMD_TABLES",
    "CAMUS_TABLE",
    "GAMMA_CON",
    "GAMMA_TABLE",
    "LOSS_TABLE",
    "ROWS",
    "SCHEME_TABLE",
    "SOTA_TABLE",
    "TABLES",
    "AdaConSchemes",
    "adacon_schemes_figure",
    "distinct_variants",
    "paper_reference",
    "run_adacon_schemes",
    "select_rows",
]


@dataclass
class AdaConSchemes:
    """The runs of :func:`run_adacon_schemes` and the views the notebook shows.

    ``sweep`` holds every distinct run, labelled by the first row needing it; ``rows`` the
    rows of each table run; ``camus`` Table XIII's rows evaluated on CAMUS where it was run.
    :meth:`table_sweep` is the :class:`Sweep` of one table, every row under its own label.
    """

    sweep: Sweep
    rows: dict[str, list[SchemeRow]]
    camus: Sweep | None = None
    camus_subsets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

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
        if table == CAMUS_TABLE and self.camus is not None:
            return self.camus
        owner = {run_key(v): v.label for v in self.sweep.variants}
        runs = [
            dataclasses.replace(run, label=row.label)
            for row in rows
            for run in self.sweep.variant_runs(owner[run_key(row.variant)])
        ]
        return dataclasses.replace(self.sweep, variants=[r.variant for r in rows], runs=runs)

    def beside_paper(self, table: str, *, mean_predictor: bool = True) -> pd.DataFrame:
        """Mean and std over seeds of MAE, RMSE and R² beside AdaCon's ``table``; R² of
        both in percent (metric ``"R2 (%)"``), as AdaCon prints it. Table XIII: on CAMUS, per
        quality class and overall (``subset``)."""
        sweep = self.table_sweep(table)
        subsets = None
        if table == CAMUS_TABLE:
            if self.camus is None:
                raise ValueError(f"{table} has no CAMUS evaluation in this result")
            subsets = self.camus_subsets
        frame = sweep.beside_paper(
            PAPER, table, metrics=METRICS, subsets=subsets, mean_predictor=mean_predictor
        )
        ours = run_label(sweep.data_kind)
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
        if table not in ARMS:
            raise ValueError(
                f"{table} compares no two arms; arms exist for {', '.join(ARMS)} "
                "(beside_paper shows every table)"
            )
        first, second = ARMS[table]
        sweep = self.table_sweep(table)
        means = sweep.table([metric])[metric] * (100.0 if metric == "R2" else 1.0)
        paper = sweep.paper_numbers(PAPER, table)
        paper = paper[paper["metric"] == metric].set_index("variant")["value"]
        source = f"paper ({reference_label(PAPER, table)})"
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

    def findings(self, metric: str = "MAE") -> pd.DataFrame:
        """One row per table run: the data its rows were evaluated on (``evaluated on``:
        EchoNet, or CAMUS for Table XIII) and how many ``items``; for a table of two arms
        (:meth:`arms`), the ``first arm`` and ``second arm``, the number of ``groups``, and in
        how many the second arm had the better mean ``metric`` on this run (``improved``), of
        those with paired t-test p < 0.05 (``significantly``), and in the paper (``improved in
        the paper``), with the groups it improved on this run (``improved groups``). The arm
        columns are empty for a table without two arms."""
        ours = f"{run_label(self.sweep.data_kind)} difference"
        records: dict[str, dict[str, str | int]] = {}
        for table in self.tables:
            sweep = self.table_sweep(table)
            place = "CAMUS" if table == CAMUS_TABLE else "EchoNet"
            records[table] = {
                "evaluated on": f"{place} ({sweep.data_kind})",
                "items": int(sweep.targets.size),
            }
            if table not in ARMS:
                continue
            arms = self.arms(table, metric)
            paper = arms[f"paper ({reference_label(PAPER, table)}) difference"]
            sign = 1.0 if metric in HIGHER_IS_BETTER else -1.0
            better = sign * arms[ours] > 0
            records[table] |= {
                "first arm": ARMS[table][0],
                "second arm": ARMS[table][1],
                "groups": len(arms),
                "improved": int(better.sum()),
                "significantly": int((better & (arms["p"] < 0.05)).sum()),
                "improved in the paper": int((sign * paper > 0).sum()),
                "improved groups": ", ".join(arms.index[better]),
            }
        frame = pd.DataFrame.from_dict(records, orient="index").rename_axis("table")
        counts = ("groups", "improved", "significantly", "improved in the paper")
        return frame.astype({c: "Int64" for c in counts if c in frame})

    def facts(self) -> dict[str, Any]:
        """What the notebook's prose states around :meth:`findings`, by name
        (:func:`supremix.notebook.glue_facts`): ``data`` ("phantom" or "real data") and the
        number of ``seeds``."""
        return {
            "data": data_words(self.sweep.data_kind),
            "seeds": len(self.sweep.seeds),
        }

    def summary(self, *, notes: str = "") -> dict[str, Any]:
        """Every distinct run as a :mod:`supremix.reporting` results summary (R² as a
        fraction, as in every results file)."""
        return self.sweep.summary(notes=notes, experiment="adacon_schemes")


def run_adacon_schemes(
    *,
    tables: Sequence[str] = TABLES,
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    settings: RunSettings | None = None,
    camus_root: str | Path | None = None,
    kinetics: bool = False,
    **changes: Any,
) -> AdaConSchemes:
    """Train the rows of ``tables`` (some of :data:`ROWS`; those of ``methods`` only, see
    :func:`select_rows`) on EchoNet: the phantom, or the real data under ``data_root``.

    ``settings`` with ``changes`` (:class:`~supremix.experiments.settings.RunSettings` fields)
    say how: every distinct configuration is trained once per seed by
    :func:`~supremix.experiments.sweep.run_sweep` with ``gamma_con`` = :data:`GAMMA_CON` and
    the settings' ``overrides``. Two-stage runs pretrain for ``epochs`` and fine-tune for
    ``probe_epochs``; multi-task and Vanilla runs train for ``epochs``. ``preset`` ``None`` is
    :data:`PAPER_PRESET` with a ``data_root`` (else ``echonet-cpu``); with
    :data:`PAPER_PRESET`, no ``epochs``/``probe_epochs`` and no ``smoke``, two-stage rows
    follow AdaCon's two-stage schedule (:func:`with_two_stage_schedule`). ``kinetics`` starts
    the encoder from Kinetics-400 weights (:data:`KINETICS`). Table XIII evaluates the trained
    models on CAMUS under ``camus_root`` (``None``: the CAMUS phantom; given with ``data_root``
    only, so that real and phantom data never mix); its runs' checkpoints are read back from
    ``out_dir`` (``None``: a temporary folder).
    """
    settings = RunSettings.of(settings, **changes)
    rows = select_rows(tables, methods)
    if CAMUS_TABLE in rows and (settings.data_root is None) != (camus_root is None):
        given, missing = (
            ("data_root", "camus_root") if camus_root is None else ("camus_root", "data_root")
        )
        raise ValueError(
            f"{CAMUS_TABLE} with {given} needs {missing} too: models trained on real EchoNet "
            "are evaluated on real CAMUS, phantom ones on the CAMUS phantom"
        )
    if GAMMA_TABLE in rows and "gamma_con" in (settings.overrides or {}):
        raise ValueError(
            f"overrides set gamma_con, which {GAMMA_TABLE} varies; leave it out of overrides"
        )
    if settings.preset is None and not settings.is_phantom:
        settings = settings.replace(preset=PAPER_PRESET)
    if (
        settings.preset == PAPER_PRESET
        and settings.epochs is None
        and settings.probe_epochs is None
        and not settings.smoke
    ):
        rows = with_two_stage_schedule(rows)
    extra = dict(KINETICS) if kinetics else {}
    overrides = {"gamma_con": GAMMA_CON, **extra, **(settings.overrides or {})}
    variants = distinct_variants(rows)
    with contextlib.ExitStack() as stack:
        if settings.out_dir is None and CAMUS_TABLE in rows:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="adacon-"))
            settings = settings.replace(out_dir=folder)
        sweep = run_sweep(
            DATASET, variants, settings=settings.replace(overrides=overrides), seeds=seeds
        )
        result = AdaConSchemes(sweep=sweep, rows=rows)
        if CAMUS_TABLE in rows:
            assert settings.out_dir is not None
            result.camus, result.camus_subsets = camus_sweep(
                sweep,
                rows[CAMUS_TABLE],
                settings.out_dir,
                camus_root=camus_root,
                smoke=settings.smoke,
            )
    return result
