"""``train()`` and its run folder: a previous run is refused unless resumed or replaced; a
replacing run that fails leaves the previous run as it was; concurrent runs, killed runs,
unknown devices and non-finite losses give one line naming what to do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from cli_kit import AIRFOIL_DIR, ONE_THREAD, needs_airfoil
from runs_kit import hold_folder, rows_splits, tiny_config, tree_state

from supremix.experiments.sweep import Variant, run_sweep
from supremix.studies import compare_methods
from supremix.train import load_checkpoint, train
from supremix.train.run_folder import LOCK_NAME, PreviousRunError, RunFolderInUseError

pytestmark = ONE_THREAD

RUN_FILES = ["best.pt", "last.pt", "metrics.csv", "results.json"]


class StopRunError(Exception):
    """Raised by a callback, as an exception in a run would be."""


def stop(row):
    raise StopRunError


def test_a_second_run_into_a_folder_is_refused_and_changes_nothing(tmp_path):
    train(tiny_config(), **rows_splits(), out_dir=tmp_path / "run")
    before = tree_state(tmp_path)
    with pytest.raises(PreviousRunError) as error:
        train(tiny_config(seed=1), **rows_splits(), out_dir=tmp_path / "run")
    message = str(error.value)
    assert f"{tmp_path / 'run'} holds a previous run (last.pt, best.pt, metrics.csv" in message
    assert "--resume" in message and "--overwrite" in message
    assert tree_state(tmp_path) == before


def test_overwrite_replaces_the_run_and_keeps_a_users_files(tmp_path):
    out = tmp_path / "run"
    first = train(tiny_config(), **rows_splits(), out_dir=out)
    (out / "notes.txt").write_text("mine")
    second = train(tiny_config(seed=1, epochs=2), **rows_splits(), out_dir=out, overwrite=True)
    assert sorted(tree_state(out)) == sorted([*RUN_FILES, "notes.txt"])
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["seed"] == 1 and results["test"] == second.metrics["test"]
    assert second.metrics["test"] != first.metrics["test"]
    assert load_checkpoint(out / "last.pt")["epoch"] == 2
    assert [r["epoch"] for r in second.history] == [1, 2]


def test_a_failed_replacing_run_leaves_the_previous_run_as_it_was(tmp_path):
    out = tmp_path / "run"
    train(tiny_config(), **rows_splits(), out_dir=out)
    before = tree_state(tmp_path)
    with pytest.raises(StopRunError):
        train(tiny_config(seed=1), **rows_splits(), out_dir=out, overwrite=True, callbacks=[stop])
    assert tree_state(tmp_path) == before


def test_a_replacing_run_with_non_finite_predictions_leaves_the_previous_run(tmp_path):
    out = tmp_path / "run"
    train(tiny_config(), **rows_splits(), out_dir=out)
    before = tree_state(tmp_path)
    data = rows_splits()
    data["test_set"].x[:] = np.inf  # training is fine, the final evaluation is not
    with pytest.raises(ValueError, match=r"the test predictions: .*non-finite") as error:
        train(tiny_config(seed=1), **data, out_dir=out, overwrite=True)
    assert str(error.value).endswith(f"{out} keeps its previous run unchanged")
    assert tree_state(tmp_path) == before


def test_a_first_run_with_non_finite_predictions_keeps_its_checkpoint_only(tmp_path):
    out = tmp_path / "run"
    data = rows_splits()
    data["test_set"].x[:] = np.nan
    with pytest.raises(ValueError, match=r"the test predictions: .*non-finite") as error:
        train(tiny_config(), **data, out_dir=out)
    assert str(error.value).endswith(f"the last good checkpoint, {out / 'last.pt'}, is kept")
    assert sorted(tree_state(out)) == ["best.pt", "last.pt", "metrics.csv"]  # no results.json


def test_non_finite_validation_predictions_name_the_stage_epoch_and_what_is_kept(tmp_path):
    out = tmp_path / "run"
    data = rows_splits()
    data["val_set"].x[:] = np.inf  # the first evaluation during training meets them
    with pytest.raises(ValueError, match=r"epoch 1: the validation predictions: .*non-finite"):
        train(tiny_config(), **data, out_dir=out)
    assert "results.json" not in tree_state(out)


def test_a_failed_first_run_keeps_its_checkpoint_and_can_be_resumed(tmp_path):
    out = tmp_path / "run"
    config = tiny_config(epochs=2, checkpoint_every=1)
    calls = []

    def stop_second(row):
        calls.append(row)
        if len(calls) == 2:
            raise StopRunError

    with pytest.raises(StopRunError):
        train(config, **rows_splits(), out_dir=out, callbacks=[stop_second])
    assert sorted(tree_state(out)) == ["best.pt", "last.pt", "metrics.csv"]  # no results.json
    resumed = train(config, **rows_splits(), out_dir=out, resume=True)
    assert resumed.results["resumed_from"] == {"stage": "regression", "epoch": 2}
    assert sorted(tree_state(out)) == RUN_FILES


def test_resume_into_an_empty_folder_starts_a_fresh_run(tmp_path):
    result = train(tiny_config(), **rows_splits(), out_dir=tmp_path / "new", resume=True)
    assert result.results["resumed_from"] is None
    assert sorted(tree_state(tmp_path / "new")) == RUN_FILES


@pytest.mark.slow
def test_a_run_fails_fast_while_another_holds_the_folder(tmp_path):
    out = tmp_path / "run"
    holder, _ = hold_folder(out)
    try:
        before = tree_state(tmp_path)
        began = time.monotonic()
        with pytest.raises(RunFolderInUseError, match=f"{out} is in use by another run"):
            train(tiny_config(), **rows_splits(), out_dir=out)
        assert time.monotonic() - began < 5
        assert tree_state(tmp_path) == before
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.mark.slow
def test_a_killed_runs_lock_does_not_block_the_next_run(tmp_path):
    out = tmp_path / "run"
    _, left = hold_folder(out, die=True)
    assert (out / LOCK_NAME).is_file() and (out / left).is_dir()
    train(tiny_config(), **rows_splits(), out_dir=out)
    assert sorted(tree_state(out)) == RUN_FILES


@pytest.mark.parametrize("device", ["cuda:7", "mps", "gpu", "xla"])
def test_a_device_this_machine_lacks_is_refused_before_anything_is_written(tmp_path, device):
    if device == "cuda:7" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(ValueError, match=f"device '{device}'|unknown device '{device}'"):
        train(tiny_config(device=device), **rows_splits(), out_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def poison_after_first_epoch(data, what):
    def callback(row):
        if what == "features":
            data["train_set"].x[5, 1] = np.nan
        else:
            data["train_set"].targets[7] = np.inf

    return callback


@pytest.mark.parametrize(("what", "named"), [("features", "input features"), ("labels", "labels")])
def test_a_non_finite_loss_names_the_step_stage_and_cause_and_keeps_the_checkpoint(
    tmp_path, what, named
):
    out = tmp_path / "run"
    data = rows_splits()
    config = tiny_config(epochs=3, checkpoint_every=1)
    with pytest.raises(FloatingPointError) as error:
        train(config, **data, out_dir=out, callbacks=[poison_after_first_epoch(data, what)])
    message = str(error.value)
    assert message.startswith("stage regression, epoch 2/3: the training loss is ")
    assert " at step " in message and " of 2: the " + named in message
    assert f"the last good checkpoint, {out / 'last.pt'}, is kept" in message
    assert load_checkpoint(out / "last.pt")["epoch"] == 1
    assert not (out / "results.json").exists() and not (out / LOCK_NAME).exists()


def test_a_diverging_loss_suggests_a_lower_learning_rate(tmp_path):
    with pytest.raises(FloatingPointError) as error:
        train(tiny_config(epochs=2, lr=1e30), **rows_splits(), out_dir=tmp_path / "run")
    message = str(error.value)
    assert message.startswith("stage regression, epoch 1/2: the training loss is nan at step")
    assert "with finite inputs and labels: the optimisation diverged" in message
    assert "lower the learning rate" in message and "no checkpoint had been written" in message


@needs_airfoil
def test_a_study_into_a_folder_of_an_earlier_study_is_refused_before_training(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("SUPREMIX_DATA", str(AIRFOIL_DIR))
    common = {"seeds": [0], "smoke": True, "device": "cpu"}
    compare_methods("airfoil", methods=["vanilla"], out_dir=tmp_path / "s", **common)
    run_sweep("airfoil", [Variant("plain")], out_dir=tmp_path / "w", **common)
    before = tree_state(tmp_path)
    refused = "holds a previous run .*; give the study a new out_dir"  # the study's own check
    with pytest.raises(PreviousRunError, match=f"{tmp_path / 's' / 'variant0-seed0'} {refused}"):
        compare_methods("airfoil", methods=["vanilla"], out_dir=tmp_path / "s", **common)
    with pytest.raises(PreviousRunError, match=f"{tmp_path / 'w' / 'variant0-seed0'} {refused}"):
        run_sweep("airfoil", [Variant("plain")], out_dir=tmp_path / "w", **common)
    assert tree_state(tmp_path) == before


SLOW_RUN = """
import sys, time, torch
from runs_kit import rows_splits, tiny_config
from supremix.train import train
torch.set_num_threads(1)

def pause(row):
    print("epoch", row["epoch"], flush=True)
    time.sleep(120)

train(tiny_config(epochs=2, checkpoint_every=1), **rows_splits(), out_dir=sys.argv[1],
      callbacks=[pause])
"""


@pytest.mark.slow
def test_two_runs_at_once_the_second_fails_fast_and_a_killed_run_resumes(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, str(out)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "epoch 1"
        before = tree_state(tmp_path)
        began = time.monotonic()
        with pytest.raises(RunFolderInUseError, match=f"{out} is in use .*process {first.pid} "):
            train(tiny_config(epochs=2, checkpoint_every=1), **rows_splits(), out_dir=out)
        assert time.monotonic() - began < 5
        assert tree_state(tmp_path) == before
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    resumed = train(
        tiny_config(epochs=2, checkpoint_every=1), **rows_splits(), out_dir=out, resume=True
    )
    assert resumed.results["resumed_from"] == {"stage": "regression", "epoch": 1}
    assert sorted(tree_state(out)) == RUN_FILES
