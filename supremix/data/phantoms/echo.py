"""Echocardiography phantoms: a beating left ventricle whose contraction gives the EF.

Generative model (shared by EchoNet-Dynamic and CAMUS; lengths in pixels, ``s = min(H, W)``):

* EF (%): EchoNet: 78 % normal(61, 6.5) + 22 % normal(38, 12), clipped to [7, 92] (mean
  about 56, sd about 12.5, as EchoNet-Dynamic's 55.7 +- 12.4); CAMUS: 75 % normal(57, 7) +
  25 % normal(37, 10), clipped to [15, 85] (the AdaCon paper, Table C6: 52.0 +- 12.1).
* label (EchoNet): the EF of the sonographer's tracings, the true EF plus N(0, 2.5) clipped
  to [5, 95] (:mod:`.label_noise`: noise floor about 2.0 % EF); the ES tracing is the
  ventricle contracted to that EF, so the method of discs gives the label. CAMUS: the true EF.
* end-diastolic volume ``EDV = 95 exp(0.3 z) (1 + 0.8 max(0, 50 - EF) / 50)`` mL (low EF
  comes with a dilated ventricle); ``ESV = EDV (1 - EF / 100)``.
* left ventricle: a prolate ellipsoid seen in its long-axis plane, apex fixed near the top
  of the sector. At end-diastole its semi-axes are ``a = 0.11 s g``, ``b = 0.26 s g`` with
  ``g = (EDV / 95)^(1/3)``; at contraction ``c`` in [0, 1] (0 = ED, 1 = ES)
  ``a(c) = a (1 - EF)^(0.4 c)`` and ``b(c) = b (1 - EF)^(0.2 c)`` (the long axis shortens
  less), so ``V_ES / V_ED = a^2 b ratio = 1 - EF`` exactly and the ED/ES area ratio is
  ``(1 - EF)^0.6``: **EF = 1 - (A_ES / A_ED)^(5/3)**. The myocardium is a ring of constant
  area (it thickens as the cavity shrinks).
* cardiac cycle: period ``P`` frames (``U{20..34}`` at 50 fps), systole ``round(0.35 P)``
  frames (``c = sin^2``), relaxation until ``0.8 P`` (cosine), then diastasis; random phase.
* other chambers (4-chamber view): right ventricle (area ratio 0.6), both atria filling in
  anti-phase; the 2-chamber view has the left atrium only.
* image: ultrasound sector (80 degrees) on black, tissue 70, myocardium 180, blood 12 grey
  levels, multiplicative speckle (gamma, shape 4, slightly blurred), additive noise, gain
  U(0.8, 1.2), long-axis tilt normal(0, 5 degrees), heart shift normal(0, 0.02 s).

EchoNet layout (:class:`supremix.data.echonet.EchoNetDynamic`): ``FileList.csv`` (official
columns, ``Split`` TRAIN/VAL/TEST in 74/13/13 %), ``VolumeTracings.csv`` (long axis then 20
short-axis chords at the ES then the ED frame, EchoNet's convention) and ``Videos/*.avi``
(MJPG via OpenCV, grey in RGB).

CAMUS layout (:class:`supremix.data.camus.CAMUS`), ``release="2019"``: ``training/patientXXXX/``
with ``patientXXXX_{2CH,4CH}_{ED,ES,half_sequence}[_gt].mhd/.raw`` (MetaImage, uint8,
written by :func:`write_mhd`), ``Info_{2CH,4CH}.cfg`` (``LVef``), ``listSubGroups/`` (10 folds)
and ``testing/`` (unlabelled); ``release="2023"``: ``database_nifti/patientXXXX/`` with the same
names as ``.nii.gz`` (ITK axis order x, y, t), ``Info_*.cfg`` (``EF``) and
``database_split/subgroup_*.txt`` (80/10/10 %). Half sequences run ED -> ES, 20 +- 4 frames.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.ndimage

from ..videoio import write_avi
from ..volumeio import nifti_bytes
from .label_noise import label_noise

TISSUE, MYOCARDIUM, BLOOD = 70.0, 180.0, 12.0
SECTOR_HALF_ANGLE = np.deg2rad(40.0)
QUALITY_NOISE = {"Good": 6.0, "Medium": 12.0, "Poor": 22.0}
N_CHORDS = 20


@dataclass
class Heart:
    """One heart: EF (fraction), ED semi-axes and placement of the left ventricle (pixels)."""

    ef: float
    edv: float
    apex: tuple[float, float]  # (x, y)
    a: float  # short semi-axis at ED
    b: float  # long semi-axis at ED
    tilt: float  # radians, 0 = long axis pointing straight down
    wall: float  # myocardial wall thickness at ED

    def axes(self, c: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """LV semi-axes at contraction ``c`` (0 = ED, 1 = ES)."""
        c = np.asarray(c, dtype=np.float64)
        return self.a * (1 - self.ef) ** (0.4 * c), self.b * (1 - self.ef) ** (0.2 * c)

    def direction(self) -> np.ndarray:
        return np.array([np.sin(self.tilt), np.cos(self.tilt)])


def sample_ef(rng: np.random.Generator, n: int, dataset: str = "echonet") -> np.ndarray:
    """EF in percent with the documented mixture of the dataset (echonet or camus)."""
    if dataset == "echonet":
        low, normal, weights, clip = (38.0, 12.0), (61.0, 6.5), 0.22, (7.0, 92.0)
    else:
        low, normal, weights, clip = (37.0, 10.0), (57.0, 7.0), 0.25, (15.0, 85.0)
    reduced = rng.random(n) < weights
    ef = np.where(reduced, rng.normal(*low, n), rng.normal(*normal, n))
    return np.clip(ef, *clip)


def make_heart(ef_percent: float, rng: np.random.Generator, shape: tuple[int, int]) -> Heart:
    """A heart with the documented ED size (dilated when EF is low), tilt and shift."""
    height, width = shape
    s = min(height, width)
    edv = 95.0 * np.exp(0.3 * rng.standard_normal()) * (1 + 0.8 * max(0.0, 50 - ef_percent) / 50)
    g = float(np.clip((edv / 95.0) ** (1 / 3), 0.8, 1.25))
    shift = rng.normal(0.0, 0.02 * s, 2)
    apex = (width / 2 + 0.07 * s + shift[0], 0.15 * height + shift[1])
    return Heart(
        ef=ef_percent / 100.0,
        edv=edv,
        apex=apex,
        a=0.11 * s * g,
        b=0.26 * s * g,
        tilt=float(np.deg2rad(rng.normal(0.0, 5.0))),
        wall=0.045 * s,
    )


def contraction(frames: np.ndarray, period: int, systole: int, start: int) -> np.ndarray:
    """``c`` per frame: 0 at ED (phase 0), 1 at ES (phase ``systole``), back to 0 by 0.8 P."""
    phase = np.mod(np.asarray(frames) - start, period)
    relax_end = round(0.8 * period)
    c = np.zeros(phase.shape)
    up = phase <= systole
    c[up] = np.sin(0.5 * np.pi * phase[up] / systole) ** 2
    down = (phase > systole) & (phase < relax_end)
    c[down] = 0.5 * (1 + np.cos(np.pi * (phase[down] - systole) / (relax_end - systole)))
    return c


def _ellipse(points, centre, a, b, tilt, edge=0.4):
    """Soft membership of ellipses (one per frame) with semi-axes ``a`` (across), ``b``."""
    a = np.reshape(a, (-1, 1, 1))
    b = np.reshape(b, (-1, 1, 1))
    cx = np.reshape(centre[0], (-1, 1, 1))
    cy = np.reshape(centre[1], (-1, 1, 1))
    dx, dy = points[0] - cx, points[1] - cy
    along = dx * np.sin(tilt) + dy * np.cos(tilt)
    across = dx * np.cos(tilt) - dy * np.sin(tilt)
    radius = np.sqrt((across / a) ** 2 + (along / b) ** 2)
    distance = (radius - 1.0) * np.sqrt(a * b)
    return 1.0 / (1.0 + np.exp(np.clip(distance / edge, -50, 50)))


def _ring_thickness(a, b, wall_ed, a_ed, b_ed):
    """Wall thickness keeping the ring area ``pi ((a+w)(b+w) - a b)`` constant."""
    area = (a_ed + wall_ed) * (b_ed + wall_ed) - a_ed * b_ed
    return (-(a + b) + np.sqrt((a + b) ** 2 + 4 * area)) / 2


def lv_geometry(heart: Heart, c: np.ndarray):
    """LV cavity centre (x, y arrays), semi-axes and wall thickness at contraction ``c``."""
    a, b = heart.axes(c)
    d = heart.direction()
    centre = (heart.apex[0] + b * d[0], heart.apex[1] + b * d[1])
    wall = _ring_thickness(a, b, heart.wall, heart.a, heart.b)
    return centre, a, b, wall


def render(
    heart: Heart,
    c: np.ndarray,
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    view: str = "4CH",
    noise: float = 6.0,
    with_labels: bool = False,
):
    """Frames ``(F, H, W)`` uint8 of the heart at contractions ``c`` (and CAMUS-style label
    maps 0 background, 1 LV cavity, 2 myocardium, 3 left atrium when ``with_labels``)."""
    height, width = shape
    s = min(height, width)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    points = (xs[None], ys[None])
    c = np.asarray(c, dtype=np.float64)
    centre, a, b, wall = lv_geometry(heart, c)
    image = np.full((len(c), height, width), TISSUE)
    lv_outer = _ellipse(points, centre, a + wall, b + wall, heart.tilt)
    lv_cavity = _ellipse(points, centre, a, b, heart.tilt)
    la = _ellipse(
        points,
        (heart.apex[0] + 0.03 * s, np.full(len(c), 0.80 * height)),
        0.10 * s * (1 + 0.25 * c),
        0.08 * s * (1 + 0.25 * c),
        0.0,
    )
    cavities = [lv_cavity, la]
    image = image * (1 - lv_outer) + MYOCARDIUM * lv_outer
    if view == "4CH":
        rv_apex = (heart.apex[0] - 0.16 * s, heart.apex[1] + 0.04 * height)
        rv_scale = 0.6 ** (0.5 * c)
        rv_a, rv_b = 0.075 * s * rv_scale, 0.21 * s * rv_scale
        rv_tilt = heart.tilt - np.deg2rad(10.0)
        rv_centre = (rv_apex[0] + rv_b * np.sin(rv_tilt), rv_apex[1] + rv_b * np.cos(rv_tilt))
        rv_outer = _ellipse(points, rv_centre, rv_a + 0.025 * s, rv_b + 0.025 * s, rv_tilt)
        image = image * (1 - rv_outer) + MYOCARDIUM * rv_outer
        ra = _ellipse(
            points,
            (heart.apex[0] - 0.22 * s, np.full(len(c), 0.80 * height)),
            0.085 * s * (1 + 0.2 * c),
            0.075 * s * (1 + 0.2 * c),
            0.0,
        )
        cavities += [_ellipse(points, rv_centre, rv_a, rv_b, rv_tilt), ra]
    for cavity in cavities:
        image = image * (1 - cavity) + BLOOD * cavity
    speckle = scipy.ndimage.gaussian_filter(rng.gamma(4.0, 0.25, image.shape), sigma=(0, 0.6, 0.6))
    image = image * speckle * rng.uniform(0.8, 1.2) + rng.normal(0.0, noise, image.shape)
    apex_x, apex_y = width / 2, 0.02 * height
    angle = np.arctan2(xs - apex_x, ys - apex_y)
    depth = np.hypot(xs - apex_x, ys - apex_y)
    sector = (np.abs(angle) < SECTOR_HALF_ANGLE) & (depth < 0.98 * height) & (ys >= apex_y)
    frames = np.clip(np.round(image * sector), 0, 255).astype(np.uint8)
    if not with_labels:
        return frames
    labels = np.zeros(image.shape, dtype=np.uint8)
    labels[lv_outer > 0.5] = 2
    labels[lv_cavity > 0.5] = 1
    labels[(la > 0.5) & (labels == 0)] = 3
    return frames, labels * sector


def tracing_rows(heart: Heart, c: float, frame: int, file_name: str) -> list[tuple]:
    """VolumeTracings rows of one frame: the long axis, then ``N_CHORDS`` short-axis chords
    perpendicular to it, apex to base (EchoNet's convention; X = column, Y = row)."""
    (cx, cy), a, b, _ = lv_geometry(heart, np.array([c]))
    cx, cy, a, b = float(cx[0]), float(cy[0]), float(a[0]), float(b[0])
    d = heart.direction()
    perp = np.array([d[1], -d[0]])
    apex = np.array(heart.apex)
    base = apex + 2 * b * d
    rows = [(file_name, apex[0], apex[1], base[0], base[1], frame)]
    for j in range(N_CHORDS):
        u = -1.0 + (2 * j + 1) / N_CHORDS
        middle = np.array([cx, cy]) + u * b * d
        half = a * np.sqrt(1 - u**2)
        p1, p2 = middle - half * perp, middle + half * perp
        rows.append((file_name, p1[0], p1[1], p2[0], p2[1], frame))
    return rows


def _cycle(rng: np.random.Generator) -> tuple[int, int, int, int]:
    """Period, systole length, phase start and number of frames of a video."""
    period = int(rng.integers(20, 35))
    systole = round(0.35 * period)
    start = int(rng.integers(0, period))
    n_frames = int(rng.integers(max(2 * period + 1, 40), 81))
    return period, systole, start, n_frames


def write_echonet(out: Path, *, n: int = 300, size: int = 48, seed: int = 0) -> Path:
    """Write ``n`` videos of ``size x size`` pixels in the EchoNet-Dynamic layout under ``out``.

    Each video has 40-80 frames at 50 fps; traced ES and ED frames are the first systole peak
    and the next end-diastole. Deterministic by ``seed`` (MJPG bytes depend on OpenCV's
    encoder version; the decoded frames are what the tests check).
    """
    out = Path(out)
    (out / "Videos").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 112])
    efs = sample_ef(rng, n, "echonet")
    traced = np.clip(label_noise("echonet").record(efs, rng), 5.0, 95.0)
    names = [f"0X{v:016X}" for v in rng.integers(0, 2**63, n, dtype=np.int64)]
    splits = rng.choice(["TRAIN", "VAL", "TEST"], size=n, p=[0.744, 0.128, 0.128])
    rows, tracings = [], []
    for i, name in enumerate(names):
        video_rng = np.random.default_rng([seed, 112, i])
        heart = make_heart(efs[i], video_rng, (size, size))
        period, systole, start, n_frames = _cycle(video_rng)
        c = contraction(np.arange(n_frames), period, systole, start)
        frames = render(heart, c, (size, size), video_rng)
        write_avi(out / "Videos" / f"{name}.avi", frames, fps=50)
        es = start + systole if start + systole < period else start + systole - period
        ed = es + (period - systole)
        # the sonographer's ES contour: the ventricle contracted to the traced EF
        tracings += tracing_rows(replace(heart, ef=traced[i] / 100), 1.0, es, f"{name}.avi")
        tracings += tracing_rows(heart, 0.0, ed, f"{name}.avi")
        esv = heart.edv * (1 - traced[i] / 100)
        rows.append((name, traced[i], esv, heart.edv, size, size, 50, n_frames, splits[i]))
    columns = ["FileName", "EF", "ESV", "EDV", "FrameHeight", "FrameWidth", "FPS"]
    columns += ["NumberOfFrames", "Split"]
    pd.DataFrame(rows, columns=columns).to_csv(out / "FileList.csv", index=False)
    pd.DataFrame(tracings, columns=["FileName", "X1", "Y1", "X2", "Y2", "Frame"]).to_csv(
        out / "VolumeTracings.csv", index=False, float_format="%.4f"
    )
    return out


def write_mhd(path: Path, array: np.ndarray, spacing: tuple[float, ...]) -> Path:
    """Write a uint8 array ``(T, H, W)`` as MetaImage: ``path`` (.mhd text header) plus the
    ``.raw`` bytes beside it, x fastest (``DimSize = W H T``); ``spacing`` is (x, y, t)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    raw = path.with_suffix(".raw")
    dims = " ".join(str(d) for d in reversed(array.shape))
    header = "\n".join(
        [
            "ObjectType = Image",
            f"NDims = {array.ndim}",
            "BinaryData = True",
            "BinaryDataByteOrderMSB = False",
            "CompressedData = False",
            "TransformMatrix = 1 0 0 0 1 0 0 0 1",
            "Offset = 0 0 0",
            "CenterOfRotation = 0 0 0",
            "AnatomicalOrientation = RAI",
            "ElementSpacing = " + " ".join(f"{v:g}" for v in spacing),
            f"DimSize = {dims}",
            "ElementType = MET_UCHAR",
            f"ElementDataFile = {raw.name}",
        ]
    )
    path.write_text(header + "\n")
    raw.write_bytes(array.tobytes())
    return path


def _write_image(folder: Path, stem: str, array: np.ndarray, release: str) -> None:
    spacing = (0.308, 0.154, 1.0)
    if release == "2019":
        write_mhd(folder / f"{stem}.mhd", array, spacing)
    else:
        affine = np.diag([*spacing, 1.0])
        (folder / f"{stem}.nii.gz").write_bytes(nifti_bytes(array.transpose(2, 1, 0), affine))


def _write_patient(
    folder: Path,
    patient: str,
    ef: float,
    rng: np.random.Generator,
    size: int,
    release: str,
    labelled: bool,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shape = (size, round(size * rng.uniform(0.7, 0.9)))
    quality = rng.choice(list(QUALITY_NOISE), p=[260 / 450, 148 / 450, 42 / 450])
    sex = rng.choice(["F", "M"])
    age = int(rng.integers(20, 95))
    heart = make_heart(ef, rng, shape)
    n_frames = int(np.clip(round(rng.normal(20, 4)), 10, 34))
    c = np.linspace(0.0, 1.0, n_frames)
    for view in ("2CH", "4CH"):
        frames, labels = render(
            heart, c, shape, rng, view=view, noise=QUALITY_NOISE[quality], with_labels=True
        )
        stem = f"{patient}_{view}"
        _write_image(folder, f"{stem}_half_sequence", frames, release)
        for phase, index in (("ED", 0), ("ES", n_frames - 1)):
            _write_image(folder, f"{stem}_{phase}", frames[index : index + 1], release)
            if labelled:
                _write_image(folder, f"{stem}_{phase}_gt", labels[index : index + 1], release)
        lines = ["ED: 1", f"ES: {n_frames}", f"NbFrame: {n_frames}", f"Sex: {sex}"]
        lines += [f"Age: {age}", f"ImageQuality: {quality}"]
        if labelled and release == "2019":
            esv = heart.edv * (1 - heart.ef)
            lines += [f"LVedv: {heart.edv:.2f}", f"LVesv: {esv:.2f}", f"LVef: {ef:.2f}"]
        elif labelled:
            lines += [f"EF: {ef:.2f}", "FrameRate: 25.0"]
        (folder / f"Info_{view}.cfg").write_text("\n".join(lines) + "\n")


def write_camus(
    out: Path,
    *,
    n: int = 100,
    size: int = 48,
    seed: int = 0,
    release: str = "2019",
    n_testing: int = 5,
) -> Path:
    """Write ``n`` labelled patients of CAMUS in its 2019 (MHD) or 2023 (NIfTI) layout.

    Frames are ``size`` pixels high and 70-90 % as wide. 2019 also writes ``n_testing``
    unlabelled patients under ``testing/`` and the 10 folds of ``listSubGroups/``; 2023 writes
    ``database_split/``. Deterministic by ``seed``.
    """
    if release not in ("2019", "2023"):
        raise ValueError(f"release must be '2019' or '2023', got {release!r}")
    out = Path(out)
    rng = np.random.default_rng([seed, 2019])
    efs = sample_ef(rng, n, "camus")
    patients = [f"patient{k:04d}" for k in range(1, n + 1)]
    base = out / ("training" if release == "2019" else "database_nifti")
    for i, patient in enumerate(patients):
        patient_rng = np.random.default_rng([seed, 2019, i])
        _write_patient(base / patient, patient, efs[i], patient_rng, size, release, True)
    order = rng.permutation(patients)
    if release == "2019":
        for j in range(n_testing):
            patient = f"patient{n + j + 1:04d}"
            test_rng = np.random.default_rng([seed, 2019, n + j])
            ef = float(sample_ef(test_rng, 1, "camus")[0])
            _write_patient(out / "testing" / patient, patient, ef, test_rng, size, "2019", False)
        folds = np.array_split(order, 10)
        (out / "listSubGroups").mkdir(parents=True, exist_ok=True)
        for k in range(10):
            parts = {
                "testing": folds[k],
                "validation": folds[(k + 1) % 10],
                "training": np.concatenate(
                    [f for j, f in enumerate(folds) if j not in (k, (k + 1) % 10)]
                ),
            }
            for word, members in parts.items():
                path = out / "listSubGroups" / f"subGroup{k + 1}_{word}.txt"
                path.write_text("\n".join(sorted(members)) + "\n")
    else:
        n_val = n_test = max(1, round(0.1 * n))
        parts = {
            "testing": order[:n_test],
            "validation": order[n_test : n_test + n_val],
            "training": order[n_test + n_val :],
        }
        (out / "database_split").mkdir(parents=True, exist_ok=True)
        for word, members in parts.items():
            path = out / "database_split" / f"subgroup_{word}.txt"
            path.write_text("\n".join(sorted(members)) + "\n")
    return out
