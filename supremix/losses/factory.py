"""The losses of this package in the registry (:mod:`supremix.losses.registry`), and
:func:`build_loss`, which builds any of them by name.

Each entry also says which settings of a training configuration (``TrainConfig``) it takes;
the training engine, the configuration's list of methods and the paper vocabulary all read
the registry, so a new loss is registered here (or next to its module) and nowhere else.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .adacon import AdaConLoss
from .npair import NPairLoss
from .registry import LossEntry, get_loss, loss_names, register_loss
from .regression import REGRESSION_LOSSES, RegressionLoss
from .rnc import RnCLoss
from .simcse import SimCSELoss
from .supcon import SimCLRLoss, SupConLoss
from .supremix import SupReMixLoss
from .triplet import AdaptiveTripletLoss


def _temperature(config: Any) -> dict[str, Any]:
    return {"temperature": config.temperature}


def _supremix(config: Any) -> dict[str, Any]:
    alpha, beta = config.beta_params
    return {
        "temperature": config.temperature,
        "window": config.window,
        "alpha": alpha,
        "beta": beta,
        # input-level pairs (mix_level="input") are mixed before the encoder, not here
        "mix_neg": config.mix_neg and config.mix_level == "embedding",
        "mix_pos": config.mix_pos and config.mix_level == "embedding",
        "distance_weight": config.distance_weight,
        "window_edges": config.window_edges,
    }


for _entry in (
    LossEntry("simclr", "SimCLR", "contrastive", SimCLRLoss, _temperature, main=True),
    LossEntry("supcon", "SupCon", "contrastive", SupConLoss, _temperature, main=True),
    LossEntry(
        "adacon",
        "AdaCon",
        "contrastive",
        AdaConLoss,
        _temperature,
        needs_train_labels=True,
        main=True,
    ),
    LossEntry(
        "rnc",
        "RnC",
        "contrastive",
        RnCLoss,
        lambda config: {"temperature": config.rnc_temperature},
        aliases=("rank-n-contrast",),
        main=True,
    ),
    LossEntry("supremix", "SupReMix", "contrastive", SupReMixLoss, _supremix, main=True),
    LossEntry("npair", "N-Pair", "contrastive", NPairLoss, _temperature, aliases=("n-pair",)),
    LossEntry(
        "triplet",
        "Adaptive Triplet",
        "contrastive",
        AdaptiveTripletLoss,
        needs_train_labels=True,
        aliases=("adaptive triplet", "adaptive_triplet"),
    ),
    LossEntry("simcse", "SimCSE", "contrastive", SimCSELoss, _temperature),
    *(LossEntry(kind, kind.upper(), "regression", RegressionLoss) for kind in REGRESSION_LOSSES),
):
    register_loss(_entry)

#: Contrastive losses registered when this module was imported (the registry itself is live).
CONTRASTIVE_LOSSES = loss_names("contrastive")
LOSS_NAMES = loss_names()


def build_loss(name: str, **kwargs: Any) -> nn.Module:
    """The loss module called ``name`` built with ``kwargs``.

    Contrastive names take their module's keywords (``build_loss("supremix", temperature=0.5,
    window=5)``, ``build_loss("adacon", train_labels=y, temperature=1.0)``,
    ``build_loss("triplet", train_labels=y)``: the adaptive triplet loss); ``"l1"``,
    ``"mse"`` and ``"huber"`` give a :class:`RegressionLoss` (``huber_delta``, ``reduction``).
    """
    entry = get_loss(name)
    if entry.kind == "regression":
        return RegressionLoss(entry.name, **kwargs)
    train_labels = kwargs.pop("train_labels", None)
    return entry.build(train_labels, **kwargs)
