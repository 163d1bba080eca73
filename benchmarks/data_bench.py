"""Data-pipeline speed: items per second from the preprocessing cache vs from source files.

Goal (the data issue, §4): reading an epoch from :class:`supremix.data.cache.CachedDataset`
is at least 10x faster than decoding the PNG files again. Also measured: the RSNA phantom
through its real loader (when available), and batched augmentation against the same
augmentation applied one item at a time.

Usage::

    python benchmarks/data_bench.py [--n 200] [--out benchmarks/results/data_bench.json]

All timings are taken in one run on one machine; the report gives ratios, which is what
carries over to other machines.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter

from supremix.data.augment import default_augmentation
from supremix.data.base import RegressionDataset
from supremix.data.cache import CachedDataset
from supremix.data.generic import CSVDataset


def write_xray_like_pngs(folder: Path, n: int, shape: tuple[int, int], seed: int = 0) -> None:
    """``n`` smooth 8-bit grayscale PNGs (blurred noise plus a gradient) and labels.csv."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, shape[1])[None, :]
    for i in range(n):
        texture = gaussian_filter(rng.normal(size=shape), sigma=3)
        image = 0.5 * ramp + texture / (6 * texture.std()) + 0.25
        pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:05d}.png")
    table = {"path": [f"{i:05d}.png" for i in range(n)], "target": rng.uniform(1, 228, n)}
    pd.DataFrame(table).to_csv(folder / "labels.csv", index=False)


def items_per_second(dataset: RegressionDataset, epochs: int = 1) -> float:
    """Items per second over ``epochs`` full passes of ``dataset[i]``."""
    start = time.perf_counter()
    for _ in range(epochs):
        for index in range(len(dataset)):
            dataset[index]
    return epochs * len(dataset) / (time.perf_counter() - start)


def source_vs_cache(dataset: RegressionDataset, cache_dir: Path) -> dict[str, Any]:
    """Items/s decoding from source files, building the cache, and reading from it."""
    from_source = items_per_second(dataset)
    start = time.perf_counter()
    cached = CachedDataset(dataset, cache_dir)
    build_seconds = time.perf_counter() - start
    from_cache = items_per_second(cached, epochs=3)
    return {
        "items": len(dataset),
        "item_shape": list(cached.array.shape[1:]),
        "source_items_per_s": round(from_source, 1),
        "cache_items_per_s": round(from_cache, 1),
        "cache_build_s": round(build_seconds, 2),
        "speedup": round(from_cache / from_source, 1),
    }


def rsna_phantom(folder: Path, n: int, cache_dir: Path) -> dict[str, Any]:
    """The same comparison on the RSNA phantom read by the RSNA loader."""
    try:
        from supremix.data import get_dataset
        from supremix.data.phantoms import write_phantom

        write_phantom("rsna", folder, n=n, seed=0)
        dataset = get_dataset("rsna", folder, "train")
    except Exception as error:  # the phantom or loader may be missing in a partial checkout
        return {"skipped": f"{type(error).__name__}: {error}"}
    return source_vs_cache(dataset, cache_dir)


def augmentation_speed(device: torch.device, batch: int, size: tuple[int, int]) -> dict[str, Any]:
    """Samples/s of the 2-D training augmentation: one batched call vs one call per item."""
    augment = default_augmentation("image2d")
    x = torch.rand(batch, 1, *size, device=device)
    generator = torch.Generator(device=device).manual_seed(0)

    def timed(step: Callable[[], object], repeats: int) -> float:
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return repeats * batch / (time.perf_counter() - start)

    batched = timed(lambda: augment(x, generator), 3)
    per_item = timed(lambda: [augment(x[i], generator) for i in range(batch)], 1)
    return {
        "device": str(device),
        "batch": batch,
        "image": list(size),
        "batched_samples_per_s": round(batched, 1),
        "per_item_samples_per_s": round(per_item, 1),
        "speedup": round(batched / per_item, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="PNG files to write")
    parser.add_argument("--source-shape", type=int, nargs=2, default=(1040, 800))
    parser.add_argument("--size", type=int, nargs=2, default=(520, 400), help="loader resize")
    parser.add_argument("--phantom-n", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/data_bench.json"))
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "png").mkdir()
        write_xray_like_pngs(tmp_path / "png", args.n, tuple(args.source_shape))
        dataset = CSVDataset(tmp_path / "png", "train", val=0, test=0, size=args.size)
        results: dict[str, Any] = {
            "machine": f"{platform.machine()} {platform.processor()}".strip(),
            "torch_threads": torch.get_num_threads(),
            "png_csv_loader": dict(
                source_vs_cache(dataset, tmp_path / "cache"),
                source_png_shape=list(args.source_shape),
            ),
            "rsna_phantom": rsna_phantom(tmp_path / "rsna", args.phantom_n, tmp_path / "cache"),
        }
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    results["augmentation_2d"] = [augmentation_speed(d, 32, tuple(args.size)) for d in devices]

    print(json.dumps(results, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    speedup = results["png_csv_loader"]["speedup"]
    print(f"cache vs PNG decoding: {speedup}x (goal >= 10x)")


if __name__ == "__main__":
    main()
