"""LDS and FDS (Yang et al. 2021) against direct per-bin loops written from the equations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.imbalance import FDS, LabelBins, LDSWeights, lds_weights


def kernel_taps(kind: str, size: int, sigma: float) -> list[float]:
    half = (size - 1) // 2
    taps = []
    for k in range(-half, half + 1):
        if kind == "gaussian":
            taps.append(math.exp(-k * k / (2 * sigma * sigma)))
        elif kind == "laplace":
            taps.append(math.exp(-abs(k) / sigma))
        else:
            taps.append(1 - abs(k) / (half + 1))
    return taps


def direct_lds(labels, bin_size, kind, size, sigma, reweight):
    """Explicit histogram, explicit zero-padded convolution, inverse, mean-1 rescaling."""
    start = min(labels)
    n_bins = math.floor((max(labels) - start) / bin_size) + 1
    bin_of = [min(math.floor((y - start) / bin_size), n_bins - 1) for y in labels]
    counts = [0.0] * n_bins
    for b in bin_of:
        counts[b] += 1
    values = [math.sqrt(c) if reweight == "sqrt_inv" else c for c in counts]
    taps = kernel_taps(kind, size, sigma)
    half = (size - 1) // 2
    smoothed = []
    for b in range(n_bins):
        total = 0.0
        for offset in range(-half, half + 1):
            if 0 <= b + offset < n_bins:
                total += taps[offset + half] * values[b + offset]
        smoothed.append(total)
    weights = [1.0 / smoothed[b] for b in bin_of]
    mean = sum(weights) / len(weights)
    return np.array([w / mean for w in weights])


@pytest.mark.parametrize("kind", ["gaussian", "laplace", "triang"])
@pytest.mark.parametrize("reweight", ["sqrt_inv", "inverse"])
@pytest.mark.parametrize("bin_size", [1.0, 2.5])
def test_lds_weights_equal_a_direct_histogram_and_convolution(kind, reweight, bin_size):
    rng = np.random.default_rng(3)
    labels = np.concatenate([rng.normal(30, 4, 200), rng.uniform(10, 60, 20)])
    labels = np.round(labels, 2)
    got = lds_weights(labels, bin_size=bin_size, kernel=kind, reweight=reweight)
    expected = direct_lds(list(labels), bin_size, kind, 5, 2.0, reweight)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_lds_without_smoothing_is_the_inverse_square_root_of_the_count():
    labels = np.array([1.0] * 9 + [2.0] * 4 + [3.0])
    got = lds_weights(labels, kernel_size=1)
    raw = np.array([1 / 3] * 9 + [1 / 2] * 4 + [1.0])
    np.testing.assert_allclose(got, raw / raw.mean(), rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    labels=st.lists(st.integers(0, 40), min_size=1, max_size=60),
    size=st.sampled_from([1, 3, 5, 7]),
    sigma=st.floats(0.5, 4.0),
)
def test_lds_weights_are_positive_with_mean_one(labels, size, sigma):
    weights = lds_weights(np.array(labels, dtype=float), kernel_size=size, sigma=sigma)
    assert weights.shape == (len(labels),)
    assert np.all(weights > 0)
    assert weights.mean() == pytest.approx(1.0)
    # equal labels, equal weights
    for value in set(labels):
        chosen = weights[np.array(labels) == value]
        np.testing.assert_allclose(chosen, chosen[0])


def test_lds_module_looks_up_the_bin_weight_of_any_label():
    labels = np.array([0.0, 0.0, 0.0, 1.0, 4.0])
    lds = LDSWeights.fit(labels)
    per_sample = lds_weights(labels)
    got = lds(torch.tensor([4.0, 0.2, 1.9, 0.0]))
    expected = [per_sample[4], per_sample[0], per_sample[3], per_sample[0]]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel": "box"}, "kernel='box' is not valid"),
        ({"kernel_size": 4}, "kernel_size must be a positive odd integer"),
        ({"sigma": 0.0}, "sigma must be > 0"),
        ({"reweight": "log"}, "reweight='log' is not valid"),
        ({"bin_size": -1.0}, "bin_size must be > 0"),
    ],
)
def test_lds_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lds_weights(np.array([1.0, 2.0]), **kwargs)


def test_lds_rejects_empty_and_non_finite_labels():
    with pytest.raises(ValueError, match="empty"):
        lds_weights(np.array([]))
    with pytest.raises(ValueError, match="finite"):
        lds_weights(np.array([1.0, np.nan]))


# ------------------------------------------------------------------------------------ FDS
def direct_bin_stats(features, bins_of, n_bins):
    """Per-bin mean and unbiased variance by explicit loops (variance 0 for one sample)."""
    stats = {}
    for b in range(n_bins):
        rows = [features[i] for i in range(len(bins_of)) if bins_of[i] == b]
        if not rows:
            continue
        rows = np.array(rows, dtype=np.float64)
        var = rows.var(axis=0, ddof=1) if len(rows) > 1 else np.zeros(rows.shape[1])
        stats[b] = (rows.mean(axis=0), var)
    return stats


def direct_reflect_smooth(values, taps):
    """Kernel (normalised to sum 1) over bins, padding by mirroring without the edge bin."""
    half = (len(taps) - 1) // 2
    taps = np.array(taps) / sum(taps)
    padded = [values[i] for i in range(half, 0, -1)]
    padded += list(values)
    padded += [values[len(values) - 2 - i] for i in range(half)]
    out = []
    for b in range(len(values)):
        out.append(sum(taps[k] * padded[b + k] for k in range(len(taps))))
    return np.array(out)


def test_fds_statistics_equal_direct_per_bin_loops_over_two_epochs():
    rng = np.random.default_rng(0)
    d, momentum = 3, 0.9
    labels1 = rng.integers(0, 8, 50).astype(float)
    labels1[:2] = [0.0, 7.0]  # the range of the training labels
    labels2 = rng.integers(0, 6, 40).astype(float)  # bins 6 and 7 absent in epoch 2
    feats1 = rng.normal(size=(50, d)) * 2 + labels1[:, None]
    feats2 = rng.normal(size=(40, d)) + labels1[:40, None]
    fds = FDS.from_labels(d, labels1, momentum=momentum)
    fds.update(torch.tensor(feats1, dtype=torch.float32), torch.tensor(labels1))
    first = direct_bin_stats(feats1, labels1.astype(int), 8)
    mean = np.array([first[b][0] for b in range(8)])
    var = np.array([first[b][1] for b in range(8)])
    np.testing.assert_allclose(fds.running_mean.numpy(), mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fds.running_var.numpy(), var, rtol=1e-5, atol=1e-5)

    fds.update(torch.tensor(feats2, dtype=torch.float32), torch.tensor(labels2))
    second = direct_bin_stats(feats2, labels2.astype(int), 8)
    for b in range(8):
        if b in second:
            mean[b] = momentum * mean[b] + (1 - momentum) * second[b][0]
            var[b] = momentum * var[b] + (1 - momentum) * second[b][1]
    np.testing.assert_allclose(fds.running_mean.numpy(), mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fds.running_var.numpy(), var, rtol=1e-5, atol=1e-5)
    taps = kernel_taps("gaussian", 5, 2.0)
    smoothed_mean = np.stack([direct_reflect_smooth(mean[:, j], taps) for j in range(d)], 1)
    smoothed_var = np.stack([direct_reflect_smooth(var[:, j], taps) for j in range(d)], 1)
    np.testing.assert_allclose(fds.smoothed_mean.numpy(), smoothed_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fds.smoothed_var.numpy(), smoothed_var, rtol=1e-5, atol=1e-5)
    assert int(fds.updates) == 2
    assert fds.bin_updates.tolist() == [2, 2, 2, 2, 2, 2, 1, 1]


def test_fds_calibration_equals_the_direct_formula_in_training_mode_only():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(6.0), 5)
    feats = rng.normal(size=(30, 4)) * (1 + labels[:, None]) + labels[:, None]
    fds = FDS.from_labels(4, labels)
    x = torch.tensor(rng.normal(size=(7, 4)), dtype=torch.float32)
    y = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0])
    fds.train()
    assert torch.equal(fds(x, y), x)  # no update yet (start_smooth=1)
    fds.update(torch.tensor(feats, dtype=torch.float32), torch.tensor(labels))
    got = fds(x, y)
    stats = direct_bin_stats(feats, labels.astype(int), 6)
    taps = kernel_taps("gaussian", 5, 2.0)
    mean = np.array([stats[b][0] for b in range(6)])
    var = np.array([stats[b][1] for b in range(6)])
    s_mean = np.stack([direct_reflect_smooth(mean[:, j], taps) for j in range(4)], 1)
    s_var = np.stack([direct_reflect_smooth(var[:, j], taps) for j in range(4)], 1)
    expected = np.zeros((7, 4))
    for i in range(7):
        b = int(y[i])
        for j in range(4):
            ratio = min(max(s_var[b, j] / var[b, j], 0.1), 10.0)
            expected[i, j] = (x[i, j].item() - mean[b, j]) * math.sqrt(ratio) + s_mean[b, j]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(got, x)
    fds.eval()
    assert torch.equal(fds(x, y), x)


def test_fds_moments_summed_over_batches_give_the_same_update():
    rng = np.random.default_rng(2)
    labels = torch.tensor(rng.integers(0, 10, 64).astype(float))
    feats = torch.tensor(rng.normal(size=(64, 5)), dtype=torch.float32)
    whole, parts = FDS.from_labels(5, labels), FDS.from_labels(5, labels)
    whole.update(feats, labels)
    sums = None
    for chunk in range(4):
        rows = slice(16 * chunk, 16 * (chunk + 1))
        moments = parts.bin_moments(feats[rows], labels[rows])
        sums = moments if sums is None else [a + b for a, b in zip(sums, moments, strict=True)]
    parts.update_from_moments(*sums)
    for name, value in whole.state_dict().items():
        torch.testing.assert_close(parts.state_dict()[name], value)


def test_fds_statistics_are_in_the_state_dict_and_restore():
    labels = torch.arange(5.0).repeat(4)
    fds = FDS.from_labels(3, labels)
    fds.update(torch.randn(20, 3, generator=torch.Generator().manual_seed(0)), labels)
    copy = FDS.from_labels(3, labels)
    copy.load_state_dict(fds.state_dict())
    assert {"running_mean", "running_var", "smoothed_mean", "smoothed_var", "updates"} <= set(
        fds.state_dict()
    )
    x = torch.randn(6, 3)
    y = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 4.0])
    torch.testing.assert_close(copy.train()(x, y), fds.train()(x, y))


def test_label_bins_cover_the_training_range_and_clip_outside():
    bins = LabelBins.from_labels(np.array([2.0, 3.5, 7.9]), bin_size=2.0)
    assert (bins.start, bins.size, bins.count) == (2.0, 2.0, 3)
    assert bins.index(torch.tensor([2.0, 3.99, 4.0, 7.9, -5.0, 100.0])).tolist() == [
        0,
        0,
        1,
        2,
        0,
        2,
    ]


def test_fds_rejects_mismatched_features_and_labels():
    fds = FDS.from_labels(3, np.arange(4.0))
    with pytest.raises(ValueError, match=r"features of shape \(n, 3\)"):
        fds.update(torch.zeros(4, 2), torch.arange(4.0))
    with pytest.raises(ValueError, match="one label per feature row"):
        fds.update(torch.zeros(4, 3), torch.arange(3.0))
    with pytest.raises(ValueError, match="momentum must be in"):
        FDS.from_labels(3, np.arange(4.0), momentum=1.0)
