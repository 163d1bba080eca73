"""Mix-pos partners of each anchor (the SupReMix paper, eqs. (3)-(4)) and their exact sums.

An anchor ``i`` of label ``y_i`` takes every pair of views ``j`` below and ``k`` above it inside
the window (book page "The SupReMix loss, specified", ``book/loss_spec.md``, eq. (4)):

* ``window_mode="label"``, ``window_edges="inclusive"``: ``y_i - g <= y_j < y_i < y_k <= y_i + g``
  (eq. (4) as printed, the default); ``"strict"``: ``y_i - g < y_j`` and ``y_k < y_i + g`` (the
  published code);
* ``window_mode="rank"``: the same on the ranks of the distinct labels of the batch;
* with ``groups``, ``j`` and ``k`` come from the anchor's group.

The batch is sorted once by (group, label rank). A *level* is the set of views that share a
(group, label); an anchor's candidates below and above are two contiguous runs of levels. A
Mix-pos coefficient ``lam = (y_k - y_i) / (y_k - y_j)`` depends only on the three labels, so
with mixtures that are not renormalised the sum over all pairs drawn from a level ``a`` below
and a level ``b`` above factorises,

``sum_{j in a, k in b} exp(lam x_j + (1 - lam) x_k) = [sum_{j in a} exp(lam x_j)] [sum_{k in b}
exp((1 - lam) x_k)]``,

and the positives' logit sum is linear, ``|b| lam sum_{j in a} x_j + |a| (1 - lam) sum_{k in b}
x_k``. :class:`MixPosLayout` enumerates (anchor, level below, level above) for the factorised
form and (anchor, view below, view above) triples for the renormalised mixtures, where no
factorisation holds. A level of one view makes the two forms the same sum. Both are
enumerated for a range of anchors at a time, so callers can bound memory by chunking.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

WINDOW_MODES = ("label", "rank")
WINDOW_EDGES = ("inclusive", "strict")


def _ranges(start: Tensor, count: Tensor) -> tuple[Tensor, Tensor]:
    """For each item ``r``, the positions ``start[r] .. start[r] + count[r] - 1``.

    Returns ``(item, position)``, flat and grouped by item.
    """
    total = int(count.sum())
    item = torch.repeat_interleave(
        torch.arange(count.numel(), device=count.device), count, output_size=total
    )
    shift = (start - (count.cumsum(0) - count)).index_select(0, item)  # faster than [item]
    return item, shift + torch.arange(total, device=count.device)


def _pairs(
    below_start: Tensor, below_count: Tensor, above_start: Tensor, above_count: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Every ``(item, p, q)`` with ``p`` in item's below run and ``q`` in its above run.

    Grouped by item, ``p``-major. Runs are ``start .. start + count - 1``.
    """
    per_item = below_count * above_count
    item, offset = _ranges(torch.zeros_like(per_item), per_item)
    width = above_count[item]
    return item, below_start[item] + offset // width, above_start[item] + offset % width


class MixPosLayout:
    """The Mix-pos structure of a batch for the anchors ``rows`` of the ``N`` labels.

    ``labels`` ``(N,)`` float64 (the contrasted, possibly gathered, batch); ``rows`` the anchors'
    rows among them. Every index returned is a column ``0 .. N-1`` or, for anchors, a position
    ``0 .. len(rows)-1``.
    """

    def __init__(
        self,
        labels: Tensor,
        rows: slice,
        window: float,
        *,
        window_mode: str = "label",
        window_edges: str = "inclusive",
        groups: Tensor | None = None,
    ):
        device = labels.device
        distinct, rank = torch.unique(labels, sorted=True, return_inverse=True)
        count = distinct.shape[0]
        group = (
            torch.zeros_like(rank)
            if groups is None
            else torch.unique(groups.to(device), return_inverse=True)[1]
        )
        keys = group * (count + 1) + rank
        sorted_keys, self.order = torch.sort(keys, stable=True)
        self.level_keys, self.level_size = torch.unique_consecutive(sorted_keys, return_counts=True)
        self.level_start = self.level_size.cumsum(0) - self.level_size
        self.level_label = distinct[self.level_keys % (count + 1)]
        self.view_level = torch.searchsorted(self.level_keys, keys)
        self.levels = int(self.level_keys.numel())

        anchor_rank = rank[rows]
        base = group[rows] * (count + 1)
        lowest, beyond = _window_ranks(
            distinct, labels[rows], anchor_rank, window, window_mode, window_edges
        )
        bounds = torch.stack(
            [base + lowest, base + anchor_rank, base + anchor_rank + 1, base + beyond]
        )
        b0, b1, a0, a1 = torch.searchsorted(self.level_keys, bounds)
        self.below_levels, self.above_levels = (b0, b1 - b0), (a0, a1 - a0)
        views_before = torch.cat([self.level_size.new_zeros(1), self.level_size.cumsum(0)])
        self.below_views = (views_before[b0], views_before[b1] - views_before[b0])
        self.above_views = (views_before[a0], views_before[a1] - views_before[a0])
        self.anchor_labels = labels[rows]

    @property
    def triples_per_anchor(self) -> Tensor:
        """Number of Mix-pos (pairs of views) of each anchor."""
        return self.below_views[1] * self.above_views[1]

    def blocks(self, width: int | None = None) -> Blocks:
        """The levels cut into blocks of at most ``width`` views (module docstring)."""
        return Blocks(self, width)

    def view_triples(self, start: int, stop: int) -> tuple[Tensor, Tensor, Tensor]:
        """``(anchor, j, k)`` for every Mix-pos of anchors ``start .. stop - 1``, by anchor."""
        part = slice(start, stop)
        anchor, p, q = _pairs(
            self.below_views[0][part],
            self.below_views[1][part],
            self.above_views[0][part],
            self.above_views[1][part],
        )
        return anchor, self.order[p], self.order[q]


class Blocks:
    """The levels cut into blocks of at most ``width`` views, as a padded ``(S + 1, width)``
    table of view indices (pad: ``N``; row ``S`` is all pad, a block that does not exist).

    The factorisation holds for any partition of a level, so blocks bound the padding: an
    anchor's factorised Mix-pos cost is ``blocks below x blocks above x width``. ``width``
    defaults to one and a half times the mean level size (at most the largest level).
    """

    def __init__(self, layout: MixPosLayout, width: int | None = None):
        size = layout.level_size
        N = int(size.sum())
        if width is None:
            width = min(int(size.max()), max(1, math.ceil(1.5 * N / layout.levels)))
        self.width = width
        per_level = (size + width - 1) // width
        first = torch.cat([per_level.new_zeros(1), per_level.cumsum(0)])
        self.count = int(first[-1])
        level, part = _ranges(torch.zeros_like(per_level), per_level)
        start = layout.level_start[level] + part * width
        self.size = torch.minimum(size[level] - part * width, torch.full_like(part, width))
        self.label = layout.level_label[level]
        column = start[:, None] + torch.arange(width, device=size.device)
        inside = torch.arange(width, device=size.device)[None, :] < self.size[:, None]
        views = torch.where(inside, layout.order[column.clamp_max(N - 1)], N)
        self.views = torch.cat([views, torch.full_like(views[:1], N)])
        #: ``views`` with each pad replaced by the last column, and 1 at the views, 0 at pads
        self.columns = self.views.clamp_max(N - 1)
        self.present = self.views < N
        self.view_block = torch.empty_like(layout.order)
        self.view_block[self.views[:-1][inside]] = torch.arange(
            self.count, device=size.device
        ).repeat_interleave(self.size)
        b0, nb = layout.below_levels
        a0, na = layout.above_levels
        self.below = (first[b0], first[b0 + nb] - first[b0])
        self.above = (first[a0], first[a0 + na] - first[a0])

    def sums(self, z: Tensor) -> Tensor:
        """``(S + 1, d)``: the sum of the rows of ``z`` over each block (the pad row 0)."""
        return z.new_zeros(self.count + 1, z.shape[1]).index_add_(0, self.view_block, z)

    def cost(self) -> Tensor:
        """Per anchor, the padded entries of its factorised Mix-pos sum."""
        return self.below[1] * self.above[1] * self.width


def _window_ranks(
    distinct: Tensor,
    anchor_labels: Tensor,
    anchor_rank: Tensor,
    window: float,
    window_mode: str,
    window_edges: str,
) -> tuple[Tensor, Tensor]:
    """Per anchor, the rank of the lowest admissible label below and one past the highest above.

    Label windows compare in float64 against the distinct labels only, exactly as
    ``y_i - g <= y_j`` (or ``<``) reads.
    """
    inclusive = window_edges == "inclusive"
    if window_mode == "rank":
        reach = int(window) if inclusive else int(window) - 1
        lowest = (anchor_rank - reach).clamp_min(0)
        beyond = (anchor_rank + reach + 1).clamp_max(distinct.shape[0])
        return lowest, beyond
    if math.isinf(window):
        return torch.zeros_like(anchor_rank), torch.full_like(anchor_rank, distinct.shape[0])
    lowest = torch.searchsorted(distinct, anchor_labels - window, right=not inclusive)
    beyond = torch.searchsorted(distinct, anchor_labels + window, right=inclusive)
    return lowest, beyond


def mix_pos_triples(
    labels: Tensor,
    window: float,
    groups: Tensor | None = None,
    *,
    window_mode: str = "label",
    window_edges: str = "inclusive",
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The Mix-pos triples ``(i, j, k)`` of a batch, every row an anchor (module docstring).

    Returns index vectors ``i``, ``j``, ``k`` grouped by ``i`` and the number of triples of each
    anchor.
    """
    labels = torch.as_tensor(labels).to(torch.float64)
    if groups is not None:
        groups = torch.as_tensor(groups, device=labels.device)
    N = labels.shape[0]
    layout = MixPosLayout(
        labels,
        slice(0, N),
        window,
        window_mode=window_mode,
        window_edges=window_edges,
        groups=groups,
    )
    i, j, k = layout.view_triples(0, N)
    return i, j, k, layout.triples_per_anchor


def chunks(cost: Tensor, budget: int) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` runs of items whose summed ``cost`` stays near ``budget``.

    Items are grouped by the budget-sized bucket their cumulative cost starts in, so a run
    costs at most the budget plus its costliest item.
    """
    if cost.numel() == 0:
        return []
    before = (cost.cumsum(0) - cost) // max(budget, 1)
    _, sizes = torch.unique_consecutive(before, return_counts=True)
    stops = sizes.cumsum(0).tolist()
    return list(zip([0, *stops[:-1]], stops, strict=True))
