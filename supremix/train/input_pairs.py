"""SupReMix with its pairs mixed at the input (the SupReMix paper App. D.6, Table 19).

App. D.6 compares "pair selection strategies" and says that "input-level mixup significantly
reduces SupReMix effectiveness, while our embedding-level approach outperforms C-Mixup". Read
as SupReMix whose mixtures are formed from inputs instead of embeddings
(``TrainConfig.mix_level="input"``), each anchor ``a`` of a contrastive batch gets

* a Mix-neg: ``x = λ1 x_a + (1 - λ1) x_n`` with a random ``n`` of another label and
  ``λ1 ~ Beta(α, β)`` (the anchor's share, eqs. (1)-(2)), labelled ``λ1 y_a + (1 - λ1) y_n``;
* a Mix-pos where the window allows one: ``x = λ x_j + (1 - λ) x_k`` with
  ``y_a - γ <= y_j < y_a < y_k <= y_a + γ`` drawn at random and ``λ = (y_k - y_a) / (y_k - y_j)``
  so that its label is ``y_a`` (eqs. (3)-(4), inclusive window).

The mixed inputs are appended to the batch and encoded like real items; the loss is SupReMix's
without embedding mixtures (``mix_neg=False, mix_pos=False``) on the extended batch, i.e.
SupCon with the distance magnifying weights: a Mix-pos is a positive of every item of label
``y_a``, a Mix-neg a negative of every item of another label. Two departures from the
embedding-level loss, both forced by mixing before the encoder: mixtures are anchors too, and a
Mix-neg is a negative of every item, not of its own anchor only. The other reading of Table 19
(its rows cite the mixup papers: Vanilla regressions on mixed inputs) is
:data:`supremix.experiments.ablation_specs.PAIR_SELECTION_BASELINES`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from supremix.losses import sample_beta


def _random_pick(mask: Tensor, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
    """Per row of the boolean ``mask``: whether it has a True column, and a uniformly random
    True column (0 where none)."""
    weights = mask.to(torch.float32)
    has = weights.sum(1) > 0
    weights[~has] = 1.0
    return has, torch.multinomial(weights, 1, generator=generator).squeeze(1)


def input_level_pairs(
    x: Tensor,
    y: Tensor,
    *,
    window: float,
    alpha: float,
    beta: float,
    inclusive: bool = True,
    groups: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """``(x', y', groups')``: the batch followed by one Mix-neg per anchor that has a partner
    of another label, then one Mix-pos per anchor that has a label inside the window on each
    side (module docstring). With ``groups``, partners come from the anchor's group only and
    mixtures keep the anchor's group. ``inclusive=False``: the strict window ``|Δy| < γ``."""
    if y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"input_level_pairs: expected x of n rows and labels of shape (n,), got "
            f"{tuple(x.shape)} and {tuple(y.shape)}"
        )
    same_group = torch.ones(len(y), len(y), dtype=torch.bool, device=y.device)
    if groups is not None:
        same_group = groups[:, None] == groups[None, :]
    diff = y[None, :] - y[:, None]  # (anchor, other): y_other - y_anchor
    has_neg, neg = _random_pick((diff != 0) & same_group, generator)
    lam1 = sample_beta((int(has_neg.sum()),), alpha, beta, generator=generator, device=y.device)
    anchors = torch.nonzero(has_neg).squeeze(1)
    shape = (-1,) + (1,) * (x.ndim - 1)
    lam_x = lam1.to(x.dtype).reshape(shape)
    neg_x = lam_x * x[anchors] + (1 - lam_x) * x[neg[anchors]]
    neg_y = lam1.to(y.dtype) * y[anchors] + (1 - lam1.to(y.dtype)) * y[neg[anchors]]
    near = diff.abs() <= window if inclusive else diff.abs() < window
    has_low, low = _random_pick((diff < 0) & near & same_group, generator)
    has_high, high = _random_pick((diff > 0) & near & same_group, generator)
    pos_anchors = torch.nonzero(has_low & has_high).squeeze(1)
    j, k = low[pos_anchors], high[pos_anchors]
    lam = ((y[k] - y[pos_anchors]) / (y[k] - y[j])).to(x.dtype).reshape(shape)
    pos_x = lam * x[j] + (1 - lam) * x[k]
    pos_y = y[pos_anchors]
    new_x = torch.cat([x, neg_x, pos_x])
    new_y = torch.cat([y, neg_y, pos_y])
    new_groups = None
    if groups is not None:
        new_groups = torch.cat([groups, groups[anchors], groups[pos_anchors]])
    return new_x, new_y, new_groups
