"""Slow, direct implementations of every loss, written from the equations for the tests.

Python loops over anchors and pairs; SupReMix builds every mixture VECTOR explicitly
(the SupReMix paper, eqs. (1), (3)) and every weight from the mixture's label (eq. (5)). Float64.
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st


def _normalised(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True)


def label_ranks(y: list[float]) -> list[int]:
    distinct = sorted(set(y))
    return [distinct.index(v) for v in y]


def within(gap, window, edges):
    """``gap <= window`` (eq. (4) as printed) or ``gap < window`` (the published code)."""
    return gap <= window if edges == "inclusive" else gap < window


def mix_pos_pairs(y, i, window, window_mode="label", groups=None, edges="inclusive"):
    """All (j, k) with y_j < y_i < y_k, both within the window of y_i (or of its rank)."""
    n = len(y)
    ranks = label_ranks(y)
    pairs = []
    for j in range(n):
        for k in range(n):
            if groups is not None and (groups[j] != groups[i] or groups[k] != groups[i]):
                continue
            if window_mode == "label":
                ok = y[j] < y[i] < y[k]
                ok = (
                    ok and within(y[i] - y[j], window, edges) and within(y[k] - y[i], window, edges)
                )
            else:
                below, above = ranks[i] - ranks[j], ranks[k] - ranks[i]
                ok = below >= 1 and above >= 1
                ok = ok and within(below, window, edges) and within(above, window, edges)
            if ok:
                pairs.append((j, k))
    return pairs


def positive_count(y, i, window, window_mode="label", groups=None, mix_pos=True, edges="inclusive"):
    real = sum(1 for a in range(len(y)) if a != i and y[a] == y[i])
    mixed = len(mix_pos_pairs(y, i, window, window_mode, groups, edges)) if mix_pos else 0
    return real + mixed


def direct_supremix(
    x,
    y,
    lam_neg=None,
    *,
    t,
    window,
    mix_neg=True,
    mix_pos=True,
    distance_weight=True,
    groups=None,
    detach=True,
    renormalize=False,
    window_mode="label",
    window_edges="inclusive",
    reduction="anchor",
    weight_range=None,
    normalize=True,
):
    """The SupReMix paper's eq. (6) with explicit mixture vectors.

    ``reduction="anchor"``: mean over each anchor's positives, then over anchors with one;
    ``"label"``: eq. (6) as printed, sum over positives, 1/k_m over the k_m views of label m,
    sum over labels.
    """
    y = [float(v) for v in y]
    n = len(y)
    z = _normalised(x) if normalize else x
    source = x if renormalize else z
    if detach:
        source = source.detach()
    if weight_range == "batch":
        spread = max(y) - min(y)
        scale = spread if spread > 0 else 1.0
    else:
        scale = 1.0 if weight_range is None else float(weight_range)

    def weight(label):
        return (1.0 + abs(y_i - label)) / scale if distance_weight else 1.0 / scale

    def mixture(a, b, lam):
        m = lam * source[a] + (1 - lam) * source[b]
        return m / m.norm() if renormalize else m

    losses = []
    for i in range(n):
        y_i = y[i]
        denominator = []  # (similarity / t, weight)
        positives = []
        for a in range(n):
            if a == i:
                continue
            s = z[i] @ z[a] / t
            denominator.append((s, weight(y[a])))
            if y[a] == y_i:
                positives.append(s)
        if mix_neg:
            for k in range(n):
                if y[k] == y_i or (groups is not None and groups[k] != groups[i]):
                    continue
                lam = float(lam_neg[i][k])
                label = lam * y_i + (1 - lam) * y[k]
                denominator.append((z[i] @ mixture(i, k, lam) / t, weight(label)))
        if mix_pos:
            for j, k in mix_pos_pairs(y, i, window, window_mode, groups, window_edges):
                lam = (y[k] - y_i) / (y[k] - y[j])
                label = lam * y[j] + (1 - lam) * y[k]
                s = z[i] @ mixture(j, k, lam) / t
                denominator.append((s, weight(label)))
                positives.append(s)
        if not positives:
            continue
        log_den = torch.log(sum(w * torch.exp(s) for s, w in denominator))
        terms = -sum(s - log_den for s in positives)
        if reduction == "anchor":
            losses.append(terms / len(positives))
        else:
            losses.append(terms / sum(1 for label in y if label == y_i))
    if not losses:
        return x.sum() * 0
    return sum(losses) / len(losses) if reduction == "anchor" else sum(losses)


def direct_supcon(x, y, *, t):
    """Khosla et al. 2020 ("out" form) with positives = other views of equal label."""
    y = [float(v) for v in y]
    z = _normalised(x)
    n = len(y)
    losses = []
    for i in range(n):
        positives = [a for a in range(n) if a != i and y[a] == y[i]]
        if not positives:
            continue
        log_den = torch.log(sum(torch.exp(z[i] @ z[a] / t) for a in range(n) if a != i))
        losses.append(-sum(z[i] @ z[p] / t - log_den for p in positives) / len(positives))
    return sum(losses) / len(losses) if losses else x.sum() * 0


def direct_simclr(x, *, t):
    """NT-Xent: rows i and i + n/2 are each other's only positive."""
    n = x.shape[0]
    z = _normalised(x)
    total = 0
    for i in range(n):
        p = (i + n // 2) % n
        log_den = torch.log(sum(torch.exp(z[i] @ z[a] / t) for a in range(n) if a != i))
        total = total - (z[i] @ z[p] / t - log_den)
    return total / n


def direct_adacon(x, y, train, *, t):
    """The AdaCon paper's eq. (6) with eq. (4) margins and eq. (5) ECDF, mean over anchors."""
    y = [float(v) for v in y]
    train = [float(v) for v in train]
    z = _normalised(x)
    n = len(y)

    def phi(v):
        return sum(1 for u in train if u <= v) / len(train)

    losses = []
    for i in range(n):
        positives = [a for a in range(n) if a != i and y[a] == y[i]]
        if not positives:
            continue
        den = sum(
            torch.exp((z[i] @ z[a] + min(2.0, 2 * abs(phi(y[i]) - phi(y[a])))) / t)
            for a in range(n)
            if a != i
        )
        losses.append(-sum(z[i] @ z[p] / t - torch.log(den) for p in positives) / len(positives))
    return sum(losses) / len(losses) if losses else x.sum() * 0


def direct_rnc(x, y, *, t):
    """Zha et al. 2023: the O(n^3) definition, ties and j itself in the denominator set."""
    y = [float(v) for v in y]
    n = len(y)
    if n < 2:
        return x.sum() * 0
    total = 0
    for i in range(n):
        for j in range(n):
            if j == i:
                continue
            s_ij = -(x[i] - x[j]).norm() / t
            den = sum(
                torch.exp(-(x[i] - x[k]).norm() / t)
                for k in range(n)
                if k != i and abs(y[i] - y[k]) >= abs(y[i] - y[j])
            )
            total = total - (s_ij - torch.log(den))
    return total / (n * (n - 1))


def lower_bound(y, window, window_mode="label", groups=None, mix_pos=True, log_range=0.0):
    """The SupReMix paper's Lemma 3.2 for the per-anchor mean form: mean_i log|P_i| (minus log
    R)."""
    counts = [positive_count(y, i, window, window_mode, groups, mix_pos) for i in range(len(y))]
    counted = [c for c in counts if c > 0]
    if not counted:
        return 0.0
    return sum(math.log(c) for c in counted) / len(counted) - log_range


# --- test helpers ------------------------------------------------------------------------------


def make_batch(seed, sample_labels, views, dim, continuous=False, group_count=0):
    """Random float64 features for ``views`` views of samples with the given labels."""
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor(sample_labels, dtype=torch.float64)
    if continuous:
        y = y + torch.rand(len(sample_labels), generator=g, dtype=torch.float64)
    y = y.repeat(views)
    x = torch.randn(len(y), dim, generator=g, dtype=torch.float64)
    groups = None
    if group_count:
        groups = torch.randint(0, group_count, (len(sample_labels),), generator=g).repeat(views)
    lam = torch.rand(len(y), len(y), generator=g, dtype=torch.float64)
    return x, y, groups, lam


def label_lists(max_size, levels=6):
    return st.lists(st.integers(0, levels - 1), min_size=1, max_size=max_size)


def value_and_grad(fn, x):
    x = x.detach().clone().requires_grad_(True)
    loss = fn(x)
    (grad,) = torch.autograd.grad(loss, x, allow_unused=True)
    return loss.detach(), torch.zeros_like(x) if grad is None else grad


def assert_same(fast, slow, x):
    value_fast, grad_fast = value_and_grad(fast, x)
    value_slow, grad_slow = value_and_grad(slow, x)
    torch.testing.assert_close(value_fast, value_slow.to(value_fast.dtype), rtol=1e-9, atol=1e-10)
    # absolute tolerance relative to the largest gradient: unnormalised features at a small
    # temperature give gradients of order 1e3 whose small entries carry that much rounding
    scale = max(1.0, float(grad_slow.abs().max()))
    torch.testing.assert_close(grad_fast, grad_slow, rtol=1e-8, atol=1e-10 * scale)


def materialised_supremix(
    x,
    y,
    lam_neg,
    *,
    t,
    window,
    window_mode="label",
    window_edges="inclusive",
    groups=None,
    reduction="anchor",
    distance_weight=True,
    mix_neg=True,
    detach=True,
):
    """The triple form, vectorised: every Mix-neg and Mix-pos mixture built as a vector.

    Mix-pos mixtures of all (i, j, k) live in an ``(n, n, n, d)`` tensor and a brute-force
    ``(n, n, n)`` mask written from eq. (4) selects them; no factorisation, no enumeration.
    Mixtures of the normalised features, not renormalised.
    """
    n = len(y)
    z = _normalised(x)
    side = z.detach() if detach else z
    y = torch.as_tensor(y, dtype=torch.float64)
    key = (
        y if window_mode == "label" else torch.tensor(label_ranks(y.tolist()), dtype=torch.float64)
    )
    eye = torch.eye(n, dtype=torch.bool)
    same_group = torch.ones(n, n, dtype=torch.bool)
    if groups is not None:
        g = torch.as_tensor(groups)
        same_group = g[:, None] == g[None, :]
    gap = (y[:, None] - y[None, :]).abs()

    def log_weight(label_gap):
        return torch.log1p(label_gap) if distance_weight else torch.zeros_like(label_gap)

    terms = [(z @ z.T / t + log_weight(gap)).masked_fill(eye, float("-inf"))]
    if mix_neg:
        lam = torch.as_tensor(lam_neg, dtype=x.dtype)
        own = (z * side).sum(1)  # z_i . m-side z_i
        neg_sim = (lam * own[:, None] + (1 - lam) * (z @ side.T)) / t
        partner = (gap > 0) & same_group
        neg = neg_sim + log_weight((1 - lam) * gap)
        terms.append(neg.masked_fill(~partner, float("-inf")))
    below = key[:, None] - key[None, :]  # [i, j]: how far j is below i
    inside = below <= window if window_edges == "inclusive" else below < window
    lower = (below > 0) & inside & same_group
    above = -below
    inside = above <= window if window_edges == "inclusive" else above < window
    upper = (above > 0) & inside & same_group
    valid = lower[:, :, None] & upper[:, None, :]  # [i, j, k]
    yi, yj, yk = y[:, None, None], y[None, :, None], y[None, None, :]
    lam_pos = torch.where(valid, (yk - yi) / (yk - yj), 0.5).to(x.dtype)
    mixtures = (
        lam_pos[..., None] * side[None, :, None, :] + (1 - lam_pos)[..., None] * side[None, None]
    )
    pos = torch.einsum("id,ijkd->ijk", z, mixtures).reshape(n, -1) / t
    terms.append(pos.masked_fill(~valid.reshape(n, -1), float("-inf")))
    lse = torch.logsumexp(torch.cat(terms, dim=1), dim=1)
    real_pos = (gap == 0) & ~eye
    positive = torch.where(real_pos, z @ z.T / t, 0.0).sum(1) + torch.where(
        valid.reshape(n, -1), pos, 0.0
    ).sum(1)
    count = real_pos.sum(1) + valid.reshape(n, -1).sum(1)
    if reduction == "anchor":
        counted = count > 0
        if not counted.any():
            return x.sum() * 0
        return (lse - positive / count.clamp_min(1))[counted].mean()
    k = (gap == 0).sum(1)
    return ((count * lse - positive) / k).sum()
