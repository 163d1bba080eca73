"""The arms of the airfoil study (:mod:`supremix.experiments.airfoil_study`): its schedule
(:class:`StudySettings`) and its rows (:class:`Arm`), as data.

*Paper protocol* (:func:`paper_arms`): Vanilla, SimCLR, SupCon, AdaCon, RnC and SupReMix with
preset ``airfoil`` (Mixup Your Own Pairs Table 13), ``epochs`` of pretraining (Vanilla: of
training) and ``probe_epochs`` of linear probe. *Strong recipe* (:func:`strong_arms`): Vanilla
trained with :data:`supremix.studies.AIRFOIL_STRONG_BASELINE`, and each of SupReMix, SupCon and
RnC (a) pretrained as in the paper's protocol, then fine-tuned end to end with the strong recipe
and (b) trained end to end with the strong recipe on ``L1 + weight x L_con``
(``protocol="multitask"``, AdaCon eq. (8) with gamma_reg = 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from supremix.paper import canonical_method
from supremix.studies import AIRFOIL_STRONG_BASELINE

#: Metrics kept per run, under the papers' names (MAE, MSE, GM, rho).
STUDY_METRICS = ("MAE", "MSE", "GM", "rho")
PAPER_PROTOCOL, STRONG_RECIPE = "paper protocol", "strong recipe"
#: The methods of the paper's protocol, and those also added to the strong recipe.
PAPER_METHODS = ("vanilla", "simclr", "supcon", "adacon", "rnc", "supremix")
ADDED_METHODS = ("supremix", "supcon", "rnc")

#: The weight of the contrastive loss in the multi-task arms, chosen on validation MAE alone:
#: L1 + weight x SupReMix with the strong recipe (80 epochs) on split 0 gave validation MAE
#: 1.203, 1.161 and 1.236 dB for weights 0.1, 0.3 and 1 (the strong Vanilla: 1.257).
MULTITASK_WEIGHT = 0.3


@dataclass(frozen=True)
class StudySettings:
    """The schedule of a study: ``epochs`` + ``probe_epochs`` for the paper's protocol,
    ``strong_epochs`` for the strong recipe (its warm-up: 2 epochs, none below 10 epochs),
    the ``multitask_weight`` of the contrastive loss, the ``batch_size`` of every arm (``None``:
    the preset's 32) and the ``splits`` (run ``k``: seed ``k``, split ``k``)."""

    epochs: int = 200
    probe_epochs: int = 100
    strong_epochs: int = 80
    multitask_weight: float = MULTITASK_WEIGHT
    batch_size: int | None = None
    splits: tuple[int, ...] = (0, 1, 2, 3, 4)

    def __post_init__(self) -> None:
        for name in ("epochs", "probe_epochs", "strong_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size is not None and self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 or None, got {self.batch_size}")
        if not self.multitask_weight > 0:
            raise ValueError(f"multitask_weight must be > 0, got {self.multitask_weight}")
        splits = tuple(int(s) for s in self.splits)
        if not splits or len(set(splits)) != len(splits):
            raise ValueError(f"splits must be distinct integers, at least one; got {splits}")
        object.__setattr__(self, "splits", splits)

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> StudySettings:
        """The schedule a notebook's parameters name (a notebook passes ``globals()``): its
        ``epochs``, ``probe_epochs``, ``strong_epochs``, ``multitask_weight`` and
        ``batch_size`` where it has them, its ``seeds`` as the splits; with ``smoke`` true,
        the first split at one epoch per stage. Other entries are not read."""
        names = ("epochs", "probe_epochs", "strong_epochs", "multitask_weight", "batch_size")
        values = {name: parameters[name] for name in names if name in parameters}
        splits = tuple(parameters.get("seeds", cls.splits))
        if parameters.get("smoke", False):
            values.update(epochs=1, probe_epochs=1, strong_epochs=1)
            splits = splits[:1]
        return cls(**values, splits=splits)

    def strong_recipe(self) -> dict[str, Any]:
        """:data:`supremix.studies.AIRFOIL_STRONG_BASELINE` with ``strong_epochs`` epochs."""
        warmup = AIRFOIL_STRONG_BASELINE["warmup_epochs"] if self.strong_epochs >= 10 else 0
        return {**AIRFOIL_STRONG_BASELINE, "epochs": self.strong_epochs, "warmup_epochs": warmup}

    def fingerprint(self) -> dict[str, Any]:
        """What a saved run must share with this study to be reused (the splits and the
        multitask weight excepted: the weight is part of its arms' overrides)."""
        values = dataclasses.asdict(self)
        del values["splits"], values["multitask_weight"]
        return values


@dataclass(frozen=True)
class Arm:
    """One row of the study: ``label``, ``group`` (paper protocol or strong recipe), the
    contrastive ``method`` it uses (``"vanilla"``: none), ``way`` (how it is trained), the
    TrainConfig ``overrides`` of preset ``airfoil`` and, for a fine-tune, ``encoder_from``: the
    arm whose run on the same split gives the pretrained encoder."""

    label: str
    group: str
    method: str
    way: str
    overrides: dict[str, Any]
    encoder_from: str | None = None

    @property
    def slug(self) -> str:
        """A file-name form of ``group`` and ``label``."""
        text = f"{self.group}-{self.method}-{self.way}".lower()
        return "".join(c if c.isalnum() else "-" for c in text)


def priority(arm: Arm) -> int:
    """0 for the arms that answer the chapter's questions first (Vanilla and SupReMix in both
    groups), 1 for the other baselines: a study cut short holds the first on more splits."""
    return 0 if arm.method in ("vanilla", "supremix") else 1


def paper_arms(methods: Sequence[str] = PAPER_METHODS) -> list[Arm]:
    """The paper's protocol (Mixup Your Own Pairs Table 13, preset ``airfoil``) per method."""
    return [
        Arm(
            canonical_method(m),
            PAPER_PROTOCOL,
            m,
            "trained" if m == "vanilla" else "linear probe",
            {"method": m},
        )
        for m in methods
    ]


def strong_arms(settings: StudySettings, methods: Sequence[str] = ADDED_METHODS) -> list[Arm]:
    """Vanilla with the strong recipe, then per method of ``methods`` its pretrained encoder
    fine-tuned with the strong recipe and its multi-task run with the strong recipe."""
    recipe = settings.strong_recipe()
    arms = [Arm("Vanilla (strong)", STRONG_RECIPE, "vanilla", "trained", {"method": "vanilla"})]
    for m in methods:
        name = canonical_method(m)
        arms.append(
            Arm(
                f"{name} → fine-tune (strong)",
                STRONG_RECIPE,
                m,
                "fine-tune",
                {"method": "vanilla"},
                encoder_from=name,
            )
        )
        arms.append(
            Arm(
                f"L1 + {name} (strong)",
                STRONG_RECIPE,
                m,
                "multi-task",
                {
                    "method": m,
                    "protocol": "multitask",
                    "gamma_con": settings.multitask_weight,
                    "probe_batchnorm": False,
                },
            )
        )
    return [
        dataclasses.replace(arm, overrides={**recipe, **arm.overrides})
        if arm.group == STRONG_RECIPE
        else arm
        for arm in arms
    ]


def study_arms(settings: StudySettings) -> list[Arm]:
    """Every arm of the recorded study: :func:`paper_arms`, then :func:`strong_arms`."""
    return [*paper_arms(), *strong_arms(settings)]
