"""A4 amyloid-PET phantom: florbetapir-like volumes whose cortical uptake encodes SUVR.

Generative model (per subject, native-space grid of ``size`` voxels per side over 216 mm):

* latent amyloid burden ``s``: Aβ- with probability 0.7, normal(1.00, 0.08), else Aβ+,
  normal(1.30, 0.22); clipped to [0.62, 1.95] (A4 screening: Aβ- mean 0.99, Aβ+ mean 1.33,
  range 0.70-2.09).
* anatomy (:func:`template_labels`): head, brain ellipsoid, a cortical shell split by direction
  into the six composite regions of the SupReMix paper's §4.1.5 (medial orbital frontal, temporal,
  parietal, anterior cingulate, posterior cingulate, precuneus) and other cortex, white matter,
  cerebellum (the reference region).
* uptake relative to cerebellar grey matter (= 1), staged and non-linear in ``s``: with
  ``e = s - 1``, precuneus, posterior cingulate and medial orbital frontal take ``1 + 1.3 e``
  (early regions), anterior cingulate ``1 + e``, temporal and parietal
  ``1 + e (0.5 + 0.9 sigmoid((s - 1.45) / 0.08))`` (late regions, switching on in Aβ+),
  other cortex ``1 + 0.5 e``; white matter 1.4-1.7 (florbetapir's non-specific binding),
  scalp 0.3, background 0.02.
* acquisition: Gaussian blur (8 mm FWHM), a translation of up to one voxel (pose), global
  SUV scale U(0.8, 1.6) (dose and weight; cancels in SUVR), four 5-minute frames with
  independent noise (sd 4 % of the local uptake + 0.01), stored as int16 (x 6000).
* label: the composite SUVR **measured on the written image** like a pipeline would:
  the mean of the frame-averaged volume over the core voxels of the six regions of the fixed
  template, divided by its mean over the cerebellar core (:func:`composite_suvr`), which
  includes partial-volume spill-in and noise, plus the pipeline's own error N(0, 0.02)
  (registration, region definition; :mod:`.label_noise`: noise floor about 0.016). The
  regional rows are the measured values; the composite is recomputable from the file up to
  that error.

Layout: what :class:`supremix.data.a4.A4AmyloidPET` reads:
``NII/<BID>/002/FBP/A4_PET_FBP_<BID>_002.nii.gz`` (4-D, 4 frames) and
``imaging_SUVR_amyloid.csv`` (long: ``BID, VISCODE, brain_region, suvr_cer, suvr_persi,
suvr_crus``; one row per region plus ``Composite_Summary``; ``VISCODE`` 2 = screening).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.ndimage

from ..volumeio import mean_over_frames, nifti_bytes, read_nifti
from .label_noise import label_noise

EXTENT_MM = 216.0
REGIONS = (
    "xlaal_frontal_med_orb",
    "new_temporal_2",
    "lnew_parietal",
    "lanterior_cingulate_2",
    "llposterior_cingulate_2",
    "lprecuneus_gm",
)
OTHER_CORTEX, WHITE, CEREBELLUM, SCALP = 7, 8, 9, 10
BRAIN_AXES = np.array([62.0, 78.0, 52.0])
SHELL_MM = 16.0


def _directions(points: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(points, axis=-1, keepdims=True)
    return points / np.maximum(norm, 1e-9)


def template_labels(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Tissue labels of the template on a ``size^3`` grid, and the "core" mask.

    Labels: 1-6 the composite regions (order of :data:`REGIONS`), 7 other cortex, 8 white
    matter, 9 cerebellum, 10 scalp, 0 outside. The core mask keeps cortex voxels in the
    middle of the shell and cerebellum voxels away from its edge (less partial volume).
    """
    voxel = EXTENT_MM / size
    axis = (np.arange(size) - (size - 1) / 2) * voxel
    points = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1)
    radius = np.sqrt(((points / BRAIN_AXES) ** 2).sum(-1))
    depth = (1.0 - radius) * BRAIN_AXES.mean()  # mm below the brain surface
    labels = np.zeros((size,) * 3, dtype=np.int8)
    labels[(radius >= 1.0) & (radius < 1.0 + 14.0 / BRAIN_AXES.mean())] = SCALP
    labels[(depth >= 0) & (depth < SHELL_MM)] = OTHER_CORTEX
    labels[depth >= SHELL_MM] = WHITE
    d = _directions(points)
    dx, dy, dz = np.abs(d[..., 0]), d[..., 1], d[..., 2]
    sectors = [
        (dy > 0.55) & (dz < 0.1),  # medial orbital frontal
        (dx > 0.6) & (dz < 0.2) & (dy <= 0.55),  # temporal
        (dx > 0.45) & (dz >= 0.2) & (dy < 0.0),  # parietal
        (dx <= 0.45) & (dz >= 0.2) & (dy >= 0.3),  # anterior cingulate
        (dx <= 0.45) & (dz >= 0.2) & (dy > -0.3) & (dy < 0.3),  # posterior cingulate
        (dx <= 0.45) & (dz >= 0.2) & (dy <= -0.3),  # precuneus
    ]
    cortex = labels == OTHER_CORTEX
    for number, sector in enumerate(sectors, start=1):
        labels[cortex & sector & (labels == OTHER_CORTEX)] = number
    cerebellum_axes = np.array([42.0, 26.0, 18.0])
    cerebellar = np.sqrt((((points - (0.0, -48.0, -40.0)) / cerebellum_axes) ** 2).sum(-1))
    labels[cerebellar < 1.0] = CEREBELLUM
    mid_shell = np.abs(depth - SHELL_MM / 2) <= max(SHELL_MM / 4, voxel / 2)
    core = ((labels >= 1) & (labels <= 6) & mid_shell) | (
        (labels == CEREBELLUM) & (cerebellar < 0.7)
    )
    return labels, core


def composite_suvr(volume: np.ndarray, labels: np.ndarray, core: np.ndarray) -> float:
    """Mean uptake over the core of the six composite regions / mean over the cerebellar core."""
    target = volume[core & (labels >= 1) & (labels <= 6)].mean()
    reference = volume[core & (labels == CEREBELLUM)].mean()
    return float(target / reference)


def regional_uptake(s: float) -> np.ndarray:
    """Uptake of regions 1-6 and other cortex (relative to cerebellum) for latent burden ``s``."""
    e = s - 1.0
    late = 0.45 + 0.8 / (1.0 + np.exp(-(s - 1.45) / 0.08))
    return 1.0 + e * np.array([1.15, late, late, 0.9, 1.15, 1.15, 0.5])


def sample_burden(rng: np.random.Generator, n: int) -> np.ndarray:
    """Latent burden: bimodal, 70 % Aβ- normal(1.00, 0.08), 30 % Aβ+ normal(1.30, 0.22),
    clipped to [0.62, 1.95]."""
    positive = rng.random(n) < 0.3
    burden = np.where(positive, rng.normal(1.30, 0.22, n), rng.normal(1.00, 0.08, n))
    return np.clip(burden, 0.62, 1.95)


def pet_frames(
    s: float, rng: np.random.Generator, labels: np.ndarray, voxel: float, frames: int
) -> np.ndarray:
    """``(size, size, size, frames)`` float uptake under the documented generative model."""
    values = np.zeros(11)
    values[0] = 0.02
    values[1:8] = regional_uptake(s)
    values[WHITE] = rng.uniform(1.4, 1.7)
    values[CEREBELLUM] = 1.0
    values[SCALP] = 0.3
    clean = values[labels]
    sigma = 8.0 / 2.3548 / voxel
    clean = scipy.ndimage.gaussian_filter(clean, sigma)
    clean = scipy.ndimage.shift(clean, rng.uniform(-0.25, 0.25, 3), order=1, mode="nearest")
    clean *= rng.uniform(0.8, 1.6)
    noise = rng.standard_normal((*clean.shape, frames)) * (0.04 * clean + 0.01)[..., None]
    return np.clip(clean[..., None] + noise, 0.0, None).astype(np.float32)


def write_a4(out: Path, *, n: int = 200, size: int = 32, seed: int = 0, frames: int = 4) -> Path:
    """Write ``n`` screening PET scans and the long SUVR table under ``out``.

    ``size`` voxels per side over 216 mm (default 32 -> 6.75 mm voxels); ``frames`` per scan
    (1 writes a 3-D volume); ``size`` >= 12 so that every region has voxels. Deterministic by
    ``seed``.
    """
    if size < 12:
        raise ValueError(f"size must be >= 12 (every composite region needs voxels), got {size}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 18])
    bids = [f"B{k:08d}" for k in 10_000_000 + rng.choice(90_000_000, n, replace=False)]
    burden = sample_burden(rng, n)
    pipeline_error = label_noise("a4").record(np.zeros(n), rng)
    labels, core = template_labels(size)
    voxel = EXTENT_MM / size
    affine = np.diag([voxel, voxel, voxel, 1.0])
    affine[:3, 3] = -(size - 1) / 2 * voxel
    rows = []
    for i, bid in enumerate(bids):
        data = pet_frames(burden[i], np.random.default_rng([seed, 18, i]), labels, voxel, frames)
        data = data[..., 0] if frames == 1 else data
        payload = nifti_bytes(np.round(np.minimum(data * 6000, 32767)).astype(np.int16), affine)
        folder = out / "NII" / bid / "002" / "FBP"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"A4_PET_FBP_{bid}_002.nii.gz").write_bytes(payload)
        volume = mean_over_frames(read_nifti(payload)[0])
        reference = volume[core & (labels == CEREBELLUM)].mean()
        for number, region in enumerate(REGIONS, start=1):
            value = volume[core & (labels == number)].mean() / reference
            rows.append((bid, 2, region, value))
        composite = composite_suvr(volume, labels, core) + pipeline_error[i]
        rows.append((bid, 2, "Composite_Summary", composite))
    table = pd.DataFrame(rows, columns=["BID", "VISCODE", "brain_region", "suvr_cer"])
    # the other references scale the cerebellar SUVR by subject-independent factors here
    table["suvr_persi"] = table["suvr_cer"] * 0.96
    table["suvr_crus"] = table["suvr_cer"] * 1.04
    table.to_csv(out / "imaging_SUVR_amyloid.csv", index=False, float_format="%.6f")
    return out
