"""A synthetic STS-B-DIR in the benchmark's layout, with a known score, and a tiny GloVe file.

Generative model (seeded by ``seed``):

* a lexicon of 80 made-up lower-case words (two or three syllables);
* sentence 1 of an item: ``L ~ Uniform{6, ..., 12}`` words drawn uniformly from the lexicon,
  then a space and a period;
* a target level ``s ~ 5 * Beta(0.8, 0.8)`` for the training split (imbalanced: most pairs near
  0 or 5) and ``s ~ Uniform(0, 5)`` for the validation and test splits (balanced, like
  STS-B-DIR's); ``k = round(s / 5 * L)`` positions of sentence 1 are kept and the other
  ``L - k`` replaced by a different lexicon word, giving sentence 2;
* the score is **exactly** ``5 * k / L``: five times the share of positions at which the two
  sentences agree, written with three decimals.

Files: ``glue_data/STS-B/{train_new,dev_new,test_new}.tsv`` with GLUE's ten STS-B columns
(genre ``phantom``), and ``glove/glove.phantom.16d.txt``: 16-d vectors in GloVe's text format
for 75 % of the lexicon, the period, a few words the data never use and one word that holds
a space (as a few of ``glove.840B.300d.txt``'s do), so that lookups, misses and the format's
corner case all occur. The vectors are random: they carry no information about the score.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..stsb import COLUMNS, FILES

SYLLABLES = ("ba", "ko", "ri", "tu", "me", "sa", "lo", "vi", "ne", "da", "pu", "gel")
LEXICON_SIZE = 80
GLOVE_DIM = 16
GLOVE_NAME = "glove.phantom.16d.txt"


def lexicon(rng: np.random.Generator, size: int = LEXICON_SIZE) -> list[str]:
    """``size`` distinct made-up words of two or three syllables."""
    words: list[str] = []
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 4))))
        if word not in words:
            words.append(word)
    return words


def _pair(rng: np.random.Generator, words: list[str], level: float) -> tuple[str, str, float]:
    length = int(rng.integers(6, 13))
    first = list(rng.choice(words, size=length))
    kept = round(level / 5.0 * length)
    second = list(first)
    for position in rng.choice(length, size=length - kept, replace=False):
        others = [w for w in words if w != first[position]]
        second[position] = others[int(rng.integers(len(others)))]
    return " ".join(first) + " .", " ".join(second) + " .", 5.0 * kept / length


def _write_split(path: Path, rng: np.random.Generator, words: list[str], levels) -> None:
    lines = ["\t".join(COLUMNS)]
    for index, level in enumerate(levels):
        first, second, score = _pair(rng, words, float(level))
        fields = [str(index), "phantom", "phantom", "2026", f"{index:04d}", "none", "none"]
        lines.append("\t".join([*fields, first, second, f"{score:.3f}"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_glove(path: Path, rng: np.random.Generator, words: list[str]) -> None:
    listed = [w for w in words if rng.random() < 0.75] + [".", "zzyzx", "quorble", "new york"]
    lines = [
        " ".join([word, *(f"{v:.5f}" for v in rng.normal(0.0, 0.5, GLOVE_DIM))]) for word in listed
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_stsb(out: Path, *, n: int = 480, seed: int = 0) -> Path:
    """Write the phantom with ``n`` training pairs and ``max(n // 4, 8)`` validation and test
    pairs each under ``out``; returns ``out``."""
    if n < 8:
        raise ValueError(f"the STS-B phantom needs n >= 8 training pairs, got {n}")
    rng = np.random.default_rng(seed)
    words = lexicon(rng)
    folder = Path(out) / "glue_data" / "STS-B"
    folder.mkdir(parents=True, exist_ok=True)
    held_out = max(n // 4, 8)
    levels = {
        "train": 5.0 * rng.beta(0.8, 0.8, size=n),
        "val": rng.uniform(0.0, 5.0, size=held_out),
        "test": rng.uniform(0.0, 5.0, size=held_out),
    }
    for split, name in FILES.items():
        _write_split(folder / name, rng, words, levels[split])
    (Path(out) / "glove").mkdir(exist_ok=True)
    _write_glove(Path(out) / "glove" / GLOVE_NAME, rng, words)
    return Path(out)
