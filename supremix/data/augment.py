"""Batched data augmentation with per-sample random parameters, for CPU or GPU tensors.

Every augmentation takes a float batch ``(B, C, *spatial)`` (or one item ``(C, *spatial)``)
and an optional :class:`torch.Generator`, draws one set of parameters per sample, and applies
them to the whole batch in a few tensor operations (one ``grid_sample`` for a geometric
transform), so it runs where the batch lives. Parameters are drawn on the generator's device
and then moved to the batch, so a CPU generator gives the same result on every device.

Each class splits into :meth:`BatchAugment.sample` (the random parameters) and
:meth:`BatchAugment.apply` (a deterministic function of the batch and the parameters).

What the papers use, per modality (:func:`default_augmentation`):

* 2-D X-ray, supervised (the SupReMix paper, App. B.1.3): rotation within +-10 degrees, horizontal
  flip,
  brightness and contrast, random crop with padding (16 px at the papers' sizes, less on
  smaller images: :class:`RandomScaledPadCrop`).
* 2-D, SimCLR-style baselines (the SupReMix paper, §5, "color distortion and cropping" [21]; Mixup
  Your Own Pairs
  Table 13, CJ + RC): random resized crop, flip, colour jitter (p 0.8), grayscale (p 0.2).
* 3-D volumes (the SupReMix paper, §5: rotation, flipping, zooming and colour distortion, after
  [44]).
* Video (the SupReMix paper, App. B.1.4 and the AdaCon paper's §IV-C: frame jitter; random crop
  after zero
  padding by 12 pixels, as the EchoNet-Dynamic training code does).
* Time series and tabular data: none (the SupReMix paper, §5, Mixup Your Own Pairs' App. C.1).

The magnitudes the papers do not state (brightness, zoom, padding, jitter) are this module's
defaults, listed in each class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .batch_augment import (
    BatchAugment,
    Compose,
    Params,
    per_sample,
    randint_draws,
    uniform,
    uniform_draws,
    value_range,
)
from .intensity import (
    RandomBrightnessContrast,
    RandomColorJitter,
    RandomGrayscale,
    RandomScaleShift,
)


def _grid_sample(x: torch.Tensor, theta: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Resample ``x`` at ``theta @ [q, 1]`` for output coordinates ``q`` (bilinear, zeros)."""
    grid = F.affine_grid(theta.to(x.dtype), [x.shape[0], x.shape[1], *size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def pixel_to_normalized(matrix: torch.Tensor, sizes_xyz: Sequence[int]) -> torch.Tensor:
    """``D^-1 M D`` with ``D = diag(sizes / 2)``: a map of centred pixel coordinates as a map
    of ``affine_grid``'s normalised coordinates (axes ordered x, y[, z] = W, H[, D])."""
    half = torch.tensor([s / 2 for s in sizes_xyz], dtype=matrix.dtype, device=matrix.device)
    return matrix * half[None, None, :] / half[None, :, None]


def _warp_about_centre(x: torch.Tensor, linear: torch.Tensor) -> torch.Tensor:
    """``x`` resampled so that the output at centred pixel position ``u`` (axes x, y[, z])
    takes the input at ``linear @ u``, for per-sample matrices ``linear`` ``(B, n, n)``."""
    spatial = tuple(x.shape[2:])
    linear = pixel_to_normalized(linear, spatial[::-1])
    theta = torch.cat([linear, torch.zeros_like(linear[:, :, :1])], dim=2)
    return _grid_sample(x, theta, spatial)


def _zoom_range(zoom: Sequence[float]) -> tuple[float, float]:
    low, high = value_range(zoom, "zoom")
    if low <= 0:
        raise ValueError(f"zoom must be > 0, got {(low, high)}")
    return low, high


class RandomAffine2d(BatchAugment):
    """Rotation about the image centre and isotropic zoom, one draw per sample.

    The output pixel at centred pixel position ``u`` takes the input value at
    ``R(angle) u / zoom`` (bilinear, zeros outside), so rotation is a true rotation on
    non-square images. ``degrees`` +-10 follows the SupReMix paper's App. B.1.3.
    """

    spatial_dims = 2

    def __init__(self, degrees: float | Sequence[float] = 10.0, zoom: Sequence[float] = (1, 1)):
        if isinstance(degrees, (int, float)):
            self.degrees = (-abs(float(degrees)), abs(float(degrees)))
        else:
            self.degrees = value_range(degrees, "degrees")
        self.zoom = _zoom_range(zoom)

    def sample(self, batch_size, generator, device) -> Params:
        angle = uniform(*self.degrees, batch_size, generator, device) * (math.pi / 180)
        zoom = uniform(*self.zoom, batch_size, generator, device)
        return {"angle": angle, "zoom": zoom}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        angle = params["angle"].double()
        cos, sin = torch.cos(angle), torch.sin(angle)
        linear = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        return _warp_about_centre(x, linear / params["zoom"].double()[:, None, None])


def _rotation_3d(angles: torch.Tensor) -> torch.Tensor:
    """``Rz @ Ry @ Rx`` for ``angles`` ``(B, 3)`` = rotations about x, y, z (radians)."""
    cos, sin = torch.cos(angles), torch.sin(angles)
    one, zero = torch.ones_like(cos[:, 0]), torch.zeros_like(cos[:, 0])

    def matrix(rows):
        return torch.stack([torch.stack(row, -1) for row in rows], -2)

    rx = matrix([[one, zero, zero], [zero, cos[:, 0], -sin[:, 0]], [zero, sin[:, 0], cos[:, 0]]])
    ry = matrix([[cos[:, 1], zero, sin[:, 1]], [zero, one, zero], [-sin[:, 1], zero, cos[:, 1]]])
    rz = matrix([[cos[:, 2], -sin[:, 2], zero], [sin[:, 2], cos[:, 2], zero], [zero, zero, one]])
    return rz @ ry @ rx


class RandomAffine3d(BatchAugment):
    """Rotation about each axis of a volume and isotropic zoom, one draw per sample.

    Batches are ``(B, C, D, H, W)``; the output voxel at centred position ``u`` (x, y, z) takes
    the input at ``R u / zoom``. Defaults (+-10 degrees, zoom 0.9-1.1) are this library's
    choice for the SupReMix paper's "rotation, flipping, zooming" of volumes.
    """

    spatial_dims = 3

    def __init__(self, degrees: float = 10.0, zoom: Sequence[float] = (0.9, 1.1)):
        self.degrees = abs(float(degrees))
        self.zoom = _zoom_range(zoom)

    def sample(self, batch_size, generator, device) -> Params:
        angles = uniform(-self.degrees, self.degrees, batch_size, generator, device, 3)
        zoom = uniform(*self.zoom, batch_size, generator, device)
        return {"angles": angles * (math.pi / 180), "zoom": zoom}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        linear = _rotation_3d(params["angles"].double()) / params["zoom"].double()[:, None, None]
        return _warp_about_centre(x, linear)


class RandomResizedCrop2d(BatchAugment):
    """Crop a random box and resize it to ``size`` (SimCLR's crop, Mixup Your Own Pairs' Table 13
    "RC").

    The box covers a fraction ``U(scale)`` of the image area with aspect ratio (width/height)
    log-uniform in ``ratio``; sides longer than the image are clipped to it (torchvision
    instead redraws). The box centre is uniform over the positions that keep it inside.
    """

    spatial_dims = 2

    def __init__(
        self,
        size: int | Sequence[int],
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3 / 4, 4 / 3),
    ):
        self.size = (int(size), int(size)) if isinstance(size, int) else tuple(map(int, size))
        self.scale = value_range(scale, "scale")
        self.ratio = value_range(ratio, "ratio")
        if not 0 < self.scale[0] <= self.scale[1] <= 1 or self.ratio[0] <= 0:
            raise ValueError(f"need 0 < scale <= 1 and ratio > 0, got {scale} and {ratio}")

    def sample(self, batch_size, generator, device) -> Params:
        area = uniform(*self.scale, batch_size, generator, device)
        low, high = (math.log(r) for r in self.ratio)
        log_ratio = uniform(low, high, batch_size, generator, device)
        centre = uniform(-1.0, 1.0, batch_size, generator, device, 2)
        return {"area": area, "ratio": torch.exp(log_ratio), "centre": centre}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        height, width = x.shape[-2:]
        area = params["area"] * height * width
        box_w = (torch.sqrt(area * params["ratio"]) / width).clamp(max=1.0)
        box_h = (torch.sqrt(area / params["ratio"]) / height).clamp(max=1.0)
        cx = params["centre"][:, 0] * (1 - box_w)
        cy = params["centre"][:, 1] * (1 - box_h)
        zero = torch.zeros_like(box_w)
        theta = torch.stack(
            [torch.stack([box_w, zero, cx], -1), torch.stack([zero, box_h, cy], -1)], -2
        )
        return _grid_sample(x, theta, self.size)


class RandomFlip(BatchAugment):
    """Mirror each sample along each of ``axes`` with probability ``p`` (independent coins)."""

    def __init__(self, spatial_dims: int = 2, axes: Sequence[int] = (-1,), p: float = 0.5):
        self.spatial_dims = spatial_dims
        self.axes = tuple(axes)
        if any(not -spatial_dims <= a < 0 for a in self.axes):
            raise ValueError(
                f"axes must be negative spatial axes in [-{spatial_dims}, -1], got {self.axes}"
            )
        self.p = p

    def sample(self, batch_size, generator, device) -> Params:
        return {"flip": uniform_draws(batch_size, generator, device, len(self.axes)) < self.p}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        for k, axis in enumerate(self.axes):
            x = torch.where(per_sample(params["flip"][:, k], x.ndim), x.flip(axis), x)
        return x


def _shift_along(x: torch.Tensor, axis: int, start: torch.Tensor, length: int) -> torch.Tensor:
    """``x[b, ..., start[b] : start[b] + length, ...]`` along ``axis`` for every sample."""
    shape = [1] * x.ndim
    shape[axis] = length
    steps = torch.arange(length, device=x.device).reshape(shape)
    index = per_sample(start, x.ndim) + steps
    target = list(x.shape)
    target[axis] = length
    return torch.gather(x, axis % x.ndim, index.expand(target))


def _pad_crop(
    x: torch.Tensor, axes: Sequence[int], padding: int, offsets: torch.Tensor
) -> torch.Tensor:
    """Zero-pad ``padding`` on both sides of ``axes``, then keep the original length from
    ``offsets[b, k]`` along axis ``axes[k]`` of sample ``b``."""
    pad = [0] * (2 * x.ndim)
    for axis in axes:
        pad[2 * (-axis - 1)] = pad[2 * (-axis - 1) + 1] = padding
    padded = F.pad(x, pad)
    for k, axis in enumerate(axes):
        padded = _shift_along(padded, axis, offsets[:, k], x.shape[axis])
    return padded


class RandomPadCrop(BatchAugment):
    """Zero-pad ``padding`` pixels on each side of ``axes`` and crop back at a random offset.

    EchoNet-Dynamic frames (``spatial_dims=3``, axes H and W, the same crop for every frame of
    a clip, ``padding=12``). For images whose size varies, :class:`RandomScaledPadCrop`.
    """

    def __init__(self, padding: int, spatial_dims: int = 2, axes: Sequence[int] = (-2, -1)):
        if padding < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        self.padding = int(padding)
        self.spatial_dims = spatial_dims
        self.axes = tuple(axes)

    def sample(self, batch_size, generator, device) -> Params:
        offsets = [
            randint_draws(0, 2 * self.padding, batch_size, generator, device) for _ in self.axes
        ]
        return {"offset": torch.stack(offsets, -1)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return _pad_crop(x, self.axes, self.padding, params["offset"])


class RandomScaledPadCrop(BatchAugment):
    """Random crop with zero padding whose padding follows the image size.

    Padding ``p = min(pixels, round(pixels * S / reference))`` on each side, with ``S`` the
    shorter side of the image: 16 px on 224x224 (the DIR benchmark's ``RandomCrop(224,
    padding=16)``, a shift of up to 1/14 of the side) and above, so 16 px at every size of the
    seeds (224x224 faces, 520x400 X-rays: the SupReMix paper's App. B.1.3 "random cropping with
    padding"); smaller images get the same relative shift (3 px on a 64x48 phantom instead of a
    third of its width). Offsets are uniform over the ``2p + 1`` positions of each axis.
    """

    spatial_dims = 2

    def __init__(self, pixels: int = 16, reference: int = 224, axes: Sequence[int] = (-2, -1)):
        if pixels < 0 or reference <= 0:
            raise ValueError(f"need pixels >= 0 and reference > 0, got {pixels} and {reference}")
        self.pixels, self.reference = int(pixels), int(reference)
        self.axes = tuple(axes)

    def padding_for(self, shape: Sequence[int]) -> int:
        """The padding of images whose last two axes are ``shape[-2:]``."""
        shorter = min(shape[-2:])
        return min(self.pixels, math.floor(self.pixels * shorter / self.reference + 0.5))

    def sample(self, batch_size, generator, device) -> Params:
        return {"position": uniform_draws(batch_size, generator, device, len(self.axes))}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        padding = self.padding_for(x.shape)
        offsets = (params["position"] * (2 * padding + 1)).long().clamp(max=2 * padding)
        return _pad_crop(x, self.axes, padding, offsets)


class FrameJitter(BatchAugment):
    """Shift each clip in time by a random whole number of frames in ``[-max_shift, max_shift]``.

    Batches are ``(B, C, T, H, W)``; output frame ``t`` is input frame
    ``clamp(t + shift, 0, T - 1)`` (the first or last frame repeats at the edge). Frame jitter is
    the EchoNet augmentation of the SupReMix paper's App. B.1.4 and the AdaCon paper's §IV-C.
    """

    spatial_dims = 3

    def __init__(self, max_shift: int = 4):
        if max_shift < 0:
            raise ValueError(f"max_shift must be >= 0, got {max_shift}")
        self.max_shift = int(max_shift)

    def sample(self, batch_size, generator, device) -> Params:
        return {
            "shift": randint_draws(-self.max_shift, self.max_shift, batch_size, generator, device)
        }

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        frames = x.shape[2]
        index = (torch.arange(frames, device=x.device)[None, :] + params["shift"][:, None]).clamp(
            0, frames - 1
        )
        index = index[:, None, :, None, None].expand(x.shape)
        return torch.gather(x, 2, index)


def default_augmentation(
    modality: str,
    *,
    style: str = "supervised",
    image_size: int | Sequence[int] | None = None,
) -> Compose | None:
    """The augmentation the papers use for ``modality`` (``None`` where they use none).

    ``style="supervised"`` is the SupReMix training recipe; ``"simclr"`` the SimCLR-style
    colour distortion and resized crop of the contrastive baselines (2-D only; needs
    ``image_size``).
    """
    if style not in ("supervised", "simclr"):
        raise ValueError(f"unknown style {style!r}; expected 'supervised' or 'simclr'")
    if modality in ("timeseries", "tabular", "text"):
        return None
    if modality == "image2d" and style == "simclr":
        if image_size is None:
            raise ValueError("style='simclr' needs image_size (the crop's output size)")
        return Compose(
            [
                RandomResizedCrop2d(image_size),
                RandomFlip(2, (-1,)),
                RandomColorJitter(),
                RandomGrayscale(),
            ]
        )
    if style == "simclr":
        raise ValueError(f"style='simclr' is defined for image2d only, not {modality!r}")
    if modality == "image2d":
        return Compose(
            [
                RandomAffine2d(degrees=10.0),
                RandomFlip(2, (-1,)),
                RandomBrightnessContrast(0.2, 0.2),
                RandomScaledPadCrop(16),
            ]
        )
    if modality == "volume3d":
        return Compose([RandomAffine3d(), RandomFlip(3, (-3, -2, -1)), RandomScaleShift(0.1, 0.1)])
    if modality == "video":
        return Compose([FrameJitter(4), RandomPadCrop(12, spatial_dims=3, axes=(-2, -1))])
    raise ValueError(
        f"unknown modality {modality!r}; expected image2d, volume3d, video, timeseries or tabular"
    )
