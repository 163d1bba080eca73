"""The airfoil study: the paper's protocol beside a strong baseline, on the real UCI data.

Mixup Your Own Pairs (§4, Table 5) reports SupReMix 26% below Vanilla in MAE on UCI airfoil
under its protocol (Table 13: the d-20-30-10 MLP, batch 32, Adam at 1e-3, linear probe). The
book's airfoil chapter asks whether that holds (i) against the paper's baselines under the
paper's protocol and (ii) against a strong baseline: the same MLP trained end to end at a
larger learning rate (:data:`supremix.studies.AIRFOIL_STRONG_BASELINE`). Each row of the study
is an :class:`~supremix.experiments.airfoil_arms.Arm` (module
:mod:`supremix.experiments.airfoil_arms`):

* *paper protocol*: Vanilla, SimCLR, SupCon, AdaCon, RnC and SupReMix with preset ``airfoil``,
  ``epochs`` of pretraining (Vanilla: of training) and ``probe_epochs`` of linear probe (the
  SupReMix paper's 200 + 100);
* *strong recipe*: Vanilla with the strong recipe; each of SupReMix, SupCon and RnC (a)
  pretrained as in the paper's protocol and then fine-tuned end to end with the strong recipe
  (``init_encoder``: the encoder of that method's paper-protocol run on the same split), and
  (b) trained end to end with the strong recipe on ``L1 + weight x L_con``
  (``protocol="multitask"``, AdaCon eq. (8) with gamma_reg = 1).

Run ``k`` of every arm uses seed ``k`` and its own random 1,203 / 150 / 150 split of the table
(the loader's ``seed`` option, also ``k``), so the five splits are the same for every arm and
arms are compared paired by split
(:meth:`~supremix.experiments.airfoil_report.AirfoilStudy.paired_by_split`). Each run is one
:func:`~supremix.experiments.sweep.run_sweep` of one :class:`~supremix.experiments.sweep.Variant`;
:func:`run_study` runs them in parallel processes and saves each finished run as a JSON record
under ``run_dir``, so a killed study resumes where it stopped. See the chapter
``notebooks/airfoil`` and the book's *Recorded runs* page.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from supremix.experiments.airfoil_arms import (
    PAPER_PROTOCOL,
    Arm,
    StudySettings,
    priority,
    study_arms,
)
from supremix.experiments.airfoil_report import AirfoilStudy
from supremix.experiments.sweep import METRIC_KEYS, Variant, run_folder, run_sweep

RECORD_SCHEMA = "supremix-airfoil-run/1"


# ---------------------------------------------------------------------- one run


@dataclass(frozen=True)
class Job:
    """One run to train (everything a worker process needs)."""

    arm: Arm
    split: int
    settings: StudySettings
    data_root: str | None
    device: str
    run_dir: str
    source: Arm | None = None


def record_path(run_dir: str | Path, arm: Arm, split: int) -> Path:
    """The JSON record of ``arm``'s run on ``split`` under ``run_dir``."""
    return Path(run_dir) / "records" / f"{arm.slug}-split{split}.json"


def checkpoint_dir(run_dir: str | Path, arm: Arm, split: int) -> Path:
    """The run folder of ``arm`` on ``split`` (checkpoints, ``metrics.csv``)."""
    return run_folder(Path(run_dir) / "checkpoints" / f"{arm.slug}-split{split}", 0, split)


def _train(job: Job, arm: Arm, init_encoder: Path | None = None) -> dict[str, Any]:
    settings = job.settings
    overrides = dict(arm.overrides)
    if init_encoder is not None:
        overrides["init_encoder"] = str(init_encoder)
    paper = arm.group == PAPER_PROTOCOL
    sweep = run_sweep(
        "airfoil",
        [Variant(arm.label, overrides)],
        seeds=[job.split],
        preset="airfoil",
        epochs=settings.epochs if paper else None,
        probe_epochs=settings.probe_epochs if paper else None,
        batch_size=settings.batch_size,
        data_root=job.data_root,
        device=job.device,
        overrides={"dataset_options": {"seed": job.split}},
        out_dir=checkpoint_dir(job.run_dir, arm, job.split).parents[0],
    )
    run = sweep.runs[0]
    return {
        "schema": RECORD_SCHEMA,
        "arm": arm.label,
        "split": job.split,
        "seed": run.seed,
        "settings": settings.fingerprint(),
        "overrides": _public(overrides),
        "metrics": {name: float(run.metrics[key]) for name, key in METRIC_KEYS.items()},
        "val_mae": float(run.val_metrics.get("mae", math.nan)),
        "preds": [float(v) for v in run.preds],
        "targets": [float(v) for v in sweep.targets],
        "train_mean": float(np.mean(sweep.train_targets)),
        "n_train": run.n_train,
        "seconds": round(run.seconds, 2),
        "data_kind": sweep.data_kind,
        "finished_unix": time.time(),
    }


def _clear_own_checkpoints(folder: Path) -> None:
    """Remove what an interrupted or incomplete run of this study left in its own checkpoint
    folder (under ``run_dir/checkpoints``), so that the run can be trained again: a run folder
    refuses to be reused (:mod:`supremix.train.run_folder`), and a run without its record is
    retrained from the start."""
    if folder.is_dir():
        shutil.rmtree(folder)


def _public(overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides a record keeps: all but the machine-specific ``init_encoder`` path."""
    return {k: v for k, v in overrides.items() if k != "init_encoder"}


def run_job(job: Job) -> dict[str, Any]:
    """Train ``job`` and save its record (atomically); a fine-tune first retrains its source
    arm's pretraining when the checkpoint is gone (e.g. records kept, checkpoints not)."""
    path = record_path(job.run_dir, job.arm, job.split)
    if path.is_file():  # saved meanwhile by another process of the same study
        return json.loads(path.read_text(encoding="utf-8"))
    init = None
    if job.source is not None:
        init = checkpoint_dir(job.run_dir, job.source, job.split)
        if not (init / "best.pt").is_file():
            _clear_own_checkpoints(init)
            _train(job, job.source)
    _clear_own_checkpoints(checkpoint_dir(job.run_dir, job.arm, job.split))
    record = _train(job, job.arm, init)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(record, stream)
    os.replace(temporary, path)
    return record


def load_records(run_dir: str | Path, arms: Sequence[Arm], settings: StudySettings) -> list[dict]:
    """The saved runs of ``arms`` on ``settings.splits`` under ``run_dir``; a record trained
    with other settings raises (use another ``run_dir``), nothing is deleted."""
    records = []
    for arm in arms:
        for split in settings.splits:
            path = record_path(run_dir, arm, split)
            if not path.is_file():
                continue
            record = json.loads(path.read_text(encoding="utf-8"))
            if record.get("schema") != RECORD_SCHEMA or record.get("arm") != arm.label:
                raise ValueError(f"{path}: not a {RECORD_SCHEMA} record of arm {arm.label!r}")
            asked = (settings.fingerprint(), _public(arm.overrides))
            if (record["settings"], record["overrides"]) != asked:
                raise ValueError(
                    f"{path}: trained with settings {record['settings']} and overrides "
                    f"{record['overrides']}, this study asks {asked[0]} and {asked[1]}; "
                    "choose another run_dir"
                )
            record.setdefault("finished_unix", path.stat().st_mtime)
            records.append(record)
    return records


# ---------------------------------------------------------------------- the study


def _source_arm(arm: Arm, by_label: dict[str, Arm]) -> Arm | None:
    """The arm whose encoder ``arm`` fine-tunes (``None``: trained from scratch)."""
    return None if arm.encoder_from is None else by_label[arm.encoder_from]


def _jobs(arms: Sequence[Arm], settings: StudySettings, done: set, **common: Any) -> list[Job]:
    by_label = {arm.label: arm for arm in arms}
    missing = [a.encoder_from for a in arms if a.encoder_from and a.encoder_from not in by_label]
    if missing:
        raise ValueError(f"fine-tune arms need the arms {missing}, which are not in the study")
    ordered = sorted(arms, key=lambda a: a.encoder_from is not None)
    return [
        Job(arm, split, settings, source=_source_arm(arm, by_label), **common)
        for tier in sorted({priority(a) for a in arms})
        for split in settings.splits
        for arm in ordered
        if priority(arm) == tier and (arm.label, split) not in done
    ]


def run_study(
    settings: StudySettings,
    *,
    run_dir: str | Path,
    arms: Sequence[Arm] | None = None,
    data_root: str | Path | None = None,
    device: str = "cpu",
    workers: int = 1,
    train_missing: bool = True,
    log: Callable[[str], None] = print,
) -> AirfoilStudy:
    """Every arm on every split (:mod:`this module <supremix.experiments.airfoil_study>`).

    Runs already saved under ``run_dir`` are reused; the others are trained split by split,
    the Vanilla and SupReMix arms on every split first
    (:func:`~supremix.experiments.airfoil_arms.priority`: a study cut short answers the
    chapter's questions on as many splits as it can), in
    ``workers`` processes (one torch thread each), each saved as soon as it finishes.
    ``train_missing=False`` trains nothing and returns what is saved (a partial study when
    runs are missing).
    """
    arms = list(study_arms(settings) if arms is None else arms)
    began = time.perf_counter()
    records = {(r["arm"], r["split"]): r for r in load_records(run_dir, arms, settings)}
    common = {"data_root": None if data_root is None else str(data_root), "device": device}
    jobs = _jobs(arms, settings, set(records), run_dir=str(run_dir), **common)
    if jobs and train_missing:
        log(f"{len(records)} run(s) saved under {run_dir}; training {len(jobs)}")
        for record in _execute(jobs, records, workers):
            records[(record["arm"], record["split"])] = record
            log(f"done {record['arm']} split {record['split']}: MAE {record['metrics']['MAE']:.3f}")
    return AirfoilStudy(
        settings=settings,
        arms=arms,
        records=list(records.values()),
        wall_time_s=time.perf_counter() - began,
        workers=workers,
    )


def _execute(jobs: list[Job], records: dict, workers: int):
    def ready(job: Job) -> bool:
        return job.source is None or (job.source.label, job.split) in done

    done = set(records)
    if workers <= 1:
        for job in jobs:
            record = run_job(job)
            done.add((record["arm"], record["split"]))
            yield record
        return
    pending = list(jobs)
    running: dict[Future[dict[str, Any]], Job] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        while pending or running:
            for job in [j for j in pending if ready(j)][: workers - len(running)]:
                pending.remove(job)
                running[pool.submit(run_job, job)] = job
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                running.pop(future)
                record = future.result()
                done.add((record["arm"], record["split"]))
                yield record
