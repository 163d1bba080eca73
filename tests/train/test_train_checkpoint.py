"""Atomic checkpoints survive interrupted writes; random states round-trip through them."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from supremix.train import atomic_save, load_checkpoint
from supremix.train import checkpoint as checkpoint_module
from supremix.train.checkpoint import CheckpointError, atomic_write_json
from supremix.train.rng import RunGenerators, global_rng_state, set_global_rng_state


def test_a_write_that_fails_halfway_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    atomic_save({"epoch": 1, "w": torch.arange(5.0)}, path)

    def partial_save(obj, handle):
        handle.write(b"PK\x03\x04 half a zip archive")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", partial_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"epoch": 2}, path)
    monkeypatch.undo()
    state = load_checkpoint(path)
    assert state["epoch"] == 1 and torch.equal(state["w"], torch.arange(5.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


WRITER = textwrap.dedent(
    """
    import sys, torch
    from supremix.train.checkpoint import atomic_save
    path = sys.argv[1]
    i = 0
    while True:
        i += 1
        atomic_save({"i": i, "payload": torch.full((1_500_000,), float(i))}, path)
    """
)


@pytest.mark.slow
def test_a_writer_killed_mid_write_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "last.pt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    try:
        deadline = time.monotonic() + 60
        while not path.exists():
            assert time.monotonic() < deadline, "the writer never produced a checkpoint"
            time.sleep(0.05)
        first = load_checkpoint(path)["i"]
        while load_checkpoint(path)["i"] < first + 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(random.Random(0).uniform(0.0, 0.05))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    finally:
        if writer.poll() is None:
            writer.kill()
    state = load_checkpoint(path)
    assert torch.equal(state["payload"], torch.full((1_500_000,), float(state["i"])))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "last.pt"]
    assert all(name.startswith(".last.pt.") and name.endswith(".tmp") for name in leftovers)


def test_missing_checkpoint_is_named():
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at /nowhere/last\.pt"):
        load_checkpoint("/nowhere/last.pt")


def draws(generators: RunGenerators) -> list[float]:
    return [
        random.random(),
        float(np.random.rand()),
        float(np.random.randn()),
        float(torch.rand(())),
        float(torch.rand((), generator=generators.loader)),
        float(torch.rand((), generator=generators.augment)),
        float(torch.rand((), generator=generators.loss)),
    ]


def test_random_states_round_trip_through_a_checkpoint_file(tmp_path):
    generators = RunGenerators.create(seed=5, rank=0, device=torch.device("cpu"))
    draws(generators)
    np.random.randn()  # leaves a cached Gaussian in numpy's state
    atomic_save(
        {"global": global_rng_state(), "generators": generators.state_dict()}, tmp_path / "s.pt"
    )
    expected = draws(generators)
    draws(generators)
    state = load_checkpoint(tmp_path / "s.pt")
    set_global_rng_state(state["global"])
    generators.load_state_dict(state["generators"])
    assert draws(generators) == expected


def test_generator_streams_differ_by_stream_and_rank():
    cpu = torch.device("cpu")
    a = RunGenerators.create(seed=0, rank=0, device=cpu)
    b = RunGenerators.create(seed=0, rank=1, device=cpu)
    values = [torch.rand(4, generator=g) for g in (a.loader, a.augment, a.loss, b.loader)]
    assert len({tuple(v.tolist()) for v in values}) == 4


def test_writes_land_atomically_via_os_replace(tmp_path, monkeypatch):
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.path.basename(src), os.path.basename(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(checkpoint_module.os, "replace", spy)
    atomic_save({"a": 1}, tmp_path / "best.pt")
    [(temp, final)] = calls
    assert temp.startswith(".best.pt.") and temp.endswith(".tmp") and final == "best.pt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt"]


def test_a_temporary_file_never_replaces_a_users_file_of_the_old_naming(tmp_path):
    """Temporaries are created exclusively under fresh names: a user's file that looks like
    one (the naming of earlier versions) is neither overwritten nor removed."""
    mine = tmp_path / f".best.pt.tmp-{os.getpid()}"
    mine.write_text("a user's notes")
    atomic_save({"a": 1}, tmp_path / "best.pt")
    assert mine.read_text() == "a user's notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "best.pt"])


def test_temporaries_go_to_the_given_folder(tmp_path, monkeypatch):
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append(os.path.dirname(src))
        real_replace(src, dst)

    monkeypatch.setattr(checkpoint_module.os, "replace", spy)
    (tmp_path / "own").mkdir()
    atomic_save({"a": 1}, tmp_path / "best.pt", temp_dir=tmp_path / "own")
    assert calls == [str(tmp_path / "own")] and load_checkpoint(tmp_path / "best.pt") == {"a": 1}


def test_results_json_is_strict_json(tmp_path):
    results = {"test": {"pearson": float("nan"), "mae": 1.5}, "root": tmp_path}
    atomic_write_json(results, tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text()
    assert json.loads(text) == {"test": {"pearson": None, "mae": 1.5}, "root": str(tmp_path)}


@pytest.mark.parametrize("keep", [0, 10, 200])
def test_a_truncated_checkpoint_is_named_not_a_library_error(tmp_path, keep):
    path = tmp_path / "last.pt"
    atomic_save({"w": torch.arange(100.0)}, path)
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(CheckpointError, match=f"{path} is not a readable torch checkpoint"):
        load_checkpoint(path)
    assert path.stat().st_size == keep
