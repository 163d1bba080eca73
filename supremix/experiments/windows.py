"""The Mix-pos window a notebook is about to train with, on the labels it will train on.

:func:`study_window` is the one line every notebook that trains a contrastive method prints
before training: the window of the configuration its run settings resolve to
(:meth:`~supremix.experiments.settings.RunSettings.train_config`) in label units and as about
how many distinct labels on each side of an anchor, measured on the training split
(:func:`supremix.train.windows.effective_window`). It raises
:class:`~supremix.train.windows.WindowError` when that window forms no Mix-pos or covers the
whole label range (:func:`supremix.train.windows.check_window`), so that a notebook whose
window means nothing on its labels stops before it trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from supremix.train import open_splits
from supremix.train.windows import describe_window

from .settings import RunSettings


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
    return describe_window(config, labels, expect=expect)
