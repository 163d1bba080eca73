"""What a study or sweep opens once for all its runs: the splits, and the folder and CPU threads
the runs train with.

:func:`open_study_splits` returns :class:`StudySplits` (a named tuple, so ``splits, info,
eval_split = open_study_splits(...)`` still unpacks); :func:`training_session` is the context
every run trains in; :class:`SplitRuns` is what every result of runs on those splits holds.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import torch

from supremix.data.base import RegressionDataset
from supremix.data.cache import InMemoryDataset
from supremix.reporting import summarise_runs
from supremix.train import TrainConfig, open_splits

if TYPE_CHECKING:
    from typing_extensions import Self


class StudySplits(NamedTuple):
    """The splits of a study (``"train"``, ``"val"``, ``"test"`` -> dataset, ``None`` where
    withheld), the data description of :func:`supremix.train.open_splits` (``name``, ``kind``:
    ``"real"`` or ``"phantom"``, ``root``...) and the split every run is evaluated on."""

    splits: dict[str, RegressionDataset | None]
    data_info: dict[str, Any]
    eval_split: str

    def split(self, name: str) -> RegressionDataset:
        """The dataset of split ``name``; a ``ValueError`` where that split is withheld."""
        dataset = self.splits[name]
        if dataset is None:
            raise ValueError(f"{self.data_info.get('name')}: the {name} split is withheld")
        return dataset

    @property
    def train(self) -> RegressionDataset:
        return self.split("train")

    @property
    def evaluation(self) -> RegressionDataset:
        """The dataset of :attr:`eval_split`."""
        return self.split(self.eval_split)

    @property
    def data_kind(self) -> str:
        return self.data_info["kind"]

    def targets(self, split: str) -> np.ndarray:
        """The labels of ``split`` as float64, in item order."""
        return np.asarray(self.split(split).targets, dtype=np.float64)


def open_study_splits(
    config: TrainConfig, data_root: str | Path | None, memory_cache: bool | None
) -> StudySplits:
    """:func:`supremix.train.open_splits`, served from :class:`InMemoryDataset` when
    ``memory_cache`` (``None``: for phantoms, unless ``cache_items`` caches them on disk
    already), evaluated on ``"test"`` or, where the test labels are withheld, ``"val"``."""
    splits, info = open_splits(config, data_root)
    if memory_cache is None:
        memory_cache = info["kind"] == "phantom" and not config.cache_items
    if memory_cache:
        splits = {k: None if d is None else InMemoryDataset(d) for k, d in splits.items()}
    eval_split = "test" if splits["test"] is not None else "val"
    if splits[eval_split] is None:
        raise ValueError(
            f"{config.dataset}: neither a labelled test nor a val split to evaluate on"
        )
    return StudySplits(splits, info, eval_split)


class SeededRuns:
    """What every result of runs over seeds reads the same way: its ``runs`` (each with a
    ``seed``) and ``data`` (the data description of :func:`supremix.train.open_splits`)."""

    runs: Sequence[Any]
    data: dict[str, Any]

    @property
    def seeds(self) -> list[int]:
        """The seeds that were run, sorted."""
        return sorted({r.seed for r in self.runs})

    @property
    def data_kind(self) -> str:
        """``"phantom"`` or ``"real"``."""
        return self.data["kind"]


@dataclass
class SplitRuns(SeededRuns):
    """Runs on one dataset's splits: its name, the preset and configuration every run starts
    from, the data description and the split the runs are evaluated on."""

    dataset: str
    preset: str
    config: TrainConfig
    data: dict[str, Any]
    eval_split: str

    @classmethod
    def on_splits(
        cls, dataset: str, preset: str, config: TrainConfig, splits: StudySplits, **fields: Any
    ) -> Self:
        """The result, still without runs, of runs on ``splits``; ``fields`` are the
        subclass's own (the five above come first, in this order)."""
        return cls(dataset, preset, config, splits.data_info, splits.eval_split, **fields)

    def summarise(
        self,
        records: Sequence[dict[str, Any]],
        *,
        smoke: bool,
        notes: str = "",
        experiment: str = "",
        provenance: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``records`` as a :mod:`supremix.reporting` results summary of these runs, whose
        provenance names ``experiment``, the preset, the evaluation split, whether it was a
        ``smoke`` run, the schedule and the device every run shared, then the caller's own
        ``provenance``."""
        where = {
            **({"experiment": experiment} if experiment else {}),
            "preset": self.preset,
            "eval_split": self.eval_split,
            "smoke": smoke,
            "epochs": self.config.epochs,
            "probe_epochs": self.config.probe_epochs,
            "batch_size": self.config.batch_size,
            "device": self.config.device,
            **dict(provenance or {}),
        }
        return summarise_runs(
            list(records),
            data_kind=self.data_kind,
            dataset=self.dataset,
            notes=notes,
            provenance=where,
        )


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (``None``: leave them as they are)."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise ValueError(f"threads must be >= 1 or None, got {threads}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def training_session(
    config: TrainConfig, out_dir: str | Path | None, cpu_threads: int | None, *, prefix: str
) -> Iterator[Path]:
    """The folder a study's runs write to (``out_dir``, else a temporary one removed at the
    end), with ``cpu_threads`` torch threads while training on the CPU."""
    cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    with contextlib.ExitStack() as stack:
        if out_dir is None:
            out_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))
        stack.enter_context(torch_threads(cpu_threads if cpu else None))
        yield Path(out_dir)
