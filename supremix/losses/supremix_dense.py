"""The SupReMix rows of a small batch in a few dense operations, differentiated by autograd.

Same quantities as :mod:`supremix.losses.supremix_rows` (book page "The SupReMix loss,
specified", ``book/loss_spec.md``, section "Computing it exactly"): per anchor ``i``,
``lse_i = log sum_{a in A_i} w_ia exp(s_ia / t)`` over the real views, the Mix-neg and the
Mix-pos of ``i`` (weights divided by ``R``, eq. (5)), and ``S_i``, the sum of its positives'
logits. Every logit is a combination of entries of ``H = Z_anchor Z^T / t``; here each Mix-pos
logit ``lam H_ij + (1 - lam) H_ik`` is formed for its own triple ``(i, j, k)``, with no
factorisation, no chunks and no hand-written gradient. That costs one entry per triple, so it
is used only where a batch has at most as many Mix-pos triples as entries of ``H`` and
``H`` is small (:func:`dense_fits`): autograd keeps about ten ``(n, N)`` matrices, so beyond
``DENSE_MAX_ENTRIES`` the chunked path's lighter state wins on memory, while a small batch pays
a few dozen tensor operations instead of the chunked path's bookkeeping.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .mixpos import MixPosLayout, _ranges
from .supremix_rows import RowSpec

#: Largest ``n N`` (anchors times contrasted views) computed densely.
DENSE_MAX_ENTRIES = 2**15


def dense_fits(n: int, N: int, layout: MixPosLayout | None) -> bool:
    """Whether the dense form keeps memory within a few ``(n, N)`` matrices."""
    if n * N > DENSE_MAX_ENTRIES:
        return False
    return layout is None or int(layout.triples_per_anchor.sum()) <= n * N


def dense_rows(
    anchors: Tensor, z: Tensor, spec: RowSpec, layout: MixPosLayout | None
) -> tuple[Tensor, Tensor]:
    """``(lse, S)`` of every anchor (module docstring); ``spec.blocks`` is not used."""
    own = spec.offset  # anchor i's own column is i + offset: a diagonal of the rows
    scaled = anchors / spec.temperature
    if spec.detach:
        logits, mixed = _SharedGram.apply(scaled, z)
    else:
        logits = mixed = scaled @ z.T
    gap = (spec.anchor_labels[:, None] - spec.labels[None, :]).abs().to(logits.dtype)
    same = gap == 0  # the anchor's own column included
    positives = same.clone()
    positives.diagonal(own).fill_(False)

    real = logits + torch.log1p(gap) if spec.distance_weight else logits.clone()
    real.diagonal(own).fill_(float("-inf"))
    row_max = real.detach().amax(dim=1)
    rows = [real]
    if spec.lambdas is not None:
        lam = spec.lambdas
        neg = torch.lerp(mixed, mixed.diagonal(own)[:, None], lam)
        if spec.distance_weight:  # the Mix-neg label lam y_i + (1 - lam) y_k
            neg = neg + torch.log1p(gap.mul_(1 - lam))
        if spec.groups is not None and spec.anchor_groups is not None:
            same |= spec.anchor_groups[:, None] != spec.groups[None, :]
        neg = neg.masked_fill(same, float("-inf"))
        row_max = torch.maximum(row_max, neg.detach().amax(dim=1))
        rows.append(neg)
    total = sum(
        (torch.exp(row - row_max[:, None]).sum(dim=1) for row in rows), torch.zeros_like(row_max)
    )
    positive = torch.where(positives, logits, 0.0).sum(dim=1)
    if layout is not None:
        anchor, pos = _mix_pos_logits(mixed, spec, layout)
        # a convex combination of H entries off the own column: at most row_max
        total = total.index_add(0, anchor, torch.exp(pos - row_max.index_select(0, anchor)))
        positive = positive.index_add(0, anchor, pos)
    lse = row_max + torch.log(total) - spec.log_range
    return lse, positive


def _mix_pos_logits(mixed: Tensor, spec: RowSpec, layout: MixPosLayout) -> tuple[Tensor, Tensor]:
    """``(anchor, lam H_ij + (1 - lam) H_ik)`` for every Mix-pos triple, grouped by anchor.

    Enumerated as (anchor, view below) rows, each repeated once per view above; positions are
    in the layout's sorted order, so every run is contiguous and no division is needed.
    """
    N = mixed.shape[1]
    order, sorted_labels = layout.order, spec.labels[layout.order]
    below, below_at = _ranges(*layout.below_views)
    above_start, above_count = (part.index_select(0, below) for part in layout.above_views)
    row, above_at = _ranges(above_start, above_count)
    # index_select, not x[index]: several times faster on a CPU
    anchor = below.index_select(0, row)
    row_flat = below * N
    j_flat = (row_flat + order.index_select(0, below_at)).index_select(0, row)
    k_flat = row_flat.index_select(0, row) + order.index_select(0, above_at)
    y = spec.anchor_labels.index_select(0, anchor)
    high = sorted_labels.index_select(0, above_at)
    low = sorted_labels.index_select(0, below_at).index_select(0, row)
    lam = ((high - y) / (high - low)).to(mixed.dtype)
    flat = mixed.reshape(-1)
    return anchor, torch.lerp(flat.index_select(0, k_flat), flat.index_select(0, j_flat), lam)


class _SharedGram(torch.autograd.Function):
    """``(H, H)`` from one product ``H = A Z^T``: the first copy differentiable in ``A`` and
    ``Z``, the second (the mixture side, detached) in ``A`` only."""

    @staticmethod
    def forward(ctx, scaled: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
        ctx.save_for_backward(scaled, z)
        logits = scaled @ z.T
        return logits, logits.clone()

    @staticmethod
    def backward(ctx, grad_logits: Tensor | None, grad_mixed: Tensor | None):
        scaled, z = ctx.saved_tensors
        grad_z = None if grad_logits is None else grad_logits.T @ scaled
        if grad_logits is None:
            grad_logits = grad_mixed
        elif grad_mixed is not None:
            grad_logits = grad_logits + grad_mixed
        grad_scaled = None if grad_logits is None else grad_logits @ z
        return grad_scaled, grad_z
