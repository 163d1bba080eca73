"""Mix-pos windows in label units: every preset's window against its labels, and the checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from supremix.train import PRESETS
from supremix.train.windows import (
    A4_WINDOW_READINGS,
    LABEL_SCALES,
    WindowError,
    check_window,
    checked_window,
    config_window,
    effective_window,
)


def _direct_counts(labels, window, inclusive):
    """Per distinct label: distinct labels inside the window below and above (direct loops)."""
    distinct = sorted(set(float(v) for v in labels))
    out = []
    for a in distinct:
        near = [abs(b - a) <= window if inclusive else abs(b - a) < window for b in distinct]
        inside = [b for b, keep in zip(distinct, near, strict=True) if keep]
        out.append((sum(b < a for b in inside), sum(b > a for b in inside)))
    return out


@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize("window", [0.5, 1.0, 2.0, 3.0, 7.5])
def test_effective_window_counts_match_direct_loops(window, inclusive):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 30, 200).astype(float)
    counts = _direct_counts(labels, window, inclusive)
    measured = effective_window(labels, window, inclusive=inclusive)
    assert measured.per_side == pytest.approx(np.median([(lo + hi) / 2 for lo, hi in counts]))
    assert measured.mix_pos_fraction == pytest.approx(
        np.mean([lo > 0 and hi > 0 for lo, hi in counts])
    )


def test_window_of_one_on_whole_months_forms_mix_pos_only_when_inclusive():
    months = np.arange(1, 229, dtype=float)
    assert effective_window(months, 1.0, inclusive=True).forms_mix_pos
    strict = effective_window(months, 1.0, inclusive=False)
    assert not strict.forms_mix_pos
    with pytest.raises(WindowError, match="forms no Mix-pos"):
        check_window(strict, where="RSNA γ = 1")
    check_window(strict, expect="no_mix_pos")


def test_label_bin_coarser_than_the_window_leaves_no_mix_pos():
    ef = np.linspace(7, 97, 500)
    assert effective_window(ef, 7.0, inclusive=True, label_bin=5.0).forms_mix_pos
    assert not effective_window(ef, 7.0, inclusive=True, label_bin=10.0).forms_mix_pos


def test_a4_gamma_7_in_suvr_covers_the_whole_range_and_is_refused():
    scale = LABEL_SCALES["a4"]
    suvr = np.linspace(scale.low, scale.high, 300)
    wide = effective_window(suvr, A4_WINDOW_READINGS["suvr"], inclusive=True)
    assert wide.covers_range
    with pytest.raises(WindowError, match="covers the whole label range"):
        check_window(wide)
    check_window(wide, expect="unbounded")
    narrow = effective_window(suvr, A4_WINDOW_READINGS["suvr_x100"], inclusive=True)
    assert narrow.forms_mix_pos and not narrow.covers_range
    check_window(narrow)


def test_infinite_window_is_accepted_as_the_papers_gamma_infinity():
    measured = effective_window(np.arange(10.0), math.inf, inclusive=True)
    assert measured.covers_range and measured.mix_pos_fraction == pytest.approx(0.8)
    check_window(measured)


@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize("name", sorted(n for n in PRESETS if not n.endswith("-cpu")))
def test_every_paper_preset_window_is_a_window_on_its_documented_labels(name, inclusive):
    config = PRESETS[name]
    measured = config_window(config, inclusive=inclusive)
    check_window(measured, where=name)
    assert 1 <= measured.per_side < measured.distinct / 2


def test_ukb_table_10_small_windows_need_labels_finer_than_whole_years():
    ukb = PRESETS["ukb"]
    whole_years = np.arange(42, 83, dtype=float)
    for gamma in (0.2, 0.5):
        config = ukb.replace(window=gamma, label_bin=None)
        with pytest.raises(WindowError, match="forms no Mix-pos"):
            checked_window(config, whole_years, inclusive=True).summary()
    fractional = np.round(np.linspace(42, 82, 2000), 2)
    counts = [
        config_window(ukb.replace(window=g, label_bin=None), fractional, inclusive=True).per_side
        for g in (0.2, 0.5, 1.0)
    ]
    assert counts[0] < counts[1] < counts[2]


def test_the_checked_windows_line_names_the_units_and_the_count():
    line = checked_window(PRESETS["rsna"], np.arange(1, 229, dtype=float), inclusive=True).summary()
    assert "γ = 5 months" in line and "about 5 distinct labels on each side" in line


def test_window_edges_of_a_configuration_choose_the_rule():
    from types import SimpleNamespace

    from supremix.train.windows import window_inclusive

    assert window_inclusive(SimpleNamespace(window_edges="inclusive"))
    assert not window_inclusive(SimpleNamespace(window_edges="strict"))
    assert window_inclusive(SimpleNamespace())  # the paper's inclusive window by default
    config = SimpleNamespace(dataset="rsna", window=1.0, label_bin=None, window_edges="strict")
    with pytest.raises(WindowError, match="forms no Mix-pos"):
        checked_window(config, np.arange(1.0, 229.0)).summary()
    assert (
        "γ = 1 months"
        in checked_window(
            SimpleNamespace(dataset="rsna", window=1.0, label_bin=None), np.arange(1.0, 229.0)
        ).summary()
    )
