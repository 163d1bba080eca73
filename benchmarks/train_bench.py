"""Training-step speed: SupReMix vs SupCon vs vanilla regression, and the data pipeline.

Goal (the training issue, §4): a SupReMix step is within 10 % of a SupCon step on the same
encoder and batch (``supremix_vs_supcon >= 0.9``, samples per second), and the loader delivers
samples at least as fast as the slowest step consumes them.

A step is the engine's own (:func:`supremix.train.loop.train_step`): two augmented views
made on the device, forward under AMP, loss, backward, clipping, Adam, schedule and EMA.
Methods are timed in interleaved rounds and the fastest round of each is reported (the usual
estimate on a shared, noisy machine: load only ever slows a round down), with the median
beside it. The loader is the engine's DataLoader over the
RSNA phantom read through the real RSNA loader (PNG decoding, histogram equalisation,
resizing).

Usage::

    python benchmarks/train_bench.py                       # CPU, small scale
    python benchmarks/train_bench.py --device cuda --scale paper   # ResNet-50, 520x400, batch 128

Results go to ``benchmarks/results/train.json`` (``--out`` to change). Timings hold for the
machine they were taken on; the ratios are what carries over.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from supremix.data import get_dataset
from supremix.data.augment import default_augmentation
from supremix.data.phantoms import write_phantom
from supremix.train import TrainConfig, build_model, plan_stages
from supremix.train.data import train_loader
from supremix.train.distributed import DistEnv, resolve_device
from supremix.train.ema import ModelEMA
from supremix.train.loop import EpochContext, OptimizerStep, train_step
from supremix.train.model import set_trainable
from supremix.train.objective import stage_objective
from supremix.train.optim import build_optimizer, build_scheduler
from supremix.train.precision import choose_precision
from supremix.train.protocols import Augmentation
from supremix.train.provenance import device_description, software_versions
from supremix.train.rng import RunGenerators, seed_everything

METHODS = ("vanilla", "supcon", "supremix")
GOAL = 0.9


@dataclass(frozen=True)
class Scale:
    encoder: str
    encoder_kwargs: dict[str, Any]
    image_size: tuple[int, int]
    batch_size: int
    phantom_n: int


SCALES = {
    "small": Scale("resnet2d", {"width": 8, "depth": 10}, (64, 48), 32, 160),
    "paper": Scale("resnet50_2d", {}, (520, 400), 128, 512),  # the SupReMix paper's Table 13, RSNA
}


def config_for(method: str, scale: Scale, device: str) -> TrainConfig:
    return TrainConfig(
        method=method,
        dataset="rsna",
        encoder=scale.encoder,
        encoder_kwargs=scale.encoder_kwargs,
        batch_size=scale.batch_size,
        temperature=1.0,
        window=5.0,
        epochs=200,
        device=device,
        progress=False,
    )


def engine_context(
    config: TrainConfig,
    env: DistEnv,
    labels: torch.Tensor,
    *,
    modality: str,
    in_channels: int,
    augment: tuple[Augmentation | None, Augmentation | None],
) -> EpochContext:
    """The engine's context for the first stage of ``config``, seeded with 0: the model with
    that stage's trainable parts, its objective with the ``(contrastive, regression)``
    augmentations ``augment``, and the optimizer step (Adam, warm-up + cosine, EMA)."""
    seed_everything(0)
    model = build_model(
        config,
        modality=modality,
        in_channels=in_channels,
        label_mean=float(labels.mean()),
        label_std=float(labels.std()),
    ).to(env.device)
    stage = plan_stages(config)[0]
    set_trainable(
        model,
        encoder=stage.train_encoder,
        projection_head=stage.train_head,
        regressor=stage.train_regressor,
    )
    optimizer = build_optimizer(model, lr=config.lr, weight_decay=config.weight_decay)
    precision = choose_precision(config.amp, env.device)
    generators = RunGenerators.create(0, 0, env.device)
    contrastive_augment, regression_augment = augment
    objective = stage_objective(
        stage,
        config,
        model=model,
        train_labels=labels.numpy(),
        contrastive_augment=contrastive_augment,
        regression_augment=regression_augment,
        augment_generator=generators.augment,
        loss_generator=generators.loss,
        autocast=precision.autocast,
    )
    step = OptimizerStep(
        model,
        optimizer,
        build_scheduler(optimizer, warmup_steps=10, total_steps=10_000, lr=config.lr),
        ModelEMA(model, config.ema_decay),
        grad_clip=config.grad_clip,
        scaler=precision.scaler,
    )
    return EpochContext(objective, step, loader=None, env=env)


def step_context(method: str, scale: Scale, env: DistEnv, labels: torch.Tensor) -> EpochContext:
    """The engine's context for the first stage of ``method`` (pretraining or regression)."""
    config = config_for(method, scale, str(env.device))
    augment = default_augmentation("image2d")
    return engine_context(
        config, env, labels, modality="image2d", in_channels=1, augment=(augment, augment)
    )


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(ctx: EpochContext, batch: dict[str, Any], steps: int) -> float:
    """Seconds per step over ``steps`` steps."""
    synchronize(ctx.env.device)
    start = time.perf_counter()
    for _ in range(steps):
        train_step(ctx, batch)
    synchronize(ctx.env.device)
    return (time.perf_counter() - start) / steps


def loader_rate(dataset, config: TrainConfig, env: DistEnv, batches: int) -> float:
    """Samples per second delivered by the engine's training DataLoader."""
    loader = train_loader(dataset, config, env, torch.Generator().manual_seed(0))
    loader.sampler.set_epoch(0)
    seen, start = 0, time.perf_counter()
    for index, batch in enumerate(loader):
        seen += batch["x"].shape[0]
        if index + 1 == batches:
            break
    return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, auto")
    parser.add_argument("--scale", choices=sorted(SCALES), default=None)
    parser.add_argument("--steps", type=int, default=None, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=None, help="DataLoader workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: 1 on CPU, stable on a "
        "shared machine; the library default on GPU)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/train.json"))
    args = parser.parse_args()

    device = resolve_device(args.device)
    threads = args.threads if args.threads is not None else (1 if device.type == "cpu" else None)
    if threads is not None:
        torch.set_num_threads(threads)
    scale_name = args.scale or ("paper" if device.type == "cuda" else "small")
    scale = SCALES[scale_name]
    steps = args.steps or (10 if scale_name == "paper" else 3)
    workers = args.workers if args.workers is not None else (4 if device.type == "cuda" else 0)
    env = DistEnv(rank=0, world_size=1, local_rank=0, device=device)

    with tempfile.TemporaryDirectory() as folder:
        root = write_phantom(
            "rsna", Path(folder), n=scale.phantom_n, seed=0, image_size=scale.image_size
        )
        dataset = get_dataset("rsna", root, "train", image_size=scale.image_size)
        config = config_for("supremix", scale, str(device)).replace(num_workers=workers)
        loader_batches = max(2, min(len(dataset) // scale.batch_size, 8))
        loader_sps = loader_rate(dataset, config, env, loader_batches)
        batch = next(iter(train_loader(dataset, config, env, torch.Generator().manual_seed(1))))

    labels = torch.as_tensor(batch["y"], dtype=torch.float64)
    contexts = {m: step_context(m, scale, env, labels) for m in METHODS}
    for ctx in contexts.values():  # warm-up: allocator, autotuning, Beta tables
        ctx.objective.net.train()
        time_steps(ctx, batch, 2)
    memory: dict[str, float | None] = {}
    rounds: dict[str, list[float]] = {m: [] for m in METHODS}
    for _ in range(args.rounds):
        for method, ctx in contexts.items():
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            rounds[method].append(time_steps(ctx, batch, steps))
            if device.type == "cuda":
                peak = torch.cuda.max_memory_allocated(device) / 2**30
                memory[method] = max(memory.get(method) or 0.0, round(peak, 3))
    per_step = {m: min(times) for m, times in rounds.items()}
    median = {m: statistics.median(times) for m, times in rounds.items()}
    step_sps = {m: scale.batch_size / t for m, t in per_step.items()}
    ratio = step_sps["supremix"] / step_sps["supcon"]
    report = {
        "device": device_description(device),
        "software": software_versions(),
        "threads": torch.get_num_threads(),
        "scale": scale_name,
        "encoder": scale.encoder,
        "encoder_kwargs": scale.encoder_kwargs,
        "input": [1, *scale.image_size],
        "batch_size": scale.batch_size,
        "views": 2,
        "precision": choose_precision(config.amp, device).name,
        "steps_per_round": steps,
        "rounds": args.rounds,
        "methods": {
            m: {
                "step_ms": round(1000 * per_step[m], 2),
                "samples_per_s": round(step_sps[m], 2),
                "median_step_ms": round(1000 * median[m], 2),
                "round_ms": [round(1000 * t, 2) for t in rounds[m]],
                "peak_gpu_memory_gib": memory.get(m),
            }
            for m in METHODS
        },
        "supremix_vs_supcon": round(ratio, 3),
        "goal": f"supremix_vs_supcon >= {GOAL}",
        "meets_goal": ratio >= GOAL,
        "loader": {
            "samples_per_s": round(loader_sps, 2),
            "num_workers": workers,
            "dataset": f"rsna phantom through the RSNA loader, {scale.image_size}",
        },
        "loader_keeps_up": {m: loader_sps >= step_sps[m] for m in METHODS},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("methods", "supremix_vs_supcon", "loader")}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
