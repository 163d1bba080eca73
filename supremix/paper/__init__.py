"""The numbers the seeds report, as data: every results table of seeds 001, 002 and 003.

>>> from supremix.paper import paper_results, paper_table
>>> paper_table(seed=2, table="Table 5")  # UCI-airfoil, seed 002 Table 5  # doctest: +SKIP

They are references to put beside a run's numbers (see
:func:`supremix.reporting.comparison_table`), never results of this project.
"""

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
    "load_seed",
    "paper_gains",
    "paper_results",
    "paper_results_methods",
    "paper_settings",
    "paper_table",
    "reference_label",
    "seed_number",
]
