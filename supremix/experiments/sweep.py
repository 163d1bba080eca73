"""Sweeps: one dataset, several variants of a training run, several seeds, one table.

Most experiments of the papers beyond their main tables change one thing of a run and report a
metric per setting: the window γ (the SupReMix paper Table 10), the Beta distribution of
Mix-neg (Table 11), the batch size (Table 15), SupReMix's ingredients (Table 9), LDS/FDS
(Table 16)... A :class:`Variant` is one such row: its label, the
:class:`~supremix.train.TrainConfig` fields it changes, an optional change of the training set
(:attr:`Variant.train_subset`: fewer items, removed label ranges) and the row of the paper's
table it corresponds to (:class:`PaperRow`). :func:`run_sweep` trains every variant with every
seed on the same splits and keeps each run's predictions on the evaluation split;
:class:`~supremix.experiments.results.Sweep` turns them into the views the notebooks show. A
method comparison is a sweep whose variants are methods
(:func:`~supremix.experiments.comparison.compare_methods`).

>>> sweep = run_sweep("rsna", [Variant("γ=1", {"window": 1.0}), Variant("γ=5", {"window": 5.0})])
>>> sweep.beside_paper("supremix", "Table 10")          # doctest: +SKIP

Settings are those of :class:`~supremix.experiments.settings.RunSettings` (the paper's preset
with a ``data_root``, else the ``-cpu`` preset with the book's phantom settings), then each
variant's overrides. The paper's numbers are references from :mod:`supremix.paper`, never
results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supremix.data.base import RegressionDataset
from supremix.train import TrainConfig, predict, train
from supremix.train.engine import EpochCallback
from supremix.train.protocols import BatchObserver
from supremix.train.run_folder import check_new_run_folders

from .results import METRIC_KEYS, SETTINGS_SHOWN, Sweep, VariantRun
from .session import StudySplits, open_study_splits, training_session
from .settings import RunSettings
from .windows import sweep_window

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    #: The :class:`Sweep` class :func:`run_sweep` fills (``result_type``; default ``Sweep``).
    SweepT = TypeVar("SweepT", bound=Sweep, default=Sweep)

__all__ = [
    "METRIC_KEYS",
    "SETTINGS_SHOWN",
    "PaperRow",
    "Sweep",
    "TrainSubset",
    "Variant",
    "VariantRun",
    "known_choices",
    "run_folder",
    "run_sweep",
    "train_variant",
]

#: ``train_subset(train_split, seed) -> dataset``: a variant's training items.
TrainSubset = Callable[[RegressionDataset, int], RegressionDataset]


def known_choices(kind: str, given: Iterable[str] | None, known: Iterable[str]) -> list[str]:
    """``given`` as a list, checked to be distinct ``kind`` names (``"method"``, ``"row"``...)
    among ``known``, at least one; otherwise a ``ValueError`` naming the wrong ones. ``None``
    gives all of ``known`` (the keys of a mapping)."""
    known = list(known)
    given = list(known if given is None else given)
    unknown = [g for g in given if g not in known]
    if unknown or not given:
        raise ValueError(
            f"unknown or no {kind}s {unknown or given}; expected some of {', '.join(known)}"
        )
    if len(set(given)) != len(given):
        raise ValueError(f"{kind}s {given} name a {kind} twice")
    return given


def run_folder(out_dir: str | Path, index: int, seed: int) -> Path:
    """The folder :func:`run_sweep` writes the run of its ``index``-th variant with ``seed``
    into (checkpoints, ``metrics.csv``, ``results.json``), under ``out_dir``."""
    return Path(out_dir) / f"variant{index}-seed{seed}"


@dataclass(frozen=True)
class PaperRow:
    """Where a variant's numbers are in a table of :mod:`supremix.paper`: the ``method`` and
    ``setting`` columns of :func:`~supremix.paper.paper_results` (``setting`` ``""`` where the
    table has none) and, where the table reports a subset of the data as its whole, that
    ``subset`` (e.g. ``"all"`` in the SupReMix paper Table 16)."""

    method: str
    setting: str = ""
    subset: str = ""


@dataclass(frozen=True)
class Variant:
    """One row of a sweep: ``label`` (shown), the ``overrides`` of the sweep's configuration,
    an optional ``train_subset`` of the training split and the ``paper`` row it reproduces."""

    label: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    paper: PaperRow | None = None
    train_subset: TrainSubset | None = None


def train_variant(
    config: TrainConfig,
    variant: Variant,
    data: StudySplits,
    out_dir: Path,
    *,
    keep_features: bool,
    keep_history: bool = False,
    callbacks: Sequence[EpochCallback] = (),
    batch_observers: Sequence[BatchObserver] = (),
) -> VariantRun:
    """Train ``variant`` (its overrides applied to ``config``, whose seed is the run's) on
    ``data``, then predict the evaluation split with the selected weights in float32.
    ``callbacks`` and ``batch_observers`` watch the training (:func:`supremix.train.train`)."""
    began = time.perf_counter()
    train_set = data.train
    if variant.train_subset is not None:
        train_set = variant.train_subset(train_set, config.seed)
    config = config.replace(**variant.overrides)
    result = train(
        config,
        train_set=train_set,
        val_set=data.splits["val"],
        test_set=data.splits["test"],
        out_dir=out_dir,
        data_info=data.data_info,
        callbacks=callbacks,
        batch_observers=batch_observers,
    )
    outputs = predict(result.model, data.evaluation, batch_size=config.batch_size)
    return VariantRun(
        label=variant.label,
        seed=config.seed,
        metrics=outputs.metrics(),
        preds=outputs.preds,
        features=outputs.features if keep_features else None,
        seconds=time.perf_counter() - began,
        n_train=len(train_set),
        val_metrics=dict(result.metrics.get("val", {})),
        history=list(result.history) if keep_history else [],
        augment=config.augment,
    )


def run_sweep(
    dataset: str,
    variants: Sequence[Variant],
    settings: RunSettings | None = None,
    *,
    seeds: Sequence[int] = (0, 1),
    keep_features: bool = False,
    keep_history: bool = False,
    embedding_seed: int | None = None,
    result_type: type[SweepT] = Sweep,  # type: ignore[assignment]  # mypy: TypeVar default
    **changes: Any,
) -> SweepT:
    """Train every variant with every seed on ``dataset``'s splits (see the module docstring).

    ``settings`` (:class:`~supremix.experiments.settings.RunSettings`), with ``changes`` to its
    fields (``preset=...``, ``smoke=True``...), say how: the splits are opened once; each run is
    :func:`supremix.train.train` with the resolved configuration updated by the variant's
    overrides and the seed, on the variant's ``train_subset(train, seed)`` where it has one.
    ``smoke`` runs the first seed only at one epoch per stage. ``keep_features`` keeps the
    encoder features of the evaluation items from ``embedding_seed`` (default: the first
    seed); ``keep_history`` every run's per-epoch metrics. ``result_type``: the
    :class:`~supremix.experiments.results.Sweep` class to fill (a subclass adds views).

    Before any training, the Mix-pos window of the variants that train SupReMix at the
    configuration's window is measured on the training labels and checked
    (:func:`~supremix.experiments.windows.sweep_window`): a window that forms no Mix-pos or
    covers the whole label range raises :class:`~supremix.train.windows.WindowError`.
    """
    settings = RunSettings.of(settings, **changes)
    variants = list(variants)
    labels = [v.label for v in variants]
    if not variants:
        raise ValueError("no variants given")
    if len(set(labels)) != len(labels):
        raise ValueError(f"variant labels must be distinct, got {labels}")
    seeds = settings.seeds(seeds)
    embedding_seed = seeds[0] if embedding_seed is None else embedding_seed
    if embedding_seed not in seeds:
        raise ValueError(f"embedding_seed {embedding_seed} is not one of the seeds {seeds}")
    name, config = settings.train_config(dataset)
    for variant in variants:
        config.replace(**variant.overrides)  # fail before any training on a bad override
    data = open_study_splits(config, settings.data_root, settings.memory_cache)
    train_targets = data.targets("train")
    window = sweep_window(config, variants, train_targets)
    sweep = result_type.on_splits(
        dataset,
        name,
        config,
        data,
        targets=data.targets(data.eval_split),
        train_targets=train_targets,
        variants=variants,
        smoke=settings.smoke,
        ids=[str(i) for i in data.evaluation.ids],
        embedding_seed=embedding_seed,
        window=window,
    )
    prefix = f"{result_type.__name__.lower()}-"
    with training_session(config, settings.out_dir, settings.cpu_threads, prefix=prefix) as out:
        check_new_run_folders(run_folder(out, i, s) for i in range(len(variants)) for s in seeds)
        for index, variant in enumerate(variants):
            for seed in seeds:
                sweep.runs.append(
                    train_variant(
                        config.replace(seed=seed),
                        variant,
                        data,
                        run_folder(out, index, seed),
                        keep_features=keep_features and seed == embedding_seed,
                        keep_history=keep_history,
                    )
                )
    return sweep
