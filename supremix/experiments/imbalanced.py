"""Imbalanced regression on RSNA: SupReMix with LDS and FDS (the SupReMix paper, App. D.3, Table
16).

Table 16 compares Vanilla, Vanilla with label and feature distribution smoothing ("LDS + FDS",
Yang et al. 2021; :mod:`supremix.imbalance`) and SupReMix with LDS, FDS or both
(:data:`TABLE16_VARIANTS`), reporting MAE and GM over all test images and per shot region:
"Many: bins with >100 training samples; Few: bins with <20", the rest medium-shot. LDS and FDS
act in the stages with a regression loss (SupReMix: the linear probe).

The thresholds are counts of training samples per 1-month bin of RSNA's 11,611 training images
(the SupReMix paper, Table 1). A phantom of a few hundred images has about 1/50 of those samples in
every bin, so the unchanged thresholds would call every bin few-shot. :func:`scaled_shot_rule` keeps
the paper's regions of the label *density* instead: thresholds scaled by the ratio of training-set
sizes and, where they would fall below a handful of samples, bins widened by the same factor as the
thresholds are raised. On a training set as large as the paper's the rule is the paper's (1-month
bins, >100, <20). LDS and FDS bin the labels with the same bin width (``imbalance_bin``), so that
their per-bin statistics rest on as many samples as on RSNA.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from supremix.analysis.figure import report_figure
from supremix.metrics import shot_regions
from supremix.paper import DATASETS

from .reduced_data import paper_train_size, training_split_size
from .settings import RunSettings
from .sweep import PaperRow, Sweep, Variant, known_choices, run_sweep

PAPER_TABLE = "Table 16"

#: Table 16's rows: label -> TrainConfig overrides (the label is the paper's method name).
TABLE16_VARIANTS: dict[str, dict[str, Any]] = {
    "Vanilla": {"method": "vanilla"},
    "LDS + FDS": {"method": "vanilla", "lds": True, "fds": True},
    "SupReMix + LDS": {"method": "supremix", "lds": True},
    "SupReMix + FDS": {"method": "supremix", "fds": True},
    "SupReMix + LDS + FDS": {"method": "supremix", "lds": True, "fds": True},
}

#: Table 16's shot rule: 1-month bins, many-shot above 100, few-shot below 20 training samples.
PAPER_BIN_WIDTH, PAPER_MANY, PAPER_FEW = 1.0, 100, 20

#: :func:`scaled_shot_rule` widens the bins until the many-shot threshold is at least this.
MIN_MANY = 20

#: Table 16's subsets (paper names) and the regions of :func:`supremix.metrics.shot_regions`.
SHOT_SUBSETS = {"many-shot": "many", "medium-shot": "medium", "few-shot": "few"}
ALL = "all"


@dataclass(frozen=True)
class ShotRule:
    """A bin of ``bin_width`` label units is many-shot when it holds more than ``many``
    training samples and few-shot when it holds fewer than ``few`` (the SupReMix paper, Table
    16)."""

    bin_width: float
    many: float
    few: float

    def regions(self, targets: Any, train_targets: Any) -> np.ndarray:
        """``"many"``, ``"medium"`` or ``"few"`` for each of ``targets``."""
        return shot_regions(
            targets, train_targets, bin_width=self.bin_width, many=self.many, few=self.few
        )

    def subsets(self, targets: Any, train_targets: Any) -> dict[str, np.ndarray]:
        """Masks for :meth:`Sweep.beside_paper`: ``"all"`` then each non-empty shot region,
        named as Table 16's subsets."""
        regions = self.regions(targets, train_targets)
        masks = {ALL: np.ones(regions.shape, dtype=bool)}
        for name, region in SHOT_SUBSETS.items():
            if (regions == region).any():
                masks[name] = regions == region
        return masks


def scaled_shot_rule(
    n_train: int,
    paper_n_train: int,
    *,
    bin_width: float = PAPER_BIN_WIDTH,
    many: float = PAPER_MANY,
    few: float = PAPER_FEW,
    min_many: float = MIN_MANY,
) -> ShotRule:
    """The paper's shot rule for a training set of ``n_train`` instead of ``paper_n_train``
    samples, keeping its thresholds on the label density.

    In the paper a bin is many-shot when it holds more than the fraction ``many /
    paper_n_train`` of the training set per ``bin_width`` label units (few-shot likewise). With
    ``s = n_train / paper_n_train`` the same fractions are ``s * many`` and ``s * few`` samples
    per bin. Where ``s * many < min_many`` the bins are widened by ``k = min_many / (s * many)``
    (rounded up to 0.01 label units) and the thresholds multiplied by the same factor (about
    ``min_many`` and ``k * s * few``): the fractions per label unit stay the paper's, and a
    many-shot bin holds enough samples to be told from a medium-shot one. With ``s * many >=
    min_many`` (``s = 1``: the paper's training set) the bins keep the paper's width.
    """
    if n_train < 1 or paper_n_train < 1:
        raise ValueError(
            f"n_train and paper_n_train must be >= 1, got {n_train} and {paper_n_train}"
        )
    if not (bin_width > 0 and 0 < few <= many and 0 < min_many <= many):
        raise ValueError(
            f"need bin_width > 0 and 0 < few <= many, 0 < min_many <= many; got bin_width="
            f"{bin_width}, few={few}, many={many}, min_many={min_many}"
        )
    scale = n_train / paper_n_train
    if scale * many >= min_many:
        return ShotRule(bin_width, many * scale, few * scale)
    widen = min_many / (scale * many)
    width = math.ceil(bin_width * widen * 100) / 100  # rounded up to 0.01 label units
    factor = scale * width / bin_width
    return ShotRule(width, many * factor, few * factor)


def imbalanced_variants(
    methods: Sequence[str] | None = None, *, imbalance_bin: float = PAPER_BIN_WIDTH
) -> list[Variant]:
    """The variants of Table 16 (``methods``: some of its labels, :data:`TABLE16_VARIANTS`;
    ``None``: all), LDS and FDS binning labels by ``imbalance_bin``."""
    labels = known_choices("method", methods, TABLE16_VARIANTS)
    variants = []
    for label in labels:
        overrides = dict(TABLE16_VARIANTS[label])
        if overrides.get("lds") or overrides.get("fds"):
            overrides["imbalance_bin"] = imbalance_bin
        variants.append(Variant(label, overrides, paper=PaperRow(label, "", ALL)))
    return variants


@dataclass
class ImbalancedRun:
    """The sweep of Table 16's variants and the shot rule its regions use."""

    sweep: Sweep
    rule: ShotRule

    def subsets(self) -> dict[str, np.ndarray]:
        """Table 16's subsets of the evaluation items (empty shot regions left out)."""
        return self.rule.subsets(self.sweep.targets, self.sweep.train_targets)

    def region_counts(self) -> dict[str, int]:
        """Evaluation items per Table 16 subset (0 for an empty region)."""
        regions = self.rule.regions(self.sweep.targets, self.sweep.train_targets)
        counts = {ALL: int(regions.size)}
        counts.update({name: int((regions == r).sum()) for name, r in SHOT_SUBSETS.items()})
        return counts

    def beside_paper(self) -> pd.DataFrame:
        """This run beside Table 16, per (variant, subset, metric)."""
        return self.sweep.beside_paper("supremix", PAPER_TABLE, subsets=self.subsets())

    def region_facts(self) -> dict[str, Any]:
        """The shot rule and the evaluation items per region, by name, for the notebook's
        prose: ``rule`` ("paper's" where it is Table 16's, else "scaled": :func:`scaled_shot_rule`
        for ``train_items`` training items), ``bin_width`` in ``unit``, the thresholds ``many``
        and ``few``, and the evaluation items ``items_all``, ``items_many``, ``items_medium``
        and ``items_few`` (0 for an empty region, which :meth:`subsets` leaves out)."""
        paper = ShotRule(float(PAPER_BIN_WIDTH), float(PAPER_MANY), float(PAPER_FEW))
        counts = self.region_counts()
        return {
            "rule": "paper's" if self.rule == paper else "scaled",
            "train_items": int(self.sweep.train_targets.size),
            "bin_width": self.rule.bin_width,
            "unit": DATASETS[self.sweep.dataset][1] or "label units",
            "many": self.rule.many,
            "few": self.rule.few,
            "items_all": counts[ALL],
            **{f"items_{region}": counts[name] for name, region in SHOT_SUBSETS.items()},
        }

    def summary(self, *, notes: str = "") -> dict[str, Any]:
        """The runs as a :mod:`supremix.reporting` results summary, the shot rule in its
        provenance (``shot_rule``: bin width and thresholds)."""
        return self.sweep.summary(
            notes=notes,
            experiment=f"imbalanced regression (the SupReMix paper, {PAPER_TABLE})",
            provenance={"shot_rule": dataclasses.asdict(self.rule)},
        )


def shot_region_figure(run: ImbalancedRun) -> Figure:
    """Training items per label bin of the shot rule, coloured by region, with the many- and
    few-shot thresholds: the imbalance Table 16 is about."""
    rule, train = run.rule, run.sweep.train_targets
    bins = np.floor(train / rule.bin_width).astype(int)
    index, counts = np.unique(bins, return_counts=True)
    colours = {"many": "tab:green", "medium": "tab:orange", "few": "tab:red"}
    regions = np.where(counts > rule.many, "many", np.where(counts < rule.few, "few", "medium"))
    figure = report_figure(figsize=(7.0, 3.0), layout="constrained")
    axis = figure.subplots()
    for region, colour in colours.items():
        chosen = regions == region
        axis.bar(
            index[chosen] * rule.bin_width,
            counts[chosen],
            width=rule.bin_width,
            align="edge",
            color=colour,
            label=f"{region}-shot",
        )
    axis.axhline(rule.many, color="k", linestyle="--", linewidth=0.8)
    axis.axhline(rule.few, color="k", linestyle=":", linewidth=0.8)
    unit = DATASETS[run.sweep.dataset][1]
    axis.set(xlabel=f"label ({unit})" if unit else "label", ylabel="training items per bin")
    axis.legend()
    return figure


def run_imbalanced(
    *,
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1),
    settings: RunSettings | None = None,
    **changes: Any,
) -> ImbalancedRun:
    """Train Table 16's variants on RSNA with the shot rule of :func:`scaled_shot_rule` for
    this training split (its bin width also LDS's and FDS's). ``settings`` and ``changes``:
    :func:`~.sweep.run_sweep`."""
    settings = RunSettings.of(settings, **changes)
    n_train, _ = training_split_size("rsna", settings)
    rule = scaled_shot_rule(n_train, paper_train_size("rsna"))
    variants = imbalanced_variants(methods, imbalance_bin=rule.bin_width)
    return ImbalancedRun(run_sweep("rsna", variants, settings, seeds=seeds), rule)
