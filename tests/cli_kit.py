"""What the command-line and run-folder tests share: the real airfoil file, one torch thread,
and running ``supremix`` until it exits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from supremix.cli import main

AIRFOIL_DIR = Path(
    os.environ.get("SUPREMIX_DATA") or Path(__file__).resolve().parents[1].parent / "shared/data"
)
needs_airfoil = pytest.mark.skipif(
    not (AIRFOIL_DIR / "airfoil_self_noise.dat").is_file(),
    reason="the UCI airfoil file is not available (set SUPREMIX_DATA)",
)

#: Put in a test module as ``pytestmark``: its tests run with one torch thread (``one_thread``
#: in tests/conftest.py).
ONE_THREAD = pytest.mark.usefixtures("one_thread")


def fails(argv, capsys) -> tuple[int, str]:
    """Run ``supremix argv``, which must exit; its exit code and what it wrote to stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code, capsys.readouterr().err
