"""The numbers the papers report, as data: every results table of the SupReMix paper
(``paper="supremix"``), Mixup Your Own Pairs (``"mixup-pairs"``) and the AdaCon paper
(``"adacon"``).

>>> from supremix.paper import paper_results, paper_table
>>> # UCI airfoil, Table 5 of Mixup Your Own Pairs, one row per method:
>>> paper_table(paper="mixup-pairs", table="Table 5")  # doctest: +SKIP

:func:`paper_claims` holds the numbers stated only in the text (with their section);
:func:`gm_above_mae` and :func:`mae_above_rmse` show the stored cells that cannot be what their
column says. They are references to put beside a run's numbers (see
:func:`supremix.reporting.comparison_table`), never results of this project.
"""

from .claims import gm_above_mae, mae_above_rmse, paper_claims, relative_improvement, within_claim
from .papers import PAPERS, Paper, paper_name, reference_label
from .tables import (
    RESULT_COLUMNS,
    load_paper,
    paper_gains,
    paper_results,
    paper_results_methods,
    paper_settings,
    paper_table,
)
from .vocabulary import (
    DATASETS,
    HIGHER_IS_BETTER,
    METRICS,
    canonical_method,
    canonical_metric,
)

__all__ = [
    "DATASETS",
    "HIGHER_IS_BETTER",
    "METRICS",
    "PAPERS",
    "RESULT_COLUMNS",
    "Paper",
    "canonical_method",
    "canonical_metric",
    "gm_above_mae",
    "load_paper",
    "mae_above_rmse",
    "paper_claims",
    "paper_gains",
    "paper_name",
    "paper_results",
    "paper_results_methods",
    "paper_settings",
    "paper_table",
    "reference_label",
    "relative_improvement",
    "within_claim",
]
