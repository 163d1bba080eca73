"""Input mixup and C-Mixup (Yao et al. 2022): partner probabilities computed directly, sampling
frequencies, one lambda per batch, convexity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from supremix.mixup import cmixup_batch, cmixup_partners, cmixup_probabilities, mixup_batch


def decode_one_hot_mix(mixed: torch.Tensor) -> tuple[list[int], list[float | None]]:
    """For x = identity rows: row i is lam e_i + (1 - lam) e_j; return j and lam (None when
    j = i, where lam is not identifiable)."""
    partners, lams = [], []
    for i, row in enumerate(mixed.tolist()):
        others = [j for j, v in enumerate(row) if j != i and v != 0.0]
        assert len(others) <= 1
        if others:
            partners.append(others[0])
            lams.append(row[i])
        else:
            assert row[i] == pytest.approx(1.0)
            partners.append(i)
            lams.append(None)
    return partners, lams


def test_cmixup_probabilities_equal_the_normalised_gaussian_of_label_distances():
    labels = torch.tensor([103.4, 104.0, 110.2, 110.2, 125.0, 140.9])
    sigma = 1.75
    got = cmixup_probabilities(labels, sigma=sigma)
    for i in range(6):
        weights = [
            math.exp(-((labels[i] - labels[j]).item() ** 2) / (2 * sigma**2)) for j in range(6)
        ]
        for j in range(6):
            assert got[i, j].item() == pytest.approx(weights[j] / sum(weights), rel=1e-5, abs=1e-7)


def test_cmixup_partner_frequencies_match_the_probabilities():
    labels = torch.tensor([0.0, 0.5, 1.0, 2.0, 4.0])
    sigma = 1.0
    probabilities = cmixup_probabilities(labels, sigma=sigma).double().numpy()
    generator = torch.Generator().manual_seed(0)
    draws = 4000
    counts = np.zeros((5, 5))
    for _ in range(draws):
        partners = cmixup_partners(labels, sigma=sigma, generator=generator)
        counts[np.arange(5), partners.numpy()] += 1
    for i in range(5):
        expected = probabilities[i] * draws
        keep = expected > 5  # the chi-square approximation's rule of thumb
        observed = counts[i, keep]
        scaled = expected[keep] * observed.sum() / expected[keep].sum()
        assert stats.chisquare(observed, scaled).pvalue > 1e-3
        assert counts[i, ~keep].sum() <= 3 * max(1.0, expected[~keep].sum())
    # a sample may be its own partner (the kernel includes k = i)
    assert np.all(np.diag(counts) > 0)


def test_cmixup_batch_mixes_with_one_lambda_and_label_close_partners():
    n = 8
    y = torch.tensor([0.0, 0.1, 0.2, 50.0, 50.3, 100.0, 100.1, 100.2])
    mixed_x, mixed_y = cmixup_batch(
        torch.eye(n), y, sigma=1.0, alpha=2.0, generator=torch.Generator().manual_seed(5)
    )
    partners, lams = decode_one_hot_mix(mixed_x)
    assert all(abs(y[i] - y[j]) < 1.0 for i, j in enumerate(partners))  # far pairs: p ~ 0
    known = [lam for lam in lams if lam is not None]
    assert known and all(lam == pytest.approx(known[0], abs=1e-6) for lam in known)
    lam = known[0]
    expected_y = [lam * y[i] + (1 - lam) * y[j] for i, j in enumerate(partners)]
    torch.testing.assert_close(mixed_y, torch.stack(expected_y))


def test_mixup_partners_form_a_permutation_and_lambda_is_beta_distributed():
    generator = torch.Generator().manual_seed(1)
    n, alpha = 6, 2.0
    lambdas = []
    for _ in range(400):
        y = torch.arange(n, dtype=torch.float32)
        mixed_x, mixed_y = mixup_batch(torch.eye(n), y, alpha=alpha, generator=generator)
        partners, lams = decode_one_hot_mix(mixed_x)
        assert sorted(partners) == list(range(n))
        known = [lam for lam in lams if lam is not None]
        if known:
            assert all(lam == pytest.approx(known[0], abs=1e-6) for lam in known)
            lambdas.append(known[0])
            expected = [known[0] * i + (1 - known[0]) * j for i, j in enumerate(partners)]
            torch.testing.assert_close(mixed_y, torch.tensor(expected, dtype=torch.float32))
    assert len(lambdas) > 350
    assert stats.kstest(lambdas, stats.beta(alpha, alpha).cdf).pvalue > 1e-3


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.floats(-50, 50), min_size=1, max_size=12),
    sigma=st.floats(0.1, 10.0),
    alpha=st.floats(0.2, 4.0),
    seed=st.integers(0, 1000),
)
def test_mixtures_are_convex_combinations(labels, sigma, alpha, seed):
    y = torch.tensor(labels, dtype=torch.float32)
    x = torch.stack([y, -2 * y], dim=1)
    generator = torch.Generator().manual_seed(seed)
    for mixed_x, mixed_y in (
        cmixup_batch(x, y, sigma=sigma, alpha=alpha, generator=generator),
        mixup_batch(x, y, alpha=alpha, generator=generator),
    ):
        assert mixed_x.shape == x.shape and mixed_y.shape == y.shape
        tol = 1e-4 * (1 + y.abs().max())
        assert torch.all(mixed_y >= y.min() - tol) and torch.all(mixed_y <= y.max() + tol)
        # x is a linear function of y, so the mixtures keep it
        torch.testing.assert_close(mixed_x[:, 0], mixed_y, atol=float(tol), rtol=0)
        torch.testing.assert_close(mixed_x[:, 1], -2 * mixed_y, atol=float(2 * tol), rtol=0)


def test_the_same_generator_state_gives_the_same_mixture():
    x, y = torch.randn(10, 3), torch.randn(10)
    a = cmixup_batch(x, y, sigma=0.5, alpha=2.0, generator=torch.Generator().manual_seed(7))
    b = cmixup_batch(x, y, sigma=0.5, alpha=2.0, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mixup_batch(torch.zeros(3, 2), torch.zeros(3), alpha=0.0), "alpha must be > 0"),
        (
            lambda: cmixup_batch(torch.zeros(3, 2), torch.zeros(3), sigma=-1.0, alpha=1.0),
            "sigma must be > 0",
        ),
        (
            lambda: mixup_batch(torch.zeros(3, 2), torch.zeros(4), alpha=1.0),
            "got 3 inputs but 4 labels",
        ),
        (
            lambda: cmixup_batch(torch.zeros(3, 2), torch.zeros(3, 1), sigma=1.0, alpha=1.0),
            r"labels must have shape \(n,\)",
        ),
    ],
)
def test_bad_arguments_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
