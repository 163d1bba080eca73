"""What a Mix-pos window means on a dataset's labels: its width in label units and in labels.

SupReMix forms a Mix-pos (the SupReMix paper, eqs. (3)-(4)) from two labels on either side of
the anchor, each at most ``γ`` away (the paper's inclusive window ``i - i' <= γ``,
``i'' - i <= γ``; the published code's strict window ``< γ``). A window is only a window when
(a) some anchor has a distinct label on each side inside it, and (b) it does not reach across
the whole label range: a ``γ`` wider than the range makes every lower and every higher label a
Mix-pos partner, which is the paper's ``γ = ∞`` row of Table 10, not a window. Which labels the
loss sees matters as much as ``γ``: whole months (RSNA), whole years (UK Biobank field 21003),
labels rounded to ``label_bin`` (Mixup Your Own Pairs Table 12) or continuous values (A4 SUVR).

:func:`effective_window` measures a window on a set of labels; :func:`preset_window` on a
dataset's documented label range and resolution (:data:`LABEL_SCALES`), without data;
:func:`checked_window` is a configuration's window on training labels, checked before training
(every sweep does it; :meth:`EffectiveWindow.summary` says it in one line).
:class:`WindowError` is raised when a window forms no Mix-pos or covers the whole range and the
caller has not said that this is intended (``expect``).

The A4 window: Table 13 of the SupReMix paper gives ``γ = 7`` for A4, whose labels are SUVR
(about 0.45-2.58): on that scale ``γ = 7`` covers the whole range. :data:`A4_WINDOW_READINGS`
holds both readings; the presets use ``γ = 7`` on SUVR x 100 (0.07 SUVR; see the A4 chapter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: What a window is expected to do: ``"window"`` (Mix-pos form, the range is not covered),
#: ``"no_mix_pos"`` (a row that knowingly forms none, e.g. the SupReMix paper Table 17's bins
#: of 10 and 20 with γ = 7) or ``"unbounded"`` (γ = ∞ or a window meant to cover every label).
EXPECTATIONS = ("window", "no_mix_pos", "unbounded")


@dataclass(frozen=True)
class LabelScale:
    """A dataset's labels as the contrastive loss sees them before any ``label_bin``: the
    documented range ``low``-``high`` in ``unit`` and the spacing of the values
    (``resolution``; ``None`` for continuous labels), with the source of each."""

    low: float
    high: float
    unit: str
    resolution: float | None
    source: str


#: Documented label scales of the datasets with presets.
LABEL_SCALES: dict[str, LabelScale] = {
    "ukb": LabelScale(42, 82, "years", 1.0, "SupReMix paper App. B.1.1; field 21003 whole years"),
    "hcp": LabelScale(36, 100, "years", 1 / 12, "HCP-Aging interview_age in whole months"),
    "rsna": LabelScale(1, 228, "months", 1.0, "RSNA bone age, whole months"),
    "rhpe": LabelScale(0, 228, "months", 1.0, "RHPE bone age, whole months"),
    "echonet": LabelScale(7, 97, "%", None, "EchoNet-Dynamic FileList.csv EF, continuous"),
    "a4": LabelScale(0.45, 2.58, "SUVR", None, "A4 composite SUVR, continuous"),
    "agedb": LabelScale(0, 101, "years", 1.0, "Mixup Your Own Pairs Table 12"),
    "imdbwiki": LabelScale(0, 186, "years", 1.0, "IMDB-WIKI-DIR (Yang et al. 2021) ages"),
    "airfoil": LabelScale(103.38, 140.987, "dB", None, "UCI airfoil self-noise, continuous"),
    "stsb": LabelScale(0, 5, "score", None, "STS-B similarity, mean of raters' 0-5 scores"),
}

#: The two readings of A4's ``γ = 7`` (the SupReMix paper Table 13), as windows on SUVR.
#: ``"suvr"``: 7 SUVR, wider than the whole label range (an unbounded window). ``"suvr_x100"``:
#: 7 on SUVR x 100, i.e. 0.07 SUVR, about the paper's own A4 RMSE (Table 11: sqrt(0.004-0.006) =
#: 0.06-0.08) and a few percent of the range, as γ is on the other datasets. The presets use
#: ``"suvr_x100"``: it is the only reading under which γ = 7 is a window at all.
A4_WINDOW_READINGS: dict[str, float] = {"suvr": 7.0, "suvr_x100": 0.07}
A4_DEFAULT_READING = "suvr_x100"


class WindowError(ValueError):
    """A Mix-pos window that forms no Mix-pos, or covers the whole label range, unasked."""


@dataclass(frozen=True)
class EffectiveWindow:
    """A window measured on labels: ``per_side`` is the median number of distinct labels
    inside it on one side of an anchor, ``mix_pos_fraction`` the share of distinct labels that
    have a distinct label inside it on both sides, ``covers_range`` whether it reaches from
    the lowest label to the highest."""

    window: float
    inclusive: bool
    label_bin: float | None
    unit: str
    distinct: int
    low: float
    high: float
    per_side: float
    mix_pos_fraction: float

    @property
    def forms_mix_pos(self) -> bool:
        return self.mix_pos_fraction > 0

    @property
    def covers_range(self) -> bool:
        span = self.high - self.low
        return self.window > span if not self.inclusive else self.window >= span

    def settings_rows(self) -> dict[str, str]:
        """The window as rows of a settings table, each short enough for pandas' cells: its
        width in label units, the distinct labels inside it on one side of an anchor, and the
        share of labels that can anchor a Mix-pos."""
        bound = "<=" if self.inclusive else "<"
        unit = f" {self.unit}" if self.unit else ""
        width = f"γ = {self.window:g}{unit} (|Δy| {bound} γ)"
        return {
            "Mix-pos window": "γ = ∞" if math.isinf(self.window) else width,
            "Mix-pos labels per side": f"about {self.per_side:g}",
            "anchors with a Mix-pos": f"{100 * self.mix_pos_fraction:.0f}% of {self.distinct}",
        }

    def summary(self) -> str:
        """One line: the window in label units and as about K distinct labels."""
        bound = "<=" if self.inclusive else "<"
        unit = f" {self.unit}" if self.unit else ""
        binning = "unbinned" if self.label_bin is None else f"binned to {self.label_bin:g}{unit}"
        if math.isinf(self.window):
            width = "γ = ∞: every lower and every higher label"
        else:
            width = (
                f"γ = {self.window:g}{unit} (|Δy| {bound} γ): about {self.per_side:g} distinct "
                f"labels on each side of an anchor"
            )
        return (
            f"Mix-pos window {width}; {self.distinct} distinct labels ({binning}) from "
            f"{self.low:.4g} to {self.high:.4g}{unit}; {100 * self.mix_pos_fraction:.0f}% of them "
            "can anchor a Mix-pos"
            + ("; the window covers the whole range" if self.covers_range else "")
        )


def _grid(labels: Sequence[float] | np.ndarray, label_bin: float | None) -> np.ndarray:
    values = np.asarray(labels, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise WindowError("effective_window: no finite labels")
    if label_bin is not None:
        if not label_bin > 0:
            raise WindowError(f"effective_window: label_bin must be > 0, got {label_bin}")
        values = np.round(values / label_bin) * label_bin
    return np.unique(values)


def effective_window(
    labels: Sequence[float] | np.ndarray,
    window: float,
    *,
    inclusive: bool,
    label_bin: float | None = None,
    unit: str = "",
) -> EffectiveWindow:
    """The window ``γ`` on ``labels`` (rounded to ``label_bin`` as the training step does):
    how many distinct labels fall inside it on each side of each distinct label, with
    ``|Δy| <= γ`` (``inclusive``) or ``|Δy| < γ``."""
    if not window > 0:
        raise WindowError(f"effective_window: window must be > 0, got {window}")
    distinct = _grid(labels, label_bin)
    # a relative tolerance so that 0.1 * 3 still counts as 0.3 after floating-point rounding
    tol = 1e-9 * max(1.0, float(np.abs(distinct).max()))
    if math.isinf(window):
        below = np.arange(distinct.size)
    elif inclusive:
        below = np.arange(distinct.size) - np.searchsorted(distinct, distinct - window - tol)
    else:
        below = np.arange(distinct.size) - np.searchsorted(
            distinct, distinct - window + tol, side="right"
        )
    if math.isinf(window):
        above = distinct.size - 1 - np.arange(distinct.size)
    elif inclusive:
        above = np.searchsorted(distinct, distinct + window + tol, side="right") - 1
        above = above - np.arange(distinct.size)
    else:
        above = np.searchsorted(distinct, distinct + window - tol) - 1 - np.arange(distinct.size)
    both = (below > 0) & (above > 0)
    return EffectiveWindow(
        window=float(window),
        inclusive=inclusive,
        label_bin=label_bin,
        unit=unit,
        distinct=int(distinct.size),
        low=float(distinct[0]),
        high=float(distinct[-1]),
        per_side=float(np.median((below + above) / 2)),
        mix_pos_fraction=float(both.mean()),
    )


def check_window(measured: EffectiveWindow, *, expect: str = "window", where: str = "") -> None:
    """Raise :class:`WindowError` when ``measured`` does not do what ``expect`` says
    (:data:`EXPECTATIONS`): a window that forms no Mix-pos or covers the whole range."""
    if expect not in EXPECTATIONS:
        raise ValueError(f"expect={expect!r}; expected one of {', '.join(EXPECTATIONS)}")
    prefix = f"{where}: " if where else ""
    unit = f" {measured.unit}" if measured.unit else ""
    if expect == "window" and not measured.forms_mix_pos:
        bound = "<=" if measured.inclusive else "<"
        raise WindowError(
            f"{prefix}Mix-pos window γ = {measured.window:g}{unit} (|Δy| {bound} γ) forms no "
            f"Mix-pos on these labels ({measured.distinct} distinct, "
            f"{'unbinned' if measured.label_bin is None else f'bin {measured.label_bin:g}'}): "
            "no anchor has a distinct label inside it on both sides; widen the window, use "
            "finer labels, or pass expect='no_mix_pos' if this is the experiment"
        )
    if expect == "window" and measured.covers_range and not math.isinf(measured.window):
        raise WindowError(
            f"{prefix}Mix-pos window γ = {measured.window:g}{unit} covers the whole label range "
            f"({measured.low:g}-{measured.high:g}{unit}): every label is a Mix-pos partner of "
            "every other, which is γ = ∞, not a window; check the label scale, or pass "
            "expect='unbounded' if this is the experiment"
        )
    if expect == "no_mix_pos" and measured.forms_mix_pos:
        raise WindowError(
            f"{prefix}expected no Mix-pos, but γ = {measured.window:g}{unit} forms some"
        )


def window_inclusive(config: Any) -> bool:
    """Whether ``config``'s Mix-pos window is inclusive (``window_edges="inclusive"``,
    ``|Δy| <= γ``, the SupReMix paper's eq. (4), the default) or strict (``"strict"``, the
    published code's ``< γ``); a configuration without the field is inclusive."""
    edges = getattr(config, "window_edges", "inclusive")
    if edges not in ("inclusive", "strict"):
        raise ValueError(f"window_edges={edges!r}; expected 'inclusive' or 'strict'")
    return edges == "inclusive"


def config_window(
    config: Any,
    labels: Sequence[float] | np.ndarray | None = None,
    *,
    inclusive: bool | None = None,
) -> EffectiveWindow:
    """The window of a :class:`~supremix.train.TrainConfig` on ``labels`` (training labels),
    or without labels on the dataset's documented scale (:data:`LABEL_SCALES`)."""
    inclusive = window_inclusive(config) if inclusive is None else inclusive
    scale = LABEL_SCALES.get(config.dataset)
    unit = scale.unit if scale is not None else ""
    if labels is None:
        if scale is None:
            raise WindowError(
                f"dataset {config.dataset!r} has no documented label scale; pass its labels"
            )
        labels = documented_labels(scale, config.label_bin)
    return effective_window(
        labels, config.window, inclusive=inclusive, label_bin=config.label_bin, unit=unit
    )


def documented_labels(scale: LabelScale, label_bin: float | None = None) -> np.ndarray:
    """Every label value the documented scale allows: the grid of its resolution (or of
    ``label_bin`` when coarser), or 1001 points across a continuous range."""
    steps = [s for s in (scale.resolution, label_bin) if s is not None]
    if not steps:
        return np.linspace(scale.low, scale.high, 1001)
    step = max(steps)
    start = math.ceil(scale.low / step - 1e-9) * step
    return np.arange(start, scale.high + step / 2, step)


def checked_window(
    config: Any,
    labels: Sequence[float] | np.ndarray | None = None,
    *,
    inclusive: bool | None = None,
    expect: str = "window",
) -> EffectiveWindow:
    """The window of ``config`` on ``labels`` (see :func:`config_window`), checked by
    :func:`check_window` against ``expect``."""
    measured = config_window(config, labels, inclusive=inclusive)
    check_window(measured, expect=expect, where=f"dataset {config.dataset!r}")
    return measured
