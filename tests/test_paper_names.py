"""A reader meets the papers by name: "seed" means a random seed only.

The papers were once numbered "seed 001/002/003"; every string a reader sees (docstrings,
messages, notes, preset names, data files, book pages, notebooks) names them instead: the
SupReMix paper, Mixup Your Own Pairs, the AdaCon paper (keys ``supremix``, ``mixup-pairs``,
``adacon`` in :mod:`supremix.paper`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
#: Where user-visible text lives (tools/ may hold the notebooks' templates); results/ holds
#: recorded runs, which keep the words the code wrote at the time.
FOLDERS = ("supremix", "book", "notebooks", "data_cards", "tools")
SUFFIXES = {".py", ".md", ".json", ".ipynb", ".yml", ".txt", ".csv"}
GENERATED = {"_build", "__pycache__", ".ipynb_checkpoints"}
#: "seed 001", "Seed 002", "seed003", "seed-002", "seed_001" (a file or preset name).
PAPER_AS_SEED = re.compile(r"seed[ _-]?00[0-9]", re.IGNORECASE)


def _user_visible_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            generated = set(path.relative_to(ROOT).parts) & GENERATED
            if path.suffix in SUFFIXES and not generated:
                files.append(path)
    return files


def _hits(path: Path) -> list[str]:
    found = [f"{path.relative_to(ROOT)} (file name)"] if PAPER_AS_SEED.search(path.name) else []
    lines = path.read_text(encoding="utf-8").splitlines()
    found += [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(lines, start=1)
        if PAPER_AS_SEED.search(line)
    ]
    return found


def test_the_pattern_finds_the_old_spellings_and_leaves_random_seeds_alone():
    for old in ("seed 001 Table 13", "Seed 003 Table X", "seed002.json", "ukb-seed002"):
        assert PAPER_AS_SEED.search(old), old
    for fine in ("seed=0", "seeds=(0, 1)", "seed 0", "embedding_seed 5", "seed 10", "seeds 0-2"):
        assert not PAPER_AS_SEED.search(fine), fine


def test_the_scan_reads_the_folders_it_guards():
    scanned = {path.relative_to(ROOT).parts[0] for path in _user_visible_files()}
    assert {"README.md", "supremix", "book", "notebooks"} <= scanned
    names = {path.name for path in _user_visible_files()}
    assert {"presets.py", "paper_numbers.md", "supremix.json", "quickstart.py"} <= names


@pytest.mark.parametrize("folder", ["README.md", *FOLDERS])
def test_no_user_visible_string_calls_a_paper_a_seed(folder):
    files = [p for p in _user_visible_files() if p.relative_to(ROOT).parts[0] == folder]
    hits = [hit for path in files for hit in _hits(path)]
    assert not hits, "name the paper (the SupReMix paper, ...), not its seed number:\n" + "\n".join(
        hits
    )
