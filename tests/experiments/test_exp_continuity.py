"""Representation continuity (the SupReMix paper, §5.3, Fig. 7): the NLFDs, Z-gap and ρ gap of a
study's runs against a direct implementation, the Z-gap's sign on constructed features, data roots
per dataset, the multi-dataset results summary."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from supremix.experiments.continuity import (
    continuity_analysis,
    continuity_facts,
    continuity_figure,
    continuity_summary,
    continuity_table,
    roots_by_dataset,
    run_continuity,
)
from supremix.experiments.sweep import Variant
from supremix.paper import paper_results
from supremix.reporting import validate_results
from supremix.studies import Study, VariantRun
from supremix.train import TrainConfig


def direct_nlfd(features, targets):
    """The SupReMix paper's §5.3 steps 1-3 with loops: standardise, nearest neighbour, scale by
    √d."""
    x = np.asarray(features, float)
    n, d = x.shape
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    factors = []
    for i in range(n):
        best, nearest = math.inf, None
        for j in range(n):
            if j != i:
                distance = math.sqrt(sum((z[i, k] - z[j, k]) ** 2 for k in range(d)))
                if distance < best:
                    best, nearest = distance, j
        factors.append(math.sqrt(d) * abs(targets[i] - targets[nearest]) / best)
    return np.array(factors)


def direct_z_gap(baseline, method):
    return (np.mean(baseline) - np.mean(method)) / math.sqrt(np.var(baseline) + np.var(method))


def _study(baseline_features, method_features, targets, kind="phantom", dataset="rsna"):
    study = Study(
        dataset=dataset,
        preset=f"{dataset}-cpu",
        config=TrainConfig(dataset=dataset),
        data={"kind": kind, "root": None},
        eval_split="test",
        targets=targets,
        ids=[str(i) for i in range(targets.size)],
        train_targets=targets,
        variants=[Variant(m, {"method": m.lower()}) for m in ("Vanilla", "SupReMix")],
        embedding_seed=0,
    )
    rng = np.random.default_rng(5)
    for method, features, noise in (
        ("Vanilla", baseline_features, 8.0),
        ("SupReMix", method_features, 2.0),
    ):
        for seed in (0, 1):
            preds = targets + noise * rng.normal(size=targets.size)
            kept = features if seed == 0 else None
            metrics = {"mae": float(np.mean(np.abs(preds - targets))), "pearson": 0.5}
            study.runs.append(VariantRun(method, seed, metrics, preds, kept, 0.0))
    return study


def constructed(n=30, seed=0):
    rng = np.random.default_rng(seed)
    targets = rng.uniform(0, 100, n)
    smooth = np.column_stack([targets, 0.5 * rng.normal(size=(n, 2))])  # order kept locally
    rough = rng.normal(size=(n, 3))  # unrelated to the targets
    return targets, smooth, rough


def test_analysis_matches_a_direct_implementation_of_nlfd_z_gap_and_rho_gap():
    targets, smooth, rough = constructed()
    study = _study(rough, smooth, targets)
    result = continuity_analysis(study, n_boot=20, seed=3)
    np.testing.assert_allclose(result.baseline_nlfd, direct_nlfd(rough, targets))
    np.testing.assert_allclose(result.method_nlfd, direct_nlfd(smooth, targets))
    expected = direct_z_gap(direct_nlfd(rough, targets), direct_nlfd(smooth, targets))
    assert result.z_gap == pytest.approx(expected)
    base, method = study.run("vanilla", 0), study.run("supremix", 0)
    rho = np.corrcoef(method.preds, targets)[0, 1] - np.corrcoef(base.preds, targets)[0, 1]
    assert result.rho_gap == pytest.approx(rho)
    assert result.bootstrap.z_gap.shape == (20,)
    assert (result.baseline, result.method) == ("Vanilla", "SupReMix")


def test_z_gap_is_positive_when_the_method_is_smoother_and_flips_when_swapped():
    targets, smooth, rough = constructed(seed=1)
    forward = continuity_analysis(_study(rough, smooth, targets), n_boot=30)
    backward = continuity_analysis(_study(smooth, rough, targets), n_boot=30)
    assert forward.z_gap > 0 > backward.z_gap
    assert forward.z_gap == pytest.approx(-backward.z_gap)
    assert np.mean(forward.bootstrap.z_gap > 0) > 0.9
    table = continuity_table([forward])
    assert table.loc["rsna", "Z-gap"] == forward.z_gap
    assert table.loc["rsna", "share Z > 0"] == np.mean(forward.bootstrap.z_gap > 0)
    assert table.loc["rsna", "NLFD mean, SupReMix"] < table.loc["rsna", "NLFD mean, Vanilla"]
    printed = paper_results("supremix", table="Figure 7 (text §5.3)", dataset="rsna")
    printed = printed.set_index("setting")["value"]
    assert table.loc["rsna", "paper corr (§5.3 text)"] == printed["§5.3 text"]
    assert table.loc["rsna", "paper corr (Figure 7 caption)"] == printed["Figure 7 caption"]
    assert isinstance(continuity_figure([forward, backward]), Figure)


def test_continuity_facts_count_the_datasets_where_the_method_is_smoother():
    targets, smooth, rough = constructed(seed=1)
    forward = continuity_analysis(_study(rough, smooth, targets, dataset="rsna"), n_boot=30)
    backward = continuity_analysis(_study(smooth, rough, targets, dataset="a4"), n_boot=30)
    facts = continuity_facts([forward, backward])
    correlations = {"rsna": forward.bootstrap.correlation, "a4": backward.bootstrap.correlation}
    low, high = sorted(correlations, key=correlations.get)
    assert facts == {
        "datasets": 2,
        "baseline": "Vanilla",
        "method": "SupReMix",
        "smoother": 1,
        "resamples": 30,
        "positive_correlations": sum(c > 0 for c in correlations.values()),
        "lowest_correlation": low,
        "lowest_correlation_value": correlations[low],
        "highest_correlation": high,
        "highest_correlation_value": correlations[high],
    }
    with pytest.raises(ValueError, match="no continuity results"):
        continuity_facts([])


def test_analysis_needs_the_features_of_the_embedding_seed():
    targets, smooth, rough = constructed()
    study = _study(rough, smooth, targets)
    study.embedding_seed = 1
    with pytest.raises(ValueError, match="kept no encoder features"):
        continuity_analysis(study)


def test_data_roots_are_given_per_dataset():
    assert roots_by_dataset(["ukb", "rsna"], None) == {"ukb": None, "rsna": None}
    assert roots_by_dataset(["ukb", "rsna"], {"rsna": "/d/rsna"}) == {
        "ukb": None,
        "rsna": "/d/rsna",
    }
    assert roots_by_dataset(["rsna"], "/d/rsna") == {"rsna": "/d/rsna"}
    with pytest.raises(ValueError, match="one data_root for 2 datasets"):
        roots_by_dataset(["ukb", "rsna"], "/d/rsna")
    with pytest.raises(ValueError, match="names a4, which are not among"):
        roots_by_dataset(["rsna"], {"a4": "/d/a4"})
    with pytest.raises(ValueError, match="compare two methods"):
        run_continuity(["rsna"], baseline="supremix", method="supremix")


def test_summary_names_each_method_by_dataset_and_is_phantom_unless_every_dataset_is_real():
    targets, smooth, rough = constructed()
    studies = {
        "rsna": _study(rough, smooth, targets, kind="real"),
        "ukb": _study(rough, smooth, targets, kind="phantom", dataset="ukb"),
    }
    summary = validate_results(continuity_summary(studies, notes="test"))
    assert set(summary["methods"]) == {
        "Vanilla (rsna)",
        "SupReMix (rsna)",
        "Vanilla (ukb)",
        "SupReMix (ukb)",
    }
    assert summary["data_kind"] == "phantom"
    assert summary["dataset"] == "rsna, ukb"
    assert summary["methods"]["SupReMix (ukb)"]["seeds"] == [0, 1]
    real = validate_results(continuity_summary({"rsna": studies["rsna"]}))
    assert real["data_kind"] == "real"
