"""The ``supremix`` command: parsing, errors, ``train``, ``phantom``, ``presets``, ``info``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from cli_kit import AIRFOIL_DIR, ONE_THREAD, fails, needs_airfoil

import supremix
from supremix.cli import _config_from_args, build_parser, main
from supremix.data import get_dataset

pytestmark = ONE_THREAD


def test_unknown_method_is_a_usage_error(tmp_path, capsys):
    code, err = fails(["train", "--dataset", "rsna", "--method", "mixup", "--out", "x"], capsys)
    assert code == 2
    assert "argument --method: invalid choice: 'mixup'" in err


def test_non_positive_epochs_are_refused(capsys):
    code, err = fails(["train", "--dataset", "rsna", "--epochs", "0", "--out", "x"], capsys)
    assert code == 2 and "argument --epochs: expected a positive integer, got 0" in err


def test_out_is_required(capsys):
    code, err = fails(["train", "--dataset", "rsna"], capsys)
    assert code == 2 and "the following arguments are required: --out" in err


def test_unknown_dataset_lists_the_known_ones(capsys):
    code, err = fails(["train", "--dataset", "mnist", "--out", "x"], capsys)
    assert code == 2 and "invalid choice: 'mnist'" in err and "'rsna'" in err


def test_an_inconsistent_configuration_is_explained(tmp_path, capsys):
    argv = ["train", "--preset", "rsna", "--epochs", "3", "--out", str(tmp_path)]
    code, err = fails(argv, capsys)
    assert code == 2
    assert "warmup_epochs (10) must be smaller than epochs (3)" in err


def test_a_missing_data_root_is_reported(tmp_path, capsys):
    argv = ["train", "--dataset", "rsna", "--data-root", str(tmp_path / "none"), "--out", "x"]
    code, err = fails(argv, capsys)
    assert code == 1 and "supremix train: cannot open rsna" in err


def parse(argv):
    return _config_from_args(build_parser().parse_args(argv))


def test_presets_are_chosen_by_data_source_and_overridden_by_options():
    phantom = parse(["train", "--dataset", "rsna", "--method", "supcon", "--out", "o"])
    assert phantom.name == "rsna-cpu" and phantom.method == "supcon"
    real = parse(["train", "--dataset", "rsna", "--data-root", "/d", "--out", "o"])
    assert real.name == "rsna" and real.batch_size == 128 and real.epochs == 200
    argv = ["train", "--dataset", "ukb", "--out", "o", "--temperature", "0.2", "--window", "4"]
    argv += ["--option", "size=[24,24,24]", "--option", "normalize=zscore", "--seed", "7"]
    argv += ["--no-progress", "--protocol", "multitask", "--gamma-con", "0.5", "--use-groups"]
    argv += ["--label-bin", "2", "--cache-items"]
    tuned = parse(argv)
    assert (tuned.use_groups, tuned.label_bin, tuned.cache_items) == (True, 2.0, True)
    assert (tuned.temperature, tuned.window, tuned.seed) == (0.2, 4.0, 7)
    assert tuned.dataset_options["size"] == (24, 24, 24)
    assert tuned.dataset_options["normalize"] == "zscore"
    assert tuned.dataset_options["spacing"] is None  # kept from the ukb-cpu preset
    assert (tuned.protocol, tuned.gamma_con, tuned.progress) == ("multitask", 0.5, False)
    other = parse(["train", "--preset", "rsna-cpu", "--dataset", "rhpe", "--out", "o"])
    assert other.dataset == "rhpe"


def test_option_needs_key_value(capsys):
    code, err = fails(["train", "--dataset", "rsna", "--out", "o", "--option", "size"], capsys)
    assert code == 2 and "expected KEY=VALUE, got 'size'" in err


@needs_airfoil
def test_train_on_airfoil_writes_results_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SUPREMIX_DATA", str(AIRFOIL_DIR))
    out = tmp_path / "run"
    argv = ["train", "--dataset", "airfoil", "--method", "supremix", "--epochs", "2"]
    argv += ["--probe-epochs", "2", "--out", str(out), "--seed", "3", "--no-progress"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["test"]) >= {"mae", "mse", "rmse", "gm", "pearson", "r2"}
    assert results["dataset"]["kind"] == "real" and results["dataset"]["name"] == "airfoil"
    assert results["config"]["seed"] == 3 and results["config"]["name"] == "airfoil-cpu"
    assert (out / "metrics.csv").is_file() and (out / "last.pt").is_file()
    printed = capsys.readouterr().out
    assert f"supremix on airfoil (real): test mae {results['test']['mae']:.4g}" in printed
    # --resume of a finished run evaluates again and says where it resumed from
    assert main([*argv, "--resume"]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["resumed_from"] == {"stage": "probe", "epoch": 2}
    assert again["test"] == results["test"]


def test_phantom_command_writes_a_readable_dataset(tmp_path, capsys):
    out = tmp_path / "rsna"
    assert main(["phantom", "rsna", "--out", str(out), "--n", "30", "--seed", "1"]) == 0
    assert f"wrote the rsna phantom to {out}" in capsys.readouterr().out
    train = get_dataset("rsna", out, "train")
    test = get_dataset("rsna", out, "test")
    assert len(train) > 0 and len(test) > 0
    assert train[0]["x"].ndim == 3


def test_presets_and_info(capsys):
    assert main(["presets"]) == 0
    listed = capsys.readouterr().out
    assert (
        "rsna " in listed and "the SupReMix paper, Table 13" in listed and "airfoil-cpu" in listed
    )
    assert main(["info"]) == 0
    info = capsys.readouterr().out
    assert f"supremix     {supremix.__version__}" in info
    assert f"torch        {torch.__version__}" in info
    assert "device       cpu" in info or "device       cuda" in info
    assert "SUPREMIX_CACHE" in info


@pytest.mark.slow
def test_module_entry_point_runs():
    done = subprocess.run(
        [sys.executable, "-m", "supremix.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == f"supremix {supremix.__version__}"
