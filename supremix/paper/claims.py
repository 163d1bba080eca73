"""Numbers the papers state only in their text, and checks that the stored tables hold together.

:func:`paper_claims`: the claims of the SupReMix paper (§5.4 / Figure 8 improvement ranges per
dataset, §5.5, §5.6, §6, App. D.3, the Echo-Net numbers of §5.8) and of AdaCon (its relative
improvements) with their section and the sentence they come from, so that a notebook can set
its own relative improvement beside the range the paper claims. ``low``/``high`` bound the
claim (``NaN``: "up to" or "more than"); ``quantity`` says whether it is a relative
improvement in percent or a value of ``metric``.

:func:`gm_above_mae` and :func:`mae_above_rmse` find cells that cannot be what their column
says: a geometric mean of absolute errors is never larger than their mean, and an MAE never
larger than the RMSE. They are how the stored columns "GM (MSE scale)" were found, and they
show the A4 columns of the SupReMix paper's Table 11 (MAE 0.52-0.56, RMSE 0.06-0.08).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .tables import _load_paper, _papers, paper_results
from .vocabulary import DATASETS

CLAIM_COLUMNS = [
    "paper",
    "section",
    "dataset",
    "method",
    "baseline",
    "metric",
    "quantity",
    "low",
    "high",
    "compare",
    "quote",
    "notes",
]


def paper_claims(
    paper: str | None = None,
    section: str | None = None,
    dataset: str | None = None,
) -> pd.DataFrame:
    """The text-only claims (see the module docstring), filtered by paper, by a ``section``
    prefix (``"§5.4"``, ``"App. D.3"``) and by dataset. An unknown dataset raises
    ``ValueError`` naming the known ones."""
    if dataset is not None and dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    rows = []
    for key in _papers(paper):
        for claim in _load_paper(key).get("claims", []):
            if claim["dataset"] not in DATASETS:
                raise ValueError(f"{key}.json claim {claim['id']}: unknown dataset")
            rows.append(
                {
                    **{k: claim.get(k, "") for k in CLAIM_COLUMNS},
                    "paper": key,
                    "low": math.nan if claim.get("low") is None else float(claim["low"]),
                    "high": math.nan if claim.get("high") is None else float(claim["high"]),
                }
            )
    frame = pd.DataFrame(rows, columns=CLAIM_COLUMNS)
    if section is not None:
        frame = frame[frame["section"].str.startswith(section)]
    if dataset is not None:
        frame = frame[frame["dataset"] == dataset]
    return frame.reset_index(drop=True)


def relative_improvement(ours: float, baseline: float) -> float:
    """``100 * (baseline - ours) / baseline``: how the papers state an error's improvement."""
    return 100.0 * (baseline - ours) / baseline


def within_claim(value: float, claim: pd.Series) -> bool:
    """Whether ``value`` lies in the claim's range (an open bound accepts anything)."""
    low = -math.inf if np.isnan(claim["low"]) else claim["low"]
    high = math.inf if np.isnan(claim["high"]) else claim["high"]
    return bool(low <= value <= high)


def _wide(paper: str | None = None) -> pd.DataFrame:
    long = paper_results(paper)
    keys = ["paper", "table", "dataset", "method", "label", "setting", "subset"]
    return long.pivot_table(index=keys, columns="metric", values="value", aggfunc="first")


def gm_above_mae(paper: str | None = None) -> pd.DataFrame:
    """Cells of a column printed "GM" larger than the same row's MAE: not a geometric mean
    of absolute errors. One row per cell: where, the printed "GM", the MAE, the stored metric."""
    long = paper_results(paper)
    printed = long[long["printed"] == "GM"]
    mae = long[long["metric"] == "MAE"]
    keys = ["paper", "table", "dataset", "method", "label", "setting", "subset"]
    both = printed.merge(mae[[*keys, "value"]], on=keys, suffixes=("", " MAE"))
    found = both[both["value"] > both["value MAE"]]
    return (
        found[[*keys, "metric", "value", "value MAE"]]
        .rename(columns={"metric": "stored as", "value": "printed GM", "value MAE": "MAE"})
        .reset_index(drop=True)
    )


def mae_above_rmse(paper: str | None = None) -> pd.DataFrame:
    """Rows whose MAE exceeds their RMSE (printed, or the square root of the printed MSE),
    which no set of errors allows: the two columns are not on one scale."""
    wide = _wide(paper)
    rmse = wide["RMSE"] if "RMSE" in wide else pd.Series(np.nan, index=wide.index)
    rmse = rmse.fillna(np.sqrt(wide["MSE"]))
    found = wide[wide["MAE"] > rmse].assign(RMSE=rmse)
    return found[["MAE", "MSE", "RMSE"]].reset_index()
