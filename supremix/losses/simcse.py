"""Supervised SimCSE (Gao et al. 2021) adapted to regression as Mixup Your Own Pairs App. C.1
describes for STS-B-DIR: the continuous target is binarised at a threshold of 2, "pairs with
similarity scores greater than 2 will be considered positive pairs and vice versa".

As for every contrastive loss of the book, the loss acts on the pair embedding ``z_i`` of each
sentence pair (the projection of ``[u, v, |u - v|, u * v]``, §4), one view per item (no text
augmentation, §4). With ``b_i = 1[y_i > threshold]``, anchor ``i``'s positives are the other
items on its side of the threshold, ``P_i = {p != i : b_p = b_i}``, its negatives the items on
the other side, and with ``s_ia = <z_i, z_a> / (|z_i| |z_a|)``

``L_i = -(1/|P_i|) sum_{p in P_i} log [exp(s_ip / t) / sum_{a != i} exp(s_ia / t)]``,

averaged over the anchors with ``|P_i| > 0`` (an anchor alone on its side of the threshold
contributes nothing, as SupCon's anchors without a positive, App. C.1). Each positive is a
cross-entropy term over every other item of the batch, the form of SimCSE's supervised
objective (its eq. (5)) with in-batch positives in place of the one entailment hypothesis and
the other side of the threshold in place of the contradiction hypotheses. It is therefore
SupCon on the binarised labels; the scores only matter through their side of the threshold.

Another reading of App. C.1 applies SimCSE to the two *sentences* of an item (``u_i`` and
``v_i`` positives when ``y_i > 2``). The book follows the issue's design, in which all the
contrastive losses act on the pair embedding; the STS-B notebook says so beside the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .common import OptionsModule, make_options
from .supcon import supcon_as
from .validation import check_features, check_labels, check_positive

#: Mixup Your Own Pairs App. C.1: scores above 2 (of 0-5) are positives.
SIMCSE_THRESHOLD = 2.0


def _check_threshold(threshold: float) -> None:
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ValueError(f"simcse: threshold must be a finite number, got {threshold!r}")


@dataclass(frozen=True)
class SimCSEOptions:
    """Settings of supervised SimCSE: ``temperature``, the label ``threshold`` (App. C.1 of
    Mixup Your Own Pairs: 2), ``normalize`` and ``gather`` as for SupCon."""

    temperature: float
    threshold: float = SIMCSE_THRESHOLD
    normalize: bool = True
    gather: bool = True

    def __post_init__(self) -> None:
        check_positive("simcse", "temperature", self.temperature)
        _check_threshold(self.threshold)


def simcse_loss(
    features: Tensor, labels: Tensor, *, options: SimCSEOptions | None = None, **settings: object
) -> Tensor:
    """Supervised SimCSE on labels binarised at ``threshold`` (``label > threshold``).

    ``features`` ``(n, d)``, ``labels`` ``(n,)`` continuous targets; ``options`` a
    :class:`SimCSEOptions` or its fields as keywords (``temperature=0.1``). Features are
    L2-normalised unless ``normalize=False``; under ``torch.distributed`` anchors are
    contrasted with the batch of all ranks unless ``gather=False``.
    """
    opts: SimCSEOptions = make_options("simcse", SimCSEOptions, options, settings)
    check_features("simcse", features)
    labels = check_labels("simcse", labels, features.shape[0])
    sides = (labels > opts.threshold).to(torch.float32)
    return supcon_as("simcse", features, sides, opts.temperature, opts.normalize, opts.gather)


class SimCSELoss(OptionsModule[SimCSEOptions]):
    """Module form of :func:`simcse_loss`: ``SimCSELoss(temperature=...)`` or
    ``SimCSELoss(options)``; ``forward(features, labels, groups=None, generator=None)``
    (``groups`` and ``generator`` unused: SimCSE draws nothing, mixes nothing)."""

    loss_name, options_type = "simcse", SimCSEOptions
    loss_function = staticmethod(simcse_loss)
