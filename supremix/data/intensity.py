"""Batched intensity augmentations: brightness and contrast, scale and shift, colour jitter,
grayscale (the SupReMix paper App. B.1.3 and §5; the SimCLR-style colour distortion of Mixup Your
Own Pairs Table 13). Parameters are drawn per sample as :mod:`supremix.data.batch_augment`
describes; :func:`supremix.data.augment.default_augmentation` picks them per modality.
"""

from __future__ import annotations

import math

import torch

from .batch_augment import BatchAugment, Params, per_sample, uniform, uniform_draws


class RandomBrightnessContrast(BatchAugment):
    """``x * b`` then ``(x - mean) * c + mean`` with ``b ~ U(1 +- brightness)``,
    ``c ~ U(1 +- contrast)`` per sample; ``mean`` is the sample's mean after brightness.

    The SupReMix paper's App. B.1.3 ("brightness and contrast adjustments"). ``clip`` = ``(low,
    high)`` clamps the result (use ``(0, 1)`` for images scaled to [0, 1]).
    """

    def __init__(
        self,
        brightness: float = 0.2,
        contrast: float = 0.2,
        spatial_dims: int = 2,
        clip: tuple[float, float] | None = None,
    ):
        self.brightness, self.contrast = float(brightness), float(contrast)
        self.spatial_dims = spatial_dims
        self.clip = clip

    def sample(self, batch_size, generator, device) -> Params:
        b = uniform(1 - self.brightness, 1 + self.brightness, batch_size, generator, device)
        c = uniform(1 - self.contrast, 1 + self.contrast, batch_size, generator, device)
        return {"brightness": b, "contrast": c}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        x = x * per_sample(params["brightness"], x.ndim).to(x.dtype)
        mean = x.mean(dim=tuple(range(1, x.ndim)), keepdim=True)
        x = (x - mean) * per_sample(params["contrast"], x.ndim).to(x.dtype) + mean
        return x if self.clip is None else x.clamp(*self.clip)


class RandomScaleShift(BatchAugment):
    """Intensity ``x * (1 + s) + o`` with ``s ~ U(+-scale)``, ``o ~ U(+-shift)`` per sample.

    The "colour distortion" of z-scored volumes (the SupReMix paper, §5, after [44]).
    """

    def __init__(self, scale: float = 0.1, shift: float = 0.1, spatial_dims: int = 3):
        self.scale, self.shift = float(scale), float(shift)
        self.spatial_dims = spatial_dims

    def sample(self, batch_size, generator, device) -> Params:
        return {
            "scale": uniform(-self.scale, self.scale, batch_size, generator, device),
            "shift": uniform(-self.shift, self.shift, batch_size, generator, device),
        }

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        scale = per_sample(1 + params["scale"], x.ndim).to(x.dtype)
        return x * scale + per_sample(params["shift"], x.ndim).to(x.dtype)


_LUMA = (0.299, 0.587, 0.114)


def _luma(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma of an RGB batch ``(B, 3, ...)``, keeping the channel axis."""
    weights = torch.tensor(_LUMA, dtype=x.dtype, device=x.device)
    return torch.einsum("bc...,c->b...", x, weights).unsqueeze(1)


class RandomColorJitter(BatchAugment):
    """SimCLR colour distortion (Mixup Your Own Pairs, Table 13 "CJ"), applied with probability
    ``p``.

    Brightness ``x * b``; contrast ``(x - m) * c + m`` with ``m`` the sample's mean luma;
    saturation ``(x - luma) * s + luma``; hue: rotation of the chroma plane of YIQ by
    ``2 pi h``, ``h ~ U(+-hue)``. Factors ``b, c, s ~ U(1 +- strength)``. Applied in this fixed
    order (torchvision shuffles it). Single-channel batches get brightness and contrast only.
    """

    spatial_dims = 2

    def __init__(
        self,
        brightness: float = 0.4,
        contrast: float = 0.4,
        saturation: float = 0.4,
        hue: float = 0.1,
        p: float = 0.8,
        clip: tuple[float, float] | None = (0.0, 1.0),
    ):
        self.strength = {"brightness": brightness, "contrast": contrast, "saturation": saturation}
        self.hue, self.p, self.clip = float(hue), float(p), clip

    def sample(self, batch_size, generator, device) -> Params:
        params = {
            name: uniform(1 - s, 1 + s, batch_size, generator, device)
            for name, s in self.strength.items()
        }
        params["hue"] = uniform(-self.hue, self.hue, batch_size, generator, device)
        applied = uniform_draws(batch_size, generator, device) < self.p
        for name in ("brightness", "contrast", "saturation"):
            params[name] = torch.where(applied, params[name], torch.ones_like(params[name]))
        params["hue"] = torch.where(applied, params["hue"], torch.zeros_like(params["hue"]))
        return params

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        def factor(name):
            return per_sample(params[name], x.ndim).to(x.dtype)

        x = x * factor("brightness")
        gray = _luma(x) if x.shape[1] == 3 else x.mean(dim=1, keepdim=True)
        mean = gray.mean(dim=tuple(range(1, x.ndim)), keepdim=True)
        x = (x - mean) * factor("contrast") + mean
        if x.shape[1] == 3:
            gray = _luma(x)
            x = (x - gray) * factor("saturation") + gray
            x = _rotate_hue(x, params["hue"])
        return x if self.clip is None else x.clamp(*self.clip)


_RGB_TO_YIQ = (
    (0.299, 0.587, 0.114),
    (0.595716, -0.274453, -0.321263),
    (0.211456, -0.522591, 0.311135),
)


def _rotate_hue(x: torch.Tensor, hue: torch.Tensor) -> torch.Tensor:
    """Rotate the I/Q chroma of RGB batch ``x`` by ``2 pi hue`` per sample."""
    to_yiq = torch.tensor(_RGB_TO_YIQ, dtype=torch.float64, device=x.device)
    angle = 2 * math.pi * hue.double()
    cos, sin = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(cos), torch.zeros_like(cos)
    rotation = torch.stack(
        [
            torch.stack([one, zero, zero], -1),
            torch.stack([zero, cos, -sin], -1),
            torch.stack([zero, sin, cos], -1),
        ],
        -2,
    )
    matrix = (torch.linalg.inv(to_yiq) @ rotation @ to_yiq).to(x.dtype)
    return torch.einsum("bij,bj...->bi...", matrix, x)


class RandomGrayscale(BatchAugment):
    """Replace an RGB sample by its luma in all three channels with probability ``p``."""

    spatial_dims = 2

    def __init__(self, p: float = 0.2):
        self.p = float(p)

    def sample(self, batch_size, generator, device) -> Params:
        return {"gray": uniform_draws(batch_size, generator, device) < self.p}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        if x.shape[1] != 3:
            return x
        return torch.where(per_sample(params["gray"], x.ndim), _luma(x).expand_as(x), x)
