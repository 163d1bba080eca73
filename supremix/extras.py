"""Which optional dependencies ("extras") each part of the package needs.

``pip install supremix`` installs torch and numpy only, which is all :mod:`supremix.losses`
imports. The datasets, the training engine, the medical file formats and the book each need
an extra; a part imported without its extra stops with one line that names the extra:

>>> import supremix.models   # without the "train" extra
MissingExtraError: supremix.models needs the 'train' extra (missing: scikit-learn): ...

The book's install page lists the extras (:doc:`/book/rerun`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

# extra -> (import name, distribution name) of each library it brings
EXTRAS: dict[str, tuple[tuple[str, str], ...]] = {
    "data": (
        ("pandas", "pandas"),
        ("scipy", "scipy"),
        ("PIL", "pillow"),
        ("cv2", "opencv-python-headless"),
        ("openpyxl", "openpyxl"),
        ("defusedxml", "defusedxml"),
        ("tqdm", "tqdm"),
        ("nltk", "nltk"),
    ),
    "medical": (("nibabel", "nibabel"), ("monai", "monai"), ("einops", "einops")),
    "train": (
        ("torchvision", "torchvision"),
        ("sklearn", "scikit-learn"),
        ("matplotlib", "matplotlib"),
    ),
}
# the extras an extra installs with it (pyproject.toml's self-references)
INCLUDES: dict[str, tuple[str, ...]] = {"data": (), "medical": (), "train": ("data",)}


class MissingExtraError(ImportError):
    """A part of supremix was imported without the optional dependencies it needs."""


def installed(module: str) -> bool:
    """Whether library ``module`` (an import name) can be imported."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _libraries(extra: str) -> tuple[tuple[str, str], ...]:
    included = tuple(lib for inner in INCLUDES[extra] for lib in _libraries(inner))
    return included + EXTRAS[extra]


def missing(extra: str) -> list[str]:
    """The distributions of ``extra`` (and the extras it includes) that are not installed."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; expected one of {', '.join(EXTRAS)}")
    return [dist for module, dist in _libraries(extra) if not installed(module)]


def require(extra: str, *, by: str) -> None:
    """Stop with one line naming ``extra`` when part ``by`` is used without it."""
    absent = missing(extra)
    if absent:
        raise MissingExtraError(
            f"{by} needs the {extra!r} extra (missing: {', '.join(absent)}): "
            f"pip install 'supremix[{extra}]'"
        )


def _extra_of(module: str) -> str | None:
    top = module.split(".")[0]
    for extra, libraries in EXTRAS.items():
        if any(name == top for name, _ in libraries):
            return extra
    return None


def import_part(name: str) -> ModuleType:
    """Import module ``name`` of supremix; a missing optional library names its extra."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        extra = _extra_of(error.name or "")
        if extra is None:
            raise
        raise MissingExtraError(
            f"{name} needs the {extra!r} extra (missing: {error.name}): "
            f"pip install 'supremix[{extra}]'"
        ) from None


def import_entry(table: Mapping[str, str], name: str, package: str, unknown: str) -> Any:
    """The object ``table[name]`` names (``"module:attribute"`` under ``package``), imported
    on first use with :func:`import_part`; a name not in ``table`` raises one ``ValueError``
    line, ``unknown`` and the names ``table`` holds."""
    try:
        target = table[name]
    except KeyError:
        raise ValueError(f"{unknown}; expected one of {', '.join(sorted(table))}") from None
    module_name, attribute = target.split(":")
    return getattr(import_part(f"{package}.{module_name}"), attribute)
