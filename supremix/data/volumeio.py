"""Reading medical volumes and bringing them to a common grid.

* NIfTI (``.nii``/``.nii.gz``) through nibabel, from a path or from the bytes of a zip member
  (UK Biobank bulk field 20252 ships one zip per subject).
* MetaImage (``.mhd`` header + ``.raw`` data), the format of the 2019 CAMUS release. The header
  is ``Key = Value`` text; the data is the raw voxel array, x fastest, so ``DimSize = W H T``
  reads as a numpy array of shape ``(T, H, W)``.
* Resampling to an isotropic voxel size, central crop-or-pad, resizing and per-volume
  normalisation: the preprocessing of the SupReMix paper's §4.1.1/§4.1.5 and App. B.1 (2 mm, central
  crop, zero mean and unit variance) and of SFCN (divide by the mean, central crop 160x192x160).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

Shape3 = tuple[int, int, int]

# MetaImage ElementType -> numpy dtype (little endian; byte order is applied afterwards)
MET_TYPES: dict[str, str] = {
    "MET_UCHAR": "u1",
    "MET_CHAR": "i1",
    "MET_USHORT": "u2",
    "MET_SHORT": "i2",
    "MET_UINT": "u4",
    "MET_INT": "i4",
    "MET_ULONG_LONG": "u8",
    "MET_LONG_LONG": "i8",
    "MET_FLOAT": "f4",
    "MET_DOUBLE": "f8",
}

NORMALIZATIONS = ("zscore", "mean", "none")


NIFTI_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    struct.error,
    nib.filebasedimages.ImageFileError,
    nib.spatialimages.HeaderDataError,
)


def check_finite_array(array: np.ndarray, label: str, what: str = "voxels") -> np.ndarray:
    """``array``, or a ``ValueError`` naming ``label`` and how many values are NaN or infinite
    (a volume, image or series with one would make every loss NaN)."""
    bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise ValueError(f"{label} holds {bad} NaN or infinite {what}; expected finite values")
    return array


def _nifti_array(image: nib.Nifti1Image, canonical: bool) -> tuple[np.ndarray, tuple[float, ...]]:
    if canonical:
        image = nib.as_closest_canonical(image)
    data = image.get_fdata(dtype=np.float32)
    zooms = tuple(float(z) for z in image.header.get_zooms()[: data.ndim])
    return data, zooms


def read_nifti(
    source: str | Path | bytes, *, canonical: bool = False, name: str = "<bytes>"
) -> tuple[np.ndarray, tuple[float, ...]]:
    """Read a NIfTI image as ``(float32 array, voxel sizes)``.

    ``source`` is a path or the bytes of a ``.nii`` / ``.nii.gz`` file (gzip is detected from
    the magic number). ``canonical=True`` reorients to the closest RAS+ orientation first, so
    volumes of different storage orders share one voxel order. ``name`` is used in error
    messages when ``source`` is bytes. Raises ``ValueError`` naming the file when it cannot be
    decoded (a bad header, fewer data bytes than the header declares, a truncated gzip stream)
    or holds NaN or infinite voxels.
    """
    label = str(source) if isinstance(source, (str, Path)) else name
    image: Any  # nibabel's load is typed as returning any image class
    try:
        if isinstance(source, (str, Path)):
            image = nib.load(str(source))
        else:
            raw = gzip.decompress(source) if source[:2] == b"\x1f\x8b" else source
            image = nib.Nifti1Image.from_bytes(raw)
        data, zooms = _nifti_array(image, canonical)
    except NIFTI_ERRORS as error:
        raise ValueError(
            f"cannot read NIfTI {label} ({type(error).__name__}: {error}); expected a "
            "complete NIfTI-1/2 file (.nii or .nii.gz)"
        ) from error
    return check_finite_array(data, f"NIfTI {label}"), zooms


def nifti_bytes(data: np.ndarray, affine: np.ndarray, *, compress: bool = True) -> bytes:
    """The bytes of a NIfTI-1 file holding ``data`` (gzip with a zero timestamp, so the bytes
    depend on the data only: phantoms stay byte-identical for a seed)."""
    raw = nib.Nifti1Image(data, affine).to_bytes()
    return gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw


def mean_over_frames(volume: np.ndarray) -> np.ndarray:
    """A 3-D volume from a 3-D or 4-D array: 4-D frames (last axis) are averaged.

    The SupReMix paper's §4.1.5: each A4 PET scan is the average of its co-registered 5-minute
    frames.
    """
    if volume.ndim == 4:
        return volume.mean(axis=3, dtype=np.float32)
    if volume.ndim == 3:
        return volume
    raise ValueError(f"expected a 3-D or 4-D volume, got shape {volume.shape}")


def read_key_values(path: str | Path, separator: str) -> dict[str, str]:
    """The ``Key <separator> Value`` lines of a text file as a dict (keys as written, both
    sides stripped; lines without the separator are skipped, a repeated key keeps the last)."""
    fields: dict[str, str] = {}
    for line in Path(path).read_text(encoding="latin-1").splitlines():
        if separator in line:
            key, value = line.split(separator, 1)
            fields[key.strip()] = value.strip()
    return fields


def read_mhd_header(path: str | Path) -> dict[str, str]:
    """The ``Key = Value`` fields of a MetaImage header, keys as written."""
    return read_key_values(path, "=")


def read_mhd(path: str | Path) -> tuple[np.ndarray, tuple[float, ...]]:
    """Read a MetaImage ``.mhd`` (+ ``.raw``) file as ``(array, spacing)``.

    The array has numpy order (last ``DimSize`` first), e.g. ``(T, H, W)`` for a CAMUS
    sequence with ``DimSize = W H T``; ``spacing`` is ``ElementSpacing`` in the same reversed
    order. Supports ``ElementDataFile = LOCAL`` and zlib ``CompressedData``. Raises
    ``ValueError`` naming the file for a malformed header or a data file of the wrong size.
    """
    path = Path(path)
    fields = read_mhd_header(path)
    missing = [k for k in ("DimSize", "ElementType", "ElementDataFile") if k not in fields]
    if missing:
        raise ValueError(f"MetaImage header {path} lacks {', '.join(missing)}")
    dims = [int(d) for d in fields["DimSize"].split()]
    if fields["ElementType"] not in MET_TYPES:
        raise ValueError(
            f"MetaImage {path}: unsupported ElementType {fields['ElementType']}; "
            f"expected one of {', '.join(MET_TYPES)}"
        )
    msb = (
        fields.get("BinaryDataByteOrderMSB", fields.get("ElementByteOrderMSB", "False")).lower()
        == "true"
    )
    dtype = np.dtype(MET_TYPES[fields["ElementType"]]).newbyteorder(">" if msb else "<")
    channels = int(fields.get("ElementNumberOfChannels", "1"))
    if fields["ElementDataFile"] == "LOCAL":
        text = path.read_bytes()
        payload = text[text.index(b"ElementDataFile") :].split(b"\n", 1)[1]
    else:
        data_path = path.parent / fields["ElementDataFile"]
        if not data_path.is_file():
            raise ValueError(f"MetaImage {path}: data file {data_path} not found")
        payload = data_path.read_bytes()
    if fields.get("CompressedData", "False").lower() == "true":
        payload = zlib.decompress(payload)
    count = int(np.prod(dims)) * channels
    if len(payload) < count * dtype.itemsize:
        raise ValueError(
            f"MetaImage {path}: data holds {len(payload)} bytes, expected "
            f"{count * dtype.itemsize} for DimSize {dims} of {fields['ElementType']}"
        )
    array = np.frombuffer(payload, dtype=dtype, count=count)
    shape = tuple(reversed(dims)) + ((channels,) if channels > 1 else ())
    spacing = tuple(float(s) for s in fields.get("ElementSpacing", "1 " * len(dims)).split())
    native = array.reshape(shape).astype(dtype.newbyteorder("="))  # a writable copy
    return check_finite_array(native, f"MetaImage {path}"), tuple(reversed(spacing))


def center_crop_or_pad(volume: np.ndarray | torch.Tensor, shape: Sequence[int]):
    """Central crop (where larger) or symmetric zero pad (where smaller) to ``shape``.

    Works on the last ``len(shape)`` axes. With an odd difference the extra voxel is taken
    from (or added at) the end, as SFCN's ``crop_center`` does: x_crop = (182-160)//2 = 11.
    """
    tensor = torch.as_tensor(volume)
    n = len(shape)
    lead = tensor.shape[: tensor.ndim - n]
    index: list[slice] = [slice(None)] * len(lead)
    pads: list[int] = []
    for size, target in zip(tensor.shape[-n:], shape, strict=True):
        if size >= target:
            start = (size - target) // 2
            index.append(slice(start, start + target))
            pads.append(0)
            pads.append(0)
        else:
            index.append(slice(None))
            before = (target - size) // 2
            pads.append(before)
            pads.append(target - size - before)
    cropped = tensor[tuple(index)]
    if any(pads):
        # F.pad lists the last axis first
        flat = [p for axis in reversed(range(n)) for p in pads[2 * axis : 2 * axis + 2]]
        cropped = F.pad(cropped, flat)
    return cropped if isinstance(volume, torch.Tensor) else cropped.numpy()


def resize_volume(volume: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """Resize a 3-D tensor to ``shape``: area averaging when every axis shrinks, else trilinear.

    Area averaging is the anti-aliased choice for downsampling (1 mm -> 2 mm); trilinear
    interpolation (``align_corners=False``) is used as soon as one axis grows.
    """
    depth, height, width = (int(s) for s in shape)
    shape = (depth, height, width)
    if tuple(volume.shape) == shape:
        return volume
    batch = volume[None, None].float()
    if all(t <= s for s, t in zip(volume.shape, shape, strict=True)):
        out = F.adaptive_avg_pool3d(batch, shape)
    else:
        out = F.interpolate(batch, size=shape, mode="trilinear", align_corners=False)
    return out[0, 0]


def resample_to_spacing(
    volume: torch.Tensor, spacing: Sequence[float], target: float
) -> torch.Tensor:
    """Resample a 3-D tensor with voxel sizes ``spacing`` (mm) to isotropic ``target`` mm."""
    shape = [max(1, round(n * s / target)) for n, s in zip(volume.shape, spacing, strict=True)]
    return resize_volume(volume, shape)


def normalize_volume(volume: torch.Tensor, how: str) -> torch.Tensor:
    """Per-volume intensity normalisation.

    ``"zscore"``: zero mean, unit variance (the SupReMix paper, App. B.1.1); ``"mean"``: divide by
    the mean (SFCN ``data / data.mean()``; keeps intensity ratios such as SUVR); ``"none"``. A
    constant volume is returned centred (zscore) or unchanged (mean) instead of dividing by 0.
    """
    if how == "none":
        return volume
    if how == "zscore":
        std = volume.std()
        centred = volume - volume.mean()
        return centred / std if std > 0 else centred
    if how == "mean":
        mean = volume.mean()
        return volume / mean if mean != 0 else volume
    raise ValueError(f"unknown normalisation {how!r}; expected one of {', '.join(NORMALIZATIONS)}")


def as_shape3(value: int | Sequence[int] | None, what: str) -> Shape3 | None:
    """``None``, an int (cube) or three ints, as a 3-tuple; ``ValueError`` otherwise."""
    if value is None:
        return None
    if isinstance(value, int):
        value = (value, value, value)
    shape = tuple(int(v) for v in value)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"{what} must be a positive int or three positive ints, got {value!r}")
    return shape  # type: ignore[return-value]


def preprocess_volume(
    volume: np.ndarray,
    spacing_mm: Sequence[float],
    *,
    spacing: float | None,
    crop: Shape3 | None,
    size: Shape3 | None,
    normalize: str,
) -> torch.Tensor:
    """Resample -> central crop/pad -> resize -> normalise; returns ``(1, D, H, W)`` float32.

    The order follows the SupReMix paper's App. B.1.1 (resample to 2 mm, centre crop to 100^3,
    normalise) with an extra ``size`` step that shrinks the cropped volume for CPU work.
    """
    tensor = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))
    if spacing is not None:
        tensor = resample_to_spacing(tensor, spacing_mm, spacing)
    if crop is not None:
        tensor = center_crop_or_pad(tensor, crop)
    if size is not None:
        tensor = resize_volume(tensor, size)
    return normalize_volume(tensor, normalize).unsqueeze(0).contiguous()
