"""The papers' reported numbers, stored once as JSON (``supremix.json`` ...), as DataFrames.

Each JSON file mirrors the paper's tables: a table has ``columns`` (metric, and where they
vary, dataset, setting, subset, method) and ``rows`` (method or setting, ``values`` in column
order). A cell's dataset, method, metric and subset come from its row, its column or its
table, whichever states it; settings stated at several levels are joined with ``"; "``.
``metric`` is what a column really is and ``printed`` the name the paper prints over it, where
they differ: Mixup Your Own Pairs Table 5's "GM" is the RMSE, the SupReMix paper's "GM" of
Tables 15 and 17 the MSE and of Tables 14, 16, 19 and 20 an unnamed quantity on the MSE scale
(``"GM (MSE scale)"``); a run's GM is never set beside those.
``gains`` rows hold the papers' printed relative improvements (percent); ``settings`` hold
hyperparameter and split tables as printed strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

from .papers import PAPERS, paper_key
from .vocabulary import DATASETS, METRICS, canonical_method, canonical_metric

RESULT_COLUMNS = [
    "paper",
    "table",
    "caption",
    "dataset",
    "method",
    "label",
    "setting",
    "subset",
    "metric",
    "printed",
    "value",
    "std",
    "unit",
    "notes",
]

_SINGLE_LEVEL_KEYS = ("dataset", "method", "metric", "subset")


def _papers(paper: str | None) -> tuple[str, ...]:
    """Every paper's key for ``None``, else ``(paper,)`` checked against :data:`PAPERS`."""
    return tuple(PAPERS) if paper is None else (paper_key(paper),)


@cache
def _load_paper(paper: str) -> dict[str, Any]:
    path = resources.files("supremix.paper") / f"{paper}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def load_paper(paper: str) -> dict[str, Any]:
    """The parsed JSON of ``paper`` (a key of :data:`PAPERS`; a fresh copy, edit it freely)."""
    return json.loads(json.dumps(_load_paper(paper_key(paper))))


def _pick(where: str, key: str, *levels: dict[str, Any]) -> str:
    stated = {level[key] for level in levels if level.get(key) not in (None, "")}
    if len(stated) > 1:
        raise ValueError(f"{where}: {key} stated differently at several levels: {sorted(stated)}")
    return stated.pop() if stated else ""


def _unit(metric: str, dataset: str, column: dict[str, Any]) -> str:
    if column.get("unit"):
        return column["unit"]
    label_unit = DATASETS[dataset][1]
    if metric == "rho" or not label_unit:
        return ""
    return f"({label_unit})²" if metric == "MSE" else label_unit


def _cells(paper: str, table: dict[str, Any]):
    """Yield ``(row, column, value, std, where)`` for every cell of ``table``."""
    columns = table.get("columns", [])
    for i, row in enumerate(table["rows"]):
        where = f"{paper}.json {table['id']} row {i + 1}"
        values = row["values"]
        stds = row.get("stds", [None] * len(values))
        if len(values) != len(columns) or len(stds) != len(columns):
            raise ValueError(f"{where}: {len(values)} values for {len(columns)} columns")
        for column, value, std in zip(columns, values, stds, strict=True):
            yield row, column, value, std, where


def _records(paper: str) -> list[dict[str, Any]]:
    data = _load_paper(paper)
    records = []
    for table in data["tables"]:
        for row, column, value, std, where in _cells(paper, table):
            fields = {key: _pick(where, key, table, column, row) for key in _SINGLE_LEVEL_KEYS}
            if fields["dataset"] not in DATASETS:
                raise ValueError(f"{where}: unknown dataset {fields['dataset']!r}")
            if fields["metric"] not in METRICS:
                raise ValueError(f"{where}: unknown metric {fields['metric']!r}")
            if not fields["method"]:
                raise ValueError(f"{where}: no method")
            settings = [level.get("setting", "") for level in (table, column, row)]
            notes = [level.get("notes", "") for level in (table, row)]
            records.append(
                {
                    "paper": paper,
                    "table": table["id"],
                    "caption": table["caption"],
                    **fields,
                    "label": row.get("label", fields["method"]),
                    "printed": column.get("printed", fields["metric"]),
                    "setting": "; ".join(s for s in settings if s),
                    "value": float(value),
                    "std": math.nan if std is None else float(std),
                    "unit": _unit(fields["metric"], fields["dataset"], column),
                    "notes": " ".join(n for n in notes if n),
                }
            )
    return records


def _as_set(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def _check_known(what: str, wanted: set[str] | None, known: Iterable[str]) -> None:
    known = sorted(set(known))
    unknown = sorted((wanted or set()) - set(known))
    if unknown:
        raise ValueError(
            f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
        )


def paper_results(
    paper: str | None = None,
    table: str | Iterable[str] | None = None,
    dataset: str | Iterable[str] | None = None,
    method: str | Iterable[str] | None = None,
    metric: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every reported number of the papers, one row per table cell, filtered by the arguments.

    Columns: ``paper`` (a key of :data:`~supremix.paper.PAPERS`), ``table`` ("Table 2",
    "Table XIII", "Figure 5 (text §5.2)"), ``caption``, ``dataset`` (a key of
    :data:`~supremix.paper.DATASETS`), ``method`` (canonical name), ``label`` (the method as
    printed), ``setting`` (the condition: a window size, a transfer direction...), ``subset``
    (a part of the test set: few-shot, missing targets...), ``metric`` (a key of
    :data:`~supremix.paper.METRICS`), ``value``, ``std`` (NaN: no paper prints one), ``unit``
    and ``notes`` (caveats found while transcribing).

    Filters accept one value or several; an unknown value raises ``ValueError`` listing the
    known ones, so a typo never reads as "the paper has no number".
    """
    records = [record for key in _papers(paper) for record in _records(key)]
    frame = pd.DataFrame(records, columns=RESULT_COLUMNS)
    tables, datasets = _as_set(table), _as_set(dataset)
    methods = None if method is None else {canonical_method(m) for m in _as_set(method) or ()}
    metrics = None if metric is None else {canonical_metric(m) for m in _as_set(metric) or ()}
    _check_known("table", tables, frame["table"])
    _check_known("dataset", datasets, DATASETS)
    _check_known("method", methods, paper_results_methods())
    for column, wanted in (
        ("table", tables),
        ("dataset", datasets),
        ("method", methods),
        ("metric", metrics),
    ):
        if wanted is not None:
            frame = frame[frame[column].isin(wanted)]
    return frame.reset_index(drop=True)


@cache
def _all_methods() -> tuple[str, ...]:
    return tuple(sorted({r["method"] for key in PAPERS for r in _records(key)}))


def paper_results_methods() -> list[str]:
    """Every method name that appears in the papers' tables (canonical spelling)."""
    return list(_all_methods())


def paper_table(
    paper: str | None = None,
    table: str | Iterable[str] | None = None,
    dataset: str | Iterable[str] | None = None,
    method: str | Iterable[str] | None = None,
    metric: str | Iterable[str] | None = None,
    index: tuple[str, ...] = ("method", "setting"),
) -> pd.DataFrame:
    """:func:`paper_results` pivoted to a wide table: one row per ``index``, one column per
    metric and, where they vary, per dataset, setting, subset and source table.

    Rows keep the order of the paper's table. Raises ``ValueError`` when two numbers land in
    one cell (add the distinguishing field to ``index`` or filter more).
    """
    long = paper_results(paper, table, dataset, method, metric)
    if long.empty:
        raise ValueError("no paper numbers match these filters")
    index = tuple(index)
    candidates = ("paper", "table", "dataset", "setting", "subset", "metric")
    columns = [c for c in candidates if c not in index and (c == "metric" or long[c].nunique() > 1)]
    duplicated = long.duplicated(subset=[*index, *columns], keep=False)
    if duplicated.any():
        clash = long.loc[duplicated, [*index, *columns]].drop_duplicates().head(3)
        raise ValueError(
            f"several numbers per cell with index={index}; for example:\n{clash.to_string()}\n"
            "add 'setting', 'subset' or 'table' to index, or filter further"
        )
    wide = long.pivot(index=list(index), columns=columns, values="value")
    row_order = long[list(index)].drop_duplicates()
    wide = wide.reindex(
        pd.MultiIndex.from_frame(row_order) if len(index) > 1 else row_order[index[0]]
    )
    column_order = long[columns].drop_duplicates()
    order = pd.MultiIndex.from_frame(column_order) if len(columns) > 1 else column_order[columns[0]]
    return wide.reindex(columns=order)


def paper_gains(paper: str | None = None, table: str | None = None) -> pd.DataFrame:
    """The papers' printed GAINS rows (relative improvement in percent), one row per cell.

    ``method`` is the improved method (``"best"``: in each column, the best of the methods
    in ``best_of``) and ``baseline`` the method it is compared with. The SupReMix paper divides by
    the baseline's value, Mixup Your Own Pairs by the improved method's.
    """
    rows = []
    for key in _papers(paper):
        for tab in _load_paper(key)["tables"]:
            if table is not None and tab["id"] != table:
                continue
            for gain in tab.get("gains", []):
                for column, value in zip(tab["columns"], gain["values"], strict=True):
                    rows.append(
                        {
                            "paper": key,
                            "table": tab["id"],
                            "label": gain["label"],
                            "method": gain["method"],
                            "best_of": tuple(gain.get("best_of", ())),
                            "baseline": gain["baseline"],
                            "dataset": column.get("dataset") or tab.get("dataset", ""),
                            "setting": "; ".join(
                                s for s in (tab.get("setting", ""), column.get("setting", "")) if s
                            ),
                            "subset": column.get("subset", ""),
                            "metric": column.get("metric") or tab.get("metric", ""),
                            "gain": float(value),
                        }
                    )
    return pd.DataFrame(rows)


def paper_settings(
    paper: str | None = None, table: str | None = None, dataset: str | None = None
) -> pd.DataFrame:
    """Hyperparameter and split tables (the SupReMix paper, Tables 1, 12, 13; Mixup Your Own Pairs'
    Tables 12, 13).

    One row per printed cell: ``paper``, ``table``, ``caption``, ``dataset``, ``name``,
    ``value`` (the printed string, e.g. ``"1e-3"`` or ``"Beta(2, 8)"``), ``notes``.
    """
    if dataset is not None:
        _check_known("dataset", {dataset}, DATASETS)
    rows = []
    for key in _papers(paper):
        for tab in _load_paper(key)["settings"]:
            if table is not None and tab["id"] != table:
                continue
            for row in tab["rows"]:
                if "datasets" in tab:
                    cells = [
                        (d, row["name"], v)
                        for d, v in zip(tab["datasets"], row["values"], strict=True)
                    ]
                else:
                    cells = [
                        (row["dataset"], n, v)
                        for n, v in zip(tab["columns"], row["values"], strict=True)
                    ]
                for cell_dataset, name, value in cells:
                    if dataset is None or cell_dataset == dataset:
                        rows.append(
                            {
                                "paper": key,
                                "table": tab["id"],
                                "caption": tab["caption"],
                                "dataset": cell_dataset,
                                "name": name,
                                "value": value,
                                "notes": tab.get("notes", ""),
                            }
                        )
    return pd.DataFrame(
        rows, columns=["paper", "table", "caption", "dataset", "name", "value", "notes"]
    )
