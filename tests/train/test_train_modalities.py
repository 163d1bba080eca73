"""A tiny end-to-end run per modality on phantoms written in each dataset's official layout
(airfoil: the real UCI file from $SUPREMIX_DATA)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from supremix.data import get_dataset
from supremix.train import RESULTS_JSON, get_preset, predict, run_experiment

# $SUPREMIX_DATA, else ../shared/data beside the checkout (the Makefile's convention)
AIRFOIL_DIR = Path(
    os.environ.get("SUPREMIX_DATA") or Path(__file__).resolve().parents[2].parent / "shared/data"
)

# dataset: (modality, overrides of its -cpu preset)
CASES = {
    "rsna": ("image2d", {"method": "supremix", "phantom_n": 60}),
    "ukb": ("volume3d", {"method": "supcon", "phantom_n": 40}),
    "hcp": ("timeseries", {"method": "rnc", "protocol": "finetune", "phantom_n": 40}),
    "echonet": ("video", {"method": "adacon", "protocol": "multitask", "phantom_n": 40}),
    "agedb": ("image2d", {"method": "simclr", "phantom_n": 60}),
}


#: The modalities whose phantom run takes more than a few seconds on a 2-core CPU.
SLOW_MODALITIES = {"echonet", "ukb"}


@pytest.mark.parametrize(
    "dataset",
    [pytest.param(d, marks=pytest.mark.slow) if d in SLOW_MODALITIES else d for d in sorted(CASES)],
)
def test_a_phantom_run_per_modality(tmp_path, dataset):
    modality, overrides = CASES[dataset]
    config = get_preset(
        f"{dataset}-cpu",
        epochs=2,
        probe_epochs=1,
        batch_size=8,
        progress=False,
        **overrides,
    )
    run_experiment(config, out_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    saved = json.loads((tmp_path / "run" / RESULTS_JSON).read_text())
    assert saved["dataset"]["kind"] == "phantom" and saved["dataset"]["modality"] == modality
    assert saved["method"] == config.method
    assert set(saved["test"]) >= {"mae", "mse", "gm", "pearson"}
    assert np.isfinite(saved["test"]["mae"])
    assert Path(saved["dataset"]["root"]).is_relative_to(tmp_path / "cache" / "phantoms")


def test_airfoil_run_on_the_real_file(tmp_path):
    if not (AIRFOIL_DIR / "airfoil_self_noise.dat").is_file():
        pytest.skip("the UCI airfoil file is not available (set SUPREMIX_DATA)")
    config = get_preset("airfoil-cpu", method="supremix", epochs=2, probe_epochs=2)
    result = run_experiment(config.replace(progress=False), out_dir=tmp_path, data_root=AIRFOIL_DIR)
    assert result.results["dataset"]["kind"] == "real"
    assert result.results["dataset"]["n_train"] == 1203
    test = result.results["test"]
    assert np.isfinite(test["mae"]) and test["mae"] > 0
    # embeddings + labels + predictions for the analyses (t-SNE etc.)
    test_set = get_dataset("airfoil", AIRFOIL_DIR, "test", **config.dataset_options)
    outputs = predict(result.model, test_set)
    assert outputs.embeddings.shape == (150, config.feature_dim)
    assert outputs.features.shape == (150, 10) and outputs.targets.shape == (150,)


def test_cached_items_give_the_same_run(tmp_path):
    config = get_preset(
        "rsna-cpu", epochs=2, probe_epochs=1, batch_size=8, phantom_n=40, progress=False
    )
    runs = [
        run_experiment(
            config.replace(cache_items=cached),
            out_dir=tmp_path / f"run{cached}",
            cache_dir=tmp_path / "cache",
        )
        for cached in (False, True)
    ]
    assert runs[1].metrics == runs[0].metrics
    assert any((tmp_path / "cache").glob("rsna-train-*/data.npy"))
