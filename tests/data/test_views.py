"""Two-view batches: rows i and i + B are two views of sample i with its label."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, default_collate

from supremix.data.augment import RandomAffine2d, RandomFlip
from supremix.data.base import RegressionDataset
from supremix.data.views import (
    TwoViewDataset,
    two_view_batch,
    two_view_collate,
    two_view_collate_on_device,
)


class Images(RegressionDataset):
    name = "images"
    modality = "image2d"

    def __init__(self, n=6, groups=True):
        super().__init__(
            [f"im{i}" for i in range(n)],
            np.arange(n) * 1.5,
            split="train",
            groups=np.arange(n) % 2 if groups else None,
        )

    def load(self, index):
        return torch.arange(12, dtype=torch.float32).reshape(1, 3, 4) + 100 * index


def test_two_view_batch_augments_the_stacked_batch_with_per_sample_draws():
    x = torch.rand(5, 1, 6, 7)
    augment = RandomAffine2d(degrees=30.0)
    out = two_view_batch(x, augment, torch.Generator().manual_seed(0))
    params = augment.sample(10, torch.Generator().manual_seed(0), x.device)
    expected = augment.apply(torch.cat([x, x]), params)
    assert out.shape == (10, 1, 6, 7)
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out[:5], out[5:])


def test_two_view_batch_without_augmentation_repeats_the_batch():
    x = torch.rand(4, 3, 8)
    out = two_view_batch(x, None)
    assert torch.equal(out[:4], x) and torch.equal(out[4:], x)


def test_collate_on_device_repeats_every_field():
    dataset = Images(4)
    batch = default_collate([dataset[i] for i in range(4)])
    out = two_view_collate_on_device(batch, RandomFlip(2, p=0.5), torch.Generator())
    assert out["x"].shape == (8, 1, 3, 4)
    assert out["y"].tolist() == [0.0, 1.5, 3.0, 4.5] * 2
    assert out["id"] == ["im0", "im1", "im2", "im3"] * 2
    assert out["group"].tolist() == [0, 1, 0, 1] * 2
    for i in range(8):
        source = batch["x"][i % 4]
        assert torch.equal(out["x"][i], source) or torch.equal(out["x"][i], source.flip(-1))
    with pytest.raises(KeyError, match="batch has no 'x' field; fields: y"):
        two_view_collate_on_device({"y": batch["y"]}, None)


def test_two_view_dataset_through_a_dataloader():
    dataset = Images(6)
    views = TwoViewDataset(dataset, RandomFlip(2, p=0.5), torch.Generator().manual_seed(1))
    assert len(views) == 6 and views.targets is dataset.targets and views.ids == dataset.ids
    item = views[2]
    assert item["x"].shape == (2, 1, 3, 4) and item["group"] == 0 and item["id"] == "im2"
    loader = DataLoader(views, batch_size=3, collate_fn=two_view_collate)
    batch = next(iter(loader))
    assert batch["x"].shape == (6, 1, 3, 4)
    assert batch["y"].tolist() == [0.0, 1.5, 3.0] * 2 and batch["id"] == ["im0", "im1", "im2"] * 2
    for i in range(6):
        source = dataset.load(i % 3)
        assert torch.equal(batch["x"][i], source) or torch.equal(batch["x"][i], source.flip(-1))
    flips = [
        not torch.equal(views[0]["x"][v], dataset.load(0)) for _ in range(20) for v in range(2)
    ]
    assert any(flips) and not all(flips)


def test_two_view_dataset_without_augmentation_or_groups():
    views = TwoViewDataset(Images(3, groups=False), None)
    item = views[1]
    assert "group" not in item
    assert torch.equal(item["x"][0], item["x"][1])
    batch = two_view_collate([views[0], views[1]])
    assert torch.equal(batch["x"][0], batch["x"][2]) and batch["y"].tolist() == [0, 1.5, 0, 1.5]


def test_two_view_collate_rejects_single_view_items():
    with pytest.raises(ValueError, match=r"expected items with x of shape \(2, ...\)"):
        two_view_collate([{"x": torch.zeros(3, 4), "y": 1.0}])
