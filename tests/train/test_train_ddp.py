"""DistributedDataParallel with 2 gloo processes on CPU trains like one process on the same
global batch: parameters, optimiser state and validation metrics agree after a few steps."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from train_testkit import toy_config, toy_splits

from supremix.train import load_checkpoint, train

CASES = {
    "vanilla": {"method": "vanilla"},
    # SupCon gathered over ranks (losses' own gather) + L1, one stage. No BatchNorm: CPU
    # processes keep per-process BatchNorm statistics (SyncBatchNorm needs GPUs).
    "multitask": {
        "method": "supcon",
        "protocol": "multitask",
        "gamma_con": 0.5,
        "probe_batchnorm": False,
    },
}


def config_for(case: str):
    return toy_config(epochs=2, warmup_epochs=1, batch_size=16, **CASES[case])


def worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        for case in CASES:
            train(config_for(case), **toy_splits(n_train=48), out_dir=os.path.join(out, case))
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    mp.start_processes(
        worker, args=(2, free_port(), str(root / "ddp")), nprocs=2, start_method="spawn"
    )
    for case in CASES:
        train(config_for(case), **toy_splits(n_train=48), out_dir=root / "single" / case)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_two_processes_match_one_process(runs, case):
    ddp = load_checkpoint(runs / "ddp" / case / "last.pt")
    single = load_checkpoint(runs / "single" / case / "last.pt")
    assert len(ddp["rng"]) == 2 and len(single["rng"]) == 1
    assert ddp["model"].keys() == single["model"].keys()
    for key, value in single["model"].items():
        assert torch.allclose(ddp["model"][key], value, rtol=1e-5, atol=1e-6), key
    for key, value in single["ema"]["module"].items():
        assert torch.allclose(ddp["ema"]["module"][key], value, rtol=1e-5, atol=1e-6), key
    first_moment = [s["exp_avg"] for s in single["optimizer"]["state"].values()]
    for index, value in enumerate(first_moment):
        assert torch.allclose(
            ddp["optimizer"]["state"][index]["exp_avg"], value, rtol=1e-4, atol=1e-7
        )
    losses = [r["train_loss"] for r in single["history"]]
    assert [r["train_loss"] for r in ddp["history"]] == pytest.approx(losses, rel=1e-5)
    val_ddp = [r["val_mae"] for r in ddp["history"]]
    assert val_ddp == pytest.approx([r["val_mae"] for r in single["history"]], rel=1e-5)
