"""Imbalanced regression (the SupReMix paper, App. D.3, Table 16): the shot thresholds scale as
documented, the shot subsets match a direct count, and the variants map to Table 16."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from supremix.experiments import Sweep, VariantRun
from supremix.experiments.imbalanced import (
    ALL,
    PAPER_TABLE,
    TABLE16_VARIANTS,
    ImbalancedRun,
    ShotRule,
    imbalanced_variants,
    run_imbalanced,
    scaled_shot_rule,
    shot_region_figure,
)
from supremix.paper import paper_results
from supremix.reporting import validate_results
from supremix.train import TrainConfig


def test_at_the_papers_training_size_the_rule_is_the_papers():
    assert scaled_shot_rule(11_611, 11_611) == ShotRule(1.0, 100.0, 20.0)


@settings(max_examples=60, deadline=None)
@given(n_train=st.integers(1, 50_000), paper_n=st.integers(100, 50_000))
def test_scaled_thresholds_keep_the_papers_share_of_the_training_set_per_label_unit(
    n_train, paper_n
):
    rule = scaled_shot_rule(n_train, paper_n)
    # a many-shot bin holds more than 100 of paper_n samples per label unit, scaled to n_train
    assert rule.many / (n_train * rule.bin_width) == pytest.approx(100 / paper_n)
    assert rule.few / (n_train * rule.bin_width) == pytest.approx(20 / paper_n)
    assert rule.bin_width >= 1.0 and rule.many >= 20.0 - 1e-9
    if 100 * n_train / paper_n >= 20:
        assert rule.bin_width == 1.0
    else:
        assert rule.bin_width == pytest.approx(round(rule.bin_width, 2))
        assert rule.many - 20.0 <= 0.01 * 100 * n_train / paper_n + 1e-9


def test_a_phantom_sized_split_gets_wider_bins_and_the_minimum_many_threshold():
    rule = scaled_shot_rule(236, 11_611)
    exact = 20 / (100 * 236 / 11_611)
    assert exact <= rule.bin_width < exact + 0.01
    assert (rule.many, rule.few) == pytest.approx((20.0, 4.0), abs=0.01)
    with pytest.raises(ValueError, match="n_train and paper_n_train must be >= 1"):
        scaled_shot_rule(0, 11_611)


def _direct_regions(targets, train, rule: ShotRule) -> list[str]:
    regions = []
    for y in targets:
        k = math.floor(y / rule.bin_width)
        count = sum(1 for t in train if math.floor(t / rule.bin_width) == k)
        regions.append("many" if count > rule.many else "few" if count < rule.few else "medium")
    return regions


@settings(max_examples=30, deadline=None)
@given(
    train=st.lists(st.integers(0, 40), min_size=1, max_size=200),
    targets=st.lists(st.integers(0, 45), min_size=1, max_size=30),
    width=st.sampled_from([1.0, 2.5, 7.0]),
)
def test_shot_subsets_are_the_regions_of_a_direct_bin_count(train, targets, width):
    rule = ShotRule(width, 6.0, 2.0)
    expected = _direct_regions(targets, train, rule)
    subsets = rule.subsets(np.array(targets, float), np.array(train, float))
    assert subsets[ALL].all()
    names = {"many-shot": "many", "medium-shot": "medium", "few-shot": "few"}
    for name, region in names.items():
        wanted = [r == region for r in expected]
        if any(wanted):
            assert subsets[name].tolist() == wanted
        else:
            assert name not in subsets


def test_variants_map_to_table_16_and_switch_lds_and_fds_as_named():
    variants = imbalanced_variants(imbalance_bin=4.0)
    assert [v.label for v in variants] == list(TABLE16_VARIANTS)
    for variant in variants:
        config = TrainConfig(dataset="rsna").replace(**variant.overrides)
        assert config.lds == ("LDS" in variant.label)
        assert config.fds == ("FDS" in variant.label)
        assert config.method == ("supremix" if "SupReMix" in variant.label else "vanilla")
        assert config.imbalance_bin == (4.0 if config.lds or config.fds else 1.0)
    targets = np.array([10.0, 50.0, 120.0, 127.0, 129.0, 200.0])
    train = np.concatenate([np.full(30, 125.0), np.full(10, 55.0), [205.0]])
    sweep = Sweep(
        dataset="rsna",
        preset="rsna-cpu",
        config=TrainConfig(dataset="rsna"),
        data={"kind": "phantom", "root": None},
        eval_split="test",
        targets=targets,
        train_targets=train,
        variants=variants,
    )
    for variant in variants:
        sweep.runs.append(
            VariantRun(variant.label, 0, {"mae": 2.0}, targets + 2.0, None, 0.0, train.size)
        )
    run = ImbalancedRun(sweep, ShotRule(10.0, 20.0, 4.0))
    assert run.region_counts() == {
        ALL: 6,
        "many-shot": 3,
        "medium-shot": 1,
        "few-shot": 2,
    }
    facts = run.region_facts()
    assert facts == {
        "rule": "scaled",
        "train_items": 41,
        "bin_width": 10.0,
        "unit": "months",
        "many": 20.0,
        "few": 4.0,
        "items_all": 6,
        "items_many": 3,
        "items_medium": 1,
        "items_few": 2,
    }
    paper_rule = ImbalancedRun(sweep, ShotRule(1.0, 100.0, 20.0)).region_facts()
    # the paper's rule: no bin of 1 month holds more than 100 of these 41 training items
    assert paper_rule["rule"] == "paper's" and paper_rule["items_many"] == 0
    summary = validate_results(run.summary(notes="test"))
    assert summary["provenance"]["shot_rule"] == {"bin_width": 10.0, "many": 20.0, "few": 4.0}
    assert summary["provenance"]["experiment"].endswith("Table 16)")
    figure = shot_region_figure(run)
    assert isinstance(figure, Figure)
    heights = sorted(p.get_height() for p in figure.axes[0].patches)
    assert heights == [1.0, 10.0, 30.0]  # training items in the bins of 205, 55 and 125
    frame = run.beside_paper()
    paper = paper_results("supremix", table=PAPER_TABLE, dataset="rsna")
    column = "paper (the SupReMix paper, Table 16)"
    for variant in variants:
        for subset in (ALL, "many-shot", "medium-shot", "few-shot"):
            expected = paper[
                (paper["method"] == variant.label)
                & (paper["subset"] == subset)
                & (paper["metric"] == "MAE")
            ]["value"].item()
            assert frame.loc[(variant.label, subset, "MAE"), column] == expected


def test_unknown_variants_are_refused():
    with pytest.raises(
        ValueError,
        match=r"unknown or no methods \['SupReMix'\]; expected some of Vanilla, LDS \+ FDS",
    ):
        imbalanced_variants(["SupReMix"])


def test_a_smoke_run_bins_lds_and_fds_with_the_shot_rules_width():
    run = run_imbalanced(methods=["SupReMix + LDS + FDS"], smoke=True)
    assert run.rule == scaled_shot_rule(run.sweep.train_targets.size, 11_611)
    assert run.sweep.variant("SupReMix + LDS + FDS").overrides["imbalance_bin"] == (
        run.rule.bin_width
    )
    assert sum(v for k, v in run.region_counts().items() if k != ALL) == run.sweep.targets.size
