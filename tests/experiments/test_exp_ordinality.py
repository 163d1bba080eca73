"""The label-permutation experiment (the SupReMix paper, §5.1.1, Fig. 3): the permuted training
split, the variants, the ordinality table against a direct rank correlation, and SupCon's invariance
to a
group-wise permutation on a real training run."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from representation_kit import ToyRegression, toy_config, toy_splits
from scipy import stats

from supremix.experiments import Sweep, VariantRun
from supremix.experiments.ordinality import (
    GENUINE,
    PERMUTED,
    ordered_features,
    ordinality_facts,
    ordinality_figure,
    ordinality_table,
    ordinality_variants,
    permuted_training_labels,
    variant_label,
)
from supremix.train import TrainConfig, predict, train


class LabelsOnly(ToyRegression):
    def __init__(self, labels):
        super().__init__(len(labels), d=2, seed=0, split="train")
        self.targets = np.asarray(labels, dtype=np.float64)


@settings(max_examples=40, deadline=None)
@given(
    labels=st.lists(st.integers(0, 12), min_size=2, max_size=40),
    seed=st.integers(0, 1000),
)
def test_permuted_labels_permute_the_splits_own_values_group_wise(labels, seed):
    split = LabelsOnly(labels)
    permuted = permuted_training_labels(split, seed)
    old, new = split.targets, permuted.targets
    assert permuted.ids == split.ids  # every item keeps its place
    np.testing.assert_array_equal(permuted.groups, split.groups)
    assert set(new) == set(old)  # values of this split only
    assert sorted(Counter(new).values()) == sorted(Counter(old).values())  # group sizes kept
    same_old = old[:, None] == old[None, :]
    same_new = new[:, None] == new[None, :]
    np.testing.assert_array_equal(same_new, same_old)  # equal stays equal, distinct distinct
    assert len(permuted) == len(split)
    np.testing.assert_array_equal(permuted[0]["x"], split[0]["x"])


def test_permutation_depends_on_the_seed_and_scrambles_the_order():
    split = LabelsOnly(np.arange(30))
    a, b = permuted_training_labels(split, 0).targets, permuted_training_labels(split, 1).targets
    assert not np.array_equal(a, b)
    assert abs(stats.spearmanr(split.targets, a).statistic) < 0.6
    np.testing.assert_array_equal(a, permuted_training_labels(split, 0).targets)


def test_variants_pair_each_method_with_its_permuted_run():
    variants = ordinality_variants(["supremix", "supcon"])
    assert [v.label for v in variants] == [
        f"SupReMix, {GENUINE}",
        f"SupReMix, {PERMUTED}",
        f"SupCon, {GENUINE}",
        f"SupCon, {PERMUTED}",
    ]
    assert [v.overrides["method"] for v in variants] == ["supremix"] * 2 + ["supcon"] * 2
    assert [v.train_subset is None for v in variants] == [True, False, True, False]
    with pytest.raises(ValueError, match="unknown or no methods \\['supermix'\\]"):
        ordinality_variants(["supermix"])
    with pytest.raises(ValueError, match="twice"):
        ordinality_variants(["supcon", "supcon"])


def direct_ordinality(features, labels):
    distances, gaps = [], []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            distances.append(float(np.linalg.norm(features[i] - features[j])))
            gaps.append(abs(labels[i] - labels[j]))
    return stats.spearmanr(distances, gaps).statistic


def _sweep(features: dict[str, np.ndarray], targets: np.ndarray) -> Sweep:
    variants = ordinality_variants(["supremix", "supcon"])
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
    for index, variant in enumerate(variants):
        preds = targets + index + 1.0
        run = VariantRun(variant.label, 0, {}, preds, features[variant.label], 0.0, 10)
        sweep.runs.append(run)
    return sweep


def test_ordinality_table_scores_both_models_against_the_genuine_labels():
    rng = np.random.default_rng(0)
    targets = rng.permutation(np.arange(20.0))
    line = np.stack([targets, 0.1 * rng.normal(size=20)], axis=1)
    scrambled = rng.normal(size=(20, 2))
    features = {
        variant_label("supremix", GENUINE): line,
        variant_label("supremix", PERMUTED): scrambled,
        variant_label("supcon", GENUINE): scrambled,
        variant_label("supcon", PERMUTED): scrambled.copy(),
    }
    table = ordinality_table(_sweep(features, targets))
    assert list(table.index) == ["SupReMix", "SupCon"]
    assert table.loc["SupReMix", "genuine"] == pytest.approx(direct_ordinality(line, targets))
    assert table.loc["SupReMix", "permuted"] == pytest.approx(direct_ordinality(scrambled, targets))
    assert table.loc["SupReMix", "drop"] > 0.5
    assert table.loc["SupCon", "drop"] == 0.0
    assert table.loc["SupCon", "max |Δ feature|"] == 0.0
    assert table.loc["SupReMix", "max |Δ feature|"] == pytest.approx(np.abs(line - scrambled).max())
    assert table.loc["SupReMix", "MAE, permuted"] == pytest.approx(2.0)  # preds = targets + 2
    facts = ordinality_facts(table)
    assert facts["unchanged"] == "SupCon"
    assert facts["most_drop"] == "SupReMix"
    assert facts["most_drop_value"] == table.loc["SupReMix", "drop"]
    assert (facts["least_drop"], facts["least_drop_value"]) == ("SupCon", 0.0)
    assert isinstance(ordinality_figure(table), Figure)


def test_ordered_features_put_genuine_before_permuted_per_method():
    targets = np.arange(6.0)
    features = {v.label: np.full((6, 2), i, float) for i, v in enumerate(ordinality_variants())}
    sweep = _sweep(features, targets)
    assert list(ordered_features(sweep)) == [v.label for v in ordinality_variants()]


@pytest.mark.slow
def test_supcon_pretraining_is_unchanged_by_a_group_wise_permutation_and_supremixs_is_not(
    tmp_path,
):
    splits = toy_splits()
    permuted = permuted_training_labels(splits["train_set"], 3)
    assert not np.array_equal(permuted.targets, splits["train_set"].targets)

    def features(method, train_set, name):
        config = toy_config(method=method, epochs=2, probe_epochs=1)
        result = train(
            config,
            train_set=train_set,
            val_set=splits["val_set"],
            test_set=splits["test_set"],
            out_dir=tmp_path / name,
        )
        return predict(result.model, splits["test_set"]).features

    np.testing.assert_array_equal(
        features("supcon", splits["train_set"], "a"), features("supcon", permuted, "b")
    )
    assert not np.allclose(
        features("supremix", splits["train_set"], "c"), features("supremix", permuted, "d")
    )


def test_ordinality_facts_say_none_when_every_method_changed():
    table = pd.DataFrame(
        {"genuine": [0.8, 0.5], "permuted": [0.2, 0.45], "max |Δ feature|": [0.3, 1e-9]},
        index=pd.Index(["SupReMix", "RnC"], name="method"),
    )
    table["drop"] = table["genuine"] - table["permuted"]
    facts = ordinality_facts(table)
    assert facts["unchanged"] == "none" and facts["methods"] == 2
    assert (facts["most_ordered"], facts["most_ordered_value"]) == ("SupReMix", 0.8)
    assert facts["least_drop"] == "RnC"
    assert facts["least_drop_value"] == pytest.approx(0.05)
