"""Optimiser and learning-rate schedule of the SupReMix paper's App. C.1.2.

Adam (beta1 0.9, beta2 0.999, eps 1e-8) with weight decay on every parameter except biases
and normalisation layers; linear warm-up over the first epochs, then cosine decay
``lr_t = lr_min + (lr_max - lr_min) (1 + cos(pi t / T)) / 2``; gradients clipped to norm 1.0.
The schedule advances once per optimiser step. AdaCon's EchoNet training (its §IV-B) is
offered too: SGD with momentum, and a step decay (``decay_every_steps``) instead of the cosine.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

NORM_LAYERS: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.LocalResponseNorm,
)


def split_decay(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(decayed, not decayed) trainable parameters: biases, 1-d parameters and every
    parameter of a normalisation layer are not decayed (the SupReMix paper, App. C.1.2)."""
    no_decay_ids: set[int] = set()
    for module in model.modules():
        if isinstance(module, NORM_LAYERS):
            no_decay_ids.update(id(p) for p in module.parameters(recurse=False))
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if id(param) in no_decay_ids or param.ndim <= 1 or name.endswith(".bias"):
            no_decay.append(param)
        else:
            decay.append(param)
    return decay, no_decay


def build_optimizer(
    model: nn.Module,
    *,
    lr: float,
    weight_decay: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    optimizer: str = "adam",
    momentum: float = 0.9,
) -> torch.optim.Optimizer:
    """Adam (or ``optimizer="sgd"``: SGD with ``momentum``) over the trainable parameters of
    ``model``, in two groups (decay / no decay)."""
    decay, no_decay = split_decay(model)
    if not decay and not no_decay:
        raise ValueError("the model has no trainable parameter")
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    if optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum)
    if optimizer != "adam":
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    return torch.optim.Adam(groups, lr=lr, betas=betas, eps=eps)


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    *,
    warmup_steps: int,
    total_steps: int,
    lr: float,
    min_lr: float = 0.0,
    decay_every_steps: int | None = None,
    decay_factor: float = 0.1,
) -> torch.optim.lr_scheduler.LRScheduler:
    """The per-step schedule of the module docstring from ``lr`` (every group's learning rate)
    down to ``min_lr``: :class:`~torch.optim.lr_scheduler.LinearLR` from ``lr / warmup_steps``
    to ``lr`` over the ``warmup_steps`` first steps (``lr (step + 1) / warmup_steps``), then
    :class:`~torch.optim.lr_scheduler.CosineAnnealingLR` over the other
    ``total_steps - warmup_steps``; with ``decay_every_steps``,
    :class:`~torch.optim.lr_scheduler.StepLR` instead of the cosine: ``lr`` times
    ``decay_factor ** (t // decay_every_steps)``, ``t`` the steps after the warm-up."""
    if total_steps <= 0:
        raise ValueError(f"total_steps must be > 0, got {total_steps}")
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_steps must be in [0, {total_steps}), got {warmup_steps}")
    rates = sorted({group["lr"] for group in optimizer.param_groups})
    if rates != [lr]:
        raise ValueError(f"the optimizer's learning rates are {rates}; the schedule is for {lr}")
    scheduler = torch.optim.lr_scheduler
    if decay_every_steps is not None:
        after: torch.optim.lr_scheduler.LRScheduler = scheduler.StepLR(
            optimizer, step_size=decay_every_steps, gamma=decay_factor
        )
    else:
        after = scheduler.CosineAnnealingLR(
            optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr
        )
    if warmup_steps == 0:
        return after
    warmup = scheduler.LinearLR(
        optimizer, start_factor=1.0 / warmup_steps, total_iters=warmup_steps - 1
    )
    return scheduler.SequentialLR(optimizer, [warmup, after], milestones=[warmup_steps])


def clip_gradients(parameters: Iterable[nn.Parameter], max_norm: float) -> torch.Tensor:
    """Clip the global gradient norm to ``max_norm`` (no clipping when 0); returns the norm
    before clipping as a tensor (no device synchronisation)."""
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return torch.zeros(())
    if max_norm <= 0:
        norms = [grad.detach().norm() for p in params if (grad := p.grad) is not None]
        return torch.linalg.vector_norm(torch.stack(norms))
    return torch.nn.utils.clip_grad_norm_(params, max_norm).detach()
