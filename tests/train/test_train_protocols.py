"""What each stage feeds its losses: views, labels, label bins, standardised regression."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from train_testkit import toy_config

from supremix.models import RegressionNet
from supremix.train.model import LabelScale
from supremix.train.objective import StageObjective, stage_objective
from supremix.train.protocols import build_contrastive_loss, plan_stages


class Recorder:
    """A contrastive loss that records what it was given and returns a known value."""

    def __init__(self, value: float = 2.0):
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.value = value

    def __call__(self, z, y, groups, generator):
        self.calls.append((z.detach().clone(), y.clone()))
        return z.sum() * 0 + self.value


def tiny_net(mean: float, std: float) -> RegressionNet:
    torch.manual_seed(0)
    encoder = nn.Linear(3, 4)
    regressor = nn.Sequential(nn.Linear(4, 1), nn.Flatten(0), LabelScale(mean, std))
    return RegressionNet(encoder, nn.Linear(4, 2), regressor)


def objective(stage_index: int, net, recorder=None, augment=None, **changes) -> StageObjective:
    config = toy_config(**changes)
    return stage_objective(
        plan_stages(config)[stage_index],
        config,
        model=net,
        contrastive_loss=recorder,
        contrastive_augment=augment,
        regression_augment=augment,
        augment_generator=torch.Generator().manual_seed(0),
    )


def shift_by_generator(x, generator):
    return x + torch.rand(x.shape[0], 1, generator=generator)


def test_two_views_are_stacked_rows_i_and_i_plus_b_with_repeated_labels():
    recorder = Recorder()
    net = tiny_net(0.0, 1.0)
    x, y = torch.randn(5, 3), torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    obj = objective(0, net, recorder, augment=shift_by_generator)
    assert obj.contrastive.views == 2
    obj(x, y)
    z, labels = recorder.calls[0]
    assert z.shape == (10, 2) and torch.equal(labels, y.repeat(2))
    gen = torch.Generator().manual_seed(0)
    expected = net(shift_by_generator(torch.cat([x, x]), gen))["embedding"]
    assert torch.allclose(z, expected)


def test_without_augmentation_one_view_is_used():
    recorder = Recorder()
    obj = objective(0, tiny_net(0.0, 1.0), recorder)
    assert obj.contrastive.views == 1
    obj(torch.randn(4, 3), torch.arange(4.0))
    assert recorder.calls[0][0].shape == (4, 2)


def test_label_bin_rounds_contrastive_labels_only():
    recorder = Recorder(value=0.5)
    net = tiny_net(10.0, 2.0)
    x, y = torch.randn(4, 3), torch.tensor([10.2, 10.7, 11.49, 12.51])
    obj = objective(0, net, recorder, protocol="multitask", gamma_con=0.75, label_bin=1.0)
    loss, parts = obj(x, y)
    assert torch.equal(recorder.calls[0][1], torch.tensor([10.0, 11.0, 11.0, 13.0]))
    pred = net(x)["pred"]
    assert torch.allclose(parts["reg"], ((pred - y) / 2.0).abs().mean())
    assert torch.allclose(loss, parts["reg"] + 0.75 * 0.5)


@pytest.mark.parametrize("kind", ["l1", "mse", "huber"])
def test_regression_losses_use_standardised_labels(kind):
    net = tiny_net(50.0, 10.0)
    x, y = torch.randn(6, 3), torch.linspace(30.0, 70.0, 6)
    loss, _ = objective(0, net, method="vanilla", regression_loss=kind)(x, y)
    error = (net(x)["pred"] - y) / 10.0
    expected = {
        "l1": error.abs().mean(),
        "mse": (error**2).mean(),
        "huber": torch.where(error.abs() < 1, 0.5 * error**2, error.abs() - 0.5).mean(),
    }[kind]
    assert torch.allclose(loss, expected)


def test_label_scale_predicts_the_mean_when_the_linear_output_is_zero():
    scale = LabelScale(120.0, 40.0)
    assert torch.equal(scale(torch.zeros(3)), torch.full((3,), 120.0))
    y = torch.tensor([80.0, 200.0])
    assert torch.allclose(scale(scale.standardize(y)), y)
    with pytest.raises(ValueError, match=r"label std must be > 0, got 0\.0"):
        LabelScale(1.0, 0.0)


def test_probe_batchnorm_keeps_the_regressor_an_affine_map_at_evaluation():
    from supremix.train import build_model

    model = build_model(
        toy_config(method="supcon"), modality="tabular", in_channels=6, label_mean=5, label_std=2
    )
    assert isinstance(model.regressor[0], nn.BatchNorm1d) and not model.regressor[0].affine
    model.train()
    model.regressor(torch.randn(32, 10) * 3 + 1)  # moves the running statistics
    model.eval()
    a, b = torch.randn(4, 10), torch.randn(4, 10)
    mixed = model.regressor(0.3 * a + 0.7 * b)
    assert torch.allclose(mixed, 0.3 * model.regressor(a) + 0.7 * model.regressor(b), atol=1e-5)
    vanilla = build_model(toy_config(method="vanilla"), modality="tabular", in_channels=6)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in vanilla.regressor)
    plain = build_model(
        toy_config(method="supcon", probe_batchnorm=False), modality="tabular", in_channels=6
    )
    assert not any(isinstance(m, nn.BatchNorm1d) for m in plain.regressor)


def test_the_regressor_predicts_in_float32_under_bfloat16_autocast():
    from supremix.train import build_model

    model = build_model(
        toy_config(method="vanilla"), modality="tabular", in_channels=6, label_mean=200.0
    )
    x = torch.randn(8, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    assert out["features"].dtype == torch.bfloat16
    assert out["pred"].dtype == torch.float32
    expected = model.regressor(out["features"].float())
    assert torch.equal(out["pred"], expected)


def test_a_loss_reading_the_training_labels_needs_them():
    with pytest.raises(ValueError, match="'adacon' needs the training labels"):
        build_contrastive_loss(toy_config(method="adacon"), None)
    loss = build_contrastive_loss(toy_config(method="supremix"), None)  # reads none
    z, y = torch.randn(8, 4), torch.arange(8.0)
    assert torch.isfinite(loss(z, y, None, torch.Generator().manual_seed(0)))


def test_fds_needs_an_fds_layer_on_the_model():
    net = tiny_net(0.0, 1.0)
    net.fds = nn.Identity()
    with pytest.raises(TypeError, match=r"config.fds needs .* FDSRegressionNet.*Identity"):
        objective(1, net, fds=True)
