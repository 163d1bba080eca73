"""Names checked against the fields of a dataclass: one wording for every settings object.

The loss options (:func:`supremix.losses.common.make_options`) and the run settings
(:meth:`supremix.experiments.settings.RunSettings.replace`) take their changes by field name;
a name that is no field is refused with the same line, which lists what would be accepted.
Imports nothing beyond the standard library, so :mod:`supremix.losses` stays torch-only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def unknown_fields(kind: type[DataclassInstance], names: Iterable[str], what: str) -> str | None:
    """``"unknown <what> a, b; expected some of <every field>"`` when ``names`` holds names
    that are no field of ``kind``, else ``None``; the caller raises it with its own prefix and
    error type."""
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(names) - known)
    if not unknown:
        return None
    return f"unknown {what} {', '.join(unknown)}; expected some of {', '.join(sorted(known))}"
