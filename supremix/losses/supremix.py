"""The SupReMix loss (the SupReMix paper, §3, eqs. (1)-(6)).

Every choice the paper leaves open, what the paper prints, what the published code does and
the option that selects each is on the book page "The SupReMix loss, specified"
(``book/loss_spec.md``). In short, per anchor view ``i`` with features ``z_i`` (L2-normalised)
and label ``y_i``:

* real terms: every other view ``a`` of the batch, logit ``s_ia / t = z_i . z_a / t``;
* Mix-neg (eqs. (1)-(2)): for every view ``k`` with ``y_k != y_i`` (and, with ``groups``, of
  the anchor's group, §5.7) the mixture ``lam z_i + (1 - lam) z_k``, ``lam ~ Beta(alpha, beta)``
  drawn per (anchor, partner), label ``lam y_i + (1 - lam) y_k``;
* Mix-pos (eqs. (3)-(4)): for every ``j`` below and ``k`` above ``i`` inside the window
  (:mod:`supremix.losses.mixpos`; inclusive ``y_i - g <= y_j``, ``y_k <= y_i + g`` by default,
  as eq. (4) prints it) the mixture ``lam z_j + (1 - lam) z_k``,
  ``lam = (y_k - y_i) / (y_k - y_j)``, whose label is ``y_i``;
* distance weight (eq. (5)): ``w_ia = 1 + |y_i - y_a|`` (label of the mixture for mixtures),
  divided by ``R`` with ``weight_range``, multiplying ``exp`` in the denominator only;
* positives ``P_i``: real views of exactly equal label plus all Mix-pos.

With ``ell_ip = log sum_{a in A_i} w_ia exp(s_ia / t) - s_ip / t``:

* ``reduction="anchor"`` (default, the published code): ``L = mean over anchors with
  |P_i| > 0 of (1/|P_i|) sum_{p in P_i} ell_ip``;
* ``reduction="label"`` (eq. (6) as printed): ``L = sum_m (1/k_m) sum_{i: y_i = m}
  sum_{p in P_i} ell_ip``, ``k_m`` the number of views of label ``m``.

The denominator is one log-sum-exp over each anchor's whole row. Mixtures are never built:
every anchor-mixture similarity is a combination of Gram-matrix entries, and Mix-pos sums use
the exact factorisation over label levels (:mod:`supremix.losses.supremix_rows`); a small batch
takes the dense form of :mod:`supremix.losses.supremix_dense`, the same sums. Lemma 3.2:
for ``reduction="anchor"``, ``L_i >= log |P_i| - log R`` (Jensen; every positive is in
``A_i`` with weight ``1/R`` and the other weights are at least that).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .beta import sample_beta
from .common import (
    ContrastBatch,
    OptionsModule,
    attached_zero,
    full_precision,
    make_options,
    prepare,
)
from .distributed import sum_over_anchors
from .mixpos import WINDOW_EDGES, WINDOW_MODES, MixPosLayout, chunks, mix_pos_triples
from .supremix_dense import dense_fits, dense_rows
from .supremix_rows import RowSpec, chunk_budget, supremix_rows
from .validation import check_choice, check_positive

LOSS = "supremix"
REDUCTIONS = ("anchor", "label")

__all__ = [
    "REDUCTIONS",
    "WINDOW_EDGES",
    "WINDOW_MODES",
    "SupReMixCoreOptions",
    "SupReMixLoss",
    "SupReMixOptions",
    "mix_pos_triples",
    "supremix_loss",
]


@dataclass(frozen=True)
class SupReMixCoreOptions:
    """The settings that the SupReMix loss and its published form
    (:class:`~supremix.losses.published.PublishedOptions`) share: temperature, window, the
    Beta of Mix-neg (Table 11) and the three ingredients (Table 9), as :class:`SupReMixOptions`
    documents them. Each subclass checks its own values."""

    temperature: float
    window: float
    alpha: float = 2.0
    beta: float = 8.0
    mix_neg: bool = True
    mix_pos: bool = True
    distance_weight: bool = True


@dataclass(frozen=True)
class SupReMixOptions(SupReMixCoreOptions):
    """Every setting of the SupReMix loss (book page "The SupReMix loss, specified").

    Attributes:
        temperature: ``t`` of eq. (6).
        window: Mix-pos window ``g`` in label units or, with ``window_mode="rank"``, a whole
            number of distinct labels; ``math.inf`` (label units) mixes every lower with every
            higher label (Table 10, ``gamma = inf``).
        alpha, beta: Beta parameters of the Mix-neg coefficient (Table 11: (2, 8)).
        mix_neg, mix_pos, distance_weight: the three ingredients (Table 9); all off is SupCon.
        window_mode: ``"label"`` or ``"rank"`` (ranks of the distinct labels of the batch).
        window_edges: ``"inclusive"`` (eq. (4): ``i - i' <= gamma``) or ``"strict"`` (the
            published code: ``|y_j - y_i| < gamma``).
        reduction: ``"anchor"`` (mean over positives, then over anchors: the published code)
            or ``"label"`` (eq. (6) as printed: sum over positives, ``1/k_m`` over the anchors
            of each label, sum over labels).
        weight_range: ``None`` for the raw weights ``1 + |dy|``; ``"batch"`` or a positive
            ``R`` divides them by the label range (eq. (5)): a constant shift of the loss.
        detach_mixtures: no gradient through the mixture side (the published code).
        renormalize_mixtures: mix the features as passed and L2-normalise each mixture (the
            construction of App. A); off, mixtures of the normalised features (published code).
        normalize: L2-normalise the features first (§3.3).
        gather: under ``torch.distributed`` contrast with the batch of all ranks.
    """

    window_mode: str = "label"
    window_edges: str = "inclusive"
    reduction: str = "anchor"
    weight_range: float | str | None = None
    detach_mixtures: bool = True
    renormalize_mixtures: bool = False
    normalize: bool = True
    gather: bool = True

    def __post_init__(self) -> None:
        check_positive(LOSS, "temperature", self.temperature)
        check_choice(LOSS, "window_mode", self.window_mode, WINDOW_MODES)
        check_choice(LOSS, "window_edges", self.window_edges, WINDOW_EDGES)
        check_choice(LOSS, "reduction", self.reduction, REDUCTIONS)
        if not (self.window_mode == "label" and self.window == math.inf):
            check_positive(LOSS, "window", self.window)
        if self.window_mode == "rank" and self.window != int(self.window):
            raise ValueError(
                f"{LOSS}: a rank window counts distinct labels and must be a whole number, "
                f"got {self.window}"
            )
        check_positive(LOSS, "alpha", self.alpha)
        check_positive(LOSS, "beta", self.beta)
        if isinstance(self.weight_range, (int, float)):
            check_positive(LOSS, "weight_range", self.weight_range)
        elif self.weight_range not in (None, "batch"):
            raise ValueError(
                f"{LOSS}: weight_range must be None, 'batch' or a positive number, "
                f"got {self.weight_range!r}"
            )


def supremix_loss(
    features: Tensor,
    labels: Tensor,
    *,
    groups: Tensor | None = None,
    options: SupReMixOptions | None = None,
    neg_lambdas: Tensor | None = None,
    generator: torch.Generator | None = None,
    **settings: object,
) -> Tensor:
    """SupReMix loss of a flat batch (module docstring; the SupReMix paper, eqs. (1)-(6)).

    Args:
        features: ``(n, d)`` features of all views (views concatenated along dim 0).
        labels: ``(n,)`` regression labels; views of one sample share theirs.
        groups: ``(n,)`` integer groups; mixtures only from the anchor's group (§5.7).
        options: a :class:`SupReMixOptions`; ``settings`` (its field names, e.g.
            ``temperature=0.5, window=5``) build one or replace its fields.
        neg_lambdas: ``(N, N)`` Mix-neg coefficients of the ``N``-row contrasted batch (the
            gathered batch under DDP) in place of the Beta draws; ``[i, k]`` weights anchor
            ``i`` in its mixture with ``k``. For checks against direct code.
        generator: ``torch.Generator`` (on the features' device) for the Beta draws; under
            DDP each rank draws the rows of its own anchors, so seed it per rank.

    Returns:
        A scalar tensor (float32, or float64 for float64 features).
    """
    opts: SupReMixOptions = make_options(LOSS, SupReMixOptions, options, settings)
    with full_precision(features):
        batch = prepare(
            LOSS, features, labels, groups, normalize=opts.normalize, gather=opts.gather
        )
        if batch.N < 2:
            return attached_zero(features)
        lambdas = None
        if opts.mix_neg:
            lambdas = _mix_neg_lambdas(batch, neg_lambdas, opts.alpha, opts.beta, generator)
        layout = None
        if opts.mix_pos:
            layout = MixPosLayout(
                batch.labels,
                batch.batch_rows(),
                opts.window,
                window_mode=opts.window_mode,
                window_edges=opts.window_edges,
                groups=batch.groups,
            )
        log_range = _log_range(batch, opts.weight_range)
        _, level, level_size = torch.unique(batch.labels, return_inverse=True, return_counts=True)
        if opts.renormalize_mixtures:
            lse, positive = _renormalized_rows(batch, opts, lambdas, layout, log_range)
        else:
            groups_all = batch.groups
            dense = dense_fits(batch.n, batch.N, layout)
            rows = batch.batch_rows()
            values = batch.labels.to(batch.z.dtype)
            spec = RowSpec(
                temperature=opts.temperature,
                labels=batch.labels,
                anchor_labels=batch.anchor_labels,
                values=values,
                anchor_values=values[rows],
                level=level,
                anchor_level=level[rows],
                groups=groups_all,
                anchor_groups=None if groups_all is None else groups_all[batch.batch_rows()],
                offset=batch.offset,
                lambdas=lambdas,
                blocks=None if layout is None or dense else layout.blocks(),
                distance_weight=opts.distance_weight,
                detach=opts.detach_mixtures,
                log_range=log_range,
            )
            if dense:
                lse, positive = dense_rows(batch.anchors, batch.z, spec, layout)
            else:
                lse, positive = supremix_rows(batch.anchors, batch.z, spec)
        same = level_size[level[batch.batch_rows()]]  # k_m of each anchor, itself included
        return _reduce(batch, opts.reduction, lse, positive, same, layout)


class SupReMixLoss(OptionsModule[SupReMixOptions]):
    """Module form of :func:`supremix_loss`: ``SupReMixLoss(options)`` or
    ``SupReMixLoss(temperature=..., window=..., ...)``; ``forward(features, labels, groups=None,
    generator=None)``."""

    loss_name, options_type = LOSS, SupReMixOptions
    loss_function = staticmethod(supremix_loss)
    batch_inputs = ("groups", "generator")


def _reduce(
    batch: ContrastBatch,
    reduction: str,
    lse: Tensor,
    positive: Tensor,
    same: Tensor,
    layout: MixPosLayout | None,
) -> Tensor:
    """The reduction of eq. (6): per anchor ``|P_i| lse_i - S_i`` summed as ``reduction`` says;
    ``same`` holds ``k_m``, the views of each anchor's label (itself included)."""
    count = same - 1
    if layout is not None:
        count = count + layout.triples_per_anchor
    count = count.to(lse.dtype)
    if reduction == "anchor":
        counted = count > 0
        return batch.mean(lse - positive / count.clamp_min(1), counted)
    return sum_over_anchors((count * lse - positive) / same.to(lse.dtype), batch.gathered)


def _log_range(batch: ContrastBatch, weight_range: float | str | None) -> float:
    """``log R`` of the eq. (5) normalisation (0 without it; a constant batch counts as R = 1)."""
    if weight_range is None:
        return 0.0
    if weight_range == "batch":
        spread = float(batch.labels.max() - batch.labels.min())
        return math.log(spread) if spread > 0 else 0.0
    return math.log(float(weight_range))


def _mix_neg_lambdas(
    batch: ContrastBatch,
    neg_lambdas: Tensor | None,
    alpha: float,
    beta: float,
    generator: torch.Generator | None,
) -> Tensor:
    """This rank's ``(n, N)`` Mix-neg coefficients: the given rows, or fresh Beta draws."""
    dtype, device = batch.z.dtype, batch.z.device
    if neg_lambdas is None:
        return sample_beta((batch.n, batch.N), alpha, beta, generator=generator, device=device).to(
            dtype
        )
    neg_lambdas = torch.as_tensor(neg_lambdas)
    if tuple(neg_lambdas.shape) != (batch.N, batch.N):
        raise ValueError(
            f"{LOSS}: neg_lambdas must have shape ({batch.N}, {batch.N}), one coefficient per "
            f"anchor and partner of the {batch.N}-row contrasted batch, "
            f"got shape {tuple(neg_lambdas.shape)}"
        )
    return neg_lambdas[batch.batch_rows()].to(device=device, dtype=dtype)


def _renormalized_rows(
    batch: ContrastBatch,
    opts: SupReMixOptions,
    lambdas: Tensor | None,
    layout: MixPosLayout | None,
    log_range: float,
) -> tuple[Tensor, Tensor]:
    """``(lse, S)`` per anchor with every mixture L2-normalised (App. A), by autograd.

    No factorisation holds here (a mixture's norm depends on both of its views), so Mix-pos
    are summed as triples, chunk by chunk of anchors under activation checkpointing: memory
    stays O(n N) however many triples there are.
    """
    z, anchors, N, own = batch.z, batch.anchors, batch.N, batch.offset
    labels = batch.labels
    scaled = anchors / opts.temperature
    logits = scaled @ z.T
    mixing_side = batch.raw.detach() if opts.detach_mixtures else batch.raw
    mixed = scaled @ mixing_side.T
    gram = mixing_side @ mixing_side.T
    sq_norm = gram.diagonal()

    positives = batch.positives()
    label_gap = (batch.anchor_labels[:, None] - labels[None, :]).abs().to(z.dtype)
    weight = label_gap + 1 if opts.distance_weight else torch.ones_like(label_gap)
    weight.diagonal(offset=own).fill_(0.0)  # the anchor itself is not a term
    rows = [logits + torch.log(weight)]
    if lambdas is not None:
        partner = ~batch.same_label()
        same_group = batch.same_group()
        if same_group is not None:
            partner &= same_group
        own_term = mixed.diagonal(offset=own)[:, None]  # z_i . m_i: the anchor's own share
        if batch.normalized and opts.detach_mixtures:
            own_term = own_term.detach()  # projected to zero by the normalisation's backward
        neg = torch.lerp(mixed, own_term, lambdas)
        norm2 = _mixture_norm2(
            lambdas, sq_norm[batch.batch_rows(), None], sq_norm[None, :], gram[batch.batch_rows()]
        )
        neg_weight = (
            torch.addcmul(weight, lambdas, label_gap, value=-1) if opts.distance_weight else weight
        )
        rows.append(neg / norm2.sqrt() + torch.log(torch.where(partner, neg_weight, 0.0)))
    row_max = torch.stack([row.detach().amax(dim=1) for row in rows]).amax(dim=0)
    if layout is not None:
        parts = chunks(layout.triples_per_anchor.cpu(), chunk_budget(N))
        with torch.no_grad():  # a renormalised mixture can exceed every real similarity
            for start, stop in parts:
                anchor, pos = _mix_pos_logits(layout, start, stop, mixed, gram, sq_norm)
                row_max = row_max.scatter_reduce(0, anchor + start, pos, "amax")
    total = sum(
        (torch.exp(row - row_max[:, None]).sum(dim=1) for row in rows), torch.zeros_like(row_max)
    )
    positive = torch.where(positives, logits, 0.0).sum(dim=1)
    if layout is not None:
        mix_total, mix_positive = [], []
        for start, stop in parts:
            run = _mix_pos_sums if len(parts) == 1 else _checkpointed_mix_pos_sums
            block = run(layout, start, stop, mixed, gram, sq_norm, row_max[start:stop])
            mix_total.append(block[0])
            mix_positive.append(block[1])
        total = total + torch.cat(mix_total)
        positive = positive + torch.cat(mix_positive)
    lse = row_max + torch.log(total) - log_range
    return lse, positive


def _mix_pos_logits(
    layout: MixPosLayout, start: int, stop: int, mixed: Tensor, gram: Tensor, sq_norm: Tensor
) -> tuple[Tensor, Tensor]:
    """``(anchor, s)``: the renormalised Mix-pos logits of anchors ``start .. stop - 1``."""
    anchor, j, k = layout.view_triples(start, stop)
    y = layout.anchor_labels[start:stop][anchor]
    high, low = layout.level_label[layout.view_level[k]], layout.level_label[layout.view_level[j]]
    lam = ((high - y) / (high - low)).to(mixed.dtype)
    rows = mixed[start:stop]
    norm2 = _mixture_norm2(lam, sq_norm[j], sq_norm[k], gram[j, k])
    return anchor, torch.lerp(rows[anchor, k], rows[anchor, j], lam) / norm2.sqrt()


def _mix_pos_sums(
    layout: MixPosLayout,
    start: int,
    stop: int,
    mixed: Tensor,
    gram: Tensor,
    sq_norm: Tensor,
    row_max: Tensor,
) -> tuple[Tensor, Tensor]:
    """Per anchor: sum of ``exp(s - row_max)`` and sum of ``s`` over its Mix-pos triples."""
    anchor, pos = _mix_pos_logits(layout, start, stop, mixed, gram, sq_norm)
    m = stop - start
    total = pos.new_zeros(m).index_add(0, anchor, torch.exp(pos - row_max[anchor]))
    return total, pos.new_zeros(m).index_add(0, anchor, pos)


def _checkpointed_mix_pos_sums(*args: object) -> tuple[Tensor, Tensor]:
    return checkpoint(_mix_pos_sums, *args, use_reentrant=False)


def _mixture_norm2(lam: Tensor, first: Tensor, second: Tensor, cross: Tensor) -> Tensor:
    """``|lam a + (1-lam) b|^2`` from ``|a|^2``, ``|b|^2`` and ``a . b`` (floored above 0)."""
    mix = lam * (1 - lam)
    norm2 = lam.square() * first + (1 - lam).square() * second + 2 * mix * cross
    return norm2.clamp_min(1e-30)
