"""Reading a run's resume point, ``last.pt``, and refusing to continue it where the result
would not be the interrupted run's (the book's page on rerunning experiments).

A resume point is refused, with a :class:`ResumeError` naming the file and the way on, when
it is empty, truncated or not a torch checkpoint; when it is not a supremix ``last.pt`` of
this format; when the configuration differs (beyond the fields that do not change what a run
computes); when the number of processes differs; and when the data differ from those it was
trained on (:mod:`supremix.train.fingerprint`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, load_checkpoint
from .config import TrainConfig, differing_fields
from .fingerprint import data_differences
from .run_folder import RunFolderError

CHECKPOINT_FORMAT = 2
START_OVER = "start over with --overwrite"
RESUME_KEYS = (
    "format",
    "config",
    "data",
    "stage",
    "stage_name",
    "epoch",
    "model",
    "optimizer",
    "scheduler",
    "precision",
    "ema",
    "best",
    "history",
    "rng",
    "wall_time_s",
)


class ResumeError(RunFolderError):
    """A ``last.pt`` that this run cannot continue; the message names it and the way on."""


def read_resume_file(path: str | Path) -> dict[str, Any]:
    """The content of the resume point ``path``, checked to be a supremix ``last.pt`` of this
    :data:`CHECKPOINT_FORMAT`."""
    path = Path(path)
    try:
        state = load_checkpoint(path)
    except CheckpointError as error:
        raise ResumeError(f"cannot resume: {error}; {START_OVER}") from None
    if not isinstance(state, Mapping):
        raise ResumeError(
            f"cannot resume from {path}: it holds a {type(state).__name__}, not the state of a "
            f"supremix run; {START_OVER}"
        )
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ResumeError(
            f"cannot resume from {path}: its format is {state.get('format')!r}, this version "
            f"of supremix reads format {CHECKPOINT_FORMAT}; {START_OVER}"
        )
    missing = [key for key in RESUME_KEYS if key not in state]
    if missing:
        raise ResumeError(
            f"cannot resume from {path}: it lacks {', '.join(missing)}, so it is not the "
            f"last.pt of a supremix run; {START_OVER}"
        )
    return dict(state)


def read_resume_point(
    path: str | Path,
    *,
    config: TrainConfig,
    world_size: int,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """:func:`read_resume_file`, then refuse a different configuration, number of processes
    or data (``data``: this run's :func:`~.fingerprint.dataset_fingerprint`)."""
    state = read_resume_file(path)
    try:
        saved = TrainConfig.from_dict(state["config"])
    except (TypeError, ValueError) as error:
        raise ResumeError(
            f"cannot resume from {path}: its configuration is invalid ({error})"
        ) from None
    changed = differing_fields(saved, config)
    if changed:
        raise ResumeError(
            f"cannot resume from {path}: the configuration differs in {', '.join(changed)} "
            "(only progress, num_workers, checkpoint_every, name and notes may change)"
        )
    if len(state["rng"]) != world_size:
        raise ResumeError(
            f"cannot resume from {path}: it was written by {len(state['rng'])} processes, "
            f"this run has {world_size}; resume with the same number of processes"
        )
    differences = data_differences(state["data"], data)
    if differences:
        raise ResumeError(
            f"cannot resume from {path}: it was trained on other data ({'; '.join(differences)}"
            f"); resume on the same data or {START_OVER}"
        )
    return state
