"""Reading 2-D images for the image loaders (RSNA, RHPE, AgeDB-DIR, IMDB-WIKI-DIR).

Decoding (:func:`read_image`, also used by the generic CSV loader) keeps the precision of the
file: values in [0, 1] as float32, 16-bit grayscale (``I;16``/``I`` modes, common for X-rays)
scaled by 1/65535 with all its levels (Pillow's own ``convert("L")`` would clip every value
above 255 to white).

The loaders' pipeline (:func:`load_image`) then works on 8 bits, because its contrast steps are
8-bit histogram operations (Pillow's equalisation, OpenCV's CLAHE): decode, quantise to 8 bits,
optionally crop and enhance contrast, resize, and return a float tensor in [0, 1] of shape
``(C, H, W)`` (the SupReMix paper, App. C.1.2: "images are loaded via PIL with intensity scaling to
the range [0,1]").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .base import RegressionDataset
from .errors import DatasetContentError, DatasetLayoutError

ColorMode = Literal["L", "RGB"]
Contrast = Literal["none", "equalize", "clahe"]
CONTRASTS: tuple[str, ...] = ("none", "equalize", "clahe")
Box = tuple[int, int, int, int]

_WIDE_GRAY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def as_size(size: int | Sequence[int], dataset: str, what: str = "image_size") -> tuple[int, int]:
    """``(height, width)`` from an int (square) or a pair; raise on non-positive sizes.

    ``what`` names the option in the error message.
    """
    pair: tuple[Any, ...] = (
        (size, size) if isinstance(size, Integral) else tuple(cast(Sequence[int], size))
    )
    if len(pair) != 2 or not all(
        isinstance(s, Integral) and not isinstance(s, bool) and int(s) > 0 for s in pair
    ):
        raise ValueError(
            f"{dataset}: {what} must be a positive int or (height, width), got {size!r}"
        )
    return int(pair[0]), int(pair[1])


def _gray(image: Image.Image) -> np.ndarray:
    """Float32 gray in [0, 1] at the file's depth: 8-bit modes / 255, 16-bit / 65535 (32-bit
    ``I`` / 255 when no value exceeds 255, i.e. 8-bit data in a 32-bit container), ``F``
    (32-bit float) as stored."""
    if image.mode == "F":
        return np.asarray(image, dtype=np.float32)
    if image.mode not in _WIDE_GRAY_MODES:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    values = np.asarray(image, dtype=np.float32)
    peak = float(values.max(initial=0.0))
    full_scale = np.float32(255.0 if image.mode == "I" and peak <= 255 else 65535.0)
    return np.clip(values / full_scale, 0.0, 1.0)


def read_image(path: Path, mode: ColorMode, dataset: str) -> np.ndarray:
    """Decode ``path`` to float32 ``(H, W)`` (mode ``"L"``) or ``(H, W, 3)`` (``"RGB"``) in
    [0, 1], keeping the file's precision (16-bit gray keeps 65,536 levels).

    A missing file raises :class:`DatasetLayoutError`, an undecodable one or one with NaN or
    infinite pixels (a 32-bit float TIFF) :class:`DatasetContentError`; both name the path.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetLayoutError(dataset, f"image file {path} is missing")
    try:
        with Image.open(path) as image:
            image.load()
            if mode == "L":
                array = _gray(image)
            else:
                array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DatasetContentError(
            dataset, f"cannot read image {path} ({exc}); expected a complete image file"
        ) from exc
    bad = int(array.size - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise DatasetContentError(
            dataset, f"image {path} holds {bad} NaN or infinite pixels; expected finite values"
        )
    return array


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float values in [0, 1] (clipped) rounded to the nearest of 256 levels, as uint8."""
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def crop_region(image: np.ndarray, region: Box | Literal["left_half"] | None) -> np.ndarray:
    """Crop to ``region``: a box ``(x, y, w, h)`` clipped to the image, or ``"left_half"``
    (columns ``[0, W // 2)``). ``None``, or a box with no pixel inside the image, keeps it whole.
    """
    if region is None:
        return image
    height, width = image.shape[:2]
    x, y, w, h = (0, 0, width // 2, height) if region == "left_half" else region
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        return image
    return image[y0:y1, x0:x1]


def enhance_contrast(image: np.ndarray, contrast: str) -> np.ndarray:
    """Histogram equalisation (Pillow) or CLAHE (OpenCV, clip 2, 8x8 tiles) of a gray image.

    The SupReMix paper's App. B.1.3: histogram equalisation for RSNA, CLAHE for RHPE.
    """
    if contrast == "none":
        return image
    if image.ndim != 2:
        raise ValueError(f"contrast {contrast!r} needs a grayscale image, got shape {image.shape}")
    if contrast == "equalize":
        return np.asarray(ImageOps.equalize(Image.fromarray(image)), dtype=np.uint8)
    import cv2

    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(np.ascontiguousarray(image))


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a uint8 image to ``size = (height, width)`` (Pillow; antialiased when
    shrinking)."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    resized = Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def resize_planes(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Every 2-D plane of float32 ``(..., H, W)`` resized to ``size`` at full precision with
    Pillow's antialiased bilinear filter (equal to ``F.interpolate(..., antialias=True)``)."""
    planes = array.reshape(-1, *array.shape[-2:])
    out = np.empty((planes.shape[0], *size), dtype=np.float32)
    for k, plane in enumerate(planes):
        image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32))
        out[k] = np.asarray(image.resize((size[1], size[0]), Image.Resampling.BILINEAR))
    return out.reshape(*array.shape[:-2], *size)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W)`` or ``(H, W, C)`` to float32 ``(C, H, W)`` in [0, 1]."""
    array = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32) / 255.0)


def load_image(
    path: Path,
    *,
    mode: ColorMode,
    size: tuple[int, int],
    dataset: str,
    region: Box | Literal["left_half"] | None = None,
    contrast: str = "none",
) -> torch.Tensor:
    """Decode, quantise to 8 bits, crop to ``region``, enhance contrast, resize: a ``(C, H, W)``
    tensor in [0, 1]."""
    image = crop_region(to_uint8(read_image(path, mode, dataset)), region)
    return to_tensor(resize(enhance_contrast(image, contrast), size))


class ImageFilesDataset(RegressionDataset):
    """A dataset of one image file an item (``paths``): :meth:`load` is :func:`load_image` in
    ``image_mode`` at ``image_size``, cropped to :meth:`region` (none by default), with the
    dataset's ``contrast`` enhancement."""

    image_mode: ColorMode = "L"
    contrast: str = "none"
    paths: list[Path]
    image_size: tuple[int, int]

    def region(self, index: int) -> Box | Literal["left_half"] | None:
        """The part of item ``index``'s image to keep (``None``: all of it)."""
        return None

    def source_file(self, index: int) -> Path:
        """The image file of item ``index``."""
        return self.paths[index]

    def load(self, index: int) -> torch.Tensor:
        """Item ``index`` as ``(C, H, W)`` in [0, 1]: decoded, cropped, enhanced, resized."""
        return load_image(
            self.paths[index],
            mode=self.image_mode,
            size=self.image_size,
            dataset=self.name,
            region=self.region(index),
            contrast=self.contrast,
        )


def index_images(folder: Path, suffixes: Iterable[str] = (".png",)) -> dict[str, Path]:
    """Map file stem -> path for the image files anywhere under ``folder`` (first in sort order).

    Searching below ``folder`` absorbs the extra nesting some archives add when extracted
    (e.g. Kaggle's ``boneage-training-dataset/boneage-training-dataset/``).
    """
    wanted = {s.lower() for s in suffixes}
    index: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in wanted and path.stem not in index and path.is_file():
            index[path.stem] = path
    return index
