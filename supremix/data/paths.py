"""Paths read from a label file, kept inside the dataset root.

Label files name the files a loader reads (AgeDB-DIR ``path``, EchoNet ``FileName``, CAMUS
split files, HCP subject ids). An entry that is absolute or climbs out with ``..`` would load
a file from elsewhere; every loader resolves its entries here, which refuses both and lists the
offending rows. The check is on the path as written (``os.path.normpath``), not on where
symbolic links point: a link the user placed inside the root is followed as usual.

Only :class:`supremix.data.generic.CSVDataset` accepts absolute paths, a documented option of
one's own CSV (data_cards/csv.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .errors import DatasetContentError, list_some

HEADER_ROWS = 1  # a label table's data row k (0-based) is row k + 2 of the file


def table_row(position: int) -> int:
    """The row number a spreadsheet shows for data row ``position`` (0-based) of a table with
    one header row: the header is row 1."""
    return position + HEADER_ROWS + 1


def resolve_entries(
    root: str | Path,
    entries: Sequence[str],
    *,
    dataset: str,
    listed_in: str | Path,
    rows: Sequence[int] | None = None,
    allow_absolute: bool = False,
) -> list[Path]:
    """``root / entry`` for every entry, refusing any that is empty, absolute (unless
    ``allow_absolute``) or leaves ``root``.

    ``rows`` are the file's row numbers of the entries (default: :func:`table_row` of their
    positions); the :class:`DatasetContentError` lists the offending rows and entries.
    """
    root = Path(root)
    base = os.path.normpath(root)
    resolved: list[Path] = []
    bad: list[str] = []
    for position, entry in enumerate(entries):
        text = str(entry).strip()
        row = table_row(position) if rows is None else rows[position]
        if Path(text).is_absolute():
            if allow_absolute:
                resolved.append(Path(text))
            else:
                bad.append(f"row {row}: {text!r} is absolute")
            continue
        joined = os.path.normpath(os.path.join(base, text))
        relative = os.path.relpath(joined, base)
        if not text or relative == "." or relative == ".." or relative.startswith(".." + os.sep):
            bad.append(f"row {row}: {text!r} " + ("is empty" if not text else "leaves the root"))
            continue
        resolved.append(root / relative)
    if bad:
        absolute = " or absolute" if allow_absolute else ""
        raise DatasetContentError(
            dataset,
            f"{len(bad)} path(s) in {listed_in} point outside {root}: {list_some(bad)}; "
            f"expected paths relative to {root}{absolute}, without '..'",
        )
    return resolved


def check_plain_names(
    names: Sequence[str], *, dataset: str, what: str, listed_in: str | Path
) -> list[str]:
    """``names`` if each is a single path component (no separator, not ``.``/``..``, not
    empty): ids that loaders turn into file or folder names. Otherwise a
    :class:`DatasetContentError` listing the offending ones."""
    bad = [
        repr(n)
        for n in names
        if not str(n).strip() or str(n) in (".", "..") or any(s in str(n) for s in ("/", "\\"))
    ]
    if bad:
        raise DatasetContentError(
            dataset,
            f"{len(bad)} {what}(s) in {listed_in} are not plain names: {list_some(bad)}; "
            "expected names without '/', '\\' or '..'",
        )
    return list(names)
