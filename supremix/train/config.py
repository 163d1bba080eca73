"""The configuration of one training run: :class:`TrainConfig`.

A run is one of the protocols of the papers (the SupReMix paper, §4.3 and App. C.1.2, Mixup Your Own
Pairs' §4 and App. C.2, the AdaCon paper's eq. (8)):

* ``method="vanilla"``: encoder + linear regressor trained with an L1/MSE/Huber loss.
* a contrastive ``method`` with ``protocol="linear_probe"``: contrastive pretraining of encoder
  + projection head for ``epochs``, then the projection head is dropped, the encoder frozen
  and a linear regressor trained with ``regression_loss`` for ``probe_epochs``.
* ``protocol="finetune"``: the same pretraining, then the whole encoder + regressor is trained.
* ``protocol="multitask"``: one stage, ``L = L_reg + gamma_con * L_con`` (the AdaCon paper, eq. (8)
  with gamma_reg = 1).

``batch_size`` is the global batch (summed over processes under DistributedDataParallel).

``augment`` picks the augmentation recipe of :func:`supremix.data.augment.default_augmentation`
for the dataset's modality: ``"supervised"`` (the SupReMix paper, App. B.1: rotation, flip,
intensity, crops; frame jitter for video), ``"simclr"`` (colour jitter + random resized crop, Mixup
Your Own Pairs Table 13 "CJ + RC", used in contrastive stages of 2-D images; regression stages keep
the supervised recipe) or ``"none"``. Time series and tabular data are never augmented (the SupReMix
paper §4.2, Mixup Your Own Pairs' App. C.1). ``cache_items`` serves decoded items from a one-time
memory-mapped cache (:class:`supremix.data.cache.CachedDataset`; items are bit-identical).

``input_size`` records the paper's input size; ``dataset_options`` (loader options) produce it.
``deterministic`` asks for deterministic GPU kernels (CPU runs are deterministic anyway).
``optimizer``: ``"adam"`` (the SupReMix paper, App. C.1.2, with ``betas`` and ``eps``) or ``"sgd"``
(with
``momentum``; AdaCon §IV-B: SGD, momentum 0.9). ``lr_decay_every`` (epochs): the learning rate
falls by ``lr_decay_factor`` every that many epochs of a stage (AdaCon: 0.1 every 15 epochs)
after the warm-up, instead of the cosine decay (``None``).

``probe_lr_factor``: the learning rate (and ``min_lr``) of the stage after contrastive
pretraining (probe or fine-tuning) is ``lr * probe_lr_factor``; its schedule restarts from it.
AdaCon's two-stage scheme fine-tunes 10 times lower than it pretrains (its §IV-A6: 1e-2 then
1e-3 for BMD; §IV-B6: 1e-4 then 1e-5 for EchoNet): ``0.1``. The SupReMix paper's probe uses
the pretraining rate (App. C.1.2): ``1.0``, the default.

``probe_batch_size``: the batch of the stage after contrastive pretraining (probe or
fine-tuning); ``None``: ``batch_size``. With it, ``batch_size`` is the contrastive batch only
(the SupReMix paper's Table 15 varies that batch, and the probe's stays fixed).

``probe_batchnorm`` puts a BatchNorm without affine parameters between the encoder features
and the linear regressor of contrastive methods (the linear probe of MAE, He et al. 2022): at
evaluation the two are one linear map of the features, but training no longer depends on the
scale of the learned features (with Adam at lr 1e-3 a plain linear layer on small features
needs thousands of steps to reach the label scale). Not in the papers, whose probe is one
linear layer (the SupReMix paper §4.3 and Fig. 2 B): ``False`` gives it, and every paper preset
sets ``False``; the ``-cpu`` presets keep ``True`` for their short schedules.

``init_encoder``: a checkpoint (``best.pt``/``last.pt`` of an earlier run, or its run
folder) whose encoder weights initialise this run's encoder; transfer between datasets (the SupReMix
paper §5.6). ``freeze_encoder`` (vanilla only) trains just the regressor: with ``init_encoder`` a
linear probe of a transferred encoder, like the probe stage of ``linear_probe``.

``mix_neg``, ``mix_pos`` and ``distance_weight`` switch SupReMix's three ingredients (the SupReMix
paper Table 9: Mix-neg, Mix-pos and the distance magnifying weights); all three off is SupCon.
``mix_level="input"`` forms SupReMix's Mix-neg and Mix-pos from inputs instead of embeddings
(App. D.6, Table 19; :mod:`supremix.train.input_pairs`). ``window_edges``: whether a label
distance equal to the window still forms Mix-pos (``"inclusive"``, eq. (4) as printed) or not
(``"strict"``, the published code); see the book's loss specification page.

``regression_loss`` is computed on standardised labels (``(y - mean) / std`` of the training
labels). ``huber_delta``: the Huber loss's switch point in LABEL units (the AdaCon paper, §IV: 4 for
LVEF, 0.05 for BMD), applied as ``huber_delta / std`` on the standardised labels; ``None``: one
standard deviation of the training labels (``delta = 1`` on the standardised labels).

``method="npair"`` and ``"triplet"`` are the AdaCon paper's metric-learning baselines, the N-pair
loss (Sohn 2016) and the adaptive triplet loss, trained like the other contrastive methods.

``temperature`` is the temperature of SupReMix, SupCon, SimCLR, AdaCon and N-pair; RnC uses
``rnc_temperature`` (2, its authors' default; book page "The SupReMix loss, specified").
``label_bin``: the contrastive loss sees labels rounded to this bin size (Mixup Your Own Pairs,
Table 12 "Bin size"; the SupReMix paper's App. D.4); regression losses always see the raw labels.

Imbalanced regression and mixup baselines (the SupReMix paper, App. D.3, D.5, D.6;
:mod:`supremix.imbalance`,
:mod:`supremix.mixup`) act in every stage with a regression loss (``mixup``: those without a
contrastive loss): ``lds`` weights each sample's regression loss by its LDS weight
(``lds_reweight``), ``fds`` calibrates the regressor's input features (momentum
``fds_momentum``, from update ``fds_start_smooth`` on); both bin labels by ``imbalance_bin`` and
smooth with ``smoothing_kernel`` of ``smoothing_kernel_size`` taps and ``smoothing_sigma``.
``mixup="input"`` mixes training inputs and labels with random partners, ``"cmixup"`` with
label-close partners (``cmixup_sigma``, in label units); ``lambda ~ Beta(mixup_alpha,
mixup_alpha)`` per batch. Mixup is not combined with LDS or FDS (whose bins need unmixed
labels).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from supremix.losses import WINDOW_EDGES, loss_names, main_loss_names

# The methods of the papers' main comparisons (the SupReMix paper, §4.3), trained by every dataset
# notebook.
MAIN_METHODS = ("vanilla", *main_loss_names())
#: Every method: vanilla, then every contrastive loss of the registry (supremix.losses.registry):
#: the main ones, then e.g. the AdaCon paper's N-pair and adaptive triplet baselines.
METHODS = ("vanilla", *loss_names("contrastive"))
CONTRASTIVE_METHODS = METHODS[1:]
PROTOCOLS = ("linear_probe", "finetune", "multitask")
REGRESSION_LOSSES = loss_names("regression")
AMP_MODES = ("auto", "off", "bf16", "fp16")
AUGMENT_MODES = ("supervised", "simclr", "none")
MODEL_SIZES = ("cpu", "paper")
MIXUP_MODES = ("none", "input", "cmixup")
OPTIMIZERS = ("adam", "sgd")
MIX_LEVELS = ("embedding", "input")
LDS_REWEIGHTS = ("sqrt_inv", "inverse")
SMOOTHING_KERNELS = ("gaussian", "triang", "laplace")
#: The values each field with a fixed set of choices takes.
CHOICES: dict[str, tuple[str, ...]] = {
    "method": METHODS,
    "protocol": PROTOCOLS,
    "regression_loss": REGRESSION_LOSSES,
    "amp": AMP_MODES,
    "augment": AUGMENT_MODES,
    "model_size": MODEL_SIZES,
    "lds_reweight": LDS_REWEIGHTS,
    "smoothing_kernel": SMOOTHING_KERNELS,
    "mixup": MIXUP_MODES,
    "optimizer": OPTIMIZERS,
    "mix_level": MIX_LEVELS,
    "window_edges": WINDOW_EDGES,
}

# Fields that change how a run is executed or reported but not what it computes; a resumed run
# may change them.
EXECUTION_FIELDS = frozenset(
    {"progress", "num_workers", "checkpoint_every", "cache_items", "name", "notes"}
)


def _choice(field_name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(
            f"{field_name}={value!r} is not valid; expected one of {', '.join(allowed)}"
        )


def _positive(field_name: str, value: float, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{field_name} must be {bound}, got {value}")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a run; defaults are the SupReMix paper's App. C.1.2 (Adam, warm-up + cosine,
    clipping at 1.0, EMA 0.999, checkpoints every 10 epochs) and Table 13 (lr 1e-3, weight
    decay 1e-4, Beta(2, 8), 128-d features, 200 epochs) with a linear probe of 100 epochs
    (the SupReMix paper, §4.3)."""

    # what is trained
    method: str = "supremix"
    protocol: str = "linear_probe"
    dataset: str | None = None
    # schedule (the SupReMix paper, App. C.1.2, Table 13)
    epochs: int = 200
    probe_epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    min_lr: float = 0.0
    weight_decay: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    warmup_epochs: int = 10
    probe_warmup_epochs: int = 0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    optimizer: str = "adam"
    momentum: float = 0.9
    lr_decay_every: int | None = None
    lr_decay_factor: float = 0.1
    probe_lr_factor: float = 1.0
    # losses (the SupReMix paper, Table 13; the AdaCon paper's eq. (8))
    temperature: float = 1.0
    rnc_temperature: float = 2.0
    window: float = 5.0
    beta_params: tuple[float, float] = (2.0, 8.0)
    gamma_con: float = 1.0
    label_bin: float | None = None
    regression_loss: str = "l1"
    huber_delta: float | None = None
    use_groups: bool = False
    # SupReMix's ingredients (the SupReMix paper, Table 9); all three off is SupCon
    mix_neg: bool = True
    mix_pos: bool = True
    distance_weight: bool = True
    mix_level: str = "embedding"
    window_edges: str = "inclusive"
    # imbalanced regression (Yang et al. 2021) and mixup baselines (the SupReMix paper, App.
    # D.3-D.6)
    lds: bool = False
    lds_reweight: str = "sqrt_inv"
    fds: bool = False
    fds_momentum: float = 0.9
    fds_start_smooth: int = 1
    imbalance_bin: float = 1.0
    smoothing_kernel: str = "gaussian"
    smoothing_kernel_size: int = 5
    smoothing_sigma: float = 2.0
    mixup: str = "none"
    mixup_alpha: float = 2.0
    cmixup_sigma: float = 1.75
    # model
    encoder: str | None = None
    encoder_kwargs: dict[str, Any] = field(default_factory=dict)
    model_size: str = "paper"
    feature_dim: int = 128
    head_hidden_dim: int = 2048
    probe_batchnorm: bool = True
    probe_batch_size: int | None = None
    init_encoder: str | None = None
    freeze_encoder: bool = False
    # data
    input_size: tuple[int, ...] | None = None
    dataset_options: dict[str, Any] = field(default_factory=dict)
    augment: str = "supervised"
    views: int | None = None
    phantom_n: int | None = None
    phantom_seed: int = 0
    cache_items: bool = False
    # execution
    amp: str = "auto"
    device: str = "auto"
    deterministic: bool = False
    checkpoint_every: int = 10
    eval_every: int = 1
    seed: int = 0
    num_workers: int = 0
    progress: bool = True
    # documentation
    name: str = "custom"
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            _choice(name, getattr(self, name), allowed)
        for name in ("epochs", "batch_size", "checkpoint_every", "eval_every", "feature_dim"):
            _positive(name, getattr(self, name))
        for name in ("lr", "temperature", "rnc_temperature", "window", "head_hidden_dim"):
            _positive(name, getattr(self, name))
        for name in ("min_lr", "weight_decay", "grad_clip", "gamma_con", "num_workers"):
            _positive(name, getattr(self, name), allow_zero=True)
        _positive("warmup_epochs", self.warmup_epochs, allow_zero=True)
        _positive("probe_warmup_epochs", self.probe_warmup_epochs, allow_zero=True)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.warmup_epochs >= self.epochs:
            raise ValueError(
                f"warmup_epochs ({self.warmup_epochs}) must be smaller than epochs "
                f"({self.epochs}); lower warmup_epochs"
            )
        if self.has_second_stage:
            _positive("probe_epochs", self.probe_epochs)
            if self.probe_warmup_epochs >= self.probe_epochs:
                raise ValueError(
                    f"probe_warmup_epochs ({self.probe_warmup_epochs}) must be smaller than "
                    f"probe_epochs ({self.probe_epochs})"
                )
        self._check_schedule_and_probe()
        if len(self.beta_params) != 2 or min(self.beta_params) <= 0:
            raise ValueError(f"beta_params must be two positive numbers, got {self.beta_params}")
        if self.label_bin is not None:
            _positive("label_bin", self.label_bin)
        if self.huber_delta is not None:
            _positive("huber_delta", self.huber_delta)
            if self.regression_loss != "huber":
                raise ValueError(
                    f"huber_delta={self.huber_delta} is the Huber loss's delta, but "
                    f"regression_loss is {self.regression_loss!r}; set regression_loss='huber' "
                    "or leave huber_delta None"
                )
        if self.phantom_n is not None:
            _positive("phantom_n", self.phantom_n)
        if self.views is not None and self.views not in (1, 2):
            raise ValueError(f"views must be 1, 2 or None (automatic), got {self.views}")
        self._check_imbalance_and_mixup()
        self._check_ingredients_and_init()
        if self.method == "simclr" and self.views == 1:
            raise ValueError("simclr needs two views of each sample; set views=2 or None")

    def _check_schedule_and_probe(self) -> None:
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.lr_decay_every is not None:
            _positive("lr_decay_every", self.lr_decay_every)
        if not 0.0 < self.lr_decay_factor <= 1.0:
            raise ValueError(f"lr_decay_factor must be in (0, 1], got {self.lr_decay_factor}")
        _positive("probe_lr_factor", self.probe_lr_factor)
        if self.probe_lr_factor != 1.0 and not self.has_second_stage:
            raise ValueError(
                f"probe_lr_factor={self.probe_lr_factor} scales the learning rate of the stage "
                f"after contrastive pretraining, which method {self.method!r} with protocol "
                f"{self.protocol!r} does not have; leave it 1.0"
            )
        if self.probe_batch_size is not None:
            _positive("probe_batch_size", self.probe_batch_size)
            if not self.has_second_stage:
                raise ValueError(
                    f"probe_batch_size={self.probe_batch_size} is the batch of the stage after "
                    f"contrastive pretraining, which method {self.method!r} with protocol "
                    f"{self.protocol!r} does not have; leave it None"
                )

    def _check_imbalance_and_mixup(self) -> None:
        for name in ("imbalance_bin", "smoothing_sigma", "mixup_alpha", "cmixup_sigma"):
            _positive(name, getattr(self, name))
        _positive("fds_start_smooth", self.fds_start_smooth, allow_zero=True)
        if not 0.0 <= self.fds_momentum < 1.0:
            raise ValueError(f"fds_momentum must be in [0, 1), got {self.fds_momentum}")
        size = self.smoothing_kernel_size
        if size < 1 or size % 2 == 0:
            raise ValueError(f"smoothing_kernel_size must be a positive odd integer, got {size}")
        if self.mixup != "none":
            if self.lds or self.fds:
                raise ValueError(
                    f"mixup={self.mixup!r} cannot be combined with lds or fds (their label bins "
                    "need unmixed labels); use one or the other"
                )
            if self.is_contrastive and self.protocol == "multitask":
                raise ValueError(
                    f"mixup={self.mixup!r} needs a stage with only a regression loss; use "
                    "method='vanilla' or protocol 'linear_probe' or 'finetune'"
                )

    def _check_ingredients_and_init(self) -> None:
        ablated = [n for n in ("mix_neg", "mix_pos", "distance_weight") if not getattr(self, n)]
        if ablated and self.method != "supremix":
            raise ValueError(
                f"{', '.join(ablated)}=False switch off SupReMix ingredients, but method is "
                f"{self.method!r}; use method='supremix' or leave them True"
            )
        if self.mix_level != "embedding" and self.method != "supremix":
            raise ValueError(
                f"mix_level={self.mix_level!r} says where SupReMix mixes its pairs, but method "
                f"is {self.method!r}; use method='supremix'"
            )
        if self.mix_level == "input" and self.protocol == "multitask":
            raise ValueError(
                "mix_level='input' adds mixed inputs to the contrastive stage, which the "
                "multitask protocol shares with the regression loss; use 'linear_probe' or "
                "'finetune'"
            )
        if self.freeze_encoder and self.method != "vanilla":
            raise ValueError(
                "freeze_encoder=True trains only the regressor of a vanilla run (a linear probe "
                f"of init_encoder); method {self.method!r} has its own stages (protocol)"
            )

    @property
    def is_contrastive(self) -> bool:
        """Whether a contrastive loss is part of the run."""
        return self.method in CONTRASTIVE_METHODS

    @property
    def has_second_stage(self) -> bool:
        """Whether contrastive pretraining is followed by a probe or fine-tuning stage."""
        return self.is_contrastive and self.protocol in ("linear_probe", "finetune")

    def smoothing(self) -> dict[str, Any]:
        """The kernel LDS and FDS smooth the label bins with: ``kernel``, ``kernel_size`` and
        ``sigma`` (the keywords of :class:`~supremix.imbalance.LDSWeights` and ``FDS``)."""
        return {
            "kernel": self.smoothing_kernel,
            "kernel_size": self.smoothing_kernel_size,
            "sigma": self.smoothing_sigma,
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise a ``ValueError`` naming them."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {', '.join(unknown)}")
        converted = {}
        for key, value in values.items():
            if key in ("betas", "beta_params", "input_size") and value is not None:
                value = tuple(value)
            converted[key] = value
        return cls(**converted)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (and validated); unknown names raise."""
        return TrainConfig.from_dict({**self.to_dict(), **changes})


def differing_fields(a: TrainConfig, b: TrainConfig) -> list[str]:
    """Names of the fields that change what a run computes and differ between ``a`` and ``b``."""
    da, db = a.to_dict(), b.to_dict()
    return sorted(k for k in da if k not in EXECUTION_FIELDS and da[k] != db[k])
