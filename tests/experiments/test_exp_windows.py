"""The Mix-pos window checked before training: by every sweep, and by the notebooks that train
without one, on the training labels."""

from __future__ import annotations

import numpy as np
import pytest

from supremix.experiments.sweep import Variant, run_sweep
from supremix.experiments.windows import study_window, sweep_window
from supremix.train import PRESETS
from supremix.train.windows import WindowError, checked_window, config_window


def test_study_window_describes_the_phantoms_training_labels_in_their_units():
    line = study_window("rsna", smoke=True)
    assert "γ = 5 months" in line and "distinct labels on each side" in line


def test_study_window_stops_a_window_that_forms_no_mix_pos_before_training():
    with pytest.raises(WindowError, match="forms no Mix-pos"):
        study_window("rsna", smoke=True, overrides={"window": 0.5})


# ---------------------------------------------------------------- the sweep's own check

WHOLE_MONTHS = np.arange(1.0, 229.0)


@pytest.mark.parametrize(
    ("variants", "checked"),
    [
        ([Variant("SupReMix")], True),
        ([Variant("Vanilla", {"method": "vanilla"}), Variant("SupReMix")], True),
        (
            [Variant("Vanilla", {"method": "vanilla"}), Variant("SupCon", {"method": "supcon"})],
            False,
        ),
        ([Variant("no Mix-pos", {"mix_pos": False})], False),
        ([Variant("γ=1", {"window": 1.0}), Variant("bin 2", {"label_bin": 2.0})], False),
        ([Variant("γ=1", {"window": 1.0}), Variant("lr", {"lr": 0.1})], True),
    ],
)
def test_a_sweep_checks_the_window_its_supremix_variants_train_at(variants, checked):
    """Variants that change the window are an ablation's rows (checked by the ablation)."""
    config = PRESETS["rsna"]
    measured = sweep_window(config, variants, WHOLE_MONTHS)
    assert measured == (config_window(config, WHOLE_MONTHS) if checked else None)


def test_a_window_that_forms_no_mix_pos_stops_the_sweep_before_any_run_folder(tmp_path):
    out = tmp_path / "runs"
    with pytest.raises(WindowError, match="forms no Mix-pos"):
        run_sweep(
            "rsna",
            [Variant("Vanilla", {"method": "vanilla"}), Variant("SupReMix")],
            smoke=True,
            device="cpu",
            out_dir=out,
            overrides={"window": 0.5},
        )
    assert not out.exists()


def test_the_sweeps_settings_table_shows_the_window_its_supremix_runs_trained_with(tmp_path):
    sweep = run_sweep("rsna", [Variant("SupReMix")], smoke=True, device="cpu", out_dir=tmp_path)
    labels = np.unique(sweep.train_targets)
    assert sweep.window == config_window(sweep.config, sweep.train_targets)
    table = sweep.settings_table()["value"]
    assert table["Mix-pos window"] == "γ = 5 months (|Δy| <= γ)"
    inside = [np.sum((labels != y) & (np.abs(labels - y) <= 5) & (labels < y)) for y in labels]
    assert table["Mix-pos labels per side"] == f"about {np.median(inside):g}"
    assert table["anchors with a Mix-pos"].endswith(f"of {labels.size}")
    assert all(len(value) <= 50 for value in table)  # pandas shows 50 characters of a cell
    provenance = sweep.summary()["provenance"]
    assert (
        provenance["mix_pos_window"] == checked_window(sweep.config, sweep.train_targets).summary()
    )
