"""UCI Airfoil Self-Noise (UCI dataset 291; Brooks, Pope and Marcolini, NASA RP-1218, 1989).

1503 NASA wind-tunnel measurements: five inputs (frequency in Hz, angle of attack in degrees,
chord length in m, free-stream velocity in m/s, suction-side displacement thickness in m) and
the scaled sound pressure level in dB (103.38 to 140.987) as the target. Mixup Your Own Pairs uses
it as "UCI-airfoil" (§4, Table 5; App. B Table 12: 1,203 train, 150 val, 150 test; bin size 1).

There is no official split. C-Mixup (Yao et al. 2022), whose MLP Mixup Your Own Pairs adopts,
shuffles with an unseeded ``np.random.permutation``; this loader instead uses
:func:`supremix.data.splits.seeded_split` with 150 val and 150 test rows, which reproduces
Mixup Your Own Pairs' sizes and never changes for a given ``seed``.

The file is ``airfoil_self_noise.dat``: whitespace-separated, six columns, no header in the UCI
original (copies that add a header line, or LF line endings, are read too). See
data_cards/airfoil.md.
"""

from __future__ import annotations

import hashlib
import io
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .base import RegressionDataset, Transform, check_choice, check_split
from .cache import default_cache_dir
from .errors import DatasetContentError, DatasetLayoutError
from .generic import NORMALIZE_CHOICES, feature_scaling
from .splits import seeded_split

NAME = "airfoil"
FILENAME = "airfoil_self_noise.dat"
SHA256 = "74c75fd71783f1e6b71f8a622b993dc592897a97cd689c5090a07147a1b097b3"
# SHA-256 of the UCI rows in file order, fields joined by one tab, "\n" after every row: the
# same for copies that only add a header line, use LF line endings or other whitespace
ROWS_SHA256 = "10ee06e6cfb27dae6b44213d421d217012fb1f9b697592e73a4e4016b52d425f"
URLS = (
    "https://archive.ics.uci.edu/ml/machine-learning-databases/00291/airfoil_self_noise.dat",
    "https://archive.ics.uci.edu/static/public/291/airfoil+self+noise.zip",
)
FEATURES = (
    "frequency_hz",
    "angle_of_attack_deg",
    "chord_length_m",
    "free_stream_velocity_m_per_s",
    "suction_side_displacement_thickness_m",
)
TARGET = "scaled_sound_pressure_level_db"
VAL_SIZE = TEST_SIZE = 150  # Mixup Your Own Pairs' App. B, Table 12

Opener = Callable[..., AbstractContextManager[Any]]


def read_airfoil(path: str | Path) -> np.ndarray:
    """The table of ``path`` as an ``(n, 6)`` float64 array (five inputs, then the target).

    Splits on any whitespace, ignores ``\\r`` and blank lines, and skips a first line that is
    not numeric (a header added by some copies).
    """
    path = Path(path)
    rows: list[list[float]] = []
    lines = path.read_bytes().decode("latin-1").replace("\r", "").split("\n")
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            values = [float(f) for f in fields]
        except ValueError:
            if not rows and number == 1:
                continue
            raise DatasetContentError(NAME, f"line {number} of {path} is not numeric") from None
        if len(values) != 6:
            raise DatasetContentError(
                NAME, f"line {number} of {path} has {len(values)} fields, expected 6"
            )
        rows.append(values)
    if not rows:
        raise DatasetContentError(NAME, f"{path} holds no data rows")
    return np.asarray(rows, dtype=np.float64)


def rows_digest(path: str | Path) -> str:
    """SHA-256 of the numeric rows of ``path`` as written (fields joined by a tab, one row per
    line): what :data:`ROWS_SHA256` is for UCI's file, whatever header or line endings a copy
    has."""
    rows: list[str] = []
    for line in Path(path).read_bytes().decode("latin-1").replace("\r", "").split("\n"):
        fields = line.split()
        if not fields or (not rows and not _numeric(fields)):
            continue  # blank lines; a header line before the first row
        rows.append("\t".join(fields) + "\n")
    return hashlib.sha256("".join(rows).encode("latin-1")).hexdigest()


def _numeric(fields: list[str]) -> bool:
    try:
        [float(f) for f in fields]
    except ValueError:
        return False
    return True


def verify_airfoil(path: str | Path) -> None:
    """Refuse a local file whose rows differ from UCI's (a modified, shuffled or truncated
    copy would change the seeded split and every number compared with the paper).

    Passes when the bytes have SHA-256 :data:`SHA256` or the rows have :data:`ROWS_SHA256`
    (copies with a header line or other line endings); otherwise a
    :class:`DatasetContentError` names the file, its digest and UCI's.
    """
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest == SHA256 or rows_digest(path) == ROWS_SHA256:
        return
    raise DatasetContentError(
        NAME,
        f"{path} has SHA-256 {digest} and its rows differ from UCI's file (SHA-256 {SHA256}, "
        f"rows {ROWS_SHA256}); expected the unmodified UCI dataset 291 (delete the file to "
        "download it again), or pass verify=False to load a modified copy",
    )


def _payload(url: str, data: bytes) -> bytes:
    """The ``.dat`` bytes of a download: the body itself, or the member of a zip archive."""
    if not url.endswith(".zip"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [n for n in archive.namelist() if n.endswith(FILENAME)]
        if not members:
            raise DatasetContentError(NAME, f"the archive at {url} has no {FILENAME}")
        return archive.read(members[0])


def download_airfoil(
    folder: str | Path,
    *,
    urls: Sequence[str] = URLS,
    opener: Opener = urllib.request.urlopen,
    timeout: float = 60.0,
) -> Path:
    """Download ``airfoil_self_noise.dat`` from UCI into ``folder`` and return its path.

    The URLs are tried in order until one answers. The bytes must have SHA-256 :data:`SHA256`,
    else :class:`DatasetContentError` is raised and nothing is written. The file appears
    atomically (written to a temporary name, then renamed).
    """
    folder = Path(folder)
    failures = []
    for url in urls:
        try:
            with opener(url, timeout=timeout) as response:
                data = _payload(url, response.read())
        except (urllib.error.URLError, OSError, zipfile.BadZipFile) as error:
            failures.append(f"{url}: {error}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != SHA256:
            raise DatasetContentError(
                NAME, f"the file downloaded from {url} has SHA-256 {digest}, expected {SHA256}"
            )
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / FILENAME
        temporary = folder / f".{FILENAME}.{os.getpid()}.tmp"
        try:
            temporary.write_bytes(data)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return target
    raise DatasetLayoutError(
        NAME,
        f"{FILENAME} is not in {folder} and the download failed ({'; '.join(failures)})",
        expected=f"{folder / FILENAME}, from UCI dataset 291",
    )


def locate_airfoil(root: str | Path | None = None, *, download: bool = True) -> Path:
    """The path of ``airfoil_self_noise.dat``.

    Looks in ``root`` (a folder, or the file itself), else in ``$SUPREMIX_DATA``, else in
    ``~/.cache/supremix/data`` (under ``$SUPREMIX_CACHE`` when set); when the file is absent
    and ``download`` is true, downloads it there (:func:`download_airfoil`).
    """
    if root is not None and Path(root).is_file():
        return Path(root)
    if root is not None:
        folder = Path(root)
    elif os.environ.get("SUPREMIX_DATA"):
        folder = Path(os.environ["SUPREMIX_DATA"]).expanduser()
    else:
        folder = default_cache_dir() / "data"
    if (folder / FILENAME).is_file():
        return folder / FILENAME
    if download:
        return download_airfoil(folder)
    raise DatasetLayoutError(
        NAME, f"{FILENAME} is not in {folder}", expected=f"{folder / FILENAME} (UCI dataset 291)"
    )


class Airfoil(RegressionDataset):
    """UCI airfoil: ``x`` the five inputs (float32), ``y`` the sound pressure level in dB.

    ``id`` is the 0-based row of the file. Split: seeded, 150 val and 150 test rows by default
    (Mixup Your Own Pairs, Table 12). ``normalize`` (``"zscore"`` or ``"minmax"``) scales each input
    with statistics of the train split, whatever ``split`` is loaded. ``verify`` (default) refuses a
    file whose rows differ from UCI's (:func:`verify_airfoil`).
    """

    name = NAME
    modality = "tabular"
    feature_names = FEATURES

    def __init__(
        self,
        root: str | Path | None = None,
        split: str = "train",
        *,
        normalize: str | None = None,
        val: float | int = VAL_SIZE,
        test: float | int = TEST_SIZE,
        seed: int = 0,
        download: bool = True,
        verify: bool = True,
        transform: Transform | None = None,
    ):
        check_choice(NAME, "normalize", normalize, NORMALIZE_CHOICES)
        self.path = locate_airfoil(root, download=download)
        table = read_airfoil(self.path)
        if verify:
            verify_airfoil(self.path)
        ids = [str(i) for i in range(len(table))]
        parts = seeded_split(ids, val=val, test=test, seed=seed)
        rows = parts[check_split(NAME, split)]
        super().__init__([ids[i] for i in rows], table[rows, 5], split=split, transform=transform)
        features = table[:, :5]
        if normalize is not None:
            shift, scale = feature_scaling(features[parts["train"]], normalize)
            features = (features - shift) / scale
        self.features = features[rows].astype(np.float32)
        self.options = {"normalize": normalize, "val": val, "test": test, "seed": seed}

    def load(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.features[index].copy())

    def source_file(self, index: int) -> Path:
        return self.path
