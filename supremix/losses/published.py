"""SupReMix as the authors' published code computes it, each of its two bugs switchable.

The reference is the author-committed copy of the SupReMix scripts of Sept. 2023 (AgeDB-DIR,
IMDB-WIKI-DIR, STS-B-DIR; book page "The SupReMix loss, specified", ``book/loss_spec.md``).
This module is our own code, written from a description of what those scripts compute; with
both bugs switched off it computes exactly :func:`supremix.losses.supremix_loss` with the
published code's strict window (``window_edges="strict"``) and otherwise its defaults (mixtures
detached, not re-normalised, label window, raw weights ``1 + |dy|``, L2-normalised features,
``reduction="anchor"``).

What the scripts do, per batch of ``n`` views (both views of every sample, two per sample):

1. **Mixture slots.** Every anchor ``i`` gets ``n * n`` slots ``(j, k)`` in row-major order.
   Slot ``(i, k)`` with ``y_k != y_i`` holds the Mix-neg ``lam z_i + (1 - lam) z_k``,
   ``lam ~ Beta(2, 8)``, label ``lam y_i + (1 - lam) y_k``; slot ``(j, k)`` with
   ``y_i - g < y_j < y_i < y_k < y_i + g`` holds the Mix-pos ``lam z_j + (1 - lam) z_k``,
   ``lam = (y_k - y_i) / (y_k - y_j)``, label ``y_i``. Every other slot is excluded and its
   label is left at 0. A slot mask holds -1 (excluded), 0 (Mix-neg) or 1 (Mix-pos).
2. **Column compression.** Each anchor's mask row is sorted in ascending order (-1 first, then
   the Mix-negs, then the Mix-pos) and the mixtures are gathered in that order, so the valid
   mixtures of anchor ``i`` are the last ``v_i`` of its row; only the last ``max_i v_i``
   columns are kept, shorter rows being padded on the left (mask -1, mixture vector
   ``(-1, ..., -1)``). **Bug 2 (misaligned weights):** the label row is not gathered with the
   same permutation but sorted by its own values (a label equal to -1 is sorted first), and
   the same last columns are kept. The ``c``-th valid mixture of anchor ``i`` is therefore
   weighted with the ``c``-th smallest of the ``v_i`` largest slot labels of its row (the
   excluded slots contribute zeros), not with its own label. The Mix-pos sit at the end of
   the row and receive the LARGEST labels of the row, hence large weights
   ``1 + |y_i - label|`` although a positive should have weight 1; when every label is
   positive the weights of an anchor are only permuted among its mixtures.
3. **Logits.** ``s_ia = z_i . x_a / t`` for the real views (the anchor's own column included)
   and for the mixtures (detached). **Bug 1 (separate max shift):** the real block is shifted
   by its row maximum ``M_r`` (the anchor's self-similarity, ``1 / t`` for unit features) and
   the mixture block by ITS row maximum ``M_m`` (padding columns included); both shifted
   blocks then share one denominator. That is the correct loss with every mixture logit
   raised by ``delta_i = M_r - M_m``: each mixture term, Mix-neg and Mix-pos, numerator and
   denominator, is multiplied by ``exp(delta_i)``, which changes the loss value and its
   gradient (it is not a stabilisation). For unit features a mixture is no longer than 1, so
   ``delta_i >= 0`` (mixtures up-weighted) unless a padding column, whose similarity is
   ``-sum(z_i) / t``, is the row's maximum.
4. **Loss.** ``L_i = log sum_a w_ia exp(s_ia) - mean_{p in P_i} s_ip`` with ``w = 1 + |y_i -
   label|`` over real views (not the anchor) and mixtures, positives ``P_i`` = real views of
   the anchor's label + Mix-pos; ``L`` = mean over anchors. (The scripts average over all
   anchors, which gives NaN when an anchor has no positive; they always use two views, so it
   never has. Here anchors without positives are left out, as in :func:`supremix_loss`.)

How sure we are: the slot conditions, the compression and the two shifts are read directly
from the scripts. One point is not pinned by them: ``torch.sort`` there is not stable, so the
order of the Mix-negs among themselves (and of the Mix-pos among themselves) after the sort
is unspecified; we take the slot order (row-major ``(j, k)``), which is what a stable sort
gives. It decides which Mix-neg receives which of the small labels, not the pattern of the
bug (Mix-pos always get the largest labels). The STS-B-DIR script keeps only the columns
valid in EVERY row (``min_i v_i``), which also drops mixtures; we implement the AgeDB-DIR and
IMDB-WIKI-DIR variant, which drops none. Features arrive already normalised in the scripts
(``normalize=True`` here); their ``temperature / base_temperature`` factor is 1. Their
ablations ``mix_neg`` / ``mix_pos`` (one kind of mixture only) still mark the other kind's
slots and leave them as zero vectors labelled 0 in the denominator; ``mix_neg=False`` or
``mix_pos=False`` here simply leaves that kind out.

Mixture vectors are never built (the scripts build an ``(n, n, n, d)`` tensor): every
anchor-mixture similarity is ``lam H_ij + (1 - lam) H_ik`` with ``H = Z Z^T`` (mixture side
detached), as in :mod:`supremix.losses.supremix`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from .beta import sample_beta
from .common import OptionsModule, attached_zero, full_precision, prepare
from .mixpos import mix_pos_triples
from .supremix import SupReMixCoreOptions
from .validation import check_labels, check_positive

LOSS = "published_supremix"
PADDING_VALUE = -1.0  # fills padded mixture columns; a label equal to it sorts first


@dataclass(frozen=True)
class MixtureColumns:
    """The mixture columns of a batch, anchor by anchor, in the published code's order.

    Every field but ``counts`` has one entry per column: ``anchor`` (its row), ``first`` and
    ``second`` (the mixed views ``j`` and ``k``; ``first`` is the anchor itself for a Mix-neg),
    ``lam`` (the weight of ``first``), ``positive`` (Mix-pos), ``label`` (the mixture's own
    label) and ``published_label`` (the label the published code weights the column with,
    step 2 of the module docstring). ``counts[i]`` is the number of columns of anchor ``i``.
    Columns are grouped by anchor; inside an anchor the Mix-negs come first (by partner
    index), then the Mix-pos (by ``(j, k)``).
    """

    anchor: Tensor
    first: Tensor
    second: Tensor
    lam: Tensor
    positive: Tensor
    label: Tensor
    published_label: Tensor
    counts: Tensor

    def __len__(self) -> int:
        return int(self.anchor.shape[0])


def mixture_columns(
    labels: Tensor,
    window: float,
    neg_lambdas: Tensor | None = None,
    *,
    mix_neg: bool = True,
    mix_pos: bool = True,
    window_edges: str = "strict",
) -> MixtureColumns:
    """The Mix-neg and Mix-pos columns of every anchor (module docstring, steps 1-2).

    ``labels``: ``(n,)``; ``window``: the Mix-pos window in label units; ``neg_lambdas``:
    ``(n, n)`` Mix-neg coefficients, ``[i, k]`` weighting the anchor (required with
    ``mix_neg``); ``window_edges``: the published code's ``"strict"`` window, or
    ``"inclusive"`` (the SupReMix paper's eq. (4), the default of ``supremix_loss``).
    """
    labels = torch.as_tensor(labels)
    labels = check_labels(LOSS, labels, labels.shape[0])
    window = check_positive(LOSS, "window", window)
    n = labels.shape[0]
    device = labels.device
    parts = []  # (anchor, first, second, lam, positive)
    if mix_neg:
        if neg_lambdas is None:
            raise ValueError(f"{LOSS}: mix_neg needs neg_lambdas, an (n, n) tensor of Beta draws")
        lam = _check_lambdas(neg_lambdas, n).to(device=device, dtype=torch.float64)
        anchor, partner = torch.nonzero(labels[:, None] != labels[None, :], as_tuple=True)
        parts.append((anchor, anchor, partner, lam[anchor, partner], torch.zeros_like(anchor)))
    if mix_pos:
        anchor, below, above, _ = mix_pos_triples(labels, window, window_edges=window_edges)
        lam = (labels[above] - labels[anchor]) / (labels[above] - labels[below])
        parts.append((anchor, below, above, lam, torch.ones_like(anchor)))
    if not parts:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        anchor = first = second = positive = empty
        lam = torch.zeros(0, dtype=torch.float64, device=device)
    else:
        anchor, first, second, lam, positive = (
            torch.cat(field) for field in zip(*parts, strict=True)
        )
    # the mask sort puts Mix-negs (0) before Mix-pos (1); ties kept in slot order (j, k)
    slots = n * n
    order = torch.argsort(anchor * (2 * slots) + positive * slots + first * n + second)
    anchor, first, second, lam, positive = (
        t[order] for t in (anchor, first, second, lam, positive)
    )
    label = torch.where(
        positive.bool(), labels[anchor], lam * labels[first] + (1 - lam) * labels[second]
    )
    counts = torch.bincount(anchor, minlength=n)
    return MixtureColumns(
        anchor=anchor,
        first=first,
        second=second,
        lam=lam,
        positive=positive.bool(),
        label=label,
        published_label=_published_labels(label, anchor, counts, slots),
        counts=counts,
    )


def _check_lambdas(neg_lambdas: Tensor, n: int) -> Tensor:
    neg_lambdas = torch.as_tensor(neg_lambdas)
    if tuple(neg_lambdas.shape) != (n, n):
        raise ValueError(
            f"{LOSS}: neg_lambdas must have shape ({n}, {n}), one coefficient per anchor and "
            f"partner, got shape {tuple(neg_lambdas.shape)}"
        )
    return neg_lambdas


def _published_labels(label: Tensor, anchor: Tensor, counts: Tensor, slots: int) -> Tensor:
    """Step 2 of the module docstring: the ``c``-th column of anchor ``i`` gets the ``c``-th
    smallest of the ``counts[i]`` largest values of its slot-label row.

    The row holds the column labels and ``slots - counts[i]`` zeros; at most ``counts[i]``
    zeros can be among the largest, so only that many are added. A label equal to -1 sorts
    below everything (the scripts mark -1 as missing before sorting).
    """
    n = counts.shape[0]
    zeros = torch.minimum(slots - counts, counts)
    values = torch.cat([label, label.new_zeros(int(zeros.sum()))])
    owner = torch.cat([anchor, torch.arange(n, device=label.device).repeat_interleave(zeros)])
    key = values.masked_fill(values == PADDING_VALUE, float("-inf"))
    by_value = torch.argsort(key, stable=True)
    by_owner = by_value[torch.argsort(owner[by_value], stable=True)]
    sizes = counts + zeros
    start = (sizes.cumsum(0) - sizes).repeat_interleave(sizes)
    position = torch.arange(values.shape[0], device=label.device) - start
    keep = position >= zeros.repeat_interleave(sizes)
    return values[by_owner][keep]


def published_supremix_loss(
    features: Tensor,
    labels: Tensor,
    *,
    temperature: float,
    window: float,
    alpha: float = 2.0,
    beta: float = 8.0,
    neg_lambdas: Tensor | None = None,
    mix_neg: bool = True,
    mix_pos: bool = True,
    distance_weight: bool = True,
    generator: torch.Generator | None = None,
    normalize: bool = True,
    separate_max_shift: bool = True,
    misaligned_weights: bool = True,
) -> Tensor:
    """The SupReMix loss of the published code (module docstring), bugs switchable.

    Args:
        features: ``(n, d)`` features of all views (views concatenated along dim 0).
        labels: ``(n,)`` labels.
        temperature, window, alpha, beta, neg_lambdas, mix_neg, mix_pos, distance_weight,
            generator, normalize: as in :func:`supremix.losses.supremix_loss` (label window).
        separate_max_shift: bug 1, shift the real and the mixture blocks by their own row
            maxima (mixture terms scaled by ``exp(M_r - M_m)``).
        misaligned_weights: bug 2, weight the mixture columns with the sorted labels of the
            compression step instead of their own.

    With both bugs off this equals :func:`~supremix.losses.supremix_loss` with its defaults
    and the same ``neg_lambdas``. Not DDP-aware (the scripts were single-process).
    """
    temperature = check_positive(LOSS, "temperature", temperature)
    window = check_positive(LOSS, "window", window)
    if mix_neg and neg_lambdas is None:
        check_positive(LOSS, "alpha", alpha)
        check_positive(LOSS, "beta", beta)
    with full_precision(features):
        batch = prepare(LOSS, features, labels, normalize=normalize, gather=False)
        n = batch.n
        if n < 2:
            return attached_zero(features)
        z, dtype = batch.z, batch.z.dtype
        if mix_neg and neg_lambdas is None:
            neg_lambdas = sample_beta((n, n), alpha, beta, generator=generator, device=z.device)
        columns = mixture_columns(
            batch.labels, window, neg_lambdas, mix_neg=mix_neg, mix_pos=mix_pos
        )
        per_anchor, counted = _anchor_losses(
            z,
            batch.labels,
            columns,
            temperature=temperature,
            distance_weight=distance_weight,
            separate_max_shift=separate_max_shift,
            misaligned_weights=misaligned_weights,
        )
        return batch.mean(per_anchor.to(dtype), counted)


def mixture_shift(
    features: Tensor,
    labels: Tensor,
    columns: MixtureColumns,
    *,
    temperature: float,
    normalize: bool = True,
) -> Tensor:
    """``delta_i = M_r - M_m`` of every anchor (bug 1): the log-factor by which the separate
    max shifts multiply its mixture terms; 0 for an anchor without mixture columns."""
    temperature = check_positive(LOSS, "temperature", temperature)
    with full_precision(features), torch.no_grad():
        batch = prepare(LOSS, features, labels, normalize=normalize, gather=False)
        z = batch.z
        scaled = z @ z.T / temperature
        mixed = _mixture_logits(scaled, columns)
        return _shift(z, scaled, mixed, columns, temperature)


def _mixture_logits(mixing: Tensor, columns: MixtureColumns) -> Tensor:
    """``lam H[a, j] + (1 - lam) H[a, k]`` for every column (``H`` already divided by t)."""
    lam = columns.lam.to(mixing.dtype)
    return torch.lerp(
        mixing[columns.anchor, columns.second], mixing[columns.anchor, columns.first], lam
    )


def _shift(
    z: Tensor, logits: Tensor, mixed: Tensor, columns: MixtureColumns, temperature: float
) -> Tensor:
    """``M_r - M_m`` per anchor (module docstring, step 3), detached."""
    n = z.shape[0]
    real_max = logits.detach().amax(dim=1)
    mixture_max = torch.full((n,), float("-inf"), dtype=z.dtype, device=z.device)
    mixture_max = mixture_max.scatter_reduce(0, columns.anchor, mixed.detach(), "amax")
    widest = int(columns.counts.max()) if n else 0
    padded = columns.counts < widest
    padding_logit = PADDING_VALUE * z.detach().sum(dim=1) / temperature
    mixture_max = torch.where(padded, torch.maximum(mixture_max, padding_logit), mixture_max)
    return torch.where(columns.counts > 0, real_max - mixture_max, 0.0)


def _anchor_losses(
    z: Tensor,
    labels: Tensor,
    columns: MixtureColumns,
    *,
    temperature: float,
    distance_weight: bool,
    separate_max_shift: bool,
    misaligned_weights: bool,
) -> tuple[Tensor, Tensor]:
    """Per-anchor ``L_i`` and the mask of anchors with positives (module docstring, step 4)."""
    n, dtype = z.shape[0], z.dtype
    y = labels.to(dtype)
    logits = z @ z.T / temperature
    mixing = z @ z.detach().T / temperature
    anchor = columns.anchor

    gap = (y[:, None] - y[None, :]).abs()
    real_weight = gap + 1 if distance_weight else torch.ones_like(gap)
    real_weight.fill_diagonal_(0.0)
    real = logits + torch.log(real_weight)

    mixed = _mixture_logits(mixing, columns)
    if separate_max_shift:
        mixed = mixed + _shift(z, logits, mixed, columns, temperature)[anchor]
    weight_label = columns.published_label if misaligned_weights else columns.label
    mixed_weight = (y[anchor] - weight_label.to(dtype)).abs() + 1
    if not distance_weight:
        mixed_weight = torch.ones_like(mixed_weight)
    denominator_mixed = mixed + torch.log(mixed_weight)

    row_max = real.detach().amax(dim=1)
    row_max = row_max.scatter_reduce(0, anchor, denominator_mixed.detach(), "amax")
    total = torch.exp(real - row_max[:, None]).sum(dim=1)
    total = total.index_add(0, anchor, torch.exp(denominator_mixed - row_max[anchor]))
    lse = row_max + torch.log(total)

    same = labels[:, None] == labels[None, :]
    same.fill_diagonal_(False)
    positive_sum = torch.where(same, logits, 0.0).sum(dim=1)
    positive_sum = positive_sum.index_add(0, anchor, torch.where(columns.positive, mixed, 0.0))
    count = same.sum(dim=1) + torch.bincount(anchor[columns.positive], minlength=n)
    return lse - positive_sum / count.clamp_min(1), count > 0


@dataclass(frozen=True)
class PublishedOptions(SupReMixCoreOptions):
    """Settings of :func:`published_supremix_loss`: those of the SupReMix loss it shares (the
    published code's strict window in label units), each bug a switch."""

    normalize: bool = True
    separate_max_shift: bool = True
    misaligned_weights: bool = True

    def __post_init__(self) -> None:
        check_positive(LOSS, "temperature", self.temperature)
        check_positive(LOSS, "window", self.window)


def _published_with_options(
    features: Tensor,
    labels: Tensor,
    *,
    options: PublishedOptions,
    generator: torch.Generator | None = None,
) -> Tensor:
    """:func:`published_supremix_loss` with its settings from ``options``."""
    return published_supremix_loss(features, labels, generator=generator, **asdict(options))


class PublishedSupReMixLoss(OptionsModule[PublishedOptions]):
    """Module form of :func:`published_supremix_loss`: ``PublishedSupReMixLoss(options)`` or
    its fields as keywords; ``forward(features, labels, groups=None, generator=None)`` (the
    published code has no groups)."""

    loss_name, options_type = LOSS, PublishedOptions
    loss_function = staticmethod(_published_with_options)
    batch_inputs = ("generator",)
