"""Encoder transfer (``init_encoder``, ``freeze_encoder``), SupReMix's ingredient switches and
batch observers of the training engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from train_testkit import toy_config, toy_splits

from supremix.losses import supcon_loss, supremix_loss
from supremix.train import TrainConfig, train
from supremix.train.model import build_model, load_encoder_weights
from supremix.train.protocols import build_contrastive_loss


def _encoder_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.encoder.state_dict().items()}


def test_a_frozen_transferred_encoder_ends_exactly_as_it_was_loaded(tmp_path):
    source = train(toy_config(method="supcon"), **toy_splits(), out_dir=tmp_path / "source")
    loaded = _encoder_state(source.model)
    probe = toy_config(
        method="vanilla", init_encoder=str(tmp_path / "source"), freeze_encoder=True, epochs=3
    )
    result = train(probe, **toy_splits(), out_dir=tmp_path / "probe")
    final = _encoder_state(result.model)
    assert loaded.keys() == final.keys()
    for key in loaded:
        torch.testing.assert_close(final[key], loaded[key], rtol=0, atol=0)
    assert "BatchNorm1d" in type(result.model.regressor[0]).__name__


def test_fine_tuning_a_transferred_encoder_starts_from_it_and_moves(tmp_path):
    source = train(toy_config(method="supcon"), **toy_splits(), out_dir=tmp_path / "source")
    loaded = _encoder_state(source.model)
    config = toy_config(method="vanilla", init_encoder=str(tmp_path / "source" / "best.pt"))
    model = build_model(config, modality="tabular", in_channels=6)
    load_encoder_weights(model, config.init_encoder)
    for key, value in _encoder_state(model).items():
        torch.testing.assert_close(value, loaded[key], rtol=0, atol=0)
    result = train(config, **toy_splits(), out_dir=tmp_path / "finetune")
    moved = [k for k, v in _encoder_state(result.model).items() if not torch.equal(v, loaded[k])]
    assert moved


def test_init_encoder_errors_name_the_problem(tmp_path):
    model = build_model(toy_config(method="vanilla"), modality="tabular", in_channels=6)
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*best\.pt"):
        load_encoder_weights(model, tmp_path)
    torch.save({"config": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="holds no 'model' state"):
        load_encoder_weights(model, tmp_path / "other.pt")
    other = build_model(toy_config(method="vanilla"), modality="tabular", in_channels=3)
    torch.save({"model": other.state_dict()}, tmp_path / "narrow.pt")
    with pytest.raises(ValueError, match="does not match this run's encoder"):
        load_encoder_weights(model, tmp_path / "narrow.pt")


def test_freeze_encoder_and_ablated_ingredients_are_checked():
    with pytest.raises(ValueError, match="freeze_encoder=True trains only the regressor"):
        TrainConfig(method="supcon", freeze_encoder=True)
    with pytest.raises(ValueError, match="mix_neg, distance_weight=False switch off SupReMix"):
        TrainConfig(method="supcon", mix_neg=False, distance_weight=False)


@pytest.mark.parametrize(
    ("mix_neg", "mix_pos", "distance_weight"),
    [(False, False, False), (True, False, True), (False, True, False), (True, True, False)],
)
def test_the_engine_loss_passes_each_ingredient_switch(mix_neg, mix_pos, distance_weight):
    config = toy_config(mix_neg=mix_neg, mix_pos=mix_pos, distance_weight=distance_weight)
    labels = torch.tensor([1.0, 1.0, 2.0, 3.0, 5.0, 5.0, 8.0, 9.0])
    z = torch.nn.functional.normalize(torch.randn(8, 4, generator=torch.Generator().manual_seed(1)))
    loss = build_contrastive_loss(config, labels.numpy())
    got = loss(z, labels, None, torch.Generator().manual_seed(2))
    expected = supremix_loss(
        z,
        labels,
        temperature=config.temperature,
        window=config.window,
        mix_neg=mix_neg,
        mix_pos=mix_pos,
        distance_weight=distance_weight,
        generator=torch.Generator().manual_seed(2),
    )
    torch.testing.assert_close(got, expected)
    if not (mix_neg or mix_pos or distance_weight):
        torch.testing.assert_close(got, supcon_loss(z, labels, temperature=config.temperature))


def test_batch_observers_see_every_contrastive_step_and_no_regression_step(tmp_path):
    seen: list[tuple[tuple[int, ...], np.ndarray]] = []

    def observe(embedding: torch.Tensor, labels: torch.Tensor) -> None:
        assert not embedding.requires_grad
        seen.append((tuple(embedding.shape), labels.numpy().copy()))

    splits = toy_splits(n_train=48)
    config = toy_config(epochs=2, batch_size=16, warmup_epochs=0)
    train(config, **splits, out_dir=tmp_path / "run", batch_observers=[observe])
    assert len(seen) == config.epochs * 3
    assert all(shape == (16, config.feature_dim) for shape, _ in seen)
    epoch_labels = np.sort(np.concatenate([labels for _, labels in seen[:3]]))
    np.testing.assert_array_equal(epoch_labels, np.sort(splits["train_set"].targets))
    seen.clear()
    train(
        config.replace(method="vanilla"),
        **splits,
        out_dir=tmp_path / "v",
        batch_observers=[observe],
    )
    assert seen == []
