"""The SupReMix loss (seed 001 §3, eqs. (1)-(6); resolved as in reference/loss-spec.md).

Per anchor view ``i`` with features ``z_i`` (L2-normalised) and label ``y_i``:

* real terms: every other view ``a`` of the batch, similarity ``s_ia = z_i . z_a``;
* Mix-neg (eqs. (1)-(2)): for every view ``k`` with ``y_k != y_i`` (and, with ``groups``, of
  the anchor's group, seed 001 §5.7) the mixture ``lam z_i + (1 - lam) z_k`` with
  ``lam ~ Beta(alpha, beta)`` drawn per (anchor, partner) pair, label ``lam y_i + (1-lam) y_k``;
* Mix-pos (eqs. (3)-(4)): for every pair ``j``, ``k`` with ``y_i - g < y_j < y_i < y_k < y_i + g``
  (``window = g`` in label units; with ``window_mode="rank"``, ``1 <= rank_i - rank_j <= g`` and
  ``1 <= rank_k - rank_i <= g`` over the distinct labels of the batch, the integer reading of
  eq. (4); with ``groups``, ``j`` and ``k`` from the anchor's group as in §5.7) the mixture
  ``lam z_j + (1 - lam) z_k`` with ``lam = (y_k - y_i) / (y_k - y_j)``, whose label is ``y_i``;
* distance weight (eq. (5)): ``w_ia = 1 + |y_i - y_a|`` for every term ``a`` (label of the
  mixture for mixtures, so Mix-neg gets ``1 + (1 - lam)|y_i - y_k|`` and positives get 1),
  multiplying ``exp`` in the denominator only;
* positives ``P_i``: real views with exactly ``y_a == y_i`` plus all Mix-pos.

``L_i = -(1/|P_i|) sum_{p in P_i} [s_ip/t - log sum_{a in A_i} w_ia exp(s_ia/t)]`` (eq. (6) in
the per-anchor-mean form), ``L`` = mean of ``L_i`` over anchors with ``|P_i| > 0``. The
denominator is ONE logsumexp over the anchor's whole row [real, Mix-neg, Mix-pos] with the
log-weights added.

Lower bound (seed 001 Lemma 3.2, for this reduction): every positive is in ``A_i`` with weight
1 and all other weights are >= 1, so by Jensen ``L_i >= log |P_i|``, with equality iff all of
``i``'s positives have the same similarity and the other terms contribute nothing; with
``weight_range = R`` the weights are divided by ``R`` and the bound is ``log |P_i| - log R``.

Mixtures are never built. Every anchor-mixture similarity is a combination of entries of Gram
matrices: Mix-neg ``lam H_ii + (1-lam) H_ik``, Mix-pos ``lam H_ij + (1-lam) H_ik`` with
``H = Z M^T`` (``M`` the mixture-side features, detached by default), and the squared norm of a
mixture (for ``renormalize_mixtures``) is ``lam^2 Q_jj + (1-lam)^2 Q_kk + 2 lam (1-lam) Q_jk``
with ``Q = M M^T``. Mix-neg costs O(n N); the Mix-pos triples are enumerated sparsely (their
number, not ``n^3``) and reduced per anchor with a segment sum.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .beta import sample_beta
from .common import ContrastBatch, attached_zero, full_precision, prepare
from .validation import check_positive

WINDOW_MODES = ("label", "rank")
LOSS = "supremix"


def supremix_loss(
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
    groups: Tensor | None = None,
    detach_mixtures: bool = True,
    renormalize_mixtures: bool = False,
    generator: torch.Generator | None = None,
    window_mode: str = "label",
    weight_range: float | str | None = None,
    normalize: bool = True,
    gather: bool = True,
) -> Tensor:
    """SupReMix loss of a flat batch (module docstring; seed 001 eqs. (1)-(6)).

    Args:
        features: ``(n, d)`` features of all views (views concatenated along dim 0).
        labels: ``(n,)`` regression labels; views of one sample share theirs.
        temperature: ``t`` of eq. (6).
        window: Mix-pos window ``g``, in label units or, with ``window_mode="rank"``, in
            distinct labels (an integer).
        alpha, beta: Beta parameters of the Mix-neg coefficient (seed 001 Table 11: (2, 8)).
        neg_lambdas: optional ``(N, N)`` Mix-neg coefficients for the ``N``-row batch that is
            contrasted (the gathered batch under DDP); ``[i, k]`` weights the anchor ``i`` in
            its mixture with ``k``. Replaces the Beta draws (for checks against direct code).
        mix_neg, mix_pos, distance_weight: switch the three ingredients; all off is SupCon.
        groups: ``(n,)`` integer groups; mixtures only from the anchor's group (§5.7).
        detach_mixtures: no gradient through the mixture side (as the published code).
        renormalize_mixtures: build mixtures from the features as passed and L2-normalise
            them, the construction of seed 001 App. A ("mix before normalising"); off, the
            mixtures of the normalised features are used as they are (published code).
        generator: ``torch.Generator`` (on the features' device) for the Beta draws. Under
            DDP each rank draws the rows of its own anchors, so seed it differently per rank;
            a test of DDP against one process passes the same ``neg_lambdas`` to both.
        window_mode: ``"label"`` or ``"rank"``.
        weight_range: ``None`` for the raw weights ``1 + |dy|``; ``"batch"`` or a positive
            number ``R`` divides them by the label range (seed 001 eq. (5), ``m_max - m_min``
            of the batch, or ``R``). This shifts every ``L_i`` by ``-log R`` and leaves the
            gradients unchanged; use it to report loss values comparable with the paper.
        normalize: L2-normalise the features first (seed 001 §3.3).
        gather: under ``torch.distributed`` contrast with the batch of all ranks.

    Returns:
        A scalar tensor (float32, or float64 for float64 features).
    """
    temperature = check_positive(LOSS, "temperature", temperature)
    window = _check_window(window, window_mode)
    if mix_neg and neg_lambdas is None:
        check_positive(LOSS, "alpha", alpha)
        check_positive(LOSS, "beta", beta)
    if isinstance(weight_range, (int, float)):
        check_positive(LOSS, "weight_range", weight_range)
    elif weight_range not in (None, "batch"):
        raise ValueError(
            f"{LOSS}: weight_range must be None, 'batch' or a positive number, got {weight_range!r}"
        )
    with full_precision(features):
        batch = prepare(LOSS, features, labels, groups, normalize=normalize, gather=gather)
        if batch.N < 2:
            return attached_zero(features)
        lambdas = None
        if mix_neg:
            lambdas = _mix_neg_lambdas(batch, neg_lambdas, alpha, beta, generator)
        per_anchor, counted = _anchor_losses(
            batch,
            temperature=temperature,
            window=window,
            window_mode=window_mode,
            lambdas=lambdas,
            mix_pos=mix_pos,
            distance_weight=distance_weight,
            detach_mixtures=detach_mixtures,
            renormalize_mixtures=renormalize_mixtures,
            log_range=_log_range(batch, weight_range),
        )
        return batch.mean(per_anchor, counted)


class SupReMixLoss(nn.Module):
    """Module form of :func:`supremix_loss`; ``forward(features, labels, groups=None)``.

    Takes every keyword of :func:`supremix_loss` except ``groups``, which belongs to a batch.
    """

    def __init__(
        self,
        *,
        temperature: float,
        window: float,
        alpha: float = 2.0,
        beta: float = 8.0,
        neg_lambdas: Tensor | None = None,
        mix_neg: bool = True,
        mix_pos: bool = True,
        distance_weight: bool = True,
        detach_mixtures: bool = True,
        renormalize_mixtures: bool = False,
        generator: torch.Generator | None = None,
        window_mode: str = "label",
        weight_range: float | str | None = None,
        normalize: bool = True,
        gather: bool = True,
    ):
        super().__init__()
        self.temperature = check_positive(LOSS, "temperature", temperature)
        self.window = _check_window(window, window_mode)
        self.alpha = alpha
        self.beta = beta
        self.neg_lambdas = neg_lambdas
        self.mix_neg = mix_neg
        self.mix_pos = mix_pos
        self.distance_weight = distance_weight
        self.detach_mixtures = detach_mixtures
        self.renormalize_mixtures = renormalize_mixtures
        self.generator = generator
        self.window_mode = window_mode
        self.weight_range = weight_range
        self.normalize = normalize
        self.gather = gather

    def forward(self, features: Tensor, labels: Tensor, groups: Tensor | None = None) -> Tensor:
        return supremix_loss(
            features,
            labels,
            temperature=self.temperature,
            window=self.window,
            alpha=self.alpha,
            beta=self.beta,
            neg_lambdas=self.neg_lambdas,
            mix_neg=self.mix_neg,
            mix_pos=self.mix_pos,
            distance_weight=self.distance_weight,
            groups=groups,
            detach_mixtures=self.detach_mixtures,
            renormalize_mixtures=self.renormalize_mixtures,
            generator=self.generator,
            window_mode=self.window_mode,
            weight_range=self.weight_range,
            normalize=self.normalize,
            gather=self.gather,
        )

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, window={self.window}, "
            f"window_mode={self.window_mode!r}, alpha={self.alpha}, beta={self.beta}, "
            f"mix_neg={self.mix_neg}, mix_pos={self.mix_pos}, "
            f"distance_weight={self.distance_weight}"
        )


def _check_window(window: float, window_mode: str) -> float:
    if window_mode not in WINDOW_MODES:
        raise ValueError(
            f"{LOSS}: window_mode must be one of {', '.join(WINDOW_MODES)}, got {window_mode!r}"
        )
    if window_mode == "label" and window == math.inf:
        return window  # γ = ∞ (seed 001 Table 10): every lower and every higher label mixes
    window = check_positive(LOSS, "window", window)
    if window_mode == "rank" and window != int(window):
        raise ValueError(
            f"{LOSS}: a rank window counts distinct labels and must be a whole number, got {window}"
        )
    return window


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


def mix_pos_triples(
    labels: Tensor,
    window: float,
    groups: Tensor | None = None,
    *,
    window_mode: str = "label",
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The Mix-pos triples ``(i, j, k)`` of a batch (seed 001 eqs. (3)-(4)), every row an anchor.

    Label window: ``y_i - g < y_j < y_i < y_k < y_i + g``; rank window:
    ``1 <= rank_i - rank_j <= g`` and ``1 <= rank_k - rank_i <= g`` over the distinct labels.
    ``groups`` keeps ``j`` and ``k`` in the anchor's group. Returns index vectors ``i``, ``j``,
    ``k`` grouped by ``i`` and the number of triples of each anchor.
    """
    labels = labels.to(torch.float64)
    if groups is not None:
        groups = torch.as_tensor(groups, device=labels.device)
    N = labels.shape[0]
    ij, ik, per_anchor = _triples(labels, slice(0, N), window, window_mode, groups)
    i = torch.arange(N, device=labels.device).repeat_interleave(per_anchor)
    return i, ij % N, ik % N, per_anchor


def _triples(
    labels: Tensor, rows: slice, window: float, window_mode: str, groups: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """Mix-pos triples as flat indices ``i * N + j`` and ``i * N + k`` into ``(n, N)`` rows,
    grouped by anchor ``i``, and the number of triples of each anchor.

    Sort the batch by (group, label rank) once; an anchor's candidates below (``j``) and
    above (``k``) are then two contiguous runs of that order, found with ``searchsorted`` on
    integer keys (exact: window boundaries are compared in float64 against the distinct labels
    only). Each triple is laid out with ``repeat_interleave`` from per-candidate lists; no
    ``(n, N)`` mask and no ``(n, N, N)`` tensor is formed.
    """
    device = labels.device
    N = labels.shape[0]
    distinct, rank = torch.unique(labels, sorted=True, return_inverse=True)
    levels = distinct.shape[0]
    group = (
        torch.zeros_like(rank) if groups is None else torch.unique(groups, return_inverse=True)[1]
    )
    keys = group * (levels + 1) + rank
    sorted_keys, order = torch.sort(keys, stable=True)

    anchor_rank = rank[rows]
    base = group[rows] * (levels + 1)
    if window_mode == "rank":
        lowest = (anchor_rank - int(window)).clamp_min(0)
        beyond = (anchor_rank + int(window) + 1).clamp_max(levels)
    else:
        anchor_labels = labels[rows]
        lowest = torch.searchsorted(distinct, anchor_labels - window, right=True)
        beyond = torch.searchsorted(distinct, anchor_labels + window, right=False)
    bounds = torch.stack([base + lowest, base + anchor_rank, base + anchor_rank + 1, base + beyond])
    below_start, below_end, above_start, above_end = torch.searchsorted(sorted_keys, bounds)
    n_below, n_above = below_end - below_start, above_end - above_start
    per_anchor = n_below * n_above
    below_size, above_size, total = torch.stack(
        [n_below.sum(), n_above.sum(), per_anchor.sum()]
    ).tolist()

    # candidate lists, anchor by anchor: flat i * N + j (below) then i * N + k (above)
    lengths = torch.cat([n_below, n_above])
    size = below_size + above_size
    run = torch.repeat_interleave(lengths, output_size=size)  # below runs 0..n-1, above n..2n-1
    first = torch.cat([below_start, above_start]) - (lengths.cumsum(0) - lengths)
    position = torch.arange(size, device=device) + _gather(first, run)
    entries = _gather(order, position) + run % (rows.stop - rows.start) * N
    below, above = entries.split([below_size, above_size])
    # triple t pairs below-entry e (repeated n_above[i] times) with the i-th above run
    repeats = n_above.repeat_interleave(n_below, output_size=below_size)
    entry = torch.repeat_interleave(repeats, output_size=total)
    ij = _gather(below, entry)
    run_first = (n_above.cumsum(0) - n_above).repeat_interleave(n_below, output_size=below_size)
    offset = run_first - (repeats.cumsum(0) - repeats)
    ik = _gather(above, torch.arange(total, device=device) + _gather(offset, entry))
    return ij, ik, per_anchor


def _anchor_losses(
    batch: ContrastBatch,
    *,
    temperature: float,
    window: float,
    window_mode: str,
    lambdas: Tensor | None,
    mix_pos: bool,
    distance_weight: bool,
    detach_mixtures: bool,
    renormalize_mixtures: bool,
    log_range: float,
) -> tuple[Tensor, Tensor]:
    """Per-anchor ``L_i`` for this rank's anchors and the mask of anchors with positives.

    All rows are ``(n, N)``: anchor ``i`` against column ``a`` of the (gathered) batch. The
    weights enter as log-weights added to the logits; excluded terms get weight 0 (log -inf).
    """
    z, anchors = batch.z, batch.anchors
    dtype = z.dtype
    N = batch.N
    own = batch.offset  # anchor i's own column is i + own
    labels = batch.labels
    positives = batch.same_label()
    partner = ~positives if batch.groups is None else ~positives & batch.same_group()
    positives.diagonal(offset=own).fill_(False)
    # differences in float64 first: large labels keep their small gaps (and lam its accuracy)
    label_gap = (batch.anchor_labels[:, None] - labels[None, :]).abs().to(dtype)
    weight = label_gap + 1 if distance_weight else torch.ones_like(label_gap)
    weight.diagonal(offset=own).fill_(0.0)  # the anchor itself is not a term

    # Real logits and the anchor-mixture logits H = Z M^T / t (M: mixture-side features).
    scaled = anchors / temperature
    if renormalize_mixtures:
        logits = scaled @ z.T
        mixing_side = batch.raw.detach() if detach_mixtures else batch.raw
        mixed = scaled @ mixing_side.T
        gram = mixing_side @ mixing_side.T
        sq_norm = gram.diagonal()
    elif detach_mixtures:
        logits, mixed = _SharedGram.apply(scaled, z)
    else:
        logits = mixed = scaled @ z.T
    real = logits + torch.log(weight)
    if log_range:
        real = real - log_range
    rows = [real]

    if lambdas is not None:
        own_term = mixed.diagonal(offset=own)[:, None]  # z_i . m_i: the anchor's own share
        if batch.normalized and (detach_mixtures or not renormalize_mixtures):
            # its gradient reaches the features only through normalised z_i and is parallel
            # to z_i, so the normalisation's backward projects it to exactly zero: skip it
            own_term = own_term.detach()
        neg = torch.lerp(mixed, own_term, lambdas)
        if renormalize_mixtures:
            norm2 = _mixture_norm2(
                lambdas,
                sq_norm[batch.batch_rows(), None],
                sq_norm[None, :],
                gram[batch.batch_rows()],
            )
            neg = neg / norm2.sqrt()
        # Mix-neg label lam y_i + (1 - lam) y_k: weight 1 + (1 - lam)|y_i - y_k|
        neg_weight = (
            torch.addcmul(weight, lambdas, label_gap, value=-1) if distance_weight else weight
        )
        neg = neg + torch.log(torch.where(partner, neg_weight, 0.0))
        if log_range:
            neg = neg - log_range
        rows.append(neg)

    row_max = rows[0].detach().amax(dim=1)
    for row in rows[1:]:
        row_max = torch.maximum(row_max, row.detach().amax(dim=1))
    positive_sum = torch.where(positives, logits, 0.0).sum(dim=1)
    count = positives.sum(dim=1)
    total = torch.exp(rows[0] - row_max[:, None]).sum(dim=1)
    for row in rows[1:]:
        total = total + torch.exp(row - row_max[:, None]).sum(dim=1)

    if mix_pos:
        ij, ik, triples = _triples(labels, batch.batch_rows(), window, window_mode, batch.groups)
        # lam = (y_k - y_i) / (y_k - y_j), the weight of z_j in the mixture of label y_i
        to_high, to_low = _gather(label_gap, ik), _gather(label_gap, ij)
        lam = to_high / (to_high + to_low)
        if renormalize_mixtures:
            j, k = ij % N, ik % N
            norm2 = _mixture_norm2(
                lam, _gather(sq_norm, j), _gather(sq_norm, k), _gather(gram, j * N + k)
            )
            pos = torch.lerp(_gather(mixed, ik), _gather(mixed, ij), lam) / norm2.sqrt()
            # a renormalised mixture can exceed every real similarity: widen the shift
            i = torch.arange(batch.n, device=pos.device).repeat_interleave(triples)
            grown = row_max.scatter_reduce(0, i, pos.detach() - log_range, "amax")
            total = total * torch.exp(row_max - grown)
            row_max = grown
            shifted = pos - _gather(row_max, i)
        else:
            # A Mix-pos logit is then a convex combination of two real logits of its row (j, k
            # are other views), so the row's shift bounds it; shifting H first shifts the lerp.
            shifted_rows = mixed - row_max[:, None]
            shifted = torch.lerp(_gather(shifted_rows, ik), _gather(shifted_rows, ij), lam)
        mixed_terms = torch.exp(shifted if not log_range else shifted - log_range)
        total = total + torch.segment_reduce(mixed_terms, "sum", lengths=triples)
        positive_sum = positive_sum + torch.segment_reduce(shifted, "sum", lengths=triples)
        positive_sum = positive_sum + triples * row_max
        count = count + triples

    lse = row_max + torch.log(total)
    return lse - positive_sum / count.clamp_min(1), count > 0


def _gather(source: Tensor, flat_index: Tensor) -> Tensor:
    """``source.flatten()[flat_index]``; a 2-D ``gather`` is the fastest such read on CPU."""
    return source.reshape(1, -1).gather(1, flat_index.view(1, -1)).view(-1)


class _SharedGram(torch.autograd.Function):
    """``A @ B^T`` once, returned twice: the real logits (gradients to ``A`` and ``B``) and the
    anchor-mixture logits with the mixture side detached (gradients to ``A`` only).

    Saves the second matmul and its backward that ``A @ B.detach().T`` would cost.
    """

    @staticmethod
    def forward(ctx, left: Tensor, right: Tensor) -> tuple[Tensor, Tensor]:
        ctx.save_for_backward(left, right)
        product = left @ right.T
        return product, product.clone()

    @staticmethod
    def backward(ctx, grad_both: Tensor, grad_left_only: Tensor) -> tuple[Tensor, Tensor]:
        left, right = ctx.saved_tensors
        return (grad_both + grad_left_only) @ right, grad_both.T @ left


def _mixture_norm2(lam: Tensor, first: Tensor, second: Tensor, cross: Tensor) -> Tensor:
    """``|lam a + (1-lam) b|^2`` from ``|a|^2``, ``|b|^2`` and ``a . b`` (floored above 0)."""
    mix = lam * (1 - lam)
    norm2 = lam.square() * first + (1 - lam).square() * second + 2 * mix * cross
    return norm2.clamp_min(1e-30)
