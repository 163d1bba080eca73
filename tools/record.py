"""Rerun the book's recorded studies: each executes a notebook with papermill into ``results/``.

    python tools/record.py                 # every study of RECORDED, one after another
    python tools/record.py airfoil         # one of them
    python tools/record.py airfoil -p train_missing False  # show the saved runs, train none
    python tools/record.py --list          # what would run, and where it writes

A recorded study is a notebook, its papermill parameters and a folder ``results/<name>/``. The
notebook receives ``results_dir`` = that folder and writes ``results.json`` (the
``supremix.reporting`` schema) there with whatever else it records (the airfoil study:
``runs.json`` and ``provenance.json``); the executed notebook is written beside them as
``results/<name>/<notebook>.ipynb``, its relative links rewritten to resolve from there (the
book shows it from that folder). A notebook that writes no ``provenance.json`` of its own
gets one from this tool: the commit, the parameters, the SHA-256 of the study's data files, the
machine and the wall time. The book shows them on its *Recorded runs* page and never
executes them again. Notebooks that keep finished runs under ``run_dir`` (inside the ignored
``runs/``) resume there after an interruption: run the same command again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import posixpath
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RecordedStudy:
    """One recorded study: ``notebook`` (relative to the repository) executed with
    ``parameters`` into ``folder``; ``about`` says in a line what it is."""

    name: str
    notebook: str
    about: str
    parameters: dict[str, Any] = field(default_factory=dict)
    #: the real data files it reads, relative to $SUPREMIX_DATA (their SHA-256 is recorded)
    data_files: tuple[str, ...] = ()
    #: "real", or "phantom" for a study on data that ``supremix.data.phantoms`` writes (no files)
    data_kind: str = "real"

    @property
    def folder(self) -> str:
        return f"results/{self.name}"

    @property
    def executed(self) -> str:
        return f"{self.folder}/{Path(self.notebook).name}"

    def all_parameters(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {**self.parameters, **(extra or {}), "results_dir": self.folder}


#: The RSNA showcase's phantom size and schedule: twice the items and the epochs of the book's
#: RSNA chapter (800 items, 12 + 6 epochs). A one-seed trial at this size reached 0.44 of the mean
#: predictor's MAE (Vanilla); the study (3 seeds, 6 methods, 6 permuted-label runs) needs about
#: 15 to 20 minutes of one core, more wall time on a shared machine.
SHOWCASE_N, SHOWCASE_EPOCHS, SHOWCASE_PROBE_EPOCHS = 1600, 24, 12

#: Every recorded study. Parameters are those of the notebook's ``parameters`` cell.
RECORDED: tuple[RecordedStudy, ...] = (
    RecordedStudy(
        name="airfoil",
        notebook="notebooks/airfoil.ipynb",
        about="UCI airfoil, real data: the paper's protocol (200 + 100 epochs) and the strong "
        "recipe (80 epochs), 13 arms x 5 splits",
        parameters={
            "epochs": 200,
            "probe_epochs": 100,
            "strong_epochs": 80,
            "seeds": [0, 1, 2, 3, 4],
            "workers": 2,
            "run_dir": "runs/record/airfoil",
        },
        data_files=("airfoil_self_noise.dat",),
    ),
    RecordedStudy(
        name="stsb",
        notebook="notebooks/stsb.ipynb",
        about="STS-B-DIR, real text: Vanilla, SupCon, supervised SimCSE and SupReMix (with and "
        "without the mixtures) and Table 11's three Beta distributions, embeddings learned from "
        "scratch (not the paper's GloVe), the CPU preset at the book's short schedule",
        parameters={"glove": None},
        data_files=tuple(
            f"sts-b-dir/glue_data/STS-B/{split}_new.tsv" for split in ("train", "dev", "test")
        ),
    ),
    RecordedStudy(
        name="rsna_showcase",
        notebook="notebooks/rsna_showcase.ipynb",
        about="RSNA phantom: the six methods under the linear probe, permuted labels "
        "(ordinality) and NLFDs (continuity), a larger phantom and longer schedule than the "
        "RSNA chapter; is each of the SupReMix paper's qualitative claims borne out?",
        parameters={
            "phantom_n": SHOWCASE_N,
            "epochs": SHOWCASE_EPOCHS,
            "probe_epochs": SHOWCASE_PROBE_EPOCHS,
            "seeds": [0, 1, 2],
        },
        data_kind="phantom",
    ),
)


def find(names: list[str]) -> list[RecordedStudy]:
    """The studies named (all of them for none); an unknown name raises, listing the known."""
    known = {study.name: study for study in RECORDED}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(
            f"record: no recorded study {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return [known[n] for n in names] if names else list(RECORDED)


def record(study: RecordedStudy, extra: dict[str, Any] | None = None) -> Path:
    """Execute ``study``'s notebook into its folder (kernel working directory: the
    repository root, so its relative paths are the repository's)."""
    import papermill

    (ROOT / study.folder).mkdir(parents=True, exist_ok=True)
    started, began = time.time(), time.perf_counter()
    papermill.execute_notebook(
        study.notebook,
        study.executed,
        parameters=study.all_parameters(extra),
        kernel_name="python3",
        language="python",
        cwd=str(ROOT),
        progress_bar=False,
        request_save_on_cell_execute=True,
    )
    seconds = time.perf_counter() - began
    rebase_links(ROOT / study.executed, Path(study.notebook).parent.as_posix(), study.folder)
    provenance = ROOT / study.folder / "provenance.json"
    if not provenance.is_file() or provenance.stat().st_mtime < started:
        write_provenance(study, study.all_parameters(extra), seconds, provenance)
    print(f"record: {study.name} -> {study.folder} ({seconds / 60:.1f} min)")
    return ROOT / study.executed


#: A Markdown link or image target: ``](target)``, the target up to a space or ``)``.
MARKDOWN_TARGET = re.compile(r"(\]\()([^)\s]+)")


def rebased(target: str, source: str, folder: str) -> str:
    """``target``, a link written in a notebook of folder ``source``, as seen from ``folder``
    (both relative to the repository): relative paths are rewritten, URLs, anchors and absolute
    paths are kept."""
    if re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", target):
        return target
    return posixpath.relpath(posixpath.normpath(posixpath.join(source, target)), folder)


def rebase_links(notebook: Path, source: str, folder: str) -> int:
    """Rewrite the relative link targets of ``notebook``'s Markdown cells, written for a notebook
    in folder ``source``, so that they resolve from ``folder``, where the executed notebook now
    lies (the badges and data-card links of ``notebooks/x.ipynb`` from ``results/<study>/``).
    Returns the number of links changed."""
    import nbformat

    executed = nbformat.read(notebook, as_version=4)
    changed = 0
    for cell in executed.cells:
        if cell.cell_type != "markdown":
            continue

        def move(match: re.Match[str]) -> str:
            nonlocal changed
            target = rebased(match.group(2), source, folder)
            changed += target != match.group(2)
            return match.group(1) + target

        cell.source = MARKDOWN_TARGET.sub(move, cell.source)
    if changed:
        nbformat.write(executed, notebook)
    return changed


def write_provenance(
    study: RecordedStudy, parameters: dict[str, Any], seconds: float, path: Path
) -> dict[str, Any]:
    """Write (and return) the provenance of a recording that just ran: commit, parameters, the
    data files' SHA-256, machine and wall time."""
    from supremix.experiments.airfoil_report import cpu_model, file_sha256
    from supremix.train.provenance import git_commit, now_iso, software_versions

    data_root = Path(os.environ.get("SUPREMIX_DATA", "")).expanduser()
    data = {
        name: file_sha256(data_root / name) if (data_root / name).is_file() else "missing"
        for name in study.data_files
    }
    provenance = {
        "created": now_iso(),
        "git": git_commit(ROOT) or {"commit": "unknown", "dirty": None},
        "notebook": study.notebook,
        "settings": parameters,
        "data_kind": study.data_kind,
        "data": data,
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
        },
        "software": software_versions(),
        "wall_time_s": round(seconds, 1),
    }
    path.write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
    return provenance


def parse_extra(pairs: list[list[str]]) -> dict[str, Any]:
    """``-p name value`` pairs, values read as YAML (``False``, ``3``, ``[0, 1]``)."""
    return {name: yaml.safe_load(value) for name, value in pairs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="recorded studies (default: all)")
    parser.add_argument(
        "-p",
        dest="extra",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="override one notebook parameter (YAML value)",
    )
    parser.add_argument("--list", action="store_true", help="list the studies and exit")
    args = parser.parse_args(argv)
    studies = find(args.names)
    extra = parse_extra(args.extra)
    if args.list:
        for study in studies:
            print(f"{study.name}: {study.notebook} -> {study.executed}")
            print(f"    {study.about}")
            print(f"    parameters: {study.all_parameters(extra)}")
        return 0
    os.chdir(ROOT)
    for study in studies:
        record(study, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
