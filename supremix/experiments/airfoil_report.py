"""Tables, tests and facts of the airfoil study (:mod:`supremix.experiments.airfoil_study`),
and its provenance: the chapter states the facts in Markdown (MyST-NB glue).

Each arm's mean and standard deviation are over the splits it ran on; arms are compared with a
paired t-test over the splits both ran on (each split is one random 1,203 / 150 / 150 split, the
same for every arm), so a study cut short still compares like with like.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supremix.experiments.airfoil_arms import (
    PAPER_PROTOCOL,
    STRONG_RECIPE,
    STUDY_METRICS,
    Arm,
    StudySettings,
)
from supremix.experiments.sweep import METRIC_KEYS
from supremix.metrics import paired_ttest, regression_metrics
from supremix.paper import paper_results
from supremix.reporting import summarise_runs, write_results
from supremix.train.provenance import git_commit, now_iso, software_versions

STUDY_SCHEMA = "supremix-airfoil-study/1"
#: Mixup Your Own Pairs' schedule of the paper's protocol (Table 13): pretraining and probe epochs.
PAPER_SCHEDULE = (200, 100)
#: The p-value under which a paired t-test's difference counts as significant.
SIGNIFICANCE = 0.05
RESULTS, RUNS, PROVENANCE = "results.json", "runs.json", "provenance.json"


@dataclass
class AirfoilStudy:
    """The runs of :func:`~supremix.experiments.airfoil_study.run_study` and the tables and
    facts the chapter shows.

    Each arm's mean and standard deviation are over the splits it ran on (``runs``); each
    paired test uses the splits both arms ran on. :attr:`complete` says whether every arm ran
    on every split of the settings.
    """

    settings: StudySettings
    arms: list[Arm]
    records: list[dict[str, Any]]
    wall_time_s: float = 0.0
    workers: int = 1

    @property
    def complete_splits(self) -> list[int]:
        have = {(r["arm"], r["split"]) for r in self.records}
        return [s for s in self.settings.splits if all((a.label, s) in have for a in self.arms)]

    @property
    def complete(self) -> bool:
        """Whether every arm has run on every split of the settings."""
        return len(self.complete_splits) == len(self.settings.splits)

    def arm(self, label: str) -> Arm:
        for arm in self.arms:
            if arm.label == label:
                return arm
        raise KeyError(f"no arm {label!r}; arms: {', '.join(a.label for a in self.arms)}")

    def runs_frame(self) -> pd.DataFrame:
        """One row per run: arm, group, split, the metrics, the validation MAE of the kept
        weights and the training seconds."""
        order = {a.label: i for i, a in enumerate(self.arms)}
        rows = [
            {
                "arm": r["arm"],
                "group": self.arm(r["arm"]).group,
                "split": r["split"],
                **r["metrics"],
                "val MAE": r["val_mae"],
                "seconds": r["seconds"],
            }
            for r in sorted(self.records, key=lambda r: (order[r["arm"]], r["split"]))
        ]
        return pd.DataFrame(rows)

    def table(self, metrics: Sequence[str] = STUDY_METRICS) -> pd.DataFrame:
        """Mean and sample standard deviation over each arm's runs (``runs`` of them), one row
        per arm, with the training-mean predictor last (the MAE of a model that learned
        nothing, over every split run)."""
        frame = self.runs_frame()
        if frame.empty:
            raise ValueError("the study holds no run yet: no table to show")
        grouped = frame.groupby("arm", sort=False)
        table = pd.DataFrame({"group": grouped["group"].first(), "runs": grouped.size()})
        for metric in metrics:
            table[metric] = grouped[metric].mean()
            table[f"{metric} std"] = grouped[metric].std()
        first = {r["split"]: r for r in self.records}
        floor = [
            regression_metrics(np.full(len(r["targets"]), r["train_mean"]), np.array(r["targets"]))
            for _, r in sorted(first.items())
        ]
        table.loc["Training mean", ["group", "runs"]] = ["-", len(floor)]
        for metric in metrics:
            values = [f[METRIC_KEYS[metric]] for f in floor]
            table.loc["Training mean", metric] = float(np.mean(values))
            table.loc["Training mean", f"{metric} std"] = (
                float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
            )
        table.index.name = "arm"
        return table

    def split_mae(self, label: str) -> pd.Series:
        """Test MAE of ``label`` per split it ran on."""
        label = self.arm(label).label
        runs = sorted((r["split"], r["metrics"]["MAE"]) for r in self.records if r["arm"] == label)
        return pd.Series(dict(runs), name="MAE", dtype=float).rename_axis("split")

    def baselines(self, group: str | None = None) -> list[str]:
        """Arms without SupReMix (of ``group`` when given)."""
        return [
            a.label
            for a in self.arms
            if a.method != "supremix" and (group is None or a.group == group)
        ]

    def strongest(self, labels: Sequence[str]) -> str:
        """The arm of ``labels`` with the lowest mean test MAE, among those with the most runs
        (so that an arm with one lucky split is not chosen over arms run on every split)."""
        most = max(len(self.split_mae(label)) for label in labels)
        candidates = [label for label in labels if len(self.split_mae(label)) == most]
        return min(candidates, key=lambda label: float(self.split_mae(label).mean()))

    def paired_by_split(self, reference: str | None = None) -> pd.DataFrame:
        """Every arm against ``reference`` (default: the strongest baseline of all groups),
        paired by split: mean MAEs, mean difference (arm minus reference: negative when the
        arm errs less), paired t-test over the splits both ran on (``splits``) and splits won."""
        reference = self.strongest(self.baselines()) if reference is None else reference
        rows = []
        for arm in self.arms:
            if arm.label == reference:
                continue
            both = pd.concat([self.split_mae(arm.label), self.split_mae(reference)], axis=1)
            theirs, ours = both.dropna().to_numpy().T if len(both.dropna()) else ([], [])
            test = paired_ttest(theirs, ours) if len(ours) > 1 else None
            rows.append(
                {
                    "arm": arm.label,
                    "MAE": float(np.mean(theirs)) if len(ours) else math.nan,
                    f"MAE {reference}": float(np.mean(ours)) if len(ours) else math.nan,
                    "difference": float(np.mean(theirs - ours)) if len(ours) else math.nan,
                    "t": math.nan if test is None else test.t,
                    "p": math.nan if test is None else test.p,
                    "splits": len(ours),
                    "splits won": f"{int(np.sum(theirs < ours))} of {len(ours)}",
                }
            )
        frame = pd.DataFrame(rows).set_index("arm")
        return frame[frame["splits"] > 0]

    def comparisons(self) -> list[tuple[str, str, str]]:
        """``(question, arm, against)`` for each comparison that answers the chapter's
        questions: (i) SupReMix under the paper's protocol against the strongest of the paper's
        baselines; (ii) every SupReMix arm against the strongest baseline of the whole study;
        then SupReMix added to the strong recipe against Vanilla (strong), where that is not
        the strongest."""
        paper_base = self.strongest(self.baselines(PAPER_PROTOCOL))
        strongest = self.strongest(self.baselines())
        ours = [a.label for a in self.arms if a.method == "supremix"]
        pairs = [("(i) paper's protocol", "SupReMix", paper_base)] if "SupReMix" in ours else []
        pairs += [("(ii) whole study", label, strongest) for label in ours]
        plain = "Vanilla (strong)"
        added = [a.label for a in self.arms if a.method == "supremix" and a.group == STRONG_RECIPE]
        if plain != strongest and plain in {a.label for a in self.arms}:
            pairs += [("added to the strong recipe", label, plain) for label in added]
        return pairs

    def verdicts(self) -> pd.DataFrame:
        """The chapter's questions answered from this study's numbers, one row per comparison
        of :meth:`comparisons` (index: question and arm), paired by split
        (:meth:`paired_by_split`): ``against``, ``MAE``, ``MAE against``, ``difference``
        (negative: the arm errs less), ``p``, ``splits``, ``splits won`` and ``outcome``
        (:func:`outcome`)."""
        rows = []
        for question, label, reference in self.comparisons():
            frame = self.paired_by_split(reference)
            row = frame.loc[label] if label in frame.index else None
            values: dict[str, Any] = {"question": question, "arm": label, "against": reference}
            if row is None:
                values |= {"splits": 0, "outcome": outcome(math.nan, math.nan, 0)}
            else:
                values |= {
                    "MAE": row["MAE"],
                    "MAE against": row[f"MAE {reference}"],
                    **{k: row[k] for k in ("difference", "p", "splits", "splits won")},
                    "outcome": outcome(row["difference"], row["p"], int(row["splits"])),
                }
            rows.append(values)
        columns = ["question", "arm", "against", "MAE", "MAE against", "difference", "p"]
        columns += ["splits", "splits won", "outcome"]
        return pd.DataFrame(rows, columns=columns).set_index(["question", "arm"])

    def verdict_facts(self) -> dict[str, Any]:
        """The headline of :meth:`verdicts`, by name: ``paper_baseline`` and ``strongest``
        (the strongest of the paper's baselines and of the whole study), SupReMix against the
        first under the paper's protocol (``supremix_outcome``, ``supremix_difference``,
        ``supremix_p``, ``supremix_won``; "not run" and NaN without that arm) and ``not_run``
        (the arms without a run, joined by commas, or "none")."""
        have = {r["arm"] for r in self.records}
        missing = [a.label for a in self.arms if a.label not in have]
        facts = {
            "paper_baseline": self.strongest(self.baselines(PAPER_PROTOCOL)),
            "strongest": self.strongest(self.baselines()),
            "supremix_outcome": "not run",
            "supremix_difference": math.nan,
            "supremix_p": math.nan,
            "supremix_won": "none",
            "not_run": ", ".join(missing) or "none",
        }
        verdicts = self.verdicts()
        if ("(i) paper's protocol", "SupReMix") in verdicts.index:
            row = verdicts.loc[("(i) paper's protocol", "SupReMix")]
            facts |= {
                "supremix_outcome": row["outcome"],
                "supremix_difference": float(row["difference"]),
                "supremix_p": float(row["p"]),
                "supremix_won": str(row["splits won"]),
            }
        return facts

    def summary(self, *, notes: str = "", provenance: dict[str, Any] | None = None) -> dict:
        """Every run as a :mod:`supremix.reporting` results summary (one "method" per arm,
        seed = split)."""
        order = {a.label: i for i, a in enumerate(self.arms)}
        runs = [
            {"method": r["arm"], "seed": r["split"], "metrics": r["metrics"]}
            for r in sorted(self.records, key=lambda r: (order[r["arm"]], r["split"]))
        ]
        kinds = {r["data_kind"] for r in self.records}
        return summarise_runs(
            runs,
            data_kind=kinds.pop() if len(kinds) == 1 else "real",
            dataset="airfoil",
            notes=notes,
            provenance=provenance,
        )

    def to_dict(self) -> dict[str, Any]:
        """Settings, arms and every run (``runs.json`` of a recorded study)."""
        return {
            "schema": STUDY_SCHEMA,
            "settings": dataclasses.asdict(self.settings),
            "arms": [dataclasses.asdict(a) for a in self.arms],
            "records": self.records,
            "wall_time_s": self.wall_time_s,
            "workers": self.workers,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "study") -> AirfoilStudy:
        """Inverse of :meth:`to_dict`."""
        if values.get("schema") != STUDY_SCHEMA:
            raise ValueError(f"{where}: schema {values.get('schema')!r}, expected {STUDY_SCHEMA}")
        return cls(
            settings=StudySettings(**values["settings"]),
            arms=[Arm(**a) for a in values["arms"]],
            records=list(values["records"]),
            wall_time_s=float(values["wall_time_s"]),
            workers=int(values["workers"]),
        )

    def beside_paper(self, metrics: Sequence[str] = ("MAE", "MSE", "GM")) -> pd.DataFrame:
        """:meth:`table` with Mixup Your Own Pairs Table 5 (real data, its protocol) beside the
        paper-protocol arms it reports, in columns ``"paper <metric> (Table 5)"``."""
        table = self.table()
        paper = paper_results("mixup-pairs", table="Table 5", dataset="airfoil")
        for metric in metrics:
            values = paper[paper["metric"] == metric].set_index("method")["value"]
            table[f"paper {metric} (Table 5)"] = [
                values.get(label, math.nan)
                if label in values.index and self._group(label) == PAPER_PROTOCOL
                else math.nan
                for label in table.index
            ]
        return table

    def _group(self, label: str) -> str:
        return self.arm(label).group if label in {a.label for a in self.arms} else "-"

    def first_split(self, labels: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Predictions of ``labels`` on the test rows of the first split they all ran on, and
        its labels."""
        have = {(r["arm"], r["split"]) for r in self.records}
        split = next(s for s in self.settings.splits if all((x, s) in have for x in labels))
        chosen = {(r["arm"]): r for r in self.records if r["split"] == split}
        targets = np.asarray(chosen[labels[0]]["targets"])
        return {label: np.asarray(chosen[label]["preds"]) for label in labels}, targets

    def facts(self, strong: str = "Vanilla (strong)") -> dict[str, Any]:
        """What this study holds, by name, for the chapter's prose: ``status`` ("complete" or
        "partial"), ``runs`` held of ``expected`` (``arms`` x ``splits``), the fewest and most
        runs of an arm (``runs_per_arm_fewest``, ``runs_per_arm_most``), the schedule
        (``epochs``, ``probe_epochs``, ``strong_epochs``, ``multitask_weight``; ``schedule``:
        "the paper's schedule" where the paper's protocol ran Mixup Your Own Pairs' 200 + 100
        epochs, else "a short schedule"), and Table 5's Vanilla and SupReMix MAE
        (``paper_vanilla``, ``paper_supremix``) beside the ``strong`` arm's mean MAE
        (``strong_mae``, NaN where it has not run) with ``paper_ratio``, the paper's SupReMix
        MAE over it."""
        s = self.settings
        counts = self.runs_frame().groupby("arm").size() if self.records else pd.Series([0])
        paper = paper_results("mixup-pairs", table="Table 5", dataset="airfoil", metric="MAE")
        paper = paper.set_index("method")["value"]
        have = {r["arm"] for r in self.records}
        strong_mae = float(self.split_mae(strong).mean()) if strong in have else math.nan
        return {
            "status": "complete" if self.complete else "partial",
            "runs": len(self.records),
            "expected": len(self.arms) * len(s.splits),
            "arms": len(self.arms),
            "splits": len(s.splits),
            "runs_per_arm_fewest": int(counts.min()),
            "runs_per_arm_most": int(counts.max()),
            "epochs": s.epochs,
            "probe_epochs": s.probe_epochs,
            "strong_epochs": s.strong_epochs,
            "multitask_weight": s.multitask_weight,
            "schedule": "the paper's schedule"
            if (s.epochs, s.probe_epochs) == PAPER_SCHEDULE
            else "a short schedule",
            "paper_vanilla": float(paper["Vanilla"]),
            "paper_supremix": float(paper["SupReMix"]),
            "strong_mae": strong_mae,
            "paper_ratio": float(paper["SupReMix"]) / strong_mae,
        }


def outcome(difference: float, p: float, splits: int) -> str:
    """Whether an arm beats the arm it is set against, from the mean MAE ``difference`` (arm
    minus the other: negative when it errs less) and the paired t-test's ``p`` over
    ``splits`` common splits: "beats it" (lower, p < 0.05), "lower, not significantly",
    "significantly higher" (p < 0.05), "does not beat it", or "no paired test yet" (fewer
    than two common splits)."""
    if splits < 2:
        return "no paired test yet"
    significant = not math.isnan(p) and p < SIGNIFICANCE
    if difference < 0:
        return "beats it" if significant else "lower, not significantly"
    return "significantly higher" if significant else "does not beat it"


def write_study(
    study: AirfoilStudy, folder: str | Path, *, notes: str, provenance: dict[str, Any]
) -> dict[str, Path]:
    """Write ``results.json`` (:mod:`supremix.reporting` schema), ``runs.json`` (every run,
    :meth:`AirfoilStudy.to_dict`, predictions to 1e-4 dB) and ``provenance.json`` into
    ``folder``."""
    folder = Path(folder)
    paths = {
        "results": write_results(
            study.summary(notes=notes, provenance=provenance), folder / RESULTS
        ),
        "runs": folder / RUNS,
        "provenance": folder / PROVENANCE,
    }
    runs = study.to_dict()
    runs["records"] = [
        {**r, "preds": _rounded(r["preds"]), "targets": _rounded(r["targets"])}
        for r in runs["records"]
    ]
    paths["runs"].write_text(json.dumps(runs) + "\n", encoding="utf-8")
    paths["provenance"].write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
    return paths


def _rounded(values: Sequence[float]) -> list[float]:
    """Predictions and labels to 1e-4 dB in ``runs.json`` (the metrics keep full precision)."""
    return [round(float(v), 4) for v in values]


def load_study(folder: str | Path) -> tuple[AirfoilStudy, dict[str, Any]] | None:
    """``(study, provenance)`` recorded in ``folder`` by :func:`write_study`, or ``None`` when
    the folder holds no ``runs.json``."""
    folder = Path(folder)
    if not (folder / RUNS).is_file():
        return None
    study = AirfoilStudy.from_dict(json.loads((folder / RUNS).read_text()), str(folder / RUNS))
    provenance = json.loads((folder / PROVENANCE).read_text())
    return study, provenance


def recorded_folder(name: str) -> Path | None:
    """``results/<name>`` of the checkout this package is imported from, or ``None`` where
    supremix is installed without its repository (Colab, Kaggle)."""
    root = Path(__file__).resolve().parents[2]
    folder = root / "results" / name
    return folder if (root / "_toc.yml").is_file() and folder.is_dir() else None


# ---------------------------------------------------------------------- provenance


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of the file at ``path``, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recording_span(records: Sequence[dict[str, Any]]) -> float:
    """Seconds from the start of the first run to the end of the last (runs may have been
    trained by earlier executions that this one resumed)."""
    if not records:
        return 0.0
    started = min(r["finished_unix"] - r["seconds"] for r in records)
    return max(r["finished_unix"] for r in records) - started


def study_provenance(study: AirfoilStudy, *, data_file: str | Path, device: str) -> dict:
    """What produced ``study``: commit, settings, data SHA-256, machine and wall time."""
    return {
        "created": now_iso(),
        "git": git_commit(),
        "settings": {
            **dataclasses.asdict(study.settings),
            "preset": "airfoil",
            "strong_recipe": study.settings.strong_recipe(),
            "arms": {a.label: {"group": a.group, **a.overrides} for a in study.arms},
        },
        "data": {"file": Path(data_file).name, "sha256": file_sha256(data_file)},
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "device": device,
            "workers": study.workers,
            "torch_threads_per_run": 1,
            "platform": platform.platform(),
        },
        "software": software_versions(),
        "runs": {
            "held": len(study.records),
            "expected": len(study.arms) * len(study.settings.splits),
            "complete_splits": study.complete_splits,
            "partial": not study.complete,
        },
        "wall_time_s": round(study.wall_time_s, 1),
        "recording_span_s": round(recording_span(study.records), 1),
        "training_seconds_total": round(sum(r["seconds"] for r in study.records), 1),
    }


def provenance_facts(provenance: dict[str, Any]) -> dict[str, Any]:
    """What produced a recorded study (:func:`study_provenance`), by name, for the chapter's
    prose: ``created``, ``commit`` (its first 10 characters, "unknown" where it was not
    recorded) and ``changes`` ("with uncommitted changes" or "clean"), the machine's ``cpu``,
    ``cores`` and ``workers``, the data ``data_file`` and the start of its ``sha256``, and the
    minutes of wall time (``span_min``) and of training summed over the runs
    (``training_min``)."""
    git = provenance.get("git") or {}
    machine = provenance["machine"]
    return {
        "created": provenance["created"],
        "commit": git.get("commit", "unknown")[:10],
        "changes": "with uncommitted changes" if git.get("dirty") else "clean",
        "cpu": machine["cpu"],
        "cores": machine["cores"],
        "workers": machine["workers"],
        "data_file": provenance["data"]["file"],
        "sha256": provenance["data"]["sha256"][:16],
        "span_min": provenance["recording_span_s"] / 60,
        "training_min": provenance["training_seconds_total"] / 60,
    }
