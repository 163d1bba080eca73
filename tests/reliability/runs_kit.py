"""Helpers of the run-folder reliability tests: a folder's state to compare before and after,
a tiny tabular dataset and configuration, a subprocess that holds a run folder."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import torch

from supremix.data.base import RegressionDataset
from supremix.train import TrainConfig


def tree_state(root: str | Path) -> dict[str, str]:
    """``relative path -> SHA-256 of the content`` (``"dir"`` for folders) of everything
    under ``root``, hidden files included; ``{}`` when ``root`` does not exist."""
    root = Path(root)
    if not root.exists():
        return {}
    if root.is_file():
        return {".": hashlib.sha256(root.read_bytes()).hexdigest()}
    state = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        state[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return state


class Rows(RegressionDataset):
    """``n`` rows of ``d`` Gaussian features with integer labels (a fixed linear map)."""

    name = "rows"
    modality = "tabular"

    def __init__(self, n: int = 32, d: int = 4, seed: int = 0, split: str = "train"):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n, d)).astype(np.float32)
        targets = np.round(20 + 4 * self.x @ np.linspace(-1.0, 1.0, d))
        super().__init__([f"{split}{i}" for i in range(n)], targets, split=split)

    def load(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.x[index])


def rows_splits(n_train: int = 32, seed: int = 0) -> dict[str, Rows]:
    return {
        "train_set": Rows(n_train, seed=seed, split="train"),
        "val_set": Rows(16, seed=seed + 1, split="val"),
        "test_set": Rows(16, seed=seed + 2, split="test"),
    }


def tiny_config(**changes: Any) -> TrainConfig:
    """One epoch of vanilla regression with a small MLP: a run in about a second."""
    values: dict[str, Any] = {
        "method": "vanilla",
        "epochs": 1,
        "warmup_epochs": 0,
        "batch_size": 16,
        "feature_dim": 8,
        "head_hidden_dim": 8,
        "model_size": "cpu",
        "device": "cpu",
        "progress": False,
    }
    values.update(changes)
    return TrainConfig(**values)


HOLDER = textwrap.dedent(
    """
    import sys, time
    from supremix.train.run_folder import RunFolder
    folder = RunFolder.claim(sys.argv[1])
    print(folder.run_dir.name, flush=True)
    if sys.argv[2] == "exit":
        import os
        os._exit(0)  # dies holding the folder, as a killed run does
    time.sleep(120)
    """
)


def hold_folder(folder: Path, *, die: bool = False) -> tuple[subprocess.Popen, str]:
    """A process that claims ``folder`` as a run does and then waits (or dies at once,
    leaving its lock file and own folder behind); returns it and its own folder's name."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), "exit" if die else "wait"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    run_dir = process.stdout.readline().strip()
    assert run_dir.startswith(".supremix-run-"), "the holder did not claim the folder"
    if die:
        process.wait(timeout=30)
    return process, run_dir


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid
