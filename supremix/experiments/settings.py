"""How a study or sweep is run, as one frozen object, and the configuration it resolves to.

Every entry point of the experiments (:func:`~supremix.experiments.sweep.run_sweep`,
:func:`~supremix.experiments.comparison.compare_methods`, the experiment modules' ``run_*``)
takes the same settings: which preset, how long, where the data and the run folders are, on
which device, how many CPU threads. :class:`RunSettings` holds them, validated once, as
:class:`~supremix.train.TrainConfig` holds a run's configuration:

>>> settings = RunSettings(epochs=4, smoke=True)
>>> settings.replace(device="cpu").device
'cpu'

:meth:`RunSettings.train_config` resolves them for one dataset, in this order: the preset
(:func:`resolve_preset`: the paper's with a ``data_root``, its ``-cpu`` variant on a phantom);
the book's phantom settings (:data:`PHANTOM_SETTINGS`, for ``-cpu`` presets only); the
``overrides``; ``epochs``, ``probe_epochs`` and ``batch_size`` where set; the smoke settings
(:data:`SMOKE_SETTINGS`); the device. None of these is a paper's setting unless the preset is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from supremix.fields import unknown_fields
from supremix.paper.sources import paper_reference
from supremix.train import PRESETS, TrainConfig
from supremix.train.config import MAIN_METHODS

_SHORT = {"lr": 3e-3, "augment": "none", "epochs": 12, "probe_epochs": 6}

#: The book's phantom runs, applied on top of a "<dataset>-cpu" preset: every method with two
#: seeds in a few minutes on two CPU cores (one torch thread). Short runs learn little with
#: augmentation and at lr 1e-3, so augmentation is off (SimCLR keeps it: see compare_methods)
#: and lr is 3e-3. The phantoms are several hundred items (test splits of 40-80 items) and the
#: schedules short: at a fixed budget more items taught more than more epochs (the phantoms
#: page, book/phantoms.md). UK Biobank volumes are 24 voxels a side (ukb-cpu's are 32, which
#: SFCN and the CPU-size 3-D ViT of the pretraining chapter need); EchoNet clips are 8 frames
#: at period 4 (about one heart cycle) of 24 x 24 pixels, in batches of 8 (more steps in the
#: same time learned more). Not the papers' settings.
PHANTOM_SETTINGS: dict[str, dict[str, Any]] = {
    "ukb": {
        **_SHORT,
        "phantom_n": 400,
        "epochs": 10,
        "probe_epochs": 5,
        "dataset_options": {"size": 24},
    },
    "hcp": {**_SHORT, "phantom_n": 480, "epochs": 12, "probe_epochs": 6},
    "rsna": {**_SHORT, "phantom_n": 800, "epochs": 12, "probe_epochs": 6},
    "rhpe": {**_SHORT, "phantom_n": 320, "epochs": 24, "probe_epochs": 12},
    "echonet": {
        **_SHORT,
        "phantom_n": 400,
        "epochs": 10,
        "probe_epochs": 3,
        "batch_size": 8,
        "dataset_options": {"length": 8, "period": 4, "size": 24},
    },
    "a4": {**_SHORT, "phantom_n": 160},
    "agedb": {**_SHORT, "phantom_n": 480},
    "imdbwiki": {**_SHORT, "phantom_n": 480},
    "stsb": {**_SHORT, "phantom_n": 480},
}

#: ``smoke=True``: one epoch per stage on a small phantom, to check that everything runs.
SMOKE_SETTINGS: dict[str, Any] = {
    "epochs": 1,
    "probe_epochs": 1,
    "warmup_epochs": 0,
    "probe_warmup_epochs": 0,
}
#: ``smoke=True`` on a phantom: its number of items (the faces' balanced splits need more).
SMOKE_PHANTOM_N: dict[str, int] = {
    "ukb": 64,
    "hcp": 64,
    "rsna": 64,
    "rhpe": 64,
    "echonet": 64,
    "a4": 64,
    "agedb": 160,
    "imdbwiki": 160,
    "stsb": 64,
}

_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(TrainConfig))


def _positive_or_none(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"run settings: {name} must be a positive integer or None, got {value!r}")


@dataclass(frozen=True)
class RunSettings:
    """The settings every run of a study or sweep shares, besides its method, variant and seed.

    ``preset``: a name of :data:`supremix.train.PRESETS` (``None``: :func:`resolve_preset`).
    ``epochs``, ``probe_epochs``, ``batch_size``: replace the preset's where set. ``data_root``:
    the dataset in its official layout (``None``: the phantom, or for airfoil the UCI file).
    ``device``: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``... ``smoke``: the first seed
    only, one epoch per stage, a tiny phantom. ``overrides``: further
    :class:`~supremix.train.TrainConfig` fields. ``out_dir``: keep the run folders there
    (``None``: a temporary folder). ``cpu_threads``: torch CPU threads while training on the
    CPU (``None``: torch's setting). ``memory_cache``: decode each item once and serve the
    splits from memory (``None``: for phantoms not cached on disk).
    """

    preset: str | None = None
    epochs: int | None = None
    probe_epochs: int | None = None
    batch_size: int | None = None
    data_root: str | Path | None = None
    device: str = "auto"
    smoke: bool = False
    overrides: Mapping[str, Any] | None = field(default_factory=dict)
    out_dir: str | Path | None = None
    cpu_threads: int | None = 1
    memory_cache: bool | None = None

    def __post_init__(self) -> None:
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(
                f"run settings: unknown preset {self.preset!r}; expected one of "
                f"{', '.join(sorted(PRESETS))}"
            )
        for name in ("epochs", "probe_epochs", "batch_size", "cpu_threads"):
            _positive_or_none(name, getattr(self, name))
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"run settings: device must be a device name, got {self.device!r}")
        for name in ("smoke", "memory_cache"):
            value = getattr(self, name)
            if not isinstance(value, bool) and not (name == "memory_cache" and value is None):
                raise ValueError(f"run settings: {name} must be True or False, got {value!r}")
        if self.overrides is None:
            object.__setattr__(self, "overrides", {})
        if not isinstance(self.overrides, Mapping):
            raise ValueError(f"run settings: overrides must be a mapping, got {self.overrides!r}")
        unknown = sorted(set(self.overrides) - _CONFIG_FIELDS)
        if unknown:
            raise ValueError(
                f"run settings: overrides name no TrainConfig field: {', '.join(unknown)}"
            )
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    @classmethod
    def of(cls, settings: RunSettings | None = None, **changes: Any) -> RunSettings:
        """``settings`` (default: all defaults) with ``changes``, which name its fields."""
        return (settings or cls()).replace(**changes)

    @classmethod
    def from_parameters(
        cls, parameters: Mapping[str, Any], *, exclude: Sequence[str] = ()
    ) -> RunSettings:
        """The settings a notebook's parameters name: every entry of ``parameters`` (a
        notebook passes ``globals()``) whose name is a field, except those of ``exclude`` (a
        notebook that passes ``data_root`` per dataset, say), and a ``phantom_n`` parameter
        (the phantom's size, ``None``: the book's), which joins ``overrides`` unless a
        ``data_root`` is read. Other entries are not read."""
        names = {f.name for f in dataclasses.fields(cls)} - set(exclude)
        values = {name: parameters[name] for name in sorted(names) if name in parameters}
        if parameters.get("phantom_n") is not None and values.get("data_root") is None:
            overrides = values.get("overrides") or {}
            values["overrides"] = {**overrides, "phantom_n": parameters["phantom_n"]}
        return cls(**values)

    def replace(self, **changes: Any) -> RunSettings:
        """A copy with ``changes`` applied and validated; a name that is no setting raises."""
        unknown = unknown_fields(type(self), changes, "run settings")
        if unknown:
            raise ValueError(unknown)
        return dataclasses.replace(self, **changes) if changes else self

    @property
    def is_phantom(self) -> bool:
        """Whether the runs use a phantom (no ``data_root``)."""
        return self.data_root is None

    def train_config(self, dataset: str) -> tuple[str, TrainConfig]:
        """``(preset name, configuration)`` shared by every run on ``dataset`` (method and
        seed unset), in the order of the module docstring. ``dataset_options`` are merged key
        by key, not replaced. A warm-up as long as its stage is cut to a tenth of the stage."""
        name = resolve_preset(dataset, self.preset, self.data_root)
        values = PRESETS[name].to_dict()
        if values["dataset"] != dataset:
            raise ValueError(
                f"preset {name!r} is for dataset {values['dataset']!r}, not {dataset!r}"
            )
        layers = [PHANTOM_SETTINGS.get(dataset, {})] if name.endswith("-cpu") else []
        for layer in [*layers, dict(self.overrides or {})]:
            options = {**values["dataset_options"], **layer.get("dataset_options", {})}
            values.update(layer, dataset_options=options)
        explicit = {
            "epochs": self.epochs,
            "probe_epochs": self.probe_epochs,
            "batch_size": self.batch_size,
        }
        values.update({k: v for k, v in explicit.items() if v is not None})
        if self.smoke:
            values.update(SMOKE_SETTINGS)
            if self.is_phantom and dataset in SMOKE_PHANTOM_N:
                values["phantom_n"] = SMOKE_PHANTOM_N[dataset]
        values["progress"] = False
        values["device"] = self.device
        return name, TrainConfig.from_dict(_fit_warmup(values))

    def seeds(self, seeds: Sequence[int]) -> list[int]:
        """The seeds to run: ``seeds`` as integers (only the first when ``smoke``); they must
        be distinct and at least one."""
        chosen = [int(s) for s in seeds][: 1 if self.smoke else None]
        if not chosen or len(set(chosen)) != len(chosen):
            raise ValueError(f"seeds must be a non-empty list of distinct integers, got {chosen}")
        return chosen


def _fit_warmup(values: dict[str, Any]) -> dict[str, Any]:
    """Shorten warm-ups that would not fit in a shortened schedule (to a tenth of it)."""
    for warmup, total in (("warmup_epochs", "epochs"), ("probe_warmup_epochs", "probe_epochs")):
        if values[warmup] >= values[total]:
            values[warmup] = values[total] // 10
    return values


def paper_preset(dataset: str) -> str:
    """The paper's preset of ``dataset`` (its own name); unknown datasets raise."""
    if dataset not in PRESETS:
        known = sorted(n for n in PRESETS if not n.endswith("-cpu"))
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(known)}")
    return dataset


def resolve_preset(dataset: str, preset: str | None, data_root: str | Path | None) -> str:
    """``preset``, or when it is ``None``: the paper's preset ``dataset`` with a ``data_root``
    (the SupReMix paper's or Mixup Your Own Pairs' Table 13), else its CPU variant
    ``"<dataset>-cpu"`` for the phantom."""
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(
                f"unknown preset {preset!r}; expected one of {', '.join(sorted(PRESETS))}"
            )
        return preset
    paper = paper_preset(dataset)
    return paper if data_root is not None else f"{paper}-cpu"


def study_config(dataset: str, **settings: Any) -> tuple[str, TrainConfig]:
    """:meth:`RunSettings.train_config` of ``RunSettings(**settings)`` for ``dataset``."""
    return RunSettings(**settings).train_config(dataset)


def run_seeds(seeds: Sequence[int], smoke: bool) -> list[int]:
    """:meth:`RunSettings.seeds` of ``seeds`` with ``smoke``."""
    return RunSettings(smoke=smoke).seeds(seeds)


def default_methods(dataset: str) -> list[str]:
    """The methods a dataset notebook trains: the main methods
    (``supremix.train.config.MAIN_METHODS``, not AdaCon's N-pair and triplet baselines), less
    SimCLR where the dataset's paper preset has no augmentation (time series and tables are
    never augmented, the SupReMix paper §4.2, Mixup Your Own Pairs App. C.1, and SimCLR's two
    views differ only by augmentation) unless the dataset's paper table reports SimCLR anyway
    (HCP, the SupReMix paper Table 3: it is run, with identical views; airfoil's has none)."""
    reported = "SimCLR" in set(paper_reference(dataset)["method"])
    if PRESETS[paper_preset(dataset)].augment == "none" and not reported:
        return [m for m in MAIN_METHODS if m != "simclr"]
    return list(MAIN_METHODS)
