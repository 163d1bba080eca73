"""The published training recipes of Fig. 8's task-specific architectures, as data.

The SupReMix paper compares each task-specific architecture trained directly with the same
architecture pretrained by SupReMix (§5.4, Fig. 8), and says of its task-specific baselines
that "all methods were implemented following their original training protocols" (§4.2). A
:class:`Recipe` is such a protocol: the optimiser, learning rate, schedule and length its
source publishes, as :class:`~supremix.train.TrainConfig` fields. The Fig. 8 rows trained
directly ("from scratch") use the recipe of their architecture on real data
(:func:`supremix.experiments.pretraining.run_pretraining`); the SupReMix rows keep the
dataset's SupReMix preset. Phantom runs keep the ``-cpu`` preset's short schedule for every
row: a 300-epoch recipe is not a CPU check.

Where a source does not publish a value, or this package cannot follow it, the recipe's
``chosen`` says what was chosen and why. The batch sizes of the image recipes (256 and 4096
ImageNet images) do not fit 3-D volumes in one GPU's memory: those recipes keep the dataset
preset's batch.

* **3-D DenseNet-121** (A4; the SupReMix paper cites Huang et al. 2017, "Densely connected
  convolutional networks", CVPR, §4.2 "Training"): SGD with Nesterov momentum 0.9 without
  dampening, weight decay 1e-4; on ImageNet, for which DenseNet-121 was designed, 90 epochs,
  batch 256, learning rate 0.1 divided by 10 at epochs 30 and 60.
* **ViT-B** (UK Biobank; Dosovitskiy et al. 2021, "An image is worth 16x16 words", ICLR,
  Table 3 and App. B.1, ViT-B/16 trained on ImageNet alone): Adam (β 0.9, 0.999), base
  learning rate 3e-3, weight decay 0.3, batch 4096, linear warm-up over 10k steps then cosine
  decay, 300 epochs, gradients clipped at global norm 1, dropout 0.1.
* **TCN** (HCP; the SupReMix paper cites Lea et al. 2017, "Temporal convolutional networks
  for action segmentation and detection", CVPR): the paper does not print its optimiser
  settings; its authors' released code (colincsl/TemporalConvolutionalNetworks,
  ``TCN_main.py``) trains the dilated TCN, the design closest to this package's ``tcn``, with
  Keras's ``adam`` at its defaults (learning rate 1e-3, β 0.9, 0.999, no weight decay), a
  constant rate, batch 8 and 200 epochs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """A published training recipe: ``settings`` (TrainConfig fields) from ``source``, and
    ``chosen``: the values the source does not publish or that this package cannot follow,
    what was set instead and why."""

    architecture: str
    source: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    chosen: str = ""

    def overrides(self, *, keep: Collection[str] = ()) -> dict[str, Any]:
        """The TrainConfig fields of the recipe, less those in ``keep`` (which the caller
        sets); keeping ``epochs`` keeps the warm-up too (a share of them)."""
        kept = set(keep) | ({"warmup_epochs"} if "epochs" in keep else set())
        return {k: v for k, v in self.settings.items() if k not in kept}


#: A constant learning rate, as a step decay of factor 1.
CONSTANT_RATE = {"lr_decay_every": 1, "lr_decay_factor": 1.0}

DENSENET121_3D = Recipe(
    "3D DenseNet",
    "Huang et al. 2017, §4.2 (ImageNet recipe, DenseNet-121's own)",
    {
        "optimizer": "sgd",
        "momentum": 0.9,
        "lr": 0.1,
        "weight_decay": 1e-4,
        "epochs": 90,
        "warmup_epochs": 0,
        "lr_decay_every": 30,
        "lr_decay_factor": 0.1,
        "ema_decay": 0.0,
        "grad_clip": 0.0,
    },
    "plain momentum instead of Nesterov momentum (this package's SGD has no Nesterov option); "
    "batch: the dataset preset's (256 volumes do not fit); no EMA or clipping (not in the "
    "recipe)",
)

VIT_B = Recipe(
    "ViT-B",
    "Dosovitskiy et al. 2021, Table 3 and App. B.1 (ViT-B/16 on ImageNet alone)",
    {
        "optimizer": "adam",
        "betas": (0.9, 0.999),
        "lr": 3e-3,
        "weight_decay": 0.3,
        "epochs": 300,
        "warmup_epochs": 32,
        "lr_decay_every": None,
        "min_lr": 0.0,
        "grad_clip": 1.0,
        "ema_decay": 0.0,
    },
    "warm-up: 10k of ImageNet's ~94k steps at batch 4096 is 32 of 300 epochs, kept as that "
    "share; batch: the dataset preset's (4096 volumes do not fit); weight decay as this "
    "package's Adam applies it (an L2 term); dropout 0.1 not applied (the encoder has none)",
)

TCN = Recipe(
    "TCN",
    "Lea et al. 2017, its authors' released code (Keras 'adam' defaults, nb_epoch 200, "
    "batch_size 8)",
    {
        "optimizer": "adam",
        "betas": (0.9, 0.999),
        "lr": 1e-3,
        "weight_decay": 0.0,
        "epochs": 200,
        "warmup_epochs": 0,
        "batch_size": 8,
        **CONSTANT_RATE,
        "grad_clip": 0.0,
        "ema_decay": 0.0,
    },
    "the paper prints no optimiser settings: its code's are used; the loss is the dataset's "
    "regression loss (the code's is a classification loss)",
)

#: Recipe per Fig. 8 architecture name (:data:`supremix.experiments.pretraining.ARCHITECTURES`);
#: an architecture without one trains with its dataset's preset.
RECIPES: dict[str, Recipe] = {r.architecture: r for r in (DENSENET121_3D, VIT_B, TCN)}
