"""Face-age phantoms written in the AgeDB-DIR and IMDB-WIKI-DIR layouts (Mixup Your Own Pairs, §4,
App. B.1).

Generative model (data_cards/agedb.md and imdbwiki.md repeat it); ``a`` is age in years and
every trait is a non-linear function of it:

* face shape: head height / width ``1 + 0.28 (1 - exp(-a / 8))`` (round baby faces lengthen
  through childhood); eye line at ``0.5 + 0.12 exp(-a / 6)`` of the head height (children's
  eyes sit low on a large cranium), eye size ``1 + 0.3 exp(-a / 6)`` times the adult size;
* forehead wrinkles: ``4 clip((a - 25) / 40, 0, 1)`` lines (fractional line = partial
  depth), depth ``sigmoid((a - 45) / 8)``; crow's feet and nasolabial folds with depth
  ``sigmoid((a - 40) / 7)``;
* hair greying: hair and eyebrow colour mixed towards grey-white by ``sigmoid((a - 55) / 6)``;
  men's hairline recedes by ``0.25 clip((a - 30) / 40, 0, 1)`` of the head height;
* age spots: ``Poisson(8 sigmoid((a - 60) / 7))`` dark dots on the skin.

Identity (a person keeps skin tone, natural hair colour, sex and jaw width over their images),
sex (long hair for women) and nuisance are label-free: background colour, rotation (±10°),
translation (±5 %), zoom (1.15-1.4), illumination gain (0.75-1.25) and colour cast (±8 %),
Gaussian noise (sd 0.01-0.03), JPEG quality 70-95.

Ages: the true age ``t`` draws the face: AgeDB-like ``N(50, 17)`` with 7 % children
``U(1, 20)``, clipped to [1, 101], 59 % men; IMDB-WIKI-like ``18 + Gamma(2.2, 9)`` with 3 %
children, clipped to [1, 100]. The label is the recorded age ``round(t + N(0, 2))``, clipped
to the same range (:mod:`.label_noise`: noise floor about 1.6 years). Val
and test are balanced over age as in the DIR benchmarks: of the ``c`` images of each age,
``min(c // 3, cap)`` go to val and as many to test, with ``cap`` scaled from the real caps
(30 of 16,488 for AgeDB-DIR, 150 of 213,553 for IMDB-WIKI-DIR).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from .label_noise import label_noise

HAIR_COLOURS = np.array(
    [[0.08, 0.06, 0.05], [0.25, 0.15, 0.08], [0.45, 0.3, 0.15], [0.8, 0.68, 0.4], [0.6, 0.25, 0.1]]
)
GREY_HAIR = np.array([0.82, 0.82, 0.8])
SKIN_LIGHT = np.array([0.95, 0.8, 0.7])
SKIN_DARK = np.array([0.4, 0.26, 0.18])


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@dataclass(frozen=True)
class FaceTraits:
    """Age-driven traits of one face (formulas in the module docstring)."""

    elongation: float
    eye_line: float
    eye_size: float
    wrinkle_lines: float
    wrinkle_depth: float
    fold_depth: float
    greying: float
    recession: float
    spot_rate: float


def face_traits(age: float, male: bool) -> FaceTraits:
    """Traits of a face of ``age`` years."""
    a = float(age)
    return FaceTraits(
        elongation=1.0 + 0.28 * (1.0 - np.exp(-a / 8.0)),
        eye_line=0.5 + 0.12 * np.exp(-a / 6.0),
        eye_size=1.0 + 0.3 * np.exp(-a / 6.0),
        wrinkle_lines=4.0 * float(np.clip((a - 25.0) / 40.0, 0.0, 1.0)),
        wrinkle_depth=_sigmoid((a - 45.0) / 8.0),
        fold_depth=_sigmoid((a - 40.0) / 7.0),
        greying=_sigmoid((a - 55.0) / 6.0),
        recession=0.25 * float(np.clip((a - 30.0) / 40.0, 0.0, 1.0)) if male else 0.0,
        spot_rate=8.0 * _sigmoid((a - 60.0) / 7.0),
    )


@dataclass(frozen=True)
class Identity:
    """What a person keeps across their photos."""

    male: bool
    skin: np.ndarray
    hair: np.ndarray
    jaw: float


def random_identity(rng: np.random.Generator, male_fraction: float) -> Identity:
    """Sex, skin tone, natural hair colour and jaw width of a new person."""
    male = bool(rng.random() < male_fraction)
    return Identity(
        male=male,
        skin=SKIN_LIGHT + (SKIN_DARK - SKIN_LIGHT) * rng.beta(1.5, 2.5),
        hair=HAIR_COLOURS[rng.choice(len(HAIR_COLOURS), p=[0.35, 0.3, 0.15, 0.12, 0.08])],
        jaw=float(rng.uniform(0.9, 1.0) if male else rng.uniform(0.8, 0.9)),
    )


class _Canvas:
    """Pixel centres of a square image in face coordinates (unit = image side) under a pose."""

    def __init__(self, size: int, rng: np.random.Generator):
        angle = np.deg2rad(rng.uniform(-10.0, 10.0))
        scale = rng.uniform(1.15, 1.4)
        shift = rng.uniform(-0.05, 0.05, size=2)
        grid = (np.mgrid[0:size, 0:size][::-1] + 0.5) / size - 0.5  # (x, y)
        x, y = grid[0] - shift[0], grid[1] - shift[1]
        c, s = np.cos(angle), np.sin(angle)
        self.u = (c * x + s * y) / scale
        self.v = (-s * x + c * y) / scale
        self.pixel = 1.0 / (size * scale)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        """Anti-aliased filled ellipse."""
        radius = np.hypot((self.u - cx) / rx, (self.v - cy) / ry)
        return np.clip((1.0 - radius) * min(rx, ry) / self.pixel + 0.5, 0.0, 1.0)

    def line(self, a: Sequence[float], b: Sequence[float], half_width: float) -> np.ndarray:
        """Anti-aliased thick segment from ``a`` to ``b``."""
        dx, dy = b[0] - a[0], b[1] - a[1]
        pu, pv = self.u - a[0], self.v - a[1]
        t = np.clip((pu * dx + pv * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
        distance = np.hypot(pu - t * dx, pv - t * dy)
        return np.clip((half_width - distance) / self.pixel + 0.5, 0.0, 1.0)


def _paint(image: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    image += mask[..., None] * (np.asarray(colour) - image)


def render_face(age: float, person: Identity, size: int, rng: np.random.Generator) -> np.ndarray:
    """A noise-free RGB face of ``age`` years, float ``(size, size, 3)`` in [0, 1]."""
    traits = face_traits(age, person.male)
    canvas = _Canvas(size, rng)
    image = np.empty((size, size, 3))
    image[:] = rng.uniform(0.25, 0.8) * rng.uniform(0.85, 1.15, size=3)
    rx = 0.26 * person.jaw
    ry = 0.26 * traits.elongation * 0.85
    top, cy = -ry + 0.03, 0.03
    hair = person.hair + (GREY_HAIR - person.hair) * traits.greying
    hair_bottom = cy + 0.75 * ry if not person.male else cy - 0.05 * ry
    hairline = top + (0.28 - traits.recession) * 2 * ry
    bald = np.where(canvas.v < hairline, 1.0 - 4.0 * traits.recession, 1.0)
    halo = canvas.ellipse(0.0, cy - 0.02, rx + 0.04, ry + 0.04) * (canvas.v < hair_bottom)
    _paint(image, halo * bald, hair)
    head = canvas.ellipse(0.0, cy, rx, ry)
    _paint(image, head, person.skin)
    _paint(image, head * np.clip((hairline - canvas.v) / canvas.pixel, 0.0, 1.0), hair)
    eye_y = top + traits.eye_line * 2 * ry
    eye_r = 0.035 * traits.eye_size
    shade = person.skin * 0.55
    for side in (-1.0, 1.0):
        ex = side * 0.38 * rx
        _paint(image, canvas.ellipse(ex, eye_y, eye_r * 1.3, eye_r * 0.8), np.full(3, 0.97))
        _paint(image, canvas.ellipse(ex, eye_y, eye_r * 0.6, eye_r * 0.6), np.full(3, 0.1))
        brow = canvas.line((ex - 0.05, eye_y - 0.055), (ex + 0.05, eye_y - 0.06), 0.011)
        _paint(image, brow, hair * 0.85)
        for k in (-1.0, 0.0, 1.0):
            corner = (ex + side * 0.065, eye_y + 0.01 * k)
            end = (ex + side * 0.1, eye_y + 0.025 * k)
            _paint(image, canvas.line(corner, end, 0.005) * traits.fold_depth, shade)
    chin_span = top + 2 * ry - eye_y
    nose_y, mouth_y = eye_y + 0.45 * chin_span, eye_y + 0.68 * chin_span
    _paint(image, canvas.line((0.0, eye_y + 0.03), (0.0, nose_y), 0.012), person.skin * 0.8)
    _paint(image, canvas.ellipse(0.0, mouth_y, 0.09 * person.jaw, 0.017), np.array([0.6, 0.2, 0.2]))
    for side in (-1.0, 1.0):
        fold = canvas.line((side * 0.05, nose_y), (side * 0.1, mouth_y + 0.01), 0.006)
        _paint(image, fold * traits.fold_depth, shade)
    forehead = np.linspace(hairline + 0.04, eye_y - 0.09, 4)
    for k, y in enumerate(forehead):
        depth = traits.wrinkle_depth * float(np.clip(traits.wrinkle_lines - k, 0.0, 1.0))
        if depth > 0:
            line = canvas.line((-0.55 * rx, y), (0.55 * rx, y), 0.005) * head
            _paint(image, line * depth, shade)
    for _ in range(rng.poisson(traits.spot_rate)):
        sx, sy = rng.uniform(-0.7, 0.7) * rx, rng.uniform(eye_y - 0.08, mouth_y + 0.05)
        _paint(image, canvas.ellipse(sx, sy, 0.012, 0.012) * head, person.skin * 0.6)
    return image


def photograph(image: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Illumination gain, colour cast and noise; an 8-bit Pillow RGB image."""
    image = image * rng.uniform(0.75, 1.25) * rng.uniform(0.92, 1.08, size=3)
    image = image + rng.normal(0.0, rng.uniform(0.01, 0.03), size=image.shape)
    return Image.fromarray(np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8))


def dir_balanced_split(ages: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """DIR-style split labels: per age, ``min(count // 3, cap)`` to val and as many to test."""
    split = np.full(len(ages), "train", dtype=object)
    for age in np.unique(ages):
        members = rng.permutation(np.flatnonzero(ages == age))
        k = min(len(members) // 3, cap)
        split[members[:k]] = "val"
        split[members[k : 2 * k]] = "test"
    return split


def _check(n: int, image_size: int) -> None:
    if n < 3:
        raise ValueError(f"a face phantom needs n >= 3 images, got {n}")
    if image_size < 16:
        raise ValueError(f"phantom image_size must be at least 16, got {image_size}")


def _recorded_ages(
    truth: np.ndarray, dataset: str, rng: np.random.Generator, oldest: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(true, recorded)`` ages in [1, ``oldest``]: the face shows the truth; the label is
    its recorded age (:mod:`.label_noise`)."""
    truth = np.clip(truth, 1.0, oldest)
    return truth, np.clip(label_noise(dataset).record(truth, rng), 1, oldest).astype(int)


@dataclass(frozen=True)
class _People:
    """Each image's true and recorded age and its person (an index into ``identities``)."""

    truth: np.ndarray
    ages: np.ndarray
    identities: list[Identity]
    person_of: np.ndarray


def _draw_people(
    truth: np.ndarray,
    dataset: str,
    rng: np.random.Generator,
    *,
    oldest: int,
    male_fraction: float,
    per_person: int,
) -> _People:
    """The recorded ages of ``truth`` (:func:`_recorded_ages`) and about ``per_person`` images
    per person, drawn from ``rng`` in that order."""
    truth, ages = _recorded_ages(truth, dataset, rng, oldest)
    n = len(truth)
    identities = [random_identity(rng, male_fraction) for _ in range(max(1, n // per_person))]
    return _People(truth, ages, identities, rng.integers(0, len(identities), size=n))


def _write_faces(
    out: Path,
    people: _People,
    paths: list[str],
    split: np.ndarray,
    csv_name: str,
    *,
    image_size: int,
    seed: int,
) -> Path:
    """Render image ``i`` of ``people`` at ``paths[i]`` under ``out`` (its own ``[seed, i]``
    generator) and write ``csv_name`` (age,path,split); return ``out``."""
    out = Path(out)
    for i, relative in enumerate(paths):
        item_rng = np.random.default_rng([seed, i])
        person = people.identities[people.person_of[i]]
        face = render_face(people.truth[i], person, image_size, item_rng)
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        photograph(face, item_rng).save(path, quality=int(item_rng.integers(70, 96)))
    frame = pd.DataFrame({"age": people.ages, "path": paths, "split": split})
    frame.to_csv(out / csv_name, index=False)
    return out


def write_agedb(out: Path, *, n: int = 800, image_size: int = 64, seed: int = 0) -> Path:
    """Write an AgeDB-DIR-layout face phantom of ``n`` JPEGs under ``out``; return ``out``.

    Files ``AgeDB/<id>_<Name>_<age>_<m|f>.jpg`` and ``agedb.csv`` (age,path,split); about 29
    images per person as in AgeDB (16,488 images of 568 people).
    """
    _check(n, image_size)
    rng = np.random.default_rng(seed)
    child = rng.random(n) < 0.07
    truth = np.where(child, rng.uniform(1, 20, size=n), rng.normal(50.0, 17.0, size=n))
    people = _draw_people(truth, "agedb", rng, oldest=101, male_fraction=0.594, per_person=29)
    ages = people.ages
    paths = [
        f"AgeDB/{i}_PhantomPerson{p:04d}_{ages[i]}_{'m' if people.identities[p].male else 'f'}.jpg"
        for i, p in enumerate(people.person_of)
    ]
    split = dir_balanced_split(ages, max(1, round(30 * n / 16_488)), rng)
    return _write_faces(out, people, paths, split, "agedb.csv", image_size=image_size, seed=seed)


def write_imdbwiki(out: Path, *, n: int = 800, image_size: int = 64, seed: int = 0) -> Path:
    """Write an IMDB-WIKI-DIR-layout face phantom of ``n`` JPEGs under ``out``; return ``out``.

    About 88 % ``imdb_crop/<nn>/nm<person>_rm<photo>_<birth>_<year>.jpg`` and 12 %
    ``wiki_crop/<nn>/<id>_<birth>_<year>.jpg`` (the shares of the real collection), and
    ``imdb_wiki.csv`` (age,path,split).
    """
    _check(n, image_size)
    rng = np.random.default_rng(seed)
    child = rng.random(n) < 0.03
    truth = np.where(child, rng.uniform(1, 17, size=n), 18.0 + rng.gamma(2.2, 9.0, size=n))
    people = _draw_people(truth, "imdbwiki", rng, oldest=100, male_fraction=0.6, per_person=10)
    ages, person_of = people.ages, people.person_of
    years = rng.integers(1961, 2016, size=n)
    paths = []
    for i in range(n):
        birth = f"{years[i] - ages[i]}-{rng.integers(1, 13)}-{rng.integers(1, 29)}"
        folder = f"{int(rng.integers(0, 100)):02d}"
        if rng.random() < 0.88:
            paths.append(
                f"imdb_crop/{folder}/nm{person_of[i]:07d}_rm{i:09d}_{birth}_{years[i]}.jpg"
            )
        else:
            paths.append(f"wiki_crop/{folder}/{i}_{birth}_{years[i]}.jpg")
    split = dir_balanced_split(ages, max(1, round(150 * n / 213_553)), rng)
    return _write_faces(
        out, people, paths, split, "imdb_wiki.csv", image_size=image_size, seed=seed
    )
