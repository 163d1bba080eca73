"""Bad input, degenerate batches, low precision and extreme scales, for every contrastive loss."""

from __future__ import annotations

import re

import pytest
import torch

from supremix.losses import adacon_loss, rnc_loss, simclr_loss, supcon_loss, supremix_loss

TRAIN = torch.arange(10.0)

LABELLED = {
    "supremix": lambda f, y, **kw: supremix_loss(f, y, temperature=kw.get("t", 0.5), window=3),
    "supcon": lambda f, y, **kw: supcon_loss(f, y, temperature=kw.get("t", 0.5)),
    "adacon": lambda f, y, **kw: adacon_loss(
        f, y, train_labels=TRAIN, temperature=kw.get("t", 0.5)
    ),
    "rnc": lambda f, y, **kw: rnc_loss(f, y, temperature=kw.get("t", 2.0)),
}


@pytest.mark.parametrize("name", LABELLED)
def test_shape_errors_name_the_problem(name):
    loss = LABELLED[name]
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"{name}: labels must have shape (4,) to match the 4 feature rows, got shape (3,)"
        ),
    ):
        loss(torch.randn(4, 3), torch.zeros(3))
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"{name}: features must be a 2-D tensor (n, d) with the views concatenated along "
            "dim 0, got shape (2, 4, 3)"
        ),
    ):
        loss(torch.randn(2, 4, 3), torch.zeros(2))


@pytest.mark.parametrize("name", LABELLED)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_labels_are_rejected(name, bad):
    message = (
        f"{name}: labels contain non-finite values (NaN or inf); expected finite regression targets"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        LABELLED[name](torch.randn(3, 2), torch.tensor([0.0, bad, 1.0]))


@pytest.mark.parametrize("name", LABELLED)
def test_empty_batch_is_rejected(name):
    message = f"{name}: empty batch (features have 0 rows); expected at least one sample"
    with pytest.raises(ValueError, match=re.escape(message)):
        LABELLED[name](torch.zeros(0, 3), torch.zeros(0))


def test_other_errors():
    with pytest.raises(ValueError, match=re.escape("simclr: features must hold two views")):
        simclr_loss(torch.randn(3, 2), temperature=0.5)
    with pytest.raises(
        ValueError, match=re.escape("supremix: temperature must be a positive finite number")
    ):
        supremix_loss(torch.randn(3, 2), torch.zeros(3), temperature=0, window=1)
    with pytest.raises(ValueError, match=re.escape("a rank window counts distinct labels")):
        supremix_loss(
            torch.randn(3, 2), torch.zeros(3), temperature=1, window=1.5, window_mode="rank"
        )
    with pytest.raises(ValueError, match=re.escape("window_mode must be one of label, rank")):
        supremix_loss(torch.randn(3, 2), torch.zeros(3), temperature=1, window=1, window_mode="x")
    with pytest.raises(ValueError, match=re.escape("supremix: neg_lambdas must have shape (3, 3)")):
        supremix_loss(
            torch.randn(3, 2), torch.zeros(3), temperature=1, window=1, neg_lambdas=torch.ones(2, 2)
        )
    with pytest.raises(
        ValueError, match=re.escape("supremix: groups must have shape (3,) to match the 3")
    ):
        supremix_loss(
            torch.randn(3, 2), torch.zeros(3), temperature=1, window=1, groups=torch.zeros(2)
        )
    with pytest.raises(ValueError, match=re.escape("weight_range must be None, 'batch' or a")):
        supremix_loss(torch.randn(3, 2), torch.zeros(3), temperature=1, window=1, weight_range="x")
    with pytest.raises(ValueError, match=re.escape("adacon: train_labels is empty")):
        adacon_loss(torch.randn(3, 2), torch.zeros(3), train_labels=torch.zeros(0), temperature=1)


def assert_attached_zero(loss, features):
    assert loss.requires_grad
    assert loss.item() == 0.0
    loss.backward()
    assert features.grad is not None
    assert torch.equal(features.grad, torch.zeros_like(features))


@pytest.mark.parametrize("name", LABELLED)
def test_batch_of_one_gives_an_attached_zero(name):
    features = torch.randn(1, 4, requires_grad=True)
    assert_attached_zero(LABELLED[name](features, torch.tensor([3.0])), features)


@pytest.mark.parametrize("name", ["supremix", "supcon", "adacon"])
def test_no_positive_anywhere_gives_an_attached_zero(name):
    """One view of distinct labels, and Mix-pos impossible (window below the label spacing)."""
    features = torch.randn(5, 4, requires_grad=True)
    labels = torch.tensor([0.0, 10.0, 20.0, 30.0, 40.0])
    if name == "supremix":
        loss = supremix_loss(features, labels, temperature=0.5, window=5)
    else:
        loss = LABELLED[name](features, labels)
    assert_attached_zero(loss, features)


def test_anchors_without_positives_are_left_out_of_the_mean():
    """Adding a lone sample (no positive) changes nothing but the others' denominators."""
    x = torch.randn(5, 3, dtype=torch.float64)
    y = torch.tensor([0.0, 0.0, 1.0, 1.0, 9.0], dtype=torch.float64)
    per = []
    for i in range(4):  # anchors 0-3 have exactly one positive each
        others = [a for a in range(5) if a != i]
        z = torch.nn.functional.normalize(x, dim=1)
        p = i ^ 1
        logits = z[i] @ z[others].T / 0.5
        per.append(torch.logsumexp(logits, 0) - z[i] @ z[p] / 0.5)
    torch.testing.assert_close(supcon_loss(x, y, temperature=0.5), torch.stack(per).mean())


LOW_PRECISION = {
    **LABELLED,
    "simclr": lambda f, y, **kw: simclr_loss(f, temperature=kw.get("t", 0.5)),
}


@pytest.mark.parametrize("name", LOW_PRECISION)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_low_temperature_large_norms_stay_finite(name, dtype):
    """bf16/fp16 autocast on CPU, t = 0.05, feature norms ~1e4: finite loss and gradients."""
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(16, 8, generator=g, requires_grad=True)
    inputs = torch.randn(12, 16, generator=g) * 1e3
    labels = torch.randint(0, 4, (6,), generator=g).float().repeat(2)
    with torch.autocast("cpu", dtype=dtype):
        features = inputs @ weight
        assert features.dtype == dtype
        loss = LOW_PRECISION[name](features, labels, t=0.05)
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(weight.grad).all()
    assert weight.grad.abs().sum() > 0


@pytest.mark.parametrize("renormalize", [False, True])
def test_supremix_extreme_scales_in_float32(renormalize):
    """Unnormalised features of norm 1e6 at t = 0.05: the one-row logsumexp keeps it finite."""
    g = torch.Generator().manual_seed(1)
    features = (torch.randn(16, 8, generator=g) * 1e6).requires_grad_(True)
    labels = torch.randint(0, 5, (8,), generator=g).float().repeat(2)
    loss = supremix_loss(
        features,
        labels,
        temperature=0.05,
        window=3,
        normalize=False,
        renormalize_mixtures=renormalize,
        generator=g,
    )
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(features.grad).all()
