"""The inverse-CDF Beta sampler behind the Mix-neg coefficients."""

from __future__ import annotations

import pytest
import torch
from scipy import stats

from supremix.losses import sample_beta
from supremix.losses.beta import LOGIT_RANGE, beta_quantile

PARAMETERS = [(2.0, 8.0), (5.0, 5.0), (8.0, 2.0), (1.0, 1.0), (0.5, 0.5), (2.5, 3.7), (0.2, 6.0)]


@pytest.mark.parametrize(("alpha", "beta"), PARAMETERS)
def test_quantiles_match_scipy_to_1e_6(alpha, beta):
    g = torch.Generator().manual_seed(0)
    tails = torch.logspace(-8.5, -1, 400, dtype=torch.float64)
    u = torch.cat([torch.rand(20000, generator=g, dtype=torch.float64), tails, 1 - tails]).float()
    u = u[(u >= 2**-24) & (u < 1)]  # float32 torch.rand: multiples of 2**-24 in [0, 1), bar 0
    assert torch.logit(u).abs().max() < LOGIT_RANGE
    drawn = beta_quantile(u, alpha, beta).double()
    exact = torch.from_numpy(stats.beta.ppf(u.double().numpy(), alpha, beta))
    assert (drawn - exact).abs().max() < 1e-6


@pytest.mark.parametrize(("alpha", "beta"), PARAMETERS[:4])
def test_draws_follow_the_beta_distribution(alpha, beta):
    g = torch.Generator().manual_seed(1)
    draws = sample_beta((200, 300), alpha, beta, generator=g)
    assert draws.shape == (200, 300) and draws.dtype == torch.float32
    assert bool(((draws >= 0) & (draws <= 1)).all())
    result = stats.kstest(draws.double().flatten().numpy(), stats.beta(alpha, beta).cdf)
    assert result.pvalue > 1e-3
    assert draws.double().mean().item() == pytest.approx(alpha / (alpha + beta), abs=5e-3)


def test_generator_makes_draws_reproducible():
    first = sample_beta((50,), 2, 8, generator=torch.Generator().manual_seed(7))
    second = sample_beta((50,), 2, 8, generator=torch.Generator().manual_seed(7))
    third = sample_beta((50,), 2, 8, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, second) and not torch.equal(first, third)


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError, match="Beta parameters must be positive, got alpha=0, beta=8"):
        sample_beta((2,), 0, 8)
