"""One prepared GPU check (about 8 minutes on one GPU): training steps of every paper preset at
the paper's input size and batch size with AMP, then the SupReMix loss benchmark up to
n = 4096 views.

For each paper preset of :data:`supremix.train.PRESETS` (the SupReMix paper's Table 13 and
Mixup Your Own Pairs' Table 13 settings) the engine's own step
(:func:`supremix.train.loop.train_step`: views, forward under the preset's AMP, SupReMix loss,
backward, clipping, Adam, EMA) runs on one batch of the dataset's phantom read through the real
loader at the preset's input size (UCI airfoil has no phantom: a random table of its five
inputs). Recorded per preset: samples per second, peak GPU memory, and the loss's share of a
step (forward + backward of the contrastive loss alone on the step's embedding shape, over the
step's time). A preset that does not fit the card is recorded as ``out of memory``. The paper
batch is the global batch; on one GPU the whole batch runs on it.

The loss benchmark calls :mod:`benchmarks/loss_bench.py <loss_bench>`'s own timing and memory
functions on CUDA (integer labels 0-100, two views, d = 128) for n = 512 ... 4096.

    python benchmarks/gpu_check.py              # needs CUDA; writes benchmarks/results/gpu.json
    python benchmarks/gpu_check.py --dry-run --out /tmp/gpu.json   # CPU, tiny sizes: the logic

Without a CUDA device (and without ``--dry-run``) it refuses in one line and writes nothing.
``--budget-s`` bounds the whole check: what does not fit is recorded as skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from supremix.data import get_dataset
from supremix.data.phantoms import PHANTOMS, write_phantom
from supremix.studies import SMOKE_PHANTOM_N
from supremix.train import PRESETS, TrainConfig
from supremix.train.data import augmentations, input_shape, modality_of
from supremix.train.distributed import DistEnv, resolve_device
from supremix.train.loop import train_step
from supremix.train.precision import choose_precision
from supremix.train.provenance import device_description, now_iso, software_versions

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loss_bench  # the sibling benchmarks, imported as modules
import train_bench

RESULTS = Path(__file__).resolve().parent / "results" / "gpu.json"
LOSS_SIZES = (512, 1024, 2048, 4096)
DRY_LOSS_SIZES = (8, 16)
REFUSAL = (
    "gpu_check: no CUDA device here; this check needs a GPU "
    "(python benchmarks/gpu_check.py --dry-run checks its logic on the CPU)"
)


def paper_presets() -> list[str]:
    """The paper presets (not the ``-cpu`` variants), in registry order."""
    return [name for name in PRESETS if not name.endswith("-cpu")]


def check_config(name: str, device: str, dry_run: bool) -> TrainConfig:
    """Preset ``name`` with SupReMix as the method; ``dry_run``: its ``-cpu`` variant (small
    encoder and input) with batch 4, keeping the paper preset's augmentation and protocol."""
    paper = PRESETS[name]
    config = paper
    if dry_run:
        config = PRESETS[f"{paper.dataset}-cpu"].replace(
            batch_size=4,
            augment=paper.augment,
            protocol=paper.protocol,
            input_size=paper.input_size,
        )
    return config.replace(method="supremix", device=device, progress=False)


def phantom_batch(config: TrainConfig, folder: Path) -> tuple[dict[str, Any], str, tuple]:
    """One batch of ``config.batch_size`` items of the dataset's phantom at the preset's input
    size (items repeat when the phantom is smaller), its modality and item shape."""
    name, size = config.dataset, config.batch_size
    if name not in PHANTOMS:  # UCI airfoil: a random table of its five standardised inputs
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(size, *config.input_size, generator=generator)
        y = 103 + 38 * torch.rand(size, generator=generator)
        return {"x": x, "y": y}, "tabular", tuple(config.input_size)
    write_phantom(name, folder, n=SMOKE_PHANTOM_N.get(name, 64), seed=0)
    dataset = get_dataset(name, folder, "train", **config.dataset_options)
    items = [dataset[i % len(dataset)] for i in range(size)]
    x = torch.stack([item["x"] for item in items])
    y = torch.tensor([float(item["y"]) for item in items])
    return {"x": x, "y": y}, modality_of(dataset), input_shape(dataset)


def step_context(config: TrainConfig, env: DistEnv, modality: str, shape: tuple, labels):
    """The engine's context for the first stage of ``config`` (SupReMix pretraining)."""
    augment = augmentations(config, modality, shape)
    return train_bench.engine_context(
        config, env, labels, modality=modality, in_channels=shape[0], augment=augment
    )


def timed(device: torch.device, steps: int, call) -> float:
    """Seconds per call of ``call`` over ``steps`` calls (device synchronised)."""
    train_bench.synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        call()
    train_bench.synchronize(device)
    return (time.perf_counter() - start) / steps


def measure_preset(name: str, env: DistEnv, *, dry_run: bool, warmup: int, steps: int) -> dict:
    """Samples/s, peak memory and the loss's share of a step for preset ``name``."""
    config = check_config(name, str(env.device), dry_run)
    with tempfile.TemporaryDirectory(prefix=f"gpu-check-{name}-") as folder:
        batch, modality, shape = phantom_batch(config, Path(folder))
    ctx = step_context(config, env, modality, shape, batch["y"])
    row: dict[str, Any] = {
        "dataset": config.dataset,
        "encoder": config.encoder or f"default ({config.model_size})",
        "input_shape": list(shape),
        "batch_size": config.batch_size,
        "views": ctx.objective.contrastive.views,
        "precision": choose_precision(config.amp, env.device).name,
    }
    device = env.device
    for _ in range(warmup):
        train_step(ctx, batch)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    step_s = timed(device, steps, lambda: train_step(ctx, batch))
    views = ctx.objective.contrastive.views
    z = torch.randn(views * config.batch_size, config.feature_dim, device=device)
    z.requires_grad_(True)
    labels = batch["y"].to(device).repeat(views)
    loss = ctx.objective.contrastive.loss
    generator = ctx.objective.loss_generator

    def loss_call():
        loss(z, labels, None, generator).backward()

    loss_call()
    loss_s = timed(device, steps, loss_call)
    row.update(
        steps=steps,
        step_ms=1e3 * step_s,
        samples_per_s=config.batch_size / step_s,
        loss_ms=1e3 * loss_s,
        loss_share=loss_s / step_s,
        peak_memory_gib=(
            torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
        ),
        status="measured",
    )
    return row


def measure_loss(
    n: int, device: str, *, min_seconds: float, max_repeats: int, kind: str = "integer"
) -> dict:
    """SupCon and SupReMix at ``n`` views through loss_bench's functions (``kind``: the labels,
    integer 0-100 as in the goal, or all distinct)."""
    row: dict[str, Any] = loss_bench.interleaved_times(
        ["supcon", "supremix"], n, device, min_seconds, max_repeats, kind
    )
    for method in ("supcon", "supremix"):
        row[method]["peak_mb"] = loss_bench.peak_memory(method, n, device, kind) / 2**20
    row["time_ratio"] = row["supremix"]["ms"] / row["supcon"]["ms"]
    row["memory_ratio"] = row["supremix"]["peak_mb"] / max(row["supcon"]["peak_mb"], 1e-9)
    row["status"] = "measured"
    return row


def _failure(error: BaseException) -> dict[str, str]:
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return {"status": "out of memory"}
    return {"status": f"failed: {type(error).__name__}: {str(error)[:300]}"}


def run_check(
    *, device: str, dry_run: bool, presets: list[str], budget_s: float, out: Path
) -> dict:
    """Every measurement within ``budget_s`` seconds, written to ``out`` (JSON)."""
    began = time.perf_counter()
    env = DistEnv(rank=0, world_size=1, local_rank=0, device=resolve_device(device))
    warmup, steps = (1, 1) if dry_run else (3, 10)
    results: dict[str, Any] = {
        "card": (
            torch.cuda.get_device_name(env.device) if env.device.type == "cuda" else "cpu (dry run)"
        ),
        "device": device_description(env.device),
        "software": software_versions(),
        "created": now_iso(),
        "dry_run": dry_run,
        "budget_s": budget_s,
        "presets": {},
        "loss": {"labels": "integers 0-100, two views, d = 128, window 5", "sizes": {}},
    }

    def left() -> float:
        return budget_s - (time.perf_counter() - began)

    for name in presets:
        if left() < 0.4 * budget_s:  # keep the rest of the budget for the loss benchmark
            results["presets"][name] = {"status": "skipped: time budget"}
            continue
        try:
            results["presets"][name] = measure_preset(
                name, env, dry_run=dry_run, warmup=warmup, steps=steps
            )
        except Exception as error:  # record every preset, then go on
            results["presets"][name] = _failure(error)
        if env.device.type == "cuda":
            torch.cuda.empty_cache()
        print(f"gpu_check: {name}: {results['presets'][name].get('status')}", flush=True)
    for n in DRY_LOSS_SIZES if dry_run else LOSS_SIZES:
        if left() < 0:
            results["loss"]["sizes"][str(n)] = {"status": "skipped: time budget"}
            continue
        try:
            results["loss"]["sizes"][str(n)] = measure_loss(
                n, str(env.device), min_seconds=0.2 if dry_run else 2.0, max_repeats=10
            )
        except Exception as error:
            results["loss"]["sizes"][str(n)] = _failure(error)
        print(f"gpu_check: loss n={n}: {results['loss']['sizes'][str(n)]['status']}", flush=True)
    results["wall_s"] = round(time.perf_counter() - began, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes: test the logic")
    parser.add_argument("--presets", nargs="*", default=None, help="default: every paper preset")
    parser.add_argument("--budget-s", type=float, default=420.0, help="whole check, seconds")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    presets = paper_presets() if args.presets is None else args.presets
    unknown = [p for p in presets if p not in paper_presets()]
    if unknown:
        print(f"gpu_check: unknown presets {unknown}; expected some of {paper_presets()}")
        return 2
    if not args.dry_run and not torch.cuda.is_available():
        print(REFUSAL)
        return 2
    device = "cpu" if args.dry_run else "cuda"
    if args.dry_run:
        torch.set_num_threads(1)
    run_check(
        device=device,
        dry_run=args.dry_run,
        presets=presets,
        budget_s=args.budget_s,
        out=args.out,
    )
    print(f"gpu_check: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
