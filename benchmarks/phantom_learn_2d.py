"""Can a tiny CNN learn the 2-D phantoms on a CPU in about a minute each?

Writes each phantom (RSNA, RHPE, AgeDB-DIR, IMDB-WIKI-DIR) with its default parameters, reads it
back through the real loader, trains a four-layer CNN with an L1 loss (Adam, batch 64, learning
rate 2e-3 decayed to 0 on a cosine over the time budget) for ``--seconds`` of wall time and
reports the evaluation MAE beside the predict-the-training-mean baseline.
RHPE is evaluated on ``val`` (its test bone ages are withheld, as in the real data).

    .venv/bin/python benchmarks/phantom_learn_2d.py --seconds 60

Results go to ``benchmarks/results/phantom_learn_2d.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from supremix.data import get_dataset
from supremix.data.phantoms import write_phantom

# name -> (loader image_size, evaluation split)
PHANTOMS = {
    "rsna": ((96, 80), "test"),
    "rhpe": ((96, 80), "val"),
    "agedb": (64, "test"),
    "imdbwiki": (64, "test"),
}


def tiny_cnn(channels: int) -> nn.Module:
    """Four stride-2 conv-BN-ReLU blocks (16-32-64-64), global average pooling, a linear output."""
    layers: list[nn.Module] = []
    width_in = channels
    for width in (16, 32, 64, 64):
        layers += [
            nn.Conv2d(width_in, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        width_in = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width_in, 1))


def tensors(name: str, root: Path, split: str, image_size) -> tuple[torch.Tensor, torch.Tensor]:
    dataset = get_dataset(name, root, split, image_size=image_size)
    x = torch.stack([dataset.load(i) for i in range(len(dataset))])
    return x, torch.as_tensor(dataset.targets, dtype=torch.float32)


def train_and_evaluate(name: str, root: Path, seconds: float, seed: int) -> dict:
    image_size, eval_split = PHANTOMS[name]
    x_train, y_train = tensors(name, root, "train", image_size)
    x_eval, y_eval = tensors(name, root, eval_split, image_size)
    mean, std = y_train.mean(), y_train.std()
    torch.manual_seed(seed)
    model = tiny_cnn(x_train.shape[1])
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(seed)
    start, epochs = time.perf_counter(), 0
    while (elapsed := time.perf_counter() - start) < seconds:
        model.train()
        for group in optimiser.param_groups:  # cosine decay over the time budget
            group["lr"] = 1e-3 * (1.0 + math.cos(math.pi * elapsed / seconds))
        for batch in torch.randperm(len(x_train), generator=generator).split(64):
            prediction = model(x_train[batch]).squeeze(1)
            loss = (prediction - (y_train[batch] - mean) / std).abs().mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        epochs += 1
    model.eval()
    with torch.no_grad():
        prediction = torch.cat([model(b) for b in x_eval.split(256)]).squeeze(1) * std + mean
    return {
        "train_images": len(x_train),
        "eval_split": eval_split,
        "eval_images": len(x_eval),
        "image_size": list(x_train.shape[1:]),
        "epochs": epochs,
        "train_seconds": round(time.perf_counter() - start, 1),
        "mae": round(float((prediction - y_eval).abs().mean()), 2),
        "baseline_mae": round(float((mean - y_eval).abs().mean()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="training time per phantom")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="*", choices=sorted(PHANTOMS), default=sorted(PHANTOMS))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "phantom_learn_2d.json"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.only:
            began = time.perf_counter()
            root = write_phantom(name, Path(workdir) / name, seed=args.seed)
            write_seconds = round(time.perf_counter() - began, 1)
            results[name] = {"write_seconds": write_seconds}
            results[name].update(train_and_evaluate(name, root, args.seconds, args.seed))
            r = results[name]
            print(
                f"{name:9s} MAE {r['mae']:7.2f}  baseline {r['baseline_mae']:7.2f}  "
                f"ratio {r['mae'] / r['baseline_mae']:.2f}  ({r['epochs']} epochs, "
                f"{r['train_images']} train / {r['eval_images']} {r['eval_split']}, "
                f"written in {write_seconds}s)",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"seconds": args.seconds, "results": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
