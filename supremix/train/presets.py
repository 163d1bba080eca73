"""Named configurations: the papers' hyperparameters per dataset, and small CPU variants.

Paper presets transcribe the SupReMix paper's Table 13 (UK Biobank, HCP-Lifespan, RSNA, RHPE,
Echo-Net, A4) and Mixup Your Own Pairs' Table 13 (IMDB-WIKI-DIR, AgeDB-DIR, UK Biobank, HCP-Aging,
UCI-airfoil; STS-B-DIR); ``echonet-adacon`` is AdaCon's own EchoNet recipe (:data:`ADACON_ECHONET`).
Settings common to all of the SupReMix paper come from its App. C.1.2 (Adam 0.9/0.999/1e-8, 10
warm-up epochs then cosine decay, clipping at 1.0, weight decay 1e-4 off for biases and BatchNorm,
EMA 0.999, checkpoints every 10 epochs), App. C.1.1 (projection head 2048-128) and §4.3 (200
pretraining epochs, linear probe of 100 epochs). Mixup Your Own Pairs gives no pretraining length,
warm-up, weight decay or EMA: its presets reuse the SupReMix paper's and say so in ``notes``; its
probe/fine-tune length is 100 epochs (§4 "Implementation details"). Label bins for the contrastive
losses come from Mixup Your Own Pairs' Table 12 (bin size 1) and, for Echo-Net, the SupReMix paper's
App. D.4 (bin size 1 = "original values"); RSNA, RHPE (integer months) and A4 (continuous SUVR) have
none stated and keep their labels.

Choices the papers leave open or contradict, each with its reason (the book's chapters show
them):

* Linear probe: the paper presets run the papers' probe, one linear layer on the frozen
  features (``probe_batchnorm=False``; the SupReMix paper §4.3 and Fig. 2 B, Mixup Your Own
  Pairs §4 "Evaluation schemes"); the BatchNorm before it stays an option.
* Within-sex mixing: the SupReMix paper §5.7 says SupReMix on RSNA forms its mixtures only
  within sex, so the ``rsna`` and ``rhpe`` presets set ``use_groups=True``.
* A4's window: Table 13's ``γ = 7`` covers A4's whole SUVR range (about 0.45-2.58), so the
  preset reads it on SUVR x 100 (``window=0.07`` SUVR;
  :data:`~supremix.train.windows.A4_WINDOW_READINGS`).
* UK Biobank's image: App. B.1.1 brain-extracts and linearly registers to MNI152, so the
  ``ukb`` presets read ``T1_brain_linearto_MNI`` (``registration="linear"``).

Every paper preset's window is checked against its dataset's documented label range and
resolution (:func:`~supremix.train.windows.preset_window`, tested).

``<name>-cpu`` presets keep a paper preset's method settings (temperature, window,
augmentation, protocol) but use the modality's small CPU encoder, small heads, a few epochs
and a small phantom, so that a phantom run finishes in well under a minute on a laptop CPU.
They are for smoke runs and the book's phantom notebooks, never for reproducing the papers.
"""

from __future__ import annotations

import copy
from typing import Any

from .config import TrainConfig
from .windows import A4_DEFAULT_READING, A4_WINDOW_READINGS

SUPREMIX_PAPER = "the SupReMix paper, Table 13, App. C.1.1-C.1.2, §4.3"
MIXUP_PAIRS = "Mixup Your Own Pairs, Table 13, §4 (Implementation details, Evaluation schemes)"
#: Settings every paper preset shares: the papers' linear probe (no BatchNorm before it).
PAPER_COMMON: dict[str, Any] = {"probe_batchnorm": False}
WITHIN_SEX = "SupReMix mixes only within sex (SupReMix paper §5.7): use_groups=True"
UKB_IMAGE = "brain-extracted, linearly registered T1 (SupReMix paper App. B.1.1)"

MIXUP_PAIRS_NOTES = (
    "Mixup Your Own Pairs states no pretraining epochs, warm-up, weight decay, EMA or "
    "checkpointing; those follow the SupReMix paper, App. C.1.2 and §4.3 (200 epochs)"
)

#: Each paper's Table 13, a row a preset: label bin, encoder, batch size, temperature, window
#: and input size (``None``: the :class:`TrainConfig` default).
_TABLE_13_COLUMNS = ("label_bin", "encoder", "batch_size", "temperature", "window", "input_size")
_TABLE_13: dict[str, tuple[float | None, str, int, float, float, tuple[int, ...] | None]] = {
    # the SupReMix paper's Table 13
    "ukb": (1.0, "resnet18_3d", 64, 0.5, 3.0, (100, 100, 100)),
    "hcp": (1.0, "resnet18_1d", 64, 0.5, 5.0, (400, 478)),
    "rsna": (None, "resnet50_2d", 128, 1.0, 5.0, (520, 400)),
    "rhpe": (None, "resnet50_2d", 128, 1.0, 5.0, (520, 400)),
    "echonet": (1.0, "r2plus1d_18", 64, 1.0, 7.0, (112, 112)),
    "a4": (None, "resnet18_3d", 32, 1.0, A4_WINDOW_READINGS[A4_DEFAULT_READING], (100, 100, 100)),
    # Mixup Your Own Pairs' Table 13
    "imdbwiki": (1.0, "resnet50_2d", 64, 0.3, 5.0, (224, 224)),
    "agedb": (1.0, "resnet50_2d", 128, 0.5, 5.0, (224, 224)),
    "ukb-mixup-pairs": (1.0, "resnet18_3d", 64, 0.5, 3.0, (100, 100, 100)),
    "hcp-mixup-pairs": (1.0, "resnet18_1d", 64, 0.5, 5.0, None),
    "airfoil": (1.0, "mlp", 32, 1.0, 7.0, (5,)),
    "stsb": (0.1, "bilstm", 128, 1.0, 1.0, None),
}

_UKB_OPTIONS = {"spacing": 2.0, "crop": (100, 100, 100), "registration": "linear"}
#: RSNA and RHPE (hand X-rays, bone age): within-sex mixing and the table's image size.
_BONE_AGE: dict[str, Any] = {
    "dataset_options": {"image_size": (520, 400)},
    "use_groups": True,
    "source": SUPREMIX_PAPER,
    "notes": WITHIN_SEX,
}
#: IMDB-WIKI-DIR and AgeDB-DIR (faces): SimCLR augmentation, linear probe.
_FACES: dict[str, Any] = {
    "dataset_options": {"image_size": 224},
    "augment": "simclr",
    "protocol": "linear_probe",
    "source": MIXUP_PAIRS,
    "notes": MIXUP_PAIRS_NOTES,
}

#: The settings of each paper preset beyond its Table 13 row.
_PAPER: dict[str, dict[str, Any]] = {
    "ukb": {
        "dataset_options": _UKB_OPTIONS,
        "source": SUPREMIX_PAPER,
        "notes": f"label bin 1 from Mixup Your Own Pairs' Table 12 (same dataset); {UKB_IMAGE}",
    },
    "hcp": {
        "dataset_options": {"n_rois": 400},
        "augment": "none",
        "source": SUPREMIX_PAPER,
        "notes": "no augmentation for fMRI time series (the SupReMix paper, §4.2); "
        "T = 478 (App. B.1.2); label bin 1 from Mixup Your Own Pairs' Table 12 (same dataset)",
    },
    "rsna": _BONE_AGE,
    "rhpe": _BONE_AGE,
    "echonet": {
        "dataset_options": {"length": 32, "period": 2, "pad": None},
        "source": SUPREMIX_PAPER,
        "notes": "T is not stated in the SupReMix paper; 32 frames at period 2 as in the "
        "EchoNet code; contrastive labels at bin size 1, the 'original values' of the SupReMix "
        "paper, App. D.4; the loader samples a random clip, the engine's video augmentation "
        "pads and crops",
    },
    "a4": {
        "dataset_options": {"spacing": 2.0, "crop": (100, 100, 100)},
        "source": SUPREMIX_PAPER,
        "notes": "Table 13's γ = 7 read on SUVR x 100: window 0.07 SUVR (7 SUVR would cover "
        "the whole range 0.45-2.58)",
    },
    "imdbwiki": _FACES,
    "agedb": _FACES,
    "ukb-mixup-pairs": {
        "dataset": "ukb",
        "dataset_options": _UKB_OPTIONS,
        "augment": "none",
        "protocol": "finetune",
        "source": MIXUP_PAIRS,
        "notes": MIXUP_PAIRS_NOTES,
    },
    "hcp-mixup-pairs": {
        "dataset": "hcp",
        "dataset_options": {"n_rois": 400},
        "augment": "none",
        "protocol": "finetune",
        "source": MIXUP_PAIRS,
        "notes": MIXUP_PAIRS_NOTES,
    },
    "airfoil": {
        "dataset_options": {"normalize": "zscore"},
        "augment": "none",
        "protocol": "linear_probe",
        "source": MIXUP_PAIRS,
        "notes": MIXUP_PAIRS_NOTES + "; inputs z-scored with training statistics",
    },
    "stsb": {
        "beta_params": (2.0, 8.0),
        "feature_dim": 128,
        "dataset_options": {"glove": "auto"},
        "augment": "none",
        "protocol": "linear_probe",
        "source": MIXUP_PAIRS,
        "notes": MIXUP_PAIRS_NOTES + "; BiLSTM of the STS-B-DIR benchmark (300-d GloVe, 2 layers "
        "of 1500 units, dropout 0.2), GloVe from <benchmark>/glove/ when present, else "
        "embeddings trained from scratch (not the paper's embeddings); label bin 0.1 from "
        "Mixup Your Own Pairs, Table 12; no text augmentation (§4)",
    },
}

#: AdaCon's own EchoNet recipe (AdaCon §IV-B "Training details", its code): R(2+1)D-18, SGD
#: with momentum 0.9 at lr 1e-4 for 45 epochs, the rate divided by 10 every 15 epochs, batch 20,
#: MSE regression, multi-task with gamma_con = 0.75 (Table XI) and the loss scale s = 150 of its
#: code (temperature 1/150; gamma_con was tuned at that scale). Weight decay 1e-4 is EchoNet's
#: code's; no warm-up, EMA or clipping is stated. AdaCon starts from Kinetics-400 weights
#: (torchvision's ``R2Plus1D_18_Weights.KINETICS400_V1``): ``encoder_kwargs={"pretrained":
#: True}`` loads them (a download); the preset leaves them off so that it runs offline.
ADACON_SCALE = 150.0
ADACON_ECHONET: dict[str, Any] = {
    "dataset": "echonet",
    "method": "adacon",
    "protocol": "multitask",
    "encoder": "r2plus1d_18",
    "optimizer": "sgd",
    "momentum": 0.9,
    "lr": 1e-4,
    "weight_decay": 1e-4,
    "epochs": 45,
    "warmup_epochs": 0,
    "lr_decay_every": 15,
    "lr_decay_factor": 0.1,
    "batch_size": 20,
    "regression_loss": "mse",
    "gamma_con": 0.75,
    "temperature": 1.0 / ADACON_SCALE,
    "ema_decay": 0.0,
    "grad_clip": 0.0,
    "input_size": (112, 112),
    "dataset_options": {"length": 32, "period": 2, "pad": None},
    "source": "AdaCon §IV-B (Training details), Table XI; its code's scale s = 150",
    "notes": "Kinetics-400 initialisation is off (encoder_kwargs={'pretrained': True} turns it "
    "on, downloading torchvision's KINETICS400_V1 weights)",
}

# Per-dataset settings of the CPU presets: phantom size and a smaller input where the loader
# can produce one. Airfoil is the real UCI file (no phantom).
_CPU: dict[str, dict[str, Any]] = {
    "ukb": {
        "phantom_n": 96,
        "dataset_options": {"spacing": None, "crop": None, "size": 32, "registration": "nonlinear"},
    },
    "hcp": {"phantom_n": 96, "dataset_options": {}},
    "rsna": {"phantom_n": 160, "dataset_options": {"image_size": (64, 48)}},
    "rhpe": {"phantom_n": 160, "dataset_options": {"image_size": (64, 48)}},
    "echonet": {"phantom_n": 96, "dataset_options": {"length": 8, "period": 2, "size": 32}},
    "a4": {"phantom_n": 96, "dataset_options": {"spacing": None, "crop": None, "size": 32}},
    "imdbwiki": {"phantom_n": 160, "dataset_options": {"image_size": 48}},
    "agedb": {"phantom_n": 160, "dataset_options": {"image_size": 48}},
    "airfoil": {"epochs": 10, "probe_epochs": 10, "batch_size": 64},
    "stsb": {"phantom_n": 480, "dataset_options": {}},
}

_CPU_COMMON: dict[str, Any] = {
    "encoder": None,
    "model_size": "cpu",
    "epochs": 4,
    "probe_epochs": 3,
    "warmup_epochs": 1,
    "batch_size": 32,
    "feature_dim": 32,
    "head_hidden_dim": 64,
    "checkpoint_every": 1,
    "input_size": None,
    "probe_batchnorm": True,
}


def _paper_preset(name: str, values: dict[str, Any]) -> TrainConfig:
    values = copy.deepcopy(values)  # presets share no mutable settings (_BONE_AGE, _FACES)
    values.setdefault("dataset", name)
    return TrainConfig(name=name, **{**PAPER_COMMON, **values})


def _cpu_preset(name: str, paper: TrainConfig) -> TrainConfig:
    if paper.dataset is None:
        raise ValueError(f"preset {paper.name!r} names no dataset; its CPU variant needs one")
    cpu = dict(_CPU[paper.dataset])
    options = {**paper.dataset_options, **cpu.pop("dataset_options", {})}
    return paper.replace(
        **{**_CPU_COMMON, **cpu},
        name=name,
        dataset_options=options,
        source=f"CPU variant of preset {paper.name!r} ({paper.source})",
        notes="small encoder, heads and phantom for CPU smoke runs; not a reproduction",
    )


def _build() -> dict[str, TrainConfig]:
    presets = {
        name: _paper_preset(
            name, {**dict(zip(_TABLE_13_COLUMNS, row, strict=True)), **_PAPER[name]}
        )
        for name, row in _TABLE_13.items()
    }
    for name in list(presets):
        if name in _CPU:
            presets[f"{name}-cpu"] = _cpu_preset(f"{name}-cpu", presets[name])
    presets["echonet-adacon"] = _paper_preset("echonet-adacon", ADACON_ECHONET)
    return presets


PRESETS: dict[str, TrainConfig] = _build()


def get_preset(name: str, **overrides: Any) -> TrainConfig:
    """The preset ``name`` with ``overrides`` applied (e.g. ``method="supcon"``)."""
    try:
        preset = PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown preset {name!r}; expected one of {', '.join(sorted(PRESETS))}"
        ) from None
    return preset.replace(**overrides)


def default_preset(dataset: str, *, cpu: bool) -> str:
    """The preset name for ``dataset``: ``<dataset>-cpu`` for CPU/phantom runs."""
    name = f"{dataset}-cpu" if cpu else dataset
    if name not in PRESETS:
        raise ValueError(
            f"no preset for dataset {dataset!r}; pass an explicit preset (one of "
            f"{', '.join(sorted(PRESETS))})"
        )
    return name
