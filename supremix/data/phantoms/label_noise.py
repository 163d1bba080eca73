"""The label noise of each phantom and the noise floor it implies.

Every phantom draws a **true** label ``t`` (continuous), renders its input from ``t`` alone
(with label-free nuisance), and records ``y = round(t + sd * z)`` with ``z ~ N(0, 1)``, rounded
to multiples of ``step`` (no rounding where ``step`` is ``None``) and clipped to the dataset's
range. The recorded label stands for a reading with errors of its own: a radiologist's bone
age, a chronological age beside a brain's biological one, a traced ejection fraction.

The **noise floor** is the expected MAE of the true function ``t`` under that noise,
``E|y - t|``. Given ``t`` the median of ``y`` is ``t`` (the noise is symmetric), and the input
depends on the label only through ``t``, so no predictor of ``y`` from the input has a lower
expected MAE: a method at the floor has learned everything there is to learn. With the
rounding error ``u`` uniform on ``[-step/2, step/2]`` and independent of ``z`` (``t`` is
continuous),

    E|y - t| = (1 / step) ∫ E|sd z + c| dc over c in [-step/2, step/2],
    E|sd z + c| = sd sqrt(2/pi) exp(-c^2 / (2 sd^2)) + c (1 - 2 Phi(-c / sd)),

so ``sd sqrt(2/pi)`` without rounding and ``step / 4`` without noise. Clipping to the range
moves a label towards ``t`` (which lies inside it), so it can only lower the floor.
The data cards (``data_cards/<dataset>.md``) state each phantom's noise and what it stands for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erf


@dataclass(frozen=True)
class LabelNoise:
    """Recorded label ``round(t + sd z)`` to multiples of ``step`` (``None``: not rounded)."""

    sd: float
    step: float | None
    unit: str
    stands_for: str

    def __post_init__(self) -> None:
        if not self.sd >= 0 or (self.step is not None and not self.step > 0):
            raise ValueError(
                f"label noise needs sd >= 0 and step > 0 or None, got sd={self.sd}, "
                f"step={self.step}"
            )

    def record(self, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Recorded labels of the true labels ``truth`` (one normal draw per item from
        ``rng``), rounded to ``step``; not clipped (the phantom clips to its range)."""
        truth = np.asarray(truth, dtype=np.float64)
        noisy = truth + self.sd * rng.standard_normal(truth.shape)
        if self.step is None:
            return noisy
        return np.rint(noisy / self.step) * self.step

    def floor(self) -> float:
        """Expected MAE of the true label against the recorded one, ``E|y - t|``."""
        if self.step is None:
            return self.sd * math.sqrt(2.0 / math.pi)
        if self.sd == 0:
            return self.step / 4.0
        # mean of E|sd z + c| over c uniform in [-step/2, step/2] (Simpson, 2001 points)
        c = np.linspace(-self.step / 2.0, self.step / 2.0, 2001)
        phi_term = self.sd * math.sqrt(2.0 / math.pi) * np.exp(-(c**2) / (2.0 * self.sd**2))
        inner = phi_term + c * erf(c / (self.sd * math.sqrt(2.0)))
        weights = np.ones_like(c)
        weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
        return float((weights * inner).sum() / weights.sum())


#: dataset -> its phantom's label noise (the data cards repeat these).
LABEL_NOISE: dict[str, LabelNoise] = {
    "rsna": LabelNoise(6.0, 1.0, "months", "a radiologist's reading of bone age"),
    "rhpe": LabelNoise(6.0, 1.0, "months", "a radiologist's reading of bone age"),
    "ukb": LabelNoise(1.5, 1.0, "years", "chronological age beside the brain's biological age"),
    "hcp": LabelNoise(2.5, 1.0 / 12.0, "years", "chronological age beside the brain's own"),
    "a4": LabelNoise(0.02, None, "SUVR", "the SUVR pipeline's own error (registration, ROIs)"),
    "echonet": LabelNoise(2.5, None, "% EF", "a sonographer's tracing of the ventricle"),
    "agedb": LabelNoise(2.0, 1.0, "years", "age as recorded beside the age a face shows"),
    "imdbwiki": LabelNoise(2.0, 1.0, "years", "age as recorded beside the age a face shows"),
}


def label_noise(dataset: str) -> LabelNoise:
    """The label noise of ``dataset``'s phantom."""
    try:
        return LABEL_NOISE[dataset]
    except KeyError:
        raise ValueError(
            f"no phantom label noise for {dataset!r}; expected one of {', '.join(LABEL_NOISE)}"
        ) from None


def noise_floor(dataset: str) -> float:
    """Expected MAE of the true function on ``dataset``'s phantom (:meth:`LabelNoise.floor`)."""
    return label_noise(dataset).floor()
