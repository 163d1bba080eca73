"""Representation continuity: Normalised Lipschitz Factor Distributions and the bootstrap Z-gap
(the SupReMix paper, §5.3, Fig. 7).

The SupReMix paper's §5.3 compares the encoder representations of SupReMix and of the vanilla
regressor on UK Biobank, RSNA and A4 by the Normalised Lipschitz Factor Distribution (NLFD, eq. (7):
the target distance over the representation distance to each test point's nearest neighbour, after
full-batch standardisation, scaled for the dimension). Fig. 7 (A) shows SupReMix's NLFD concentrated
on smaller factors ("left-skewed", better: nearby representations have nearby targets). Fig. 7 (B)
draws B = 100 bootstrap resamples of the test set and plots, per resample, the Z-gap of the two
NLFDs (positive when SupReMix's factors are smaller) against the gap in Pearson ρ of the two models'
predictions; §5.3 reports a positive Pearson correlation between the two on each of the three
datasets.

:func:`run_continuity` trains the baseline and the method on each dataset with
:func:`supremix.studies.compare_methods`; :func:`continuity_analysis` computes the NLFDs
(:func:`supremix.analysis.lipschitz_factors`), the Z-gap on the whole evaluation split
(:func:`supremix.analysis.nlfd_z_gap`) and the bootstrap
(:func:`supremix.analysis.bootstrap_nlfd_gap`) from the encoder features and predictions of
the study's embedding seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from supremix.analysis import NLFDBootstrap, bootstrap_nlfd_gap, lipschitz_factors, nlfd_z_gap
from supremix.analysis.figure import report_figure
from supremix.metrics import pearson
from supremix.paper import canonical_method, paper_results
from supremix.reporting import summarise_runs
from supremix.studies import Study, compare_methods

from .table_facts import extreme

#: The datasets of the SupReMix paper's Fig. 7.
FIG7_DATASETS = ("ukb", "rsna", "a4")
#: The SupReMix paper's §5.3: "bootstrap sample size B = 100".
PAPER_BOOTSTRAP = 100
#: The SupReMix paper's Fig. 7 (A) colours: SupReMix blue, vanilla orange.
COLOURS = {"method": "C0", "baseline": "C1"}

DataRoots = str | Path | Mapping[str, str | Path | None] | None


@dataclass(frozen=True)
class ContinuityResult:
    """NLFDs of a baseline and a method on one dataset's evaluation items, their Z-gap and
    ρ gap on all items, and the bootstrap of the SupReMix paper's Fig. 7 (B)."""

    dataset: str
    data_kind: str
    baseline: str
    method: str
    targets: np.ndarray
    baseline_nlfd: np.ndarray
    method_nlfd: np.ndarray
    z_gap: float
    rho_gap: float
    bootstrap: NLFDBootstrap


def roots_by_dataset(datasets: Sequence[str], data_root: DataRoots) -> dict[str, Any]:
    """Each dataset's data root: ``data_root`` may be ``None`` (phantoms), a mapping dataset ->
    folder (datasets it does not name use their phantom) or one folder when ``datasets`` holds
    a single dataset."""
    if data_root is None:
        return {d: None for d in datasets}
    if isinstance(data_root, Mapping):
        unknown = sorted(set(data_root) - set(datasets))
        if unknown:
            raise ValueError(
                f"data_root names {', '.join(unknown)}, which are not among the datasets "
                f"{', '.join(datasets)}"
            )
        return {d: data_root.get(d) for d in datasets}
    if len(datasets) != 1:
        raise ValueError(
            f"one data_root for {len(datasets)} datasets; give a mapping dataset -> folder, "
            f"e.g. {{'{datasets[0]}': '/data/{datasets[0]}'}}"
        )
    return {datasets[0]: data_root}


def run_continuity(
    datasets: Sequence[str] = FIG7_DATASETS,
    *,
    baseline: str = "vanilla",
    method: str = "supremix",
    seeds: Sequence[int] = (0,),
    data_root: DataRoots = None,
    **study_options: Any,
) -> dict[str, Study]:
    """Train ``baseline`` and ``method`` with every seed on each dataset
    (:func:`supremix.studies.compare_methods`; ``study_options``: preset, epochs,
    probe_epochs, batch_size, device, smoke, overrides, cpu_threads...). ``data_root``: see
    :func:`roots_by_dataset`."""
    datasets = list(datasets)
    if not datasets or len(set(datasets)) != len(datasets):
        raise ValueError(f"datasets must be a non-empty list of distinct names, got {datasets}")
    if baseline == method:
        raise ValueError(f"baseline and method are both {method!r}; compare two methods")
    roots = roots_by_dataset(datasets, data_root)
    return {
        dataset: compare_methods(
            dataset,
            methods=[baseline, method],
            seeds=seeds,
            data_root=roots[dataset],
            **study_options,
        )
        for dataset in datasets
    }


def continuity_analysis(
    study: Study,
    *,
    baseline: str = "vanilla",
    method: str = "supremix",
    n_boot: int = PAPER_BOOTSTRAP,
    seed: int = 0,
) -> ContinuityResult:
    """The SupReMix paper's §5.3 on ``study``'s evaluation split, from the encoder features and the
    predictions of its embedding seed: each model's NLFD, the Z-gap
    ``(μ_baseline − μ_method) / sqrt(σ_baseline² + σ_method²)``, the ρ gap
    ``ρ_method − ρ_baseline`` and ``n_boot`` bootstrap resamples (generator seeded by
    ``seed``)."""
    runs = {}
    for role, name in (("baseline", baseline), ("method", method)):
        run = study.run(name, study.feature_seed)
        if run.features is None:
            raise ValueError(
                f"{run.label} seed {run.seed} kept no encoder features; the study's "
                "embedding seed keeps them (compare_methods embedding_seed)"
            )
        runs[role] = run
    targets = study.targets
    base, other = runs["baseline"], runs["method"]
    baseline_nlfd = lipschitz_factors(base.features, targets)
    method_nlfd = lipschitz_factors(other.features, targets)
    boot = bootstrap_nlfd_gap(
        base.features,
        other.features,
        targets,
        baseline_pred=base.preds,
        method_pred=other.preds,
        n_boot=n_boot,
        seed=seed,
    )
    return ContinuityResult(
        dataset=study.dataset,
        data_kind=study.data_kind,
        baseline=base.label,
        method=other.label,
        targets=targets,
        baseline_nlfd=baseline_nlfd,
        method_nlfd=method_nlfd,
        z_gap=nlfd_z_gap(baseline_nlfd, method_nlfd),
        rho_gap=pearson(other.preds, targets) - pearson(base.preds, targets),
        bootstrap=boot,
    )


def continuity_table(results: Sequence[ContinuityResult]) -> pd.DataFrame:
    """One row per dataset: data kind, evaluation items, mean and median NLFD of each model,
    the Z-gap and ρ gap on all items, and over the bootstrap resamples the mean Z-gap, the
    share of resamples with Z > 0 and the Pearson correlation of Z-gap and ρ gap."""
    rows = {}
    for r in results:
        z = r.bootstrap.z_gap
        rows[r.dataset] = {
            "data": r.data_kind,
            "items": int(r.targets.size),
            f"NLFD mean, {r.baseline}": float(np.mean(r.baseline_nlfd)),
            f"NLFD mean, {r.method}": float(np.mean(r.method_nlfd)),
            f"NLFD median, {r.baseline}": float(np.median(r.baseline_nlfd)),
            f"NLFD median, {r.method}": float(np.median(r.method_nlfd)),
            "Z-gap": r.z_gap,
            "rho gap": r.rho_gap,
            "bootstrap Z-gap mean": float(np.nanmean(z)) if np.isfinite(z).any() else math.nan,
            "share Z > 0": float(np.mean(z > 0)),
            "corr(Z-gap, rho gap)": r.bootstrap.correlation,
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("dataset")
    return table.join(paper_correlations(), how="left")


#: Where the SupReMix paper prints the Figure 7 (B) correlations; the two assign them differently.
PAPER_FIGURE_7 = "Figure 7 (text §5.3)"


def paper_correlations() -> pd.DataFrame:
    """The SupReMix paper's correlation of Z-gap and ρ gap per dataset, as printed in the §5.3 text
    and
    in the Figure 7 caption (two columns: the two disagree on which dataset has which value)."""
    numbers = paper_results("supremix", table=PAPER_FIGURE_7)
    table = numbers.pivot(index="dataset", columns="setting", values="value")
    table.columns = [f"paper corr ({setting})" for setting in table.columns]
    return table.rename_axis("dataset")


def continuity_facts(results: Sequence[ContinuityResult]) -> dict[str, Any]:
    """The headline of :func:`continuity_table`, by name, for the notebook's prose:
    ``datasets``, ``baseline`` and ``method`` (the first result's), ``smoother`` (on how many
    datasets the method's factors are smaller on average: Z-gap > 0), ``resamples`` (the
    bootstrap's, per dataset), ``positive_correlations`` (on how many datasets Z-gap and ρ gap
    correlate positively over the resamples) and the datasets of the lowest and highest of
    those correlations with their ``*_value``
    (:func:`~supremix.experiments.table_facts.extreme`)."""
    if not results:
        raise ValueError("no continuity results to state")
    correlations = pd.Series({r.dataset: r.bootstrap.correlation for r in results}, dtype=float)
    return {
        "datasets": len(results),
        "baseline": results[0].baseline,
        "method": results[0].method,
        "smoother": int(sum(r.z_gap > 0 for r in results)),
        "resamples": int(results[0].bootstrap.z_gap.size),
        "positive_correlations": int((correlations > 0).sum()),
        **extreme(correlations, "lowest_correlation", largest=False),
        **extreme(correlations, "highest_correlation"),
    }


def continuity_summary(
    studies: Mapping[str, Study], *, notes: str = "", provenance: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One :mod:`supremix.reporting` summary of several datasets' studies: each method is
    named ``"<method> (<dataset>)"``. ``data_kind`` is ``"real"`` only when every dataset was
    real."""
    if not studies:
        raise ValueError("no studies to summarise")
    records = [r for name, s in studies.items() for r in s.records(method_suffix=f" ({name})")]
    kinds = {name: s.data_kind for name, s in studies.items()}
    data_kind = "real" if all(k == "real" for k in kinds.values()) else "phantom"
    first = next(iter(studies.values()))
    where = {
        "experiment": "continuity",
        "data_kinds": kinds,
        "presets": {name: s.preset for name, s in studies.items()},
        "smoke": first.smoke,
        "device": first.config.device,
        **dict(provenance or {}),
    }
    return summarise_runs(
        records, data_kind=data_kind, dataset=", ".join(studies), notes=notes, provenance=where
    )


def continuity_figure(results: Sequence[ContinuityResult], *, bins: int = 20) -> Figure:
    """The SupReMix paper's Fig. 7 for this run: per dataset (columns), (A) the NLFD histograms of
    the method (blue) and the baseline (orange), (B) the bootstrap Z-gap against the ρ gap with
    their least-squares line (black, as in the paper's figure) and Pearson correlation."""
    if not results:
        raise ValueError("nothing to plot: no continuity results")
    figure = report_figure(figsize=(3.6 * len(results), 6.4), layout="constrained")
    axes = figure.subplots(2, len(results), squeeze=False)
    for column, r in enumerate(results):
        top, bottom = axes[0, column], axes[1, column]
        both = np.concatenate([r.baseline_nlfd, r.method_nlfd])
        edges = np.linspace(0.0, float(np.quantile(both, 0.98)) or 1.0, bins + 1)
        for role, values, name in (
            ("baseline", r.baseline_nlfd, r.baseline),
            ("method", r.method_nlfd, r.method),
        ):
            top.hist(
                np.clip(values, 0.0, edges[-1]),
                bins=edges,
                density=True,
                alpha=0.55,
                color=COLOURS[role],
                label=f"{canonical_method(name)} (mean {np.mean(values):.3g})",
            )
        top.set_title(f"{r.dataset}: NLFD ({r.data_kind})", fontsize=10)
        top.set_xlabel("normalised Lipschitz factor (clipped at 98th pct.)", fontsize=8)
        top.legend(fontsize=7)
        boot = r.bootstrap
        gap = (
            boot.performance_gap
            if boot.performance_gap is not None
            else np.full_like(boot.z_gap, np.nan)
        )
        bottom.scatter(boot.z_gap, gap, s=12, alpha=0.7, color="0.3", linewidths=0)
        finite = np.isfinite(boot.z_gap) & np.isfinite(gap)
        if finite.sum() > 1 and np.ptp(boot.z_gap[finite]) > 0:
            slope, intercept = np.polyfit(boot.z_gap[finite], gap[finite], 1)
            xs = np.array([boot.z_gap[finite].min(), boot.z_gap[finite].max()])
            bottom.plot(xs, slope * xs + intercept, color="black", linewidth=1)
        bottom.axvline(0.0, color="0.7", linewidth=0.8)
        bottom.axhline(0.0, color="0.7", linewidth=0.8)
        bottom.set_title(
            f"ρ = {boot.correlation:.2f} over {boot.z_gap.size} resamples", fontsize=10
        )
        bottom.set_xlabel(f"NLFD Z-gap ({r.baseline} − {r.method})")
        bottom.set_ylabel(f"ρ gap ({r.method} − {r.baseline})")
    axes[0, 0].set_ylabel("density")
    return figure
