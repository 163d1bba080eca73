"""Method comparisons (supremix.studies): settings, the papers' sources, per-item views, runs."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from supremix.data.base import RegressionDataset
from supremix.data.cache import InMemoryDataset
from supremix.experiments.session import torch_threads
from supremix.experiments.sweep import Sweep, Variant, run_folder
from supremix.metrics import regression_metrics
from supremix.paper import paper_name, paper_results
from supremix.studies import (
    PAPER_SOURCES,
    PHANTOM_SETTINGS,
    SHOWN_METRICS,
    SMOKE_SETTINGS,
    Study,
    VariantRun,
    compare_methods,
    default_methods,
    method_variants,
    paper_coverage,
    paper_reference,
    resolve_preset,
    study_config,
)
from supremix.train import PRESETS, TrainConfig, get_preset

AIRFOIL_DIR = Path(
    os.environ.get("SUPREMIX_DATA") or Path(__file__).resolve().parents[1].parent / "shared/data"
)
needs_airfoil = pytest.mark.skipif(
    not (AIRFOIL_DIR / "airfoil_self_noise.dat").is_file(),
    reason="the UCI airfoil file is not available (set SUPREMIX_DATA)",
)
DATASETS = ("ukb", "hcp", "rsna", "rhpe", "echonet", "a4", "airfoil", "agedb", "imdbwiki")


# ---------------------------------------------------------------------- settings


def test_without_data_root_the_cpu_preset_gets_the_book_phantom_settings():
    name, config = study_config("rsna")
    assert name == "rsna-cpu"
    expected = get_preset("rsna-cpu", **PHANTOM_SETTINGS["rsna"], progress=False)
    assert config == expected


@pytest.mark.parametrize("dataset", [d for d in DATASETS if d != "airfoil"])
def test_with_a_data_root_the_default_is_the_papers_preset_unchanged(dataset):
    name, config = study_config(dataset, data_root="/data/x")
    assert name == dataset
    assert config == PRESETS[dataset].replace(progress=False)


def test_paper_protocol_with_explicit_epochs_keeps_everything_else():
    _, config = study_config("rsna", data_root="/data/rsna", epochs=200)
    paper = PRESETS["rsna"]
    assert (config.epochs, config.probe_epochs, config.batch_size) == (200, 100, 128)
    assert (config.temperature, config.window, config.encoder) == (
        paper.temperature,
        paper.window,
        paper.encoder,
    )


def test_precedence_preset_then_overrides_then_explicit_arguments():
    _, config = study_config(
        "ukb", overrides={"epochs": 7, "lr": 0.01, "batch_size": 8}, batch_size=16
    )
    assert (config.epochs, config.lr, config.batch_size) == (7, 0.01, 16)
    assert config.phantom_n == PHANTOM_SETTINGS["ukb"]["phantom_n"]


def test_dataset_options_are_merged_not_replaced():
    _, config = study_config("echonet", overrides={"dataset_options": {"size": 16}})
    cpu = PRESETS["echonet-cpu"].dataset_options
    assert config.dataset_options == {
        **cpu,
        **PHANTOM_SETTINGS["echonet"]["dataset_options"],
        "size": 16,
    }


def test_smoke_wins_over_epochs_and_shrinks_the_phantom():
    _, config = study_config("rsna", epochs=50, smoke=True)
    assert config.epochs == SMOKE_SETTINGS["epochs"]
    assert config.probe_epochs == SMOKE_SETTINGS["probe_epochs"]
    assert config.phantom_n < PHANTOM_SETTINGS["rsna"]["phantom_n"]


def test_a_warmup_longer_than_a_short_schedule_is_cut_to_a_tenth():
    _, config = study_config("rsna", data_root="/x", epochs=5, probe_epochs=30)
    assert PRESETS["rsna"].warmup_epochs >= 5
    assert config.warmup_epochs == 0
    _, config = study_config("rsna", data_root="/x", epochs=40)
    assert config.warmup_epochs == PRESETS["rsna"].warmup_epochs


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown preset 'rsna-gpu'; expected one of .*rsna-cpu"):
        resolve_preset("rsna", "rsna-gpu", None)
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'; expected one of .*rsna"):
        resolve_preset("mnist", None, None)
    with pytest.raises(ValueError, match="preset 'ukb-cpu' is for dataset 'ukb', not 'rsna'"):
        study_config("rsna", preset="ukb-cpu")


def test_simclr_only_where_the_modality_is_augmented_or_the_paper_reports_it():
    assert default_methods("airfoil") == ["vanilla", "supcon", "adacon", "rnc", "supremix"]
    for dataset in ("rsna", "ukb", "echonet", "agedb", "hcp"):  # HCP: the SupReMix paper's Table 3
        assert default_methods(dataset)[:2] == ["vanilla", "simclr"]
        assert len(default_methods(dataset)) == 6


def test_torch_threads_is_scoped():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with (
        pytest.raises(ValueError, match="threads must be >= 1 or None, got 0"),
        torch_threads(0),
    ):
        pass


# ---------------------------------------------------------------------- the papers' numbers


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_source_gives_one_number_per_method_and_metric(dataset):
    reference = paper_reference(dataset)
    assert set(reference["dataset"]) == {dataset}
    assert set(reference["metric"]) <= set(SHOWN_METRICS)
    for source in PAPER_SOURCES[dataset]:
        part = reference[
            (reference["paper"] == source.paper) & (reference["table"] == source.table)
        ]
        assert not part.empty, f"{source} gives no number for {dataset}"
        assert not part.duplicated(["method", "metric"]).any()


def test_reference_values_are_the_stored_ones():
    reference = paper_reference("airfoil")
    direct = paper_results("mixup-pairs", table="Table 5", dataset="airfoil", metric=SHOWN_METRICS)
    assert "GM" not in set(reference["metric"])  # Table 5's printed "GM" is the RMSE
    merged = reference.merge(direct, on=["method", "metric"], suffixes=("", "_direct"))
    assert len(merged) == len(direct) == len(reference)
    assert (merged["value"] == merged["value_direct"]).all()


def test_coverage_matches_a_direct_query():
    coverage = paper_coverage("rsna")
    methods = ["Vanilla", "SimCLR", "SupCon", "AdaCon", "RnC", "SupReMix"]
    labels = [f"{paper_name(s.paper)}, {s.table}" for s in PAPER_SOURCES["rsna"]]
    assert list(coverage.index) == [*labels, "no source"]
    assert list(coverage.columns) == [*SHOWN_METRICS, "note"]
    for metric in SHOWN_METRICS:
        have = set()
        for source, label in zip(PAPER_SOURCES["rsna"], labels, strict=True):
            rows = paper_results(source.paper, table=source.table, dataset="rsna", metric=metric)
            reported = [m for m in methods if m in set(rows["method"])]
            assert coverage.loc[label, metric] == (", ".join(reported) or "-")
            have |= set(reported)
        missing = [m for m in methods if m not in have]
        assert coverage.loc["no source", metric] == (", ".join(missing) or "-")
    assert coverage.loc["the SupReMix paper, Figure 5 (text §5.2)", "note"].startswith("MAE quoted")


# ---------------------------------------------------------------------- a study without training


def make_study(preds: dict[str, list[list[float]]], targets: list[float], kind="phantom") -> Study:
    """A study of hand-made runs: ``preds[method][seed_index]`` over the items of ``targets``."""
    y = np.asarray(targets, dtype=np.float64)
    runs = [
        VariantRun(
            label=method,
            seed=seed,
            metrics=regression_metrics(np.asarray(row), y),
            preds=np.asarray(row, dtype=np.float64),
            features=np.column_stack([row, np.ones_like(row)]) if seed == 0 else None,
            seconds=0.1,
        )
        for method, rows in preds.items()
        for seed, row in enumerate(rows)
    ]
    return Study(
        dataset="airfoil",
        preset="airfoil-cpu",
        config=TrainConfig(dataset="airfoil", epochs=3, warmup_epochs=0),
        data={"name": "airfoil", "kind": kind, "root": None},
        eval_split="test",
        targets=y,
        ids=[str(i) for i in range(y.size)],
        train_targets=np.array([y.mean() + 1.0]),
        variants=[Variant(method, {"method": method.lower()}) for method in preds],
        embedding_seed=0,
        runs=runs,
    )


items = st.integers(min_value=3, max_value=12)


def column(n: int):
    return st.lists(st.floats(-50, 50), min_size=n, max_size=n)


@settings(max_examples=40, deadline=None)
@given(
    items.flatmap(lambda n: st.tuples(*[st.lists(st.floats(-50, 50), min_size=n, max_size=n)] * 5))
)
def test_paired_tests_are_scipy_on_seed_averaged_errors(columns):
    targets, a0, a1, b0, b1 = (np.asarray(c) for c in columns)
    study = make_study({"Vanilla": [b0, b1], "SupReMix": [a0, a1]}, targets)
    ours = (np.abs(a0 - targets) + np.abs(a1 - targets)) / 2
    theirs = (np.abs(b0 - targets) + np.abs(b1 - targets)) / 2
    row = study.paired_tests().loc["Vanilla"]
    assert row["difference"] == pytest.approx(np.mean(ours - theirs), abs=1e-9)
    assert row["MAE SupReMix"] == pytest.approx(ours.mean())
    assert row["items"] == targets.size
    d = ours - theirs
    if np.all(d == d[0]):
        assert math.isnan(row["p"]) and row["stars"] == "ns"
    else:
        expected = stats.ttest_rel(ours, theirs)
        assert row["t"] == pytest.approx(expected.statistic, rel=1e-9, nan_ok=True)
        assert row["p"] == pytest.approx(expected.pvalue, rel=1e-9, nan_ok=True)


def test_paired_matrix_is_antisymmetric_with_symmetric_p():
    rng = np.random.default_rng(0)
    y = rng.normal(size=20)
    study = make_study(
        {m: [y + rng.normal(size=20) * s] for m, s in zip("ABC", (0.5, 1, 2), strict=True)}, y
    )
    difference, p = study.paired_matrix()
    assert list(difference.index) == list(difference.columns) == ["A", "B", "C"]
    assert np.isnan(np.diag(difference.to_numpy())).all()
    np.testing.assert_allclose(difference.to_numpy(), -difference.to_numpy().T)
    np.testing.assert_allclose(p.to_numpy(), p.to_numpy().T)


def test_summary_means_over_seeds_and_comparison_has_paper_and_mean_predictor_rows():
    y = [100.0, 110.0, 120.0, 130.0]
    study = make_study(
        {
            "Vanilla": [[101, 112, 117, 131], [99, 108, 124, 126]],
            "SupReMix": [[100, 111, 119, 130]],
        },
        y,
    )
    summary = study.summary(notes="n")
    vanilla = summary["methods"]["Vanilla"]["metrics"]["MAE"]
    assert vanilla["runs"] == [1.75, 2.75] and vanilla["mean"] == 2.25
    assert summary["data_kind"] == "phantom" and summary["dataset"] == "airfoil"
    table = study.comparison()
    assert ("Training mean", "MAE") in table.index
    floor = np.mean(np.abs(np.asarray(y) - (np.mean(y) + 1.0)))
    assert table.loc[("Training mean", "MAE"), "this run (phantom)"] == pytest.approx(floor)
    assert table.loc[("SupReMix", "MAE"), "paper (Mixup Your Own Pairs, Table 5)"] == pytest.approx(
        paper_results("mixup-pairs", table="Table 5", method="SupReMix", metric="MAE")[
            "value"
        ].item()
    )
    assert set(table.index.get_level_values("metric")) == set(SHOWN_METRICS)


def test_a_constant_prediction_leaves_rho_out_and_says_so():
    y = [1.0, 2.0, 3.0, 4.0]
    study = make_study({"Vanilla": [[2.5] * 4], "RnC": [[1.0, 2.1, 2.9, 4.2]]}, y)
    assert study.undefined_metrics() == {"Vanilla": {"pearson"}, "RnC": set()}
    summary = study.summary()
    assert "rho" not in summary["methods"]["Vanilla"]["metrics"]
    assert "rho" in summary["methods"]["RnC"]["metrics"]
    assert "Vanilla: pearson" in summary["notes"]


def test_embeddings_come_from_the_embedding_seed_only():
    y = [1.0, 2.0, 3.0, 4.0]
    study = make_study({"Vanilla": [[1, 2, 3, 4], [2, 2, 3, 4]]}, y)
    (features,) = study.embeddings().values()
    np.testing.assert_array_equal(features[:, 0], [1, 2, 3, 4])
    assert study.predictions("vanilla").shape == (2, 4)


def test_facts_name_the_numbers_the_chapters_prose_states():
    from scipy.stats import ttest_rel

    rng = np.random.default_rng(0)
    y = np.arange(12.0)
    vanilla = [y + rng.normal(0, 2, 12), y + rng.normal(0, 2, 12)]
    supremix = [y + rng.normal(0, 1, 12), y + rng.normal(0, 1, 12)]
    study = make_study({"Vanilla": vanilla, "SupReMix": supremix}, list(y))
    facts = study.facts()
    mae = {
        name: [np.abs(p - y).mean() for p in runs]
        for name, runs in (("Vanilla", vanilla), ("SupReMix", supremix))
    }
    floor = np.abs(y - (y.mean() + 1.0)).mean()
    best = min(mae, key=lambda name: np.mean(mae[name]))
    errors = {
        name: np.mean([np.abs(p - y) for p in runs], axis=0)
        for name, runs in (("Vanilla", vanilla), ("SupReMix", supremix))
    }
    assert facts["best"] == best and facts["best_value"] == pytest.approx(np.mean(mae[best]))
    assert facts["mean_predictor"] == pytest.approx(floor)
    assert facts["ratio_lowest"] == pytest.approx(np.mean(mae[best]) / floor)
    assert facts["sd_highest"] == pytest.approx(max(np.std(m, ddof=1) for m in mae.values()))
    assert facts["p"] == pytest.approx(ttest_rel(errors["SupReMix"], errors["Vanilla"]).pvalue)
    assert (facts["seeds"], facts["items"], facts["split"], facts["data"]) == (
        2,
        12,
        "test",
        "phantom",
    )
    relation = "lower" if np.mean(mae["SupReMix"]) < np.mean(mae["Vanilla"]) else "higher"
    assert facts["relation"] == relation and facts["reference"] == "SupReMix"


def test_facts_say_when_the_baseline_was_not_run():
    y = np.arange(6.0)
    facts = make_study({"SupReMix": [y + 0.5]}, list(y)).facts()
    assert facts["relation"] == "not compared (the baseline was not run)"
    assert np.isnan(facts["baseline_value"]) and np.isnan(facts["p"])
    assert np.isnan(facts["sd_lowest"])  # one seed: no spread


def test_unknown_methods_and_runs_are_named():
    study = make_study({"Vanilla": [[1, 2, 3]]}, [1, 2, 3])
    with pytest.raises(KeyError, match="no variant 'SupCon'; variants: Vanilla"):
        study.predictions("supcon")
    with pytest.raises(KeyError, match="SupReMix was not run; methods run: Vanilla"):
        study.paired_tests("supremix")


def test_compare_methods_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"unknown or no methods \['mixup'\]"):
        compare_methods("airfoil", methods=["mixup"])
    with pytest.raises(ValueError, match="seeds must be a non-empty list of distinct integers"):
        compare_methods("airfoil", methods=["vanilla"], seeds=[1, 1])
    with pytest.raises(ValueError, match="embedding_seed 5 is not one of the seeds"):
        compare_methods("airfoil", methods=["vanilla"], seeds=[0], embedding_seed=5)


class CountingDataset(RegressionDataset):
    """Items of different lengths; counts calls of :meth:`load` per index."""

    name = "counting"
    modality = "timeseries"

    def __init__(self, n: int):
        super().__init__([f"i{k}" for k in range(n)], np.arange(n, dtype=float), split="train")
        self.loads: dict[int, int] = {}

    def load(self, index: int) -> torch.Tensor:
        self.loads[index] = self.loads.get(index, 0) + 1
        return torch.arange(float(index + 2)).reshape(1, -1)

    def prepare(self, x: torch.Tensor, index: int) -> torch.Tensor:
        return x[:, :2] * 10


def test_in_memory_dataset_decodes_each_item_once_and_serves_equal_items():
    source = CountingDataset(4)
    cached = InMemoryDataset(source)
    for _ in range(3):
        for index in range(4):
            item, expected = cached[index], source[index]
            assert torch.equal(item["x"], expected["x"]) and item["y"] == expected["y"]
            item["x"].add_(1)  # callers may change their copy
    assert source.loads == {i: 4 for i in range(4)}  # 3 direct reads + 1 for the cache
    assert cached.modality == "timeseries" and cached.ids == source.ids


# ---------------------------------------------------------------------- real runs (tiny)


@needs_airfoil
def test_compare_methods_on_real_airfoil(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPREMIX_DATA", str(AIRFOIL_DIR))
    study = compare_methods(
        "airfoil",
        methods=["vanilla", "supremix"],
        seeds=[3, 4],
        preset="airfoil-cpu",
        epochs=1,
        probe_epochs=1,
        device="cpu",
        out_dir=tmp_path,
    )
    assert study.data_kind == "real" and study.eval_split == "test"
    assert study.methods == ["Vanilla", "SupReMix"] and study.seeds == [3, 4]
    assert study.targets.size == 150 and len(study.ids) == 150
    for run in study.runs:
        assert run.metrics == pytest.approx(regression_metrics(run.preds, study.targets))
        assert (run.features is not None) == (run.seed == 3)
        index = study.labels.index(run.label)
        assert (run_folder(tmp_path, index, run.seed) / "results.json").is_file()
    assert study.embeddings()["SupReMix"].shape[0] == 150
    assert study.config.device == "cpu" and study.config.epochs == 1
    assert isinstance(study.comparison(), pd.DataFrame)


def test_rhpe_is_evaluated_on_val_where_test_labels_are_withheld(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPREMIX_CACHE", str(tmp_path / "cache"))
    study = compare_methods("rhpe", methods=["vanilla"], smoke=True, device="cpu")
    # the official validation split is reported (as "test"); a held-out part of the training
    # split selects checkpoints (supremix.train.open_splits)
    assert study.data_kind == "phantom" and study.eval_split == "test"
    assert "test_unavailable" in study.data and "validation" in study.data["reported_split"]
    assert study.seeds == [0] and study.config.phantom_n == 64
    shown = study.settings_table().loc["evaluated on", "value"]
    assert shown == f"official val ({study.targets.size} items)"


def test_a_study_is_a_sweep_whose_variants_are_the_methods():
    variants = method_variants("rsna", ["vanilla", "simclr", "supremix"], augment="none")
    assert [v.label for v in variants] == ["Vanilla", "SimCLR", "SupReMix"]
    assert variants[0].overrides == {"method": "vanilla"}
    assert variants[1].overrides == {"method": "simclr", "augment": PRESETS["rsna"].augment}
    assert PRESETS["rsna"].augment != "none"
    kept = method_variants("rsna", ["simclr"], augment="supervised")
    assert kept[0].overrides["augment"] == "supervised"
    with pytest.raises(ValueError, match=r"methods \['rnc', 'rnc'\] name a method twice"):
        method_variants("rsna", ["rnc", "rnc"], augment="none")
    assert issubclass(Study, Sweep)
