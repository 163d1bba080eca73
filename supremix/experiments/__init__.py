"""The seeds' experiments beyond their main tables (issue: analyses, data regimes, ablations,
AdaCon), each a function the book's notebooks call.

:mod:`.sweep` is what they share: train several variants of a run on one dataset and put the
table beside the paper's.
"""

from .sweep import METRIC_KEYS, PaperRow, Sweep, Variant, VariantRun, run_sweep

__all__ = ["METRIC_KEYS", "PaperRow", "Sweep", "Variant", "VariantRun", "run_sweep"]
