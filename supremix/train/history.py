"""Per-epoch metrics of a run, kept in memory and in checkpoints, written as CSV (the whole
file at every epoch, so a resumed run never leaves stale rows)."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

METRICS_CSV = "metrics.csv"
LEADING_COLUMNS = ("stage", "epoch", "step", "lr", "train_loss")


class History:
    """Rows of per-epoch metrics (dicts of scalars), one per (stage, epoch)."""

    def __init__(self, rows: list[dict[str, Any]] | None = None):
        self.rows: list[dict[str, Any]] = list(rows or [])

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(dict(row))

    def columns(self) -> list[str]:
        seen = [c for c in LEADING_COLUMNS if any(c in r for r in self.rows)]
        for row in self.rows:
            seen.extend(k for k in row if k not in seen)
        return seen

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns(), lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _format(v) for k, v in row.items()})
        return buffer.getvalue()

    def state_dict(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def last(self, stage: str) -> dict[str, Any] | None:
        """The latest row of ``stage``, or ``None``."""
        rows = [r for r in self.rows if r.get("stage") == stage]
        return rows[-1] if rows else None


def _format(value: Any) -> Any:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return value
