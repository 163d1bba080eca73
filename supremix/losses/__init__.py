"""Contrastive-regression losses: SupReMix and its baselines, DDP-aware.

Every contrastive loss takes flat features ``(n, d)`` (views concatenated along dim 0) and
labels ``(n,)``, exists as a function and as a ``torch.nn.Module``, computes in float32 under
any autocast, and under ``torch.distributed`` contrasts each rank's anchors with the batch of
all ranks (:mod:`supremix.losses.distributed`).

Each loss has one frozen options object (``SupReMixOptions``, ``SupConOptions``, ...): the
function takes it as ``options=`` or its fields as keywords, the module holds it. Every loss is
registered once (:mod:`supremix.losses.registry`); training configs, the training engine and
the paper vocabulary read the registry. What SupReMix computes, choice by choice, is on the
book page "The SupReMix loss, specified".

>>> from supremix.losses import supremix_loss
>>> loss = supremix_loss(features, labels, temperature=0.5, window=5)  # doctest: +SKIP
"""

from .adacon import AdaConLoss, AdaConOptions, adacon_loss, empirical_cdf
from .beta import sample_beta
from .distributed import gather_batch, is_distributed
from .factory import CONTRASTIVE_LOSSES, LOSS_NAMES, build_loss
from .mixpos import WINDOW_EDGES, WINDOW_MODES, mix_pos_triples
from .npair import NPairLoss, NPairOptions, npair_loss
from .published import (
    MixtureColumns,
    PublishedOptions,
    PublishedSupReMixLoss,
    mixture_columns,
    mixture_shift,
    published_supremix_loss,
)
from .registry import (
    LossEntry,
    display_names,
    get_loss,
    loss_names,
    main_loss_names,
    register_loss,
)
from .regression import REGRESSION_LOSSES, RegressionLoss, regression_loss
from .rnc import RnCLoss, RnCOptions, rnc_loss
from .simcse import SIMCSE_THRESHOLD, SimCSELoss, SimCSEOptions, simcse_loss
from .supcon import (
    SimCLRLoss,
    SimCLROptions,
    SupConLoss,
    SupConOptions,
    simclr_loss,
    supcon_loss,
)
from .supremix import REDUCTIONS, SupReMixLoss, SupReMixOptions, supremix_loss
from .triplet import AdaptiveTripletLoss, TripletOptions, adaptive_triplet_loss

__all__ = [
    "CONTRASTIVE_LOSSES",
    "LOSS_NAMES",
    "REDUCTIONS",
    "REGRESSION_LOSSES",
    "SIMCSE_THRESHOLD",
    "WINDOW_EDGES",
    "WINDOW_MODES",
    "AdaConLoss",
    "AdaConOptions",
    "AdaptiveTripletLoss",
    "LossEntry",
    "MixtureColumns",
    "NPairLoss",
    "NPairOptions",
    "PublishedOptions",
    "PublishedSupReMixLoss",
    "RegressionLoss",
    "RnCLoss",
    "RnCOptions",
    "SimCLRLoss",
    "SimCLROptions",
    "SimCSELoss",
    "SimCSEOptions",
    "SupConLoss",
    "SupConOptions",
    "SupReMixLoss",
    "SupReMixOptions",
    "TripletOptions",
    "adacon_loss",
    "adaptive_triplet_loss",
    "build_loss",
    "display_names",
    "empirical_cdf",
    "gather_batch",
    "get_loss",
    "is_distributed",
    "loss_names",
    "main_loss_names",
    "mix_pos_triples",
    "mixture_columns",
    "mixture_shift",
    "npair_loss",
    "published_supremix_loss",
    "register_loss",
    "regression_loss",
    "rnc_loss",
    "sample_beta",
    "simclr_loss",
    "simcse_loss",
    "supcon_loss",
    "supremix_loss",
]
