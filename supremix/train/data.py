"""Data loading for the engine: samplers, loaders, augmentation recipes, input shapes.

Training batches are sharded over processes by a :class:`DistributedSampler` (a world of one
uses it too), shuffled by ``(seed, epoch)`` and dropping the last partial batch, so the
global batch of step ``k`` holds the same samples whatever the number of processes.
Augmentation runs on the device, per batch (:mod:`supremix.data.augment`).
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from supremix.data.augment import default_augmentation

from .config import TrainConfig
from .distributed import DistEnv
from .protocols import Augmentation
from .rng import worker_init


def per_process_batch(batch_size: int, env: DistEnv) -> int:
    """The share of the global ``batch_size`` of one process."""
    if batch_size % env.world_size:
        raise ValueError(
            f"batch_size {batch_size} is not divisible by the {env.world_size} processes"
        )
    return batch_size // env.world_size


def dataset_length(dataset: Dataset) -> int:
    """``len(dataset)``, for the map-style datasets the engine samples and shards."""
    if not isinstance(dataset, Sized):
        raise TypeError(
            f"{type(dataset).__name__} has no length; expected a map-style dataset with __len__"
        )
    return len(dataset)


def train_loader(
    dataset: Dataset,
    config: TrainConfig,
    env: DistEnv,
    generator: torch.Generator,
    *,
    batch_size: int | None = None,
) -> DataLoader:
    """Shuffled, sharded training batches of ``batch_size`` (default ``config.batch_size``)
    samples in total.

    Workers are started afresh every epoch and seeded from ``generator`` (whose state the
    checkpoints keep), so dataset-level randomness in workers resumes exactly.
    """
    total = config.batch_size if batch_size is None else batch_size
    batch = per_process_batch(total, env)
    n = dataset_length(dataset)
    if n // env.world_size < batch:
        raise ValueError(
            f"the training set has {n} items, fewer than one batch of {total}; lower batch_size"
        )
    sampler: DistributedSampler[Any] = DistributedSampler(
        dataset,
        num_replicas=env.world_size,
        rank=env.rank,
        shuffle=True,
        seed=config.seed,
        drop_last=True,
    )
    return DataLoader(
        dataset,
        batch_size=batch,
        sampler=sampler,
        drop_last=True,
        num_workers=config.num_workers,
        generator=generator,
        worker_init_fn=worker_init,
        pin_memory=env.device.type == "cuda",
        persistent_workers=False,
    )


def shard(dataset: Dataset, env: DistEnv) -> Dataset:
    """Items ``rank, rank + world, ...`` of ``dataset`` (evaluation, no padding)."""
    if not env.is_distributed:
        return dataset
    return Subset(dataset, range(env.rank, dataset_length(dataset), env.world_size))


def eval_loader(dataset: Dataset, batch_size: int, num_workers: int = 0) -> DataLoader:
    """Batches of ``dataset`` in order."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)


def input_shape(dataset: Dataset) -> tuple[int, ...]:
    """The shape of one item's ``x``."""
    if dataset_length(dataset) == 0:
        raise ValueError("the dataset is empty")
    return tuple(dataset[0]["x"].shape)


def modality_of(dataset: Dataset) -> str:
    """``dataset.modality`` (also through a :class:`Subset`)."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    modality = getattr(dataset, "modality", None)
    if modality is None:
        raise ValueError(
            f"{type(dataset).__name__} has no 'modality' attribute; expected a "
            "supremix.data RegressionDataset"
        )
    return modality


def encoder_inputs_of(dataset: Dataset) -> dict[str, Any]:
    """What the data give the encoder (text: vocabulary size and word vectors): the
    ``encoder_inputs()`` of ``dataset`` or of the dataset it wraps; ``{}`` where none."""
    while not hasattr(dataset, "encoder_inputs") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    inputs = getattr(dataset, "encoder_inputs", None)
    return {} if inputs is None else dict(inputs())


def targets_of(dataset: Dataset) -> Any:
    """``dataset.targets`` (also through a :class:`Subset`)."""
    if isinstance(dataset, Subset):
        return targets_of(dataset.dataset)[list(dataset.indices)]
    targets = getattr(dataset, "targets", None)
    if targets is None:
        raise ValueError(f"{type(dataset).__name__} has no 'targets' attribute")
    return targets


def augmentations(
    config: TrainConfig, modality: str, shape: Sequence[int]
) -> tuple[Augmentation | None, Augmentation | None]:
    """``(contrastive, regression)`` augmentations of ``config.augment`` for ``modality``.

    Contrastive stages use the ``"simclr"`` recipe when asked (2-D images; Mixup Your Own Pairs'
    Table 13 "CJ + RC"); regression stages always use the supervised recipe (the SupReMix paper,
    App. B.1).
    """
    if config.augment == "none":
        return None, None
    supervised = default_augmentation(modality, style="supervised")
    if config.augment == "simclr" and modality == "image2d":
        size = tuple(int(s) for s in shape[-2:])
        return default_augmentation(modality, style="simclr", image_size=size), supervised
    return supervised, supervised
