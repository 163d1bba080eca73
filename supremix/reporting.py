"""Results of a notebook run as JSON, and tables that put them beside the papers' numbers.

A notebook trains each method with several seeds, then calls :func:`summarise_runs` and
:func:`write_results`. The file (schema :data:`SCHEMA`) looks like::

    {"schema": "supremix-results/1", "dataset": "airfoil", "data_kind": "real",
     "notes": "...", "provenance": {"created": "...", "supremix": "0.1.0", ...},
     "methods": {"SupReMix": {"seeds": [0, 1, 2],
                              "metrics": {"MAE": {"mean": 4.9, "std": 0.1,
                                                  "runs": [4.8, 5.0, 4.9]}}}}}

``std`` is the sample standard deviation over seeds (``ddof=1``; ``null`` for one seed);
``runs`` follow ``seeds``. Metric and method names are canonicalised where they are known
(``"mae"`` -> ``"MAE"``, ``"pearson"`` -> ``"rho"``, ``"supremix"`` -> ``"SupReMix"``), so
they meet :mod:`supremix.paper`'s names. ``data_kind`` says whether the numbers come from the
real dataset or a phantom; :func:`comparison_table` carries it into every column label so a
phantom run is never read as a reproduction of the paper.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import supremix

from .paper import canonical_method, canonical_metric, reference_label

SCHEMA = "supremix-results/1"
DATA_KINDS = ("real", "phantom")


class ResultsSchemaError(ValueError):
    """A results summary or file does not follow :data:`SCHEMA`."""


def metric_key(name: str) -> str:
    """The canonical name of a known metric, else ``name`` unchanged."""
    try:
        return canonical_metric(name)
    except ValueError:
        return str(name)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _check_data_kind(data_kind: Any, where: str) -> None:
    if data_kind not in DATA_KINDS:
        raise ResultsSchemaError(
            f"{where}: data_kind is {data_kind!r}; expected 'real' or 'phantom'"
        )


def _run_metrics(index: int, run: Any) -> tuple[str, int, dict[str, float]]:
    where = f"run {index}"
    if not isinstance(run, Mapping):
        raise ResultsSchemaError(f"{where}: expected a dict with method, seed and metrics")
    missing = [key for key in ("method", "seed", "metrics") if key not in run]
    if missing:
        raise ResultsSchemaError(f"{where}: missing {', '.join(missing)}")
    method, seed, metrics = run["method"], run["seed"], run["metrics"]
    if not isinstance(method, str) or not method.strip():
        raise ResultsSchemaError(f"{where}: method must be a non-empty string, got {method!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ResultsSchemaError(f"{where}: seed must be an integer, got {seed!r}")
    where = f"run {index} ({method}, seed {seed})"
    if not isinstance(metrics, Mapping) or not metrics:
        raise ResultsSchemaError(f"{where}: metrics must be a non-empty dict of name -> number")
    values = {}
    for name, value in metrics.items():
        if not _is_number(value) or not math.isfinite(value):
            raise ResultsSchemaError(
                f"{where}: metric {name!r} is {value!r}; expected a finite number"
            )
        key = metric_key(name)
        if key in values:
            raise ResultsSchemaError(f"{where}: metric {key!r} given twice (as {name!r})")
        values[key] = float(value)
    return canonical_method(method), int(seed), values


def _default_provenance() -> dict[str, Any]:
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "supremix": supremix.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def summarise_runs(
    runs: list[dict[str, Any]],
    *,
    data_kind: str,
    dataset: str,
    notes: str = "",
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Summarise per-seed runs into the results schema.

    ``runs``: one dict per (method, seed): ``{"method": "SupReMix", "seed": 0,
    "metrics": {"mae": 4.9, ...}}``; other keys are ignored. Every run of a method must report
    the same metrics. ``provenance`` (device, parameters, git commit...) is merged over the
    defaults (creation time, supremix, Python and platform versions).
    """
    _check_data_kind(data_kind, "summary")
    if not isinstance(dataset, str) or not dataset.strip():
        raise ResultsSchemaError(f"summary: dataset must be a non-empty string, got {dataset!r}")
    if not runs:
        raise ResultsSchemaError("summary: no runs given")
    by_method: dict[str, dict[int, dict[str, float]]] = {}
    for index, run in enumerate(runs):
        method, seed, metrics = _run_metrics(index, run)
        seeds = by_method.setdefault(method, {})
        if seed in seeds:
            raise ResultsSchemaError(f"run {index}: {method} with seed {seed} is given twice")
        seeds[seed] = metrics
    methods = {}
    for method, seeds in by_method.items():
        names = list(next(iter(seeds.values())))
        for seed, metrics in seeds.items():
            if set(metrics) != set(names):
                raise ResultsSchemaError(
                    f"{method}: seed {seed} reports {sorted(metrics)} but another seed "
                    f"reports {sorted(names)}; every seed of a method must report the same metrics"
                )
        order = sorted(seeds)
        methods[method] = {
            "seeds": order,
            "metrics": {name: _statistics([seeds[s][name] for s in order]) for name in names},
        }
    return {
        "schema": SCHEMA,
        "dataset": dataset,
        "data_kind": data_kind,
        "notes": notes,
        "provenance": {**_default_provenance(), **dict(provenance or {})},
        "methods": methods,
    }


def _statistics(values: list[float]) -> dict[str, Any]:
    array = np.asarray(values, dtype=np.float64)
    std = float(np.std(array, ddof=1)) if array.size > 1 else None
    return {"mean": float(np.mean(array)), "std": std, "runs": [float(v) for v in values]}


def validate_results(summary: Any, where: str = "results") -> dict[str, Any]:
    """Return ``summary`` if it follows :data:`SCHEMA`, else raise :class:`ResultsSchemaError`
    naming the first problem (``where`` prefixes the message: a path, say).

    Beyond types, checks that every ``mean`` and ``std`` agree with its ``runs``.
    """
    if not isinstance(summary, Mapping):
        raise ResultsSchemaError(f"{where}: expected a JSON object, got {type(summary).__name__}")
    required = ("schema", "dataset", "data_kind", "notes", "provenance", "methods")
    missing = [key for key in required if key not in summary]
    if missing:
        raise ResultsSchemaError(f"{where}: missing key(s) {', '.join(missing)}")
    if summary["schema"] != SCHEMA:
        raise ResultsSchemaError(f"{where}: schema is {summary['schema']!r}; expected {SCHEMA!r}")
    _check_data_kind(summary["data_kind"], where)
    if not isinstance(summary["dataset"], str) or not summary["dataset"].strip():
        raise ResultsSchemaError(f"{where}: dataset must be a non-empty string")
    if not isinstance(summary["notes"], str):
        raise ResultsSchemaError(f"{where}: notes must be a string")
    if not isinstance(summary["provenance"], Mapping):
        raise ResultsSchemaError(f"{where}: provenance must be an object")
    if not isinstance(summary["methods"], Mapping) or not summary["methods"]:
        raise ResultsSchemaError(f"{where}: methods must be a non-empty object")
    for method, entry in summary["methods"].items():
        _validate_method(f"{where}: {method}", entry)
    return dict(summary)


def _validate_method(where: str, entry: Any) -> None:
    if not isinstance(entry, Mapping) or set(entry) != {"seeds", "metrics"}:
        raise ResultsSchemaError(f"{where}: expected exactly the keys seeds and metrics")
    seeds = entry["seeds"]
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
        or len(set(seeds)) != len(seeds)
    ):
        raise ResultsSchemaError(f"{where}: seeds must be a non-empty list of distinct integers")
    if not isinstance(entry["metrics"], Mapping) or not entry["metrics"]:
        raise ResultsSchemaError(f"{where}: metrics must be a non-empty object")
    for name, stats in entry["metrics"].items():
        _validate_statistics(f"{where} {name}", stats, len(seeds))


def _validate_statistics(where: str, stats: Any, n_seeds: int) -> None:
    if not isinstance(stats, Mapping) or set(stats) != {"mean", "std", "runs"}:
        raise ResultsSchemaError(f"{where}: expected exactly the keys mean, std and runs")
    runs = stats["runs"]
    if not isinstance(runs, list) or len(runs) != n_seeds:
        raise ResultsSchemaError(f"{where}: runs must list one value per seed ({n_seeds})")
    if not all(_is_number(v) and math.isfinite(v) for v in runs):
        raise ResultsSchemaError(f"{where}: runs must be finite numbers")
    expected = _statistics(runs)
    if not _is_number(stats["mean"]) or not math.isclose(
        stats["mean"], expected["mean"], rel_tol=1e-9, abs_tol=1e-12
    ):
        raise ResultsSchemaError(f"{where}: mean {stats['mean']!r} is not the mean of runs")
    if expected["std"] is None:
        if stats["std"] is not None:
            raise ResultsSchemaError(f"{where}: std must be null for a single seed")
    elif not _is_number(stats["std"]) or not math.isclose(
        stats["std"], expected["std"], rel_tol=1e-9, abs_tol=1e-12
    ):
        raise ResultsSchemaError(
            f"{where}: std {stats['std']!r} is not the sample standard deviation of runs"
        )


def write_results(summary: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Validate ``summary`` and write it to ``path`` as JSON, atomically; return the path.

    The file appears complete or not at all (written to a temporary file in the same folder,
    then renamed). Parent folders are created.
    """
    path = Path(path)
    validate_results(summary, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(summary, stream, indent=2, ensure_ascii=False, allow_nan=False)
            stream.write("\n")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results file and validate it; errors name the file and the problem."""
    path = Path(path)
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ResultsSchemaError(f"{path}: not valid JSON ({error})") from None
    return validate_results(summary, str(path))


def run_label(data_kind: str) -> str:
    """Column label of this run's numbers: ``"this run (phantom)"`` or ``"this run (real)"``."""
    _check_data_kind(data_kind, "run_label")
    return f"this run ({data_kind})"


def comparison_table(
    summary: Mapping[str, Any], paper_df: pd.DataFrame, *, include_paper_only: bool = False
) -> pd.DataFrame:
    """This run's numbers beside the papers', one row per (method, metric).

    Columns: ``"this run (<data kind>)"`` (mean over seeds), ``"... std"``, ``"... seeds"``,
    then one column per paper source, labelled ``"paper (the SupReMix paper, Table 2)"``.
    ``paper_df`` is a slice of :func:`supremix.paper.paper_results` for the summary's dataset;
    within one source each (method, metric) must have one number (filter settings and subsets
    first).
    ``include_paper_only`` adds rows for methods and metrics only the papers report.
    Numbers are shown as stored: the AdaCon paper prints R2 in percent.
    """
    summary = validate_results(summary, "summary")
    ours = run_label(summary["data_kind"])
    rows = {
        (method, metric): {
            ours: stats["mean"],
            f"{ours} std": np.nan if stats["std"] is None else stats["std"],
            f"{ours} seeds": len(entry["seeds"]),
        }
        for method, entry in summary["methods"].items()
        for metric, stats in entry["metrics"].items()
    }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["method", "metric"])
    sources = []
    if not paper_df.empty:
        datasets = set(paper_df["dataset"])
        if datasets != {summary["dataset"]}:
            raise ValueError(
                f"paper numbers are for {sorted(datasets)} but this run is on "
                f"{summary['dataset']!r}; filter paper_results(dataset=...)"
            )
        for (paper, table), part in paper_df.groupby(["paper", "table"], sort=False):
            clash = part.duplicated(subset=["method", "metric"], keep=False)
            if clash.any():
                settings = sorted(
                    (set(part.loc[clash, "setting"]) | set(part.loc[clash, "subset"])) - {""}
                )
                raise ValueError(
                    f"{reference_label(paper, table)} has several numbers per method and metric "
                    f"(settings/subsets {settings}); filter paper_df to one"
                )
            label = f"paper ({reference_label(paper, table)})"
            sources.append(label)
            frame = frame.join(
                part.set_index(["method", "metric"])["value"].rename(label), how="outer"
            )
    order = list(rows)
    if include_paper_only:
        order += [key for key in paper_df.set_index(["method", "metric"]).index if key not in rows]
    frame = frame.reindex(
        pd.MultiIndex.from_tuples(list(dict.fromkeys(order)), names=frame.index.names)
    )
    frame[f"{ours} seeds"] = frame[f"{ours} seeds"].astype("Int64")
    return frame[[ours, f"{ours} std", f"{ours} seeds", *sources]]


def collect_results(paths: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """Every results file under ``paths`` (files, or folders searched recursively for
    ``*.json``) as one long table: ``source``, ``dataset``, ``data_kind``, ``method``,
    ``metric``, ``mean``, ``std``, ``n_seeds``, ``created``, ``notes``.

    A file that does not follow the schema raises :class:`ResultsSchemaError` naming it.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.rglob("*.json")) if path.is_dir() else [path])
    rows = []
    for file in files:
        summary = load_results(file)
        for method, entry in summary["methods"].items():
            for metric, stats in entry["metrics"].items():
                rows.append(
                    {
                        "source": str(file),
                        "dataset": summary["dataset"],
                        "data_kind": summary["data_kind"],
                        "method": method,
                        "metric": metric,
                        "mean": stats["mean"],
                        "std": np.nan if stats["std"] is None else stats["std"],
                        "n_seeds": len(entry["seeds"]),
                        "created": summary["provenance"].get("created", ""),
                        "notes": summary["notes"],
                    }
                )
    columns = ["source", "dataset", "data_kind", "method", "metric", "mean", "std", "n_seeds"]
    return pd.DataFrame(rows, columns=[*columns, "created", "notes"])
