"""The airfoil study: its arms, its tables and tests computed directly from per-run
predictions, its saved runs (reuse, refusal of mismatched runs) and a tiny real run, serial and
in worker processes, on a table written with numpy."""

from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np
import pandas as pd
import pytest
from cli_kit import AIRFOIL_DIR
from scipy import stats

from supremix.experiments.airfoil_arms import (
    PAPER_PROTOCOL,
    STRONG_RECIPE,
    StudySettings,
    paper_arms,
    strong_arms,
    study_arms,
)
from supremix.experiments.airfoil_report import (
    AirfoilStudy,
    load_study,
    outcome,
    provenance_facts,
    study_provenance,
    write_study,
)
from supremix.experiments.airfoil_study import _jobs, load_records, record_path, run_study
from supremix.metrics import regression_metrics
from supremix.paper import paper_results
from supremix.reporting import load_results
from supremix.studies import AIRFOIL_STRONG_BASELINE
from supremix.train import PRESETS

KEYS = {"MAE": "mae", "MSE": "mse", "RMSE": "rmse", "GM": "gm", "rho": "pearson", "R2": "r2"}


# ---------------------------------------------------------------------- arms


def test_arms_are_the_papers_protocol_then_the_strong_recipe_with_three_methods_added_two_ways():
    settings = StudySettings(strong_epochs=80, multitask_weight=0.3)
    arms = study_arms(settings)
    assert len(arms) == 13 and len({a.label for a in arms}) == 13
    paper = [a for a in arms if a.group == PAPER_PROTOCOL]
    assert [a.method for a in paper] == ["vanilla", "simclr", "supcon", "adacon", "rnc", "supremix"]
    assert all(a.overrides == {"method": a.method} for a in paper)
    strong = [a for a in arms if a.group == STRONG_RECIPE]
    for arm in strong:
        assert arm.overrides["lr"] == AIRFOIL_STRONG_BASELINE["lr"]
        assert arm.overrides["epochs"] == 80
        PRESETS["airfoil"].replace(**arm.overrides)  # every override is a valid setting
    finetunes = [a for a in strong if a.way == "fine-tune"]
    multitask = [a for a in strong if a.way == "multi-task"]
    assert sorted(a.method for a in finetunes) == sorted(a.method for a in multitask)
    assert sorted(a.method for a in finetunes) == ["rnc", "supcon", "supremix"]
    assert all(a.overrides["method"] == "vanilla" for a in finetunes)
    assert {a.encoder_from for a in finetunes} <= {a.label for a in paper}
    assert all(a.overrides["protocol"] == "multitask" for a in multitask)
    assert all(a.overrides["gamma_con"] == 0.3 for a in multitask)


def test_settings_from_a_notebooks_parameters_and_its_smoke_run():
    parameters = {"epochs": 10, "probe_epochs": 5, "strong_epochs": 20, "seeds": [2, 0, 1]}
    parameters |= {"multitask_weight": 0.5, "batch_size": None, "workers": 4, "smoke": False}
    settings = StudySettings.from_parameters(parameters)
    assert settings == StudySettings(10, 5, 20, 0.5, None, (2, 0, 1))
    smoke = StudySettings.from_parameters({**parameters, "smoke": True})
    assert smoke == StudySettings(1, 1, 1, 0.5, None, (2,))
    assert StudySettings.from_parameters({}) == StudySettings()
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        StudySettings.from_parameters({**parameters, "epochs": 0})


def test_short_strong_schedules_drop_the_warm_up():
    assert strong_arms(StudySettings(strong_epochs=5))[0].overrides["warmup_epochs"] == 0
    assert strong_arms(StudySettings(strong_epochs=80))[0].overrides["warmup_epochs"] == 2


def test_jobs_put_each_fine_tune_after_its_source_and_skip_saved_runs():
    settings = StudySettings(splits=(3, 1))
    arms = study_arms(settings)
    jobs = _jobs(arms, settings, {("Vanilla", 3)}, run_dir="x", data_root=None, device="cpu")
    assert len(jobs) == 2 * 13 - 1
    # Vanilla and SupReMix arms first, split by split in the settings' order, then the others
    first = [(j.split, j.arm.method) for j in jobs[:9]]
    assert [split for split, _ in first] == [3] * 4 + [1] * 5
    assert {method for _, method in first} == {"vanilla", "supremix"}
    assert [j.split for j in jobs[9:17]] == [3] * 8
    position = {(j.arm.label, j.split): i for i, j in enumerate(jobs)}
    for job in jobs:
        if job.source is not None:
            assert position[(job.source.label, job.split)] < position[(job.arm.label, job.split)]
    with pytest.raises(ValueError, match="need the arms"):
        _jobs(arms[6:], settings, set(), run_dir="x", data_root=None, device="cpu")


# ---------------------------------------------------------------------- tables and tests


def _record(label: str, split: int, preds: np.ndarray, targets: np.ndarray) -> dict:
    metrics = regression_metrics(preds, targets)
    return {
        "arm": label,
        "split": split,
        "metrics": {name: float(metrics[key]) for name, key in KEYS.items()},
        "val_mae": 1.0,
        "preds": preds.tolist(),
        "targets": targets.tolist(),
        "train_mean": 120.0,
        "seconds": 1.0,
        "data_kind": "real",
    }


def _study(noise: dict[str, float], splits=(0, 1, 2, 3), seed: int = 0) -> AirfoilStudy:
    """Arms whose predictions err by about ``noise[label]`` dB, on random targets."""
    rng = np.random.default_rng(seed)
    settings = StudySettings(splits=splits)
    arms = [a for a in study_arms(settings) if a.label in noise]
    records = []
    for split in splits:
        targets = rng.uniform(103, 141, 20)
        for arm in arms:
            preds = targets + rng.normal(0, noise[arm.label], targets.size)
            records.append(_record(arm.label, split, preds, targets))
    return AirfoilStudy(settings=settings, arms=arms, records=records)


NOISE = {"Vanilla": 3.0, "SupCon": 4.0, "SupReMix": 2.5, "Vanilla (strong)": 1.5}


def _direct_mae(record: dict) -> float:
    pairs = zip(record["preds"], record["targets"], strict=True)
    return sum(abs(p - t) for p, t in pairs) / len(record["preds"])


def test_table_is_the_mean_and_sample_sd_over_splits_of_each_runs_mae():
    study = _study(NOISE)
    table = study.table()
    for label in NOISE:
        maes = [_direct_mae(r) for r in study.records if r["arm"] == label]
        assert table.loc[label, "MAE"] == pytest.approx(np.mean(maes))
        assert table.loc[label, "MAE std"] == pytest.approx(np.std(maes, ddof=1))
    targets = [r["targets"] for r in study.records if r["arm"] == "Vanilla"]
    floor = [np.mean(np.abs(np.array(t) - 120.0)) for t in targets]
    assert table.loc["Training mean", "MAE"] == pytest.approx(np.mean(floor))


def test_paired_by_split_is_scipys_paired_t_test_against_the_strongest_baseline():
    study = _study(NOISE)
    frame = study.paired_by_split()
    assert "Vanilla (strong)" not in frame.index  # the strongest baseline is the reference
    assert "MAE Vanilla (strong)" in frame.columns
    ours = [_direct_mae(r) for r in study.records if r["arm"] == "Vanilla (strong)"]
    theirs = [_direct_mae(r) for r in study.records if r["arm"] == "SupReMix"]
    expected = stats.ttest_rel(theirs, ours)
    assert frame.loc["SupReMix", "t"] == pytest.approx(expected.statistic)
    assert frame.loc["SupReMix", "p"] == pytest.approx(expected.pvalue)
    assert frame.loc["SupReMix", "difference"] == pytest.approx(np.mean(theirs) - np.mean(ours))
    won = sum(t < o for t, o in zip(theirs, ours, strict=True))
    assert frame.loc["SupReMix", "splits won"] == f"{won} of 4"


def test_the_strongest_baseline_never_uses_supremix():
    study = _study({**NOISE, "SupReMix": 0.5})
    assert study.strongest(study.baselines()) == "Vanilla (strong)"
    assert study.strongest(study.baselines(PAPER_PROTOCOL)) == "Vanilla"


def test_verdicts_also_set_supremix_added_to_the_strong_recipe_against_its_plain_vanilla():
    noise = {"Vanilla": 3.0, "SupCon → fine-tune (strong)": 0.5, "Vanilla (strong)": 2.0}
    study = _study({**noise, "L1 + SupReMix (strong)": 1.0})
    verdicts = study.verdicts()
    assert list(verdicts.index) == [
        ("(ii) whole study", "L1 + SupReMix (strong)"),
        ("added to the strong recipe", "L1 + SupReMix (strong)"),
    ]
    assert list(verdicts["against"]) == ["SupCon → fine-tune (strong)", "Vanilla (strong)"]
    plain = study.paired_by_split("Vanilla (strong)").loc["L1 + SupReMix (strong)"]
    row = verdicts.loc[("added to the strong recipe", "L1 + SupReMix (strong)")]
    assert (row["difference"], row["p"], row["splits won"]) == (
        plain["difference"],
        plain["p"],
        plain["splits won"],
    )
    facts = study.verdict_facts()
    assert (facts["strongest"], facts["paper_baseline"]) == (
        "SupCon → fine-tune (strong)",
        "Vanilla",
    )
    assert (facts["supremix_outcome"], facts["not_run"]) == ("not run", "none")
    assert math.isnan(facts["supremix_p"])


def test_verdicts_follow_the_numbers_either_way():
    better = _study({"Vanilla": 3.0, "SupReMix": 1.0, "Vanilla (strong)": 2.0})
    facts = better.verdict_facts()
    paired = better.paired_by_split("Vanilla").loc["SupReMix"]
    assert paired["difference"] < 0 and paired["p"] < 0.05
    assert facts["supremix_outcome"] == "beats it"
    assert (facts["supremix_difference"], facts["supremix_p"]) == (
        paired["difference"],
        paired["p"],
    )
    worse = _study({"Vanilla": 1.0, "SupReMix": 3.0, "Vanilla (strong)": 0.5})
    assert set(worse.verdicts()["outcome"]) == {"significantly higher"}


def test_outcome_needs_two_common_splits_and_a_significant_difference_to_beat():
    assert outcome(-1.0, 0.01, 1) == "no paired test yet"
    assert outcome(-1.0, 0.01, 3) == "beats it"
    assert outcome(-1.0, 0.2, 3) == "lower, not significantly"
    assert outcome(-1.0, math.nan, 3) == "lower, not significantly"
    assert outcome(1.0, 0.01, 3) == "significantly higher"
    assert outcome(1.0, 0.2, 3) == "does not beat it"


def test_a_study_with_a_missing_run_is_partial_and_pairs_the_common_splits():
    study = _study(NOISE)
    study.records = [r for r in study.records if (r["arm"], r["split"]) != ("SupCon", 2)]
    assert study.complete_splits == [0, 1, 3] and not study.complete
    runs = study.table()["runs"]
    assert runs["SupCon"] == 3 and runs["SupReMix"] == 4
    frame = study.paired_by_split("Vanilla")
    assert frame.loc["SupCon", "splits"] == 3 and frame.loc["SupReMix", "splits"] == 4
    theirs = [_direct_mae(r) for r in study.records if r["arm"] == "SupCon"]
    ours = [_direct_mae(r) for r in study.records if r["arm"] == "Vanilla" and r["split"] != 2]
    assert frame.loc["SupCon", "p"] == pytest.approx(stats.ttest_rel(theirs, ours).pvalue)
    facts = study.facts()
    assert (facts["status"], facts["runs"], facts["expected"]) == ("partial", 15, 16)
    assert (facts["arms"], facts["splits"]) == (4, 4)
    assert (facts["runs_per_arm_fewest"], facts["runs_per_arm_most"]) == (3, 4)
    assert (facts["schedule"], facts["epochs"], facts["probe_epochs"]) == (
        "the paper's schedule",
        200,
        100,
    )
    study.records = [r for r in study.records if r["arm"] != "SupCon"]
    assert "SupCon" not in study.paired_by_split("Vanilla").index
    assert study.verdict_facts()["not_run"] == "SupCon"


def test_facts_set_table_5_beside_the_strong_baseline_of_this_study():
    study = _study(NOISE)
    paper = paper_results("mixup-pairs", table="Table 5", dataset="airfoil", metric="MAE")
    paper = paper.set_index("method")["value"]
    strong = [_direct_mae(r) for r in study.records if r["arm"] == "Vanilla (strong)"]
    facts = study.facts()
    assert facts["status"] == "complete"
    assert (facts["paper_vanilla"], facts["paper_supremix"]) == (
        paper["Vanilla"],
        paper["SupReMix"],
    )
    assert facts["strong_mae"] == pytest.approx(np.mean(strong))
    assert facts["paper_ratio"] == pytest.approx(paper["SupReMix"] / np.mean(strong))
    short = AirfoilStudy(
        settings=StudySettings(epochs=10, probe_epochs=10, splits=(0,)),
        arms=study.arms,
        records=[],
    )
    facts = short.facts()
    assert (facts["schedule"], facts["status"], facts["runs"]) == ("a short schedule", "partial", 0)
    assert math.isnan(facts["strong_mae"]) and math.isnan(facts["paper_ratio"])


def test_the_strongest_baseline_is_chosen_among_the_arms_with_the_most_runs():
    study = _study({**NOISE, "SupCon": 0.1})
    study.records = [r for r in study.records if r["arm"] != "SupCon" or r["split"] == 0]
    assert study.strongest(study.baselines()) == "Vanilla (strong)"


def test_written_study_loads_back_with_a_valid_results_file(tmp_path):
    study = _study(NOISE)
    paths = write_study(study, tmp_path, notes="test", provenance={"machine": {"cores": 2}})
    summary = load_results(paths["results"])
    assert summary["methods"]["SupReMix"]["seeds"] == [0, 1, 2, 3]
    maes = [_direct_mae(r) for r in study.records if r["arm"] == "SupReMix"]
    assert summary["methods"]["SupReMix"]["metrics"]["MAE"]["runs"] == pytest.approx(maes)
    loaded, provenance = load_study(tmp_path)
    assert provenance == {"machine": {"cores": 2}}
    # predictions and labels are kept to 1e-4 dB, metrics exactly
    pd.testing.assert_frame_equal(loaded.table(), study.table(), rtol=1e-5)
    assert loaded.table().loc["SupReMix", "MAE"] == study.table().loc["SupReMix", "MAE"]


# ---------------------------------------------------------------------- real runs


@pytest.fixture
def airfoil_table():
    """The real UCI airfoil file (the loader refuses any other table: its rows are checked
    against UCI's)."""
    if not (AIRFOIL_DIR / "airfoil_self_noise.dat").is_file():
        pytest.skip("the UCI airfoil file is not available (set SUPREMIX_DATA)")
    return AIRFOIL_DIR


TINY = StudySettings(epochs=2, probe_epochs=1, strong_epochs=1, splits=(0,))


def _tiny_arms():
    return [*paper_arms(["vanilla", "supremix"]), *strong_arms(TINY, ["supremix"])]


@pytest.mark.slow
def test_a_tiny_study_saves_each_run_and_a_second_call_trains_nothing(airfoil_table, tmp_path):
    logs: list[str] = []
    run_dir = tmp_path / "runs"
    study = run_study(
        TINY, run_dir=run_dir, arms=_tiny_arms(), data_root=airfoil_table, log=logs.append
    )
    assert study.complete and len(study.records) == 5
    assert len(list((run_dir / "records").glob("*.json"))) == 5
    record = next(r for r in study.records if r["arm"] == "SupReMix → fine-tune (strong)")
    assert len(record["preds"]) == 150 and record["n_train"] == 1203
    assert record["metrics"]["MAE"] == pytest.approx(_direct_mae(record), rel=1e-5)

    logs.clear()
    again = run_study(
        TINY, run_dir=run_dir, arms=_tiny_arms(), data_root=airfoil_table, log=logs.append
    )
    assert logs == [] and again.table().equals(study.table())

    # A fine-tune whose pretrained encoder is gone retrains it first, to the same weights.
    path = record_path(run_dir, _tiny_arms()[3], 0)
    before = json.loads(path.read_text())
    path.unlink()
    for checkpoint in (run_dir / "checkpoints").rglob("best.pt"):
        checkpoint.unlink()
    run_study(TINY, run_dir=run_dir, arms=_tiny_arms(), data_root=airfoil_table, log=logs.append)
    after = json.loads(path.read_text())
    assert after["preds"] == pytest.approx(before["preds"], abs=1e-4)


def test_runs_saved_with_other_settings_are_refused_and_left_alone(airfoil_table, tmp_path):
    arms = paper_arms(["vanilla"])
    run_study(TINY, run_dir=tmp_path / "r", arms=arms, data_root=airfoil_table, log=print)
    path = record_path(tmp_path / "r", arms[0], 0)
    content = path.read_bytes()
    longer = StudySettings(epochs=3, probe_epochs=1, strong_epochs=1, splits=(0,))
    with pytest.raises(ValueError, match=r"trained with settings .* choose another run_dir"):
        load_records(tmp_path / "r", arms, longer)
    assert path.read_bytes() == content


@pytest.mark.slow
def test_worker_processes_give_the_serial_runs(airfoil_table, tmp_path):
    settings = StudySettings(epochs=1, probe_epochs=1, strong_epochs=1, splits=(0,))
    arms = [*paper_arms(["rnc"]), *strong_arms(settings, ["rnc"])]
    kwargs = {"arms": arms, "data_root": airfoil_table, "log": print}
    serial = run_study(settings, run_dir=tmp_path / "serial", **kwargs)
    parallel = run_study(settings, run_dir=tmp_path / "parallel", workers=2, **kwargs)
    for label in [a.label for a in arms]:
        a = next(r for r in serial.records if r["arm"] == label)
        b = next(r for r in parallel.records if r["arm"] == label)
        assert b["preds"] == pytest.approx(a["preds"], abs=1e-4), label
    assert not math.isnan(parallel.table().loc["Vanilla (strong)", "MAE"])


def test_provenance_names_the_data_checksum_the_machine_and_the_span_of_the_runs(tmp_path):
    study = _study(NOISE)
    study.records = [r for r in study.records if (r["arm"], r["split"]) != ("SupCon", 2)]
    for index, record in enumerate(study.records):
        record["finished_unix"] = 1000.0 + 10 * index
        record["seconds"] = 5.0
    data = tmp_path / "airfoil_self_noise.dat"
    data.write_bytes(b"800\t0\t0.3048\t71.3\t0.00266337\t126.201\n")
    provenance = study_provenance(study, data_file=data, device="cpu")
    assert provenance["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert provenance["machine"]["cores"] == os.cpu_count()
    assert provenance["runs"] == {
        "held": 15,
        "expected": 16,
        "complete_splits": [0, 1, 3],
        "partial": True,
    }
    assert provenance["recording_span_s"] == 10 * 14 + 5.0
    facts = provenance_facts(provenance)
    assert facts["span_min"] == pytest.approx((10 * 14 + 5.0) / 60)
    assert facts["training_min"] == pytest.approx(15 * 5.0 / 60)
    assert facts["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()[:16]
    assert (facts["data_file"], facts["cores"]) == ("airfoil_self_noise.dat", os.cpu_count())
    assert facts["changes"] in ("clean", "with uncommitted changes")
