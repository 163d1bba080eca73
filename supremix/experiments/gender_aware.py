"""Gender-aware representations: mixing within sex groups or across them (the SupReMix paper, §5.7,
Fig. 10).

The SupReMix paper's §5.7: on RSNA bone age, SupReMix "generates hard-negative and hard-positive
pairs exclusively within the same gender groups", which gives "distinct continuous trajectories for
male and female subjects, both following clear age progression patterns" (Fig. 10, top), while
"alternative methods (bottom) struggle to preserve both gender differentiation and age continuity".
Girls' skeletons mature earlier than boys' of the same age, which mixing across sexes blurs. The
figure prints no numbers.

The experiment is one :func:`~supremix.experiments.sweep.run_sweep` whose rows
(:data:`ROWS`) are SupReMix with mixtures restricted to the anchor's sex
(``TrainConfig.use_groups``: the items' ``group``, 0 female and 1 male for RSNA and RHPE),
SupReMix mixing across sexes, and other methods. Both SupReMix rows state ``use_groups``: the
``rsna`` and ``rhpe`` presets mix within sex by default (§5.7), so the comparison must switch it
off explicitly for the "across sexes" row. For the first seed's encoder features of the
evaluation items it measures

* how well sex can be read from the representation: :func:`sex_separability`, the balanced
  accuracy of a cross-validated logistic regression (0.5: not at all);
* age continuity within each sex: :func:`supremix.analysis.ordinality_score` per group;

and draws the latent trajectories: t-SNE maps with, per sex, the mean map position of each age
bin joined in age order (:func:`age_trajectories`, :func:`trajectory_figure`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from supremix.analysis import embed_2d, ordinality_score
from supremix.analysis.arrays import as_features, features_and_labels, map_and_labels
from supremix.analysis.figure import report_figure
from supremix.metrics import as_1d
from supremix.train import open_splits

from .settings import RunSettings
from .sweep import Sweep, Variant, known_choices, run_sweep
from .table_facts import extreme

#: The experiment's rows, by the key the notebook's ``methods`` parameter uses.
ROWS: dict[str, Variant] = {
    "supremix_within_sex": Variant(
        "SupReMix, mixing within sex", {"method": "supremix", "use_groups": True}
    ),
    "supremix": Variant(
        "SupReMix, mixing across sexes", {"method": "supremix", "use_groups": False}
    ),
    "supcon": Variant("SupCon", {"method": "supcon"}),
    "rnc": Variant("RnC", {"method": "rnc"}),
    "adacon": Variant("AdaCon", {"method": "adacon"}),
    "simclr": Variant("SimCLR", {"method": "simclr"}),
    "vanilla": Variant("Vanilla", {"method": "vanilla"}),
}
DEFAULT_ROWS = ("supremix_within_sex", "supremix", "supcon", "rnc")
#: Names of the sex groups of the RSNA and RHPE loaders (``group`` 0 female, 1 male).
SEX_NAMES = {0: "female", 1: "male"}
MARKERS = ("o", "^", "s", "D")


def gender_variants(rows: Sequence[str] = DEFAULT_ROWS) -> list[Variant]:
    """The :class:`Variant` of each key of :data:`ROWS` in ``rows``, in that order."""
    return [ROWS[r] for r in known_choices("row", rows, list(ROWS))]


def group_name(group: int) -> str:
    """``"female"``/``"male"`` for the sex groups, else ``"group <g>"``."""
    return SEX_NAMES.get(int(group), f"group {int(group)}")


def _check_groups(groups: Any, n: int) -> np.ndarray:
    array = np.asarray(groups)
    if array.shape != (n,):
        raise ValueError(f"groups must have one value per item, shape ({n},), got {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"groups must be integers (0 female, 1 male), got dtype {array.dtype}")
    return array.astype(np.int64)


def sex_separability(features: Any, groups: Any, *, folds: int = 5, seed: int = 0) -> float:
    """Balanced accuracy of predicting the group from the features with a logistic regression
    on standardised features, cross-validated over ``folds`` stratified folds (fewer when a
    group has fewer items). 0.5 is chance, 1 a perfect separation; NaN with fewer than two
    items in some group or with fewer than two groups."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = as_features(features)
    g = _check_groups(groups, x.shape[0])
    _, counts = np.unique(g, return_counts=True)
    if counts.size < 2 or counts.min() < 2:
        return math.nan
    splitter = StratifiedKFold(
        n_splits=min(folds, int(counts.min())), shuffle=True, random_state=seed
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    predicted = cross_val_predict(model, x, g, cv=splitter)
    return float(balanced_accuracy_score(g, predicted))


def within_group_ordinality(features: Any, labels: Any, groups: Any) -> dict[str, float]:
    """:func:`~supremix.analysis.ordinality_score` over the items of each group (by
    :func:`group_name`); NaN for a group of fewer than three items."""
    x, y = features_and_labels(features, labels)
    g = _check_groups(groups, x.shape[0])
    scores = {}
    for value in np.unique(g):
        mask = g == value
        scores[group_name(value)] = (
            ordinality_score(x[mask], y[mask]) if mask.sum() >= 3 else math.nan
        )
    return scores


def age_bins(labels: Any, n_bins: int) -> np.ndarray:
    """Index (0 .. n_bins-1) of each label's quantile bin over all ``labels``; bin ``b`` holds
    the labels in ``[q_b, q_{b+1})`` (the last bin also its upper edge)."""
    y = as_1d(labels, "labels")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    edges = np.quantile(y, np.linspace(0.0, 1.0, n_bins + 1))
    return np.searchsorted(edges[1:-1], y, side="right")


def age_trajectories(coords: Any, labels: Any, groups: Any, *, n_bins: int = 6) -> pd.DataFrame:
    """Per group and age bin (:func:`age_bins`, shared by the groups): the mean map position
    ``x``, ``y``, the mean label and the number of items; rows in group then age order."""
    xy, y = map_and_labels(coords, labels)
    g = _check_groups(groups, xy.shape[0])
    bins = age_bins(y, n_bins)
    rows = []
    for value in np.unique(g):
        for b in np.unique(bins[g == value]):
            mask = (g == value) & (bins == b)
            rows.append(
                {
                    "group": group_name(value),
                    "bin": int(b),
                    "label": float(y[mask].mean()),
                    "x": float(xy[mask, 0].mean()),
                    "y": float(xy[mask, 1].mean()),
                    "items": int(mask.sum()),
                }
            )
    return pd.DataFrame(rows, columns=["group", "bin", "label", "x", "y", "items"])


@dataclass
class GenderStudy:
    """A :class:`~supremix.experiments.sweep.Sweep` of :data:`ROWS` with the sex group of
    every evaluation item (same order as ``sweep.targets``)."""

    sweep: Sweep
    groups: np.ndarray

    def features(self) -> dict[str, np.ndarray]:
        """First-seed encoder features of the evaluation items, by row label."""
        return self.sweep.embeddings()

    def table(self, *, seed: int = 0) -> pd.DataFrame:
        """Per row: MAE and ρ (means over seeds), then, for the first seed's features, sex
        separability (:func:`sex_separability`), age ordinality over all items and within
        each sex (:func:`within_group_ordinality`)."""
        metrics = self.sweep.table(["MAE", "rho"])
        rows = {}
        for label, values in self.features().items():
            rows[label] = {
                "MAE": metrics.loc[label, "MAE"],
                "rho": metrics.loc[label, "rho"],
                "sex separability": sex_separability(values, self.groups, seed=seed),
                "age ordinality": ordinality_score(values, self.sweep.targets),
                **{
                    f"age ordinality, {name}": score
                    for name, score in within_group_ordinality(
                        values, self.sweep.targets, self.groups
                    ).items()
                },
            }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("row")

    def maps(self, *, seed: int = 0, threads: int | None = 1) -> dict[str, np.ndarray]:
        """t-SNE maps (:func:`supremix.analysis.embed_2d`) of :meth:`features`; ``threads``
        caps the BLAS/OpenMP threads (t-SNE of a few hundred points is slower with more on
        a busy machine)."""
        limit = threadpool_limits(threads) if threads is not None else contextlib.nullcontext()
        with limit:
            return {name: embed_2d(x, seed=seed) for name, x in self.features().items()}


def evaluation_groups(splits: Mapping[str, Any], eval_split: str) -> np.ndarray:
    """The ``groups`` of ``splits[eval_split]`` (splits as :func:`supremix.train.open_splits`
    opens them), or a ``ValueError`` naming the missing grouping."""
    dataset = splits[eval_split]
    groups = getattr(dataset, "groups", None)
    if groups is None:
        raise ValueError(
            f"the {eval_split} items of {getattr(dataset, 'name', 'this dataset')!r} carry no "
            "'group' (sex); gender-aware mixing needs a dataset whose loader gives one "
            "(rsna and rhpe always do)"
        )
    groups = np.asarray(groups, dtype=np.int64)
    if np.unique(groups).size < 2:
        raise ValueError(f"the {eval_split} items all belong to one group; need two sexes")
    return groups


def run_gender_aware(
    dataset: str = "rsna",
    *,
    rows: Sequence[str] = DEFAULT_ROWS,
    seeds: Sequence[int] = (0,),
    settings: RunSettings | None = None,
    **changes: Any,
) -> GenderStudy:
    """Train every row of ``rows`` (keys of :data:`ROWS`) with every seed and keep the first
    seed's encoder features and the sex of each evaluation item.

    The dataset's evaluation items must carry a ``group`` (checked before any training).
    ``settings`` with ``changes`` (:class:`~supremix.experiments.settings.RunSettings` fields:
    ``preset``, ``epochs``, ``data_root``, ``smoke``, ``overrides``...) say how, as for
    :func:`~supremix.experiments.sweep.run_sweep`.
    """
    settings = RunSettings.of(settings, **changes)
    variants = gender_variants(rows)
    _, config = settings.train_config(dataset)
    splits, _ = open_splits(config, settings.data_root)
    eval_split = "test" if splits["test"] is not None else "val"
    groups = evaluation_groups(splits, eval_split)
    targets = np.asarray(splits[eval_split].targets, dtype=np.float64)
    sweep = run_sweep(dataset, variants, settings=settings, seeds=seeds, keep_features=True)
    if sweep.eval_split != eval_split or not np.array_equal(sweep.targets, targets):
        raise RuntimeError("the sweep evaluated other items than those whose groups were read")
    return GenderStudy(sweep=sweep, groups=groups)


def gender_facts(table: pd.DataFrame) -> dict[str, Any]:
    """The headline of :meth:`GenderStudy.table`, by name, for the notebook's prose: ``rows``;
    the rows with the highest and lowest sex separability (``most_separable``,
    ``least_separable``), the highest age ordinality over all items (``most_ordered``) and
    within each sex (``most_ordered_within``: the highest ordinality of a row's less ordered
    sex), and the lowest MAE (``lowest_mae``), each with its ``*_value``
    (:func:`~supremix.experiments.table_facts.extreme`)."""
    within = [c for c in table.columns if c.startswith("age ordinality, ")]
    return {
        "rows": len(table),
        **extreme(table["sex separability"], "most_separable"),
        **extreme(table["sex separability"], "least_separable", largest=False),
        **extreme(table["age ordinality"], "most_ordered"),
        **extreme(table[within].min(axis=1, skipna=False), "most_ordered_within"),
        **extreme(table["MAE"], "lowest_mae", largest=False),
    }


def trajectory_figure(
    maps: Mapping[str, Any],
    labels: Any,
    groups: Any,
    *,
    n_bins: int = 6,
    ncols: int = 2,
    label_name: str = "bone age (months)",
    title: str | None = None,
) -> Figure:
    """The SupReMix paper's Fig. 10 for this run: one panel per map (``(n, 2)`` coordinates by
    name), items coloured by label with one marker per sex (in the legend), and each sex's
    trajectory (:func:`age_trajectories`: mean position per age bin, joined in age order, ending in
    an arrow head at the oldest bin)."""
    if not maps:
        raise ValueError("nothing to plot: no maps given")
    y = as_1d(labels, "labels")
    g = _check_groups(groups, y.size)
    ncols = min(ncols, len(maps))
    nrows = math.ceil(len(maps) / ncols)
    figure = report_figure(figsize=(4.0 * ncols, 3.5 * nrows), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(maps) :]:
        ax.set_visible(False)
    values = np.unique(g)
    points = None
    for ax, (name, coords) in zip(axes, maps.items(), strict=False):
        xy, _ = map_and_labels(coords, y)
        for index, value in enumerate(values):
            mask = g == value
            points = ax.scatter(
                xy[mask, 0],
                xy[mask, 1],
                c=y[mask],
                cmap="viridis",
                vmin=y.min(),
                vmax=y.max(),
                s=16,
                marker=MARKERS[index % len(MARKERS)],
                linewidths=0,
                alpha=0.8,
            )
        paths = age_trajectories(xy, y, g, n_bins=n_bins)
        for index, value in enumerate(values):
            path = paths[paths["group"] == group_name(value)]
            colour = f"C{3 if value == 0 else 0}" if value in SEX_NAMES else f"C{index + 4}"
            ax.plot(
                path["x"],
                path["y"],
                color=colour,
                linewidth=2,
                marker=MARKERS[index % len(MARKERS)],
                markersize=5,
                label=group_name(value),
            )
            if len(path) > 1:
                ax.annotate(
                    "",
                    xy=(path["x"].iloc[-1], path["y"].iloc[-1]),
                    xytext=(path["x"].iloc[-2], path["y"].iloc[-2]),
                    arrowprops={"arrowstyle": "->", "color": colour, "linewidth": 2},
                )
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    if points is None:
        raise ValueError("nothing to plot: no items given (labels and groups are empty)")
    axes[0].legend(fontsize=8, title="sex: items, trajectory", title_fontsize=8)
    figure.colorbar(points, ax=list(axes[: len(maps)]), label=label_name, shrink=0.8)
    if title is not None:
        figure.suptitle(title)
    return figure
