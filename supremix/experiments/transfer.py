"""Transfer between the bone-age datasets: RSNA -> RHPE and RHPE -> RSNA (the SupReMix paper, §5.6,
Table 8).

"(1) from RSNA (source, 12K samples) to RHPE (target, 2K subsampled samples), and (2) from
RHPE (source, 6K samples) to RSNA (target, 2K subsampled samples). For each scenario, we assess
two transfer learning strategies: linear probing, where we train only a linear layer while
keeping the pre-trained encoder frozen, and fine-tuning, where we update the entire network on
the target dataset." Table 8's header says the RSNA target holds 1k samples where the text says
2K; :data:`DIRECTIONS` follow the header, whose columns the numbers belong to.

Per direction and seed, each contrastive method of Table 8 is trained on the whole source
training split with the source's protocol (:func:`~.sweep.run_sweep`; its linear probe gives
the source's own metrics). On the target, a Vanilla run starts from that run's encoder
(``init_encoder``) and trains on a subsample of the target's training split
(:func:`~.reduced_data.scaled_training_size`: the paper's share of it), either its linear
regressor only (``freeze_encoder=True``, linear probing) or the whole network (fine-tuning).
The paper gives no schedule for the target; here every target run makes as many optimisation
steps as the second stage of the source's protocol makes on a whole training split
(:func:`matched_epochs`: ``probe_epochs`` of full batches of the target's whole split), so
that a small subsample is not also trained for a fraction of the steps. A Vanilla run from
scratch on the same subsample and schedule (:data:`SCRATCH`, not in Table 8) says what the
transfer adds.

RSNA and RHPE images have one shape after loading (one channel, the preset's image size), so
an encoder trained on one reads the other. Their phantoms come from one generator
(:mod:`supremix.data.phantoms.bone_xray`: the same hand anatomy as a function of bone age,
RHPE showing both hands and being cropped to the labelled one), which makes the transfer
meaningful on phantoms too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from supremix.analysis.figure import report_figure
from supremix.paper import canonical_method, reference_label
from supremix.reporting import summarise_runs
from supremix.train import PRESETS, TrainConfig, open_splits

from .reduced_data import draw_subset, scaled_training_size, training_split_size
from .run_facts import data_words, sweeps_facts
from .settings import RunSettings, study_config
from .sweep import PaperRow, Sweep, Variant, known_choices, run_folder, run_sweep

PAPER_TABLE = "Table 8"

#: The methods of Table 8 (every contrastive method).
METHODS = ("simclr", "supcon", "adacon", "rnc", "supremix")

#: Table 8's strategies -> ``freeze_encoder`` of the target run.
STRATEGIES: dict[str, bool] = {"linear probing": True, "fine-tuning": False}

#: Label of the target run trained from scratch (not in Table 8).
SCRATCH = "Vanilla, no transfer"

_NAMES = {"rsna": "RSNA", "rhpe": "RHPE"}


@dataclass(frozen=True)
class Direction:
    """A transfer from ``source`` to ``target`` whose training split Table 8 subsampled to
    ``paper_target_size`` samples."""

    source: str
    target: str
    paper_target_size: int

    @property
    def label(self) -> str:
        """``"RSNA → RHPE"``."""
        return f"{_NAMES[self.source]} → {_NAMES[self.target]}"

    def paper_setting(self, strategy: str) -> str:
        """The ``setting`` of Table 8's column for ``strategy`` in
        :func:`supremix.paper.paper_results`."""
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        return f"{self.label} (subsampled, {self.paper_target_size // 1000}k); {strategy}"


#: Table 8's two directions, by the key the notebook's ``directions`` parameter uses.
DIRECTIONS: dict[str, Direction] = {
    "rsna->rhpe": Direction("rsna", "rhpe", 2_000),
    "rhpe->rsna": Direction("rhpe", "rsna", 1_000),
}


def source_variants(dataset: str, methods: Sequence[str], augment: str) -> list[Variant]:
    """One source run per contrastive method; SimCLR keeps the paper preset's augmentation
    where the sweep has none (its two views differ only by augmentation)."""
    variants = []
    for method in methods:
        overrides: dict[str, Any] = {"method": method}
        if method == "simclr" and augment == "none":
            overrides["augment"] = PRESETS[dataset].augment
        variants.append(Variant(canonical_method(method), overrides))
    return variants


def target_variants(
    direction: Direction,
    methods: Sequence[str],
    sources: Mapping[str, str | Path],
    *,
    size: int,
    schedule: Mapping[str, Any],
    scratch: bool = True,
) -> list[Variant]:
    """The target runs of ``direction``: per method and strategy of Table 8, a Vanilla run from
    the encoder in ``sources[method]`` (a source run folder) on ``size`` target items with the
    TrainConfig fields of ``schedule`` (:func:`target_schedule`); with ``scratch``, a Vanilla
    run from scratch on the same items and schedule."""
    subset = functools.partial(draw_subset, size)
    variants = []
    for method in methods:
        name = canonical_method(method)
        for strategy, freeze in STRATEGIES.items():
            overrides = {
                "method": "vanilla",
                "init_encoder": str(sources[method]),
                "freeze_encoder": freeze,
                **schedule,
            }
            paper = PaperRow(name, direction.paper_setting(strategy))
            variants.append(Variant(f"{name}, {strategy}", overrides, paper, subset))
    if scratch:
        variants.append(Variant(SCRATCH, {"method": "vanilla", **schedule}, None, subset))
    return variants


def matched_epochs(epochs: int, n_full: int, n_subset: int, batch_size: int) -> int:
    """Epochs on ``n_subset`` items that make at least the optimisation steps of ``epochs``
    epochs on ``n_full`` items, in full batches of ``batch_size`` (the training loader drops
    the last partial batch)."""
    if not 1 <= batch_size <= n_subset <= n_full:
        raise ValueError(
            f"need 1 <= batch_size <= n_subset <= n_full, got batch_size={batch_size}, "
            f"n_subset={n_subset}, n_full={n_full}"
        )
    steps = epochs * (n_full // batch_size)
    return -(-steps // (n_subset // batch_size))


def target_schedule(config: TrainConfig, n_target: int, size: int) -> dict[str, Any]:
    """The target runs' schedule: :func:`matched_epochs` of ``config.probe_epochs`` on ``size``
    of the ``n_target`` training items, with the probe stage's warm-up, validated (and
    checkpointed) as often per step as the probe stage is per epoch."""
    epochs = matched_epochs(config.probe_epochs, n_target, size, config.batch_size)
    every = -(-epochs // config.probe_epochs)
    return {
        "epochs": epochs,
        "warmup_epochs": config.probe_warmup_epochs,
        "eval_every": config.eval_every * every,
        "checkpoint_every": config.checkpoint_every * every,
    }


def _merge(sweeps: Sequence[Sweep], variants: list[Variant]) -> Sweep:
    """One sweep holding the runs of per-seed sweeps of the same variants and data."""
    first = sweeps[0]
    for other in sweeps[1:]:
        if not np.array_equal(other.targets, first.targets):
            raise ValueError("per-seed sweeps were evaluated on different items; cannot merge")
    return dataclasses.replace(first, variants=variants, runs=[r for s in sweeps for r in s.runs])


def _shown(variants: Sequence[Variant], source: str) -> list[Variant]:
    """``variants`` with ``init_encoder`` naming the source run instead of a temporary path."""
    shown = []
    for variant in variants:
        overrides = dict(variant.overrides)
        if "init_encoder" in overrides:
            method = variant.label.split(", ")[0]
            overrides["init_encoder"] = f"{method} run on {_NAMES[source]}, same seed"
        shown.append(dataclasses.replace(variant, overrides=overrides))
    return shown


@dataclass
class TransferRun:
    """Per direction (by :attr:`Direction.label`): the source sweep (the contrastive runs on
    the source, each probed there) and the target sweep (Table 8's runs)."""

    directions: list[Direction]
    sources: dict[str, Sweep]
    targets: dict[str, Sweep]

    def beside_paper(self) -> pd.DataFrame:
        """The target runs beside Table 8, indexed by (direction, variant, metric)."""
        parts = []
        for direction in self.directions:
            sweep = self.targets[direction.label]
            part = sweep.beside_paper("supremix", PAPER_TABLE, dataset=direction.target)
            parts.append(pd.concat({direction.label: part}, names=["direction"]))
        return pd.concat(parts)

    def source_table(self, metrics: Sequence[str] = ("MAE", "rho")) -> pd.DataFrame:
        """Each source run's linear probe on its own dataset (mean and std over seeds)."""
        return pd.concat(
            {d.label: self.sources[d.label].table(metrics) for d in self.directions},
            names=["direction"],
        )

    @property
    def data_kind(self) -> str:
        return self.targets[self.directions[0].label].data_kind

    def facts_table(self, metric: str = "MAE") -> pd.DataFrame:
        """What each direction's target runs measured (:func:`~.run_facts.sweep_facts`), one
        row per direction: the notebook's prose names the columns, as the number of
        directions is a parameter."""
        targets = {d.label: self.targets[d.label] for d in self.directions}
        return sweeps_facts(targets, metric).rename_axis("direction")

    def facts(self) -> dict[str, Any]:
        """What the directions share, by name, for the notebook's prose: ``directions`` (how
        many ran), ``seeds`` (how many per run) and ``data`` ("phantom" or "real data", as
        :attr:`data_kind`)."""
        first = self.targets[self.directions[0].label]
        return {
            "directions": len(self.directions),
            "seeds": len(first.seeds),
            "data": data_words(self.data_kind),
        }

    def summary(self, *, notes: str = "") -> dict[str, Any]:
        """The target runs as one :mod:`supremix.reporting` results summary, one "method" per
        (direction, variant), named ``"<direction>: <variant>"``."""
        records = []
        for direction in self.directions:
            for run in self.targets[direction.label].runs:
                metrics = {k: v for k, v in run.metrics.items() if np.isfinite(v)}
                records.append(
                    {
                        "method": f"{direction.label}: {run.label}",
                        "seed": run.seed,
                        "metrics": metrics,
                    }
                )
        first = self.targets[self.directions[0].label]
        provenance = {
            "experiment": f"transfer ({reference_label('supremix', PAPER_TABLE)})",
            "preset": first.preset,
            "smoke": first.smoke,
            "epochs": first.config.epochs,
            "probe_epochs": first.config.probe_epochs,
            "batch_size": first.config.batch_size,
            "device": first.config.device,
        }
        return summarise_runs(
            records,
            data_kind=self.data_kind,
            dataset=", ".join(sorted({d.target for d in self.directions})),
            notes=notes,
            provenance=provenance,
        )


def _roots(
    data_root: str | Path | Mapping[str, str | Path] | None,
) -> dict[str, str | Path | None]:
    if data_root is None:
        return dict.fromkeys(_NAMES)
    if isinstance(data_root, Mapping):
        roots = {k: data_root.get(k) for k in _NAMES}
    else:
        roots = {k: Path(data_root) / k for k in _NAMES}
    missing = [k for k, v in roots.items() if v is None]
    if missing:
        raise ValueError(
            f"data_root gives no folder for {', '.join(missing)}; transfer needs both datasets "
            "real (their encoders must match) or both phantoms (data_root=None)"
        )
    return roots


def input_examples(
    data_root: str | Path | Mapping[str, str | Path] | None = None,
    *,
    n: int = 6,
    smoke: bool = False,
) -> Figure:
    """The first ``n`` training inputs of RSNA and RHPE as the encoders see them (after each
    dataset's own preprocessing, at its preset's image size), one row per dataset."""
    roots = _roots(data_root)
    figure = report_figure(figsize=(1.3 * n, 3.6), layout="constrained")
    axes = figure.subplots(len(_NAMES), n, squeeze=False)
    for row, dataset in zip(axes, _NAMES, strict=True):
        _, config = study_config(dataset, data_root=roots[dataset], smoke=smoke)
        train = open_splits(config, roots[dataset])[0]["train"]
        for index, axis in enumerate(row):
            item = train[index]
            axis.imshow(item["x"][0].numpy(), cmap="gray", vmin=0.0, vmax=1.0)
            axis.set_axis_off()
            axis.set_title(f"{_NAMES[dataset]}, {item['y']:g} months", fontsize=8)
    return figure


def run_transfer(
    *,
    directions: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1),
    data_root: str | Path | Mapping[str, str | Path] | None = None,
    scratch: bool = True,
    settings: RunSettings | None = None,
    **changes: Any,
) -> TransferRun:
    """Table 8's transfers (the SupReMix paper §5.6; module docstring).

    ``directions``: keys of :data:`DIRECTIONS` (``None``: both); ``methods``: some of
    :data:`METHODS` (``None``: all). ``data_root``: ``None`` (both phantoms), a folder holding
    ``rsna/`` and ``rhpe/``, or ``{"rsna": ..., "rhpe": ...}``; each dataset uses its own
    preset (the paper's with real data, else ``-cpu``). ``out_dir`` keeps the source runs'
    checkpoints (``None``: a temporary folder). ``settings`` and ``changes`` (no ``preset``,
    no ``data_root``): :func:`~.sweep.run_sweep`.
    """
    settings = RunSettings.of(settings, **changes)
    if settings.preset is not None or settings.data_root is not None:
        raise ValueError(
            "run_transfer: each dataset uses its own preset and data root; pass data_root as "
            "run_transfer's own argument and no preset"
        )
    keys = known_choices("direction", directions, DIRECTIONS)
    methods = known_choices("method", methods, METHODS)
    seeds = settings.seeds(seeds)
    roots = _roots(data_root)
    run = TransferRun([DIRECTIONS[k] for k in keys], {}, {})
    with contextlib.ExitStack() as stack:
        out_dir = settings.out_dir
        if out_dir is None:
            out_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="transfer-"))
        for direction in run.directions:
            source = settings.replace(data_root=roots[direction.source])
            target = settings.replace(data_root=roots[direction.target], out_dir=None)
            _, source_config = source.train_config(direction.source)
            n_target, config = training_split_size(direction.target, target)
            size = scaled_training_size(
                direction.paper_target_size,
                direction.target,
                n_target,
                min_size=min(config.batch_size, n_target),
            )
            source_parts, target_parts = [], []
            for seed in seeds:
                folder = Path(out_dir) / f"{direction.source}-to-{direction.target}"
                sources = source_variants(direction.source, methods, source_config.augment)
                source_parts.append(
                    run_sweep(
                        direction.source, sources, source.replace(out_dir=folder), seeds=[seed]
                    )
                )
                encoders = {m: run_folder(folder, i, seed) for i, m in enumerate(methods)}
                targets = target_variants(
                    direction,
                    methods,
                    encoders,
                    size=size,
                    schedule=target_schedule(config, n_target, size),
                    scratch=scratch,
                )
                target_parts.append(run_sweep(direction.target, targets, target, seeds=[seed]))
            run.sources[direction.label] = _merge(source_parts, sources)
            run.targets[direction.label] = _merge(target_parts, _shown(targets, direction.source))
    return run
