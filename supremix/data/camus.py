"""CAMUS: 2-D echocardiography half-cycle sequences -> ejection fraction (external validation).

The AdaCon paper's §IV-B.7 / Table XIII evaluates an EchoNet-trained model on the 4-chamber
sequences of CAMUS, resized to 112x112, "with the same parameters and data processing pipeline":
items are shaped like EchoNet clips, ``(3, length, H, W)`` with the grey sequence copied to the
three channels, and :func:`supremix.data.echonet.clip_options` carries EchoNet's clip length,
period, normalisation and resolution over.

Both releases are read (datasets.md §4; data_cards/camus.md)::

    2019 (MHD/RAW)                               2023 "CAMUS_public" (NIfTI)
    <root>/training/patientXXXX/                 <root>/database_nifti/patientXXXX/
        patientXXXX_4CH_half_sequence.mhd/.raw       patientXXXX_4CH_half_sequence.nii.gz
        (or the older _sequence.mhd/.raw)            Info_2CH.cfg, Info_4CH.cfg (EF: ...)
        Info_2CH.cfg, Info_4CH.cfg (LVef: ...)   <root>/database_split/
    <root>/listSubGroups/                            subgroup_{training,validation,testing}.txt
        subGroup{k}_{training,validation,testing}.txt

The official split files are used when present (2019: fold ``k``); otherwise a seeded patient
split. ``all_patients=True`` keeps every labelled patient whatever ``split`` says: the Table XIII
protocol (all 450 labelled patients of the 2019 training set).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .base import Transform, check_choice, check_split
from .checks import check_label_range
from .echonet import ClipOptions, EchoVideoDataset
from .errors import DatasetContentError, DatasetLayoutError, list_some
from .paths import check_plain_names
from .splits import seeded_split
from .volumeio import read_key_values, read_mhd, read_nifti

if TYPE_CHECKING:
    from typing_extensions import Unpack

SPLIT_WORDS = {"train": "training", "val": "validation", "test": "testing"}
# label name -> keys accepted in Info_<view>.cfg (2019 release, 2023 release)
TARGET_KEYS = {"EF": ("LVef", "EF"), "EDV": ("LVedv", "EDV"), "ESV": ("LVesv", "ESV")}
SEX_GROUPS = {"F": 0, "M": 1}
#: Frame size unless told otherwise: the AdaCon paper resizes every sequence to 112 x 112.
FRAME_SIZE = 112


def read_cfg(path: str | Path) -> dict[str, str]:
    """An ``Info_<view>.cfg`` file as a dict: one ``Key: value`` per line."""
    return read_key_values(path, ":")


def read_patient_list(path: Path, dataset: str = "camus") -> list[str]:
    """Patient names of a split file, one per line (bare numbers become ``patientXXXX``);
    names that are not plain folder names (``../x``, absolute paths) raise."""
    names = []
    for token in path.read_text(encoding="latin-1").split():
        names.append(f"patient{int(token):04d}" if token.isdigit() else token)
    return check_plain_names(names, dataset=dataset, what="patient name", listed_in=path)


class CAMUS(EchoVideoDataset):
    """CAMUS (Leclerc et al., IEEE TMI 2019), either release, EF of one view.

    Args:
        root: folder holding ``training/`` (2019) or ``database_nifti/`` (2023).
        split: ``train``/``val``/``test`` of the official split files (or of a seeded split).
        view: ``"4CH"`` (the AdaCon paper) or ``"2CH"``.
        target: ``"EF"`` (cfg key ``LVef`` in 2019, ``EF`` in 2023), ``"EDV"`` or ``"ESV"``.
        fold: which ``listSubGroups/subGroup{fold}_*`` split of the 2019 release (1-10).
        all_patients: every labelled patient, whatever ``split`` (the AdaCon paper, Table XIII).
        length, period, clips, pad, augment, mean, std: as :class:`EchoNetDynamic`.
        size: frame size after resizing, default 112 (the AdaCon paper: "resize all sequences to
            112 x 112"); use EchoNet's resolution, see :func:`~supremix.data.echonet.clip_options`.
        transform: applied to the prepared clip.
        seed, val, test: the seeded patient split used when no split file exists.
    """

    name = "camus"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        view: str = "4CH",
        target: str = "EF",
        fold: int = 1,
        all_patients: bool = False,
        transform: Transform | None = None,
        seed: int = 0,
        val: float | int = 0.1,
        test: float | int = 0.1,
        **clip: Unpack[ClipOptions],
    ):
        check_split(self.name, split)
        if view not in ("2CH", "4CH"):
            raise ValueError(f"camus: unknown view {view!r}; expected 2CH or 4CH")
        check_choice(self.name, "target", target, list(TARGET_KEYS))
        self.root, self.view = Path(root), view
        self.release, patient_dir = self._detect_release()
        patients = sorted(p.name for p in patient_dir.iterdir() if p.name.startswith("patient"))
        if not patients:
            raise DatasetLayoutError(
                self.name, f"no patientXXXX folder in {patient_dir}", "patient0001 ... folders"
            )
        if all_patients:
            self.split_source, chosen = "all", patients
        else:
            chosen = self._split_patients(split, patients, fold, seed, val, test)
        infos = {p: self._info(patient_dir / p) for p in chosen}
        keys = TARGET_KEYS[target]
        unlabelled = [p for p, info in infos.items() if not any(k in info for k in keys)]
        if unlabelled:
            raise DatasetContentError(
                self.name,
                f"Info_{view}.cfg of {', '.join(unlabelled[:5])} has no {' or '.join(keys)} "
                f"({len(unlabelled)} patients)",
            )
        labels = self._labels(infos, patient_dir, keys)
        check_label_range(
            self.name,
            f"camus/{target}",
            labels,
            chosen,
            f"Info_{view}.cfg files under {patient_dir}",
        )
        sexes = [infos[p].get("Sex", "") for p in chosen]
        groups = [SEX_GROUPS[s] for s in sexes] if all(s in SEX_GROUPS for s in sexes) else None
        self.files = [self._sequence_file(patient_dir / p) for p in chosen]
        self.quality = [infos[p].get("ImageQuality", "") for p in chosen]
        self._reverse = [self._ed_after_es(infos[p]) for p in chosen]
        super().__init__(chosen, labels, split=split, groups=groups, transform=transform)
        self.target, self.seed = target, seed
        clip.setdefault("size", FRAME_SIZE)
        self._init_video(**clip)
        self.options["view"] = view

    def _labels(
        self, infos: dict[str, dict[str, str]], patient_dir: Path, keys: tuple[str, ...]
    ) -> list[float]:
        """The label of every patient, or a :class:`DatasetContentError` naming the Info files
        whose value is not a finite number."""
        labels, bad = [], []
        for patient, info in infos.items():
            key = next(k for k in keys if k in info)
            try:
                value = float(info[key])
            except ValueError:
                value = float("nan")
            if not np.isfinite(value):
                bad.append(
                    f"{patient_dir / patient / f'Info_{self.view}.cfg'} ({key}: {info[key]!r})"
                )
            labels.append(value)
        if bad:
            raise DatasetContentError(
                self.name,
                f"{len(bad)} Info file(s) hold a label that is not a finite number: "
                f"{list_some(bad, 5)}; expected e.g. '{keys[0]}: 55.3'",
            )
        return labels

    def _detect_release(self) -> tuple[str, Path]:
        if (self.root / "database_nifti").is_dir():
            return "2023", self.root / "database_nifti"
        if (self.root / "training").is_dir():
            return "2019", self.root / "training"
        raise DatasetLayoutError(
            self.name,
            f"neither database_nifti/ nor training/ in {self.root}",
            "<root>/database_nifti/patientXXXX (2023 NIfTI release) or "
            "<root>/training/patientXXXX (2019 MHD release)",
        )

    def _split_files(self, fold: int) -> dict[str, Path]:
        if self.release == "2023":
            folder, stem = self.root / "database_split", "subgroup_{}.txt"
        else:
            folder, stem = self.root / "listSubGroups", f"subGroup{fold}_{{}}.txt"
        return {s: folder / stem.format(word) for s, word in SPLIT_WORDS.items()}

    def _split_patients(
        self,
        split: str,
        patients: list[str],
        fold: int,
        seed: int,
        val: float | int,
        test: float | int,
    ) -> list[str]:
        files = self._split_files(fold)
        present = [f.is_file() for f in files.values()]
        if all(present):
            self.split_source = "official"
            lists = {s: read_patient_list(f, self.name) for s, f in files.items()}
            self._check_disjoint(lists, files)
            chosen = lists[split]
            absent = sorted(set(chosen) - set(patients))
            if absent:
                raise DatasetLayoutError(
                    self.name,
                    f"{files[split]} lists {len(absent)} patients without a folder: "
                    f"{', '.join(absent[:5])}",
                    "one patient folder per listed patient",
                )
            return sorted(chosen)
        if any(present):
            lacking = [str(f) for f, ok in zip(files.values(), present, strict=True) if not ok]
            raise DatasetLayoutError(
                self.name, f"incomplete split files: {', '.join(lacking)} missing", "all three"
            )
        self.split_source = "seeded"
        parts = seeded_split(patients, val=val, test=test, seed=seed)
        return [patients[i] for i in parts[split]]

    def _check_disjoint(self, lists: dict[str, list[str]], files: dict[str, Path]) -> None:
        """A patient in two split files would be trained and tested on: refused."""
        owners: dict[str, list[str]] = {}
        for split, names in lists.items():
            for name in dict.fromkeys(names):
                owners.setdefault(name, []).append(str(files[split]))
        shared = [f"{n} ({' and '.join(f)})" for n, f in owners.items() if len(f) > 1]
        if shared:
            raise DatasetContentError(
                self.name,
                f"{len(shared)} patient(s) listed in more than one split file: "
                f"{list_some(shared, 5)}; expected each patient in one split",
            )

    def _info(self, folder: Path) -> dict[str, str]:
        path = folder / f"Info_{self.view}.cfg"
        if not path.is_file():
            raise DatasetLayoutError(self.name, f"{path} not found", f"Info_{self.view}.cfg")
        return read_cfg(path)

    def _sequence_file(self, folder: Path) -> Path:
        stem = f"{folder.name}_{self.view}"
        if self.release == "2023":
            candidates = [f"{stem}_half_sequence.nii.gz", f"{stem}_half_sequence.nii"]
        else:
            candidates = [f"{stem}_half_sequence.mhd", f"{stem}_sequence.mhd"]
        for name in candidates:
            if (folder / name).is_file():
                return folder / name
        raise DatasetLayoutError(
            self.name, f"no {self.view} sequence in {folder}", " or ".join(candidates)
        )

    @staticmethod
    def _ed_after_es(info: dict[str, str]) -> bool:
        try:
            return int(info["ED"]) > int(info["ES"])
        except (KeyError, ValueError):
            return False

    def source_file(self, index: int) -> Path:
        return self.files[index]

    def raw_video(self, index: int) -> torch.Tensor:
        """The half sequence as ``(3, T, H, W)`` on 0-255, ED first, resized to ``size``."""
        path = self.files[index]
        try:
            if path.suffix == ".mhd":
                frames, _ = read_mhd(path)  # (T, H, W)
            else:
                data, _ = read_nifti(path)  # ITK writes (x, y, t)
                frames = np.squeeze(data).transpose(2, 1, 0)
        except (ValueError, OSError, zlib.error) as error:
            raise DatasetContentError(
                self.name,
                f"unreadable sequence {path}: {error}; expected a complete MetaImage "
                "(.mhd + .raw) or NIfTI half sequence",
            ) from error
        if frames.ndim != 3:
            raise DatasetContentError(
                self.name, f"{path} holds an array of shape {frames.shape}; expected (T, H, W)"
            )
        if self._reverse[index]:
            frames = frames[::-1]
        video = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))[None]
        return self._resized(video).expand(3, -1, -1, -1).contiguous()
