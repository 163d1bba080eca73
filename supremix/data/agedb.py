"""AgeDB-DIR and IMDB-WIKI-DIR face-age benchmarks (Mixup Your Own Pairs, §4 and App. B.1.1-B.1.2).

Both use the split files of the DIR benchmark (Yang et al. 2021, repository
YyzHarry/imbalanced-regression; data_cards/agedb.md and data_cards/imdbwiki.md)::

    <root>/agedb.csv        age,path,split     (IMDB-WIKI-DIR: <root>/imdb_wiki.csv)
    <root>/<path>           e.g. AgeDB/11706_OliviaHussey_31_f.jpg,
                            imdb_crop/01/nm0000001_rm124825600_1899-5-10_1968.jpg

AgeDB-DIR: 12,208 / 2,140 / 2,140 images, val and test balanced over age; IMDB-WIKI-DIR:
191,509 / 11,022 / 11,022. Preprocessing as in Mixup Your Own Pairs' App. B.1: RGB, resized to
224x224, values in [0, 1] (normalisation and augmentation belong to ``transform``).

Items: ``x`` ``(3, H, W)``; ``y`` age in years; ``id`` the CSV ``path``; ``group`` (AgeDB only)
1 male, 0 female, from the file name's ``_m``/``_f`` suffix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import SPLITS, Transform, check_split
from .checks import check_label_range, one_row_per_id
from .errors import DatasetContentError, DatasetLayoutError, list_some
from .imageio import ImageFilesDataset, as_size
from .paths import resolve_entries, table_row
from .tables import parse_label_numbers, read_label_table

DIR_COLUMNS = {"age": ("age",), "path": ("path",), "split": ("split",)}
GENDER_SUFFIX = {"m": 1, "f": 0}


def gender_from_filename(path: str) -> int | None:
    """AgeDB gender from ``<id>_<Name>_<age>_<gender>.jpg``: 1 for ``m``, 0 for ``f``."""
    return GENDER_SUFFIX.get(Path(path).stem.rsplit("_", 1)[-1].lower())


class _DIRFaces(ImageFilesDataset):
    """Shared reader of the DIR split CSV (``age,path,split``) and its JPEGs, loaded as RGB
    ``(3, H, W)`` in [0, 1], bilinearly resized."""

    modality = "image2d"
    image_mode = "RGB"
    csv_name = ""
    has_gender = False

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        image_size: int | Sequence[int] = 224,
        transform: Transform | None = None,
        seed: int = 0,
    ):
        self.root = Path(root)
        split = check_split(self.name, split)
        self.image_size = as_size(image_size, self.name)
        self.seed = seed
        source = self.root / self.csv_name
        table = read_label_table(source, self.name, DIR_COLUMNS)
        table["split"] = table["split"].str.lower()
        unknown = sorted(set(table["split"]) - set(SPLITS))
        if unknown:
            raise DatasetContentError(
                self.name,
                f"column 'split' of {source} has values {unknown}; expected train, val, test",
            )
        resolved = resolve_entries(
            self.root,
            table["path"].tolist(),
            dataset=self.name,
            listed_in=source,
            rows=[table_row(i) for i in table.index],
        )
        table["path"] = [p.relative_to(self.root).as_posix() for p in resolved]
        table = one_row_per_id(table, "path", ["age", "split"], dataset=self.name, source=source)
        ages = parse_label_numbers(
            table["age"], dataset=self.name, source=source, column="age", ids=table["path"].tolist()
        )
        check_label_range(self.name, f"{self.name}/age", ages, table["path"].tolist(), source)
        chosen = (table["split"] == split).to_numpy()
        relative = table["path"][chosen].tolist()
        self.paths = [self.root / p for p in relative]
        self._check_images_exist(source)
        groups = self._genders(relative, source) if self.has_gender else None
        super().__init__(
            relative,
            ages[chosen],
            split=split,
            groups=groups,
            transform=transform,
        )
        self.options: dict[str, Any] = {"image_size": self.image_size}

    def _check_images_exist(self, source: Path) -> None:
        listings: dict[Path, set[str]] = {}
        missing = []
        for path in self.paths:
            folder = path.parent
            if folder not in listings:
                listings[folder] = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
            if path.name not in listings[folder]:
                missing.append(str(path.relative_to(self.root)))
        if missing:
            raise DatasetLayoutError(
                self.name,
                f"{len(missing)} image(s) listed in {source} are missing: {list_some(missing)}",
                expected=f"each 'path' of the CSV relative to {self.root}",
            )

    def _genders(self, relative: list[str], source: Path) -> np.ndarray:
        genders = [gender_from_filename(p) for p in relative]
        unknown = [p for p, g in zip(relative, genders, strict=True) if g is None]
        if unknown:
            raise DatasetContentError(
                self.name,
                f"file names in {source} without a _m/_f gender suffix: {list_some(unknown)}",
            )
        return np.asarray(genders, dtype=np.int64)


class AgeDBDIR(_DIRFaces):
    """AgeDB-DIR (Mixup Your Own Pairs, Table 1, App. B.1.2): ``<root>/agedb.csv`` and
    ``<root>/AgeDB/``.

    Parameters: ``root``, ``split``, ``image_size`` (default 224), ``transform``, ``seed``
    (unused: the splits are official; kept for a uniform signature). ``group`` is gender.
    """

    name = "agedb"
    csv_name = "agedb.csv"
    has_gender = True


class IMDBWIKIDIR(_DIRFaces):
    """IMDB-WIKI-DIR (Mixup Your Own Pairs, Table 3, App. B.1.1): ``<root>/imdb_wiki.csv`` and
    ``<root>/imdb_crop/``, ``<root>/wiki_crop/``. Same parameters as :class:`AgeDBDIR`; no
    group.
    """

    name = "imdbwiki"
    csv_name = "imdb_wiki.csv"
