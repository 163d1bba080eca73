"""Deep imbalanced regression: label and feature distribution smoothing (LDS, FDS; Yang et al.
2021), the baselines SupReMix is combined with in the SupReMix paper's App. D.3 (Table 16) and Mixup
Your Own Pairs Table 5.

Labels are grouped into bins of ``bin_size`` starting at the smallest training label
(:class:`LabelBins`). A symmetric kernel of ``kernel_size`` (odd) taps over neighbouring bins,
``gaussian`` ``exp(-k^2 / (2 sigma^2))``, ``laplace`` ``exp(-|k| / sigma)`` or ``triang``
``1 - |k| / (h + 1)`` for offsets ``k = -h..h``, smooths per-bin quantities; the defaults are
the original's (gaussian, 5 taps, sigma 2).

* **LDS** (:func:`lds_weights`): the per-bin count (``inverse``) or its square root
  (``sqrt_inv``, the original's default) is convolved with the kernel (zeros beyond the label
  range); a sample's weight is ``1 / smoothed value`` of its bin, rescaled so that the weights
  of the training samples average 1. The original clips counts to [5, 1000] for ``inverse`` on
  AgeDB; no clipping here.
* **FDS** (:class:`FDS`): running per-bin feature means and variances are kept once per epoch
  (:meth:`FDS.update`, momentum 0.9: ``running <- m running + (1 - m) epoch statistics``; a bin
  seen for the first time takes its statistics as they are); their kernel-smoothed versions
  (kernel normalised to sum 1, reflected at the ends of the label range) are the calibration
  targets. In training mode, once ``start_smooth`` updates have happened, a feature of bin
  ``b`` becomes ``(f - mu_b) * sqrt(clip(smoothed_var_b / var_b, 0.1, 10)) + smoothed_mu_b``;
  in evaluation mode features pass unchanged. The original calibrates with the statistics of
  one epoch earlier than the latest; here the latest are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

KERNELS = ("gaussian", "triang", "laplace")
REWEIGHTS = ("sqrt_inv", "inverse")
VARIANCE_RATIO_CLIP = (0.1, 10.0)


def smoothing_kernel(kind: str = "gaussian", size: int = 5, sigma: float = 2.0) -> np.ndarray:
    """The kernel's ``size`` taps at offsets ``-h..h`` (``h = (size - 1) / 2``), peak 1."""
    if kind not in KERNELS:
        raise ValueError(f"kernel={kind!r} is not valid; expected one of {', '.join(KERNELS)}")
    if not (isinstance(size, int | np.integer) and size >= 1 and size % 2 == 1):
        raise ValueError(f"kernel_size must be a positive odd integer, got {size!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    half = (size - 1) // 2
    k = np.arange(-half, half + 1, dtype=np.float64)
    if kind == "gaussian":
        return np.exp(-(k**2) / (2.0 * sigma**2))
    if kind == "laplace":
        return np.exp(-np.abs(k) / sigma)
    return 1.0 - np.abs(k) / (half + 1)


def smoothing_matrix(n_bins: int, kernel: np.ndarray, *, boundary: str) -> np.ndarray:
    """``(n_bins, n_bins)`` matrix ``S`` with ``S @ v`` the kernel-smoothed per-bin ``v``.

    ``boundary="zeros"``: bins beyond the range count as 0 (LDS). ``boundary="reflect"``: an
    offset past an end reflects back without repeating the edge bin, and the kernel is
    normalised to sum 1, so every row sums to 1 (FDS).
    """
    half = (len(kernel) - 1) // 2
    if boundary == "reflect":
        kernel = kernel / kernel.sum()
    elif boundary != "zeros":
        raise ValueError(f"boundary must be 'zeros' or 'reflect', got {boundary!r}")
    matrix = np.zeros((n_bins, n_bins))
    for b in range(n_bins):
        for offset, w in zip(range(-half, half + 1), kernel, strict=True):
            j = b + offset
            if boundary == "zeros":
                if 0 <= j < n_bins:
                    matrix[b, j] += w
                continue
            matrix[b, _reflect(j, n_bins)] += w
    return matrix


def _reflect(j: int, n: int) -> int:
    if n == 1:
        return 0
    period = 2 * (n - 1)
    j = abs(j) % period
    return period - j if j >= n else j


@dataclass(frozen=True)
class LabelBins:
    """Bins ``[start + i * size, start + (i + 1) * size)``, ``i = 0..count-1``; labels outside
    go to the nearest end bin."""

    start: float
    size: float
    count: int

    @classmethod
    def from_labels(cls, labels: np.ndarray | Tensor, bin_size: float = 1.0) -> LabelBins:
        """Bins covering the range of ``labels`` (the training labels)."""
        values = np.asarray(torch.as_tensor(labels).cpu(), dtype=np.float64).reshape(-1)
        if values.size == 0:
            raise ValueError("cannot bin an empty set of labels")
        if not np.isfinite(values).all():
            raise ValueError("labels must be finite to be binned")
        if not bin_size > 0:
            raise ValueError(f"bin_size must be > 0, got {bin_size}")
        start = float(values.min())
        count = int(np.floor((values.max() - start) / bin_size)) + 1
        return cls(start, float(bin_size), count)

    def index(self, labels: Tensor) -> Tensor:
        """Bin index (int64) of each label, on the labels' device."""
        raw = torch.floor((labels.to(torch.float64) - self.start) / self.size)
        return raw.clamp(0, self.count - 1).to(torch.int64).reshape(-1)


class LDSWeights(nn.Module):
    """Per-sample LDS weights looked up from the label's bin: ``lds(labels) -> weights``.

    The table is a buffer, so the weights follow the module to the labels' device.
    """

    table: Tensor  # buffers (register_buffer) declared for type checkers

    def __init__(self, bins: LabelBins, table: np.ndarray):
        super().__init__()
        self.bins = bins
        self.register_buffer("table", torch.as_tensor(table, dtype=torch.float32))

    @classmethod
    def fit(
        cls,
        train_labels: np.ndarray | Tensor,
        *,
        bin_size: float = 1.0,
        kernel: str = "gaussian",
        kernel_size: int = 5,
        sigma: float = 2.0,
        reweight: str = "sqrt_inv",
    ) -> LDSWeights:
        """The weights of ``train_labels`` (module docstring, "LDS")."""
        if reweight not in REWEIGHTS:
            raise ValueError(
                f"reweight={reweight!r} is not valid; expected one of {', '.join(REWEIGHTS)}"
            )
        taps = smoothing_kernel(kernel, kernel_size, sigma)
        bins = LabelBins.from_labels(train_labels, bin_size)
        index = bins.index(torch.as_tensor(np.asarray(train_labels, dtype=np.float64))).numpy()
        counts = np.bincount(index, minlength=bins.count).astype(np.float64)
        values = np.sqrt(counts) if reweight == "sqrt_inv" else counts
        smoothed = smoothing_matrix(bins.count, taps, boundary="zeros") @ values
        inverse = np.divide(1.0, smoothed, out=np.zeros_like(smoothed), where=smoothed > 0)
        table = inverse * len(index) / np.sum(inverse[index])
        return cls(bins, table)

    def forward(self, labels: Tensor) -> Tensor:
        return self.table[self.bins.index(labels).to(self.table.device)]


def lds_weights(train_labels: np.ndarray | Tensor, **settings: Any) -> np.ndarray:
    """LDS weight of every training sample (float64, mean 1); module docstring, "LDS".

    ``settings`` are those of :meth:`LDSWeights.fit` (``bin_size``, ``kernel``,
    ``kernel_size``, ``sigma``, ``reweight``).
    """
    lds = LDSWeights.fit(train_labels, **settings)
    labels = torch.as_tensor(np.asarray(train_labels, dtype=np.float64))
    weights = lds.table.double()[lds.bins.index(labels)].numpy()
    return weights * len(weights) / weights.sum()


class FDS(nn.Module):
    """Feature distribution smoothing of ``(n, feature_dim)`` features (module docstring).

    ``forward(features, labels)`` calibrates in training mode only; :meth:`update` (or
    :meth:`bin_moments` summed over an epoch's batches, then :meth:`update_from_moments`) is
    called once per epoch. The statistics are buffers: they are part of ``state_dict()``.
    """

    # buffers (register_buffer) declared for type checkers
    smoothing: Tensor
    running_mean: Tensor
    running_var: Tensor
    smoothed_mean: Tensor
    smoothed_var: Tensor
    bin_updates: Tensor
    updates: Tensor

    def __init__(
        self,
        feature_dim: int,
        bins: LabelBins,
        *,
        kernel: str = "gaussian",
        kernel_size: int = 5,
        sigma: float = 2.0,
        momentum: float = 0.9,
        start_smooth: int = 1,
    ):
        super().__init__()
        if feature_dim < 1:
            raise ValueError(f"feature_dim must be >= 1, got {feature_dim}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if start_smooth < 0:
            raise ValueError(f"start_smooth must be >= 0, got {start_smooth}")
        self.bins = bins
        self.momentum = momentum
        self.start_smooth = start_smooth
        smoothing = smoothing_matrix(
            bins.count, smoothing_kernel(kernel, kernel_size, sigma), boundary="reflect"
        )
        shape = (bins.count, feature_dim)
        self.register_buffer("smoothing", torch.tensor(smoothing, dtype=torch.float32), False)
        self.register_buffer("running_mean", torch.zeros(shape))
        self.register_buffer("running_var", torch.ones(shape))
        self.register_buffer("smoothed_mean", torch.zeros(shape))
        self.register_buffer("smoothed_var", torch.ones(shape))
        self.register_buffer("bin_updates", torch.zeros(bins.count, dtype=torch.int64))
        self.register_buffer("updates", torch.zeros((), dtype=torch.int64))

    @classmethod
    def from_labels(
        cls, feature_dim: int, train_labels: np.ndarray | Tensor, *, bin_size: float = 1.0, **kw
    ) -> FDS:
        """An FDS layer whose bins cover ``train_labels``; ``kw`` as in the constructor."""
        return cls(feature_dim, LabelBins.from_labels(train_labels, bin_size), **kw)

    def bin_moments(self, features: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Per-bin ``(count, sum, sum of squares)`` of ``features``, to be summed over the
        batches (and processes) of an epoch; float64 (float32 on MPS)."""
        self._check(features, labels)
        dtype = torch.float32 if features.device.type == "mps" else torch.float64
        f = features.detach().to(dtype)
        index = self.bins.index(labels).to(f.device)
        count = torch.zeros(self.bins.count, dtype=dtype, device=f.device)
        count.index_add_(0, index, torch.ones_like(index, dtype=dtype))
        total = torch.zeros(self.bins.count, f.shape[1], dtype=dtype, device=f.device)
        squares = torch.zeros_like(total)
        total.index_add_(0, index, f)
        squares.index_add_(0, index, f * f)
        return count, total, squares

    @torch.no_grad()
    def update(self, features: Tensor, labels: Tensor) -> None:
        """Fold one epoch's ``features`` (with their ``labels``) into the running statistics."""
        self.update_from_moments(*self.bin_moments(features, labels))

    @torch.no_grad()
    def update_from_moments(self, count: Tensor, total: Tensor, squares: Tensor) -> None:
        """:meth:`update` from :meth:`bin_moments` sums. Variances are unbiased (0 for a bin
        with one sample); bins without samples keep their statistics."""
        count = count.to(self.running_mean.device, torch.float64)
        total = total.to(count.device, torch.float64)
        squares = squares.to(count.device, torch.float64)
        present = count > 0
        n = count.clamp_min(1.0)[:, None]
        mean = total / n
        var = ((squares - n * mean**2) / (n - 1).clamp_min(1.0)).clamp_min(0.0)
        factor = torch.where(self.bin_updates > 0, self.momentum, 0.0).to(torch.float64)[:, None]
        new_mean = factor * self.running_mean.double() + (1 - factor) * mean
        new_var = factor * self.running_var.double() + (1 - factor) * var
        keep = present[:, None]
        self.running_mean.copy_(torch.where(keep, new_mean, self.running_mean.double()))
        self.running_var.copy_(torch.where(keep, new_var, self.running_var.double()))
        self.smoothed_mean.copy_(self.smoothing @ self.running_mean)
        self.smoothed_var.copy_(self.smoothing @ self.running_var)
        self.bin_updates += present.to(torch.int64)
        self.updates += 1

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        if not self.training:
            return features
        self._check(features, labels)
        index = self.bins.index(labels).to(features.device)
        low, high = VARIANCE_RATIO_CLIP
        var = self.running_var[index]
        ratio = (self.smoothed_var[index] / var.clamp_min(1e-12)).clamp(low, high)
        centred = features.float() - self.running_mean[index]
        calibrated = centred * ratio.sqrt() + self.smoothed_mean[index]
        # a tensor comparison, not ``if``: no device synchronisation per step
        return torch.where(self.updates >= self.start_smooth, calibrated, features.float())

    def _check(self, features: Tensor, labels: Tensor) -> None:
        expected = self.running_mean.shape[1]
        if features.ndim != 2 or features.shape[1] != expected:
            raise ValueError(
                f"FDS expects features of shape (n, {expected}), got {tuple(features.shape)}"
            )
        if labels.reshape(-1).shape[0] != features.shape[0]:
            raise ValueError(
                f"FDS got {features.shape[0]} features but {labels.numel()} labels; "
                "expected one label per feature row"
            )
