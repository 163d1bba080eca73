"""The Mix-pos window a notebook is about to train with, on the labels it will train on.

:func:`study_window` is the one line every notebook that trains a contrastive method prints
before training: the window of the study's configuration
(:func:`supremix.studies.study_config`) in label units and as about how many distinct labels
on each side of an anchor, measured on the training split
(:func:`supremix.train.windows.effective_window`). It raises
:class:`~supremix.train.windows.WindowError` when that window forms no Mix-pos or covers the
whole label range (:func:`supremix.train.windows.check_window`), so that a notebook whose
window means nothing on its labels stops before it trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from supremix.train import open_splits
from supremix.train.windows import describe_window

from .settings import study_config


def study_window(
    dataset: str,
    *,
    preset: str | None = None,
    data_root: str | Path | Mapping[str, str | Path | None] | None = None,
    smoke: bool = False,
    overrides: Mapping[str, Any] | None = None,
    expect: str = "window",
) -> str:
    """The checked one-line description of the Mix-pos window of ``dataset``'s study (the
    arguments of :func:`~supremix.studies.study_config`) on its training labels;
    ``data_root`` may map dataset names to folders (a missing name: the phantom)."""
    if isinstance(data_root, Mapping):
        data_root = data_root.get(dataset)
    _, config = study_config(
        dataset, preset=preset, data_root=data_root, smoke=smoke, overrides=overrides
    )
    splits, _ = open_splits(config, data_root)
    labels = np.asarray(splits["train"].targets, dtype=np.float64)
    return describe_window(config, labels, expect=expect)
