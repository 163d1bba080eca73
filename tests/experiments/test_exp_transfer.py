"""Transfer RSNA <-> RHPE (the SupReMix paper, §5.6, Table 8): every target run maps to a Table 8
cell, starts from the encoder of the source run of its own method and seed, trains on the scaled
target subsample with a step-matched schedule; the two phantoms share one generator."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from supremix.data.phantoms import PHANTOMS
from supremix.experiments import Sweep, Variant, VariantRun, run_sweep
from supremix.experiments.sweep import run_folder
from supremix.experiments.transfer import (
    DIRECTIONS,
    METHODS,
    PAPER_TABLE,
    SCRATCH,
    STRATEGIES,
    TransferRun,
    input_examples,
    matched_epochs,
    run_transfer,
    source_variants,
    target_schedule,
    target_variants,
)
from supremix.paper import paper_results
from supremix.studies import study_config
from supremix.train import TrainConfig
from supremix.train import engine as engine_module


def _target_sweep(direction, variants, offset: float) -> Sweep:
    """A target sweep of ``variants`` on three items, each run predicting label + ``offset``."""
    targets = np.array([20.0, 80.0, 150.0])
    sweep = Sweep(
        dataset=direction.target,
        preset=f"{direction.target}-cpu",
        config=TrainConfig(dataset=direction.target),
        data={"kind": "phantom", "root": None},
        eval_split="val",
        targets=targets,
        train_targets=targets,
        variants=variants,
    )
    for variant in variants:
        sweep.runs.append(VariantRun(variant.label, 0, {}, targets + offset, None, 0.0, 40))
    return sweep


@pytest.mark.parametrize("key", list(DIRECTIONS))
def test_every_target_variant_maps_to_its_table_8_cell(key):
    direction = DIRECTIONS[key]
    sources = {m: f"/runs/{m}" for m in METHODS}
    schedule = {"epochs": 3, "warmup_epochs": 0}
    variants = target_variants(direction, METHODS, sources, size=40, schedule=schedule)
    assert len(variants) == 2 * len(METHODS) + 1 and variants[-1].label == SCRATCH
    sweep = _target_sweep(direction, variants, offset=0.0)
    numbers = sweep.paper_numbers("supremix", PAPER_TABLE, dataset=direction.target)
    table = paper_results("supremix", table=PAPER_TABLE, dataset=direction.target)
    assert len(numbers) == len(table) == 2 * 2 * len(METHODS)  # strategies x (MAE, rho)
    for variant in variants[:-1]:
        method, strategy = variant.label.split(", ")
        assert variant.overrides["init_encoder"] == f"/runs/{method.lower()}"
        assert variant.overrides["freeze_encoder"] == STRATEGIES[strategy]
        assert variant.overrides["method"] == "vanilla"
        assert direction.label in variant.paper.setting and variant.paper.setting.endswith(strategy)


def test_facts_table_has_one_row_per_direction_with_that_directions_target_facts():
    targets = {
        direction.label: _target_sweep(direction, [Variant(SCRATCH, {})], offset=1.0 + index)
        for index, direction in enumerate(DIRECTIONS.values())
    }
    run = TransferRun(list(DIRECTIONS.values()), {}, targets)
    table = run.facts_table()
    assert list(table.index) == ["RSNA → RHPE", "RHPE → RSNA"]
    assert table["best_value"].tolist() == pytest.approx([1.0, 2.0])  # every error 1, then 2
    assert table["split"].tolist() == ["val", "val"]
    assert run.facts() == {"directions": 2, "seeds": 1, "data": "phantom"}


@settings(max_examples=60, deadline=None)
@given(
    epochs=st.integers(1, 50),
    batch=st.integers(1, 64),
    subset_batches=st.integers(1, 20),
    extra=st.integers(0, 500),
)
def test_matched_epochs_make_at_least_the_steps_of_the_whole_split_and_no_epoch_more(
    epochs, batch, subset_batches, extra
):
    n_subset = batch * subset_batches + extra % batch
    n_full = n_subset + extra
    result = matched_epochs(epochs, n_full, n_subset, batch)
    steps_full = epochs * (n_full // batch)
    assert result * (n_subset // batch) >= steps_full
    assert (result - 1) * (n_subset // batch) < steps_full


def test_the_target_schedule_validates_as_often_per_step_as_the_probe_stage():
    config = TrainConfig(
        dataset="rsna", probe_epochs=12, batch_size=32, checkpoint_every=1, eval_every=1
    )
    schedule = target_schedule(config, 236, 32)
    assert schedule["epochs"] == 12 * 7
    assert schedule["eval_every"] == schedule["checkpoint_every"] == 7
    assert schedule["warmup_epochs"] == config.probe_warmup_epochs
    config.replace(method="vanilla", **schedule)


def test_simclr_sources_keep_an_augmentation_where_the_sweep_has_none():
    variants = source_variants("rsna", ["simclr", "supremix"], "none")
    assert variants[0].overrides["augment"] != "none"
    assert "augment" not in variants[1].overrides
    assert "augment" not in source_variants("rsna", ["simclr"], "supervised")[0].overrides


def test_rsna_and_rhpe_phantoms_come_from_one_generator():
    modules = {
        name: importlib.import_module(f"supremix.data.phantoms.{PHANTOMS[name].split(':')[0]}")
        for name in ("rsna", "rhpe")
    }
    assert modules["rsna"].render_hand is modules["rhpe"].render_hand


def test_run_folder_is_where_run_sweep_writes_the_source_run(tmp_path):
    variants = source_variants("rsna", ["supcon", "supremix"], "none")
    run_sweep("rsna", variants, seeds=[3], smoke=True, out_dir=tmp_path)
    for index, method in enumerate(["supcon", "supremix"]):
        results = json.loads((run_folder(tmp_path, index, 3) / "results.json").read_text())
        assert (results["method"], results["config"]["seed"]) == (method, 3)
        assert (run_folder(tmp_path, index, 3) / "best.pt").is_file()


@pytest.mark.slow
def test_each_target_run_loads_the_encoder_of_its_methods_source_run(tmp_path, monkeypatch):
    loaded: list[Path] = []
    original = engine_module.load_encoder_weights

    def recording(model, source):
        loaded.append(Path(source))
        return original(model, source)

    monkeypatch.setattr(engine_module, "load_encoder_weights", recording)
    run = run_transfer(
        directions=["rsna->rhpe"], methods=["supcon", "supremix"], smoke=True, out_dir=tmp_path
    )
    sources = [json.loads((p / "results.json").read_text()) for p in loaded]
    assert [s["method"] for s in sources] == ["supcon", "supcon", "supremix", "supremix"]
    assert {s["dataset"]["name"] for s in sources} == {"rsna"}
    target = run.targets["RSNA → RHPE"]
    assert target.dataset == "rhpe" and "validation" in target.data["reported_split"]
    _, config = study_config("rhpe", smoke=True)
    assert {r.n_train for r in target.runs} == {config.batch_size}
    frame = run.beside_paper()
    assert frame.index.get_level_values("direction").unique().tolist() == ["RSNA → RHPE"]
    summary = run.summary(notes="test")
    assert "RSNA → RHPE: SupReMix, fine-tuning" in summary["methods"]


def test_bad_data_roots_directions_and_seeds_are_refused_before_training():
    with pytest.raises(ValueError, match="data_root gives no folder for rhpe"):
        run_transfer(data_root={"rsna": "/data/rsna"}, smoke=True)
    with pytest.raises(
        ValueError,
        match=r"unknown or no directions \['rsna->ukb'\]; expected some of rsna->rhpe, rhpe->rsna",
    ):
        run_transfer(directions=["rsna->ukb"], smoke=True)
    with pytest.raises(ValueError, match="seeds must be a non-empty list of distinct integers"):
        run_transfer(seeds=[1, 1])


def test_input_examples_show_both_datasets():
    figure = input_examples(n=2, smoke=True)
    assert isinstance(figure, Figure) and len(figure.axes) == 4
