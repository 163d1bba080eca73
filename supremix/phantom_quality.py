"""Does a phantom teach? The best method's MAE beside two references that bound it.

On a phantom the answer of every item is known up to label noise of known size
(:mod:`supremix.data.phantoms.label_noise`), so a run's best MAE can be placed between

* the **mean predictor**'s MAE, predicting the training mean for every item: a model that
  learned nothing from the inputs scores this (ratio 1), and
* the **noise floor**, the expected MAE of the true function under the label noise: no
  predictor does better on average (ratio 1 to the floor).

A dataset chapter is informative when its best method is well below the mean predictor
(:data:`LEARNS`: at most 0.6 of its MAE, the book's goal) and the methods do not all sit at
the floor (:data:`AT_FLOOR`), where they could not differ. The book's table of these numbers
is its "Phantoms that teach" page (``book/phantoms.md``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from .data.phantoms.label_noise import LABEL_NOISE, noise_floor

#: A chapter's phantom learns when its best MAE is at most this fraction of the mean predictor's.
LEARNS = 0.6
#: Every method "ties at the floor" when even the worst MAE is within this factor of it.
AT_FLOOR = 1.1


class _StudyLike(Protocol):
    dataset: str

    @property
    def data_kind(self) -> str: ...

    def metrics_frame(self) -> pd.DataFrame: ...

    def mean_predictor_metrics(self) -> dict[str, float]: ...


@dataclass(frozen=True)
class PhantomQuality:
    """One run's MAEs against the mean predictor and the noise floor (``None`` on real data,
    whose noise is unknown)."""

    dataset: str
    maes: Mapping[str, float]
    mean_predictor_mae: float
    noise_floor: float | None

    @property
    def best_method(self) -> str:
        return min(self.maes, key=lambda m: self.maes[m])

    @property
    def best_mae(self) -> float:
        return self.maes[self.best_method]

    @property
    def of_mean(self) -> float:
        """Best MAE / the mean predictor's: 1 learned nothing, lower is better."""
        return self.best_mae / self.mean_predictor_mae

    @property
    def of_floor(self) -> float:
        """Best MAE / the noise floor: 1 learned all there is (NaN without a floor)."""
        return math.nan if not self.noise_floor else self.best_mae / self.noise_floor

    @property
    def learns(self) -> bool:
        """The best MAE is at most :data:`LEARNS` times the mean predictor's."""
        return self.of_mean <= LEARNS

    @property
    def all_at_floor(self) -> bool:
        """Every method is within :data:`AT_FLOOR` of the noise floor (nothing to compare)."""
        if not self.noise_floor:
            return False
        return max(self.maes.values()) <= AT_FLOOR * self.noise_floor

    @property
    def verdict(self) -> str:
        """``"learns"`` or ``"learns too little"`` (:attr:`learns`), ``"cannot tell the
        methods apart"`` when they all sit at the floor (:attr:`all_at_floor`), ``"real
        data"`` where there is no floor to judge by."""
        if self.noise_floor is None:
            return "real data"
        if self.all_at_floor:
            return "cannot tell the methods apart"
        return "learns" if self.learns else "learns too little"

    def facts(self) -> dict[str, float | str]:
        """The numbers a dataset chapter's prose states, by name
        (:func:`supremix.notebook.glue_facts`): ``best_method``, ``best_mae``,
        ``mean_predictor_mae``, ``of_mean``, ``noise_floor`` and ``of_floor`` (NaN on real
        data), ``verdict`` (:attr:`verdict`) and the ``goal`` (:data:`LEARNS`)."""
        return {
            "best_method": self.best_method,
            "best_mae": self.best_mae,
            "mean_predictor_mae": self.mean_predictor_mae,
            "of_mean": self.of_mean,
            "noise_floor": math.nan if self.noise_floor is None else self.noise_floor,
            "of_floor": self.of_floor,
            "verdict": self.verdict,
            "goal": LEARNS,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "best_method": self.best_method,
            "best_mae": self.best_mae,
            "mean_predictor_mae": self.mean_predictor_mae,
            "noise_floor": self.noise_floor,
            "of_mean": self.of_mean,
            "of_floor": self.of_floor,
            "maes": dict(self.maes),
        }


def phantom_quality(
    dataset: str,
    maes: Mapping[str, float],
    mean_predictor_mae: float,
    floor: float | None = None,
) -> PhantomQuality:
    """:class:`PhantomQuality` of per-method mean MAEs ``maes``; ``floor`` is the phantom's
    noise floor (``None``: unknown, as on real data)."""
    if not maes:
        raise ValueError(f"{dataset}: no method MAEs given to judge the phantom by")
    bad = {m: v for m, v in maes.items() if not (math.isfinite(v) and v >= 0)}
    if bad:
        raise ValueError(f"{dataset}: MAEs must be finite and >= 0, got {bad}")
    if not (math.isfinite(mean_predictor_mae) and mean_predictor_mae > 0):
        raise ValueError(
            f"{dataset}: the mean predictor's MAE must be finite and > 0, got {mean_predictor_mae}"
        )
    if floor is not None and not (math.isfinite(floor) and floor >= 0):
        raise ValueError(f"{dataset}: the noise floor must be finite and >= 0, got {floor}")
    return PhantomQuality(dataset, dict(maes), float(mean_predictor_mae), floor)


def study_quality(study: _StudyLike) -> PhantomQuality:
    """:class:`PhantomQuality` of a :class:`supremix.studies.Study`: each method's MAE averaged
    over seeds, the training-mean predictor's MAE on the same items and, on a phantom, its
    noise floor (:func:`supremix.data.phantoms.noise_floor`)."""
    maes = study.metrics_frame().groupby("variant", sort=False)["MAE"].mean()
    floor = None
    if study.data_kind == "phantom" and study.dataset in LABEL_NOISE:
        floor = noise_floor(study.dataset)
    return phantom_quality(
        study.dataset,
        {str(k): float(v) for k, v in maes.items()},
        study.mean_predictor_metrics()["MAE"],
        floor,
    )


def quality_table(qualities: Sequence[PhantomQuality]) -> pd.DataFrame:
    """One row per dataset: best method, its MAE, the two references and both ratios."""
    rows = [
        {
            "dataset": q.dataset,
            "best method": q.best_method,
            "best MAE": q.best_mae,
            "mean predictor MAE": q.mean_predictor_mae,
            "noise floor": q.noise_floor,
            "best / mean predictor": q.of_mean,
            "best / noise floor": q.of_floor,
        }
        for q in qualities
    ]
    return pd.DataFrame(rows).set_index("dataset")
