"""Reading the label tables of the loaders: header matching, id, sex and number cells.

Shared by the image loaders (RSNA, RHPE, AgeDB-DIR / IMDB-WIKI-DIR: official CSV or XLSX
files whose header spellings vary between releases) and the volume loaders (UK Biobank, A4:
images without a label row).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DatasetContentError, DatasetLayoutError, list_some
from .paths import table_row

SEX_CODES = {
    "true": 1,
    "t": 1,
    "1": 1,
    "1.0": 1,
    "m": 1,
    "male": 1,
    "false": 0,
    "0": 0,
    "0.0": 0,
    "f": 0,
    "female": 0,
}


def header_key(name: object) -> str:
    """A column header for comparison: lower case, runs of spaces as one, ends stripped."""
    return " ".join(str(name).strip().lower().split())


def read_label_table(
    path: Path, dataset: str, columns: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Read a CSV or XLSX label file; return its wanted columns under canonical names.

    ``columns`` maps a canonical name to the header spellings accepted for it (compared with
    :func:`header_key`). Cells are returned as strings. A missing file, an empty file or a
    missing column raises :class:`DatasetLayoutError`.
    """
    path = Path(path)
    wanted = ", ".join(repr(spellings[0]) for spellings in columns.values())
    if not path.is_file():
        raise DatasetLayoutError(
            dataset, f"label file {path} is missing", expected=f"a table with columns {wanted}"
        )
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            require_defused_xml(dataset, path)
            frame = pd.read_excel(path, dtype=object)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DatasetLayoutError(
            dataset, f"label file {path} is empty", expected=f"columns {wanted}"
        ) from None
    except (pd.errors.ParserError, ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        kind = "an Excel workbook" if path.suffix.lower() in (".xlsx", ".xls") else "a CSV table"
        raise DatasetContentError(
            dataset,
            f"cannot parse label file {path} ({type(exc).__name__}: {exc}); expected {kind}",
        ) from exc
    found = {header_key(h): h for h in frame.columns}
    selected: dict[str, pd.Series] = {}
    missing = []
    for canonical, spellings in columns.items():
        header = next((found[header_key(s)] for s in spellings if header_key(s) in found), None)
        if header is None:
            missing.append(" or ".join(repr(s) for s in spellings))
        else:
            selected[canonical] = frame[header].map(lambda v: "" if pd.isna(v) else str(v).strip())
    if missing:
        raise DatasetLayoutError(
            dataset,
            f"label file {path} has no column {'; no column '.join(missing)} "
            f"(its columns: {', '.join(map(str, frame.columns))})",
            expected=f"columns {wanted}",
        )
    return pd.DataFrame(selected)


def require_defused_xml(dataset: str, path: Path) -> None:
    """Refuse to open the workbook ``path`` unless openpyxl parses XML through ``defusedxml``,
    which refuses entity declarations (entity expansion: "billion laughs", external entities).
    openpyxl uses it when the package is installed and ``OPENPYXL_DEFUSEDXML`` is not
    ``False``."""
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:
        raise DatasetContentError(
            dataset,
            f"refusing to read the workbook {path} without defusedxml (openpyxl would expand "
            "its XML entities); install defusedxml and leave OPENPYXL_DEFUSEDXML unset, or "
            "convert the file to CSV",
        )


def csv_has_column(path: Path, spellings: Sequence[str]) -> bool:
    """Whether the CSV at ``path`` has one of the header ``spellings``; ``True`` when it cannot
    be read, so that :func:`read_label_table` is the one to report why."""
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return True
    keys = {header_key(h) for h in header}
    return any(header_key(s) in keys for s in spellings)


def normalise_id(value: str) -> str:
    """An id cell as text: spaces stripped, ``"1377.0"`` (a spreadsheet number) as ``"1377"``."""
    text = str(value).strip()
    return text.split(".")[0] if re.fullmatch(r"\d+\.0*", text) else text


def parse_sex(values: Sequence[str], ids: Sequence[str], dataset: str, source: str) -> np.ndarray:
    """Sex codes to 1 (male) / 0 (female).

    Accepts booleans and their text (``True``/``False``, as in the RSNA ``male`` column),
    ``1``/``0``, and ``M``/``F`` or ``male``/``female`` (the RSNA test ground truth's ``Sex``),
    case-insensitively. Anything else raises naming the ids.
    """
    codes = [SEX_CODES.get(str(v).strip().lower()) for v in values]
    bad = [f"{ids[i]}: {values[i]!r}" for i, c in enumerate(codes) if c is None]
    if bad:
        raise DatasetContentError(
            dataset,
            f"unrecognised sex codes in {source} ({list_some(bad)}); "
            "expected True/False, 1/0 or M/F",
        )
    return np.asarray(codes, dtype=np.int64)


def parse_numbers(values: Sequence[str]) -> np.ndarray:
    """Text cells to float64; unparsable or empty cells become NaN (rejected with their ids)."""
    return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(
        dtype=np.float64
    )


def parse_label_numbers(
    values: pd.Series,
    *,
    dataset: str,
    source: str | Path,
    column: str,
    ids: Sequence[str] | None = None,
) -> np.ndarray:
    """Label cells to float64, or a :class:`DatasetContentError` naming ``source``, the
    ``column`` and the rows (and ``ids``) whose cell is empty, not a number, or not finite.
    The index of ``values`` is the 0-based data row of the file (spreadsheet row = index + 2).
    """
    numbers = parse_numbers(values.tolist())
    bad = [
        f"row {table_row(int(values.index[i]))}"
        + ("" if ids is None else f" (id {ids[int(i)]})")
        + f": {values.iloc[i]!r}"
        for i in np.flatnonzero(~np.isfinite(numbers))
    ]
    if bad:
        raise DatasetContentError(
            dataset,
            f"column {column!r} of {source} is not a finite number in {len(bad)} row(s) "
            f"({list_some(bad)}); expected a number in every row",
        )
    return numbers


def locate_images(
    stems: Sequence[str],
    index: Mapping[str, Path],
    *,
    dataset: str,
    folder: Path,
    listed_in: Path,
    suffix: str = ".png",
) -> list[Path]:
    """The image path of every stem, or a :class:`DatasetLayoutError` naming the missing ones
    (and the zip archives in ``folder`` that may still need extracting)."""
    missing = [f"{stem}{suffix}" for stem in stems if stem not in index]
    if missing:
        hint = ""
        archives = sorted(p.name for p in folder.glob("*.zip")) if folder.is_dir() else []
        if archives:
            hint = f" (extract the archives {', '.join(archives)} there)"
        raise DatasetLayoutError(
            dataset,
            f"{len(missing)} image(s) listed in {listed_in} are missing: {list_some(missing)}",
            expected=f"<id>{suffix} files under {folder}{hint}",
        )
    return [index[stem] for stem in stems]


def resolve_missing_labels(
    dataset: str, unlabelled: list[str], policy: str, where: str
) -> list[str]:
    """Raise for images without a label (``policy="error"``), else return them (``"skip"``)."""
    if policy not in ("error", "skip"):
        raise ValueError(f"{dataset}: missing_label must be 'error' or 'skip', got {policy!r}")
    if unlabelled and policy == "error":
        raise DatasetContentError(
            dataset,
            f"no label in {where} for images {list_some(unlabelled)}; pass "
            "missing_label='skip' to leave them out",
        )
    return unlabelled
