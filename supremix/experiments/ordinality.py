"""The label-permutation experiment: is a representation aware of label order? (the SupReMix paper,
§5.1.1, Fig. 3).

The SupReMix paper's §5.1.1 trains SupCon and SupReMix on RSNA bone ages twice: with the genuine
labels and with labels permuted group-wise ("randomly reassigns a new value to each bone age group":
all X-rays of 12 months become, say, 48 months). Equal labels stay equal, the order between groups
is scrambled. Fig. 3 shows t-SNE maps: SupReMix's representation is continuous and ordered with
genuine labels and disrupted with permuted ones; SupCon's forms clusters either way. The figure
prints no numbers.

Here each method is a pair of :class:`~supremix.experiments.sweep.Variant` rows of one
:func:`~supremix.experiments.sweep.run_sweep`: genuine labels, and the training split with
its labels mapped through :func:`supremix.data.label_ops.permute_labels` (a permutation of
the split's own label values, drawn with the run's seed; validation and test keep their
labels). Both models' encoder features of the evaluation items are mapped with t-SNE and
scored by :func:`supremix.analysis.ordinality_score` against the genuine labels: the
question is how much of the true order each representation keeps, and how much of it
training on permuted labels destroys (:func:`supremix.analysis.permutation_sensitivity`
with the genuine labels on both sides). SupCon's loss sees labels only through equality,
which the permutation keeps, so its pretraining does not change at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from supremix.analysis import permutation_sensitivity
from supremix.analysis.figure import report_figure
from supremix.data.base import RegressionDataset
from supremix.data.label_ops import SubsetDataset, permute_labels
from supremix.paper import canonical_method
from supremix.train.config import METHODS

from .sweep import Sweep, Variant, known_choices, run_sweep
from .table_facts import NONE, extreme

GENUINE = "genuine labels"
PERMUTED = "permuted labels"
DEFAULT_METHODS = ("supremix", "supcon")


def permuted_training_labels(train_set: RegressionDataset, seed: int) -> SubsetDataset:
    """The training split with group-wise permuted labels (the SupReMix paper, §5.1.1): a
    :attr:`Variant.train_subset <supremix.experiments.sweep.Variant.train_subset>`.

    The permutation shuffles the split's own distinct label values with ``seed`` (the run's
    seed): every item keeps its place, items of equal label get one new label, distinct
    labels stay distinct.
    """
    return permute_labels(train_set, seed=seed)


def variant_label(method: str, labels: str) -> str:
    """The row label of ``method`` trained with ``labels`` (:data:`GENUINE` or :data:`PERMUTED`)."""
    if labels not in (GENUINE, PERMUTED):
        raise ValueError(f"labels must be {GENUINE!r} or {PERMUTED!r}, got {labels!r}")
    return f"{canonical_method(method)}, {labels}"


def ordinality_variants(methods: Sequence[str] = DEFAULT_METHODS) -> list[Variant]:
    """For each method, a genuine-label and a permuted-label :class:`Variant`, in that order."""
    variants = []
    for method in known_choices("method", methods, METHODS):
        variants.append(Variant(variant_label(method, GENUINE), {"method": method}))
        variants.append(
            Variant(
                variant_label(method, PERMUTED),
                {"method": method},
                train_subset=permuted_training_labels,
            )
        )
    return variants


def run_ordinality(
    dataset: str = "rsna",
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    seeds: Sequence[int] = (0,),
    **sweep_options: Any,
) -> Sweep:
    """Train every method of ``methods`` with genuine and with permuted training labels
    (:func:`ordinality_variants`) and keep the first seed's encoder features of the
    evaluation items. ``sweep_options`` go to :func:`~supremix.experiments.sweep.run_sweep`
    (preset, epochs, data_root, device, smoke, overrides...)."""
    return run_sweep(
        dataset, ordinality_variants(methods), seeds=seeds, keep_features=True, **sweep_options
    )


def _methods_of(sweep: Sweep) -> list[str]:
    methods = []
    for label in sweep.labels:
        method, _, labels = label.partition(", ")
        if labels == GENUINE and variant_label(method, PERMUTED) in sweep.labels:
            methods.append(method)
    if not methods:
        raise ValueError(
            f"the sweep has no pair of variants '<method>, {GENUINE}' and '<method>, "
            f"{PERMUTED}' (see ordinality_variants); its variants: {', '.join(sweep.labels)}"
        )
    return methods


def ordinality_table(sweep: Sweep, *, max_pairs: int = 200_000, seed: int = 0) -> pd.DataFrame:
    """Per method: how much of the genuine label order each representation keeps.

    Columns: ``genuine`` and ``permuted`` (:func:`~supremix.analysis.ordinality_score` of the
    encoder features of the model trained with genuine, resp. permuted, labels, both against
    the genuine labels of the evaluation items), ``drop`` (genuine − permuted: the ordering
    lost), ``max |Δ feature|`` (largest difference between the two models' features: 0 when
    the permutation changed nothing) and the MAE of each model's probe against the genuine
    labels (seeds averaged).
    """
    features = sweep.embeddings()
    table = sweep.table(["MAE"])
    rows = {}
    for method in _methods_of(sweep):
        genuine, permuted = variant_label(method, GENUINE), variant_label(method, PERMUTED)
        missing = [label for label in (genuine, permuted) if label not in features]
        if missing:
            raise ValueError(
                f"no encoder features for {', '.join(missing)}; run the sweep with "
                "keep_features=True (run_ordinality does)"
            )
        scores = permutation_sensitivity(
            features[genuine],
            sweep.targets,
            features[permuted],
            sweep.targets,
            max_pairs=max_pairs,
            seed=seed,
        )
        rows[method] = {
            "genuine": scores["genuine"],
            "permuted": scores["permuted"],
            "drop": scores["drop"],
            "max |Δ feature|": float(np.max(np.abs(features[genuine] - features[permuted]))),
            "MAE, genuine": table.loc[genuine, "MAE"],
            "MAE, permuted": table.loc[permuted, "MAE"],
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")


def ordered_features(sweep: Sweep) -> dict[str, np.ndarray]:
    """Encoder features keyed by variant label, each method's genuine run then its permuted
    one, for :func:`supremix.plots.embedding_grid` with ``ncols=2`` (rows: methods; columns:
    genuine, permuted, as in the SupReMix paper's Fig. 3 A and B)."""
    features = sweep.embeddings()
    ordered = {}
    for method in _methods_of(sweep):
        for labels in (GENUINE, PERMUTED):
            ordered[variant_label(method, labels)] = features[variant_label(method, labels)]
    return ordered


def ordinality_facts(table: pd.DataFrame) -> dict[str, Any]:
    """The headline of :func:`ordinality_table`, by name, for the notebook's prose:
    ``methods``; the methods whose ordering training on permuted labels costs the most and the
    least (``most_drop``, ``least_drop``) and that keep the most order with genuine labels
    (``most_ordered``), each with its ``*_value``
    (:func:`~supremix.experiments.table_facts.extreme`); ``unchanged``: the methods whose
    features the permutation left identical (``max |Δ feature|`` 0), joined by commas, or
    "none"."""
    unchanged = [str(m) for m in table.index[table["max |Δ feature|"] == 0]]
    return {
        "methods": len(table),
        **extreme(table["drop"], "most_drop"),
        **extreme(table["drop"], "least_drop", largest=False),
        **extreme(table["genuine"], "most_ordered"),
        "unchanged": ", ".join(unchanged) or NONE,
    }


def ordinality_figure(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Bars of each method's ordinality with genuine and with permuted training labels
    (columns ``genuine`` and ``permuted`` of :func:`ordinality_table`)."""
    if table.empty:
        raise ValueError("nothing to plot: the ordinality table is empty")
    figure = report_figure(figsize=(1.6 + 1.4 * len(table), 3.2), layout="constrained")
    ax = figure.add_subplot()
    positions = np.arange(len(table))
    width = 0.38
    bars = (("genuine", "C0", -width / 2), ("permuted", "C1", width / 2))
    for column, colour, offset in bars:
        ax.bar(positions + offset, table[column], width, color=colour, label=f"trained on {column}")
    ax.set_xticks(positions, list(table.index))
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_ylabel("ordinality vs genuine labels\n(Spearman, distances)")
    ax.legend(fontsize=8)
    if title is not None:
        ax.set_title(title)
    return figure
