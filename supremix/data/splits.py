"""Seeded splits for datasets that have no official one.

A split is a pure function of the sorted ids and the seed, so it never changes for a given
seed, whatever order the files were listed in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def seeded_split(
    ids: Sequence[str],
    *,
    val: float | int,
    test: float | int,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Partition ``ids`` into ``train``/``val``/``test`` index arrays.

    ``val`` and ``test`` are fractions in [0, 1) or absolute counts. Indices refer to the
    positions in ``ids``; each returned array is sorted. Raises ``ValueError`` when the
    requested sizes do not fit.
    """
    n = len(ids)

    def size(part: float | int, what: str) -> int:
        if isinstance(part, float):
            if not 0.0 <= part < 1.0:
                raise ValueError(f"{what} fraction must be in [0, 1), got {part}")
            return round(part * n)
        if part < 0:
            raise ValueError(f"{what} count must be >= 0, got {part}")
        return int(part)

    n_val, n_test = size(val, "val"), size(test, "test")
    if n_val + n_test > n:
        raise ValueError(f"cannot take {n_val} val + {n_test} test items from {n}")
    order = np.argsort(np.asarray([str(i) for i in ids]), kind="stable")
    permuted = order[np.random.default_rng(seed).permutation(n)]
    return {
        "test": np.sort(permuted[:n_test]),
        "val": np.sort(permuted[n_test : n_test + n_val]),
        "train": np.sort(permuted[n_test + n_val :]),
    }
