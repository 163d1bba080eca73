"""Hand-radiograph phantoms written in the RSNA and RHPE layouts (the SupReMix paper, §4.1.3, Table
1).

Generative model (data_cards/rsna.md and rhpe.md repeat it). Lengths are in units of the
hand canvas height; ``a`` is bone age in months and girls' skeletons are ahead of boys' at
the same bone age, which the model expresses as a maturity age ``m = a * 1.15`` for girls and
``m = a`` for boys (physes close, epiphyses and carpals ossify earlier in girls):

* growth ``G(a) = 1 - 0.5 exp(-a / 90)`` scales every metacarpal and phalanx length and the
  carpal arrangement (saturating: fast in infancy, slow after puberty); bone width
  ``0.75 + 0.25 (1 - exp(-a / 90))``; bone density ``0.5 + 0.5 (1 - exp(-a / 100))``;
* epiphysis ossification ``E(m) = clip((m - 6) / 140, 0, 1) ** 0.7``: the epiphysis of each
  phalanx, metacarpal, radius and ulna grows from nothing (6 months) to nearly the shaft's width;
* physis (growth plate) gap ``P(m) = 0.03 / (1 + exp((m - 190) / 14))`` between epiphysis
  and shaft: open in children, closing around 190 months in boys and 165 in girls;
* eight carpal bones, bone ``j`` appearing at month ``t_j`` (2, 4, 30, 48, 66, 72, 72, 126:
  capitate ... pisiform) and growing as ``R_j clip((m - t_j) / 60, 0, 1) ** 0.6``.

Nuisance, independent of the label: hand rotation (±15°), translation (±5 %), scale
(0.95-1.05), finger spread (±4° per finger), background level and exposure gradient (heel
effect), soft-tissue and bone intensity, gamma (0.8-1.25), Gaussian noise with sd 1-4 % of the
intensity and, for RSNA, image size (±10 %). Tissue and bone intensities are proportional to
the path length through cylinders around each bone and finger, as X-ray attenuation is.

Labels: the true bone age ``t ~ N(127, 41)`` clipped to [1, 228] months as in RSNA (the SupReMix
paper Table 12) draws the hand; the label is a reader's bone age ``round(t + N(0, 6))`` clipped to
the same range (:mod:`.label_noise`: noise floor about 4.8 months); 54 % boys. RHPE: bone age
clipped to [12, 228], chronological age ``t + N(0, 14)`` rounded and clipped to [10, 242]; 50 %
boys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from .label_noise import label_noise

# Adult bone lengths per ray, proximal to distal (metacarpal, phalanges); the thumb has no
# middle phalanx. Ray 0 is the thumb, on the +u side (a left hand seen postero-anteriorly).
ADULT_LENGTHS = (
    (0.13, 0.095, 0.065),
    (0.19, 0.12, 0.07, 0.055),
    (0.20, 0.13, 0.085, 0.06),
    (0.185, 0.12, 0.08, 0.057),
    (0.16, 0.095, 0.06, 0.05),
)
RAY_BASES = ((0.115, 0.64), (0.06, 0.615), (0.015, 0.61), (-0.03, 0.615), (-0.072, 0.625))
RAY_ANGLES_DEG = (38.0, 8.0, 0.0, -7.0, -15.0)
BONE_HALF_WIDTHS = (0.02, 0.017, 0.015, 0.013)
CARPAL_CENTRES = (
    (-0.005, 0.66),  # capitate
    (-0.058, 0.665),  # hamate
    (-0.05, 0.725),  # triquetrum
    (0.015, 0.73),  # lunate
    (0.1, 0.67),  # trapezium
    (0.05, 0.66),  # trapezoid
    (0.075, 0.725),  # scaphoid
    (-0.09, 0.72),  # pisiform
)
CARPAL_ONSET_MONTHS = (2.0, 4.0, 30.0, 48.0, 66.0, 72.0, 72.0, 126.0)
CARPAL_RADII = (0.03, 0.026, 0.022, 0.024, 0.022, 0.018, 0.024, 0.014)
WRIST = np.array([0.0, 0.78])
FEMALE_TEMPO = 1.15
PHYSIS_CLOSURE_MONTHS = 190.0
MAX_PHYSIS_GAP = 0.03
JOINT_GAP = 0.012
RSNA_MEAN, RSNA_SD, RSNA_RANGE = 127.0, 41.0, (1, 228)


@dataclass(frozen=True)
class HandAnatomy:
    """Label-driven anatomy of one hand (see the module docstring for the formulas)."""

    growth: float
    width: float
    density: float
    ossification: float
    physis_gap: float
    carpal_radii: np.ndarray


def maturity_age(bone_age: float, male: bool) -> float:
    """Months of skeletal maturity: girls are ``FEMALE_TEMPO`` times ahead at equal bone age."""
    return float(bone_age) * (1.0 if male else FEMALE_TEMPO)


def hand_anatomy(bone_age: float, male: bool) -> HandAnatomy:
    """Anatomy of a hand of ``bone_age`` months; non-linear in the label by design."""
    a = float(bone_age)
    m = maturity_age(a, male)
    onset = np.asarray(CARPAL_ONSET_MONTHS)
    carpal = np.asarray(CARPAL_RADII) * np.clip((m - onset) / 60.0, 0.0, 1.0) ** 0.6
    return HandAnatomy(
        growth=1.0 - 0.5 * np.exp(-a / 90.0),
        width=0.75 + 0.25 * (1.0 - np.exp(-a / 90.0)),
        density=0.5 + 0.5 * (1.0 - np.exp(-a / 100.0)),
        ossification=float(np.clip((m - 6.0) / 140.0, 0.0, 1.0) ** 0.7),
        physis_gap=MAX_PHYSIS_GAP / (1.0 + np.exp((m - PHYSIS_CLOSURE_MONTHS) / 14.0)),
        carpal_radii=carpal,
    )


@dataclass(frozen=True)
class Pose:
    """Label-independent placement of the hand on its canvas."""

    angle: float
    shift: tuple[float, float]
    scale: float
    spread: tuple[float, ...]


def random_pose(rng: np.random.Generator) -> Pose:
    """Rotation ±15°, translation ±5 % of the height, scale 0.95-1.05, finger spread ±4°."""
    return Pose(
        angle=float(np.deg2rad(rng.uniform(-15.0, 15.0))),
        shift=(float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.05, 0.05))),
        scale=float(rng.uniform(0.95, 1.05)),
        spread=tuple(float(np.deg2rad(v)) for v in rng.uniform(-4.0, 4.0, size=5)),
    )


@dataclass
class _Segments:
    """Capsules (segment ``a``-``b`` inflated by ``radius``) accumulated while building."""

    starts: list[np.ndarray]
    ends: list[np.ndarray]
    radii: list[float]

    def add(self, start: np.ndarray, end: np.ndarray, radius: float) -> None:
        if radius > 0:
            self.starts.append(np.asarray(start, dtype=np.float64))
            self.ends.append(np.asarray(end, dtype=np.float64))
            self.radii.append(float(radius))


def _bone(
    bones: _Segments,
    start: np.ndarray,
    direction: np.ndarray,
    length: float,
    half_width: float,
    anatomy: HandAnatomy,
    epiphysis_at_start: bool,
) -> None:
    """A long bone from ``start`` along ``direction``: shaft, physis gap, epiphysis."""
    epiphysis = 0.22 * length * anatomy.ossification
    r_epi = half_width * (0.55 + 0.35 * anatomy.ossification) * (anatomy.ossification > 0)
    gap = anatomy.physis_gap * (anatomy.ossification > 0)
    reserved = epiphysis + gap
    shaft_from, shaft_to = (reserved, length) if epiphysis_at_start else (0.0, length - reserved)
    bones.add(
        start + direction * (shaft_from + half_width),
        start + direction * (shaft_to - half_width),
        half_width,
    )
    if r_epi > 0:
        e_from = 0.0 if epiphysis_at_start else length - epiphysis
        e_to = epiphysis if epiphysis_at_start else length
        bones.add(
            start + direction * (e_from + r_epi), start + direction * max(e_to - r_epi, 0), r_epi
        )


def hand_geometry(
    anatomy: HandAnatomy, spread: Sequence[float]
) -> tuple[_Segments, _Segments, np.ndarray]:
    """Bone and soft-tissue capsules in hand coordinates, and 17 keypoints ``(17, 2)``.

    Keypoints: 5 fingertips, 5 metacarpo-phalangeal joints, 4 proximal inter-phalangeal joints
    and the thumb's inter-phalangeal joint, radius and ulna tips.
    """
    bones, soft = _Segments([], [], []), _Segments([], [], [])
    g, w = anatomy.growth, anatomy.width
    tips, mcps, pips = [], [], []
    for ray, lengths in enumerate(ADULT_LENGTHS):
        angle = np.deg2rad(RAY_ANGLES_DEG[ray]) + spread[ray]
        direction = np.array([np.sin(angle), -np.cos(angle)])
        base = WRIST + (np.asarray(RAY_BASES[ray]) - WRIST) * (0.6 + 0.4 * g)
        point = base
        widths = BONE_HALF_WIDTHS if ray else (0.02, 0.017, 0.013)
        for k, adult_length in enumerate(lengths):
            length = adult_length * g
            # metacarpals of rays 1-4 carry a distal epiphysis; the others a proximal one
            _bone(bones, point, direction, length, widths[k] * w, anatomy, ray == 0 or k > 0)
            point = point + direction * (length + JOINT_GAP * g)
            if k == 0:
                mcps.append(point)
            elif k == 1:
                pips.append(point)
        tips.append(point)
        soft.add(base, point, widths[0] * w + 0.022)
    heads = np.array(mcps[1:])
    for ray in range(1, 5):
        soft.add(WRIST + np.array([0.0, -0.02]), heads[ray - 1], 0.06 * (0.7 + 0.3 * g))
    soft.add(WRIST, WRIST + np.array([0.0, 0.6]), 0.13 * (0.7 + 0.3 * g))
    for centre, radius in zip(CARPAL_CENTRES, anatomy.carpal_radii, strict=True):
        c = WRIST + (np.asarray(centre) - WRIST) * (0.6 + 0.4 * g)
        bones.add(c, c, radius * g)
    forearm = []
    for offset, half_width in ((0.055, 0.035 * w), (-0.05, 0.026 * w)):  # radius, ulna
        tip = WRIST + np.array([offset, 0.045])
        _bone(
            bones,
            tip + np.array([0.0, 0.8]),
            np.array([0.0, -1.0]),
            0.8,
            half_width,
            anatomy,
            False,
        )
        forearm.append(tip)
    keypoints = np.array(tips + mcps + pips + forearm)
    return bones, soft, keypoints


def _to_canvas(points: np.ndarray, pose: Pose, height: int, width: int) -> np.ndarray:
    """Hand coordinates -> pixel ``(x, y)`` under ``pose``."""
    c, s = np.cos(pose.angle), np.sin(pose.angle)
    rotated = (points - WRIST) @ np.array([[c, s], [-s, c]]) * pose.scale + WRIST
    u = rotated[:, 0] + pose.shift[0]
    v = rotated[:, 1] + pose.shift[1]
    return np.stack([u * height + width / 2.0, v * height], axis=1)


def _draw_capsules(
    canvas: np.ndarray, starts: np.ndarray, ends: np.ndarray, radii: np.ndarray
) -> np.ndarray:
    """Union (max) of capsule thickness profiles, in pixel units, drawn onto ``canvas``.

    A capsule of radius ``r`` contributes ``sqrt(1 - (d / (r + 0.5)) ** 2)`` at distance ``d``
    from its axis: the relative path length of a ray through a cylinder, which is what an
    X-ray attenuates along (the half pixel keeps sub-pixel bones visible). Each capsule is
    evaluated only in its bounding window, at pixel centres.
    """
    height, width = canvas.shape
    for (ax, ay), (bx, by), r in zip(starts, ends, radii, strict=True):
        reach = r + 0.5
        x0, x1 = max(int(min(ax, bx) - reach), 0), min(int(max(ax, bx) + reach + 1), width)
        y0, y1 = max(int(min(ay, by) - reach), 0), min(int(max(ay, by) + reach + 1), height)
        if x1 <= x0 or y1 <= y0:
            continue
        px = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5 - ax
        py = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5 - ay
        dx, dy = bx - ax, by - ay
        t = np.clip((px * dx + py * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
        distance2 = (px - t * dx) ** 2 + (py - t * dy) ** 2
        window = canvas[y0:y1, x0:x1]
        np.maximum(window, np.sqrt(np.clip(1.0 - distance2 / reach**2, 0.0, 1.0)), out=window)
    return canvas


def render_hand(
    bone_age: float, male: bool, pose: Pose, height: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise-free ``(soft tissue, bone)`` thickness maps ``(height, width)`` and keypoints.

    Bone thickness is weighted by bone density; both maps are in [0, 1]. Keypoints are the
    pixel ``(x, y)`` positions of the 17 landmarks of :func:`hand_geometry`.
    """
    anatomy = hand_anatomy(bone_age, male)
    bones, soft, keypoints = hand_geometry(anatomy, pose.spread)
    pixels_per_unit = height * pose.scale
    covers = []
    for segments in (soft, bones):
        starts = _to_canvas(np.asarray(segments.starts), pose, height, width)
        ends = _to_canvas(np.asarray(segments.ends), pose, height, width)
        radii = np.asarray(segments.radii) * pixels_per_unit
        covers.append(_draw_capsules(np.zeros((height, width)), starts, ends, radii))
    return covers[0], covers[1] * anatomy.density, _to_canvas(keypoints, pose, height, width)


def radiograph(soft: np.ndarray, bone: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Attenuation-like composite: a background with a linear exposure gradient (the X-ray
    tube's heel effect), soft tissue and bone, random gamma, and noise whose sd is
    proportional to the intensity; as uint8."""
    height, width = soft.shape
    direction = rng.uniform(0.0, 2.0 * np.pi)
    rows, cols = np.mgrid[0:height, 0:width]
    ramp = (np.cos(direction) * cols / width + np.sin(direction) * rows / height + 1.0) / 2.0
    background = rng.uniform(0.0, 0.06) + rng.uniform(0.02, 0.08) * ramp
    tissue = rng.uniform(0.2, 0.35)
    bone_gain = rng.uniform(0.45, 0.6)
    image = background + tissue * soft + bone_gain * bone
    image = np.clip(image, 0.0, 1.0) ** rng.uniform(0.8, 1.25)
    image = image * (1.0 + rng.normal(0.0, rng.uniform(0.01, 0.04), size=image.shape))
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _bone_ages(
    rng: np.random.Generator, n: int, low: int, high: int, dataset: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(true, recorded)`` bone ages: the truth ``N(RSNA_MEAN, RSNA_SD)`` clipped to
    ``[low, high]`` draws the hand; the label is a reading of it (:mod:`.label_noise`)."""
    truth = np.clip(rng.normal(RSNA_MEAN, RSNA_SD, size=n), low, high)
    recorded = np.clip(label_noise(dataset).record(truth, rng), low, high).astype(int)
    return truth, recorded


def _split_counts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    if n < 3:
        raise ValueError(f"a phantom needs n >= 3 images (one per split), got {n}")
    n_test = max(1, round(test_fraction * n))
    n_val = max(1, round(val_fraction * n))
    return n - n_val - n_test, n_val, n_test


def _check_size(image_size: Sequence[int]) -> tuple[int, int]:
    height, width = (int(v) for v in image_size)
    if height < 16 or width < 16:
        raise ValueError(f"phantom image_size must be at least 16x16, got {image_size!r}")
    return height, width


def _male_text(values: np.ndarray) -> list[str]:
    return ["True" if v else "False" for v in values]


def write_rsna(
    out: Path,
    *,
    n: int = 1000,
    image_size: Sequence[int] = (96, 80),
    seed: int = 0,
    layout: str = "official",
    test_labels: str = "xlsx",
) -> Path:
    """Write an RSNA-layout hand phantom of ``n`` images under ``out``; return ``out``.

    ``layout="official"`` writes the extracted RSNA zips (80 % training, 10 % validation
    across ``boneage-validation-dataset-1/`` and ``-2/``, 10 % test with ``Bone age ground
    truth.xlsx`` or ``.csv`` per ``test_labels``); ``layout="kaggle"`` the Kaggle copy (90 %
    training, 10 % test images without labels). ``image_size`` ``(height, width)`` is nominal:
    each image's size varies by ±10 % as real radiographs do.
    """
    if layout not in ("official", "kaggle"):
        raise ValueError(f"unknown RSNA phantom layout {layout!r}; expected official or kaggle")
    if test_labels not in ("xlsx", "csv"):
        raise ValueError(f"test_labels must be 'xlsx' or 'csv', got {test_labels!r}")
    height, width = _check_size(image_size)
    out = Path(out)
    rng = np.random.default_rng(seed)
    n_train, n_val, _ = _split_counts(n, 0.1 if layout == "official" else 0.0, 0.1)
    if layout == "kaggle":
        n_train, n_val = n_train + n_val, 0
    ids = rng.choice(np.arange(1377, 1377 + 2 * n + 14_000), size=n, replace=False)
    truth, ages = _bone_ages(rng, n, *RSNA_RANGE, "rsna")
    male = rng.random(n) < 0.54
    parts = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val)}
    parts["test"] = slice(n_train + n_val, n)
    if layout == "official":
        folders = {
            "train": out / "Bone Age Training Set" / "boneage-training-dataset",
            "test": out / "Bone Age Test Set" / "Test Set Images",
        }
    else:
        folders = {
            "train": out / "boneage-training-dataset" / "boneage-training-dataset",
            "test": out / "boneage-test-dataset" / "boneage-test-dataset",
        }
    val_root = out / "Bone Age Validation Set"
    for i in range(n):
        item_rng = np.random.default_rng([seed, i])
        h = round(height * item_rng.uniform(0.9, 1.1))
        w = round(h * width / height * item_rng.uniform(0.95, 1.05))
        soft, bone, _ = render_hand(truth[i], bool(male[i]), random_pose(item_rng), h, w)
        if i < n_train:
            folder = folders["train"]
        elif i < n_train + n_val:
            half = "1" if i - n_train < (n_val + 1) // 2 else "2"
            folder = val_root / f"boneage-validation-dataset-{half}"
        else:
            folder = folders["test"]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(radiograph(soft, bone, item_rng)).save(folder / f"{ids[i]}.png")
    train = parts["train"]
    train_table = pd.DataFrame(
        {"id": ids[train], "boneage": ages[train], "male": _male_text(male[train])}
    )
    test = parts["test"]
    sex_codes = ["M" if v else "F" for v in male[test]]
    if layout == "kaggle":
        train_table.to_csv(out / "boneage-training-dataset.csv", index=False)
        pd.DataFrame({"Case ID": ids[test], "Sex": sex_codes}).to_csv(
            out / "boneage-test-dataset.csv", index=False
        )
        return out
    annotations = out / "Bone Age Training Set Annotations"
    annotations.mkdir(parents=True, exist_ok=True)
    train_table.to_csv(annotations / "train.csv", index=False)
    val = parts["val"]
    pd.DataFrame(
        {"Image ID": ids[val], "male": _male_text(male[val]), "Bone Age (months)": ages[val]}
    ).to_csv(val_root / "Validation Dataset.csv", index=False)
    truth_table = pd.DataFrame(
        {"Case ID": ids[test], "Sex": sex_codes, "Ground truth bone age (months)": ages[test]}
    )
    truth_path = out / "Bone Age Test Set" / f"Bone age ground truth.{test_labels}"
    if test_labels == "xlsx":
        truth_table.to_excel(truth_path, index=False)
    else:
        truth_table.to_csv(truth_path, index=False)
    return out
