"""Phantom label noise: the noise floor against simulation and closed forms, and the noise the
written phantoms carry."""

import math

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.data.phantoms import LABEL_NOISE, PHANTOMS, noise_floor, write_phantom
from supremix.data.phantoms.amyloid_pet import template_labels
from supremix.data.phantoms.bone_xray import _bone_ages
from supremix.data.phantoms.label_noise import LabelNoise, label_noise


def simulated_floor(noise: LabelNoise, seed: int = 0, n: int = 400_000) -> float:
    """E|y - t| by simulation, with continuous true labels spread over many steps."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.0, 1000.0 * (noise.step or 1.0), n)
    return float(np.abs(noise.record(truth, rng) - truth).mean())


@pytest.mark.parametrize("dataset", sorted(LABEL_NOISE))
def test_every_phantom_floor_matches_simulation(dataset):
    noise = LABEL_NOISE[dataset]
    assert noise_floor(dataset) == pytest.approx(simulated_floor(noise), rel=0.01)


@settings(max_examples=25, deadline=None)
@given(sd=st.floats(0.05, 5.0), step=st.sampled_from([None, 0.25, 1.0, 2.0]))
def test_floor_matches_simulation_for_any_noise(sd, step):
    noise = LabelNoise(sd, step, "unit", "test")
    assert noise.floor() == pytest.approx(simulated_floor(noise, n=200_000), rel=0.02)


def test_floor_closed_forms():
    assert LabelNoise(3.0, None, "u", "t").floor() == pytest.approx(3.0 * math.sqrt(2 / math.pi))
    assert LabelNoise(0.0, 2.0, "u", "t").floor() == 0.5  # E|U(-1, 1)|
    # rounding adds almost nothing to a wide noise, and noise nothing to a wide step
    assert LabelNoise(10.0, 1.0, "u", "t").floor() == pytest.approx(
        10.0 * math.sqrt(2 / math.pi), rel=1e-3
    )
    assert LabelNoise(1e-3, 1.0, "u", "t").floor() == pytest.approx(0.25, rel=1e-3)


def test_recorded_labels_are_rounded_to_the_step():
    rng = np.random.default_rng(1)
    recorded = LabelNoise(2.0, 0.5, "u", "t").record(rng.uniform(0, 10, 1000), rng)
    assert np.allclose(recorded * 2, np.rint(recorded * 2))


def test_bad_noise_and_unknown_datasets_are_refused():
    with pytest.raises(ValueError, match="sd >= 0 and step > 0"):
        LabelNoise(-1.0, None, "u", "t")
    with pytest.raises(ValueError, match="sd >= 0 and step > 0"):
        LabelNoise(1.0, 0.0, "u", "t")
    with pytest.raises(ValueError, match="no phantom label noise for 'camus'; expected one of"):
        label_noise("camus")


def test_every_dataset_phantom_but_camus_and_stsb_has_a_noise():
    # CAMUS has no labels of its own here; the text phantom's score is exact by construction
    # (5 x the share of agreeing words, supremix.data.phantoms.text)
    assert set(LABEL_NOISE) == set(PHANTOMS) - {"camus", "stsb"}


def test_bone_ages_are_readings_of_the_truth_with_the_documented_noise():
    truth, recorded = _bone_ages(np.random.default_rng(3), 50_000, 1, 228, "rsna")
    assert recorded.dtype.kind == "i" and recorded.min() >= 1 and recorded.max() <= 228
    # clipping at the range's ends only moves labels towards the truth: at most the floor
    assert np.abs(recorded - truth).mean() == pytest.approx(noise_floor("rsna"), rel=0.02)
    assert np.std(recorded - truth) == pytest.approx(6.0, rel=0.03)


def test_a4_composite_is_the_measured_suvr_plus_the_pipeline_error(tmp_path):
    size = 16
    root = write_phantom("a4", tmp_path, n=80, size=size, seed=5)
    table = pd.read_csv(root / "imaging_SUVR_amyloid.csv")
    composite = table[table["brain_region"] == "Composite_Summary"].set_index("BID")["suvr_cer"]
    labels, core = template_labels(size)
    errors = []
    for bid, value in composite.items():
        path = root / "NII" / bid / "002" / "FBP" / f"A4_PET_FBP_{bid}_002.nii.gz"
        volume = nib.load(path).get_fdata().mean(axis=3)
        measured = volume[core & (labels >= 1) & (labels <= 6)].mean()
        errors.append(value - measured / volume[core & (labels == 9)].mean())
    errors = np.asarray(errors)
    sd = LABEL_NOISE["a4"].sd
    assert abs(errors.mean()) < 3 * sd / np.sqrt(errors.size)
    assert 0.7 * sd < errors.std() < 1.3 * sd
