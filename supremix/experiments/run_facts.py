"""A sweep's result in words: the numbers a notebook's prose states, by name.

:func:`sweep_facts` gives them as a mapping that a notebook glues into its Markdown
(:func:`supremix.notebook.glue`, MyST-NB's ``{glue:text}`` role), so sentences stay in
Markdown and numbers in code. :func:`sweeps_facts` puts the facts of several sweeps in one
table, for a notebook whose number of results depends on its parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from supremix.paper import HIGHER_IS_BETTER

if TYPE_CHECKING:
    from supremix.experiments.results import Sweep

__all__ = ["data_words", "sweep_facts", "sweeps_facts"]


def data_words(data_kind: str) -> str:
    """How the prose names the data of a run: ``"phantom"`` or ``"real data"``."""
    return "phantom" if data_kind == "phantom" else "real data"


def sweep_facts(sweep: Sweep, metric: str = "MAE") -> dict[str, Any]:
    """What ``sweep`` measured, by name, for a notebook's Markdown prose
    (:func:`supremix.notebook.glue`): ``data`` ("phantom" or "real data"), ``seeds``,
    ``items`` and ``split`` (the evaluation split), ``variants``, ``lowest`` and
    ``highest`` (the variants' mean ``metric``), ``best``, ``best_value`` and ``best_sd``,
    ``mean_predictor`` (the training-mean predictor's ``metric``) and ``sd_lowest`` and
    ``sd_highest`` (the variants' standard deviations over seeds; NaN with one seed)."""
    table = sweep.table([metric])
    values = table[metric]
    better = max if metric in HIGHER_IS_BETTER else min
    best = better(values.index, key=lambda k: values[k])
    sd = table[f"{metric} std"] if len(sweep.seeds) > 1 else pd.Series([math.nan])
    return {
        "data": data_words(sweep.data_kind),
        "seeds": len(sweep.seeds),
        "items": int(sweep.targets.size),
        "split": sweep.eval_split,
        "variants": len(values),
        "lowest": float(values.min()),
        "highest": float(values.max()),
        "best": str(best),
        "best_value": float(values[best]),
        "best_sd": float(sd[best]) if len(sweep.seeds) > 1 else math.nan,
        "mean_predictor": float(sweep.mean_predictor_metrics()[metric]),
        "sd_lowest": float(sd.min()),
        "sd_highest": float(sd.max()),
    }


def sweeps_facts(sweeps: Mapping[str, Sweep], metric: str = "MAE") -> pd.DataFrame:
    """:func:`sweep_facts` of each of ``sweeps``, one row each, indexed by its key: the table a
    notebook shows where its parameters decide how many results it states (its prose then
    names the columns, and glues what the rows share)."""
    return pd.DataFrame.from_dict(
        {name: sweep_facts(sweep, metric) for name, sweep in sweeps.items()}, orient="index"
    )
