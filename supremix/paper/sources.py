"""Which of the papers' tables a dataset notebook shows beside its own numbers, and what they
report.

:data:`PAPER_SOURCES` names, per dataset, the main comparison tables of the SupReMix paper
(Tables 2-7 and the text of §5.2 on Figure 5), Mixup Your Own Pairs (Tables 1 and 3-6) and
AdaCon (Table IX, EchoNet). :func:`paper_reference` reads their numbers from
:func:`~supremix.paper.paper_results`; :func:`paper_coverage` says which metric each reports
for which method. They are references, never results of a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .papers import paper_key, reference_label
from .tables import paper_results
from .vocabulary import HIGHER_IS_BETTER, canonical_method

#: The four metrics of the SupReMix paper §4.4, in the order the book shows them.
SHOWN_METRICS = ("MAE", "MSE", "GM", "rho")


@dataclass(frozen=True)
class PaperSource:
    """One table of a paper whose numbers a dataset notebook shows beside its own.

    ``subset`` and ``setting`` select one row per method where the table has several (e.g.
    the ``"overall"`` rows of a missing-target table); ``metrics`` limits the metrics taken.
    """

    paper: str
    table: str
    subset: str = ""
    setting: str = ""
    metrics: tuple[str, ...] = SHOWN_METRICS
    note: str = ""
    protocol: str = "linear_probe"  # shown only beside runs of this protocol

    def __post_init__(self) -> None:
        paper_key(self.paper)

    @property
    def label(self) -> str:
        """How the book names the table (:func:`~supremix.paper.reference_label`)."""
        return reference_label(self.paper, self.table)


#: dataset -> the papers' main comparison tables for it.
PAPER_SOURCES: dict[str, tuple[PaperSource, ...]] = {
    "ukb": (
        PaperSource("supremix", "Table 2"),
        PaperSource(
            "mixup-pairs",
            "Table 4",
            note="its own fine-tuning (preset ukb-mixup-pairs)",
            protocol="finetune",
        ),
    ),
    "hcp": (
        PaperSource("supremix", "Table 3"),
        PaperSource(
            "mixup-pairs", "Table 6", note="its own fine-tuning (HCP-Aging)", protocol="finetune"
        ),
    ),
    "rsna": (
        PaperSource("supremix", "Table 5"),
        PaperSource(
            "supremix", "Figure 5 (text §5.2)", note="MAE quoted in the text; Figure 5 is a chart"
        ),
    ),
    "rhpe": (PaperSource("supremix", "Table 6"),),
    "echonet": (
        PaperSource("supremix", "Table 4"),
        PaperSource(
            "supremix", "Figure 5 (text §5.2)", note="MAE quoted in the text; Figure 5 is a chart"
        ),
        PaperSource("adacon", "Table IX", metrics=("MAE",), note="AdaCon's multi-task protocol"),
    ),
    "a4": (PaperSource("supremix", "Table 7"),),
    "airfoil": (PaperSource("mixup-pairs", "Table 5"),),
    "agedb": (PaperSource("mixup-pairs", "Table 1"),),
    "imdbwiki": (PaperSource("mixup-pairs", "Table 3"),),
    "stsb": (PaperSource("mixup-pairs", "Table 2"),),
}


def _sources(dataset: str) -> tuple[PaperSource, ...]:
    if dataset not in PAPER_SOURCES:
        raise ValueError(
            f"no paper sources for {dataset!r}; expected one of {', '.join(PAPER_SOURCES)}"
        )
    return PAPER_SOURCES[dataset]


def paper_reference(dataset: str, *, protocol: str | None = None) -> pd.DataFrame:
    """The numbers of :data:`PAPER_SOURCES` for ``dataset``, one per (source, method, metric),
    as rows of :func:`~supremix.paper.paper_results`; with ``protocol``, only the sources of
    that protocol (a fine-tuned table never sits beside linear-probe runs)."""
    parts = []
    for source in _sources(dataset):
        if protocol is not None and source.protocol != protocol:
            continue
        part = paper_results(source.paper, table=source.table, dataset=dataset)
        part = part[part["metric"].isin(source.metrics)]
        part = part[(part["subset"] == source.subset) & (part["setting"] == source.setting)]
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else paper_results().iloc[:0]


def paper_coverage(dataset: str, methods: Sequence[str]) -> pd.DataFrame:
    """Which of :data:`SHOWN_METRICS` each paper source reports, for which of ``methods``.

    One row per source (named by :attr:`PaperSource.label`), then ``"no source"``; one column
    per metric: the methods with a number (``"-"``: none) or, in ``"no source"``, the methods
    no source reports the metric for; ``note`` says how a source differs from a run here (its
    own protocol, numbers quoted in the text).
    """
    wanted = [canonical_method(m) for m in methods]
    reference = paper_reference(dataset)
    rows: dict[str, dict[str, str]] = {}
    covered: dict[str, set[str]] = {metric: set() for metric in SHOWN_METRICS}
    for source in _sources(dataset):
        part = reference[
            (reference["paper"] == source.paper) & (reference["table"] == source.table)
        ]
        row = {"note": source.note}
        for metric in SHOWN_METRICS:
            have = [m for m in wanted if ((part["method"] == m) & (part["metric"] == metric)).any()]
            covered[metric].update(have)
            row[metric] = ", ".join(have) or "-"
        rows[source.label] = row
    rows["no source"] = {"note": ""} | {
        metric: ", ".join(m for m in wanted if m not in covered[metric]) or "-"
        for metric in SHOWN_METRICS
    }
    columns = [*SHOWN_METRICS, "note"]
    return pd.DataFrame.from_dict(rows, orient="index")[columns].rename_axis("source")


def best_in_paper(dataset: str, metric: str) -> tuple[str, float, str]:
    """``(method, value, source)`` of the best number the sources report for ``metric``."""
    reference = paper_reference(dataset)
    part = reference[reference["metric"] == metric]
    if part.empty:
        raise ValueError(f"no paper source reports {metric} for {dataset}")
    index = part["value"].idxmax() if metric in HIGHER_IS_BETTER else part["value"].idxmin()
    row = part.loc[index]
    return row["method"], float(row["value"]), reference_label(row["paper"], row["table"])
