"""The anatomy of the SupReMix loss on a batch, and its theory checked numerically.

The SupReMix paper's §3 builds, for every anchor ``i``, a row of contrastive terms: the other real
views (positives when they share the anchor's label), the Mix-negs ``lam z_i + (1 - lam) z_k`` (eqs.
(1)-(2)) and the Mix-pos ``lam z_j + (1 - lam) z_k`` (eqs. (3)-(4)), each weighted in the
denominator by ``w = 1 + |y_i - label|`` (eq. (5), raw weights as on the book page "The SupReMix
loss, specified"). This module lists those terms and checks §3.4:

* :func:`pair_table`: every term of every anchor as a DataFrame (kind, partners, lambda,
  label, weight; similarity and logit when features are given), with the weight the published
  code gives each column (:mod:`supremix.losses.published`) beside the correct one.
* :func:`term_gradients`: ``dL_i/ds_ia`` of every term, with and without the weights
  (Theorem 3.1, distance magnifying: for two negatives the ratio of the gradients grows by
  ``w_far / w_near``).
* :func:`positive_counts`, :func:`lemma_bound`: the lower bound of Lemma 3.2 in the
  per-anchor-mean form, ``L >= mean_i log |P_i|``.
* :func:`ordered_line_embedding`, :func:`theorem_3_3_table`: the construction of App. A.3
  (embeddings on a line, positions proportional to the labels) and the gap ``L - L*`` against
  the temperature, beside the proof's vanishing term ``exp((cos theta_0 - 1) / t)`` and the
  bound of its eq. (12). That term vanishes as ``t -> 0+``; the proof writes ``t -> inf``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

from supremix.losses import mix_pos_triples, supremix_loss
from supremix.losses.published import mixture_columns, mixture_shift

TERM_KINDS = ("real positive", "real negative", "Mix-neg", "Mix-pos")
TABLE_COLUMNS = [
    "anchor",
    "kind",
    "first",
    "second",
    "lam",
    "anchor_label",
    "label",
    "weight",
    "published_weight",
    "positive",
]


def _labels(labels: Tensor | Sequence[float]) -> Tensor:
    y = torch.as_tensor(labels, dtype=torch.float64).reshape(-1)
    if y.numel() == 0:
        raise ValueError("labels are empty; expected one label per view")
    if not bool(torch.isfinite(y).all()):
        raise ValueError("labels contain NaN or inf; expected finite regression targets")
    return y


def pair_table(
    labels: Tensor | Sequence[float],
    *,
    window: float,
    neg_lambdas: Tensor | None = None,
    features: Tensor | None = None,
    temperature: float = 1.0,
    mix_neg: bool = True,
    mix_pos: bool = True,
    distance_weight: bool = True,
    renormalize_mixtures: bool = False,
    window_edges: str = "inclusive",
) -> pd.DataFrame:
    """Every contrastive term of every anchor of a batch (the SupReMix paper, eqs. (1)-(6)).

    ``window_edges`` as in :func:`supremix.losses.supremix_loss` (inclusive by default).

    One row per (anchor, term): ``kind`` (:data:`TERM_KINDS`), ``first`` / ``second`` (the
    real partner, or the two mixed views; for a Mix-neg ``first`` is the anchor; ``second`` is
    -1 for a real term), ``lam`` (weight of ``first``; NaN for real terms), ``anchor_label``,
    ``label`` (the term's label: the partner's, or the mixture's), ``weight`` (eq. (5), raw:
    ``1 + |anchor_label - label|``, or 1 without ``distance_weight``), ``published_weight``
    (what the published code uses: the same for real terms, the misaligned one for mixtures)
    and ``positive``. Real terms come first, then the mixtures in the published column order.

    With ``features`` ``(n, d)`` the table also has ``similarity`` (``z_i . x``, features
    L2-normalised, mixtures as the loss builds them: from the normalised features, or from
    the raw ones and re-normalised with ``renormalize_mixtures``) and ``logit``
    (``similarity / temperature``).
    """
    y = _labels(labels)
    n = y.shape[0]
    if mix_neg and neg_lambdas is None:
        raise ValueError("mix_neg needs neg_lambdas: an (n, n) tensor, [i, k] weighting anchor i")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    anchor, partner = torch.nonzero(~torch.eye(n, dtype=torch.bool), as_tuple=True)
    real = pd.DataFrame(
        {
            "anchor": anchor.numpy(),
            "first": partner.numpy(),
            "second": -1,
            "lam": np.nan,
            "label": y[partner].numpy(),
            "positive": (y[partner] == y[anchor]).numpy(),
        }
    )
    real["kind"] = np.where(real["positive"], "real positive", "real negative")
    columns = mixture_columns(
        y, window, neg_lambdas, mix_neg=mix_neg, mix_pos=mix_pos, window_edges=window_edges
    )
    mixed = pd.DataFrame(
        {
            "anchor": columns.anchor.numpy(),
            "first": columns.first.numpy(),
            "second": columns.second.numpy(),
            "lam": columns.lam.numpy(),
            "label": columns.label.numpy(),
            "published_label": columns.published_label.numpy(),
            "positive": columns.positive.numpy(),
        }
    )
    mixed["kind"] = np.where(mixed["positive"], "Mix-pos", "Mix-neg")
    real["published_label"] = real["label"]
    table = pd.concat([real, mixed], ignore_index=True)
    table["anchor_label"] = y.numpy()[table["anchor"]]
    if distance_weight:
        table["weight"] = 1 + (table["anchor_label"] - table["label"]).abs()
        table["published_weight"] = 1 + (table["anchor_label"] - table["published_label"]).abs()
    else:
        table["weight"] = table["published_weight"] = 1.0
    order = np.lexsort((np.arange(len(table)), table["anchor"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)[TABLE_COLUMNS]
    if features is not None:
        similarity = _similarities(features, table, n, renormalize_mixtures)
        table["similarity"] = similarity
        table["logit"] = similarity / temperature
    return table


def _column(table: pd.DataFrame, name: str) -> Tensor:
    """A table column as a tensor of its own (float64 for floating columns)."""
    values = np.array(table[name].to_numpy())
    tensor = torch.from_numpy(values)
    return tensor.to(torch.float64) if tensor.is_floating_point() else tensor


def _similarities(features: Tensor, table: pd.DataFrame, n: int, renormalize: bool) -> np.ndarray:
    """``z_i . x`` for every row of a pair table of ``n`` views (float64)."""
    raw = torch.as_tensor(features).detach().to(torch.float64)
    if raw.dim() != 2 or raw.shape[0] != n:
        raise ValueError(
            f"features must have shape (n, d) with one row per label, got {tuple(raw.shape)}"
        )
    z = F.normalize(raw, dim=1)
    anchor = _column(table, "anchor")
    first = _column(table, "first")
    second = _column(table, "second")
    lam = _column(table, "lam")
    real = second < 0
    similarity = (z[anchor] * z[first]).sum(dim=1)
    source = raw if renormalize else z
    lam_m = torch.where(real, 1.0, lam)[:, None]
    mixture = lam_m * source[first] + (1 - lam_m) * source[second.clamp_min(0)]
    if renormalize:
        mixture = F.normalize(mixture, dim=1)
    mixed = (z[anchor] * mixture).sum(dim=1)
    return torch.where(real, similarity, mixed).numpy()


def term_gradients(
    table: pd.DataFrame, *, temperature: float, weight_column: str = "weight"
) -> pd.DataFrame:
    """``dL_i / ds_ia`` of every term (the SupReMix paper, Theorem 3.1 and its proof, App. A.1).

    ``table``: a :func:`pair_table` with ``similarity``. Each anchor's loss as a function of
    its similarities, ``L_i(s) = log sum_a w_a exp(s_a / t) - mean_{p in P_i} s_p / t``, is
    differentiated by autograd, once with the weights of ``weight_column`` (``grad``) and once
    with all weights 1 (``grad_unweighted``). For a negative the gradient is
    ``w_a exp(s_a / t) / (t D_i)``, so the ratio of two negatives' gradients is multiplied by
    ``w_1 / w_2`` by the weights. Anchors without positives get NaN. Returns a copy of
    ``table`` with the two columns.
    """
    if "similarity" not in table:
        raise ValueError("table has no 'similarity' column; build it with pair_table(features=...)")
    out = table.copy()
    weighted = out[weight_column].to_numpy(dtype=np.float64)
    out["grad"] = _anchor_loss_gradient(out, weighted, temperature)
    out["grad_unweighted"] = _anchor_loss_gradient(out, np.ones_like(weighted), temperature)
    return out


def _anchor_loss_gradient(table: pd.DataFrame, weights: np.ndarray, t: float) -> np.ndarray:
    s = _column(table, "similarity").requires_grad_(True)
    anchor = _column(table, "anchor")
    positive = _column(table, "positive")
    loss, has_positive = _anchor_losses(s, torch.tensor(weights), anchor, positive, t)
    if not bool(has_positive.any()):
        return np.full(len(table), math.nan)
    (grad,) = torch.autograd.grad(loss[has_positive].sum(), s)
    return torch.where(has_positive[anchor], grad, math.nan).numpy()


def _anchor_losses(
    s: Tensor, weights: Tensor, anchor: Tensor, positive: Tensor, t: float
) -> tuple[Tensor, Tensor]:
    """``L_i`` of every anchor from its terms, and whether it has a positive."""
    n = int(anchor.max()) + 1 if anchor.numel() else 0
    logit = s / t + torch.log(weights)
    row_max = torch.full((n,), -math.inf, dtype=s.dtype).scatter_reduce(
        0, anchor, logit.detach(), "amax"
    )
    total = torch.zeros(n, dtype=s.dtype).index_add(0, anchor, torch.exp(logit - row_max[anchor]))
    lse = row_max + torch.log(total)
    count = torch.zeros(n, dtype=s.dtype).index_add(0, anchor, positive.to(s.dtype))
    pos_sum = torch.zeros(n, dtype=s.dtype).index_add(0, anchor, torch.where(positive, s / t, 0))
    return lse - pos_sum / count.clamp_min(1), count > 0


def table_loss(table: pd.DataFrame, *, temperature: float, weight_column: str = "weight") -> float:
    """The loss ``mean_i L_i`` over anchors with positives, from a pair table's terms."""
    if "similarity" not in table:
        raise ValueError("table has no 'similarity' column; build it with pair_table(features=...)")
    s = _column(table, "similarity")
    weights = _column(table, weight_column)
    anchor = _column(table, "anchor")
    positive = _column(table, "positive")
    loss, has_positive = _anchor_losses(s, weights, anchor, positive, temperature)
    return float(loss[has_positive].mean()) if bool(has_positive.any()) else 0.0


def positive_counts(
    labels: Tensor | Sequence[float], *, window: float, mix_pos: bool = True
) -> np.ndarray:
    """``|P_i|`` of every anchor: other views with its label, plus its Mix-pos."""
    y = _labels(labels)
    real = (y[:, None] == y[None, :]).sum(dim=1) - 1
    if mix_pos:
        real = real + mix_pos_triples(y, window)[3]
    return real.numpy()


def lemma_bound(
    labels: Tensor | Sequence[float],
    *,
    window: float,
    mix_pos: bool = True,
    weight_range: float | None = None,
) -> float:
    """The SupReMix paper's Lemma 3.2 for the per-anchor-mean form: ``L* = mean_i log |P_i|`` over
    anchors with positives (``- log R`` when the weights are divided by ``weight_range = R``).

    Every positive is a term of its anchor's denominator with weight 1 (or ``1/R``) and every
    other weight is at least that, so by Jensen ``L_i >= log |P_i|``; equality iff the
    positives share one similarity and the other terms contribute nothing. 0 when no anchor
    has a positive (the loss is 0 then).
    """
    counts = positive_counts(labels, window=window, mix_pos=mix_pos)
    counts = counts[counts > 0]
    if counts.size == 0:
        return 0.0
    shift = 0.0 if weight_range is None else math.log(weight_range)
    return float(np.mean(np.log(counts))) - shift


def ordered_line_embedding(
    labels: Tensor | Sequence[float], *, offset: float = 1.0, spread: float = 3.0
) -> Tensor:
    """The SupReMix paper's App. A.3: 2-D points on the line ``x = offset`` whose positions are
    proportional to their labels (``y = spread (label - centre) / half range``).

    Globally ordered and locally linear: once mixed and re-normalised, every Mix-pos of an
    anchor points exactly where the anchor does. Float64 ``(n, 2)``.
    """
    y = _labels(labels)
    centre = (y.max() + y.min()) / 2
    half = (y.max() - y.min()) / 2
    position = spread * (y - centre) / (half if half > 0 else 1.0)
    return torch.stack([torch.full_like(y, offset), position], dim=1)


def theorem_3_3_table(
    features: Tensor,
    labels: Tensor | Sequence[float],
    temperatures: Sequence[float],
    *,
    window: float,
    neg_lambdas: Tensor,
    renormalize_mixtures: bool = True,
) -> pd.DataFrame:
    """The gap ``L - L*`` of a batch at each temperature (the SupReMix paper, Theorem 3.3, App.
    A.3).

    Columns: ``temperature``, ``loss`` (:func:`supremix_loss`, ``neg_lambdas`` fixed),
    ``bound`` (:func:`lemma_bound`), ``gap``, ``cos_theta0`` (the largest cosine between an
    anchor and any of its negatives, real or Mix-neg: the proof's ``cos theta_0``),
    ``vanishing_term`` ``exp((cos theta_0 - 1) / t)`` and ``proof_bound``, the right side of
    the proof's eq. (12) in the per-anchor-mean form,
    ``mean_i log(1 + W_i exp((cos theta_0 - 1) / t) / |P_i|)`` with ``W_i`` the summed weights
    of anchor ``i``'s negatives. When every positive has similarity exactly 1 (App. A.3's
    construction with re-normalised mixtures) ``gap <= proof_bound``.
    """
    y = _labels(labels)
    x = torch.as_tensor(features, dtype=torch.float64)
    table = pair_table(
        y,
        window=window,
        neg_lambdas=neg_lambdas,
        features=x,
        renormalize_mixtures=renormalize_mixtures,
    )
    negatives = table[~table["positive"]]
    cos_theta0 = float(negatives["similarity"].max())
    counts = positive_counts(y, window=window)
    has = counts > 0
    negative_weight = (
        negatives.groupby("anchor")["weight"].sum().reindex(range(len(y)), fill_value=0)
    )
    bound = lemma_bound(y, window=window)
    rows = []
    for t in temperatures:
        loss = supremix_loss(
            x,
            y,
            temperature=t,
            window=window,
            neg_lambdas=neg_lambdas,
            renormalize_mixtures=renormalize_mixtures,
        ).item()
        term = math.exp((cos_theta0 - 1) / t)
        proof = np.log1p(negative_weight.to_numpy()[has] * term / counts[has]).mean()
        rows.append(
            {
                "temperature": t,
                "loss": loss,
                "bound": bound,
                "gap": loss - bound,
                "cos_theta0": cos_theta0,
                "vanishing_term": term,
                "proof_bound": float(proof),
            }
        )
    return pd.DataFrame(rows)


def bug_effects(
    features: Tensor,
    labels: Tensor | Sequence[float],
    *,
    temperature: float,
    window: float,
    neg_lambdas: Tensor,
) -> pd.DataFrame:
    """What each bug of the published code does to every anchor's row
    (:mod:`supremix.losses.published`).

    One row per anchor: ``label``, ``mix_neg`` and ``mix_pos`` (its column counts), ``delta``
    (bug 1: its mixture terms are multiplied by ``exp(delta)``), ``mix_pos_weight`` and
    ``published_mix_pos_weight`` (mean weight of its Mix-pos columns, correct and under bug
    2; NaN without Mix-pos) and the share of its denominator carried by mixture terms:
    ``mixture_share`` (correct), ``mixture_share_shift`` (bug 1) and
    ``mixture_share_misaligned`` (bug 2).
    """
    y = _labels(labels)
    x = torch.as_tensor(features, dtype=torch.float64)
    table = pair_table(  # the published code's strict window: only the bugs differ
        y,
        window=window,
        neg_lambdas=neg_lambdas,
        features=x,
        temperature=temperature,
        window_edges="strict",
    )
    columns = mixture_columns(y, window, neg_lambdas)
    delta = mixture_shift(x, y, columns, temperature=temperature).numpy()
    table["mixture"] = table["kind"].isin(["Mix-neg", "Mix-pos"])
    shift = np.where(table["mixture"], delta[table["anchor"]], 0.0)
    row_max = table.groupby("anchor")["logit"].transform("max") + delta.max(initial=0.0)
    exp_logit = np.exp(table["logit"] - row_max)
    table["correct"] = table["weight"] * exp_logit
    table["shift"] = table["weight"] * exp_logit * np.exp(shift)
    table["misaligned"] = table["published_weight"] * exp_logit
    by_anchor = table.groupby("anchor")
    mixture = table[table["mixture"]].groupby("anchor")
    mix_pos = table[table["kind"] == "Mix-pos"].groupby("anchor")
    anchors = pd.RangeIndex(len(y), name="anchor")

    def share(column: str) -> pd.Series:
        return (mixture[column].sum() / by_anchor[column].sum()).reindex(anchors, fill_value=0.0)

    return pd.DataFrame(
        {
            "label": y.numpy(),
            "mix_neg": (table["kind"] == "Mix-neg").groupby(table["anchor"]).sum(),
            "mix_pos": (table["kind"] == "Mix-pos").groupby(table["anchor"]).sum(),
            "delta": delta,
            "mix_pos_weight": mix_pos["weight"].mean().reindex(anchors),
            "published_mix_pos_weight": mix_pos["published_weight"].mean().reindex(anchors),
            "mixture_share": share("correct"),
            "mixture_share_shift": share("shift"),
            "mixture_share_misaligned": share("misaligned"),
        },
        index=anchors,
    )
