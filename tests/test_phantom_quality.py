"""Phantom quality (supremix.phantom_quality): the best MAE against the mean predictor and the
noise floor, computed directly from hand-made predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supremix.data.phantoms import noise_floor
from supremix.experiments.sweep import Variant
from supremix.metrics import regression_metrics
from supremix.phantom_quality import (
    AT_FLOOR,
    LEARNS,
    phantom_quality,
    quality_table,
    study_quality,
)
from supremix.studies import Study, VariantRun
from supremix.train import TrainConfig


def make_study(dataset: str, preds: dict[str, list[list[float]]], targets, train_mean, kind):
    y = np.asarray(targets, dtype=np.float64)
    runs = [
        VariantRun(
            label=method,
            seed=seed,
            metrics=regression_metrics(np.asarray(row, dtype=np.float64), y),
            preds=np.asarray(row, dtype=np.float64),
            features=None,
            seconds=0.1,
        )
        for method, rows in preds.items()
        for seed, row in enumerate(rows)
    ]
    return Study(
        dataset=dataset,
        preset=f"{dataset}-cpu",
        config=TrainConfig(dataset=dataset, epochs=3, warmup_epochs=0),
        data={"name": dataset, "kind": kind, "root": None},
        eval_split="test",
        targets=y,
        ids=[str(i) for i in range(y.size)],
        train_targets=np.array([train_mean]),
        variants=[Variant(method, {"method": method.lower()}) for method in preds],
        embedding_seed=0,
        runs=runs,
    )


def test_study_quality_on_a_phantom_matches_direct_computation():
    targets = [10.0, 20.0, 30.0, 40.0]
    preds = {
        "Vanilla": [[12.0, 18.0, 33.0, 40.0], [10.0, 25.0, 30.0, 41.0]],
        "SupReMix": [[11.0, 20.0, 30.0, 39.0], [10.0, 21.0, 29.0, 40.0]],
    }
    study = make_study("rsna", preds, targets, train_mean=24.0, kind="phantom")
    quality = study_quality(study)
    y = np.asarray(targets)
    per_seed = {m: [np.abs(np.asarray(r) - y).mean() for r in rows] for m, rows in preds.items()}
    expected = {m: float(np.mean(v)) for m, v in per_seed.items()}
    mean_mae = float(np.abs(24.0 - y).mean())
    assert quality.maes == pytest.approx(expected)
    assert quality.best_method == "SupReMix"
    assert quality.mean_predictor_mae == pytest.approx(mean_mae)
    assert quality.noise_floor == noise_floor("rsna")
    assert quality.of_mean == pytest.approx(expected["SupReMix"] / mean_mae)
    assert quality.of_floor == pytest.approx(expected["SupReMix"] / noise_floor("rsna"))
    facts = quality.facts()
    assert (facts["best_method"], facts["best_mae"]) == ("SupReMix", quality.maes["SupReMix"])
    assert facts["of_mean"] == pytest.approx(expected["SupReMix"] / mean_mae)
    assert facts["of_floor"] == pytest.approx(expected["SupReMix"] / noise_floor("rsna"))
    assert facts["goal"] == LEARNS


def test_real_data_has_no_floor():
    study = make_study("rsna", {"Vanilla": [[1.0, 2.0]]}, [1.5, 2.5], train_mean=2.0, kind="real")
    quality = study_quality(study)
    assert quality.noise_floor is None and math.isnan(quality.of_floor)
    assert not quality.all_at_floor
    facts = quality.facts()
    assert facts["verdict"] == "real data"
    assert math.isnan(facts["noise_floor"]) and math.isnan(facts["of_floor"])


@given(
    maes=st.dictionaries(
        st.sampled_from(["Vanilla", "SupCon", "RnC", "SupReMix"]),
        st.floats(0.0, 100.0),
        min_size=1,
    ),
    mean=st.floats(0.01, 100.0),
    floor=st.floats(0.01, 10.0),
)
def test_verdicts_follow_their_definitions(maes, mean, floor):
    quality = phantom_quality("hcp", maes, mean, floor)
    best = min(maes.values())
    assert quality.best_mae == best
    assert quality.learns == (best / mean <= LEARNS)
    assert quality.all_at_floor == (max(maes.values()) <= AT_FLOOR * floor)
    if max(maes.values()) <= AT_FLOOR * floor:
        assert quality.verdict == "cannot tell the methods apart"
    else:
        assert quality.verdict == ("learns" if best / mean <= LEARNS else "learns too little")


def test_bad_inputs_name_the_dataset_and_the_problem():
    with pytest.raises(ValueError, match="ukb: no method MAEs"):
        phantom_quality("ukb", {}, 5.0)
    with pytest.raises(ValueError, match=r"ukb: MAEs must be finite and >= 0, got \{'RnC': nan\}"):
        phantom_quality("ukb", {"RnC": math.nan}, 5.0)
    with pytest.raises(ValueError, match="ukb: the mean predictor's MAE must be finite and > 0"):
        phantom_quality("ukb", {"RnC": 1.0}, 0.0)
    with pytest.raises(ValueError, match="ukb: the noise floor must be finite and >= 0"):
        phantom_quality("ukb", {"RnC": 1.0}, 5.0, -1.0)


def test_quality_table_has_one_row_per_dataset():
    table = quality_table(
        [
            phantom_quality("ukb", {"RnC": 3.0}, 6.0, 1.5),
            phantom_quality("hcp", {"Vanilla": 4.0}, 8.0),
        ]
    )
    assert list(table.index) == ["ukb", "hcp"]
    assert table.loc["ukb", "best / mean predictor"] == 0.5
    assert table.loc["ukb", "best / noise floor"] == 2.0
    assert math.isnan(table.loc["hcp", "best / noise floor"])
