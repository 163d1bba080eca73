"""The one registry of losses: configs, the training engine and the paper vocabulary read it.

Each :class:`LossEntry` names a loss once: its key, how the papers spell it, whether it is a
contrastive or a regression loss, its module, and which settings of a training configuration
it takes (read by attribute name, so this package needs nothing from ``supremix.train``).
Registering a new loss is one :func:`register_loss` call next to its module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

KINDS = ("contrastive", "regression")


@dataclass(frozen=True)
class LossEntry:
    """One loss of the registry.

    Attributes:
        name: the key (``TrainConfig.method`` for contrastive losses).
        display: the papers' spelling (``"SupReMix"``), used by ``supremix.paper``.
        kind: ``"contrastive"`` or ``"regression"``.
        module: the ``nn.Module`` class; contrastive modules take ``(features, labels,
            groups=None, generator=None)``.
        config_options: the module's keywords from a training configuration (any object with
            the ``TrainConfig`` attributes it reads).
        needs_train_labels: the module takes the training labels as its first argument.
        aliases: other spellings accepted for ``name``.
        main: part of the main comparison of the SupReMix paper (§4.3).
    """

    name: str
    display: str
    kind: str
    module: type[nn.Module]
    config_options: Callable[[Any], dict[str, Any]] = lambda config: {}
    needs_train_labels: bool = False
    aliases: tuple[str, ...] = ()
    main: bool = False

    def build(self, train_labels: Any = None, **options: Any) -> nn.Module:
        """The module, built with ``options`` (and the training labels where it needs them)."""
        if self.needs_train_labels:
            if train_labels is None:
                raise ValueError(f"{self.name}: needs the training labels (train_labels=...)")
            return self.module(train_labels, **options)
        return self.module(**options)

    def from_config(self, config: Any, train_labels: Any = None) -> nn.Module:
        """The module with the settings a training configuration gives it."""
        return self.build(train_labels, **self.config_options(config))


_REGISTRY: dict[str, LossEntry] = {}


def register_loss(entry: LossEntry) -> LossEntry:
    """Add ``entry``; a second entry under a taken name or alias raises ``ValueError``."""
    if entry.kind not in KINDS:
        raise ValueError(f"loss {entry.name!r}: kind must be one of {', '.join(KINDS)}")
    taken = {key for known in _REGISTRY.values() for key in (known.name, *known.aliases)}
    clash = sorted(taken & {entry.name, *entry.aliases})
    if clash:
        raise ValueError(f"loss {entry.name!r}: {', '.join(clash)} already registered")
    _REGISTRY[entry.name] = entry
    return entry


def get_loss(name: str) -> LossEntry:
    """The entry called ``name`` (or one of its aliases), case-insensitive."""
    key = str(name).strip().lower()
    for entry in _REGISTRY.values():
        if key == entry.name or key in entry.aliases:
            return entry
    raise ValueError(f"unknown loss {name!r}; expected one of {', '.join(loss_names())}")


def loss_names(kind: str | None = None) -> tuple[str, ...]:
    """Registered names in registration order, of one ``kind`` or all."""
    return tuple(e.name for e in _REGISTRY.values() if kind is None or e.kind == kind)


def main_loss_names() -> tuple[str, ...]:
    """The contrastive losses of the SupReMix paper's main comparison, in registration order."""
    return tuple(e.name for e in _REGISTRY.values() if e.main)


def display_names() -> dict[str, str]:
    """Every name and alias -> the papers' spelling."""
    return {
        key: entry.display for entry in _REGISTRY.values() for key in (entry.name, *entry.aliases)
    }
