"""Small helpers the book's notebooks call: device choice, run settings, the data banner, seeding.

Every notebook has a ``parameters`` cell with ``device = "auto"``: :func:`select_device`
turns it into ``"cuda"`` when a GPU is visible and ``"cpu"`` otherwise, so the same notebook
runs on Colab, Kaggle, a GPU box or a laptop; :func:`notebook_device` also prints it, and
:func:`notebook_settings` turns the parameters into the run settings of the notebook's
experiment, on that device. :func:`data_banner` says, at the top of the results, whether they
come from the real dataset or from a phantom. :func:`glue` names a computed number so that the
notebook's Markdown prose can state it (MyST-NB's ``glue``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch

from supremix.train.rng import seed_everything

if TYPE_CHECKING:
    from supremix.experiments.settings import RunSettings

__all__ = [
    "data_banner",
    "device_banner",
    "glue",
    "glue_facts",
    "notebook_device",
    "notebook_settings",
    "seed_everything",
    "select_device",
]


def select_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` if a CUDA GPU is available, else ``"cpu"``.

    Any other value must name a device torch accepts (``"cpu"``, ``"cuda"``, ``"cuda:1"``);
    asking for CUDA without a GPU raises ``RuntimeError`` rather than silently using the CPU.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        raise ValueError(
            f"unknown device {device!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:<index>'"
        ) from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {device!r} was requested but no CUDA GPU is visible; "
            "use device='auto' (falls back to the CPU) or device='cpu'"
        )
    return device


def device_banner(device: str) -> str:
    """One line naming the device a notebook runs on (the GPU model for CUDA)."""
    if torch.device(device).type == "cuda":
        return f"Device: {device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"Device: {device} (no GPU: expect CPU speed; the defaults are sized for it)"


def data_banner(data_kind: str, dataset: str, root: str | None = None) -> str:
    """A Markdown banner saying whether a notebook's numbers come from real data or a phantom."""
    where = f" from `{root}`" if root else ""
    if data_kind == "real":
        return f"**Data: real.** {dataset}{where}, in its official layout."
    if data_kind == "phantom":
        return (
            f"**Data: phantom.** A synthetic stand-in for {dataset}{where}, written in the "
            "official layout with a known generative model. These numbers show that the code "
            "runs and what the method does on data we understand; they are **not** a "
            "reproduction of the paper. Set `data_root` to your copy of the dataset for that."
        )
    raise ValueError(f"unknown data kind {data_kind!r}; expected 'real' or 'phantom'")


def glue(name: str, value: float | int | str) -> None:
    """Name a computed value for the notebook's prose: MyST-NB's ``{glue:text}`` role in a
    Markdown cell, followed by the name in backticks (and a format such as ``:.3f`` after it),
    shows it in the book, so sentences stay in Markdown and numbers in code.

    Where MyST-NB is not installed (Colab, Kaggle: the book extra is not needed to run a
    notebook), the value is printed as ``name = value`` under the cell instead, so the reader
    still sees the number the prose refers to. NumPy and torch scalars are stored as Python
    numbers, so format specifications such as ``:.3f`` apply to them.
    """
    if not isinstance(value, str):
        value = value.item() if hasattr(value, "item") else value
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        print(f"{name} = {value}")
        return
    myst_glue(name, value, display=False)


def glue_facts(facts: Mapping[str, float | int | str], prefix: str = "") -> None:
    """:func:`glue` every value of ``facts`` (a result's ``facts()``) under ``prefix + name``;
    a prefix keeps apart the facts of several results stated in one notebook's prose."""
    for name, value in facts.items():
        glue(prefix + name, value)


def notebook_device(device: str = "auto") -> str:
    """:func:`select_device` of a notebook's ``device`` parameter, its :func:`device_banner`
    printed: the first line a notebook shows."""
    device = select_device(device)
    print(device_banner(device))
    return device


def notebook_settings(
    parameters: Mapping[str, Any], *, exclude: Sequence[str] = (), **changes: Any
) -> RunSettings:
    """The run settings a notebook's parameters name, on the device it runs on.

    ``parameters`` (a notebook passes ``globals()``) and ``exclude`` are read as
    :meth:`RunSettings.from_parameters <supremix.experiments.settings.RunSettings.from_parameters>`
    reads them; ``changes`` then replace fields (``overrides={"phantom_n": 480}``, say). The
    ``device`` is :func:`notebook_device`'s: chosen and printed.
    """
    from supremix.experiments.settings import RunSettings

    settings = RunSettings.from_parameters(parameters, exclude=exclude).replace(**changes)
    return settings.replace(device=notebook_device(settings.device))
