"""The bug study's training comparison (supremix.analysis.bug_study) on a tiny tabular set."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from supremix.analysis.bug_study import (
    LOSS_VARIANTS,
    StudyData,
    compare_loss_variants,
    evaluate_encoder,
    ridge_probe_mae,
    train_encoder,
    variant_loss,
)
from supremix.losses import supremix_loss
from supremix.losses.published import published_supremix_loss
from supremix.train.config import TrainConfig

CONFIG = TrainConfig(
    encoder="mlp", feature_dim=8, head_hidden_dim=16, temperature=0.5, window=3.0, label_bin=1.0
)


def tiny_data(seed: int = 0, n_train: int = 40, n_test: int = 12) -> StudyData:
    """Labels in 0..10 from a linear function of five inputs plus noise."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_test, 5, generator=g)
    y = (5 + 2 * x[:, 0] - x[:, 1] + 0.3 * torch.randn(n_train + n_test, generator=g)).double()
    y = y.clamp(0, 10)
    return StudyData(x[:n_train], y[:n_train], x[n_train:], y[n_train:], "tabular", {})


@pytest.mark.slow
def test_variant_losses_are_the_library_losses_with_the_bugs_named():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(10, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 1, 2, 3, 3, 4, 5, 5, 6], dtype=torch.float64)
    options = dict(temperature=0.5, window=3.0)
    expected = {
        "correct": supremix_loss(  # the published code's strict window: only the bugs differ
            z, y, generator=torch.Generator().manual_seed(2), window_edges="strict", **options
        ),
        "separate max shift": published_supremix_loss(
            z,
            y,
            generator=torch.Generator().manual_seed(2),
            misaligned_weights=False,
            **options,
        ),
        "misaligned weights": published_supremix_loss(
            z,
            y,
            generator=torch.Generator().manual_seed(2),
            separate_max_shift=False,
            **options,
        ),
        "published (both bugs)": published_supremix_loss(
            z, y, generator=torch.Generator().manual_seed(2), **options
        ),
    }
    assert set(expected) == set(LOSS_VARIANTS)
    for name, value in expected.items():
        got = variant_loss(name, CONFIG)(z, y, torch.Generator().manual_seed(2))
        torch.testing.assert_close(got, value)
    with pytest.raises(ValueError, match="unknown loss variant 'mine'; expected one of correct"):
        variant_loss("mine", CONFIG)


def test_ridge_probe_is_the_closed_form_ridge_on_standardised_features():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(30, 4)), rng.normal(size=(10, 4))
    y_train = train @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=30)
    y_test = test @ [1.0, -2.0, 0.5, 0.0]
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    a, b = (train - mean) / std, (test - mean) / std
    centred = a - a.mean(axis=0)
    coef = np.linalg.solve(centred.T @ centred + np.eye(4), centred.T @ (y_train - y_train.mean()))
    prediction = (b - a.mean(axis=0)) @ coef + y_train.mean()
    expected = np.mean(np.abs(prediction - y_test))
    got = ridge_probe_mae(
        torch.tensor(train), torch.tensor(y_train), torch.tensor(test), torch.tensor(y_test)
    )
    assert got == pytest.approx(expected)


@pytest.mark.slow
def test_training_is_reproducible_and_differs_between_variants():
    data = tiny_data()
    runs = {
        (variant, repeat): train_encoder(CONFIG, data, variant, epochs=1, batch_size=16, seed=3)
        for variant in ("correct", "published (both bugs)")
        for repeat in (0, 1)
    }

    def weights(model):
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    torch.testing.assert_close(
        weights(runs["correct", 0]), weights(runs["correct", 1]), rtol=0, atol=0
    )
    assert not torch.equal(weights(runs["correct", 0]), weights(runs["published (both bugs)", 0]))
    with pytest.raises(ValueError, match="need epochs >= 1 and batch_size >= 2"):
        train_encoder(CONFIG, data, "correct", epochs=0, batch_size=16, seed=0)


@pytest.mark.slow
def test_evaluation_respects_lemma_3_2_and_the_comparison_has_one_row_per_run():
    data = tiny_data()
    model = train_encoder(CONFIG, data, "correct", epochs=1, batch_size=16, seed=0)
    metrics = evaluate_encoder(model, data, CONFIG, batch_size=16)
    assert metrics["bound_gap"] >= 0  # the loss never falls below its Lemma 3.2 bound
    assert metrics["mae"] > 0 and -1 <= metrics["ordinality"] <= 1
    frame = compare_loss_variants(
        CONFIG,
        data,
        variants=["correct", "misaligned weights"],
        seeds=[0, 1],
        epochs=1,
        batch_size=16,
    )
    assert frame[["variant", "seed"]].values.tolist() == [
        ["correct", 0],
        ["correct", 1],
        ["misaligned weights", 0],
        ["misaligned weights", 1],
    ]
    assert frame.loc[0, "mae"] == pytest.approx(metrics["mae"])
    with pytest.raises(ValueError, match="at least one variant and one seed"):
        compare_loss_variants(CONFIG, data, seeds=[], epochs=1, batch_size=16)
