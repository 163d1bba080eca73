"""GloVe word vectors in their text format (Pennington et al. 2014), read for one vocabulary.

A GloVe text file has one word per line: the word, then its ``dim`` values, separated by
single spaces (``glove.840B.300d.txt``: 2.2 million words, 300 values each, 5.6 GB). A few
words of the 840B file themselves contain spaces, so a line's word is everything before its
last ``dim`` fields. :func:`read_glove` streams the file line by line and keeps only the
vectors of the words asked for; :func:`cached_glove` stores that subset once under
``$SUPREMIX_CACHE/glove`` (``~/.cache/supremix/glove``), keyed by the file's path, size and
modification time and by the vocabulary, so the 5.6 GB are read once per vocabulary.

The words that the file lacks keep no vector here; the STS-B-DIR benchmark draws them from a
standard normal, which :func:`embedding_matrix` does with a fixed seed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .cache import default_cache_dir


class GloVeFormatError(ValueError):
    """A line of a GloVe text file is not ``word v1 ... v_dim``."""


def read_glove(
    path: str | Path, words: Sequence[str], *, dim: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(vectors, found)`` of ``words`` in the GloVe text file ``path``.

    ``vectors`` is ``(len(words), dim)`` float32, zero where a word is absent; ``found`` the
    boolean mask of the words present. ``dim`` defaults to the number of values on the first
    line. A word listed twice in the file keeps its first vector. Raises
    :class:`GloVeFormatError` naming the file and line of a malformed line.
    """
    path = Path(path)
    index = {word: i for i, word in enumerate(words)}
    vectors: np.ndarray | None = None
    found = np.zeros(len(words), dtype=bool)
    with open(path, encoding="utf-8", errors="strict", newline="\n") as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.rstrip("\n").rstrip("\r").split(" ")
            if fields == [""]:
                continue
            if dim is None:
                dim = len(fields) - 1
                if dim < 1:
                    raise GloVeFormatError(f"{path}, line {number}: a word and no values")
            if len(fields) < dim + 1:
                raise GloVeFormatError(
                    f"{path}, line {number}: {len(fields) - 1} values, expected {dim}"
                )
            word = " ".join(fields[:-dim])
            row = index.get(word)
            if row is None or found[row]:
                continue
            try:
                values = np.asarray(fields[-dim:], dtype=np.float32)
            except ValueError:
                raise GloVeFormatError(
                    f"{path}, line {number}: the values of {word!r} are not all numbers"
                ) from None
            if vectors is None:
                vectors = np.zeros((len(words), dim), dtype=np.float32)
            vectors[row] = values
            found[row] = True
    if dim is None:
        raise GloVeFormatError(f"{path}: no vectors (empty file)")
    if vectors is None:
        vectors = np.zeros((len(words), dim), dtype=np.float32)
    return vectors, found


def _cache_key(path: Path, words: Sequence[str]) -> str:
    stat = path.stat()
    digest = hashlib.sha256()
    digest.update(json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns]).encode())
    digest.update("\n".join(words).encode("utf-8"))
    return digest.hexdigest()[:24]


def cached_glove(
    path: str | Path, words: Sequence[str], *, cache_dir: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`read_glove`, served from (and written once to) ``<cache_dir>/glove/<key>.npz``.

    ``cache_dir`` defaults to :func:`~supremix.data.cache.default_cache_dir`. The cache file is
    written to a temporary name and renamed, so an interrupted read leaves none behind.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GloVe: {path} is not a file; expected a GloVe text file")
    folder = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "glove"
    target = folder / f"{path.stem}-{_cache_key(path, words)}.npz"
    if target.is_file():
        with np.load(target) as stored:
            return stored["vectors"], stored["found"]
    vectors, found = read_glove(path, words)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{target.stem}.{os.getpid()}.tmp.npz"
    try:
        np.savez(temporary, vectors=vectors, found=found)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return vectors, found


def embedding_matrix(
    vectors: np.ndarray, found: np.ndarray, *, padding_index: int = 0, seed: int = 0
) -> np.ndarray:
    """The embedding table of the STS-B-DIR benchmark: GloVe rows where ``found``, standard
    normal draws (``seed``) elsewhere, and a zero row at ``padding_index``."""
    table = np.random.default_rng(seed).standard_normal(vectors.shape).astype(np.float32)
    table[found] = vectors[found]
    table[padding_index] = 0.0
    return table
