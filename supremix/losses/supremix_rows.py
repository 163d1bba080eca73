"""The SupReMix rows of a batch without renormalised mixtures, chunk by chunk, in O(n N) memory.

For each anchor ``i`` (book page "The SupReMix loss, specified", ``book/loss_spec.md``, section
"Computing it exactly") this computes

* ``lse_i = log sum_{a in A_i} w_ia exp(s_ia / t)`` over the real views, the Mix-neg and the
  Mix-pos of ``i``, with the weights divided by ``R`` (eq. (5));
* ``S_i = sum_{p in P_i} s_ip / t``, the sum of its positives' logits.

Every logit is a combination of entries of ``H = Z_anchor Z^T / t``: Mix-neg
``lam H_ii + (1 - lam) H_ik``, Mix-pos ``lam H_ij + (1 - lam) H_ik``. The Mix-pos sums use the
factorised block form of :mod:`supremix.losses.mixpos`, one row per (anchor, block below,
block above). The distance weights multiply the exponentials and the masks are 0/1 matrices;
the real positives' logit sum is ``z_i`` times the summed features of the anchor's label, over
``t``. Rows are processed in chunks of anchors and the gradient is applied by hand. Each
chunk's backward state (two ``(m, N)`` matrices and its Mix-pos entries) is kept when the
batch is one chunk (the forward pass held all of it at once anyway) or all of it fits in
``KEEP_ROWS`` rows of ``N`` per anchor; otherwise the backward pass recomputes each chunk, so
no intermediate of more than one chunk is kept between the passes. Memory is O(n N) either way.
The mixture side is detached unless ``detach`` is off (the gradient of ``H`` then also reaches
the mixed features).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .mixpos import Blocks, _pairs, chunks

#: Matrix rows of length N alive at once per anchor, and tensors per padded Mix-pos entry.
ROW_COST, ENTRY_COST = 10, 6
#: Rows of N per anchor that the state kept between the passes may take (else: recompute).
KEEP_ROWS = 5
#: Elements per chunk of anchors: 3 N^2 (about a third of the rows of a batch when there are
#: no Mix-pos), and never fewer than this (2^22: a batch of up to about 640 views is one chunk).
MIN_BUDGET = 2**22


@dataclass
class RowSpec:
    """What the rows need besides the features: labels, coefficients and switches."""

    temperature: float
    labels: Tensor  # (N,) float64
    anchor_labels: Tensor  # (n,) float64
    values: Tensor  # (N,) the labels in the compute dtype (distance weights)
    anchor_values: Tensor  # (n,)
    level: Tensor  # (N,) int64 rank of each label among the distinct labels
    anchor_level: Tensor  # (n,)
    groups: Tensor | None  # (N,)
    anchor_groups: Tensor | None  # (n,)
    offset: int  # anchor i's own column is i + offset
    lambdas: Tensor | None  # (n, N) Mix-neg coefficients, or None without Mix-neg
    blocks: Blocks | None  # None without Mix-pos
    distance_weight: bool
    detach: bool
    log_range: float

    def chunks(self, n: int, N: int) -> list[tuple[int, int]]:
        cost = torch.full((n,), ROW_COST * N, dtype=torch.int64)
        if self.blocks is not None:
            cost = cost + ENTRY_COST * self.blocks.cost().cpu()
        return chunks(cost, chunk_budget(N))

    def keep(self, n: int, N: int) -> bool:
        """Whether every chunk's backward state (two ``(n, N)`` float matrices, a margin and the
        padded Mix-pos entries) stays within ``KEEP_ROWS`` rows of ``N`` per anchor."""
        entries = 0 if self.blocks is None else int(self.blocks.cost().sum())
        return 3 * n * N + ENTRY_COST * entries <= KEEP_ROWS * n * N


def chunk_budget(N: int) -> int:
    """Matrix elements (and weighted Mix-pos entries) per chunk of anchors: O(N^2)."""
    return max(3 * N * N, MIN_BUDGET)


def supremix_rows(anchors: Tensor, z: Tensor, spec: RowSpec) -> tuple[Tensor, Tensor]:
    """``(lse, S)`` of every anchor (module docstring); differentiable in ``anchors`` and ``z``."""
    return _Rows.apply(anchors, z, spec)


class _Rows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, anchors: Tensor, z: Tensor, spec: RowSpec) -> tuple[Tensor, Tensor]:
        ctx.save_for_backward(anchors, z)
        ctx.spec = spec
        n, N = anchors.shape[0], z.shape[0]
        lse, positive = anchors.new_empty(n), anchors.new_empty(n)
        ctx.parts = spec.chunks(n, N)
        keep = len(ctx.parts) == 1 or spec.keep(n, N)  # the backward state fits: keep it
        ctx.kept = []
        block_z = None if spec.blocks is None else spec.blocks.sums(z)
        level_z = torch.zeros_like(z).index_add_(0, spec.level, z)
        for start, stop in ctx.parts:
            rows = _Chunk(spec, anchors[start:stop], z, start, block_z, level_z)
            lse[start:stop] = rows.lse
            positive[start:stop] = rows.positive
            if keep:
                ctx.kept.append(rows.for_backward())
        return lse, positive

    @staticmethod
    def backward(ctx, grad_lse: Tensor, grad_positive: Tensor):
        anchors, z = ctx.saved_tensors
        spec: RowSpec = ctx.spec
        t = spec.temperature
        grad_anchors = torch.empty_like(anchors)
        grad_z = torch.zeros_like(z)
        block_z = None if spec.blocks is None else spec.blocks.sums(z)
        level_z = torch.zeros_like(z).index_add_(0, spec.level, z)
        level_grad = torch.zeros_like(z)  # per label: sum of grad_positive times the anchor
        block_grad = None
        kept = ctx.kept or [None] * len(ctx.parts)
        ctx.kept = None
        for (start, stop), rows in zip(ctx.parts, kept, strict=True):
            part = anchors[start:stop]
            rows = rows or _Chunk(spec, part, z, start, block_z, level_z)
            gp = grad_positive[start:stop]
            real, mixed, own = rows.gradients(grad_lse[start:stop], gp)
            # the real positives: every view of the anchor's label but its own column
            own_z = z[rows.own]
            levels = spec.anchor_level[start:stop]
            weighted = part * gp[:, None]
            level_grad.index_add_(0, levels, weighted)
            grad_z.index_add_(0, rows.own, weighted, alpha=-1 / t)
            own_rows = torch.addcmul(
                gp[:, None] * level_z.index_select(0, levels), own_z, (own - gp)[:, None]
            )
            if spec.detach:
                grad_z.addmm_(real.T, part, alpha=1 / t)
            if mixed is not None:
                real += mixed
            if not spec.detach:
                grad_z.addmm_(real.T, part, alpha=1 / t)
                grad_z.index_add_(0, rows.own, part * (own[:, None] / t))
            grad = torch.addmm(own_rows, real, z)
            if block_z is not None:  # the Mix-pos positives' logit sum, by blocks (linear)
                coefficient = rows.coefficient * gp[:, None]
                grad.addmm_(coefficient, block_z)
                if not spec.detach:
                    block_grad = coefficient.T @ part + (0 if block_grad is None else block_grad)
            grad_anchors[start:stop] = grad.div_(t)
        grad_z.add_(level_grad.index_select(0, spec.level), alpha=1 / t)
        if block_grad is not None and spec.blocks is not None:
            grad_z += block_grad.index_select(0, spec.blocks.view_block).div_(t)
        return grad_anchors, grad_z, None


#: Added to a Mix-neg logit that is not a term (the anchor's own label or another group):
#: its ``exp`` is exactly 0 and it never sets the row's maximum.
_NOT_A_TERM = -1e30


class _Chunk:
    """The rows of anchors ``start .. start + m - 1``: forward values, then their gradients.

    Each row is shifted by its largest real or Mix-neg logit, so every ``exp`` is at most the
    term's weight and the largest real term is at least ``exp(0)``. The distance weights of
    eq. (5) multiply the exponentials; masks are 0/1 matrices of the compute dtype.
    """

    def __init__(
        self,
        spec: RowSpec,
        anchors: Tensor,
        z: Tensor,
        start: int,
        block_z: Tensor | None,
        level_z: Tensor,
    ):
        self.spec = spec
        m = anchors.shape[0]
        self.start, self.stop = start, start + m
        part = slice(start, self.stop)
        self.diagonal = start + spec.offset  # anchor r's own column r + diagonal
        self.own = torch.arange(m, device=anchors.device) + self.diagonal
        scaled = anchors / spec.temperature
        logits = scaled @ z.T
        own_logit = logits.diagonal(self.diagonal).clone()
        logits.diagonal(self.diagonal).fill_(float("-inf"))
        row_max = logits.amax(dim=1)
        logits.diagonal(self.diagonal).copy_(own_logit)
        # the real positives' logit sum from per-label sums of z: no (m, N) product
        anchor_level = spec.anchor_level[part]
        label_z = level_z.index_select(0, anchor_level)
        self.positive = torch.linalg.vecdot(scaled, label_z) - own_logit
        self.neg = None
        if spec.lambdas is not None:
            lam = spec.lambdas[part]
            self.lam = lam
            neg = torch.lerp(logits, own_logit[:, None], lam)
            # 1 at the columns of the anchor's own label (its own column included), else 0
            same = torch.sub(anchor_level.to(neg.dtype)[:, None], spec.level.to(neg.dtype))
            same.abs_().sign_().neg_().add_(1)
            if spec.groups is not None and spec.anchor_groups is not None:
                other_group = spec.anchor_groups[part, None] != spec.groups[None, :]
                same = torch.maximum(same, other_group.to(same.dtype))  # not a partner
            neg.add_(same, alpha=_NOT_A_TERM)
            del same
            row_max = torch.maximum(row_max, neg.amax(dim=1))
            self.neg = neg.sub_(row_max[:, None]).exp_()
        shifted = logits.sub_(row_max[:, None])  # in place: H is not needed any more
        shifted.diagonal(self.diagonal).fill_(float("-inf"))  # not a term: exp gives 0
        self.real = shifted.exp()
        if spec.distance_weight:  # in place, in this order: w = 1 + gap, 1 + (1 - lam) gap
            gap = torch.sub(spec.anchor_values[part, None], spec.values[None, :]).abs_()
            self.real.addcmul_(self.real, gap)
            if self.neg is not None:
                self.neg.mul_(gap.addcmul_(gap, self.lam, value=-1).add_(1))
            del gap
        total = self.real.sum(dim=1)
        if self.neg is not None:
            total += self.neg.sum(dim=1)
        if spec.blocks is not None and block_z is not None:
            mix_total, mix_positive = self._mix_pos(spec.blocks, shifted, scaled @ block_z.T)
            total += mix_total
            self.positive += mix_positive
        self.total = total
        self.lse = row_max + torch.log(total) - spec.log_range

    def _mix_pos(
        self, blocks: Blocks, shifted: Tensor, block_sums: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Sum of ``exp`` of the shifted Mix-pos logits and sum of the unshifted ones, per row.

        ``shifted`` is ``H - row_max``: every factor ``exp(lam x)`` off the anchor's own column
        is at most 1. Each (anchor, block below, block above) is one row of two ``(P, width)``
        tables of the blocks' views; a pad reads the row's last column and is multiplied by 0.
        ``block_sums`` holds each row's sums of ``H`` over every block.
        """
        dtype = shifted.dtype
        m, N = shifted.shape
        part = slice(self.start, self.stop)
        anchor, low, high = _pairs(
            blocks.below[0][part],
            blocks.below[1][part],
            blocks.above[0][part],
            blocks.above[1][part],
        )
        y = self.spec.anchor_labels[part].index_select(0, anchor)
        y_high, y_low = blocks.label.index_select(0, high), blocks.label.index_select(0, low)
        lam = ((y_high - y) / (y_high - y_low)).to(dtype)
        row = (anchor * N)[:, None]
        self.flat = [
            blocks.columns.index_select(0, block).add_(row).view(-1) for block in (low, high)
        ]
        values = shifted.view(-1)
        pairs = anchor.shape[0]
        low_exp, high_exp = [
            values.index_select(0, flat).view(pairs, blocks.width).mul_(share[:, None]).exp_()
            for flat, share in zip(self.flat, (lam, 1 - lam), strict=True)
        ]
        present = blocks.present.to(dtype)
        for table, block in ((low_exp, low), (high_exp, high)):
            table.mul_(present.index_select(0, block))
        self.low_exp, self.high_exp = low_exp, high_exp
        self.low_sum, self.high_sum = low_exp.sum(dim=1), high_exp.sum(dim=1)
        self.anchor, self.mix_lam = anchor, lam
        total = shifted.new_zeros(m).index_add_(0, anchor, self.low_sum * self.high_sum)
        # the positives' logit sum is linear: |b| lam G_a + |a| (1 - lam) G_b per block pair
        size = blocks.size.to(dtype)
        count = blocks.count + 1
        coefficient = shifted.new_zeros(m * count)
        coefficient.index_add_(0, anchor * count + low, lam * size.index_select(0, high))
        coefficient.index_add_(0, anchor * count + high, (1 - lam) * size.index_select(0, low))
        self.coefficient = coefficient.view(m, count)
        return total, torch.linalg.vecdot(self.coefficient, block_sums)

    def for_backward(self) -> _Chunk:
        """This chunk without what only the forward pass needs."""
        del self.lse, self.positive
        return self

    def gradients(
        self, grad_lse: Tensor, grad_positive: Tensor
    ) -> tuple[Tensor, Tensor | None, Tensor]:
        """``(real, mixed, own)``: the gradient of ``grad_lse . lse + grad_positive . S`` with
        respect to ``H`` used as a real logit, ``H`` used inside a mixture (``None``: zero), and
        the anchor's own ``H_ii`` inside its Mix-neg. The Mix-pos positives' part of ``mixed``
        is left to the caller: ``grad_positive`` times :attr:`coefficient` per block."""
        scale = grad_lse / self.total
        real = self.real.mul_(scale[:, None])
        mixed = None
        if self.neg is not None:
            neg = self.neg.mul_(scale[:, None])
            own = neg.sum(dim=1)
            mixed = neg.addcmul_(neg, self.lam, value=-1)  # (1 - lam) of each Mix-neg term
            own -= mixed.sum(dim=1)
        else:
            own = torch.zeros_like(scale)
        if self.spec.blocks is not None:
            share = scale.index_select(0, self.anchor)
            low = (share * self.high_sum * self.mix_lam)[:, None]
            high = (share * self.low_sum * (1 - self.mix_lam))[:, None]
            if mixed is None:
                mixed = torch.zeros_like(real)
            flat = mixed.view(-1)  # pads add exactly 0 to the row's last column
            flat.index_add_(0, self.flat[0], self.low_exp.mul_(low).view(-1))
            flat.index_add_(0, self.flat[1], self.high_exp.mul_(high).view(-1))
        return real, mixed, own
