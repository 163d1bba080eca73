"""Missing targets (the SupReMix paper, App. D.1, Table 14): the removed ranges are absent from
every variant's training items, the subsets select exactly the missing-target test items, the
variants map to Table 14's rows, and the UK Biobank phantom covers the ranges."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.data.base import RegressionDataset
from supremix.data.phantoms import LABEL_NOISE
from supremix.data.phantoms.brain_mri import sample_ages
from supremix.experiments import Sweep, VariantRun
from supremix.experiments.missing_targets import (
    MISSING,
    MISSING_AGE_RANGES,
    OVERALL,
    PAPER_TABLE,
    SMOKE_BATCH,
    coverage_table,
    missing_target_settings,
    missing_target_subsets,
    missing_target_variants,
    run_missing_targets,
)
from supremix.experiments.settings import SMOKE_PHANTOM_N, RunSettings
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


def _in_removed(age: float) -> bool:
    return 45 <= age <= 50 or 60 <= age <= 65 or 75 <= age <= 80


@settings(max_examples=30, deadline=None)
@given(ages=st.lists(st.floats(40, 85, allow_nan=False), min_size=1, max_size=60))
def test_every_variant_trains_without_the_removed_ages_and_keeps_all_others(ages):
    for variant in missing_target_variants():
        kept = variant.train_subset(Labelled(ages), 3)
        assert sorted(kept.targets.tolist()) == sorted(a for a in ages if not _in_removed(a))


def test_the_range_ends_are_removed_and_their_neighbours_kept():
    ages = [44.0, 45.0, 50.0, 51.0, 59.0, 60.0, 65.0, 66.0, 74.0, 75.0, 80.0, 81.0]
    kept = missing_target_variants(["vanilla"])[0].train_subset(Labelled(ages), 0)
    assert kept.targets.tolist() == [44.0, 51.0, 59.0, 66.0, 74.0, 81.0]


@settings(max_examples=30, deadline=None)
@given(ages=st.lists(st.integers(40, 85), min_size=1, max_size=60))
def test_the_missing_target_subset_selects_exactly_the_test_items_in_the_ranges(ages):
    ages = np.array(ages, dtype=float)
    if not any(_in_removed(a) for a in ages):
        with pytest.raises(ValueError, match=r"none of the \d+ evaluation items has a label"):
            missing_target_subsets(ages)
        return
    subsets = missing_target_subsets(ages)
    assert list(subsets) == [OVERALL, MISSING]
    assert subsets[OVERALL].all()
    assert subsets[MISSING].tolist() == [_in_removed(a) for a in ages]


def test_variants_map_to_table_14_overall_and_on_missing_targets():
    variants = missing_target_variants()
    targets = np.array([46.0, 55.0, 62.0, 70.0, 77.0])
    sweep = Sweep(
        dataset="ukb",
        preset="ukb-cpu",
        config=TrainConfig(dataset="ukb"),
        data={"kind": "phantom", "root": None},
        eval_split="test",
        targets=targets,
        train_targets=np.array([55.0, 70.0]),
        variants=variants,
    )
    for variant in variants:
        sweep.runs.append(VariantRun(variant.label, 0, {}, targets + 1.0, None, 0.0, 2))
    frame = sweep.beside_paper("supremix", PAPER_TABLE, subsets=missing_target_subsets(targets))
    paper = paper_results("supremix", table=PAPER_TABLE, dataset="ukb")
    column = "paper (the SupReMix paper, Table 14)"
    for variant in variants:
        for subset in (OVERALL, MISSING):
            expected = paper[
                (paper["method"] == variant.label)
                & (paper["subset"] == subset)
                & (paper["metric"] == "MAE")
            ]["value"].item()
            assert frame.loc[(variant.label, subset, "MAE"), column] == expected
    # Table 14's column printed "GM" is on the MSE scale: never set beside a GM of ours
    assert set(frame.index.get_level_values("metric")) == {"MAE"}
    assert {v.label for v in variants} == set(paper["method"])
    for variant in variants:
        TrainConfig(dataset="ukb").replace(**variant.overrides)


def test_unknown_methods_and_bad_ranges_are_refused_before_training():
    with pytest.raises(
        ValueError,
        match=r"unknown or no methods \['simclr'\]; expected some of vanilla, supcon, rnc",
    ):
        missing_target_variants(["simclr"])
    with pytest.raises(ValueError, match="has low > high"):
        missing_target_variants(ranges=[(50, 45)])


def test_the_settings_name_the_phantom_and_batch_the_runs_train_with():
    phantom = missing_target_settings(RunSettings(), phantom_n=500)
    assert phantom.train_config("ukb")[1].phantom_n == 500
    # applied by the notebook, then again by run_missing_targets: the same settings
    assert missing_target_settings(phantom, phantom_n=500) == phantom
    real = RunSettings(data_root="/data/ukb")
    assert missing_target_settings(real, phantom_n=500) == real
    smoke = missing_target_settings(RunSettings(smoke=True))
    assert smoke.batch_size == SMOKE_BATCH
    assert smoke.train_config("ukb")[1].phantom_n == SMOKE_PHANTOM_N["ukb"]  # smoke's own phantom
    assert missing_target_settings(RunSettings(smoke=True, batch_size=4)).batch_size == 4


def test_the_ukb_phantom_ages_cover_every_removed_range():
    rng = np.random.default_rng(0)
    ages = np.clip(LABEL_NOISE["ukb"].record(sample_ages(rng, 2000), rng), 45, 82)  # as written
    for low, high in MISSING_AGE_RANGES:
        assert ((ages >= low) & (ages <= high)).sum() > 20
    assert ages.min() <= MISSING_AGE_RANGES[0][0] and ages.max() >= MISSING_AGE_RANGES[-1][1]


def test_a_smoke_run_trains_on_the_split_without_the_ranges_and_counts_them():
    sweep = run_missing_targets(methods=["vanilla"], smoke=True)
    outside = int(sum(not _in_removed(a) for a in sweep.train_targets))
    assert [r.n_train for r in sweep.runs] == [outside]
    assert outside < sweep.train_targets.size
    table = coverage_table(sweep)
    for low, high in MISSING_AGE_RANGES:
        row = table.loc[f"{low:g}-{high:g}"]
        inside = int(((sweep.train_targets >= low) & (sweep.train_targets <= high)).sum())
        assert row["training items before removal"] == inside
