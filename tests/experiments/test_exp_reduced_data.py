"""Reduced training data (the SupReMix paper, §5.5, Fig. 9): sizes scaled from the paper's, nested
subsets, paper rows, the curves, and a smoke run whose runs train on the planned sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from supremix.data.base import RegressionDataset
from supremix.data.rsna import OFFICIAL_TRAIN_IMAGES
from supremix.experiments import Sweep, VariantRun
from supremix.experiments.reduced_data import (
    PAPER_SIZE_RANGES,
    PAPER_TABLE,
    paper_sizes,
    paper_train_size,
    reduced_data_figure,
    reduced_data_variants,
    run_reduced_data,
    scaled_training_size,
    size_curves,
    training_sizes,
)
from supremix.paper import paper_results
from supremix.train import TrainConfig


class Labelled(RegressionDataset):
    name = "labelled"
    modality = "tabular"

    def __init__(self, targets):
        ids = [f"i{k}" for k in range(len(targets))]
        super().__init__(ids, np.asarray(targets, float), split="train")

    def load(self, index: int) -> torch.Tensor:
        return torch.tensor([float(index)])


def test_the_paper_training_size_is_rsnas_official_training_images_less_its_validation_set():
    # the SupReMix paper's Table 1: 11,611 training and 1,000 validation images of the 12,611
    # official ones
    assert paper_train_size("rsna") == OFFICIAL_TRAIN_IMAGES - 1000


@settings(max_examples=40, deadline=None)
@given(paper_size=st.integers(1, 11_611), n_train=st.integers(40, 5_000))
def test_a_scaled_size_is_the_papers_share_of_this_split(paper_size, n_train):
    size = scaled_training_size(paper_size, "rsna", n_train, min_size=32)
    share = paper_size / 11_611 * n_train
    assert 32 <= size <= n_train
    if 32 <= share <= n_train:
        assert abs(size - share) <= 0.5
    assert scaled_training_size(paper_size, "rsna", 11_611) == paper_size


def test_scaled_sizes_reject_impossible_requests():
    with pytest.raises(ValueError, match=r"min_size must be in \[1, 20\]"):
        scaled_training_size(2000, "rsna", 20, min_size=32)
    with pytest.raises(ValueError, match="the SupReMix paper's Table 1 gives no training-set size"):
        paper_train_size("agedb")
    with pytest.raises(ValueError, match="not 'hcp'"):
        paper_sizes("hcp")


@pytest.mark.parametrize("dataset", list(PAPER_SIZE_RANGES))
def test_sizes_span_the_papers_range_and_grow(dataset):
    low, high = PAPER_SIZE_RANGES[dataset]
    grid = paper_sizes(dataset, 4)
    assert grid[0] == low and grid[-1] == high and grid == sorted(set(grid))
    sizes = training_sizes(dataset, 300, points=4, min_size=32)
    items = [s.items for s in sizes]
    assert items == sorted(set(items)) and items[0] >= 32 and items[-1] <= 300
    assert sizes[0].paper == low


def test_sizes_that_collapse_on_a_small_split_keep_one_variant_each():
    sizes = training_sizes("ukb", 40, points=5, min_size=32)
    assert [s.items for s in sizes] == sorted({s.items for s in sizes})
    assert sizes[0].items == 32


@pytest.mark.parametrize("dataset", ["ukb", "rsna", "a4"])
def test_variants_carry_exactly_the_paper_rows_the_text_quotes(dataset):
    quoted = paper_results("supremix", table=PAPER_TABLE, dataset=dataset)
    pairs = set(zip(quoted["method"], quoted["setting"], strict=True))
    variants = reduced_data_variants(dataset, 11_611, points=3)
    assert len(variants) == 2 * 3
    carried = {(v.paper.method, v.paper.setting) for v in variants if v.paper is not None}
    assert carried == pairs
    for variant in variants:
        TrainConfig(dataset=dataset).replace(**variant.overrides)


def test_each_variant_trains_on_its_number_of_items_nested_within_a_seed():
    train = Labelled(np.arange(120.0))
    variants = reduced_data_variants("rsna", len(train), methods=["vanilla"], points=3)
    subsets = [v.train_subset(train, 7) for v in variants]
    labels = [set(s.targets.tolist()) for s in subsets]
    assert [len(s) for s in subsets] == [int(v.label.split(", ")[1].split()[0]) for v in variants]
    assert labels[0] < labels[1] < labels[2]
    other_seed = set(variants[0].train_subset(train, 8).targets.tolist())
    assert other_seed != labels[0]


def _fake_sweep() -> Sweep:
    variants = reduced_data_variants("rsna", 240, points=2, min_size=32)
    targets = np.array([10.0, 20.0, 30.0, 40.0])
    sweep = Sweep(
        dataset="rsna",
        preset="rsna-cpu",
        config=TrainConfig(dataset="rsna"),
        data={"kind": "phantom", "root": None},
        eval_split="test",
        targets=targets,
        train_targets=np.arange(240.0),
        variants=variants,
    )
    for k, variant in enumerate(variants):
        items = int(variant.label.split(", ")[1].split()[0])
        for seed in (0, 1):
            preds = targets + (k + 1) * (seed + 1)
            sweep.runs.append(VariantRun(variant.label, seed, {}, preds, None, 0.0, items))
    return sweep


def test_size_curves_hold_the_mean_error_per_method_and_size():
    sweep = _fake_sweep()
    curves = size_curves(sweep, ["MAE"])
    assert list(curves["method"]) == ["SupReMix", "SupReMix", "Vanilla", "Vanilla"]
    for k, variant in enumerate(sweep.variants):
        method, items = variant.label.split(", ")
        row = curves[(curves["method"] == method) & (curves["items"] == int(items.split()[0]))]
        assert row["MAE"].item() == pytest.approx(np.mean([(k + 1) * 1, (k + 1) * 2]))
    figure = reduced_data_figure(sweep, ["MAE", "rho"])
    assert isinstance(figure, Figure) and len(figure.axes) == 2


def test_a_smoke_run_trains_every_variant_on_its_planned_items():
    sweep = run_reduced_data("rsna", methods=["vanilla"], smoke=True)
    planned = [int(label.split(", ")[1].split()[0]) for label in sweep.labels]
    assert [r.n_train for r in sweep.runs] == planned
    assert planned[0] == sweep.config.batch_size and planned[-1] == sweep.train_targets.size
