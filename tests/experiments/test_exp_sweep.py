"""Sweeps: tables computed from the runs' predictions, the paper's numbers matched to each
variant, subsets of the evaluation items, and a smoke-scale run on a phantom."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.data.label_ops import subsample
from supremix.experiments import PaperRow, Sweep, Variant, VariantRun, run_sweep
from supremix.experiments.run_facts import sweeps_facts
from supremix.paper import paper_results
from supremix.reporting import validate_results
from supremix.train import TrainConfig

TABLE_10 = [
    Variant("narrow", {"window": 1.0}, PaperRow("SupReMix", "γ=1")),
    Variant("paper's", {"window": 5.0}, PaperRow("SupReMix", "γ=5")),
    Variant("unbounded", {"window": math.inf}, PaperRow("SupReMix", "γ=∞")),
]


def _sweep(preds: dict[tuple[str, int], np.ndarray], targets: np.ndarray, variants=TABLE_10):
    sweep = Sweep(
        dataset="rsna",
        preset="rsna-cpu",
        config=TrainConfig(dataset="rsna"),
        data={"kind": "phantom", "root": None},
        eval_split="test",
        targets=targets,
        train_targets=np.linspace(0.0, 20.0, 11),
        variants=list(variants),
    )
    for (label, seed), pred in preds.items():
        sweep.runs.append(VariantRun(label, seed, {}, pred, None, 0.0, 10))
    return sweep


def _direct_mae(pred: np.ndarray, target: np.ndarray) -> float:
    return sum(abs(p - t) for p, t in zip(pred.tolist(), target.tolist(), strict=True)) / len(pred)


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.floats(-50, 50, allow_nan=False), min_size=3 * 2 * 5, max_size=3 * 2 * 5),
    targets=st.lists(st.floats(0, 20, allow_nan=False), min_size=5, max_size=5),
)
def test_table_is_the_mean_and_sample_sd_over_seeds_of_each_runs_metric(values, targets):
    targets = np.array(targets)
    chunks = iter(np.array(values).reshape(6, 5))
    preds = {(v.label, seed): next(chunks) for v in TABLE_10 for seed in (0, 1)}
    table = _sweep(preds, targets).table(["MAE"])
    assert list(table.index) == [v.label for v in TABLE_10]
    for variant in TABLE_10:
        maes = [_direct_mae(preds[(variant.label, s)], targets) for s in (0, 1)]
        assert table.loc[variant.label, "MAE"] == pytest.approx(np.mean(maes), abs=1e-9)
        spread = abs(maes[0] - maes[1]) / math.sqrt(2)
        assert table.loc[variant.label, "MAE std"] == pytest.approx(spread, abs=1e-9)


def test_beside_paper_puts_each_variants_own_paper_row_next_to_it():
    targets = np.array([1.0, 4.0, 9.0, 16.0])
    preds = {(v.label, 0): targets + i + 1 for i, v in enumerate(TABLE_10)}
    frame = _sweep(preds, targets).beside_paper("supremix", "Table 10")
    paper = paper_results("supremix", table="Table 10", dataset="rsna").set_index("setting")[
        "value"
    ]
    column = "paper (the SupReMix paper, Table 10)"
    assert frame.loc[("narrow", "MAE"), column] == paper["γ=1"]
    assert frame.loc[("unbounded", "MAE"), column] == paper["γ=∞"]
    assert frame.loc[("paper's", "MAE"), "this run (phantom)"] == pytest.approx(2.0)
    assert frame.loc[("Training mean", "MAE"), "this run (phantom)"] == pytest.approx(
        _direct_mae(np.full(4, 10.0), targets)
    )
    assert np.isnan(frame.loc[("Training mean", "MAE"), column])


def test_subsets_give_metrics_of_exactly_their_items():
    targets = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    pred = np.array([0.0, 3.0, 2.0, 0.0, 4.0, 9.0])
    sweep = _sweep({("narrow", 0): pred}, targets, TABLE_10[:1])
    masks = {"low": targets < 2, "high": targets >= 2}
    table = sweep.table(["MAE"], subsets=masks)
    assert table.loc[("narrow", "low"), "MAE"] == pytest.approx(_direct_mae(pred[:2], targets[:2]))
    assert table.loc[("narrow", "high"), "MAE"] == pytest.approx(_direct_mae(pred[2:], targets[2:]))
    frame = sweep.metrics_frame(masks)
    assert frame.set_index("subset")["items"].to_dict() == {"low": 2, "high": 4}


def test_bad_subsets_and_paper_rows_are_named():
    targets = np.arange(4.0)
    sweep = _sweep({("narrow", 0): targets}, targets, TABLE_10[:1])
    with pytest.raises(ValueError, match=r"subset 'x': mask of shape \(3,\)"):
        sweep.table(["MAE"], subsets={"x": [True, False, True]})
    with pytest.raises(ValueError, match="subset 'none' holds no evaluation item"):
        sweep.table(["MAE"], subsets={"none": np.zeros(4, bool)})
    with pytest.raises(ValueError, match=r"unknown metrics \['mae'\]"):
        sweep.table(["mae"])
    wrong = Variant("wrong", {}, PaperRow("SupReMix", "γ=7"))
    with pytest.raises(
        ValueError, match="variant 'wrong': the SupReMix paper, Table 10 has no row"
    ):
        _sweep({}, targets, [wrong]).paper_numbers("supremix", "Table 10")
    with pytest.raises(KeyError, match="no variant 'other'"):
        sweep.variant_runs("other")


def test_summary_is_a_valid_results_file_with_one_method_per_variant():
    targets = np.array([1.0, 2.0, 3.0])
    sweep = _sweep({}, targets, TABLE_10[:2])
    for seed in (0, 1):
        for variant in TABLE_10[:2]:
            metrics = {"mae": 1.0 + seed, "pearson": math.nan if seed else 0.5}
            sweep.runs.append(VariantRun(variant.label, seed, metrics, targets, None, 0.0, 3))
    summary = validate_results(sweep.summary(experiment="ablation_window"))
    assert set(summary["methods"]) == {"narrow", "paper's"}
    assert set(summary["methods"]["narrow"]["metrics"]) == {"MAE"}  # NaN in a seed: left out
    assert summary["provenance"]["experiment"] == "ablation_window"


def test_data_banner_names_the_sweeps_dataset_data_kind_and_folder():
    sweep = _sweep({}, np.arange(3.0))
    assert sweep.data_banner().startswith("**Data: phantom.** A synthetic stand-in for RSNA-BAA")
    sweep.data = {"kind": "real", "root": "/data/rsna"}
    assert sweep.data_banner() == (
        "**Data: real.** RSNA-BAA (hand X-ray, bone age) from `/data/rsna`, in its official layout."
    )


def test_sweeps_facts_give_one_row_of_each_sweeps_facts_from_its_predictions():
    targets = np.array([2.0, 5.0, 9.0, 14.0])
    rng = np.random.default_rng(3)
    sweeps = {}
    for name, scale in (("small errors", 1.0), ("large errors", 4.0)):
        preds = {(v.label, s): targets + rng.normal(0, scale, 4) for v in TABLE_10 for s in (0, 1)}
        sweeps[name] = (_sweep(preds, targets), preds)
    table = sweeps_facts({name: sweep for name, (sweep, _) in sweeps.items()})
    assert list(table.index) == ["small errors", "large errors"]
    floor = _direct_mae(np.full(4, 10.0), targets)  # the training labels' mean is 10
    for name, (_, preds) in sweeps.items():
        maes = {
            v.label: [_direct_mae(preds[(v.label, s)], targets) for s in (0, 1)] for v in TABLE_10
        }
        means = {label: float(np.mean(m)) for label, m in maes.items()}
        best = min(means, key=means.get)
        row = table.loc[name]
        assert row["best"] == best and row["best_value"] == pytest.approx(means[best])
        assert row["lowest"] == pytest.approx(min(means.values()))
        assert row["highest"] == pytest.approx(max(means.values()))
        assert row["best_sd"] == pytest.approx(np.std(maes[best], ddof=1))
        assert row["sd_highest"] == pytest.approx(max(np.std(m, ddof=1) for m in maes.values()))
        assert row["mean_predictor"] == pytest.approx(floor)
        assert (row["data"], row["seeds"], row["items"], row["variants"]) == ("phantom", 2, 4, 3)


def test_run_sweep_trains_each_variant_with_its_settings_and_training_items(tmp_path):
    variants = [
        Variant("all items", {"window": 2.0}),
        Variant("half", {"window": math.inf}, train_subset=lambda d, s: subsample(d, 36, seed=s)),
    ]
    sweep = run_sweep("ukb", variants, seeds=[3, 4], smoke=True, device="cpu", out_dir=tmp_path)
    assert [(r.label, r.seed) for r in sweep.runs] == [("all items", 3), ("half", 3)]
    assert sweep.runs[1].n_train == 36 < sweep.runs[0].n_train == sweep.train_targets.size
    for index, window in enumerate([2.0, None]):  # strict JSON writes infinity as null
        results = json.loads((tmp_path / f"variant{index}-seed3" / "results.json").read_text())
        assert results["config"]["window"] == window
        assert results["dataset"]["n_train"] == sweep.runs[index].n_train
    table = sweep.table(["MAE"])
    assert isinstance(table, pd.DataFrame) and table["MAE"].notna().all()
    settings = sweep.settings_table()["value"]
    assert settings["window"] == "per variant (below)"
    assert settings["variant half"] == "window=inf; training items: 36"
    assert settings["method"] == "supremix"
    assert sweep.runs[0].preds.shape == sweep.targets.shape


def test_run_sweep_refuses_bad_variants_before_training():
    with pytest.raises(ValueError, match="unknown TrainConfig fields: windw"):
        run_sweep("ukb", [Variant("typo", {"windw": 1.0})], smoke=True, device="cpu")
    with pytest.raises(ValueError, match="variant labels must be distinct"):
        run_sweep("ukb", [Variant("a"), Variant("a")], smoke=True, device="cpu")


def test_a_withheld_split_is_named_when_asked_for():
    from supremix.experiments.session import StudySplits

    data = StudySplits({"train": None, "val": None, "test": None}, {"name": "rhpe"}, "val")
    with pytest.raises(ValueError, match="rhpe: the test split is withheld"):
        data.split("test")
    with pytest.raises(ValueError, match="rhpe: the train split is withheld"):
        data.targets("train")
