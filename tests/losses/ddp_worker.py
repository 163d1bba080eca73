"""Worker of the 2-process gloo test: each rank computes every loss on its slice of one batch."""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from supremix.losses import (
    adacon_loss,
    rnc_loss,
    simclr_loss,
    supcon_loss,
    supremix_dense,
    supremix_loss,
    supremix_rows,
)

DENSE = "@dense"  # suffix of the SupReMix results computed by the dense small-batch path
DENSE_MAX_ENTRIES = supremix_dense.DENSE_MAX_ENTRIES
SIZES = (6, 8)  # unequal local batches: the gather pads and trims


def global_batch():
    """The whole batch (both ranks' rows in rank order), identical in every process."""
    g = torch.Generator().manual_seed(1234)
    n = sum(SIZES)
    x = torch.randn(n, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 5, (n,), generator=g).to(torch.float64)
    groups = torch.randint(0, 2, (n,), generator=g)
    lam = torch.rand(n, n, generator=g, dtype=torch.float64)
    inputs = torch.randn(n, 5, generator=g, dtype=torch.float64)
    return x, y, groups, lam, inputs


def loss_cases(y, groups, lam):
    """name -> loss(features, rows) where rows selects the labels/groups of the given rows."""
    train = torch.arange(0.0, 5.0, 0.5)
    return {
        "supremix": lambda f, r: supremix_loss(f, y[r], temperature=0.5, window=2, neg_lambdas=lam),
        "supremix_variants": lambda f, r: supremix_loss(
            f,
            y[r],
            temperature=0.3,
            window=1,
            neg_lambdas=lam,
            groups=groups[r],
            window_mode="rank",
            weight_range="batch",
            renormalize_mixtures=True,
            detach_mixtures=False,
        ),
        "supremix_label_reduction_inf": lambda f, r: supremix_loss(
            f, y[r], temperature=0.5, window=math.inf, neg_lambdas=lam, reduction="label"
        ),
        "supremix_strict_groups": lambda f, r: supremix_loss(
            f,
            y[r],
            temperature=0.4,
            window=2,
            neg_lambdas=lam,
            groups=groups[r],
            window_edges="strict",
            weight_range=10.0,
        ),
        "supcon": lambda f, r: supcon_loss(f, y[r], temperature=0.5),
        "adacon": lambda f, r: adacon_loss(f, y[r], train_labels=train, temperature=0.7),
        "rnc": lambda f, r: rnc_loss(f, y[r], temperature=2.0),
        "simclr": lambda f, r: simclr_loss(f, temperature=0.5),
    }


def run(rank: int, init_file: str, out_dir: str) -> None:
    dist.init_process_group(
        "gloo",
        init_method=f"file://{init_file}",
        rank=rank,
        world_size=len(SIZES),
        timeout=datetime.timedelta(seconds=60),
    )
    supremix_rows.MIN_BUDGET = 1  # chunks of one or two anchors: the chunked path under DDP
    try:
        x, y, groups, lam, inputs = global_batch()
        start = sum(SIZES[:rank])
        rows = slice(start, start + SIZES[rank])
        results = {}
        for name, loss_fn in loss_cases(y, groups, lam).items():
            for key, dense_entries in ((name, 0), (f"{name}{DENSE}", DENSE_MAX_ENTRIES)):
                if key != name and not name.startswith("supremix"):
                    continue
                supremix_dense.DENSE_MAX_ENTRIES = dense_entries  # 0: always the chunked path
                local = x[rows].clone().requires_grad_(True)
                loss = loss_fn(local, rows)
                loss.backward()
                results[key] = (loss.detach(), local.grad)
        torch.manual_seed(0)
        model = DistributedDataParallel(torch.nn.Linear(5, 4).double())
        loss = supremix_loss(
            model(inputs[rows]), y[rows], temperature=0.5, window=2, neg_lambdas=lam
        )
        loss.backward()
        results["ddp_model"] = (loss.detach(), [p.grad for p in model.module.parameters()])
        torch.save(results, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()
