"""SupReMix pretraining of task-specific architectures (the SupReMix paper, §5.4, Fig. 8).

The SupReMix paper trains task-specific architectures "directly" (blue bars of Fig. 8) and "combined
with SupReMix pretraining" (orange bars), SupReMix being "a plug-and-play solution that requires no
modifications to the core architecture designs", and reports the relative MAE change per
architecture (UK Biobank: ResNet-18, ViT-B, Global-Local Transformer, SFCN; HCP: 1D-ResNet, TCN,
ViT; EchoNet: EchoNet, EchoGNN, EchoCotr; bone age: BoNet, PEAR-Net, DI, SIMBA, MMANet; A4: SFCN, 3D
DenseNet, FiA-Net). The paper does not say how the pretrained encoder is trained on the labels
afterwards; here SupReMix pretrains the encoder and the whole network is then fine-tuned
(``protocol="finetune"``), the direct training being a Vanilla run of the same architecture with the
same regression loss.

:data:`ARCHITECTURES` lists the architectures of Fig. 8 that :mod:`supremix.models` builds,
per dataset, with the small CPU size a phantom run uses. Fig. 8 is a chart: its values are
not in :mod:`supremix.paper`, so this experiment has no paper column.

**Baselines' recipes.** The paper's task-specific baselines follow "their original training
protocols" (§4.2). On real data the rows trained directly use their architecture's published
recipe where :data:`~supremix.experiments.architecture_recipes.RECIPES` has one (3D DenseNet,
ViT-B, TCN: optimiser, learning rate, schedule, epochs), the SupReMix rows the dataset's
SupReMix preset; the other architectures train with the preset in both rows. Phantom runs
keep the ``-cpu`` preset's CPU-scale schedule for every row (:func:`pretraining_variants`
with ``recipes=False``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from supremix.analysis.figure import report_figure
from supremix.paper import HIGHER_IS_BETTER
from supremix.train.presets import PRESETS

from .architecture_recipes import RECIPES
from .settings import RunSettings, resolve_preset
from .sweep import Sweep, Variant, known_choices, run_sweep

#: The two configurations of Fig. 8: direct training, and SupReMix pretraining + fine-tuning.
SETTINGS: dict[str, dict[str, Any]] = {
    "vanilla": {"method": "vanilla"},
    "supremix": {"method": "supremix", "protocol": "finetune"},
}
SETTING_NAMES = {"vanilla": "from scratch", "supremix": "SupReMix pretrained"}


@dataclass(frozen=True)
class Architecture:
    """A task-specific encoder: ``encoder`` and ``kwargs`` of
    :func:`supremix.models.build_encoder` at the paper's size, ``cpu_encoder`` and
    ``cpu_kwargs`` for a phantom run (``model_size="cpu"``), and what it stands for."""

    name: str
    encoder: str
    cpu_encoder: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    cpu_kwargs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    requires: tuple[str, ...] = ()  # optional packages the encoder needs (left out if missing)

    @property
    def available(self) -> bool:
        """Whether the packages the encoder needs (``requires``) are installed."""
        return all(importlib.util.find_spec(name) is not None for name in self.requires)

    def overrides(self, model_size: str) -> dict[str, Any]:
        """The TrainConfig fields that select this encoder at ``model_size``."""
        if model_size == "cpu":
            return {"encoder": self.cpu_encoder, "encoder_kwargs": dict(self.cpu_kwargs)}
        return {"encoder": self.encoder, "encoder_kwargs": dict(self.kwargs)}


_SFCN = Architecture(
    "SFCN",
    "sfcn",
    "sfcn",
    cpu_kwargs={"width": 4},
    note=(
        "Peng et al. 2021 (the SupReMix paper's ref. [1]); "
        "CPU size: the same design at an eighth of the width"
    ),
)
_RESNET18_3D = Architecture(
    "ResNet-18",
    "resnet18_3d",
    "resnet3d",
    cpu_kwargs={"width": 8, "depth": 10},
    note="3-D ResNet-18 (the SupReMix paper's ref. [45]); CPU size: ResNet-10 of width 8",
)
_RESNET_1D = Architecture(
    "1D-ResNet",
    "resnet18_1d",
    "resnet1d",
    cpu_kwargs={"width": 16, "depth": 10},
    note=(
        "1-D ResNet-18 over time (the SupReMix paper's ref. [48]); CPU size: ResNet-10 of width 16"
    ),
)
_ECHONET = Architecture(
    "EchoNet",
    "r2plus1d_18",
    "r2plus1d",
    cpu_kwargs={"width": 8, "depth": 10},
    note=(
        "EchoNet-Dynamic's R(2+1)D-18 (the SupReMix paper's ref. [5]); CPU size: depth 10, width 8"
    ),
)
_DENSENET_2D = Architecture(
    "DenseNet-121",
    "densenet121_2d",
    "densenet2d",
    cpu_kwargs={"width": 8, "block_config": (2, 2, 2, 2)},
    note="not one of Fig. 8's bone-age architectures (BoNet, PEAR-Net, DI, SIMBA, MMANet are "
    "not implemented): a generic task-specific CNN in their place; CPU size: growth rate 8, "
    "two layers per block",
)

_DENSENET_3D = Architecture(
    "3D DenseNet",
    "densenet121_3d",
    "densenet121_3d",
    cpu_kwargs={"width": 8, "init_features": 16, "block_config": (2, 2, 2, 2)},
    note="MONAI's 3-D DenseNet-121 (paper ref. [55]); the optional extra 'medical'; CPU size: "
    "growth rate 8, two layers per block",
    requires=("monai",),
)
_VIT_3D = Architecture(
    "ViT-B",
    "vit3d",
    "vit3d",
    kwargs={"img_size": (100, 100, 100), "patch_size": 20},
    cpu_kwargs={"img_size": (32, 32, 32), "patch_size": 8, "width": 32, "depth": 2},
    note="MONAI's 3-D ViT at ViT-B's size on the preset's 100^3 crops with 20^3 patches (125 "
    "tokens, as many as ViT-B/16 has on 224x224 images; 16 does not divide 100); the optional "
    "extra 'medical'; CPU size: width 32, two layers, 8^3 patches of 32^3 volumes",
    requires=("monai", "einops"),
)
_TCN = Architecture(
    "TCN",
    "tcn",
    "tcn",
    cpu_kwargs={"width": 16, "depth": 3},
    note="temporal convolutional network of Bai et al. 2018's design (the paper cites Lea et al. "
    "2017 [49]): four blocks of 128 channels, dilations 1-8; CPU size: three blocks of 16",
)

#: Dataset -> the architectures of Fig. 8's panel that this package builds. torchvision's
#: ViT-B/16 (encoder ``vit_b_16``) is buildable too but takes square 2-D images only, which no
#: Fig. 8 panel has (UK Biobank's ViT-B is 3-D: MONAI's ``vit3d``; HCP's ViT reads time
#: series).
ARCHITECTURES: dict[str, tuple[Architecture, ...]] = {
    "ukb": (_SFCN, _RESNET18_3D, _VIT_3D),
    "a4": (_SFCN, _DENSENET_3D),
    "hcp": (_RESNET_1D, _TCN),
    "echonet": (_ECHONET,),
    "rsna": (_DENSENET_2D,),
    "rhpe": (_DENSENET_2D,),
}


def architectures_for(dataset: str, names: Sequence[str] | None = None) -> list[Architecture]:
    """The architectures of ``dataset`` (``names``: some of them, ``None``: all whose optional
    package is installed)."""
    if dataset not in ARCHITECTURES:
        raise ValueError(
            f"no task-specific architecture for {dataset!r}; datasets: {', '.join(ARCHITECTURES)}"
        )
    available = {a.name: a for a in ARCHITECTURES[dataset]}
    if names is None:
        names = [n for n, a in available.items() if a.available]
    return [available[n] for n in known_choices(f"{dataset} architecture", names, available)]


def variant_label(architecture: str, setting: str) -> str:
    """``"SFCN, from scratch"`` / ``"SFCN, SupReMix pretrained"``."""
    return f"{architecture}, {SETTING_NAMES[setting]}"


def pretraining_variants(
    dataset: str,
    *,
    model_size: str,
    architectures: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    recipes: bool = False,
    keep: Sequence[str] = (),
) -> list[Variant]:
    """One variant per (architecture, setting of :data:`SETTINGS`); ``methods`` picks the
    settings (``"vanilla"``, ``"supremix"``; ``None``: both). With ``recipes`` each row
    trained directly follows its architecture's published recipe (:data:`RECIPES`, where it
    has one), except for the fields in ``keep`` (e.g. ``epochs``), which the caller sets."""
    methods = known_choices("method", methods, SETTINGS)
    variants = []
    for a in architectures_for(dataset, architectures):
        for m in methods:
            recipe = RECIPES.get(a.name) if recipes and m == "vanilla" else None
            extra = {} if recipe is None else recipe.overrides(keep=keep)
            overrides = {**SETTINGS[m], **a.overrides(model_size), **extra}
            variants.append(Variant(variant_label(a.name, m), overrides))
    return variants


def run_pretraining(
    dataset: str = "ukb",
    *,
    architectures: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1),
    settings: RunSettings | None = None,
    **changes: Any,
) -> Sweep:
    """Train :func:`pretraining_variants` on ``dataset`` (the SupReMix paper, §5.4): the
    architectures at the preset's model size (the paper's with ``data_root``, the CPU size on a
    phantom); on real data the rows trained directly follow their architecture's published recipe
    (:data:`RECIPES`; ``epochs`` or ``batch_size`` given, or ``smoke``, replace the recipe's).
    ``probe_epochs`` is the fine-tuning length after pretraining. ``settings`` with ``changes``
    (:class:`~supremix.experiments.settings.RunSettings` fields) say how, as for
    :func:`~.sweep.run_sweep`."""
    settings = pretraining_settings(dataset, RunSettings.of(settings, **changes))
    _, config = settings.train_config(dataset)
    variants = pretraining_variants(
        dataset,
        model_size=config.model_size,
        architectures=architectures,
        methods=methods,
        recipes=not settings.is_phantom,
        keep=[
            name
            for name, given in (
                ("epochs", settings.epochs is not None or settings.smoke),
                ("batch_size", settings.batch_size is not None),
            )
            if given
        ],
    )
    return run_sweep(dataset, variants, settings=settings, seeds=seeds)


def pretraining_settings(dataset: str, settings: RunSettings) -> RunSettings:
    """``settings`` as :func:`run_pretraining` trains with them on ``dataset``: on a CPU
    preset, phantom volumes of the preset's own size (:func:`_phantom_volume_size`) unless
    the caller's ``overrides`` say otherwise."""
    size = _phantom_volume_size(dataset, settings.preset, settings.data_root)
    return settings.replace(overrides={**(size or {}), **(settings.overrides or {})})


def _phantom_volume_size(
    dataset: str, preset: str | None, data_root: str | Path | None
) -> dict[str, Any] | None:
    """On a CPU preset, the preset's own volume size: the book's UK Biobank chapter shrinks its
    phantom volumes to 24 voxels a side (PHANTOM_SETTINGS), which SFCN's five poolings and the
    CPU-size 3-D ViT's 32^3 input cannot take."""
    name = resolve_preset(dataset, preset, data_root)
    if not name.endswith("-cpu"):
        return None
    size = PRESETS[name].dataset_options.get("size")
    return None if size is None else {"dataset_options": {"size": size}}


def _parts(sweep: Sweep) -> list[tuple[str, str, str]]:
    """``(architecture, setting, label)`` of each variant of a pretraining sweep."""
    settings = {name: setting for setting, name in SETTING_NAMES.items()}
    parts = []
    for label in sweep.labels:
        architecture, _, name = label.rpartition(", ")
        setting = settings.get(name)
        if setting is None or not architecture:
            raise ValueError(f"variant {label!r} is not one of pretraining_variants'")
        parts.append((architecture, setting, label))
    return parts


def pretraining_table(sweep: Sweep, metric: str = "MAE") -> pd.DataFrame:
    """Per architecture: ``metric`` from scratch and SupReMix pretrained (mean and std over
    seeds) and the relative change ``100 * (scratch - pretrained) / scratch`` (Fig. 8's
    "improvement in percentages"; positive: pretraining lowered the error). ``metric`` is an
    error (MAE, MSE, RMSE, GM). Architectures with one setting only have NaN there."""
    if metric in HIGHER_IS_BETTER:
        raise ValueError(f"{metric} is not an error; the improvement is defined for MAE, MSE, GM")
    table = sweep.table([metric])
    rows: dict[str, dict[str, float]] = {}
    for architecture, setting, label in _parts(sweep):
        row = rows.setdefault(architecture, {})
        row[SETTING_NAMES[setting]] = table.loc[label, metric]
        row[f"{SETTING_NAMES[setting]} std"] = table.loc[label, f"{metric} std"]
    frame = pd.DataFrame.from_dict(rows, orient="index")
    for name in SETTING_NAMES.values():
        for column in (name, f"{name} std"):
            if column not in frame:
                frame[column] = np.nan
    scratch, pretrained = frame[SETTING_NAMES["vanilla"]], frame[SETTING_NAMES["supremix"]]
    frame["improvement (%)"] = 100.0 * (scratch - pretrained) / scratch
    frame.index.name = "architecture"
    return frame[
        [*SETTING_NAMES.values(), *(f"{n} std" for n in SETTING_NAMES.values()), "improvement (%)"]
    ]


def pretraining_figure(sweep: Sweep, metric: str = "MAE") -> Figure:
    """Fig. 8 for this run: per architecture, a bar from scratch and one SupReMix pretrained
    (mean over seeds, error bars one standard deviation), labelled with the improvement."""
    table = pretraining_table(sweep, metric)
    figure = report_figure(figsize=(1.8 + 1.6 * len(table), 3.2), layout="constrained")
    axis = figure.subplots()
    x = np.arange(len(table))
    width = 0.38
    for offset, name in zip((-width / 2, width / 2), SETTING_NAMES.values(), strict=True):
        axis.bar(
            x + offset,
            table[name],
            width,
            yerr=table[f"{name} std"].fillna(0.0),
            capsize=3,
            label=name,
        )
    tops = []
    for position, (_, row) in zip(x, table.iterrows(), strict=True):
        top = np.nanmax([row[n] + np.nan_to_num(row[f"{n} std"]) for n in SETTING_NAMES.values()])
        tops.append(top)
        if np.isfinite(row["improvement (%)"]):
            axis.annotate(
                f"{row['improvement (%)']:+.1f}%",
                (position, top),
                ha="center",
                va="bottom",
                xytext=(0, 3),
                textcoords="offset points",
            )
    axis.set_xlim(-0.75, len(table) - 0.25)
    axis.set_ylim(0.0, 1.2 * np.nanmax(tops))
    axis.set_xticks(x, list(table.index))
    axis.set_ylabel(metric)
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    return figure
