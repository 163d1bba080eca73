"""Gender-aware mixing (the SupReMix paper, §5.7, Fig. 10): the rows, the sex groups reaching
SupReMix's loss only in the within-sex row, sex separability, per-sex ordinality and trajectories
against
direct computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from representation_kit import ToyRegression, toy_config, toy_splits
from scipy import stats

from supremix.experiments import Sweep, VariantRun
from supremix.experiments.gender_aware import (
    ROWS,
    GenderStudy,
    age_bins,
    age_trajectories,
    evaluation_groups,
    gender_facts,
    gender_variants,
    run_gender_aware,
    sex_separability,
    trajectory_figure,
    within_group_ordinality,
)
from supremix.experiments.settings import RunSettings
from supremix.losses import SupReMixLoss
from supremix.studies import study_config
from supremix.train import TrainConfig, train


@pytest.fixture
def loss_groups(monkeypatch):
    """Every ``groups`` argument SupReMix's loss module receives during training (the engine
    builds it from the loss registry)."""
    seen = []
    original = SupReMixLoss.forward

    def recording(self, z, y, groups=None, generator=None):
        seen.append(None if groups is None else (groups.clone(), y.clone()))
        return original(self, z, y, groups, generator)

    monkeypatch.setattr(SupReMixLoss, "forward", recording)
    return seen


@pytest.mark.slow
def test_only_the_within_sex_row_passes_the_items_groups_to_the_loss(tmp_path, loss_groups):
    splits = toy_splits()
    train_set = splits["train_set"]
    train_set.groups = (train_set.targets % 2).astype(np.int64)  # group readable from label
    within = toy_config(**ROWS["supremix_within_sex"].overrides, epochs=1, probe_epochs=1)
    train(within, **splits, out_dir=tmp_path / "within")
    assert loss_groups and all(g is not None for g in loss_groups)
    for groups, labels in loss_groups:
        np.testing.assert_array_equal(groups.cpu().numpy(), labels.cpu().numpy() % 2)
    assert {int(g) for groups, _ in loss_groups for g in groups} == {0, 1}
    loss_groups.clear()
    across = toy_config(**ROWS["supremix"].overrides, epochs=1, probe_epochs=1)
    train(across, **splits, out_dir=tmp_path / "across")
    assert loss_groups and all(g is None for g in loss_groups)


def test_within_sex_mixing_on_a_dataset_without_groups_fails_naming_the_group(tmp_path):
    config = toy_config(**ROWS["supremix_within_sex"].overrides, epochs=1, probe_epochs=1)
    with pytest.raises(ValueError, match="no 'group'"):
        train(config, **toy_splits(groups=False), out_dir=tmp_path)
    with pytest.raises(ValueError, match="carry no 'group' \\(sex\\)"):
        evaluation_groups({"test": ToyRegression(8, groups=False, split="test")}, "test")


@pytest.mark.slow
def test_run_gender_aware_on_the_rsna_phantom_mixes_within_the_sex_of_each_radiograph(
    loss_groups,
):
    settings = RunSettings(smoke=True, device="cpu")
    study = run_gender_aware(
        "rsna", rows=["supremix_within_sex", "supcon"], settings=settings, overrides={"lr": 0.01}
    )
    assert study.sweep.smoke and study.sweep.config.lr == 0.01
    assert study.sweep.config.device == "cpu"
    assert loss_groups and all(g is not None for g in loss_groups)
    assert set(np.unique(study.groups)) == {0, 1}
    assert study.groups.shape == study.sweep.targets.shape
    assert list(study.features()) == ["SupReMix, mixing within sex", "SupCon"]
    table = study.table()
    assert set(table.columns) >= {"sex separability", "age ordinality, female"}


def test_rows_are_chosen_by_key_and_unknown_keys_are_named():
    assert [v.label for v in gender_variants(["supremix", "supremix_within_sex"])] == [
        "SupReMix, mixing across sexes",
        "SupReMix, mixing within sex",
    ]
    assert ROWS["supremix_within_sex"].overrides["use_groups"] is True
    # the presets mix within sex by default: the "across" row must switch it off itself
    assert ROWS["supremix"].overrides["use_groups"] is False
    _, base = study_config("rsna")
    assert base.use_groups and not base.replace(**ROWS["supremix"].overrides).use_groups
    TrainConfig(**ROWS["supremix_within_sex"].overrides)  # valid overrides
    with pytest.raises(ValueError, match="unknown or no rows \\['within'\\]"):
        gender_variants(["within"])


def test_sex_separability_is_perfect_when_a_coordinate_is_the_sex_and_chance_without():
    rng = np.random.default_rng(0)
    sex = rng.integers(0, 2, 400)
    informative = np.column_stack([sex + 0.05 * rng.normal(size=400), rng.normal(size=(400, 3))])
    assert sex_separability(informative, sex) == 1.0
    assert abs(sex_separability(rng.normal(size=(400, 4)), sex) - 0.5) < 0.1
    assert math.isnan(sex_separability(rng.normal(size=(10, 2)), np.zeros(10, int)))
    with pytest.raises(ValueError, match="one value per item"):
        sex_separability(rng.normal(size=(10, 2)), np.zeros(9, int))


def direct_ordinality(features, labels):
    distances, gaps = [], []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            distances.append(float(np.linalg.norm(features[i] - features[j])))
            gaps.append(abs(labels[i] - labels[j]))
    return stats.spearmanr(distances, gaps).statistic


def test_within_group_ordinality_scores_each_sex_on_its_own_items():
    rng = np.random.default_rng(1)
    labels = rng.uniform(0, 200, 30)
    groups = np.arange(30) % 2
    features = np.column_stack([np.where(groups == 1, labels, rng.normal(size=30)), groups])
    scores = within_group_ordinality(features, labels, groups)
    for value, name in ((0, "female"), (1, "male")):
        mask = groups == value
        assert scores[name] == pytest.approx(direct_ordinality(features[mask], labels[mask]))
    assert scores["male"] > 0.9 > scores["female"]


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.integers(0, 50), min_size=4, max_size=40),
    n_bins=st.integers(1, 6),
    seed=st.integers(0, 100),
)
def test_trajectories_are_the_mean_positions_of_each_sex_and_age_bin(labels, n_bins, seed):
    rng = np.random.default_rng(seed)
    y = np.asarray(labels, dtype=float)
    coords = rng.normal(size=(y.size, 2))
    groups = rng.integers(0, 2, y.size)
    bins = age_bins(y, n_bins)
    assert bins.min() >= 0 and bins.max() < n_bins
    order = np.argsort(y, kind="stable")
    assert np.all(np.diff(bins[order]) >= 0)  # bins follow label order
    paths = age_trajectories(coords, y, groups, n_bins=n_bins)
    expected = []
    for value, name in ((0, "female"), (1, "male")):
        for b in range(n_bins):
            members = [i for i in range(y.size) if groups[i] == value and bins[i] == b]
            if members:
                expected.append(
                    (name, b, np.mean(y[members]), *coords[members].mean(axis=0), len(members))
                )
    got = list(paths.itertuples(index=False, name=None))
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    np.testing.assert_allclose([g[2:] for g in got], [e[2:] for e in expected])


def test_table_and_figure_of_a_constructed_study():
    rng = np.random.default_rng(2)
    targets = rng.uniform(10, 200, 24)
    groups = np.arange(24) % 2
    variants = gender_variants(["supremix_within_sex", "supcon"])
    sweep = Sweep(
        dataset="rsna",
        preset="rsna-cpu",
        config=TrainConfig(dataset="rsna"),
        data={"kind": "phantom"},
        eval_split="test",
        targets=targets,
        train_targets=targets,
        variants=variants,
    )
    separated = np.column_stack([targets, 50.0 * groups])
    for variant, feats in zip(variants, [separated, rng.normal(size=(24, 2))], strict=True):
        sweep.runs.append(VariantRun(variant.label, 0, {}, targets + 1.0, feats, 0.0, 10))
    study = GenderStudy(sweep=sweep, groups=groups)
    table = study.table()
    assert table.loc["SupReMix, mixing within sex", "sex separability"] == 1.0
    assert table.loc["SupReMix, mixing within sex", "MAE"] == pytest.approx(1.0)
    facts = gender_facts(table)
    assert facts["most_separable"] == "SupReMix, mixing within sex"
    assert facts["most_separable_value"] == 1.0
    maps = {name: feats[:, :2] for name, feats in study.features().items()}
    assert isinstance(trajectory_figure(maps, targets, groups, n_bins=4), Figure)


def test_gender_facts_name_the_rows_holding_each_extreme_of_the_table():
    table = pd.DataFrame(
        {
            "MAE": [9.0, 7.5, 8.0],
            "rho": [0.9, 0.95, 0.93],
            "sex separability": [0.95, 0.55, math.nan],
            "age ordinality": [0.6, 0.7, 0.65],
            "age ordinality, female": [0.8, 0.9, 0.5],
            "age ordinality, male": [0.7, 0.3, math.nan],
        },
        index=pd.Index(["within", "across", "supcon"], name="row"),
    )
    facts = gender_facts(table)
    # the less ordered sex of each row: within 0.7, across 0.3, supcon undefined
    assert facts == {
        "rows": 3,
        "most_separable": "within",
        "most_separable_value": 0.95,
        "least_separable": "across",
        "least_separable_value": 0.55,
        "most_ordered": "across",
        "most_ordered_value": 0.7,
        "most_ordered_within": "within",
        "most_ordered_within_value": 0.7,
        "lowest_mae": "across",
        "lowest_mae_value": 7.5,
    }
