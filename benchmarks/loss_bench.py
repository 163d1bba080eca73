"""Speed and memory of the SupReMix loss: Gram-matrix form vs materialised mixtures vs SupCon.

Forward + backward of one loss evaluation on a batch of ``n`` views (``n/2`` samples, two
views each), ``d = 128`` features, window 5 (inclusive, the default), t = 0.5, for
n in {64, 128, ..., 4096} (a DDP global batch of 8 GPUs x 256 samples x 2 views is 4096), with
two kinds of labels reported separately:

* ``integer``: whole numbers 0-100, so labels repeat and the Mix-pos sums factorise over label
  groups (goal: at most 3x SupCon's time and 2x its peak memory up to n = 2048 on a CPU);
* ``continuous``: all distinct (uniform on [0, 100]), every label group is one sample's two
  views (memory bounded, time reported).

Methods:

* ``supremix``: :func:`supremix.losses.supremix_loss` (mixtures never built);
* ``materialising``: the same loss with every mixture built as a vector, the Mix-pos ones in
  an ``(n, n, n, d)`` tensor as the published code does (written here, used only here; its
  value and gradients are checked against ``supremix`` at a small size before timing);
* ``supcon``: :func:`supremix.losses.supcon_loss`, the floor any SupCon-style loss pays.

Both SupReMix forms draw their Mix-neg coefficients with the same sampler, so the comparison
isolates materialisation. Time: median wall-clock of repeated forward + backward calls after
warm-up (CUDA: synchronised), and on CPU also the process CPU time, steadier when other jobs
share the machine; SupCon and SupReMix are timed in one process with their calls interleaved,
so both see the same load. CPU runs use one intra-op thread unless ``--threads`` says
otherwise (two threads on a contended 2-core machine make every timing erratic).

Peak memory, each case in a fresh subprocess: on CPU the rise of the process's peak resident
set (``VmHWM`` in ``/proc/self/status``, reset through ``/proc/self/clear_refs`` after a
warm-up at a tiny size) during the first full-size call, so it includes allocator overhead
and misses memory the allocator reuses; on CUDA ``torch.cuda.max_memory_allocated`` above the
memory held before the call. The
materialising form is skipped where its mixture tensors would exceed ``--max-materialise-gb``;
its time and memory there are extrapolated as ``n^3`` from the largest measured size and
marked so.

    python benchmarks/loss_bench.py              # full run, writes benchmarks/results/loss.json
    python benchmarks/loss_bench.py --quick      # smoke run at small sizes, writes nothing
    python benchmarks/loss_bench.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from supremix.losses import sample_beta, supcon_loss, supremix_loss

DIM = 128
LABEL_MAX = 100
WINDOW = 5.0
TEMPERATURE = 0.5
SIZES = (64, 128, 256, 512, 1024, 2048, 4096)
QUICK_SIZES = (32, 64)
METHODS = ("supcon", "supremix", "materialising")
LABEL_KINDS = ("integer", "continuous")
GOAL_MAX_SIZE = 2048
GOAL_TIME, GOAL_MEMORY = 3.0, 2.0
RESULTS = Path(__file__).resolve().parent / "results" / "loss.json"


def make_batch(
    n: int, device: str, seed: int = 0, kind: str = "integer"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` views of ``n/2`` samples, labels integers in [0, LABEL_MAX] or all distinct."""
    g = torch.Generator().manual_seed(seed)
    if kind == "integer":
        labels = torch.randint(0, LABEL_MAX + 1, (n // 2,), generator=g).float()
    else:
        labels = torch.rand(n // 2, generator=g, dtype=torch.float64).mul(LABEL_MAX).float()
    labels = labels.repeat(2)
    features = torch.randn(n, DIM, generator=g)
    return features.to(device).requires_grad_(True), labels.to(device)


def materialising_supremix(
    features: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float,
    window: float,
    lambdas: torch.Tensor,
) -> torch.Tensor:
    """SupReMix with explicit mixture vectors: Mix-neg ``(n, n, d)``, Mix-pos ``(n, n, n, d)``.

    Same loss as :func:`supremix_loss` with its defaults (detached, not renormalised
    mixtures; distance weights; one logsumexp per row), built the way the published code
    builds it: every (anchor, j, k) mixture exists as a vector, valid or not, then masks.
    """
    n = features.shape[0]
    z = F.normalize(features, dim=1)
    mix = z.detach()
    y = labels.to(z.dtype)
    gap = (y[:, None] - y[None, :]).abs()
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    same = gap == 0

    real = z @ z.T / temperature
    real_row = (real + torch.log1p(gap)).masked_fill(eye, float("-inf"))

    neg_vectors = lambdas[..., None] * mix[:, None, :] + (1 - lambdas)[..., None] * mix[None, :, :]
    neg = torch.einsum("id,ikd->ik", z, neg_vectors) / temperature
    neg_row = (neg + torch.log1p((1 - lambdas) * gap)).masked_fill(same, float("-inf"))

    yi, yj, yk = y[:, None, None], y[None, :, None], y[None, None, :]
    valid = (yj >= yi - window) & (yj < yi) & (yk > yi) & (yk <= yi + window)
    lam = torch.where(valid, (yk - yi) / (yk - yj), 0.0)
    pos_vectors = lam[..., None] * mix[None, :, None, :] + (1 - lam)[..., None] * mix[None, None]
    pos = torch.einsum("id,ijkd->ijk", z, pos_vectors).reshape(n, n * n) / temperature
    pos_row = pos.masked_fill(~valid.reshape(n, n * n), float("-inf"))

    lse = torch.logsumexp(torch.cat([real_row, neg_row, pos_row], dim=1), dim=1)
    real_pos = same & ~eye
    positive_sum = torch.where(real_pos, real, 0.0).sum(1) + torch.where(
        valid.reshape(n, n * n), pos, 0.0
    ).sum(1)
    count = real_pos.sum(1) + valid.reshape(n, -1).sum(1)
    per_anchor = lse - positive_sum / count.clamp_min(1)
    return per_anchor[count > 0].mean()


def loss_call(method: str, features, labels, generator):
    """One evaluation of ``method``; fresh Mix-neg draws every call for both SupReMix forms."""
    if method == "supcon":
        return supcon_loss(features, labels, temperature=TEMPERATURE)
    if method == "supremix":
        return supremix_loss(
            features, labels, temperature=TEMPERATURE, window=WINDOW, generator=generator
        )
    n = features.shape[0]
    lambdas = sample_beta((n, n), 2.0, 8.0, generator=generator, device=features.device)
    return materialising_supremix(
        features, labels, temperature=TEMPERATURE, window=WINDOW, lambdas=lambdas
    )


def cpu_name() -> str:
    info = Path("/proc/cpuinfo")
    if info.exists():
        found = re.search(r"model name\s*:\s*(.+)", info.read_text())
        if found:
            return found.group(1).strip()
    return platform.processor() or platform.machine()


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", text).group(1))


def peak_memory(method: str, n: int, device: str, kind: str) -> float:
    """Peak memory (bytes) of one full-size call, after a warm-up at a tiny size."""
    generator = torch.Generator(device=device).manual_seed(0)
    small, small_labels = make_batch(8, device, kind=kind)
    loss_call(method, small, small_labels, generator).backward()  # lazy set-up, tables
    features, labels = make_batch(n, device, kind=kind)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        loss_call(method, features, labels, generator).backward()
        torch.cuda.synchronize()
        return float(torch.cuda.max_memory_allocated() - before)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
    before = _status_kib("VmRSS")
    loss_call(method, features, labels, generator).backward()
    return float((_status_kib("VmHWM") - before) * 1024)


def interleaved_times(
    methods: list[str], n: int, device: str, min_seconds: float, max_repeats: int, kind: str
) -> dict[str, dict[str, float]]:
    """Median wall-clock and process-CPU ms per forward + backward, calls interleaved.

    Interleaving exposes every method to the same machine load, so their ratio is fair on a
    shared CPU; the CPU time (all threads of this process) is the steadier of the two there.
    """
    generator = torch.Generator(device=device).manual_seed(0)
    features, labels = make_batch(n, device, kind=kind)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    wall: dict[str, list[float]] = {m: [] for m in methods}
    cpu: dict[str, list[float]] = {m: [] for m in methods}
    warmup, rounds = 2, 0
    started = time.perf_counter()
    while rounds < max_repeats + warmup:
        for method in methods:
            sync()
            tick, tock = time.perf_counter(), time.process_time()
            loss_call(method, features, labels, generator).backward()
            sync()
            if rounds >= warmup:
                wall[method].append(time.perf_counter() - tick)
                cpu[method].append(time.process_time() - tock)
            features.grad = None
        rounds += 1
        if rounds >= warmup + 3 and time.perf_counter() - started > min_seconds:
            break
    return {
        m: {"ms": 1e3 * statistics.median(wall[m]), "cpu_ms": 1e3 * statistics.median(cpu[m])}
        for m in methods
    }


def materialise_gb(n: int) -> float:
    """Memory of the three ``(n, n, n, d)`` float32 tensors alive while building mixtures."""
    return 3 * 4 * n**3 * DIM / 1e9


def check_agreement(device: str) -> float:
    """Max abs difference (loss and gradients) of the two SupReMix forms at n = 24."""
    features, labels = make_batch(24, device, seed=1)
    labels = labels.remainder(8)  # ties and Mix-pos at this small size
    lambdas = sample_beta(
        (24, 24), 2.0, 8.0, generator=torch.Generator(device=device).manual_seed(3)
    )
    lambdas = lambdas.to(device)
    results = []
    for fn in (
        lambda f: supremix_loss(
            f, labels, temperature=TEMPERATURE, window=WINDOW, neg_lambdas=lambdas
        ),
        lambda f: materialising_supremix(
            f, labels, temperature=TEMPERATURE, window=WINDOW, lambdas=lambdas
        ),
    ):
        f = features.detach().clone().requires_grad_(True)
        loss = fn(f)
        loss.backward()
        results.append((loss.detach(), f.grad))
    (a, ga), (b, gb) = results
    return max(float((a - b).abs()), float((ga - gb).abs().max()))


def in_subprocess(task: str, methods: list[str], n: int, device: str, args, kind: str) -> dict:
    """Run ``--task`` in a fresh interpreter and return its JSON answer (or the failure)."""
    command = [sys.executable, __file__, "--task", task, "--methods", *methods, "--n", str(n)]
    command += ["--labels", kind]
    command += ["--device", device, "--min-seconds", str(args.min_seconds)]
    command += ["--max-repeats", str(args.max_repeats)]
    command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_size(n: int, device: str, args, kind: str) -> dict:
    """Every method at one size: memory in fresh processes, SupCon/SupReMix timed together."""
    row: dict[str, dict] = {}
    for method in ("supcon", "supremix"):
        answer = in_subprocess("memory", [method], n, device, args, kind)
        row[method] = {"peak_mb": answer["bytes"] / 2**20} if "bytes" in answer else answer
    paired = in_subprocess("time", ["supcon", "supremix"], n, device, args, kind)
    for method in ("supcon", "supremix"):
        row[method].update(paired.get(method, paired))
        row[method]["status"] = "measured" if "ms" in row[method] else "failed"
    if materialise_gb(n) > args.max_materialise_gb:
        row["materialising"] = {
            "status": f"skipped: needs ~{materialise_gb(n):.1f} GB of mixture tensors"
            f" > --max-materialise-gb {args.max_materialise_gb}"
        }
    else:
        memory = in_subprocess("memory", ["materialising"], n, device, args, kind)
        timing = in_subprocess("time", ["materialising"], n, device, args, kind)
        ok = "bytes" in memory and "materialising" in timing
        row["materialising"] = (
            {**timing["materialising"], "peak_mb": memory["bytes"] / 2**20, "status": "measured"}
            if ok
            else {"status": f"failed: {memory.get('error') or timing.get('error')}"}
        )
    return row


def extrapolate(results: dict, sizes: list[int]) -> None:
    """Fill skipped materialising sizes by n^3 scaling from the largest measured size."""
    measured = [n for n in sizes if results[n]["materialising"].get("status") == "measured"]
    if not measured:
        return
    base = max(measured)
    for n in sizes:
        entry = results[n]["materialising"]
        if entry.get("status", "").startswith("skipped"):
            scale = (n / base) ** 3
            measured_entry = results[base]["materialising"]
            entry.update(
                ms=measured_entry["ms"] * scale,
                cpu_ms=measured_entry["cpu_ms"] * scale,
                peak_mb=measured_entry["peak_mb"] * scale,
                status=f"extrapolated (n^3 from n={base}); {entry['status']}",
            )


def ratios(row: dict) -> dict:
    out = {}
    sup, mix, mat = row["supcon"], row["supremix"], row["materialising"]
    if "ms" in sup and "ms" in mix:
        out["supremix_over_supcon_time"] = mix["ms"] / sup["ms"]
        out["supremix_over_supcon_cpu_time"] = mix["cpu_ms"] / sup["cpu_ms"]
    if "peak_mb" in sup and "peak_mb" in mix:
        out["supremix_over_supcon_memory"] = mix["peak_mb"] / max(sup["peak_mb"], 1e-3)
    if "ms" in mat and "ms" in mix:
        out["materialising_over_supremix_time"] = mat["ms"] / mix["ms"]
        out["materialising_over_supremix_cpu_time"] = mat["cpu_ms"] / mix["cpu_ms"]
        out["materialising_over_supremix_memory"] = mat["peak_mb"] / max(mix["peak_mb"], 1e-3)
    return out


def markdown(results: dict, sizes: list[int]) -> str:
    lines = [
        "| n | SupCon ms | SupReMix ms | materialising ms | SupReMix / SupCon time (CPU time) "
        "| materialising / SupReMix time | SupCon MB | SupReMix MB | SupReMix / SupCon memory "
        "| materialising MB | materialising / SupReMix memory |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(entry: dict, key: str) -> str:
        if key not in entry:
            return "n/a"
        mark = "*" if entry["status"].startswith("extrapolated") else ""
        return f"{entry[key]:.3g}{mark}"

    for n in sizes:
        row = results[n]
        r = row["ratios"]

        def ratio(key: str, r=r, row=row) -> str:
            if key not in r:
                return "n/a"
            mark = "*" if row["materialising"]["status"].startswith("extrapolated") else ""
            mark = mark if key.startswith("materialising") else ""
            return f"{r[key]:.3g}{mark}"

        lines.append(
            f"| {n} | {cell(row['supcon'], 'ms')} | {cell(row['supremix'], 'ms')} "
            f"| {cell(row['materialising'], 'ms')} | {ratio('supremix_over_supcon_time')} "
            f"({ratio('supremix_over_supcon_cpu_time')}) "
            f"| {ratio('materialising_over_supremix_time')} | {cell(row['supcon'], 'peak_mb')} "
            f"| {cell(row['supremix'], 'peak_mb')} | {ratio('supremix_over_supcon_memory')} "
            f"| {cell(row['materialising'], 'peak_mb')} "
            f"| {ratio('materialising_over_supremix_memory')} |"
        )
    lines.append("\n`*` extrapolated as n^3 from the largest size the materialising form ran at.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, nothing written")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--sizes", type=int, nargs="+", help="override the batch sizes")
    parser.add_argument("--max-materialise-gb", type=float, default=4.0)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--max-repeats", type=int, default=50)
    parser.add_argument("--output", type=Path, help="JSON path (default: results/loss.json)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads on CPU (default 1: steady ratios on a shared machine; "
        "0 = torch's own choice)",
    )
    parser.add_argument("--task", choices=["memory", "time"], help=argparse.SUPPRESS)
    parser.add_argument("--methods", nargs="+", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--labels",
        choices=LABEL_KINDS,
        nargs="+",
        default=list(LABEL_KINDS),
        help="label kinds to run (default: both)",
    )
    args = parser.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.task == "memory":
        bytes_ = peak_memory(args.methods[0], args.n, device, args.labels[0])
        print(json.dumps({"bytes": bytes_}))
        return
    if args.task == "time":
        times = interleaved_times(
            args.methods, args.n, device, args.min_seconds, args.max_repeats, args.labels[0]
        )
        print(json.dumps(times))
        return

    sizes = args.sizes or list(QUICK_SIZES if args.quick else SIZES)
    if args.quick:
        args.min_seconds, args.max_repeats = 0.2, 5
    agreement = check_agreement(device)
    print(f"materialising vs Gram form at n=24: max abs difference {agreement:.2e}", flush=True)
    if agreement > 1e-4:
        raise SystemExit("the two SupReMix forms disagree; not timing them")

    by_kind: dict[str, dict[int, dict]] = {}
    for kind in args.labels:
        results: dict[int, dict] = {}
        for n in sizes:
            results[n] = measure_size(n, device, args, kind)
            print(f"{kind} n={n}: {json.dumps(results[n])}", flush=True)
        extrapolate(results, sizes)
        for n in sizes:
            results[n]["ratios"] = ratios(results[n])
        by_kind[kind] = results

    report = {
        "device": torch.cuda.get_device_name() if device == "cuda" else cpu_name(),
        "device_kind": device,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "setup": {
            "dim": DIM,
            "labels": {
                "integer": f"integers 0-{LABEL_MAX}, two views per sample",
                "continuous": f"all distinct, uniform on [0, {LABEL_MAX}], two views per sample",
            },
            "window": f"{WINDOW} (inclusive)",
            "temperature": TEMPERATURE,
            "timing": "median forward+backward wall-clock (ms) and process CPU time (cpu_ms) "
            "after 2 warm-up rounds; SupCon and SupReMix interleaved call by call in one "
            "process",
            "memory": "CPU: VmHWM rise over one full-size call after a clear_refs reset; "
            "CUDA: max_memory_allocated rise",
        },
        "agreement_max_abs_diff_n24": agreement,
        "results": {kind: {str(n): results[n] for n in sizes} for kind, results in by_kind.items()},
    }
    if "integer" in by_kind:
        goal = {}
        for n in [n for n in sizes if n <= GOAL_MAX_SIZE]:
            r = by_kind["integer"][n]["ratios"]
            time_ratio = r.get("supremix_over_supcon_time")
            memory_ratio = r.get("supremix_over_supcon_memory")
            goal[str(n)] = {
                "time_ratio": time_ratio,
                "cpu_time_ratio": r.get("supremix_over_supcon_cpu_time"),
                "memory_ratio": memory_ratio,
                "met": time_ratio is not None
                and memory_ratio is not None
                and time_ratio <= GOAL_TIME
                and memory_ratio <= GOAL_MEMORY,
            }
        report[f"goal_integer_labels (time <= {GOAL_TIME}x, memory <= {GOAL_MEMORY}x)"] = goal
    print(
        f"\ndevice: {report['device']} ({device}), torch {torch.__version__}, threads "
        f"{report['threads']}"
    )
    for kind, results in by_kind.items():
        print(f"\n{kind} labels\n")
        print(markdown(results, sizes))
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {output}")


if __name__ == "__main__":
    main()
