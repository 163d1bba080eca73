"""Why a training loss stopped being finite: the first step whose loss, inputs or labels were
NaN or infinite, found without synchronising the device at every step."""

from __future__ import annotations

import torch

from .distributed import DistEnv, all_gather_objects

WATCHED = ("loss", "inputs", "labels")


class NonFiniteWatch:
    """The first step (0-based, within an epoch) at which each of :data:`WATCHED` held a
    non-finite value, kept on the device (``-1``: none yet)."""

    def __init__(self, device: torch.device):
        self.first = {key: torch.full((), -1, dtype=torch.long, device=device) for key in WATCHED}

    def observe(self, step: int, loss: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> None:
        for key, value in zip(WATCHED, (loss, x, y), strict=True):
            bad = ~torch.isfinite(value).all()
            first = self.first[key]
            self.first[key] = torch.where(bad & (first < 0), step, first)

    def explain(self, loss: float, steps: int, lr: float, env: DistEnv) -> str:
        """The message of the stop: the step, the value and the most likely cause (the first
        non-finite step over all processes; called by every process)."""
        mine = {key: int(value) for key, value in self.first.items()}
        found: dict[str, int | None] = {}
        for key in WATCHED:
            steps_seen = [f[key] for f in all_gather_objects(mine, env) if f[key] >= 0]
            found[key] = min(steps_seen) if steps_seen else None
        step = found["loss"]
        where = f"at step {step + 1} of {steps}" if step is not None else "in this epoch"
        for key, what in (("labels", "labels"), ("inputs", "input features")):
            bad_step = found[key]
            if bad_step is not None:
                return (
                    f"the training loss is {loss} {where}: the {what} of step {bad_step + 1} "
                    "hold NaN or infinite values; check the data for non-finite values"
                )
        return (
            f"the training loss is {loss} {where}, with finite inputs and labels: the "
            f"optimisation diverged; lower the learning rate (now {lr:g}) or clip gradients"
        )
