"""One training epoch: forward, loss, backward with AMP, clipping, optimiser, schedule, EMA
(the SupReMix paper, App. C.1.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from .distributed import DistEnv, mean_over_processes
from .ema import ModelEMA
from .nonfinite import NonFiniteWatch
from .objective import StageObjective
from .optim import clip_gradients


@dataclass
class OptimizerStep:
    """``step(loss) -> gradient norm``: backward (scaled by ``scaler`` under float16), clip
    to ``grad_clip``, optimiser step, schedule step, EMA update of ``model``."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    ema: ModelEMA
    grad_clip: float
    scaler: torch.amp.GradScaler | None = None

    def __call__(self, loss: torch.Tensor) -> torch.Tensor:
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            norm = clip_gradients(params, self.grad_clip)
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            norm = clip_gradients(params, self.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        self.scheduler.step()
        self.ema.update(self.model)
        return norm

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group now."""
        return self.optimizer.param_groups[0]["lr"]


@dataclass
class EpochContext:
    """An epoch of one stage: its batches, the loss on each and the step that follows."""

    objective: StageObjective
    step: OptimizerStep
    loader: DataLoader
    env: DistEnv
    use_groups: bool = False
    progress: bool = False


def train_step(
    ctx: EpochContext, batch: dict[str, Any], watch: NonFiniteWatch | None = None, step: int = 0
) -> dict[str, torch.Tensor]:
    """One optimisation step on a collated batch; returns detached scalars (loss, gradient
    norm and, in multi-task stages, the loss parts) without synchronising the device.
    ``watch`` notes whether the loss, inputs and labels of ``step`` were finite."""
    device = ctx.env.device
    x = batch["x"].to(device, non_blocking=True)
    y = torch.as_tensor(batch["y"]).to(device, dtype=torch.float32, non_blocking=True)
    groups = None
    if ctx.use_groups:
        if "group" not in batch:
            raise ValueError("use_groups=True but the dataset's items have no 'group'")
        groups = torch.as_tensor(batch["group"]).to(device)
    loss, parts = ctx.objective(x, y, groups)
    if watch is not None:
        watch.observe(step, loss.detach(), x, y)
    norm = ctx.step(loss)
    values = {"loss": loss, "grad_norm": norm}
    if len(parts) > 1:
        values.update((f"loss_{name}", value) for name, value in parts.items())
    return {k: v.detach().to(device=device, dtype=torch.float64) for k, v in values.items()}


def train_epoch(ctx: EpochContext, description: str) -> dict[str, Any]:
    """Train one epoch; returns the mean loss over steps and processes (and its regression and
    contrastive parts in multi-task stages; regression losses are on standardised labels), the
    mean gradient norm before clipping and the learning rate at the end of the epoch."""
    ctx.objective.net.train()
    totals: dict[str, torch.Tensor] = {}
    steps = 0
    watch = NonFiniteWatch(ctx.env.device)
    bar = tqdm(
        ctx.loader,
        desc=description,
        leave=False,
        disable=not (ctx.progress and ctx.env.is_main),
        dynamic_ncols=True,
    )
    for batch in bar:
        for key, value in train_step(ctx, batch, watch, steps).items():
            totals[key] = totals[key] + value if key in totals else value
        steps += 1
    bar.close()
    stats = {k: mean_over_processes(float(v) / steps, ctx.env) for k, v in totals.items()}
    if not math.isfinite(stats["loss"]):
        why = watch.explain(stats["loss"], steps, ctx.step.lr, ctx.env)
        raise FloatingPointError(f"{description}: {why}")
    stats["lr"] = ctx.step.lr
    return stats
