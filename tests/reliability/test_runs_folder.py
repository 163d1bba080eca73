"""Run folders (``supremix.train.run_folder``): unusable paths and previous runs are refused in
one line naming the folder, with nothing on disk changed; a live run's lock stops a second run
at once; a killed run's lock and temporaries never block or stay; a user's files are never
removed."""

from __future__ import annotations

import json
import os
import time

import pytest
import torch
from runs_kit import dead_pid, hold_folder, tree_state

from supremix.train.checkpoint import atomic_save
from supremix.train.run_folder import (
    LOCK_NAME,
    RUN_FILES,
    PreviousRunError,
    RunFolder,
    RunFolderError,
    RunFolderInUseError,
    check_new_run_folders,
    check_out_path,
    check_run_folder,
)

WAYS = ("--resume", "--overwrite")


def previous_run(folder, names=RUN_FILES):
    """A folder holding the files of a run (real torch checkpoints, CSV and JSON)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name.endswith(".pt"):
            atomic_save({"format": 2, "epoch": 1, "w": torch.arange(3.0)}, folder / name)
        elif name.endswith(".csv"):
            (folder / name).write_text("stage,epoch,train_loss\nregression,1,0.5\n")
        else:
            (folder / name).write_text(json.dumps({"test": {"mae": 1.0}}))
    return folder


@pytest.mark.parametrize("text", ["", " ", "\t"])
def test_an_empty_output_path_is_refused(text):
    with pytest.raises(RunFolderError, match=r"the output folder is '' \(empty\)"):
        check_out_path(text)


def test_an_existing_file_is_refused_and_kept(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("a user's file")
    before = tree_state(tmp_path)
    with pytest.raises(RunFolderError, match=f"{target} is a file, not a folder"):
        check_run_folder(target)
    with pytest.raises(RunFolderError, match=f"{target} is a file, not a folder"):
        RunFolder.claim(target)
    assert tree_state(tmp_path) == before


def test_a_folder_under_a_file_is_refused(tmp_path):
    blocker = tmp_path / "data.csv"
    blocker.write_text("a,b\n1,2\n")
    before = tree_state(tmp_path)
    with pytest.raises(RunFolderError, match=f"cannot create {blocker}/run/x: {blocker} is a file"):
        RunFolder.claim(blocker / "run" / "x")
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize("out", ["/sys/supremix-run", "/sys/kernel", "/sys/a/b/c"])
def test_a_folder_that_cannot_be_written_is_refused(out):
    """``/sys`` refuses new files even to root (unlike permission bits)."""
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("no /sys on this system")
    existing = "/sys/kernel" if out == "/sys/kernel" else "/sys"
    with pytest.raises(RunFolderError, match=f"cannot write in {existing} .*needed for {out}"):
        RunFolder.claim(out)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(RunFolderError, match=f"cannot write in {folder}"):
            RunFolder.claim(folder)
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("name", RUN_FILES)
def test_a_folder_holding_a_previous_run_is_refused(tmp_path, name):
    folder = previous_run(tmp_path / "run", names=[name])
    before = tree_state(tmp_path)
    with pytest.raises(PreviousRunError) as error:
        RunFolder.claim(folder)
    message = str(error.value)
    assert f"{folder} holds a previous run ({name})" in message
    assert all(way in message for way in WAYS) and "\n" not in message
    assert tree_state(tmp_path) == before


def test_resume_and_overwrite_together_are_refused(tmp_path):
    folder = previous_run(tmp_path / "run")
    before = tree_state(tmp_path)
    with pytest.raises(RunFolderError, match="resume and overwrite exclude each other"):
        RunFolder.claim(folder, resume=True, overwrite=True)
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize("found", [["results.json"], ["best.pt", "metrics.csv"]])
def test_resume_without_last_pt_is_refused(tmp_path, found):
    folder = previous_run(tmp_path / "run", names=found)
    before = tree_state(tmp_path)
    with pytest.raises(RunFolderError, match=f"cannot resume in {folder}: .*no last.pt"):
        RunFolder.claim(folder, resume=True)
    assert tree_state(tmp_path) == before


def test_a_new_folder_is_created_and_left_with_only_the_run_files(tmp_path):
    folder = RunFolder.claim(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b" / LOCK_NAME).is_file() and folder.run_dir.is_dir()
    folder.write_text("x\n", "metrics.csv")
    folder.publish()
    assert sorted(tree_state(tmp_path / "a" / "b")) == ["metrics.csv"]


def test_a_users_files_are_never_removed(tmp_path):
    """Files that look like temporaries of earlier versions, or like a run's own folder, are
    a user's: runs never delete them."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in (".last.pt.tmp-123", ".x.tmp-1", "notes.txt", ".supremix-run-mine"):
        (folder / name).write_text(f"user {name}")
    before = tree_state(folder)
    claimed = RunFolder.claim(folder)
    claimed.save({"epoch": 1}, "last.pt")
    claimed.publish()
    after = tree_state(folder)
    assert {k: v for k, v in after.items() if k != "last.pt"} == before
    again = RunFolder.claim(folder, resume=True)
    again.abandon()
    assert tree_state(folder) == after


def test_a_second_claim_fails_at_once_naming_the_holder(tmp_path):
    first = RunFolder.claim(tmp_path / "run")
    before = tree_state(tmp_path)
    began = time.monotonic()
    with pytest.raises(RunFolderInUseError) as error:
        RunFolder.claim(tmp_path / "run")
    assert time.monotonic() - began < 2
    assert f"{tmp_path / 'run'} is in use by another run (process {os.getpid()}" in str(error.value)
    assert tree_state(tmp_path) == before
    first.abandon()
    RunFolder.claim(tmp_path / "run").abandon()


@pytest.mark.slow
def test_a_run_in_another_process_blocks_a_second_one(tmp_path):
    folder = tmp_path / "run"
    holder, _ = hold_folder(folder)
    try:
        before = tree_state(tmp_path)
        began = time.monotonic()
        for resume, overwrite in ((False, False), (True, False), (False, True)):
            with pytest.raises(RunFolderInUseError, match=f"process {holder.pid} on "):
                RunFolder.claim(folder, resume=resume, overwrite=overwrite)
        with pytest.raises(RunFolderInUseError, match=f"{folder} is in use"):
            check_run_folder(folder)
        assert time.monotonic() - began < 5
        assert tree_state(tmp_path) == before
    finally:
        holder.kill()
        holder.wait(timeout=30)
    RunFolder.claim(folder).abandon()  # the operating system dropped the lock


@pytest.mark.slow
def test_a_killed_run_does_not_block_and_its_own_folder_is_removed(tmp_path):
    folder = tmp_path / "run"
    _, left = hold_folder(folder, die=True)
    assert (folder / LOCK_NAME).is_file() and (folder / left).is_dir()
    (folder / ".supremix-run-users").mkdir()  # not named in the lock file: not the run's
    claimed = RunFolder.claim(folder)
    assert not (folder / left).exists() and (folder / ".supremix-run-users").is_dir()
    claimed.abandon()
    assert sorted(tree_state(folder)) == [".supremix-run-users"]


def test_a_stale_lock_file_of_a_dead_process_does_not_block(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    stale = {"pid": dead_pid(), "host": "here", "started": "then", "run_dir": "../escape"}
    (folder / LOCK_NAME).write_text(json.dumps(stale))
    (tmp_path / "escape").mkdir()
    claimed = RunFolder.claim(folder)
    recorded = json.loads((folder / LOCK_NAME).read_text())
    assert recorded["pid"] == os.getpid() and recorded["run_dir"] == claimed.run_dir.name
    claimed.abandon()
    assert (tmp_path / "escape").is_dir()  # a lock file never makes a run delete outside
    assert tree_state(folder) == {}


def test_replacing_a_run_publishes_the_new_files_together(tmp_path):
    folder = previous_run(tmp_path / "run")
    (folder / "notes.txt").write_text("mine")
    claimed = RunFolder.claim(folder, overwrite=True)
    assert claimed.staged and claimed.work == claimed.run_dir
    claimed.save({"epoch": 9}, "last.pt")
    claimed.write_text("stage\nnew\n", "metrics.csv")
    claimed.write_json({"test": {"mae": 0.1}}, "results.json")
    assert json.loads((folder / "results.json").read_text()) == {"test": {"mae": 1.0}}
    claimed.publish()
    assert sorted(tree_state(folder)) == ["last.pt", "metrics.csv", "notes.txt", "results.json"]
    assert torch.load(folder / "last.pt", weights_only=True) == {"epoch": 9}
    assert json.loads((folder / "results.json").read_text()) == {"test": {"mae": 0.1}}


def test_a_failed_replacing_run_leaves_the_previous_run_as_it_was(tmp_path):
    folder = previous_run(tmp_path / "run")
    before = tree_state(folder)
    claimed = RunFolder.claim(folder, overwrite=True)
    claimed.save({"epoch": 9}, "last.pt")
    claimed.write_text("partial\n", "metrics.csv")
    claimed.abandon()
    assert tree_state(folder) == before
    assert "keeps its previous run unchanged" in claimed.kept_after_failure()


def test_a_study_refuses_run_folders_holding_runs_before_training(tmp_path):
    previous_run(tmp_path / "study" / "supremix-seed1", names=["results.json"])
    before = tree_state(tmp_path)
    planned = [tmp_path / "study" / f"supremix-seed{s}" for s in (0, 1)]
    with pytest.raises(PreviousRunError) as error:
        check_new_run_folders(planned)
    assert f"{planned[1]} holds a previous run (results.json)" in str(error.value)
    assert "new out_dir" in str(error.value)
    check_new_run_folders([tmp_path / "study" / "supremix-seed2"])
    assert tree_state(tmp_path) == before


def test_a_lock_path_that_is_not_a_file_is_one_error_naming_it(tmp_path):
    folder = tmp_path / "run"
    (folder / LOCK_NAME).mkdir(parents=True)
    before = tree_state(tmp_path)
    with pytest.raises(RunFolderError, match=f"cannot lock {folder / LOCK_NAME}: "):
        RunFolder.claim(folder)
    assert tree_state(tmp_path) == before


def test_under_torchrun_only_the_main_process_checks_before_the_data(tmp_path, monkeypatch):
    """Other processes may start after the main one has claimed the folder; the claim in
    ``train`` (main process only) is what guards it."""
    folder = previous_run(tmp_path / "run")
    monkeypatch.setenv("RANK", "1")
    assert check_run_folder(folder) == folder
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(PreviousRunError):
        check_run_folder(folder)


@pytest.mark.parametrize("name", RUN_FILES)
@pytest.mark.parametrize("mode", [{}, {"resume": True}, {"overwrite": True}])
def test_a_folder_where_a_run_writes_a_file_is_refused(tmp_path, name, mode):
    folder = tmp_path / "run"
    (folder / name).mkdir(parents=True)
    (folder / name / "inside.txt").write_text("a user's")
    before = tree_state(tmp_path)
    with pytest.raises(RunFolderError, match=f"{folder}: {name} is a folder, .*move it away"):
        RunFolder.claim(folder, **mode)
    assert tree_state(tmp_path) == before
