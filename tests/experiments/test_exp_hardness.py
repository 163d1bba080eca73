"""Logit hardness over training (the SupReMix paper, §5.1.2, Fig. 4): the recorder's per-epoch
values against a direct computation from the embeddings a real run showed it, the held-out ridge ρ
against scikit-learn, the paper's share of hardest negatives, the study's tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from representation_kit import toy_config, toy_splits
from sklearn.linear_model import Ridge

from supremix.experiments.hardness import (
    EpochHardnessRecorder,
    HardnessRun,
    HardnessStudy,
    cross_fitted_pearson,
    hard_negative_count,
    hardness_figure,
    track_hardness,
)
from supremix.experiments.settings import RunSettings
from supremix.reporting import validate_results
from supremix.train import TrainConfig, train


class RawLog:
    """Keeps every observed batch and which contrastive epoch it belongs to."""

    def __init__(self):
        self.epochs: list[list[tuple[np.ndarray, np.ndarray]]] = [[]]
        self.stages: list[str] = []

    def observe(self, z, y):
        self.epochs[-1].append((z.numpy().astype(float), y.numpy().astype(float)))

    def close(self, row):
        self.stages.append(row["stage"])
        if row["stage"] == "pretrain":
            self.epochs.append([])


def direct_epoch(batches, k):
    positives, hardest = [], []
    for z, y in batches:
        unit = [row / math.sqrt(sum(v * v for v in row)) for row in z]
        negatives = []
        for i in range(len(y)):
            for j in range(i + 1, len(y)):
                logit = sum(a * b for a, b in zip(unit[i], unit[j], strict=True))
                (positives if y[i] == y[j] else negatives).append(logit)
        hardest.extend(sorted(negatives, reverse=True)[:k])
    return sum(positives) / len(positives), sum(hardest) / len(hardest), len(positives)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["supremix", "supcon"])
def test_recorder_epoch_values_equal_a_direct_computation_from_the_observed_embeddings(
    tmp_path, method
):
    recorder, raw = EpochHardnessRecorder(n_hard_negatives=7), RawLog()
    train(
        toy_config(method=method, epochs=3, probe_epochs=2),
        **toy_splits(),
        out_dir=tmp_path,
        callbacks=[recorder.close_epoch, raw.close],
        batch_observers=[recorder.observe, raw.observe],
    )
    frame = recorder.frame()
    assert raw.stages == ["pretrain"] * 3 + ["probe"] * 2
    assert list(frame["epoch"]) == [1, 2, 3]  # probe epochs are not contrastive
    for row, batches in zip(frame.itertuples(), raw.epochs[:3], strict=True):
        positive, hard, n_positive = direct_epoch(batches, 7)
        assert row.positive == pytest.approx(positive, abs=1e-6)  # float32 logits
        assert row.hard_negative == pytest.approx(hard, abs=1e-6)
        assert row.n_positive == n_positive
        assert row.n_hard_negative == 7 * len(batches)
        zs, ys = [z for z, _ in batches], [y for _, y in batches]
        assert row.probe_rho == pytest.approx(cross_fitted_pearson(zs, ys), abs=1e-12)


def test_recorder_takes_the_papers_share_of_the_first_batchs_pairs_when_no_count_is_given():
    recorder = EpochHardnessRecorder()
    recorder.observe(torch.randn(16, 4), torch.arange(16.0))
    assert recorder.n_hard_negatives == hard_negative_count(16)
    assert recorder.n_hard_negatives == round(1000 / 32640 * 120)


def test_closing_an_epoch_without_observed_batches_says_how_to_wire_the_recorder():
    with pytest.raises(RuntimeError, match="batch_observers"):
        EpochHardnessRecorder().close_epoch({"stage": "pretrain", "epoch": 1})
    EpochHardnessRecorder().close_epoch({"stage": "probe", "epoch": 1})  # ignored


def test_paper_batch_gives_the_papers_thousand_hardest_negatives():
    assert hard_negative_count(256) == 1000
    assert hard_negative_count(2) == 1
    counts = [hard_negative_count(rows) for rows in range(2, 300, 7)]
    assert counts == sorted(counts)
    with pytest.raises(ValueError, match="at least 2 rows"):
        hard_negative_count(1)


def sklearn_cross_fit(batches_z, batches_y, alpha):
    folds = [(np.concatenate(batches_z[s::2]), np.concatenate(batches_y[s::2])) for s in (0, 1)]
    preds, truth = [], []
    for fit, held in ((folds[0], folds[1]), (folds[1], folds[0])):
        model = Ridge(alpha=alpha).fit(*fit)
        preds.append(model.predict(held[0]))
        truth.append(held[1])
    return float(np.corrcoef(np.concatenate(preds), np.concatenate(truth))[0, 1])


@settings(max_examples=25, deadline=None)
@given(
    batches=st.integers(2, 6),
    rows=st.integers(3, 9),
    dim=st.integers(1, 6),
    alpha=st.sampled_from([1e-2, 1.0]),
    seed=st.integers(0, 10_000),
)
def test_cross_fitted_pearson_matches_scikit_learn_ridge_on_even_and_odd_batches(
    batches, rows, dim, alpha, seed
):
    rng = np.random.default_rng(seed)
    zs = [rng.normal(size=(rows, dim)) for _ in range(batches)]
    ys = [z @ rng.normal(size=dim) + rng.normal(size=rows) for z in zs]
    expected = sklearn_cross_fit(zs, ys, alpha)
    assert cross_fitted_pearson(zs, ys, alpha=alpha) == pytest.approx(expected, abs=1e-7)


def test_cross_fitted_pearson_is_undefined_with_one_batch():
    assert math.isnan(cross_fitted_pearson([np.ones((4, 2))], [np.arange(4.0)]))


def _study(curves_by_run: dict[tuple[str, int], list[float]]) -> HardnessStudy:
    study = HardnessStudy(
        dataset="rsna",
        preset="rsna-cpu",
        config=TrainConfig(dataset="rsna", epochs=4, warmup_epochs=0),
        data={"kind": "phantom"},
        eval_split="test",
        n_hard_negatives=15,
    )
    for (method, seed), positive in curves_by_run.items():
        curves = pd.DataFrame(
            {
                "epoch": np.arange(1, len(positive) + 1),
                "positive": positive,
                "hard_negative": np.asarray(positive) / 2,
                "probe_rho": np.linspace(0, 0.5, len(positive)),
            }
        )
        study.runs.append(HardnessRun(method, seed, curves, {"mae": 1.0 + seed, "pearson": 0.5}, 0))
    return study


def test_table_reads_the_curves_at_the_first_middle_and_last_epoch_averaged_over_seeds():
    study = _study(
        {
            ("SupCon", 0): [0.5, 0.9, 0.95, 0.96],
            ("SupCon", 1): [0.3, 0.7, 0.75, 0.76],
            ("SupReMix", 0): [0.2, 0.3, 0.5, 0.8],
        }
    )
    table = study.table()
    assert table.loc["SupCon", "positive epoch 2"] == pytest.approx(0.8)
    assert table.loc["SupCon", "positive gain, 2nd half"] == pytest.approx(0.86 - 0.8)
    assert table.loc["SupReMix", "positive gain, 2nd half"] == pytest.approx(0.5)
    assert table.loc["SupReMix", "hard_negative epoch 4"] == pytest.approx(0.4)
    assert table.loc["SupCon", "test MAE"] == pytest.approx(1.5)
    summary = validate_results(study.summary(notes="test"))
    runs = summary["methods"]["SupCon"]["metrics"]["positive logit, last epoch"]["runs"]
    assert runs == pytest.approx([0.96, 0.76])
    provenance = summary["provenance"]
    assert provenance["experiment"] == "hardness"
    assert provenance["hard_negatives"] == 15
    assert (provenance["preset"], provenance["eval_split"], provenance["epochs"]) == (
        "rsna-cpu",
        "test",
        4,
    )
    assert provenance["smoke"] is False
    assert isinstance(hardness_figure(study), Figure)
    facts = study.facts()
    # positive logit at epoch 4, means over seeds: SupCon (0.96 + 0.76) / 2, SupReMix 0.8
    assert (facts["highest_positive"], facts["highest_positive_value"]) == ("SupCon", 0.86)
    assert (facts["epochs"], facts["middle"], facts["methods"]) == (4, 2, 2)
    assert facts["largest_gain"] == "SupReMix"
    assert facts["largest_gain_value"] == pytest.approx(0.8 - 0.3)
    assert facts["smallest_gain"] == "SupCon"
    assert facts["smallest_gain_value"] == pytest.approx(0.86 - 0.8)
    assert (facts["hardest_negatives"], facts["hardest_negatives_value"]) == ("SupCon", 0.43)
    assert (facts["lowest_mae"], facts["lowest_mae_value"]) == ("SupReMix", 1.0)


def test_track_hardness_refuses_a_method_without_a_contrastive_loss():
    with pytest.raises(
        ValueError, match=r"unknown or no contrastive methods \['vanilla'\]; expected some of"
    ):
        track_hardness("rsna", methods=["vanilla"])


def test_real_data_tracks_the_papers_100_epochs_by_default(monkeypatch):
    import supremix.experiments.hardness as hardness

    assert hardness.hardness_epochs(None, "/data/rsna") == 100
    assert hardness.hardness_epochs(None, None) == hardness.PHANTOM_EPOCHS
    assert hardness.hardness_epochs(7, "/data/rsna") == 7
    seen = []

    def stop(config, data_root, memory_cache):
        seen.append(config.epochs)
        raise RuntimeError("stop before opening data")

    monkeypatch.setattr(hardness, "open_study_splits", stop)
    for fields, epochs in (
        ({"data_root": "/data/rsna"}, 100),
        ({"data_root": "/data/rsna", "epochs": 7}, 7),
        ({}, hardness.PHANTOM_EPOCHS),
        ({"smoke": True}, 1),
    ):
        with pytest.raises(RuntimeError, match="stop before"):
            hardness.track_hardness(settings=RunSettings(**fields))
        assert seen.pop() == epochs, fields


def test_a_tracked_run_records_each_pretraining_epoch_and_probes_the_eval_split():
    from supremix.experiments.hardness import track_hardness

    settings = RunSettings(epochs=2, probe_epochs=1, overrides={"phantom_n": 64})
    study = track_hardness("rsna", methods=["supcon"], seeds=[3], settings=settings)
    (run,) = study.runs
    assert (run.method, run.seed) == ("SupCon", 3)
    assert list(run.curves["epoch"]) == [1, 2]  # the probe's epochs are not contrastive
    assert (run.curves["n_positive"] > 0).all() and (run.curves["n_hard_negative"] > 0).all()
    assert study.n_hard_negatives is not None and study.n_hard_negatives >= 1
    assert set(run.metrics) >= {"mae", "pearson"} and math.isfinite(run.metrics["mae"])
