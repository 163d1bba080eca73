"""DistributedDataParallel plumbing (the SupReMix paper, App. C.1.2: "distributed training via
DistributedDataParallel", "synchronized BatchNorm").

Under ``torchrun`` the environment holds ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
:func:`setup` joins the process group (NCCL on GPUs, gloo on CPUs) unless the caller already
did. A plain ``python`` call is a world of one and needs no process group.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits: ``rank`` of ``world_size`` and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``"auto"``: this process's CUDA device when there is one, else Apple MPS, else CPU."""
    if name != "auto":
        device = torch.device(name)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", local_rank)
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def setup(device: str = "auto") -> DistEnv:
    """The process's :class:`DistEnv`, joining the process group when ``WORLD_SIZE > 1``."""
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        return DistEnv(rank, world, local_rank, resolve_device(device, local_rank))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistEnv(0, 1, 0, resolve_device(device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    chosen = resolve_device(device, local_rank)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    backend = "nccl" if chosen.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistEnv(rank, world, local_rank, chosen, owns_group=True)


def teardown(env: DistEnv) -> None:
    """Leave the process group if :func:`setup` joined it."""
    if env.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def barrier(env: DistEnv) -> None:
    if env.is_distributed:
        dist.barrier()


def wrap_model(model: nn.Module, env: DistEnv) -> nn.Module:
    """``model`` wrapped in DistributedDataParallel when the world has several processes."""
    if not env.is_distributed:
        return model
    ids = [env.device.index] if env.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


ModuleT = TypeVar("ModuleT", bound=nn.Module)


def convert_sync_batchnorm(model: ModuleT, env: DistEnv) -> ModuleT:
    """Swap BatchNorm layers for SyncBatchNorm on multi-GPU runs (statistics over the
    global batch); CPU runs keep per-process BatchNorm. The layers are swapped in place inside
    ``model``, which is returned."""
    if env.is_distributed and env.device.type == "cuda":
        converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        if converted is not model:
            raise TypeError(
                f"convert_sync_batchnorm: {type(model).__name__} is itself a BatchNorm layer; "
                "expected a network containing them"
            )
    return model


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper (or ``model`` itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def all_gather_objects(value: Any, env: DistEnv) -> list[Any]:
    """Every process's ``value``, in rank order (``[value]`` for a world of one)."""
    if not env.is_distributed:
        return [value]
    out: list[Any] = [None] * env.world_size
    dist.all_gather_object(out, value)
    return out


def broadcast_object(value: Any, env: DistEnv) -> Any:
    """Rank 0's ``value`` on every process."""
    if not env.is_distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean_over_processes(value: float, env: DistEnv) -> float:
    """The mean of a scalar over processes."""
    if not env.is_distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=_collective_device(env))
    dist.all_reduce(tensor)
    return float(tensor.item()) / env.world_size


def sum_over_processes(tensor: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """The element-wise sum of ``tensor`` over processes, on ``tensor``'s device."""
    if not env.is_distributed:
        return tensor
    total = tensor.to(_collective_device(env))
    dist.all_reduce(total)
    return total.to(tensor.device)


def _collective_device(env: DistEnv) -> torch.device:
    return env.device if dist.get_backend() == "nccl" else torch.device("cpu")
