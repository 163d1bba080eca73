"""Projection head, linear regressor and the RegressionNet wrapper."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from supremix.models import LinearRegressor, MLPEncoder, ProjectionHead, RegressionNet


def test_projection_head_layers_follow_the_supremix_paper_app_c():
    head = ProjectionHead(512)
    first, relu, last = head.layers
    assert (first.in_features, first.out_features) == (512, 2048)
    assert isinstance(relu, nn.ReLU)
    assert (last.in_features, last.out_features) == (2048, 128)


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 6), scale=st.floats(1e-3, 1e3), seed=st.integers(0, 1000))
def test_projection_rows_have_unit_norm(batch, scale, seed):
    torch.manual_seed(seed)
    head = ProjectionHead(7, hidden_dim=16, out_dim=5)
    out = head(scale * torch.randn(batch, 7))
    torch.testing.assert_close(out.norm(dim=1), torch.ones(batch))


def test_projection_equals_normalised_mlp():
    head = ProjectionHead(4, hidden_dim=8, out_dim=3)
    x = torch.randn(5, 4)
    first, _, last = head.layers
    raw = last(torch.relu(first(x)))
    torch.testing.assert_close(head(x), raw / raw.norm(dim=1, keepdim=True))


def test_linear_regressor_gives_one_value_per_sample():
    regressor = LinearRegressor(6)
    x = torch.randn(4, 6)
    pred = regressor(x)
    assert pred.shape == (4,)
    torch.testing.assert_close(pred, x @ regressor.linear.weight[0] + regressor.linear.bias)


def test_regression_net_outputs():
    encoder = MLPEncoder(5)
    net = RegressionNet(encoder, ProjectionHead(10, 16, 4), LinearRegressor(10))
    out = net(torch.randn(3, 5))
    assert out["features"].shape == (3, 10) and out["embedding"].shape == (3, 4)
    assert out["pred"].shape == (3,)
    bare = RegressionNet(encoder)(torch.randn(3, 5))
    assert bare["embedding"] is None and bare["pred"] is None


def test_gradients_flow_through_heads_and_encoder():
    net = RegressionNet(MLPEncoder(5), ProjectionHead(10, 16, 4), LinearRegressor(10))
    out = net(torch.randn(8, 5))
    (out["embedding"].sum() + out["pred"].sum()).backward()
    assert all(p.grad is not None for p in net.parameters())


def test_frozen_encoder_gets_no_gradient_and_keeps_batchnorm_statistics():
    encoder = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    encoder.out_dim = 4
    net = RegressionNet(encoder, regressor=LinearRegressor(4)).freeze_encoder()
    net.train()
    assert not encoder.training and net.regressor.training
    before = encoder[1].running_mean.clone()
    net(torch.randn(16, 3) + 5.0)["pred"].sum().backward()
    torch.testing.assert_close(encoder[1].running_mean, before)
    assert all(p.grad is None for p in encoder.parameters())
    assert net.regressor.linear.weight.grad is not None
    net.unfreeze_encoder()
    assert encoder.training and all(p.requires_grad for p in encoder.parameters())


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match="ProjectionHead sizes must be positive"):
        ProjectionHead(0)
    with pytest.raises(ValueError, match=r"MLPEncoder expects input \(B, 5\), got shape \(2, 4\)"):
        MLPEncoder(5)(torch.randn(2, 4))
