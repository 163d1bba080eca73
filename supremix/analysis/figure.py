"""Figures that display themselves: every plotting function of supremix returns one."""

from __future__ import annotations

import functools
import io
from typing import Any

from matplotlib.figure import Figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, bbox_inches="tight")
    return buffer.getvalue()


def report_figure(**kwargs: Any) -> Figure:
    """A new pyplot-free :class:`~matplotlib.figure.Figure` (``kwargs`` as for Figure) that
    Jupyter displays as a PNG under any backend: it carries its own ``_repr_png_``.

    Being outside pyplot, it is never shown twice (once by the inline backend, once as a
    cell's value) and never leaks memory in long notebooks.
    """
    figure = Figure(**kwargs)
    figure._repr_png_ = functools.partial(_png, figure)  # type: ignore[attr-defined]
    return figure
