"""Small datasets written by the real libraries (pandas, PIL, OpenCV, nibabel, numpy, scipy,
openpyxl), and the check every bad-input test makes: the error type, a one-line message naming
what it must name, and the dataset folder byte-for-byte as it was.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from PIL import Image


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``root``: relative path -> (size, mtime in ns, SHA-256)."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            stat = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            files[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns, digest)
    return files


def refused(root: Path, error: type[Exception], build: Callable[[], object], *names: object) -> str:
    """Run ``build``; assert it raises ``error`` with a one-line message holding every one of
    ``names`` (paths, rows, ids) and that nothing under ``root`` changed. The message."""
    before = snapshot(root)
    with pytest.raises(error) as caught:
        build()
    message = str(caught.value)
    assert "\n" not in message, message
    for name in names:
        assert str(name) in message, f"{name!r} not in: {message}"
    assert snapshot(root) == before, "the dataset folder changed"
    return message


def png(path: Path, size: int = 8, value: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size), value, np.uint8)).save(path)
    return path


def jpeg(path: Path, size: int = 8) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), 120, np.uint8)).save(path, quality=90)
    return path


def csv(path: Path, rows: list[dict], sep: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False, sep=sep)
    return path


def nifti(path: Path, data: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.asarray(data, np.float32), np.eye(4)), str(path))
    return path


def avi(path: Path, frames: int, size: int = 16) -> Path:
    """An MJPG AVI of ``frames`` grey frames through ``cv2.VideoWriter``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 50, (size, size))
    assert writer.isOpened()
    for k in range(frames):
        writer.write(np.full((size, size, 3), 10 * k % 250, np.uint8))
    writer.release()
    return path


def rsna(root: Path, rows: list[tuple[str, object, object]]) -> Path:
    """The Kaggle RSNA layout: ``(id, boneage, male)`` rows and one PNG per distinct id."""
    csv(
        root / "boneage-training-dataset.csv",
        [dict(zip(("id", "boneage", "male"), r, strict=True)) for r in rows],
    )
    folder = root / "boneage-training-dataset" / "boneage-training-dataset"
    for row in rows:
        png(folder / f"{str(row[0]).split('.')[0]}.png")
    return root


def echonet(root: Path, rows: list[dict], frames: int = 6) -> Path:
    """``FileList.csv`` with ``rows`` (FileName, EF, Split, ...) and an AVI per plain name."""
    csv(root / "FileList.csv", rows)
    (root / "Videos").mkdir(parents=True, exist_ok=True)
    for row in rows:
        name = str(row["FileName"])
        if "/" not in name and not name.startswith(".."):
            avi(root / "Videos" / (name if name.endswith(".avi") else f"{name}.avi"), frames)
    return root


def agedb(root: Path, rows: list[dict], csv_name: str = "agedb.csv") -> Path:
    """A DIR split CSV (age, path, split) and a JPEG for every path inside ``root``."""
    csv(root / csv_name, rows)
    for row in rows:
        target = Path(os.path.normpath(root / row["path"]))
        if root in target.parents:
            jpeg(target)
    return root


def ukb(root: Path, ages: dict[str, object], sexes: dict[str, int] | None = None) -> Path:
    """``ukb.csv`` (eid, 21003-2.0[, 31-0.0]) and ``<eid>/T1/T1_brain_to_MNI.nii.gz``."""
    rows = []
    for eid, age in ages.items():
        row = {"eid": eid, "21003-2.0": age}
        if sexes is not None:
            row["31-0.0"] = sexes[eid]
        rows.append(row)
    csv(root / "ukb.csv", rows)
    rng = np.random.default_rng(0)
    for eid in dict.fromkeys(str(e) for e in ages):
        nifti(root / eid / "T1" / "T1_brain_to_MNI.nii.gz", rng.random((6, 6, 6)) + 1)
    return root


UKB_FAST = {"spacing": None, "crop": None, "val": 0, "test": 0}


def a4(root: Path, suvr: dict[str, object]) -> Path:
    """``imaging_SUVR_amyloid.csv`` (Composite_Summary rows of visit 2) and the PET files."""
    rows = [
        {"BID": bid, "VISCODE": 2, "brain_region": "Composite_Summary", "suvr_cer": value}
        for bid, value in suvr.items()
    ]
    csv(root / "imaging_SUVR_amyloid.csv", rows)
    for bid in suvr:
        path = root / "NII" / bid / "002" / "FBP" / f"A4_PET_FBP_{bid}_002.nii.gz"
        nifti(path, np.ones((6, 6, 6, 2)))
    return root


A4_FAST = {"spacing": None, "crop": None, "val": 0, "test": 0}

NDA_DESCRIPTIONS = {
    "src_subject_id": "Lab issued subject id",
    "interview_age": "Age in months at the time of the interview",
    "sex": "Sex of subject at birth",
}


def hcp(
    root: Path,
    subjects: dict[str, object],
    *,
    frames: int = 10,
    description: bool = True,
    write: bool = True,
) -> Path:
    """``ndar_subject01.txt`` (tab-separated, description row) and ``<id>_ts.npy`` (T x 4)."""
    rows = [{"src_subject_id": s, "interview_age": m, "sex": "F"} for s, m in subjects.items()]
    if description:
        rows.insert(0, NDA_DESCRIPTIONS)
    csv(root / "ndar_subject01.txt", rows, sep="\t")
    rng = np.random.default_rng(1)
    for subject in subjects:
        if write and "/" not in subject:
            np.save(root / f"{subject}_ts.npy", rng.standard_normal((frames, 4)))
    return root


HCP_FAST = {"n_rois": 4, "val": 0, "test": 0}


def camus(root: Path, efs: dict[str, object], splits: dict[str, list[str]] | None = None) -> Path:
    """The 2023 NIfTI release: ``Info_4CH.cfg`` and a ``(x, y, t)`` half sequence per patient,
    and, with ``splits``, ``database_split/subgroup_<word>.txt``."""
    for patient, ef in efs.items():
        folder = root / "database_nifti" / patient
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Info_4CH.cfg").write_text(f"ED: 1\nES: 4\nNbFrame: 4\nSex: F\nEF: {ef}\n")
        nifti(folder / f"{patient}_4CH_half_sequence.nii.gz", np.full((8, 8, 4), 50.0))
    if splits is not None:
        (root / "database_split").mkdir(exist_ok=True)
        for word, names in splits.items():
            (root / "database_split" / f"subgroup_{word}.txt").write_text("\n".join(names) + "\n")
    return root


CAMUS_FAST = {"size": 8, "length": 2, "period": 1, "val": 0, "test": 0}
