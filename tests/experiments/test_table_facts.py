"""The headline of a result table (supremix.experiments.table_facts.extreme) against a direct
scan of the column's values."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from supremix.experiments.table_facts import NONE, extreme

values = st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(math.nan)), min_size=1, max_size=8).map(
    lambda xs: pd.Series(xs, index=[f"row {i}" for i in range(len(xs))])
)


@given(values, st.booleans())
def test_extreme_names_the_first_row_holding_the_largest_or_smallest_number(series, largest):
    facts = extreme(series, "top", largest=largest)
    numbers = [(label, x) for label, x in series.items() if not math.isnan(x)]
    if not numbers:
        assert facts["top"] == NONE and math.isnan(facts["top_value"])
        return
    best = max(x for _, x in numbers) if largest else min(x for _, x in numbers)
    assert facts["top_value"] == best
    assert facts["top"] == next(label for label, x in numbers if x == best)
    assert set(facts) == {"top", "top_value"}


def test_an_empty_column_names_no_row():
    facts = extreme(pd.Series([], dtype=float), "most_drop")
    assert facts["most_drop"] == NONE and math.isnan(facts["most_drop_value"])
