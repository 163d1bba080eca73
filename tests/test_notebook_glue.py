"""supremix.notebook.glue: numbers named in code, stated by the notebooks' Markdown prose."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from supremix.notebook import glue, glue_facts


def test_without_myst_nb_the_value_is_printed_for_the_reader(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import fails, as on Colab
    glue("gap", np.float64(0.25))
    glue("method", "SupReMix")
    assert capsys.readouterr().out.splitlines() == ["gap = 0.25", "method = SupReMix"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(np.float32(0.5), 0.5), (torch.tensor(3), 3), (np.int64(7), 7), (1.5, 1.5), ("x", "x")],
)
def test_with_myst_nb_the_value_is_glued_as_a_python_scalar_without_display(
    monkeypatch, value, expected
):
    import myst_nb

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda *args, **kwargs: calls.append((args, kwargs)))
    glue("name", value)
    ((args, kwargs),) = calls
    assert args == ("name", expected)
    assert type(args[1]) is type(expected)
    assert kwargs == {"display": False}


def test_glue_facts_glues_each_fact_under_its_prefixed_name(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)
    glue_facts({"best": "SupReMix", "gap": np.float64(0.5)}, prefix="agedb_")
    assert capsys.readouterr().out.splitlines() == ["agedb_best = SupReMix", "agedb_gap = 0.5"]
