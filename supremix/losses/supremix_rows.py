"""The SupReMix rows of a batch without renormalised mixtures, chunk by chunk, in O(n N) memory.

For each anchor ``i`` (book page "The SupReMix loss, specified", ``book/loss_spec.md``, section
"Computing it exactly") this computes

* ``lse_i = log sum_{a in A_i} w_ia exp(s_ia / t)`` over the real views, the Mix-neg and the
  Mix-pos of ``i``, with the weights divided by ``R`` (eq. (5));
* ``S_i = sum_{p in P_i} s_ip / t``, the sum of its positives' logits.

Every logit is a combination of entries of ``H = Z_anchor Z^T / t``: Mix-neg
``lam H_ii + (1 - lam) H_ik``, Mix-pos ``lam H_ij + (1 - lam) H_ik``. The Mix-pos sums use the
factorised block form of :mod:`supremix.losses.mixpos`. Rows are processed in chunks of
anchors and the gradient is applied by hand. Each chunk's backward state (two ``(m, N)``
matrices, a mask and its padded Mix-pos entries) is kept when all of it fits in ``KEEP_ROWS``
rows of ``N`` per anchor; otherwise the backward pass recomputes each chunk, so no
intermediate of more than one chunk is kept between the passes. Memory is O(n N) either way.
The mixture side is detached unless ``detach`` is off (the gradient of ``H`` then also reaches
the mixed features).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .mixpos import Blocks, chunks

#: Matrix rows of length N alive at once per anchor, and tensors per padded Mix-pos entry.
ROW_COST, ENTRY_COST = 10, 4
#: Rows of N per anchor that the state kept between the passes may take (else: recompute).
KEEP_ROWS = 5
#: Elements per chunk of anchors: 3 N^2 (about a quarter of the rows of a batch when there are
#: no Mix-pos), and never fewer than this.
MIN_BUDGET = 2**18


@dataclass
class RowSpec:
    """What the rows need besides the features: labels, coefficients and switches."""

    temperature: float
    labels: Tensor  # (N,) float64
    anchor_labels: Tensor  # (n,) float64
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
        """Whether every chunk's backward state (two ``(n, N)`` float matrices, a mask and the
        padded Mix-pos entries) stays within ``KEEP_ROWS`` rows of ``N`` per anchor."""
        entries = 0 if self.blocks is None else int(self.blocks.cost().sum())
        return 3 * n * N + 3 * entries <= KEEP_ROWS * n * N


def chunk_budget(N: int) -> int:
    """Matrix elements (and weighted Mix-pos entries) per chunk of anchors: O(N^2)."""
    return max(3 * N * N, MIN_BUDGET)


def _grid(first: Tensor, count: Tensor, pad: int) -> tuple[Tensor, Tensor]:
    """Per row, ``first .. first + count - 1`` padded with ``pad`` to the longest; and the mask."""
    width = int(count.max()) if count.numel() else 0
    offset = torch.arange(width, device=first.device)
    inside = offset[None, :] < count[:, None]
    return torch.where(inside, first[:, None] + offset, pad), inside


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
        keep = spec.keep(n, N)  # the state for the backward pass fits O(n N): keep it
        ctx.kept = []
        for start, stop in ctx.parts:
            rows = _Chunk(spec, anchors[start:stop], z, start)
            lse[start:stop] = rows.lse
            positive[start:stop] = rows.positive
            if keep:
                ctx.kept.append(rows.for_backward())
        return lse, positive

    @staticmethod
    def backward(ctx, grad_lse: Tensor, grad_positive: Tensor):
        anchors, z = ctx.saved_tensors
        spec: RowSpec = ctx.spec
        grad_anchors = torch.zeros_like(anchors)
        grad_z = torch.zeros_like(z)
        kept = ctx.kept or [None] * len(ctx.parts)
        ctx.kept = None
        for (start, stop), rows in zip(ctx.parts, kept, strict=True):
            part = anchors[start:stop]
            rows = rows or _Chunk(spec, part, z, start)
            real, mixed, own = rows.gradients(grad_lse[start:stop], grad_positive[start:stop])
            t = spec.temperature
            own_rows = z[rows.own] * own[:, None]
            grad_anchors[start:stop] = (torch.addmm(own_rows, real + mixed, z)) / t
            if spec.detach:
                grad_z.addmm_(real.T, part, alpha=1 / t)
            else:
                grad_z.addmm_((real + mixed).T, part, alpha=1 / t)
                grad_z.index_add_(0, rows.own, part * (own[:, None] / t))
        return grad_anchors, grad_z, None


class _Chunk:
    """The rows of anchors ``start .. start + m - 1``: forward values, then their gradients."""

    def __init__(self, spec: RowSpec, anchors: Tensor, z: Tensor, start: int):
        self.spec = spec
        m = anchors.shape[0]
        self.start, self.stop = start, start + m
        dtype, device = anchors.dtype, anchors.device
        index = torch.arange(m, device=device)
        self.own = index + start + spec.offset
        logits = (anchors / spec.temperature) @ z.T
        self.logits = logits
        gap = (spec.anchor_labels[start : self.stop, None] - spec.labels[None, :]).abs()
        gap = gap.to(dtype)
        self.positives = gap == 0
        self.positives[index, self.own] = False

        real = logits + torch.log1p(gap) if spec.distance_weight else logits.clone()
        real[index, self.own] = float("-inf")
        row_max = real.amax(dim=1)
        self.neg = None
        if spec.lambdas is not None:
            lam = spec.lambdas[start : self.stop]
            self.lam = lam
            own_logit = logits[index, self.own]
            neg = torch.lerp(logits, own_logit[:, None], lam)
            if spec.distance_weight:  # the Mix-neg label lam y_i + (1 - lam) y_k
                neg += torch.log1p(gap.mul_(1 - lam))
            partner = ~self.positives
            partner[index, self.own] = False
            if spec.groups is not None and spec.anchor_groups is not None:
                partner &= spec.anchor_groups[start : self.stop, None] == spec.groups[None, :]
            neg.masked_fill_(~partner, float("-inf"))
            row_max = torch.maximum(row_max, neg.amax(dim=1))
            self.neg = neg.sub_(row_max[:, None]).exp_()
        del gap
        self.real = real.sub_(row_max[:, None]).exp_()
        total = self.real.sum(dim=1)
        if self.neg is not None:
            total += self.neg.sum(dim=1)
        self.positive = torch.where(self.positives, logits, 0.0).sum(dim=1)
        if spec.blocks is not None:
            mix_total, mix_positive = self._mix_pos(spec.blocks, logits - row_max[:, None])
            total += mix_total
            self.positive += mix_positive
        self.total = total
        self.lse = row_max + torch.log(total) - spec.log_range

    def _mix_pos(self, blocks: Blocks, shifted: Tensor) -> tuple[Tensor, Tensor]:
        """Sum of ``exp`` of the shifted Mix-pos logits and sum of the unshifted ones, per row.

        ``shifted`` is ``H - row_max``: non-positive off the anchor's own column, so every
        factor ``exp(lam x)`` is at most 1. Each row's blocks below (``DB`` of them, padded)
        and above (``DA``) form a dense ``(m, DB, DA)`` grid of block pairs; pads hold
        ``-inf`` logits and contribute ``exp(-inf) = 0``.
        """
        dtype = shifted.dtype
        m = shifted.shape[0]
        part = slice(self.start, self.stop)
        (b0, nb), (a0, na) = [
            (first[part], count[part]) for first, count in (blocks.below, blocks.above)
        ]
        below, below_ok = _grid(b0, nb, blocks.count)
        above, above_ok = _grid(a0, na, blocks.count)
        valid = below_ok[:, :, None] & above_ok[:, None, :]
        labels = torch.cat([blocks.label, blocks.label.new_zeros(1)])
        y = self.spec.anchor_labels[part][:, None, None]
        high, low = labels[above][:, None, :], labels[below][:, :, None]
        lam = torch.where(valid, (high - y) / (high - low), 0.5).to(dtype)
        padded = torch.cat([shifted, shifted.new_full((m, 1), float("-inf"))], dim=1)
        self.columns = [blocks.views[index].view(m, -1) for index in (below, above)]
        low_x, high_x = [padded.gather(1, cols).view(m, -1, blocks.width) for cols in self.columns]
        self.low_exp = torch.exp(lam[..., None] * low_x[:, :, None, :])
        self.high_exp = torch.exp((1 - lam)[..., None] * high_x[:, None, :, :])
        self.low_sum, self.high_sum = self.low_exp.sum(dim=-1), self.high_exp.sum(dim=-1)
        self.mix_lam = lam
        total = (self.low_sum * self.high_sum).sum(dim=(1, 2))
        # the positives' logit sum is linear: |b| lam G_a + |a| (1 - lam) G_b per block pair
        size = torch.cat([blocks.size, blocks.size.new_zeros(1)]).to(dtype)
        low_coef = (lam * size[above][:, None, :]).where(valid, 0.0).sum(dim=2)
        high_coef = ((1 - lam) * size[below][:, :, None]).where(valid, 0.0).sum(dim=1)
        coefficient = shifted.new_zeros(m, blocks.count + 1)
        coefficient.scatter_add_(1, below, low_coef).scatter_add_(1, above, high_coef)
        self.coefficient = coefficient
        block_sums = shifted.new_zeros(m, blocks.count + 1)
        block_sums.index_add_(1, blocks.view_block, self.logits)
        return total, (coefficient * block_sums).sum(dim=1)

    def for_backward(self) -> _Chunk:
        """This chunk without what only the forward pass needs."""
        del self.logits, self.lse, self.positive
        return self

    def gradients(self, grad_lse: Tensor, grad_positive: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(real, mixed, own)``: the gradient of ``grad_lse . lse + grad_positive . S`` with
        respect to ``H`` used as a real logit, ``H`` used inside a mixture, and the anchor's own
        ``H_ii`` inside its Mix-neg."""
        scale = grad_lse / self.total
        real = self.real.mul_(scale[:, None])
        real.add_(torch.where(self.positives, grad_positive[:, None], 0.0))
        if self.neg is not None:
            neg = self.neg.mul_(scale[:, None])
            own = (neg * self.lam).sum(dim=1)
            mixed = neg.mul_(1 - self.lam)
        else:
            own = torch.zeros_like(scale)
            mixed = torch.zeros_like(real)
        if self.spec.blocks is not None:
            m, N = mixed.shape
            low = (scale[:, None, None] * self.high_sum * self.mix_lam)[..., None]
            high = (scale[:, None, None] * self.low_sum * (1 - self.mix_lam))[..., None]
            padded = mixed.new_zeros(m, N + 1)
            padded.scatter_add_(1, self.columns[0], self.low_exp.mul_(low).sum(dim=2).view(m, -1))
            padded.scatter_add_(1, self.columns[1], self.high_exp.mul_(high).sum(dim=1).view(m, -1))
            mixed += padded[:, :N]
            mixed += grad_positive[:, None] * self.coefficient[:, self.spec.blocks.view_block]
        return real, mixed, own
