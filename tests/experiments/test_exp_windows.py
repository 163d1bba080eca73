"""The window line the notebooks print before training, on the phantom's training labels."""

from __future__ import annotations

import pytest

from supremix.experiments.windows import study_window
from supremix.train.windows import WindowError


def test_study_window_describes_the_phantoms_training_labels_in_their_units():
    line = study_window("rsna", smoke=True)
    assert "γ = 5 months" in line and "distinct labels on each side" in line


def test_study_window_stops_a_window_that_forms_no_mix_pos_before_training():
    with pytest.raises(WindowError, match="forms no Mix-pos"):
        study_window("rsna", smoke=True, overrides={"window": 0.5})
