"""Vanilla regression losses on the predictor's output: L1 (default), MSE, Huber."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .validation import check_positive

REGRESSION_LOSSES = ("l1", "mse", "huber")


def regression_loss(
    pred: Tensor,
    target: Tensor,
    kind: str = "l1",
    *,
    huber_delta: float = 1.0,
    reduction: str = "mean",
) -> Tensor:
    """``kind`` loss between ``pred`` and ``target``.

    ``pred`` of shape ``(n,)`` or ``(n, 1)`` is compared with ``target`` of shape ``(n,)`` or
    ``(n, 1)`` (other shapes must match exactly); ``huber_delta`` is the L1/L2 switch point of
    the Huber loss; ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``.
    """
    if kind not in REGRESSION_LOSSES:
        raise ValueError(
            f"regression_loss: unknown kind {kind!r}; expected one of "
            f"{', '.join(REGRESSION_LOSSES)}"
        )
    pred, target = _aligned(pred, target)
    target = target.to(pred.dtype)
    if kind == "l1":
        return F.l1_loss(pred, target, reduction=reduction)
    if kind == "mse":
        return F.mse_loss(pred, target, reduction=reduction)
    delta = check_positive("regression_loss", "huber_delta", huber_delta)
    return F.huber_loss(pred, target, reduction=reduction, delta=delta)


def _aligned(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Drop a trailing singleton column so ``(n, 1)`` meets ``(n,)``; other shapes must match."""
    if pred.dim() == 2 and pred.shape[1] == 1:
        pred = pred[:, 0]
    if target.dim() == 2 and target.shape[1] == 1:
        target = target[:, 0]
    if pred.shape != target.shape:
        raise ValueError(
            f"regression_loss: pred and target must have matching shapes, got "
            f"{tuple(pred.shape)} and {tuple(target.shape)}"
        )
    if pred.numel() == 0:
        raise ValueError("regression_loss: empty batch; expected at least one prediction")
    return pred, target


class RegressionLoss(nn.Module):
    """Module form of :func:`regression_loss`; ``forward(pred, target)``."""

    def __init__(self, kind: str = "l1", *, huber_delta: float = 1.0, reduction: str = "mean"):
        super().__init__()
        if kind not in REGRESSION_LOSSES:
            raise ValueError(
                f"RegressionLoss: unknown kind {kind!r}; expected one of "
                f"{', '.join(REGRESSION_LOSSES)}"
            )
        self.kind = kind
        self.huber_delta = huber_delta
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        return regression_loss(
            pred, target, self.kind, huber_delta=self.huber_delta, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
