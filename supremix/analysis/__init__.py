"""Analyses of learned representations (the SupReMix paper, §5.1.1, §5.1.2, §5.3).

* :mod:`.embedding_map`: t-SNE / UMAP maps coloured by label (Figs. 3 and 6).
* :mod:`.hardness`: logits of positive and hardest negative pairs over training (Fig. 4).
* :mod:`.lipschitz`: Normalised Lipschitz Factor Distribution and bootstrap Z-gap (Fig. 7).
* :mod:`.ordinality`: how much label order a representation keeps, for the label-permutation
  experiment (Fig. 3).
"""

from ..extras import require

require("train", by=__name__)

from .embedding_map import embed_2d, plot_embedding
from .hardness import HardnessStats, LogitHardnessTracker, logit_hardness, pair_logits
from .lipschitz import (
    NLFDBootstrap,
    bootstrap_nlfd_gap,
    lipschitz_factors,
    nearest_neighbors,
    nlfd_z_gap,
    standardize_features,
)
from .ordinality import ordinality_score, pair_indices, permutation_sensitivity

__all__ = [
    "HardnessStats",
    "LogitHardnessTracker",
    "NLFDBootstrap",
    "bootstrap_nlfd_gap",
    "embed_2d",
    "lipschitz_factors",
    "logit_hardness",
    "nearest_neighbors",
    "nlfd_z_gap",
    "ordinality_score",
    "pair_indices",
    "pair_logits",
    "permutation_sensitivity",
    "plot_embedding",
    "standardize_features",
]
