"""Errors raised by the dataset loaders.

Every message names what was expected and where to read about it, so a user with a
half-extracted download knows what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

DATA_CARDS_URL = "https://github.com/supremix/supremix/blob/main/data_cards"


def data_card(name: str) -> str:
    """Where the data card of dataset ``name`` lives (repository path and URL)."""
    return f"data_cards/{name}.md ({DATA_CARDS_URL}/{name}.md)"


def one_line(text: str) -> str:
    """``text`` on one line: the lines of a library's multi-line message joined by spaces."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def list_some(items: Sequence[object], limit: int = 10) -> str:
    """The first ``limit`` items joined by commas, then ``" and N more"`` for the rest."""
    shown = ", ".join(str(item) for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class DatasetLayoutError(FileNotFoundError):
    """A file or folder of a dataset's official layout is missing or malformed."""

    def __init__(self, dataset: str, problem: str, expected: str | Path | None = None):
        message = f"{dataset}: {problem}"
        if expected is not None:
            message += f"; expected {expected}"
        message += f". See {data_card(dataset)} for the layout this loader reads."
        super().__init__(one_line(message))
        self.dataset = dataset


class DatasetContentError(ValueError):
    """Files are where they should be but their content is unusable (bad labels, unreadable)."""

    def __init__(self, dataset: str, problem: str):
        super().__init__(one_line(f"{dataset}: {problem}. See {data_card(dataset)}."))
        self.dataset = dataset


class DatasetContentWarning(UserWarning):
    """Content a loader accepts but a user should look at (a label outside the range the data
    card documents for the dataset's population, repeated identical rows)."""


def warn_content(dataset: str, problem: str) -> None:
    """Warn with :class:`DatasetContentWarning`, in the same words as the errors."""
    import warnings

    message = one_line(f"{dataset}: {problem}. See {data_card(dataset)}.")
    warnings.warn(message, DatasetContentWarning, stacklevel=3)
