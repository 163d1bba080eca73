"""What the volume loaders (UK Biobank T1, A4 PET) share: their preprocessing options.

Both resample to an isotropic voxel size, crop or pad centrally, optionally shrink and
normalise each volume (the SupReMix paper, §4.1.1, §4.1.5 and App. B.1.1/B.1.5), with the same
option names, checks and cache keys; :class:`PreprocessedVolumes` holds them once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .base import RegressionDataset, check_choice
from .volumeio import NORMALIZATIONS, as_shape3, preprocess_volume


class PreprocessedVolumes(RegressionDataset):
    """Base of the volume loaders: stores the preprocessing options (also the cache key,
    ``options``) and applies them with :func:`~supremix.data.volumeio.preprocess_volume`."""

    modality = "volume3d"

    def _init_preprocessing(
        self,
        *,
        spacing: float | None,
        crop: int | Sequence[int] | None,
        size: int | Sequence[int] | None,
        normalize: str,
        canonical: bool,
    ) -> None:
        self.spacing = spacing
        self.crop = as_shape3(crop, "crop")
        self.size = as_shape3(size, "size")
        self.normalize = check_choice(self.name, "normalize", normalize, NORMALIZATIONS)
        self.canonical = canonical
        self.options.update(
            spacing=spacing,
            crop=self.crop,
            size=self.size,
            normalize=normalize,
            canonical=canonical,
        )

    def preprocess(self, volume: np.ndarray, spacing_mm: Sequence[float]) -> torch.Tensor:
        """The ``(1, D, H, W)`` float32 input from a 3-D volume with voxel sizes in mm."""
        return preprocess_volume(
            volume,
            spacing_mm,
            spacing=self.spacing,
            crop=self.crop,
            size=self.size,
            normalize=self.normalize,
        )
