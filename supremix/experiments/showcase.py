"""The recorded phantom showcase: six methods, permuted labels and NLFDs from one set of runs.

The SupReMix paper makes three qualitative claims about the representations it compares
(the book's recorded RSNA showcase tests them on the RSNA phantom, whose truth is known):

* **global ordering** (§5.1.1, Fig. 3): SupReMix's features follow the order of the labels, and
  training on group-wise permuted labels destroys that order;
* **local linearity** (§5.3, Fig. 7): SupReMix's features are smoother than the vanilla
  regressor's, nearby features having nearby targets (smaller normalised Lipschitz factors);
* **SupCon's clusters** (§5.1.1, Fig. 3): SupCon treats labels as classes; its embedding
  forms clusters that stay the same when the labels are permuted.

:func:`run_showcase` trains every method with every seed under the genuine labels (a
:class:`~supremix.studies.Study`, the linear probe) and, with the first seed only, the
``permuted`` methods on permuted training labels
(:func:`~supremix.experiments.ordinality.permuted_training_labels`). The genuine runs are not
trained twice: :func:`ordinality_sweep` pairs each permuted run with the genuine run of the same
method and seed, labelled as :mod:`supremix.experiments.ordinality` expects, so
:func:`~supremix.experiments.ordinality.ordinality_table` reads it unchanged.
:func:`geometry_table` measures every method's features at two scales (global order, nearest
neighbours) and :func:`claim_verdicts` turns the numbers into one verdict per claim.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from supremix.analysis import (
    lipschitz_factors,
    nearest_neighbors,
    ordinality_score,
    standardize_features,
)
from supremix.paper import canonical_method
from supremix.reporting import summarise_runs
from supremix.studies import Study, compare_methods

from .continuity import ContinuityResult
from .ordinality import GENUINE, PERMUTED, permuted_training_labels, variant_label
from .results import Sweep
from .settings import RunSettings
from .sweep import Variant, run_sweep

#: The methods of the SupReMix paper's Table 5 (RSNA), in its order.
SHOWCASE_METHODS = ("vanilla", "simclr", "supcon", "adacon", "rnc", "supremix")


@dataclass(frozen=True)
class Showcase:
    """``study``: every method and seed with genuine labels; ``ordinality``: for each permuted
    method, its genuine and its permuted-label run of the study's embedding seed (variant
    labels of :func:`~supremix.experiments.ordinality.variant_label`)."""

    study: Study
    ordinality: Sweep

    @property
    def data_kind(self) -> str:
        return self.study.data_kind


def permuted_variants(study: Study, methods: Sequence[str]) -> list[Variant]:
    """For each of ``methods``, the study's variant of that method (its overrides: SimCLR keeps
    its augmentation) trained on permuted training labels, labelled ``"<Method>, permuted
    labels"``. A method the study did not run raises, naming those it ran."""
    variants = []
    for method in methods:
        label = canonical_method(method)
        if label not in study.labels:
            raise ValueError(
                f"showcase: {method!r} has no genuine-label run to pair with; the study ran "
                f"{', '.join(study.labels)}"
            )
        variants.append(
            Variant(
                variant_label(label, PERMUTED),
                study.variant(label).overrides,
                train_subset=permuted_training_labels,
            )
        )
    return variants


def ordinality_sweep(study: Study, permuted: Sweep) -> Sweep:
    """One sweep holding, for each method of ``permuted`` (variants ``"<Method>, permuted
    labels"``), the study's run of that method with the permuted sweep's seed, relabelled
    ``"<Method>, genuine labels"``, then the permuted run. Both sweeps must have evaluated the
    same items with the same labels."""
    if permuted.eval_split != study.eval_split or not np.array_equal(
        permuted.targets, study.targets
    ):
        raise ValueError(
            "showcase: the permuted-label runs were evaluated on other items than the study "
            f"({permuted.eval_split}, {permuted.targets.size} items against {study.eval_split}, "
            f"{study.targets.size}); run both on the same splits"
        )
    seed = permuted.feature_seed
    variants, runs = [], []
    for variant in permuted.variants:
        method, _, labels = variant.label.partition(", ")
        if labels != PERMUTED:
            raise ValueError(f"showcase: variant {variant.label!r} is not '<method>, {PERMUTED}'")
        genuine = variant_label(method, GENUINE)
        variants += [Variant(genuine, study.variant(method).overrides), variant]
        runs += [
            dataclasses.replace(study.run(method, seed), label=genuine),
            *permuted.variant_runs(variant.label),
        ]
    return dataclasses.replace(permuted, variants=variants, runs=runs, embedding_seed=seed)


def run_showcase(
    dataset: str = "rsna",
    *,
    methods: Sequence[str] = SHOWCASE_METHODS,
    permuted: Sequence[str] = SHOWCASE_METHODS,
    seeds: Sequence[int] = (0, 1, 2),
    settings: RunSettings | None = None,
) -> Showcase:
    """Train ``methods`` with every seed on genuine labels
    (:func:`~supremix.studies.compare_methods`), then the ``permuted`` methods with the first
    seed on permuted training labels; see the module docstring."""
    study = compare_methods(dataset, methods=methods, seeds=seeds, settings=settings)
    sweep = run_sweep(
        dataset,
        permuted_variants(study, permuted),
        settings,
        seeds=[study.feature_seed],
        keep_features=True,
    )
    return Showcase(study, ordinality_sweep(study, sweep))


def geometry_table(study: Study) -> pd.DataFrame:
    """Each method's encoder features of the evaluation items (embedding seed) at two scales.

    ``ordinality``: :func:`~supremix.analysis.ordinality_score` against the labels (global
    order: do farther labels lie farther apart?). ``NN label gap``: the mean ``|y - y_nn|``
    over items, ``nn`` the nearest other item in the standardised features (local order: the
    error of a one-nearest-neighbour regressor on the features, in label units);
    ``NN gap / random``: that gap over the mean ``|y_i - y_j|`` of all pairs of items (1:
    neighbours are no closer in label than random items; 0: they share labels).
    ``NLFD mean`` and ``NLFD median``: the normalised Lipschitz factors of the SupReMix paper's
    eq. (7) (:func:`~supremix.analysis.lipschitz_factors`; smaller is smoother).
    """
    rows = {}
    targets = study.targets
    random_gap = float(np.abs(targets[:, None] - targets[None, :]).sum()) / max(
        targets.size * (targets.size - 1), 1
    )
    for method, features in study.embeddings().items():
        neighbour, _ = nearest_neighbors(standardize_features(np.asarray(features, float)))
        factors = lipschitz_factors(features, targets)
        gap = float(np.mean(np.abs(targets - targets[neighbour])))
        rows[method] = {
            "ordinality": ordinality_score(features, targets),
            "NN label gap": gap,
            "NN gap / random": gap / random_gap if random_gap > 0 else math.nan,
            "NLFD mean": float(np.mean(factors)),
            "NLFD median": float(np.median(factors)),
        }
    if not rows:
        raise ValueError("showcase: the study kept no encoder features (embedding seed)")
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")


#: A nearest-neighbour label gap of at least this fraction of random pairs' keeps no local order.
NO_LOCAL_ORDER = 0.9


@dataclass(frozen=True)
class ClaimVerdict:
    """One qualitative claim of the SupReMix paper, whether this run supports it (``None``: the
    run cannot tell) and the sentence of numbers that decided it."""

    claim: str
    source: str
    holds: bool | None
    evidence: str

    def markdown(self) -> str:
        verdict = {True: "holds", False: "does not hold", None: "cannot be judged"}[self.holds]
        return f"- **{self.claim}** ({self.source}): {verdict} on this run. {self.evidence}"


def _global_ordering(table: pd.DataFrame, method: str, other: str) -> ClaimVerdict:
    claim, source = "Global ordering", "the SupReMix paper, §5.1.1 and Fig. 3"
    if method not in table.index or other not in table.index:
        return ClaimVerdict(claim, source, None, f"It needs {method} and {other} in the table.")
    ours, theirs = table.loc[method], table.loc[other]
    highest = table["genuine"].idxmax()
    orders = bool(ours["genuine"] >= theirs["genuine"] and ours["drop"] > theirs["drop"])
    evidence = (
        f"{method}'s features keep an ordinality of {ours['genuine']:.2f} with genuine labels "
        f"and {ours['permuted']:.2f} after training on permuted labels (a drop of "
        f"{ours['drop']:+.2f}); {other}'s: {theirs['genuine']:.2f} and {theirs['permuted']:.2f} "
        f"(drop {theirs['drop']:+.2f}). The most ordered genuine-label features are "
        f"{highest}'s ({table.loc[highest, 'genuine']:.2f})."
    )
    return ClaimVerdict(claim, source, orders, evidence)


def _local_linearity(result: ContinuityResult) -> ClaimVerdict:
    claim, source = "Local linearity", "the SupReMix paper, §5.3 and Fig. 7"
    boot = result.bootstrap
    share = float(np.mean(boot.z_gap > 0))
    smoother = result.z_gap > 0 and share >= 0.95
    correlation = boot.correlation
    evidence = (
        f"{result.method}'s normalised Lipschitz factors average "
        f"{np.mean(result.method_nlfd):.3g} against {result.baseline}'s "
        f"{np.mean(result.baseline_nlfd):.3g} (Z-gap {result.z_gap:+.2f}; {share:.0%} of "
        f"{boot.z_gap.size} bootstrap resamples have Z > 0, counted as smoother at 95 % or "
        "more). Across resamples the Z-gap and the ρ gap correlate at "
        + ("an undefined value" if math.isnan(correlation) else f"{correlation:+.2f}")
        + " (the paper reports a positive correlation on each dataset)."
    )
    return ClaimVerdict(claim, source, bool(smoother), evidence)


def _supcon_clusters(
    ordinality: pd.DataFrame, geometry: pd.DataFrame, supcon: str, method: str
) -> ClaimVerdict:
    claim, source = "SupCon's clusters", "the SupReMix paper, §5.1.1 and Fig. 3"
    if supcon not in ordinality.index or method not in geometry.index:
        return ClaimVerdict(claim, source, None, f"It needs {supcon} and {method} runs.")
    change = float(ordinality.loc[supcon, "max |Δ feature|"])
    same = change == 0.0
    ours, theirs = geometry.loc[supcon], geometry.loc[method]
    less_global = bool(ours["ordinality"] < theirs["ordinality"])
    no_local = bool(ours["NN gap / random"] >= NO_LOCAL_ORDER)
    local_kept = bool(ours["NN label gap"] <= theirs["NN label gap"]) and not no_local
    if less_global and local_kept:
        shape = "local order kept and global order lost: clusters placed in arbitrary order"
    elif no_local:
        shape = "its neighbours are hardly closer in label than random items: no clusters"
    elif less_global:
        shape = f"less order than {method} at both scales: no clusters, little order"
    else:
        shape = f"at least {method}'s global order: an ordered embedding, not clusters"
    evidence = (
        f"{supcon}'s features are "
        + ("identical" if same else f"changed (largest difference {change:.3g})")
        + " after training on permuted labels. Its global ordinality is "
        f"{ours['ordinality']:.2f} against {method}'s {theirs['ordinality']:.2f}, and its "
        f"nearest neighbours' labels differ by {ours['NN label gap']:.3g} on average "
        f"({ours['NN gap / random']:.2f} of random pairs' difference) against "
        f"{theirs['NN label gap']:.3g} ({theirs['NN gap / random']:.2f}): {shape}."
    )
    return ClaimVerdict(claim, source, bool(same and less_global and local_kept), evidence)


def claim_verdicts(
    ordinality: pd.DataFrame,
    continuity: ContinuityResult,
    geometry: pd.DataFrame,
    *,
    method: str = "SupReMix",
    supcon: str = "SupCon",
) -> list[ClaimVerdict]:
    """The three claims of the module docstring, judged from
    :func:`~supremix.experiments.ordinality.ordinality_table` (``ordinality``),
    :func:`~supremix.experiments.continuity.continuity_analysis` (``continuity``) and
    :func:`geometry_table` (``geometry``):

    * global ordering holds when ``method``'s genuine-label ordinality is at least
      ``supcon``'s and permuting the labels costs it more;
    * local linearity holds when ``method``'s NLFD is smaller than the baseline's (Z-gap > 0)
      in at least 95 % of the bootstrap resamples;
    * SupCon's clusters hold when ``supcon``'s features are identical under permuted labels,
      its global ordinality is below ``method``'s and its nearest neighbours' labels are at
      least as close as ``method``'s and closer than :data:`NO_LOCAL_ORDER` of random pairs'
      (local order without global order).
    """
    return [
        _global_ordering(ordinality, method, supcon),
        _local_linearity(continuity),
        _supcon_clusters(ordinality, geometry, supcon, method),
    ]


def showcase_summary(
    showcase: Showcase, *, notes: str = "", analyses: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The :mod:`supremix.reporting` summary of every run: the study's methods and the
    permuted-label runs (``"<Method>, permuted labels"``); ``analyses`` (JSON values: the
    tables and verdicts) go into its provenance."""
    study, sweep = showcase.study, showcase.ordinality
    permuted = [r for r in sweep.records() if r["method"].endswith(f", {PERMUTED}")]
    where = {
        "experiment": "showcase",
        "preset": study.preset,
        "eval_split": study.eval_split,
        "smoke": study.smoke,
        "settings": study.config.to_dict(),
        "analyses": dict(analyses or {}),
    }
    return summarise_runs(
        study.records() + permuted,
        data_kind=study.data_kind,
        dataset=study.dataset,
        notes=notes,
        provenance=where,
    )
