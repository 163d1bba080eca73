"""LDS, FDS and mixup in the training engine (the SupReMix paper, App. D.3, D.5, D.6)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from train_testkit import toy_config, toy_splits

from supremix.cli import _config_from_args, build_parser
from supremix.data import get_dataset
from supremix.imbalance import FDS, lds_weights
from supremix.train import load_checkpoint, plan_stages, train
from supremix.train.model import FDSRegressionNet, build_model, label_statistics
from supremix.train.objective import stage_objective

AIRFOIL_DIR = Path(
    os.environ.get("SUPREMIX_DATA") or Path(__file__).resolve().parents[2].parent / "shared/data"
)


class StopRunError(Exception):
    pass


def stop_after(global_epoch: int):
    seen = []

    def callback(row):
        seen.append(row)
        if len(seen) == global_epoch:
            raise StopRunError

    return callback


def objective_for(config, model, **extra):
    return stage_objective(plan_stages(config)[-1], config, model=model, **extra)


def test_lds_weights_reach_the_regression_loss():
    from supremix.imbalance import LDSWeights

    data = toy_splits()
    labels = np.asarray(data["train_set"].targets, dtype=np.float64)
    config = toy_config(method="vanilla", lds=True)
    mean, std = label_statistics(labels)
    model = build_model(config, modality="tabular", in_channels=6, label_mean=mean, label_std=std)
    x = torch.stack([data["train_set"].load(i) for i in range(16)])
    y = torch.tensor(labels[:16], dtype=torch.float32)
    loss, _ = objective_for(config, model, lds=LDSWeights.fit(labels))(x, y)
    pred = model(x)["pred"].detach().double()
    weights = lds_weights(labels)[:16]
    assert np.ptp(weights) > 0.1  # the toy labels are imbalanced
    expected = np.mean(weights * np.abs((pred.numpy() - mean) / std - (labels[:16] - mean) / std))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    plain, _ = objective_for(config.replace(lds=False), model)(x, y)
    assert plain.item() != pytest.approx(loss.item(), rel=1e-3)


def test_fds_stages_calibrate_and_collect_moments_and_contrastive_stages_do_not():
    labels = np.repeat(np.arange(10.0), 4)
    config = toy_config(method="supremix", fds=True)
    mean, std = label_statistics(labels)
    model = build_model(
        config,
        modality="tabular",
        in_channels=6,
        label_mean=mean,
        label_std=std,
        train_labels=labels,
    )
    x = torch.randn(40, 6, generator=torch.Generator().manual_seed(0))
    y = torch.tensor(labels, dtype=torch.float32)
    model.fds.update(model(x)["features"].detach() * 3 + y[:, None], y)
    model.train()
    pretrain, probe = (
        stage_objective(stage, config, model=model, contrastive_loss=lambda z, *_: z.sum())
        for stage in plan_stages(config)
    )
    pretrain(x, y)
    assert pretrain.fds is None and pretrain.fds_moments.pop() is None
    loss, _ = probe(x, y)
    out = model(x, y)
    expected = ((out["pred"].detach() - y) / std).abs().mean()
    torch.testing.assert_close(loss.detach(), expected)
    assert not torch.allclose(out["pred"], model(x)["pred"])  # calibrated, not the plain pass
    direct = model.fds.bin_moments(out["features"].detach(), y)
    for got, want in zip(probe.fds_moments.pop(), direct, strict=True):
        torch.testing.assert_close(got, want)


def test_fds_model_calibrates_only_in_training_mode():
    labels = np.repeat(np.arange(10.0), 4)
    config = toy_config(method="vanilla", fds=True)
    model = build_model(config, modality="tabular", in_channels=6, train_labels=labels)
    assert isinstance(model, FDSRegressionNet) and isinstance(model.fds, FDS)
    x = torch.randn(40, 6, generator=torch.Generator().manual_seed(0))
    y = torch.tensor(labels, dtype=torch.float32)
    model.fds.update(model(x)["features"].detach() * 3 + y[:, None], y)
    model.train()
    calibrated = model(x, y)["pred"]
    assert not torch.allclose(calibrated, model(x)["pred"])
    model.eval()
    torch.testing.assert_close(model(x, y)["pred"], model(x)["pred"])


def test_fds_and_lds_change_a_run_and_the_fds_statistics_follow_each_epoch(tmp_path):
    data = toy_splits()
    base = toy_config(method="vanilla", epochs=3, warmup_epochs=0)
    plain = train(base, **data, out_dir=tmp_path / "plain", augment=None)
    both = train(base.replace(lds=True, fds=True), **data, out_dir=tmp_path / "dir", augment=None)
    losses = [row["train_loss"] for row in plain.history]
    assert [row["train_loss"] for row in both.history] != losses
    state = load_checkpoint(tmp_path / "dir" / "last.pt")["model"]
    assert int(state["fds.updates"]) == 3
    labels = np.asarray(data["train_set"].targets)  # integers; 64 = 4 full batches
    expected = np.zeros(int(labels.max() - labels.min()) + 1, dtype=int)
    expected[(labels - labels.min()).astype(int)] = 3
    assert state["fds.bin_updates"].tolist() == expected.tolist()
    assert torch.count_nonzero(state["fds.running_mean"]) > 0


def test_a_resumed_supremix_run_with_lds_and_fds_ends_like_an_uninterrupted_one(tmp_path):
    """Table 16's "SupReMix + LDS + FDS": probe stage with both; stopped mid-probe."""
    config = toy_config(method="supremix", epochs=2, probe_epochs=3, lds=True, fds=True)
    data = toy_splits()
    whole = train(config, **data, out_dir=tmp_path / "whole", augment=None)
    with pytest.raises(StopRunError):
        train(config, **data, out_dir=tmp_path / "cut", augment=None, callbacks=[stop_after(4)])
    cut_state = load_checkpoint(tmp_path / "cut" / "last.pt")
    assert (cut_state["stage_name"], cut_state["epoch"]) == ("probe", 2)
    assert int(cut_state["model"]["fds.updates"]) == 2
    resumed = train(config, **data, out_dir=tmp_path / "cut", resume=True, augment=None)
    last_whole = load_checkpoint(tmp_path / "whole" / "last.pt")["model"]
    last_cut = load_checkpoint(tmp_path / "cut" / "last.pt")["model"]
    assert last_whole.keys() == last_cut.keys()
    assert all(torch.equal(last_whole[k], last_cut[k]) for k in last_whole)
    assert resumed.metrics == whole.metrics
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]


@pytest.mark.parametrize("mixup", ["input", "cmixup"])
def test_mixup_changes_the_training_and_resumes_exactly(tmp_path, mixup):
    config = toy_config(method="vanilla", epochs=3, warmup_epochs=0, cmixup_sigma=2.0)
    data = toy_splits()
    plain = train(config, **data, out_dir=tmp_path / "plain", augment=None)
    mixed_config = config.replace(mixup=mixup)
    mixed = train(mixed_config, **data, out_dir=tmp_path / "mixed", augment=None)
    assert [r["train_loss"] for r in mixed.history] != [r["train_loss"] for r in plain.history]
    with pytest.raises(StopRunError):
        train(
            mixed_config,
            **data,
            out_dir=tmp_path / "cut",
            augment=None,
            callbacks=[stop_after(2)],
        )
    resumed = train(mixed_config, **data, out_dir=tmp_path / "cut", resume=True, augment=None)
    assert resumed.metrics == mixed.metrics


def test_a_cmixup_probe_after_supremix_trains_on_the_real_airfoil_file(tmp_path):
    """Table 18's "SupReMix + C-Mixup" on the real UCI file (Mixup Your Own Pairs' airfoil data)."""
    if not (AIRFOIL_DIR / "airfoil_self_noise.dat").is_file():
        pytest.skip("the UCI airfoil file is not available (set SUPREMIX_DATA)")
    config = toy_config(
        method="supremix",
        epochs=2,
        probe_epochs=2,
        batch_size=128,
        mixup="cmixup",
        cmixup_sigma=1.75,
        mixup_alpha=2.0,
    )
    splits = {
        f"{split}_set": get_dataset("airfoil", AIRFOIL_DIR, split)
        for split in ("train", "val", "test")
    }
    result = train(config, **splits, out_dir=tmp_path, augment=None)
    assert [row["stage"] for row in result.history] == ["pretrain"] * 2 + ["probe"] * 2
    assert np.isfinite(result.metrics["test"]["mae"])
    assert result.metrics["test"]["mae"] < 20  # labels span 103-141 dB


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mixup": "cmixup", "lds": True}, "cannot be combined with lds or fds"),
        ({"mixup": "input", "fds": True}, "cannot be combined with lds or fds"),
        (
            {"method": "adacon", "protocol": "multitask", "mixup": "input"},
            "needs a stage with only a regression loss",
        ),
        ({"mixup": "manifold"}, "mixup='manifold' is not valid"),
        ({"smoothing_kernel_size": 4}, "smoothing_kernel_size must be a positive odd integer"),
        ({"fds_momentum": 1.0}, r"fds_momentum must be in \[0, 1\)"),
        ({"cmixup_sigma": 0.0}, "cmixup_sigma must be > 0"),
        ({"lds_reweight": "log"}, "lds_reweight='log' is not valid"),
    ],
)
def test_bad_imbalance_and_mixup_settings_are_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        toy_config(**changes)


def test_build_model_with_fds_needs_the_training_labels():
    with pytest.raises(ValueError, match="needs train_labels"):
        build_model(toy_config(method="vanilla", fds=True), modality="tabular", in_channels=6)


def test_command_line_flags_set_the_options():
    argv = ["train", "--dataset", "airfoil", "--out", "o", "--mixup", "cmixup", "--cmixup-sigma"]
    config = _config_from_args(build_parser().parse_args([*argv, "1.5"]))
    assert (config.mixup, config.cmixup_sigma, config.lds, config.fds) == ("cmixup", 1.5, 0, 0)
    argv = ["train", "--dataset", "rsna", "--out", "o", "--lds", "--fds", "--mixup-alpha", "1"]
    config = _config_from_args(build_parser().parse_args(argv))
    assert (config.lds, config.fds, config.mixup, config.mixup_alpha) == (1, 1, "none", 1.0)


DDP_CONFIG = {"method": "vanilla", "epochs": 3, "warmup_epochs": 1, "lds": True, "fds": True}


def ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        train(toy_config(**DDP_CONFIG), **toy_splits(n_train=48), out_dir=out, augment=None)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_fds_statistics_are_summed_over_processes(tmp_path):
    """2 gloo processes with half batches each train like one process (LDS + FDS)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ddp_dir = str(tmp_path / "ddp")
    mp.start_processes(ddp_worker, args=(2, port, ddp_dir), nprocs=2, start_method="spawn")
    config = toy_config(**DDP_CONFIG)
    train(config, **toy_splits(n_train=48), out_dir=tmp_path / "single", augment=None)
    ddp = load_checkpoint(tmp_path / "ddp" / "last.pt")["model"]
    single = load_checkpoint(tmp_path / "single" / "last.pt")["model"]
    assert int(ddp["fds.updates"]) == 3
    for key, value in single.items():
        assert torch.allclose(ddp[key], value, rtol=1e-5, atol=1e-5), key
