"""The Mix-pos window a run is about to train with, on the labels it will train on.

:func:`sweep_window` is what :func:`~supremix.experiments.sweep.run_sweep` checks before it
trains: every study, comparison of methods and experiment built on a sweep stops there when the
window of its SupReMix runs means nothing on their training labels, and shows the measured
window in its settings table. :func:`study_window` is the same line for a notebook that shows
no sweep's settings table (the quick start, the airfoil study, the hardness study): the window
of the configuration its run settings resolve to
(:meth:`~supremix.experiments.settings.RunSettings.train_config`) in label units and as about
how many distinct labels on each side of an anchor, measured on the training split
(:func:`supremix.train.windows.effective_window`). It raises
:class:`~supremix.train.windows.WindowError` when that window forms no Mix-pos or covers the
whole label range (:func:`supremix.train.windows.check_window`), so that a notebook whose
window means nothing on its labels stops before it trains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from supremix.train import TrainConfig, open_splits
from supremix.train.windows import EffectiveWindow, checked_window

from .settings import RunSettings

if TYPE_CHECKING:
    from .sweep import Variant

#: The fields that set the Mix-pos window; a variant that changes one of them is an ablation of
#: the window, whose rows its experiment checks itself
#: (:func:`~supremix.experiments.ablations.window_table`).
WINDOW_FIELDS = frozenset({"window", "label_bin", "window_edges"})


def sweep_window(
    config: TrainConfig, variants: Sequence[Variant], train_labels: np.ndarray
) -> EffectiveWindow | None:
    """``config``'s Mix-pos window measured on ``train_labels`` and checked
    (:func:`~supremix.train.windows.checked_window`) when some variant trains SupReMix with
    Mix-pos at that window (leaving :data:`WINDOW_FIELDS` alone), else ``None``. Raises
    :class:`~supremix.train.windows.WindowError` when the window forms no Mix-pos or covers the
    whole label range."""
    at_base_window = (
        config.replace(**variant.overrides)
        for variant in variants
        if not WINDOW_FIELDS & variant.overrides.keys()
    )
    if not any(c.method == "supremix" and c.mix_pos for c in at_base_window):
        return None
    return checked_window(config, train_labels)


def study_window(
    dataset: str,
    settings: RunSettings | None = None,
    *,
    expect: str = "window",
    **changes: Any,
) -> str:
    """The checked one-line description of the Mix-pos window that ``dataset``'s runs with
    ``settings`` train with, on their training labels. ``changes`` name
    :class:`~supremix.experiments.settings.RunSettings` fields, as the ``run_*`` functions take
    them; ``data_root`` there may map dataset names to folders (a missing name: the phantom)."""
    root = changes.get("data_root")
    if isinstance(root, Mapping):
        changes["data_root"] = root.get(dataset)
    settings = RunSettings.of(settings, **changes)
    _, config = settings.train_config(dataset)
    splits, _ = open_splits(config, settings.data_root)
    labels = np.asarray(splits["train"].targets, dtype=np.float64)
    return checked_window(config, labels, expect=expect).summary()
