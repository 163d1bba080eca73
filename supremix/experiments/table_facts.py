"""The headline of a result table, by name: which row holds the largest or smallest value of a
column, and that value.

A notebook shows an experiment's table whole and states its headline in Markdown, the numbers
glued in (:func:`supremix.notebook.glue_facts`, MyST-NB's ``{glue:text}`` role): "training on
permuted labels costs *most_drop* the most order", with the glued name in place of
*most_drop*. :func:`extreme` gives such a pair of facts for any column; the experiments'
``*_facts`` functions put them together.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["NONE", "extreme"]

#: The row named where a column holds no number at all (every value NaN, or no row).
NONE = "none"


def extreme(values: pd.Series, name: str, *, largest: bool = True) -> dict[str, Any]:
    """``{name: row, name + "_value": value}``: the index label of the largest (``largest``)
    or smallest value of ``values`` and that value, NaNs skipped; the first such row on a tie.
    Where no value is a number: :data:`NONE` and NaN."""
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty:
        return {name: NONE, f"{name}_value": math.nan}
    row = numbers.idxmax() if largest else numbers.idxmin()
    return {name: str(row), f"{name}_value": float(numbers[row])}
