"""The SupReMix rows of a batch without renormalised mixtures, chunk by chunk, in O(n N) memory.

For each anchor ``i`` (book page "The SupReMix loss, specified", {ref}`the exact sums
<spec-exact-sums>`) this computes

* ``lse_i = log sum_{a in A_i} w_ia exp(s_ia / t)`` over the real views, the Mix-neg and the
  Mix-pos of ``i``, with the weights divided by ``R`` (eq. (5));
* ``S_i = sum_{p in P_i} s_ip / t``, the sum of its positives' logits.

Every logit is a combination of entries of ``H = Z_anchor Z^T / t``: Mix-neg
``lam H_ii + (1 - lam) H_ik``, Mix-pos ``lam H_ij + (1 - lam) H_ik``. The Mix-pos sums use the
factorised level form of :mod:`supremix.losses.mixpos`. Rows are processed in chunks of
anchors; the backward pass recomputes each chunk and applies the gradient by hand, so no
``(n, N)`` intermediate of more than one chunk, and no per-triple tensor, is kept between the
two passes. The mixture side is detached unless ``detach`` is off (the gradient of ``H`` then
also reaches the mixed features).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .mixpos import MixPosLayout, chunks

#: Mix-pos entries cost about this many (n, N) matrix elements each (indices, values, sums).
ENTRY_COST = 8
#: Elements of (chunk rows x N) matrices plus weighted Mix-pos entries per chunk: N^2 / 8,
#: and never fewer than this.
MIN_BUDGET = 2**17


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
    layout: MixPosLayout | None  # None without Mix-pos
    distance_weight: bool
    detach: bool
    log_range: float

    def chunks(self, n: int, N: int) -> list[tuple[int, int]]:
        cost = torch.full((n,), N, dtype=torch.int64)
        if self.layout is not None:
            cost = cost + ENTRY_COST * self.layout.factorised_cost().cpu()
        return chunks(cost, chunk_budget(N))


def chunk_budget(N: int) -> int:
    """Matrix elements (and weighted Mix-pos entries) per chunk of anchors: O(N^2)."""
    return max(N * N // 8, MIN_BUDGET)


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
        for start, stop in spec.chunks(n, N):
            rows = _Chunk(spec, anchors[start:stop], z, start)
            lse[start:stop] = rows.lse
            positive[start:stop] = rows.positive
        return lse, positive

    @staticmethod
    def backward(ctx, grad_lse: Tensor, grad_positive: Tensor):
        anchors, z = ctx.saved_tensors
        spec: RowSpec = ctx.spec
        n, N = anchors.shape[0], z.shape[0]
        grad_anchors = torch.zeros_like(anchors)
        grad_z = torch.zeros_like(z)
        for start, stop in spec.chunks(n, N):
            part = anchors[start:stop]
            rows = _Chunk(spec, part, z, start)
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
        m, N = anchors.shape[0], z.shape[0]
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
            if spec.groups is not None:
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
        if spec.layout is not None:
            mix_total, mix_positive = self._mix_pos(logits - row_max[:, None])
            total += mix_total
            self.positive += mix_positive
        self.total = total
        self.lse = row_max + torch.log(total) - spec.log_range

    def _mix_pos(self, shifted: Tensor) -> tuple[Tensor, Tensor]:
        """Sum of ``exp`` of the shifted Mix-pos logits and sum of the unshifted ones, per row.

        ``shifted`` is ``H - row_max``: non-positive off the anchor's own column, so every
        factor ``exp(lam x)`` is at most 1.
        """
        layout, dtype = self.spec.layout, shifted.dtype
        m, N = shifted.shape
        anchor, below, above, lam = layout.level_pairs(self.start, self.stop)
        lam = lam.to(dtype)
        flat = shifted.reshape(-1)
        self.pairs = (anchor, below, above, lam)
        sums = []
        self.members = []
        for level, weight in ((below, lam), (above, 1 - lam)):
            entry, view = layout.level_members(level)
            flat_index = anchor[entry] * N + view
            weight_e = weight[entry]
            value = torch.exp(weight_e * flat[flat_index])
            sums.append(torch.zeros_like(weight).index_add_(0, entry, value))
            self.members.append((entry, flat_index, weight_e, value))
        self.level_sums = sums
        total = torch.zeros(m, dtype=dtype, device=shifted.device)
        total.index_add_(0, anchor, sums[0] * sums[1])
        # the positives' logit sum is linear: |b| lam G_a + |a| (1 - lam) G_b per level pair
        L = layout.levels
        size = layout.level_size.to(dtype)
        coefficient = torch.zeros(m * L, dtype=dtype, device=shifted.device)
        coefficient.index_add_(0, anchor * L + below, lam * size[above])
        coefficient.index_add_(0, anchor * L + above, (1 - lam) * size[below])
        self.coefficient = coefficient.view(m, L)
        level_sums = torch.zeros(m, L, dtype=dtype, device=shifted.device)
        level_sums.index_add_(1, layout.view_level, self.logits)
        return total, (self.coefficient * level_sums).sum(dim=1)

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
        if self.spec.layout is not None:
            anchor = self.pairs[0]
            flat = mixed.view(-1)
            for (entry, flat_index, weight, value), other in zip(
                self.members, reversed(self.level_sums), strict=True
            ):
                factor = (scale[anchor] * other)[entry] * weight
                flat.index_add_(0, flat_index, factor * value)
            mixed += grad_positive[:, None] * self.coefficient[:, self.spec.layout.view_level]
        return real, mixed, own
