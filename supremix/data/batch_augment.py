"""What every batched augmentation of :mod:`supremix.data.augment` is built on.

A :class:`BatchAugment` takes a float batch ``(B, C, *spatial)`` (or one item ``(C, *spatial)``)
and an optional :class:`torch.Generator`, draws one set of parameters per sample
(:meth:`~BatchAugment.sample`) and applies them to the whole batch
(:meth:`~BatchAugment.apply`, deterministic). The draws below are made on the generator's device
and then moved to the batch, so a CPU generator gives the same result on every device.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch

Params = dict[str, torch.Tensor]


def uniform_draws(
    batch: int, generator: torch.Generator | None, device: torch.device, *shape: int
) -> torch.Tensor:
    """Uniform [0, 1) draws of shape ``(batch, *shape)``, drawn on the generator's device."""
    source = generator.device if generator is not None else device
    return torch.rand((batch, *shape), generator=generator, device=source).to(device)


def uniform(
    low: float,
    high: float,
    batch: int,
    generator: torch.Generator | None,
    device: torch.device,
    *shape: int,
) -> torch.Tensor:
    return low + (high - low) * uniform_draws(batch, generator, device, *shape)


def randint_draws(
    low: int, high: int, batch: int, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """Integers uniform in ``[low, high]`` (both ends included), one per sample."""
    source = generator.device if generator is not None else device
    drawn = torch.randint(low, high + 1, (batch,), generator=generator, device=source)
    return drawn.to(device)


def value_range(value: float | Sequence[float], name: str) -> tuple[float, float]:
    if isinstance(value, (int, float)):
        return float(value), float(value)
    low, high = (float(v) for v in value)
    if low > high:
        raise ValueError(f"{name} range ({low}, {high}) has low > high")
    return low, high


def per_sample(values: torch.Tensor, ndim: int) -> torch.Tensor:
    """``(B,)`` values shaped to broadcast over a ``ndim``-dimensional batch."""
    return values.reshape(-1, *([1] * (ndim - 1)))


class BatchAugment(ABC):
    """Base class: a random transform of ``(B, C, *spatial)`` float batches.

    ``spatial_dims`` is the number of trailing spatial axes (2 for images, 3 for volumes and
    for videos laid out ``(C, T, H, W)``).
    """

    spatial_dims: int = 2

    @abstractmethod
    def sample(self, batch_size: int, generator: torch.Generator | None, device) -> Params:
        """The random parameters of ``batch_size`` samples, as tensors on ``device``."""

    @abstractmethod
    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """The transform of batch ``x`` with the given per-sample parameters."""

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        unbatched = x.ndim == self.spatial_dims + 1
        batch = x.unsqueeze(0) if unbatched else x
        if batch.ndim != self.spatial_dims + 2:
            raise ValueError(
                f"{type(self).__name__} expects (B, C, {self.spatial_dims} spatial axes) or "
                f"(C, {self.spatial_dims} spatial axes), got shape {tuple(x.shape)}"
            )
        if not batch.is_floating_point():
            raise TypeError(f"{type(self).__name__} expects a float tensor, got {x.dtype}")
        out = self.apply(batch, self.sample(batch.shape[0], generator, batch.device))
        return out[0] if unbatched else out


class Compose:
    """Apply augmentations in order, all drawing from the same generator."""

    def __init__(self, augmentations: Sequence[BatchAugment]):
        self.augmentations = list(augmentations)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for augmentation in self.augmentations:
            x = augmentation(x, generator)
        return x

    def __repr__(self) -> str:
        inner = ", ".join(type(a).__name__ for a in self.augmentations)
        return f"Compose([{inner}])"
