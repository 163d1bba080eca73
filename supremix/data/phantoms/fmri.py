"""HCP-Aging phantom: Schaefer-400-like ROI time series whose connectivity ages non-linearly.

Generative model (per subject, ``T`` frames at TR 0.8 s):

* age: the true (brain) age is uniform on [36, 90] for 90 % of subjects and on [90, 100] for
  10 % (HCP-Aging spans 36-100+) and drives the signals; the label is the recorded age, the
  truth plus N(0, 2.5) years (:mod:`.label_noise`: noise floor about 2.0 years), written as
  ``interview_age`` in whole months clipped to [432, 1200], so the label is ``months / 12``.
  Sex F with probability 0.56.
* ROIs: 400 parcels in two hemispheres, each split into the 7 Yeo networks in the proportions
  of the Schaefer-400 7-network atlas (:func:`network_labels`).
* latent signals: one AR(1) (phi 0.9) signal ``u_k`` per network and a global one ``g``,
  unit variance. Network signal ``s_k = sqrt(1 - c) u_k + sqrt(c) g`` with **between-network
  coupling** ``c(age) = 0.10 + 0.45 / (1 + exp(-(age - 65) / 8))`` (sigmoid:
  dedifferentiation), and ROI ``i`` of network ``k``:
  ``x_i = a_i (w(age) s_k + sqrt(1 - w^2) e_i) + drift_i + spikes`` with **within-network
  coupling** ``w(age) = 0.80 - 0.40 ((age - 36) / 64)^2`` (accelerating loss of
  segregation), ``e_i`` AR(1) (phi 0.5) noise, ``a_i`` log-normal ROI gain and the
  default-mode amplitude shrinking with age (``a_i x (1.2 - 0.4 (age - 36) / 64)`` there).
* nuisance: ROI gains, linear drifts, 0-3 motion spikes shared by all ROIs, offsets.

Layout: what :class:`supremix.data.hcp.HCPAgingFMRI` reads by default: ``ndar_subject01.txt``
(tab-separated, header, description row; also subjects without time series) and per subject
``<src_subject_id>_rfMRI_REST1_AP_Schaefer400.<npy|csv|mat>`` (``runs=2`` adds
``..._REST1_PA_...``), as ``T x 400`` (``orientation="time_by_roi"``) or ``400 x T``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
import scipy.signal

from .label_noise import label_noise

NETWORKS = ("Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default")
# parcels per network in Schaefer2018_400Parcels_7Networks (both hemispheres together)
SCHAEFER400_SIZES = (61, 77, 46, 47, 26, 52, 91)
RUN_NAMES = ("REST1_AP", "REST1_PA", "REST2_AP", "REST2_PA")
FORMATS = ("npy", "csv", "mat")
DESCRIPTIONS = {
    "subjectkey": "The NDAR Global Unique Identifier (GUID) for research subject",
    "src_subject_id": "Subject ID how it's defined in lab/project",
    "interview_date": "Date on which the interview/genetic test/sampling/imaging was completed",
    "interview_age": "Age in months at the time of the interview/test/sampling/imaging.",
    "sex": "Sex of subject at birth",
}


def _apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing to ``total`` (largest remainders)."""
    quotas = weights / weights.sum() * total
    counts = np.floor(quotas).astype(int)
    order = np.argsort(-(quotas - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def network_labels(n_rois: int = 400) -> np.ndarray:
    """Network index (into :data:`NETWORKS`) of every ROI: left hemisphere then right, each
    ordered by network; network sizes are the Schaefer-400 ones (scaled for other ``n_rois``)
    and split as evenly as possible between the hemispheres."""
    counts = _apportion(np.array(SCHAEFER400_SIZES, dtype=float), n_rois)
    left = counts // 2
    odd = np.flatnonzero(counts % 2)
    left[odd[: n_rois // 2 - left.sum()]] += 1
    networks = np.arange(len(NETWORKS))
    return np.concatenate([np.repeat(networks, left), np.repeat(networks, counts - left)])


def within_coupling(age: np.ndarray | float) -> np.ndarray | float:
    """``w(age)``: loading of an ROI on its network signal."""
    return 0.80 - 0.40 * ((np.asarray(age) - 36.0) / 64.0) ** 2


def between_coupling(age: np.ndarray | float) -> np.ndarray | float:
    """``c(age)``: share of the global signal in every network signal."""
    return 0.10 + 0.45 / (1.0 + np.exp(-(np.asarray(age) - 65.0) / 8.0))


def _ar1(rng: np.random.Generator, phi: float, shape: tuple[int, ...]) -> np.ndarray:
    """Unit-variance AR(1) series along the last axis, started in its stationary law."""
    noise = rng.standard_normal(shape) * np.sqrt(1.0 - phi**2)
    noise[..., 0] = rng.standard_normal(shape[:-1])
    return scipy.signal.lfilter([1.0], [1.0, -phi], noise, axis=-1)


def roi_series(age: float, rng: np.random.Generator, n_rois: int, length: int) -> np.ndarray:
    """One subject's ``(n_rois, length)`` series under the documented generative model."""
    labels = network_labels(n_rois)
    c, w = between_coupling(age), within_coupling(age)
    latent = _ar1(rng, 0.9, (len(NETWORKS), length))
    shared = _ar1(rng, 0.9, (1, length))
    networks = np.sqrt(1.0 - c) * latent + np.sqrt(c) * shared
    noise = _ar1(rng, 0.5, (n_rois, length))
    gain = np.exp(rng.normal(0.0, 0.3, n_rois))
    gain[labels == NETWORKS.index("Default")] *= 1.2 - 0.4 * (age - 36.0) / 64.0
    series = gain[:, None] * (w * networks[labels] + np.sqrt(1.0 - w**2) * noise)
    frames = np.arange(length) / length
    series += rng.normal(0.0, 0.3, (n_rois, 1)) * frames + rng.normal(0.0, 5.0, (n_rois, 1))
    for frame in rng.choice(length, rng.integers(0, 4), replace=False):
        series[:, frame] += rng.normal(0.0, 2.0)
    return series


def sample_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages in years: 90 % uniform on [36, 90], 10 % uniform on [90, 100]."""
    old = rng.random(n) < 0.1
    return np.where(old, rng.uniform(90.0, 100.0, n), rng.uniform(36.0, 90.0, n))


def _write_matrix(path: Path, matrix: np.ndarray, file_format: str) -> None:
    if file_format == "npy":
        np.save(path, matrix.astype(np.float32))
    elif file_format == "csv":
        np.savetxt(path, matrix, delimiter=",", fmt="%.5g")
    else:
        scipy.io.savemat(path, {"ts": matrix.astype(np.float32)})


def write_hcp(
    out: Path,
    *,
    n: int = 200,
    n_timepoints: int = 160,
    n_rois: int = 400,
    seed: int = 0,
    file_format: str = "npy",
    orientation: str = "time_by_roi",
    runs: int = 1,
    without_files: int = 5,
) -> Path:
    """Write ``n`` subjects' time series and the NDA table (plus ``without_files`` table-only
    subjects) under ``out``. ``file_format``: ``npy``, ``csv`` or ``mat``; ``orientation``:
    ``time_by_roi`` (T x 400) or ``roi_by_time``; ``runs``: files per subject (1-4), each an
    independent run of the same subject. Deterministic by ``seed``."""
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {FORMATS}, got {file_format!r}")
    if orientation not in ("time_by_roi", "roi_by_time"):
        raise ValueError(f"orientation must be time_by_roi or roi_by_time, got {orientation!r}")
    if not 1 <= runs <= len(RUN_NAMES):
        raise ValueError(f"runs must be 1-{len(RUN_NAMES)}, got {runs}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 400])
    total = n + without_files
    numbers = 1_000_000 + rng.choice(9_000_000, size=total, replace=False)
    subjects = [f"HCA{k:07d}" for k in numbers]
    truth = sample_ages(rng, total)
    recorded = np.rint(label_noise("hcp").record(truth, rng) * 12)
    months = np.clip(recorded, 36 * 12, 100 * 12).astype(int)
    sexes = np.where(rng.random(total) < 0.56, "F", "M")
    for i in range(n):
        for r in range(runs):
            series = roi_series(
                truth[i], np.random.default_rng([seed, 400, i, r]), n_rois, n_timepoints
            )
            matrix = series.T if orientation == "time_by_roi" else series
            name = f"{subjects[i]}_rfMRI_{RUN_NAMES[r]}_Schaefer400.{file_format}"
            _write_matrix(out / name, matrix, file_format)
    table = pd.DataFrame(
        {
            "subjectkey": [f"NDAR_INV{k:08X}" for k in numbers],
            "src_subject_id": subjects,
            "interview_date": "01/01/2020",
            "interview_age": months,
            "sex": sexes,
        }
    )
    description = pd.DataFrame([DESCRIPTIONS])
    pd.concat([description, table.astype(str)]).to_csv(
        out / "ndar_subject01.txt", sep="\t", index=False, quoting=1
    )
    return out
