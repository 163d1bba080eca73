"""Fast Beta(alpha, beta) draws for the Mix-neg mixing coefficients (the SupReMix paper, eq. (1)).

SupReMix draws one ``lambda ~ Beta(alpha, beta)`` per (anchor, partner) pair at every step:
``n * N`` draws for a batch of ``N`` views. ``torch.distributions.Beta`` samples two Gamma
variables per draw by rejection, which on a CPU costs more than the whole rest of the loss.
Here a draw is the exact quantile function evaluated at a uniform ``u`` (inverse-CDF
sampling), read from a table: the quantiles ``x_k = F^{-1}(sigmoid(v_k))`` at ``K + 1`` points
``v_k`` evenly spaced in logit space are computed once per (alpha, beta) with
``scipy.special`` and interpolated linearly in ``v = logit(u)``. The logit grid crowds the
points into both tails, where a Beta quantile function is a steep power law, so the absolute
error of a draw stays below 1e-6 everywhere (tested against ``scipy.stats.beta.ppf``), close to
float32 resolution. ``u`` comes from ``torch.rand`` (float32, steps of 2**-24), the usual
resolution of float32 inverse-CDF sampling.

SciPy comes with the ``data`` extra, not with the core install (torch and numpy). Without it
the draws come from ``torch.distributions.Beta``: the same distribution, slower, and another
random stream for the same generator state.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

from ..extras import installed

TABLE_SIZE = 16384
LOGIT_RANGE = 17.0  # float32 rand gives logit(u) within ±16.7


@lru_cache(maxsize=32)
def _quantile_table(alpha: float, beta: float) -> Tensor:
    """``F^{-1}(sigmoid(v_k))`` at ``TABLE_SIZE + 1`` points ``v_k`` evenly spaced in
    ±``LOGIT_RANGE`` (float64).

    Lower half from the lower quantile, upper half from the upper one, so neither tail loses
    precision to ``1 - u`` rounding.
    """
    from scipy import special  # only when a new (alpha, beta) first needs its table

    v = torch.linspace(-LOGIT_RANGE, LOGIT_RANGE, TABLE_SIZE + 1, dtype=torch.float64).numpy()
    lower = special.betaincinv(alpha, beta, special.expit(v))
    upper = 1.0 - special.betaincinv(beta, alpha, special.expit(-v))
    return torch.from_numpy(lower).where(torch.from_numpy(v < 0), torch.from_numpy(upper))


@lru_cache(maxsize=32)
def _table_on(alpha: float, beta: float, device: torch.device, dtype: torch.dtype) -> Tensor:
    """The table as rows (start, slope) of the ``TABLE_SIZE`` intervals, on ``device``."""
    table = _quantile_table(alpha, beta)
    return torch.stack([table[:-1], table[1:] - table[:-1]]).to(device, dtype)


def beta_quantile(u: Tensor, alpha: float, beta: float) -> Tensor:
    """The Beta(alpha, beta) quantile function at ``u`` in [0, 1], from the table.

    ``u`` closer than ``sigmoid(-LOGIT_RANGE)`` (4e-8, below float32 ``torch.rand``'s step) to
    either end is clamped there.
    """
    return _quantile_in_place(u.clone(), alpha, beta)


def _quantile_in_place(u: Tensor, alpha: float, beta: float) -> Tensor:
    """:func:`beta_quantile` overwriting ``u``: at most four tensors of its size alive at once
    (``u``, the int32 table indices, and the two table reads)."""
    start, slope = _table_on(float(alpha), float(beta), u.device, u.dtype)
    scale = TABLE_SIZE / (2 * LOGIT_RANGE)
    position = u.logit_().add_(LOGIT_RANGE).mul_(scale).clamp_(0, TABLE_SIZE - 1e-3).view(-1)
    index = position.to(torch.int32)
    low = start.index_select(0, index)
    step = slope.index_select(0, index)
    del index
    return low.addcmul_(position.frac_(), step).view(u.shape)


def sample_beta(
    shape: tuple[int, ...],
    alpha: float,
    beta: float,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Independent Beta(alpha, beta) draws of the given shape (inverse-CDF, module docstring).

    ``generator`` (on ``device``) makes the draws reproducible.
    """
    if not (alpha > 0 and beta > 0):
        raise ValueError(f"Beta parameters must be positive, got alpha={alpha}, beta={beta}")
    if not installed("scipy"):
        return _torch_beta(shape, alpha, beta, generator=generator, device=device).to(dtype)
    u = torch.rand(shape, generator=generator, device=device, dtype=torch.float32)
    return _quantile_in_place(u, alpha, beta).to(dtype)


def _torch_beta(
    shape: tuple[int, ...],
    alpha: float,
    beta: float,
    *,
    generator: torch.Generator | None,
    device: torch.device | str | None,
) -> Tensor:
    """Beta draws from ``torch.distributions.Beta``, which reads the global random stream: a
    given ``generator`` seeds a fork of that stream, so the draws stay reproducible."""
    concentration = torch.tensor([float(alpha), float(beta)], device=device)
    cuda = [concentration.device] if concentration.device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        if generator is not None:
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
        draws = torch.distributions.Beta(concentration[0], concentration[1]).sample(shape)
    return draws
