"""The ``supremix`` command's answers to bad input about runs: one line on stderr naming the
device, folder or file and the way on, given before any data are loaded, with nothing on disk
changed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from cli_kit import AIRFOIL_DIR, ONE_THREAD, fails, needs_airfoil
from runs_kit import hold_folder, tree_state

from supremix.cli import main
from supremix.train.checkpoint import atomic_save

pytestmark = ONE_THREAD


def train_argv(out, *extra, data_root="/nonexistent/supremix-data"):
    """A run whose data root does not exist: an error about anything else proves that it
    was found before the data were opened."""
    return ["train", "--dataset", "rsna", "--data-root", data_root, "--out", str(out), *extra]


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "cannot open" not in err and "Traceback" not in err
    return err


def unavailable(device: str) -> bool:
    if device in ("cuda", "cuda:7"):
        return torch.cuda.device_count() <= int(device.partition(":")[2] or 0)
    return device != "mps" or not torch.backends.mps.is_available()


@pytest.mark.parametrize("device", ["cuda", "cuda:7", "mps", "gpu", "cuda:x"])
def test_a_device_this_machine_lacks_is_one_line_before_the_data(tmp_path, capsys, device):
    if not unavailable(device):
        pytest.skip(f"this machine has {device}")
    code, err = fails(train_argv(tmp_path / "run", "--device", device), capsys)
    assert code == 1 and f"device '{device}'" in one_line(err)
    assert tree_state(tmp_path) == {}


def test_an_empty_out_is_a_usage_error(capsys):
    code, err = fails(train_argv(""), capsys)
    assert code == 2 and "argument --out: expected a folder, got ''" in err


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "model.pt"
    atomic_save({"w": torch.ones(2)}, target)
    before = tree_state(tmp_path)
    code, err = fails(train_argv(target), capsys)
    assert code == 1 and f"{target} is a file, not a folder" in one_line(err)
    code, err = fails(train_argv(target / "run"), capsys)
    assert code == 1 and f"cannot create {target / 'run'}: {target} is a file" in one_line(err)
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize("out", ["/sys/supremix-run", "/sys/kernel/run"])
def test_an_out_that_cannot_be_written_is_refused(capsys, out):
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("no /sys on this system")
    code, err = fails(train_argv(out), capsys)
    assert code == 1 and "cannot write in /sys" in one_line(err) and out in err


def a_previous_run(folder: Path, names) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        if name.endswith(".pt"):
            atomic_save({"format": 2, "epoch": 1}, folder / name)
        else:
            (folder / name).write_text(json.dumps({"mae": 1.0}) if "json" in name else "a,b\n")
    return folder


@pytest.mark.parametrize(
    "names",
    [["results.json"], ["metrics.csv"], ["last.pt"], ["best.pt"], ["last.pt", "results.json"]],
)
def test_a_folder_with_a_previous_run_needs_resume_or_overwrite(tmp_path, capsys, names):
    out = a_previous_run(tmp_path / "run", names)
    before = tree_state(tmp_path)
    code, err = fails(train_argv(out), capsys)
    assert code == 1 and f"{out} holds a previous run ({', '.join(names)})" in one_line(err)
    assert "--resume" in err and "--overwrite" in err
    assert tree_state(tmp_path) == before


def test_resume_and_overwrite_are_exclusive(tmp_path, capsys):
    code, err = fails(train_argv(tmp_path, "--resume", "--overwrite"), capsys)
    assert code == 2 and "not allowed with argument" in err


def damaged(path: Path, how: str) -> None:
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        atomic_save({"format": 2, "w": torch.arange(1000.0)}, path)
        path.write_bytes(path.read_bytes()[:300])
    elif how == "text":
        path.write_text("hello\n")
    else:  # a torch checkpoint of something else
        atomic_save({"state_dict": {"w": torch.zeros(2)}}, path)


@pytest.mark.parametrize("how", ["empty", "truncated", "text", "foreign"])
def test_resume_from_a_damaged_last_pt_is_one_line_naming_it(tmp_path, capsys, how):
    out = tmp_path / "run"
    out.mkdir()
    damaged(out / "last.pt", how)
    before = tree_state(tmp_path)
    code, err = fails(train_argv(out, "--resume"), capsys)
    assert code == 1 and f"{out / 'last.pt'}" in one_line(err)
    assert "start over with --overwrite" in err
    assert tree_state(tmp_path) == before


@pytest.mark.slow
def test_a_folder_in_use_by_another_run_is_refused_at_once(tmp_path, capsys):
    out = tmp_path / "run"
    holder, _ = hold_folder(out)
    try:
        before = tree_state(tmp_path)
        code, err = fails(train_argv(out), capsys)
        assert code == 1 and f"{out} is in use by another run (process {holder.pid}" in one_line(
            err
        )
        assert tree_state(tmp_path) == before
    finally:
        holder.kill()
        holder.wait(timeout=30)


@needs_airfoil
def test_train_refuses_a_rerun_and_replaces_with_overwrite(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(AIRFOIL_DIR / "airfoil_self_noise.dat", data)
    out = tmp_path / "run"
    argv = ["train", "--dataset", "airfoil", "--data-root", str(data), "--preset", "airfoil-cpu"]
    argv += ["--method", "vanilla", "--epochs", "1", "--warmup-epochs", "0", "--out", str(out)]
    argv += ["--no-progress"]
    assert main(argv) == 0
    capsys.readouterr()
    before = tree_state(tmp_path)
    code, err = fails([*argv, "--seed", "1"], capsys)
    assert code == 1 and f"{out} holds a previous run" in one_line(err)
    assert tree_state(tmp_path) == before
    assert main([*argv, "--seed", "1", "--overwrite"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["seed"] == 1
    assert sorted(tree_state(out)) == ["best.pt", "last.pt", "metrics.csv", "results.json"]
    code, err = fails([*argv, "--seed", "2", "--resume"], capsys)
    assert code == 1 and "configuration differs in seed" in one_line(err)


@pytest.mark.parametrize("entry", ["labels.csv", ".hidden", "sub/"])
def test_phantom_refuses_a_non_empty_folder(tmp_path, capsys, entry):
    out = tmp_path / "rsna"
    out.mkdir()
    if entry.endswith("/"):
        (out / entry).mkdir()
    else:
        (out / entry).write_text("id,boneage\n1,100\n")
    before = tree_state(tmp_path)
    code, err = fails(["phantom", "rsna", "--out", str(out), "--n", "30"], capsys)
    assert code == 1 and f"{out} is not empty (1 entries: {entry.rstrip('/')})" in one_line(err)
    assert "--overwrite" in err
    assert tree_state(tmp_path) == before


def test_phantom_refuses_a_file_and_an_empty_name(tmp_path, capsys):
    target = tmp_path / "rsna.zip"
    target.write_bytes(b"PK\x05\x06" + bytes(18))
    before = tree_state(tmp_path)
    code, err = fails(["phantom", "rsna", "--out", str(target)], capsys)
    assert code == 1 and f"{target} is a file, not a folder" in one_line(err)
    code, err = fails(["phantom", "rsna", "--out", ""], capsys)
    assert code == 2 and "argument --out: expected a folder, got ''" in err
    assert tree_state(tmp_path) == before


def test_phantom_writes_into_an_empty_folder_and_over_one_with_overwrite(tmp_path, capsys):
    out = tmp_path / "rsna"
    out.mkdir()
    assert main(["phantom", "rsna", "--out", str(out), "--n", "30", "--seed", "1"]) == 0
    written = tree_state(out)
    assert written
    assert main(["phantom", "rsna", "--out", str(out), "--n", "30", "--overwrite"]) == 0
    assert set(tree_state(out)) >= set(written)
