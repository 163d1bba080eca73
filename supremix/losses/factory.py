"""Build any loss of the package by name (what configs and the training engine use)."""

from __future__ import annotations

from typing import Any

from torch import nn

from .adacon import AdaConLoss
from .npair import NPairLoss
from .regression import REGRESSION_LOSSES, RegressionLoss
from .rnc import RnCLoss
from .simcse import SimCSELoss
from .supcon import SimCLRLoss, SupConLoss
from .supremix import SupReMixLoss
from .triplet import AdaptiveTripletLoss

CONTRASTIVE_LOSSES = ("supremix", "supcon", "simclr", "adacon", "rnc", "npair", "triplet", "simcse")
LOSS_NAMES = CONTRASTIVE_LOSSES + REGRESSION_LOSSES

_CONTRASTIVE = {
    "supremix": SupReMixLoss,
    "supcon": SupConLoss,
    "simclr": SimCLRLoss,
    "adacon": AdaConLoss,
    "rnc": RnCLoss,
    "npair": NPairLoss,
    "triplet": AdaptiveTripletLoss,
    "simcse": SimCSELoss,
}


def build_loss(name: str, **kwargs: Any) -> nn.Module:
    """The loss module called ``name`` built with ``kwargs``.

    Contrastive names take their module's keywords (``build_loss("supremix", temperature=0.5,
    window=5)``, ``build_loss("adacon", train_labels=y, temperature=1.0)``,
    ``build_loss("triplet", train_labels=y)``: the adaptive triplet loss); ``"l1"``,
    ``"mse"`` and ``"huber"`` give a :class:`RegressionLoss` (``huber_delta``, ``reduction``).
    """
    key = name.lower()
    if key in _CONTRASTIVE:
        return _CONTRASTIVE[key](**kwargs)
    if key in REGRESSION_LOSSES:
        return RegressionLoss(key, **kwargs)
    raise ValueError(f"unknown loss {name!r}; expected one of {', '.join(LOSS_NAMES)}")
