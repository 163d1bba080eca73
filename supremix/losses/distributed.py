"""Gathering a batch from every rank so each rank's anchors are contrasted with the global batch.

Under ``torch.distributed`` with world size ``W > 1`` every contrastive loss of this package
gathers features (with gradients), labels and groups from all ranks. Rank ``r`` then computes
only the terms of its own anchors against the global batch, scaled so that DDP's gradient
averaging gives exactly the gradient of the single-process loss on the concatenated batch:

* global loss ``L = (1/N) sum_i L_i`` over the ``N`` counted anchors of all ranks;
* rank ``r`` back-propagates ``L_r = (W/N) sum_{i on r} L_i``, so ``mean_r L_r = L``;
* the gather's backward sums, over ranks, the gradient every rank sent to each gathered row and
  hands each rank the rows it contributed: rank ``r`` receives ``sum_q dL_q/dz_r = W dL/dz_r``;
* DDP divides the summed parameter gradients by ``W``, which leaves ``dL/dtheta``.

The value returned on every rank is the global ``L`` itself (one ``all_reduce`` of two numbers
in the forward pass); only its gradient is the rank's share. Ranks may hold batches of different
sizes; every rank must call the loss the same number of times (these are collectives).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def world_size() -> int:
    """The number of ranks of the default process group, 1 when ``torch.distributed`` is idle."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def is_distributed() -> bool:
    """Whether the losses gather across ranks: ``torch.distributed`` is up with world size > 1."""
    return world_size() > 1


def _gather_rows(x: Tensor, sizes: list[int]) -> Tensor:
    """All ranks' ``x`` (rows may differ in number) concatenated along dim 0 in rank order."""
    longest = max(sizes)
    padded = x.new_zeros((longest, *x.shape[1:]))
    padded[: x.shape[0]] = x
    buffers = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(buffers, padded.contiguous())
    return torch.cat([buf[:size] for buf, size in zip(buffers, sizes, strict=True)], dim=0)


class _GatherWithGrad(torch.autograd.Function):
    """``all_gather`` whose backward sums every rank's gradient of the gathered tensor.

    Written out rather than taken from ``torch.distributed.nn`` so the reduction (a sum, then
    the rank's own rows) is explicit and works on every backend, gloo included.
    """

    @staticmethod
    def forward(ctx, x: Tensor, sizes: list[int], offset: int) -> Tensor:
        ctx.rows = (offset, x.shape[0])
        return _gather_rows(x, sizes)

    @staticmethod
    def backward(ctx, grad: Tensor):
        offset, n = ctx.rows
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[offset : offset + n], None, None


class GatheredBatch:
    """A batch as seen by one rank: all ranks' rows, and where this rank's rows sit among them.

    ``features`` keeps gradients to every rank's rows; ``labels`` and ``groups`` are plain
    tensors. In a single process ``offset == 0`` and everything is the input itself.
    """

    def __init__(
        self,
        features: Tensor,
        labels: Tensor,
        groups: Tensor | None,
        offset: int,
        local_size: int,
        world_size: int,
    ):
        self.features = features
        self.labels = labels
        self.groups = groups
        self.offset = offset
        self.local_size = local_size
        self.world_size = world_size

    @property
    def local(self) -> slice:
        """The rows of this rank inside the gathered batch."""
        return slice(self.offset, self.offset + self.local_size)


def gather_batch(
    features: Tensor, labels: Tensor, groups: Tensor | None = None, *, gather: bool = True
) -> GatheredBatch:
    """Gather features (autograd-aware), labels and groups from every rank.

    Without ``torch.distributed`` (or with ``gather=False``) the batch is returned as is.
    """
    size = world_size() if gather else 1
    n = features.shape[0]
    if size == 1:
        return GatheredBatch(features, labels, groups, 0, n, 1)
    counts = [torch.zeros(1, dtype=torch.int64, device=features.device) for _ in range(size)]
    dist.all_gather(counts, torch.tensor([n], dtype=torch.int64, device=features.device))
    sizes = [int(c.item()) for c in counts]
    offset = sum(sizes[: dist.get_rank()])
    all_features = _GatherWithGrad.apply(features, sizes, offset)
    all_labels = _gather_rows(labels.to(features.device), sizes)
    all_groups = None if groups is None else _gather_rows(groups.to(features.device), sizes)
    return GatheredBatch(all_features, all_labels, all_groups, offset, n, size)


def mean_over_anchors(per_anchor: Tensor, counted: Tensor, batch: GatheredBatch) -> Tensor:
    """Mean of ``per_anchor[counted]`` over the counted anchors of ALL ranks.

    ``per_anchor`` holds this rank's anchors; entries not ``counted`` must be finite and are
    ignored. With no counted anchor on any rank the result is 0, still attached to the graph
    (its gradients are zeros). In a single process this is a plain masked mean. Under DDP the
    value is the global mean on every rank while the gradient is ``W / N`` times this rank's sum
    (module docstring); one ``all_reduce`` of (sum, count) serves both.
    """
    local_sum = torch.where(counted, per_anchor, 0.0).sum()
    if batch.world_size == 1:
        total = int(counted.sum().item())
        return local_sum / total if total else per_anchor[:0].sum()
    summed = torch.stack([local_sum.detach().to(torch.float64), counted.sum().to(torch.float64)])
    dist.all_reduce(summed, op=dist.ReduceOp.SUM)
    total = int(summed[1].item())
    if total == 0:
        return per_anchor[:0].sum()
    share = local_sum * (batch.world_size / total)
    value = (summed[0] / total).to(per_anchor.dtype)
    return share + (value - share).detach()


def sum_over_anchors(per_anchor: Tensor, batch: GatheredBatch) -> Tensor:
    """Sum of ``per_anchor`` over the anchors of ALL ranks (finite entries, zeros count as 0).

    The per-label reduction of the SupReMix paper's eq. (6) sums; under DDP the value is the
    global sum on every rank and the gradient ``W`` times this rank's sum (module docstring).
    """
    local_sum = per_anchor.sum()
    if batch.world_size == 1:
        return local_sum
    summed = local_sum.detach().to(torch.float64).reshape(1)
    dist.all_reduce(summed, op=dist.ReduceOp.SUM)
    share = local_sum * batch.world_size
    return share + (summed[0].to(per_anchor.dtype) - share).detach()
