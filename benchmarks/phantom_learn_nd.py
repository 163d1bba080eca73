"""Can a tiny model learn the volume, time-series and video phantoms on a CPU?

For each phantom (UK Biobank T1, HCP-Aging fMRI, A4 PET, EchoNet-Dynamic) this writes the
phantom in its official layout, reads it back with the real loader, trains a tiny network for a
fixed wall-clock budget and reports the test MAE next to the predict-the-training-mean baseline.
The EchoNet model is then applied to the CAMUS phantom with EchoNet's clip settings (the
external validation of the AdaCon paper's Table XIII). A ratio well below 1 means the label is
learnable from the data; these are phantom numbers, never a reproduction of any paper.

    python benchmarks/phantom_learn_nd.py [--seconds 60] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from supremix.data import get_dataset
from supremix.data.camus import CAMUS
from supremix.data.echonet import EchoNetDynamic, clip_options, video_mean_std
from supremix.data.phantoms import write_phantom

# name -> (phantom options, loader options)
SETUPS = {
    "ukb": ({"n": 400}, {"spacing": None, "crop": None, "size": 32}),
    "hcp": ({"n": 400, "n_timepoints": 128}, {}),
    "a4": ({"n": 400}, {"spacing": None, "crop": None, "size": 32}),
    # 16 frames at period 2 span 32 frames, one cardiac cycle of the phantom (20-34 frames),
    # without the zero padding that 32 x 2 needs for its 40-80-frame videos
    "echonet": ({"n": 300, "size": 32}, {"length": 16, "period": 2, "pad": None}),
}


def conv_block(conv: type[nn.Module], norm: type[nn.Module], cin: int, cout: int, stride=1):
    return nn.Sequential(conv(cin, cout, 3, padding=1, stride=stride), norm(cout), nn.ReLU())


def tiny_model(name: str) -> nn.Module:
    """A few convolutions with batch norm, global average pooling and a linear regressor."""
    if name == "hcp":
        body = nn.Sequential(
            nn.Conv1d(400, 32, 1),
            nn.BatchNorm1d(32),
            nn.ReLU(),
            conv_block(nn.Conv1d, nn.BatchNorm1d, 32, 32),
            nn.AdaptiveAvgPool1d(1),
        )
        return nn.Sequential(body, nn.Flatten(), nn.Linear(32, 1))
    if name == "echonet":
        return TinyVideoRegressor()
    body = nn.Sequential(
        conv_block(nn.Conv3d, nn.BatchNorm3d, 1, 8, stride=2),
        conv_block(nn.Conv3d, nn.BatchNorm3d, 8, 16, stride=2),
        conv_block(nn.Conv3d, nn.BatchNorm3d, 16, 32, stride=2),
        nn.AdaptiveAvgPool3d(1),
    )
    return nn.Sequential(body, nn.Flatten(), nn.Linear(32, 1))


class TinyVideoRegressor(nn.Module):
    """Per-frame convolutions, a temporal one, spatial pooling, then the log of the maximum,
    minimum and mean over time: EF compares the largest (ED) and smallest (ES) ventricle."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.frames = nn.Sequential(
            nn.Conv3d(3, width, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            nn.BatchNorm3d(width),
            nn.ReLU(),
            nn.Conv3d(width, 2 * width, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            nn.BatchNorm3d(2 * width),
            nn.ReLU(),
            conv_block(nn.Conv3d, nn.BatchNorm3d, 2 * width, 2 * width),
            nn.AdaptiveAvgPool3d((None, 1, 1)),
        )
        self.head = nn.Sequential(nn.Linear(6 * width, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        series = self.frames(x).flatten(2)  # (B, C, T), non-negative after the ReLU
        pooled = [series.amax(dim=2), series.amin(dim=2), series.mean(dim=2)]
        # logarithms turn the ED/ES area ratio into a difference the head can use
        return self.head(torch.log(torch.cat(pooled, dim=1) + 1e-3))


def recalibrate_batchnorm(model: nn.Module, batches_) -> None:
    """Replace the running BatchNorm statistics by exact averages over ``batches_``.

    The running averages lag behind quickly changing weights after a short training run;
    evaluation then drifts. Averaging over the training data with the final weights fixes it.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for x, _ in batches_:
            model(x)


class InLabelUnits(nn.Module):
    """A model trained on standardised labels, answering in label units."""

    def __init__(self, model: nn.Module, mean: float, std: float):
        super().__init__()
        self.model, self.mean, self.std = model, mean, std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) * self.std + self.mean


def cached(dataset) -> list[torch.Tensor]:
    """Every item's :meth:`load` output (the deterministic, cacheable part)."""
    return [dataset.load(i) for i in range(len(dataset))]


def batches(dataset, inputs, order, batch_size):
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        x = torch.stack([dataset.prepare(inputs[i], int(i)) for i in index])
        yield x, torch.as_tensor(dataset.targets[index], dtype=torch.float32)


def predict(model, dataset, inputs, device) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for x, _ in batches(dataset, inputs, np.arange(len(dataset)), 32):
            out.append(model(x.to(device)).squeeze(1).cpu())
    return torch.cat(out).numpy()


def train(name, train_set, inputs, seconds, device, seed=0):
    """Adam on standardised labels with L1 loss until ``seconds`` have passed."""
    torch.manual_seed(seed)
    model = tiny_model(name).to(device)
    mean, std = float(train_set.targets.mean()), float(train_set.targets.std())
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    start, epochs = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        model.train()
        for x, y in batches(train_set, inputs, rng.permutation(len(train_set)), 16):
            loss = (model(x.to(device)).squeeze(1) - (y.to(device) - mean) / std).abs().mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        epochs += 1
    order = np.arange(len(train_set))
    recalibrate_batchnorm(
        model, ((x.to(device), y) for x, y in batches(train_set, inputs, order, 32))
    )
    return InLabelUnits(model, mean, std), epochs, time.perf_counter() - start


def mae(prediction, target) -> float:
    return float(np.abs(np.asarray(prediction) - np.asarray(target)).mean())


def run(name, root, seconds, device) -> dict:
    phantom, options = SETUPS[name]
    began = time.perf_counter()
    write_phantom(name, root / name, seed=0, **phantom)
    written = time.perf_counter() - began
    if name == "echonet":
        stats = video_mean_std(EchoNetDynamic(root / name, "train", **options))
        options = {**options, "mean": stats[0], "std": stats[1]}
    train_set = get_dataset(name, root / name, "train", **options)
    test_set = get_dataset(name, root / name, "test", **options)
    train_inputs, test_inputs = cached(train_set), cached(test_set)
    model, epochs, trained = train(name, train_set, train_inputs, seconds, device)
    baseline = float(train_set.targets.mean())
    result = {
        "n_train": len(train_set),
        "n_test": len(test_set),
        "input_shape": list(train_set.prepare(train_inputs[0], 0).shape),
        "write_s": round(written, 1),
        "train_s": round(trained, 1),
        "epochs": epochs,
        "test_mae": mae(predict(model, test_set, test_inputs, device), test_set.targets),
        "baseline_mae": mae(np.full(len(test_set), baseline), test_set.targets),
    }
    if name == "echonet":
        write_phantom("camus", root / "camus", n=100, size=48, seed=0)
        same = clip_options(train_set)
        # the AdaCon paper's protocol keeps EchoNet's period; a half cycle of 10-34 frames then
        # fills only part of the clip. Period 1 is reported beside it.
        for label, options in (("camus", same), ("camus_period1", {**same, "period": 1})):
            camus = CAMUS(root / "camus", "test", all_patients=True, augment=False, **options)
            camus_inputs = cached(camus)
            result[label] = {
                "n": len(camus),
                "period": options["period"],
                "test_mae": mae(predict(model, camus, camus_inputs, device), camus.targets),
                "baseline_mae": mae(np.full(len(camus), baseline), camus.targets),
            }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="training budget per phantom")
    parser.add_argument("--only", nargs="*", choices=sorted(SETUPS), help="a subset of phantoms")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    results = {"device": str(device), "threads": torch.get_num_threads(), "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or SETUPS:
            results[name] = run(name, Path(tmp), args.seconds, device)
            r = results[name]
            print(
                f"{name:8s} n={r['n_train']}/{r['n_test']} input={r['input_shape']} "
                f"epochs={r['epochs']} test MAE {r['test_mae']:.3f} vs mean baseline "
                f"{r['baseline_mae']:.3f} (ratio {r['test_mae'] / r['baseline_mae']:.2f})",
                flush=True,
            )
            for label in ("camus", "camus_period1"):
                if label in r:
                    c = r[label]
                    print(
                        f"camus    n={c['n']} period={c['period']} (EchoNet model, external) "
                        f"test MAE {c['test_mae']:.3f} vs baseline {c['baseline_mae']:.3f} "
                        f"(ratio {c['test_mae'] / c['baseline_mae']:.2f})",
                        flush=True,
                    )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
