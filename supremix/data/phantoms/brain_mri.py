"""UK Biobank brain-age phantom: skull-stripped T1 volumes whose anatomy ages non-linearly.

Generative model (per subject, all lengths in mm, MNI-like axes x L-R, y P-A, z I-S):

* age: the true age ``a`` (the brain's), normal(64, 7.5) truncated to [45, 82] (UKB imaging
  visit), drives the anatomy with ``t = (a - 45) / 37`` in [0, 1]; the label is the recorded
  age in whole years ``round(a + N(0, 1.5))`` clipped to [45, 82] (:mod:`.label_noise`:
  chronological beside biological age, noise floor about 1.2 years).
  Sex: male with probability 0.47 (field 31: 1 male).
* intracranial ellipsoid, semi-axes (68, 84, 62) x head scale ~ N(1, 0.03), x 1.04 if male.
* atrophy, accelerating with age: the parenchyma is the intracranial ellipsoid shrunk by
  ``0.02 + 0.05 t + 0.08 t^2``; the rim left between them is sulcal CSF.
* cortical thinning: grey-matter shell of thickness ``10 (1 - 0.4 t^1.5)`` mm (exaggerated so
  that it survives 6 mm voxels); grey/white contrast falls with age (GM 0.60 + 0.10 t).
* ventricle enlargement, accelerating: two lateral ellipsoids of semi-axes (9, 26, 11) scaled by
  ``(1 + 1.2 t + 2.5 t^2.5)^(1/3)`` (their volume grows up to 4.7-fold, from the
  youngest ages on) x individual size ~ N(1, 0.05).
* tissue intensities WM 1.0, GM 0.60-0.70, CSF 0.18 with partial volume at every edge.
* nuisance: pose (rotation N(0, 3 deg) per axis, translation N(0, 2 mm)), global gain
  U(0.85, 1.15), linear bias field of +-8 % along a random direction, Gaussian noise
  (sd 0.03), zero outside the intracranial mask (brain extracted), stored as int16 (x 800).

The label therefore drives three anatomical statistics (CSF fraction, cortical thickness,
ventricle volume), each non-linearly; head size, pose, gain, bias and noise are nuisance.

Layout: what :class:`supremix.data.ukb.UKBiobankT1` reads: ``ukb00000.csv`` (main dataset:
``eid``, ``31-0.0``, ``21003-0.0``, ``21003-2.0``; also participants never imaged, with an
empty ``21003-2.0``) and, per imaged subject, ``<eid>_20252_2_0.zip`` holding
``T1/T1_brain_to_MNI.nii.gz`` (``layout="zip"``), or the extracted folder
``<eid>_20252_2_0/T1/...`` (``"extracted"``) or ``<eid>/T1/...`` (``"eid"``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..ukb import IMAGE_FILES
from ..volumeio import nifti_bytes
from .label_noise import label_noise

EXTENT_MM = 180.0  # x extent; y is 1.2 times longer (MNI 182 x 218 x 182 mm)
LAYOUTS = ("zip", "extracted", "eid")


def sample_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """True ages (continuous) from normal(64, 7.5) truncated to [45, 82]."""
    ages = np.empty(0)
    while ages.size < n:
        draw = rng.normal(64.0, 7.5, size=2 * n)
        ages = np.concatenate([ages, draw[(draw >= 45) & (draw <= 82)]])
    return ages[:n]


def _rotation(rng: np.random.Generator, sd_degrees: float) -> np.ndarray:
    ax, ay, az = np.deg2rad(rng.normal(0.0, sd_degrees, 3))
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _inside(points: np.ndarray, centre, axes, edge: float) -> np.ndarray:
    """Soft membership of an ellipsoid: logistic of an approximate signed distance (mm)."""
    axes = np.asarray(axes, dtype=np.float64)
    radius = np.sqrt((((points - np.asarray(centre)) / axes) ** 2).sum(axis=-1))
    distance = (radius - 1.0) * axes.mean()
    return 1.0 / (1.0 + np.exp(np.clip(distance / edge, -50, 50)))


def brain_volume(
    age: float, male: bool, rng: np.random.Generator, shape: tuple[int, int, int], voxel: float
) -> np.ndarray:
    """One subject's T1 volume (float, WM ~ 1) under the documented generative model."""
    t = (age - 45.0) / 37.0
    grid = np.stack(
        np.meshgrid(*[(np.arange(n) - (n - 1) / 2) * voxel for n in shape], indexing="ij"), -1
    )
    # pose: evaluate the anatomy at rotated and shifted coordinates
    points = (grid - rng.normal(0.0, 2.0, 3)) @ _rotation(rng, 3.0)
    head = rng.normal(1.0, 0.03) * (1.04 if male else 1.0)
    icv_axes = np.array([68.0, 84.0, 62.0]) * head
    edge = 0.35 * voxel
    icv = _inside(points, (0, 0, 0), icv_axes, edge)
    brain_axes = icv_axes * (1.0 - (0.02 + 0.05 * t + 0.08 * t**2))
    brain = _inside(points, (0, 0, 0), brain_axes, edge)
    thickness = 10.0 * (1.0 - 0.4 * t**1.5)
    white = _inside(points, (0, 0, 0), brain_axes - thickness, edge)
    grow = (1.0 + 1.2 * t + 2.5 * t**2.5) ** (1.0 / 3.0) * rng.normal(1.0, 0.05)
    vent_axes = np.array([9.0, 26.0, 11.0]) * grow * head
    ventricles = np.maximum(
        _inside(points, (-11.0 * head, 4.0, 10.0), vent_axes, edge),
        _inside(points, (11.0 * head, 4.0, 10.0), vent_axes, edge),
    )
    csf, grey, wm = 0.18, 0.60 + 0.10 * t, 1.0
    tissue = wm * (1 - ventricles) + csf * ventricles
    tissue = grey * (1 - white) + tissue * white
    tissue = csf * (1 - brain) + tissue * brain
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    bias = 1.0 + 0.08 * (grid @ direction) / (EXTENT_MM / 2)
    gain = rng.uniform(0.85, 1.15)
    image = tissue * bias * gain + rng.normal(0.0, 0.03, shape)
    return np.clip(image, 0.0, None) * (icv > 0.5)


def write_ukb(
    out: Path,
    *,
    n: int = 240,
    size: int = 30,
    seed: int = 0,
    layout: str = "zip",
    registration: str = "nonlinear",
    unimaged: int = 20,
) -> Path:
    """Write ``n`` imaged subjects (plus ``unimaged`` table-only participants) under ``out``.

    ``size`` voxels along x (y gets 1.2 x), covering 180 mm: voxels of ``180 / size`` mm
    (default 30 -> 6 mm). ``layout`` is ``"zip"``, ``"extracted"`` or ``"eid"``;
    ``registration`` names the file written (``"nonlinear"``: ``T1_brain_to_MNI``,
    ``"linear"``: ``T1_brain_linearto_MNI``). Deterministic by ``seed``.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if registration not in IMAGE_FILES:
        raise ValueError(f"registration must be one of {sorted(IMAGE_FILES)}, got {registration!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 20252])
    total = n + unimaged
    eids = 1_000_000 + rng.choice(5_000_000, size=total, replace=False)
    truth = sample_ages(rng, total)
    ages = np.clip(label_noise("ukb").record(truth, rng), 45, 82)
    males = rng.random(total) < 0.47
    voxel = EXTENT_MM / size
    shape = (size, round(1.2 * size), size)
    affine = np.diag([voxel, voxel, voxel, 1.0])
    affine[:3, 3] = [-(s - 1) / 2 * voxel for s in shape]
    member = IMAGE_FILES[registration]
    for i in range(n):
        subject_rng = np.random.default_rng([seed, 20252, i])
        volume = brain_volume(truth[i], bool(males[i]), subject_rng, shape, voxel)
        payload = nifti_bytes(np.round(volume * 800).astype(np.int16), affine)
        eid = str(eids[i])
        if layout == "zip":
            with zipfile.ZipFile(out / f"{eid}_20252_2_0.zip", "w") as archive:
                archive.writestr(zipfile.ZipInfo(member, date_time=(2019, 7, 19, 0, 0, 0)), payload)
        else:
            folder = out / (f"{eid}_20252_2_0" if layout == "extracted" else eid)
            (folder / "T1").mkdir(parents=True, exist_ok=True)
            (folder / member).write_bytes(payload)
    table = pd.DataFrame(
        {
            "eid": eids,
            "31-0.0": males.astype(int),
            "21003-0.0": ages - rng.integers(5, 10, total),
            "21003-2.0": np.where(np.arange(total) < n, ages, np.nan),
        }
    )
    table.to_csv(out / "ukb00000.csv", index=False)
    return out
