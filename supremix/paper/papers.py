"""The three papers whose numbers :mod:`supremix.paper` holds, by the short key the API takes.

``paper="supremix"`` is the SupReMix paper (Wu et al., arXiv:2309.16633 v4, 2025),
``paper="mixup-pairs"`` Mixup Your Own Pairs (the same authors' v1 of 2023) and
``paper="adacon"`` the AdaCon paper (Dai et al., IEEE TMI 2021); ``citation`` is each one's
key in the book's bibliography. Each paper's numbers live in ``<key>.json`` beside this
module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    """One paper: ``key`` (what ``paper=`` takes), ``name`` (how a sentence names it) and
    ``citation`` (its key in the book's ``references.bib``)."""

    key: str
    name: str
    citation: str


#: key -> paper, in the order the book lists them.
PAPERS: dict[str, Paper] = {
    paper.key: paper
    for paper in (
        Paper("supremix", "the SupReMix paper", "wu2025supremix"),
        Paper("mixup-pairs", "Mixup Your Own Pairs", "wu2023mixup"),
        Paper("adacon", "the AdaCon paper", "dai2021adacon"),
    )
}


def paper_key(paper: str) -> str:
    """``paper`` checked against :data:`PAPERS`; raises ``ValueError`` naming the known keys."""
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; expected one of {', '.join(PAPERS)}")
    return paper


def paper_name(paper: str) -> str:
    """How a sentence names ``paper``: ``paper_name("mixup-pairs")`` -> ``"Mixup Your Own
    Pairs"``."""
    return PAPERS[paper_key(paper)].name


def reference_label(paper: str, table: str) -> str:
    """How the book names a source: ``reference_label("supremix", "Table 2")`` -> ``"the
    SupReMix paper, Table 2"``."""
    return f"{paper_name(paper)}, {table}"
