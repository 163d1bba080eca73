"""Generalisation to missing targets: UK Biobank without the training samples aged 45-50,
60-65 and 75-80 (the SupReMix paper, App. D.1, Table 14).

"We curate subsets of the UK Biobank dataset by removing samples within specific age ranges
(45-50, 60-65, and 75-80 years) while maintaining the original validation and test sets."
Table 14 reports MAE and GM of Vanilla, SupCon, RnC and SupReMix overall and on the test
samples whose age lies in a removed range ("MT"). Every variant here trains on
:func:`supremix.data.label_ops.remove_label_ranges` of the training split (closed ranges:
an age of exactly 50 is removed) and is evaluated on the unchanged test split, overall and on
the :func:`missing_target_subsets` that name Table 14's columns.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from supremix.data.base import RegressionDataset
from supremix.data.label_ops import LabelRange, in_label_ranges, remove_label_ranges
from supremix.paper import canonical_method

from .settings import RunSettings
from .sweep import PaperRow, Sweep, Variant, known_choices, run_sweep

#: The SupReMix paper's App. D.1: the age ranges (years) removed from the training set.
MISSING_AGE_RANGES: tuple[LabelRange, ...] = ((45.0, 50.0), (60.0, 65.0), (75.0, 80.0))

PAPER_TABLE = "Table 14"
#: The ``setting`` of Table 14's rows in :func:`supremix.paper.paper_results`.
PAPER_SETTING = "training samples aged 45-50, 60-65 and 75-80 removed"
#: Table 14's subsets, named as in :func:`supremix.paper.paper_results`.
OVERALL, MISSING = "overall", "missing targets"

#: The methods of Table 14.
METHODS = ("vanilla", "supcon", "rnc", "supremix")

#: UK Biobank phantom size of this experiment's default run, so that the test split holds
#: about ten items in the removed ranges.
PHANTOM_N = 320


#: Batch size of a smoke run (see :func:`run_missing_targets`).
SMOKE_BATCH = 16


def _without_ranges(
    ranges: tuple[LabelRange, ...], train: RegressionDataset, seed: int
) -> RegressionDataset:
    """The training split without the items labelled in ``ranges`` (the same for every seed)."""
    return remove_label_ranges(train, ranges)


def missing_target_variants(
    methods: Sequence[str] | None = None,
    ranges: Sequence[LabelRange] = MISSING_AGE_RANGES,
) -> list[Variant]:
    """One variant per method of Table 14 (``methods``: some of :data:`METHODS`, ``None``:
    all), each trained without the items labelled in ``ranges``."""
    methods = known_choices("method", methods, METHODS)
    ranges = tuple((float(low), float(high)) for low, high in ranges)
    in_label_ranges([], ranges)  # check the ranges before any training
    subset = functools.partial(_without_ranges, ranges)
    return [
        Variant(
            canonical_method(m),
            {"method": m},
            paper=PaperRow(canonical_method(m), PAPER_SETTING, OVERALL),
            train_subset=subset,
        )
        for m in methods
    ]


def missing_target_subsets(
    targets: np.ndarray | Sequence[float], ranges: Sequence[LabelRange] = MISSING_AGE_RANGES
) -> dict[str, np.ndarray]:
    """Masks over the evaluation items for :meth:`Sweep.beside_paper`: ``"overall"`` (every
    item) and ``"missing targets"`` (label in a removed range). Raises when no item is in a
    removed range (the second column of Table 14 would be empty)."""
    y = np.asarray(targets, dtype=np.float64)
    missing = in_label_ranges(y, ranges)
    if not missing.any():
        raise ValueError(
            f"none of the {y.size} evaluation items has a label in the removed ranges "
            f"{list(ranges)}; use a larger evaluation split (e.g. a larger phantom_n)"
        )
    return {OVERALL: np.ones(y.shape, dtype=bool), MISSING: missing}


def coverage_table(sweep: Sweep, ranges: Sequence[LabelRange] = MISSING_AGE_RANGES) -> pd.DataFrame:
    """Per removed range, the items of the full training split (before the removal) and of the
    evaluation split whose label lies in it; last, the label range of each split: whether the
    data cover the ranges at all."""
    rows: dict[str, dict[str, int | str]] = {}
    for low, high in ranges:
        rows[f"{low:g}-{high:g}"] = {
            "training items before removal": _count(sweep.train_targets, low, high),
            f"{sweep.eval_split} items": _count(sweep.targets, low, high),
        }
    rows["label range"] = {
        "training items before removal": _span(sweep.train_targets),
        f"{sweep.eval_split} items": _span(sweep.targets),
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def _count(values: np.ndarray, low: float, high: float) -> int:
    return int(in_label_ranges(values, [(low, high)]).sum())


def _span(values: np.ndarray) -> str:
    return f"{np.min(values):g} to {np.max(values):g}"


def run_missing_targets(
    *,
    methods: Sequence[str] | None = None,
    ranges: Sequence[LabelRange] = MISSING_AGE_RANGES,
    seeds: Sequence[int] = (0, 1),
    phantom_n: int | None = PHANTOM_N,
    settings: RunSettings | None = None,
    **changes: Any,
) -> Sweep:
    """Train :func:`missing_target_variants` on UK Biobank (the SupReMix paper App. D.1,
    Table 14).

    ``phantom_n``: the phantom's size without ``data_root`` (``None``: the book's default;
    ignored by ``smoke``, which uses its tiny phantom and, unless ``batch_size`` says otherwise,
    batches of :data:`SMOKE_BATCH`: the tiny training split keeps fewer items than one batch of
    the preset's; :func:`missing_target_settings`). ``settings`` and ``changes``:
    :func:`~.sweep.run_sweep`.
    """
    settings = missing_target_settings(RunSettings.of(settings, **changes), phantom_n)
    return run_sweep("ukb", missing_target_variants(methods, ranges), settings, seeds=seeds)


def missing_target_settings(
    settings: RunSettings, phantom_n: int | None = PHANTOM_N
) -> RunSettings:
    """``settings`` as :func:`run_missing_targets` trains with them: without ``data_root``
    on a phantom of ``phantom_n`` subjects (``None``: the book's default size), and under
    ``smoke``, unless ``batch_size`` says otherwise, in batches of :data:`SMOKE_BATCH`."""
    if settings.is_phantom and phantom_n is not None:
        settings = settings.replace(
            overrides={**(settings.overrides or {}), "phantom_n": phantom_n}
        )
    if settings.smoke and settings.batch_size is None:
        settings = settings.replace(batch_size=SMOKE_BATCH)
    return settings
