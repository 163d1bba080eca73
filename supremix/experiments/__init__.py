"""The papers' experiments beyond their main tables, one module per experiment; the book's
notebooks under *Experiments* call them.

* :mod:`supremix.experiments.sweep`: what most of them share: train several variants of a run
  on one dataset (:mod:`~supremix.experiments.settings` says how) and put the table beside the
  paper's (:mod:`~supremix.experiments.results`).
* Representation analyses (the SupReMix paper, §5.1, §5.3, §5.7):
  :mod:`~supremix.experiments.ordinality`, :mod:`~supremix.experiments.hardness`,
  :mod:`~supremix.experiments.continuity`, :mod:`~supremix.experiments.gender_aware`.
* Data regimes (the SupReMix paper, §5.4-5.6, Tables 14 and 16):
  :mod:`~supremix.experiments.pretraining`, :mod:`~supremix.experiments.reduced_data`,
  :mod:`~supremix.experiments.transfer`, :mod:`~supremix.experiments.missing_targets`,
  :mod:`~supremix.experiments.imbalanced`.
* Ablations (the SupReMix paper, Tables 9-11, 15, 17-19): :mod:`~supremix.experiments.ablations`,
  with
  the tables' rows in :mod:`~supremix.experiments.ablation_specs`.
* AdaCon (the AdaCon paper, Tables III, V, VIII, X, XI, XII, XIII):
  :mod:`~supremix.experiments.adacon_schemes` (rows: :mod:`~supremix.experiments.adacon_rows`;
  CAMUS: :mod:`~supremix.experiments.adacon_camus`).
"""

from ..extras import require

require("train", by=__name__)

from .ablations import ABLATIONS, AblationRun, ablation_figure, run_ablation
from .settings import RunSettings
from .sweep import METRIC_KEYS, PaperRow, Sweep, Variant, VariantRun, run_sweep

__all__ = [
    "ABLATIONS",
    "METRIC_KEYS",
    "AblationRun",
    "PaperRow",
    "RunSettings",
    "Sweep",
    "Variant",
    "VariantRun",
    "ablation_figure",
    "run_ablation",
    "run_sweep",
]
