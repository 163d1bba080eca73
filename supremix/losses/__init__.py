"""Contrastive-regression losses: SupReMix and its baselines, DDP-aware.

Every contrastive loss takes flat features ``(n, d)`` (views concatenated along dim 0) and
labels ``(n,)``, exists as a function and as a ``torch.nn.Module``, computes in float32 under
any autocast, and under ``torch.distributed`` contrasts each rank's anchors with the batch of
all ranks (:mod:`supremix.losses.distributed`).

>>> from supremix.losses import supremix_loss
>>> loss = supremix_loss(features, labels, temperature=0.5, window=5)  # doctest: +SKIP
"""

from .adacon import AdaConLoss, adacon_loss, empirical_cdf
from .beta import sample_beta
from .distributed import gather_batch, is_distributed
from .factory import CONTRASTIVE_LOSSES, LOSS_NAMES, build_loss
from .npair import NPairLoss, npair_loss
from .published import (
    MixtureColumns,
    PublishedSupReMixLoss,
    mixture_columns,
    mixture_shift,
    published_supremix_loss,
)
from .regression import REGRESSION_LOSSES, RegressionLoss, regression_loss
from .rnc import RnCLoss, rnc_loss
from .simcse import SIMCSE_THRESHOLD, SimCSELoss, simcse_loss
from .supcon import SimCLRLoss, SupConLoss, simclr_loss, supcon_loss
from .supremix import WINDOW_MODES, SupReMixLoss, mix_pos_triples, supremix_loss
from .triplet import AdaptiveTripletLoss, adaptive_triplet_loss

__all__ = [
    "CONTRASTIVE_LOSSES",
    "LOSS_NAMES",
    "REGRESSION_LOSSES",
    "SIMCSE_THRESHOLD",
    "WINDOW_MODES",
    "AdaConLoss",
    "AdaptiveTripletLoss",
    "MixtureColumns",
    "NPairLoss",
    "PublishedSupReMixLoss",
    "RegressionLoss",
    "RnCLoss",
    "SimCLRLoss",
    "SimCSELoss",
    "SupConLoss",
    "SupReMixLoss",
    "adacon_loss",
    "adaptive_triplet_loss",
    "build_loss",
    "empirical_cdf",
    "gather_batch",
    "is_distributed",
    "mix_pos_triples",
    "mixture_columns",
    "mixture_shift",
    "npair_loss",
    "published_supremix_loss",
    "regression_loss",
    "rnc_loss",
    "sample_beta",
    "simclr_loss",
    "simcse_loss",
    "supcon_loss",
    "supremix_loss",
]
