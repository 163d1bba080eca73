"""Seeding and the random-number state of a run, captured for checkpoints.

A run draws from: the global ``random``, ``numpy`` and ``torch`` states (model initialisation,
dropout, dataset-level sampling in the main process), and three :class:`torch.Generator`
streams owned by the run: ``loader`` (seeds DataLoader workers), ``augment`` (augmentations
on the device) and ``loss`` (the Beta draws of SupReMix's mixtures). All of it is saved in each
checkpoint and restored on resume, so a resumed run draws exactly what an uninterrupted run
would have drawn.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

STREAMS = ("loader", "augment", "loss")


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed derived from ``seed`` and integer ``keys`` (independent streams)."""
    state = np.random.SeedSequence([seed, *keys]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def seed_everything(seed: int) -> None:
    """Seed ``random``, ``numpy`` and ``torch`` (all devices) from ``seed``."""
    random.seed(seed)
    np.random.seed(derive_seed(seed, 0) % (2**32))
    torch.manual_seed(derive_seed(seed, 1))


def set_determinism(deterministic: bool, device: torch.device) -> None:
    """``deterministic=True``: deterministic kernels (a warning where none exists) and no cuDNN
    autotuning, so that GPU runs repeat bit for bit; ``False`` on a GPU: cuDNN autotuning for
    speed. CPU runs are deterministic either way."""
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True


@dataclass
class RunGenerators:
    """The run's own generator streams: ``loader`` on the CPU, ``augment`` and ``loss`` on the
    training device."""

    loader: torch.Generator
    augment: torch.Generator
    loss: torch.Generator

    @classmethod
    def create(cls, seed: int, rank: int, device: torch.device) -> RunGenerators:
        """Streams seeded from (``seed``, stream, ``rank``); every process gets its own."""
        gens = {}
        for index, name in enumerate(STREAMS):
            where = torch.device("cpu") if name == "loader" else device
            generator = torch.Generator(device=where)
            generator.manual_seed(derive_seed(seed, 100 + index, rank))
            gens[name] = generator
        return cls(**gens)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name).get_state() for name in STREAMS}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for name in STREAMS:
            getattr(self, name).set_state(state[name].cpu())


def global_rng_state() -> dict[str, Any]:
    """The ``random``, ``numpy`` and ``torch`` global states as checkpoint-safe values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_global_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`global_rng_state` captured."""
    random.setstate(_as_tuple(state["python"]))
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def _as_tuple(value: Any) -> Any:
    """``random.setstate`` wants nested tuples; a checkpoint may hand back lists."""
    if isinstance(value, list | tuple):
        return tuple(_as_tuple(v) for v in value)
    return value


def worker_init(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: seed ``random`` and ``numpy`` from the worker's torch
    seed, which the DataLoader draws from the run's ``loader`` generator."""
    seed = torch.initial_seed() % (2**32)
    random.seed(seed)
    np.random.seed(seed)
