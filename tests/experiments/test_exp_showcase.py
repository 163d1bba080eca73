"""The recorded phantom showcase: permuted runs paired with the study's genuine runs (not trained
twice), the two-scale geometry table against loops, and the three claim verdicts on constructed
numbers, each way."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from supremix.analysis import NLFDBootstrap
from supremix.experiments import Sweep, VariantRun
from supremix.experiments.continuity import ContinuityResult
from supremix.experiments.ordinality import (
    GENUINE,
    PERMUTED,
    ordinality_table,
    permuted_training_labels,
)
from supremix.experiments.showcase import (
    Showcase,
    claim_verdicts,
    geometry_table,
    ordinality_sweep,
    permuted_variants,
    showcase_summary,
)
from supremix.experiments.sweep import Variant
from supremix.reporting import validate_results
from supremix.studies import Study
from supremix.train import TrainConfig

METHODS = {"Vanilla": {"method": "vanilla"}, "SimCLR": {"method": "simclr", "augment": "xray"}}


def _frame(cls, variants, targets):
    return cls(
        dataset="rsna",
        preset="rsna-cpu",
        config=TrainConfig(dataset="rsna"),
        data={"kind": "phantom", "root": None},
        eval_split="test",
        targets=targets,
        train_targets=targets,
        variants=variants,
        embedding_seed=0,
    )


def _study(targets, features):
    study = _frame(Study, [Variant(m, o) for m, o in METHODS.items()], targets)
    for index, method in enumerate(METHODS):
        for seed in (0, 1):
            preds = targets + index + seed
            kept = features[method] if seed == 0 else None
            metrics = {"mae": float(np.mean(np.abs(preds - targets)))}
            study.runs.append(VariantRun(method, seed, metrics, preds, kept, 0.0, 10))
    return study


def _permuted(study, features):
    sweep = _frame(Sweep, permuted_variants(study, ["simclr", "vanilla"]), study.targets)
    for variant in sweep.variants:
        preds = study.targets + 10.0
        metrics = {"mae": 10.0}
        run = VariantRun(variant.label, 0, metrics, preds, features[variant.label], 0.0, 10)
        sweep.runs.append(run)
    return sweep


def test_permuted_variants_keep_each_methods_overrides_and_permute_the_training_labels():
    study = _study(np.arange(4.0), {m: np.zeros((4, 2)) for m in METHODS})
    variants = permuted_variants(study, ["simclr", "Vanilla"])
    assert [v.label for v in variants] == [f"SimCLR, {PERMUTED}", f"Vanilla, {PERMUTED}"]
    assert dict(variants[0].overrides) == {"method": "simclr", "augment": "xray"}
    assert all(v.train_subset is permuted_training_labels for v in variants)
    with pytest.raises(ValueError, match=r"'rnc' has no genuine-label run.*ran Vanilla, SimCLR"):
        permuted_variants(study, ["rnc"])


def test_ordinality_sweep_pairs_each_permuted_run_with_the_studys_run_of_that_seed():
    rng = np.random.default_rng(0)
    targets = rng.permutation(np.arange(12.0))
    genuine = {"Vanilla": rng.normal(size=(12, 3)), "SimCLR": rng.normal(size=(12, 3))}
    study = _study(targets, genuine)
    scrambled = {
        f"SimCLR, {PERMUTED}": genuine["SimCLR"].copy(),
        f"Vanilla, {PERMUTED}": rng.normal(size=(12, 3)),
    }
    sweep = ordinality_sweep(study, _permuted(study, scrambled))
    assert sweep.labels == [
        f"SimCLR, {GENUINE}",
        f"SimCLR, {PERMUTED}",
        f"Vanilla, {GENUINE}",
        f"Vanilla, {PERMUTED}",
    ]
    np.testing.assert_array_equal(
        sweep.run(f"Vanilla, {GENUINE}", 0).preds, study.run("Vanilla", 0).preds
    )
    assert study.run("Vanilla", 0).label == "Vanilla"  # the study's own run is not relabelled
    table = ordinality_table(sweep)
    assert table.loc["SimCLR", "max |Δ feature|"] == 0.0
    assert table.loc["Vanilla", "max |Δ feature|"] > 0.0
    assert table.loc["SimCLR", "MAE, genuine"] == pytest.approx(1.0)  # seed 0: preds + index
    assert table.loc["SimCLR", "MAE, permuted"] == pytest.approx(10.0)


def test_ordinality_sweep_refuses_runs_on_other_items():
    study = _study(np.arange(6.0), {m: np.zeros((6, 2)) for m in METHODS})
    other = _study(np.arange(6.0) + 1, {m: np.zeros((6, 2)) for m in METHODS})
    features = {f"{m}, {PERMUTED}": np.zeros((6, 2)) for m in METHODS}
    with pytest.raises(ValueError, match="evaluated on other items than the study"):
        ordinality_sweep(study, _permuted(other, features))


def direct_geometry(features, targets):
    z = (features - features.mean(axis=0)) / features.std(axis=0)
    gaps = []
    for i in range(len(targets)):
        distances = [np.linalg.norm(z[i] - z[j]) if j != i else math.inf for j in range(len(z))]
        gaps.append(abs(targets[i] - targets[int(np.argmin(distances))]))
    return float(np.mean(gaps))


def test_geometry_table_measures_global_and_local_order():
    rng = np.random.default_rng(3)
    targets = rng.permutation(np.arange(40.0))
    line = np.column_stack([targets, -2.0 * targets + 1.0])  # after standardising: a line
    # clusters of five neighbouring labels, the clusters placed in a scrambled order
    centres = rng.permutation(8) * 50.0
    clusters = np.column_stack([centres[(targets // 5).astype(int)], rng.normal(size=40)])
    study = _study(targets, {"Vanilla": line, "SimCLR": clusters})
    table = geometry_table(study)
    columns = ["ordinality", "NN label gap", "NN gap / random", "NLFD mean", "NLFD median"]
    assert list(table.columns) == columns
    assert table.loc["Vanilla", "ordinality"] > 0.95
    assert table.loc["SimCLR", "ordinality"] < 0.5
    for method, features in (("Vanilla", line), ("SimCLR", clusters)):
        direct = direct_geometry(features, targets)
        assert table.loc[method, "NN label gap"] == pytest.approx(direct)
    assert table.loc["Vanilla", "NN label gap"] == pytest.approx(1.0)  # neighbours on the line
    random_pairs = np.mean([abs(a - b) for a in targets for b in targets if a != b])
    assert table.loc["Vanilla", "NN gap / random"] == pytest.approx(1.0 / random_pairs)


def _continuity(z_gaps, correlation=0.4, method_mean=1.0, baseline_mean=2.0):
    z = np.asarray(z_gaps, float)
    return ContinuityResult(
        dataset="rsna",
        data_kind="phantom",
        baseline="Vanilla",
        method="SupReMix",
        targets=np.arange(4.0),
        baseline_nlfd=np.full(4, baseline_mean),
        method_nlfd=np.full(4, method_mean),
        z_gap=float(np.mean(z)),
        rho_gap=0.1,
        bootstrap=NLFDBootstrap(z_gap=z, performance_gap=z, correlation=correlation),
    )


def _tables(supcon_change=0.0, supcon_order=0.2, supcon_gap=3.0, supremix_drop=0.5):
    ordinality = pd.DataFrame(
        {
            "genuine": [0.8, supcon_order],
            "permuted": [0.8 - supremix_drop, supcon_order],
            "drop": [supremix_drop, 0.0],
            "max |Δ feature|": [1.0, supcon_change],
        },
        index=pd.Index(["SupReMix", "SupCon"], name="method"),
    )
    geometry = pd.DataFrame(
        {
            "ordinality": [0.8, supcon_order],
            "NN label gap": [4.0, supcon_gap],
            "NN gap / random": [0.1, supcon_gap / 40.0],
        },
        index=ordinality.index,
    )
    return ordinality, geometry


def test_the_claims_hold_on_numbers_that_show_them():
    ordinality, geometry = _tables()
    verdicts = claim_verdicts(ordinality, _continuity([0.5] * 20), geometry)
    claims = ["Global ordering", "Local linearity", "SupCon's clusters"]
    assert [v.claim for v in verdicts] == claims
    assert [v.holds for v in verdicts] == [True, True, True]
    assert "drop of +0.50" in verdicts[0].evidence
    assert "100% of 20 bootstrap resamples" in verdicts[1].evidence
    assert "identical" in verdicts[2].evidence and "arbitrary order" in verdicts[2].evidence
    assert verdicts[0].markdown().startswith("- **Global ordering** (the SupReMix paper, §5.1.1")


def test_the_claims_fail_on_numbers_that_contradict_them():
    ordinality, geometry = _tables(supcon_change=0.3, supcon_order=0.9, supremix_drop=-0.1)
    verdicts = claim_verdicts(ordinality, _continuity([0.5] * 18 + [-0.5] * 2), geometry)
    assert [v.holds for v in verdicts] == [False, False, False]
    assert "90% of 20" in verdicts[1].evidence
    assert "changed (largest difference 0.3)" in verdicts[2].evidence
    assert "an ordered embedding, not clusters" in verdicts[2].evidence
    assert "does not hold" in verdicts[2].markdown()


def test_supcon_without_local_order_is_no_cluster():
    ordinality, geometry = _tables(supcon_gap=9.0)
    verdict = claim_verdicts(ordinality, _continuity([0.5] * 20), geometry)[2]
    assert verdict.holds is False and "no clusters, little order" in verdict.evidence


def test_supcon_whose_neighbours_are_random_keeps_no_local_order():
    ordinality, geometry = _tables(supcon_gap=3.0)
    geometry.loc["SupCon", "NN gap / random"] = 0.95
    verdict = claim_verdicts(ordinality, _continuity([0.5] * 20), geometry)[2]
    assert verdict.holds is False and "hardly closer in label than random" in verdict.evidence


def test_a_missing_method_cannot_be_judged():
    ordinality, geometry = _tables()
    verdicts = claim_verdicts(
        ordinality.drop(index="SupCon"), _continuity([0.5] * 4), geometry.drop(index="SupCon")
    )
    assert verdicts[0].holds is None and verdicts[2].holds is None
    assert "cannot be judged" in verdicts[0].markdown()


def test_summary_holds_the_studys_methods_and_the_permuted_runs():
    targets = np.arange(8.0)
    study = _study(targets, {m: np.eye(8)[:, :3] for m in METHODS})
    features = {f"{m}, {PERMUTED}": np.zeros((8, 3)) for m in METHODS}
    showcase = Showcase(study, ordinality_sweep(study, _permuted(study, features)))
    summary = showcase_summary(showcase, notes="demo", analyses={"verdicts": [True]})
    validate_results(summary)
    assert list(summary["methods"]) == [
        "Vanilla",
        "SimCLR",
        f"SimCLR, {PERMUTED}",
        f"Vanilla, {PERMUTED}",
    ]
    assert summary["methods"]["Vanilla"]["seeds"] == [0, 1]
    assert summary["provenance"]["analyses"] == {"verdicts": [True]}
    assert summary["data_kind"] == "phantom"
