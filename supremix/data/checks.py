"""Content checks shared by the loaders: repeated ids, label ranges, text in number columns.

* A repeated id (an RSNA ``id``, an EchoNet ``FileName``, an AgeDB ``path``, a UK Biobank
  ``eid``) whose rows disagree on the label or the split could put one image in train and test
  with two labels: refused, listing the ids and their rows. Rows that repeat an id with the
  same values are read once, with a :class:`~supremix.data.errors.DatasetContentWarning`.
* Labels outside the range a dataset's data card documents: refused outside what the quantity
  can be (an ejection fraction outside 0-100 %, a negative age), warned outside the
  population's usual range where a user may legitimately differ (an SUVR from another
  pipeline). :data:`LABEL_RANGES` is the table the data cards quote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DatasetContentError, list_some, warn_content
from .paths import table_row


@dataclass(frozen=True)
class LabelRange:
    """Labels of one quantity: refused outside ``[low, high]`` (``positive``: also at 0),
    warned outside ``usual`` when given."""

    quantity: str
    unit: str
    low: float
    high: float = math.inf
    usual: tuple[float, float] | None = None
    positive: bool = False

    def describe(self) -> str:
        """``0-100 %``, ``> 0`` or ``>= 0 mL``: the refused range as the data cards state it."""
        if self.positive:
            return f"> {self.low:g} {self.unit}".rstrip()
        if math.isinf(self.high):
            return f">= {self.low:g} {self.unit}".rstrip()
        return f"{self.low:g}-{self.high:g} {self.unit}".rstrip()


YEARS = LabelRange("age", "years", 0.0, 120.0)
LABEL_RANGES: dict[str, LabelRange] = {
    "rsna/boneage": LabelRange("bone age", "months", 0.0, 240.0),
    "rhpe/boneage": LabelRange("bone age", "months", 0.0, 240.0),
    "rhpe/chronological": LabelRange("chronological age", "months", 0.0, 1440.0, (0.0, 300.0)),
    "echonet/EF": LabelRange("ejection fraction", "%", 0.0, 100.0),
    "echonet/EDV": LabelRange("end-diastolic volume", "mL", 0.0),
    "echonet/ESV": LabelRange("end-systolic volume", "mL", 0.0),
    "camus/EF": LabelRange("ejection fraction", "%", 0.0, 100.0),
    "camus/EDV": LabelRange("end-diastolic volume", "mL", 0.0),
    "camus/ESV": LabelRange("end-systolic volume", "mL", 0.0),
    "agedb/age": YEARS,
    "imdbwiki/age": LabelRange("age", "years", 0.0, 200.0, (0.0, 120.0)),
    "ukb/age": LabelRange("age", "years", 0.0, 120.0, (40.0, 90.0)),
    "hcp/age": LabelRange("age", "years", 0.0, 120.0, (36.0, 110.0)),
    "a4/suvr": LabelRange("SUVR", "", 0.0, math.inf, (0.5, 3.0), positive=True),
}


def check_label_range(
    dataset: str,
    key: str,
    values: Sequence[float] | np.ndarray,
    ids: Sequence[str],
    source: str | Path,
) -> None:
    """Refuse labels outside ``LABEL_RANGES[key]`` naming ``source`` and the ids; warn for
    labels outside its usual range. NaN labels are left to the non-finite check."""
    spec = LABEL_RANGES[key]
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    below = values <= spec.low if spec.positive else values < spec.low
    outside = finite & (below | (values > spec.high))
    if outside.any():
        shown = [f"{ids[int(i)]}: {values[i]:g}" for i in np.flatnonzero(outside)]
        raise DatasetContentError(
            dataset,
            f"{spec.quantity} outside {spec.describe()} in {source} ({list_some(shown)}); "
            f"expected {spec.quantity} {spec.describe()}",
        )
    if spec.usual is not None:
        low, high = spec.usual
        unusual = finite & ((values < low) | (values > high))
        if unusual.any():
            shown = [f"{ids[int(i)]}: {values[i]:g}" for i in np.flatnonzero(unusual)]
            warn_content(
                dataset,
                f"{unusual.sum()} {spec.quantity} label(s) in {source} outside the usual "
                f"{f'{low:g}-{high:g} {spec.unit}'.rstrip()} ({list_some(shown, 5)}); "
                "check the units and the source",
            )


def one_row_per_id(
    table: pd.DataFrame,
    key: str,
    compare: Sequence[str],
    *,
    dataset: str,
    source: str | Path,
) -> pd.DataFrame:
    """``table`` with one row per value of column ``key``.

    Rows repeating a key with equal ``compare`` columns (label, split, sex) are read once, with
    a warning; rows repeating a key with different values raise a
    :class:`DatasetContentError` listing the keys and their file rows. The index of ``table``
    must be the 0-based data row of the file (as :func:`pandas.read_csv` gives it).
    """
    repeated = table[table[key].duplicated(keep=False)]
    if repeated.empty:
        return table
    conflicts = []
    for value, rows in repeated.groupby(key, sort=False):
        if len(rows[list(compare)].astype(str).drop_duplicates()) > 1:
            lines = ", ".join(str(table_row(int(i))) for i in rows.index)
            conflicts.append(f"{value} (rows {lines})")
    if conflicts:
        raise DatasetContentError(
            dataset,
            f"{len(conflicts)} {key}(s) repeated in {source} with different "
            f"{'/'.join(compare)}: {list_some(conflicts)}; expected one row per {key}",
        )
    names = list_some(list(dict.fromkeys(repeated[key].astype(str))))
    warn_content(dataset, f"rows repeating {key} {names} in {source} are read once")
    return table[~table[key].duplicated(keep="first")]


def refuse_text_cells(
    dataset: str, text: pd.Series, column: str, source: str | Path, expected: str
) -> None:
    """Raise one line listing the file rows of ``text``, cells of ``column`` that hold text
    where ``expected`` (a number) or an empty cell belongs; nothing when ``text`` is empty.
    The index of ``text`` must be the 0-based data row of the file."""
    if len(text):
        shown = [f"row {table_row(int(i))}: {v!r}" for i, v in text.items()]
        raise DatasetContentError(
            dataset,
            f"column {column} of {source} is not a number in {len(shown)} row(s) "
            f"({list_some(shown)}); expected {expected} or an empty cell",
        )
