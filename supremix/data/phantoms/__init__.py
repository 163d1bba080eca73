"""Synthetic datasets with a known generative model, written in each dataset's official layout.

``write_phantom(name, out, n=..., seed=..., **options)`` writes the files that the real loader
of ``name`` reads (``get_dataset(name, out)``) and returns ``out``. Deterministic by seed.
Each module documents its generative model; the data cards repeat it. Every label carries a
known noise (:mod:`.label_noise`); ``noise_floor(name)`` is the expected MAE of the true
function under it, the least any method can reach on that phantom.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...extras import import_entry
from .label_noise import LABEL_NOISE, noise_floor

#: Version of the generative models: bumped whenever a phantom's data change for the same
#: ``n`` and seed, so that caches of earlier phantoms (``supremix.train.experiment``) are not
#: reused. 2: labels carry the noise of :mod:`.label_noise`; RHPE in :mod:`.hand_rhpe`.
GENERATION = 2

# name -> "module:function" under supremix.data.phantoms
PHANTOMS: dict[str, str] = {
    "rsna": "bone_xray:write_rsna",
    "rhpe": "hand_rhpe:write_rhpe",
    "agedb": "faces:write_agedb",
    "imdbwiki": "faces:write_imdbwiki",
    "ukb": "brain_mri:write_ukb",
    "hcp": "fmri:write_hcp",
    "a4": "amyloid_pet:write_a4",
    "echonet": "echo:write_echonet",
    "camus": "echo:write_camus",
    "stsb": "text:write_stsb",
}


def write_phantom(
    name: str, out: str | Path, *, n: int | None = None, seed: int = 0, **options: Any
) -> Path:
    """Write the phantom of dataset ``name`` under ``out`` in the official layout."""
    writer = import_entry(PHANTOMS, name, "supremix.data.phantoms", f"no phantom for {name!r}")
    kwargs = dict(options, seed=seed)
    if n is not None:
        kwargs["n"] = n
    return writer(Path(out), **kwargs)


__all__ = ["GENERATION", "LABEL_NOISE", "PHANTOMS", "noise_floor", "write_phantom"]
