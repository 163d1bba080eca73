"""The numbers the seeds report, as data: every results table of the SupReMix paper, Mixup Your Own
Pairs and the AdaCon paper.

>>> from supremix.paper import paper_results, paper_table
>>> paper_table(seed=2, table="Table 5")  # UCI-airfoil, Mixup Your Own Pairs' Table 5  # doctest:
+SKIP

:func:`paper_claims` holds the numbers stated only in the text (with their section);
:func:`gm_above_mae` and :func:`mae_above_rmse` show the stored cells that cannot be what their
column says. They are references to put beside a run's numbers (see
:func:`supremix.reporting.comparison_table`), never results of this project.
"""

from .claims import gm_above_mae, mae_above_rmse, paper_claims, relative_improvement, within_claim
from .tables import (
    RESULT_COLUMNS,
    SEEDS,
    load_seed,
    paper_gains,
    paper_results,
    paper_results_methods,
    paper_settings,
    paper_table,
    reference_label,
    seed_number,
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
    "RESULT_COLUMNS",
    "SEEDS",
    "canonical_method",
    "canonical_metric",
    "gm_above_mae",
    "load_seed",
    "mae_above_rmse",
    "paper_claims",
    "paper_gains",
    "paper_results",
    "paper_results_methods",
    "paper_settings",
    "paper_table",
    "reference_label",
    "relative_improvement",
    "seed_number",
    "within_claim",
]
