"""End-to-end behaviour of ``train``: protocols, outputs, best-model selection, resume."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from train_testkit import gaussian_noise, toy_config, toy_splits

from supremix.train import RESULTS_JSON, load_checkpoint, predict, train


class StopRunError(Exception):
    """Raised by a callback to stop a run as a kill would."""


def stop_after(global_epoch: int):
    seen = []

    def callback(row):
        seen.append(row)
        if len(seen) == global_epoch:
            raise StopRunError

    return callback


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("stop", [2, 3, 4])
def test_an_interrupted_run_resumed_ends_like_an_uninterrupted_one(tmp_path, stop):
    """SupReMix (Beta draws), augmentation (random noise), probe after pretraining; stopped
    mid-pretraining (2), at the stage boundary (3) and mid-probe (4) of 3 + 2 epochs."""
    config = toy_config(method="supremix", epochs=3, probe_epochs=2)
    data = toy_splits()
    whole = train(config, **data, out_dir=tmp_path / "whole", augment=gaussian_noise)
    with pytest.raises(StopRunError):
        train(
            config,
            **data,
            out_dir=tmp_path / "cut",
            augment=gaussian_noise,
            callbacks=[stop_after(stop)],
        )
    assert load_checkpoint(tmp_path / "cut" / "last.pt")["epoch"] == (stop - 1) % 3 + 1
    resumed = train(config, **data, out_dir=tmp_path / "cut", resume=True, augment=gaussian_noise)
    assert states_equal(whole.model.state_dict(), resumed.model.state_dict())
    last_whole = load_checkpoint(tmp_path / "whole" / "last.pt")
    last_cut = load_checkpoint(tmp_path / "cut" / "last.pt")
    assert states_equal(last_whole["model"], last_cut["model"])
    assert states_equal(last_whole["optimizer"]["state"][0], last_cut["optimizer"]["state"][0])
    assert resumed.metrics == whole.metrics
    losses = [(r["stage"], r["epoch"], r["train_loss"]) for r in whole.history]
    assert [(r["stage"], r["epoch"], r["train_loss"]) for r in resumed.history] == losses
    assert resumed.results["resumed_from"]["epoch"] == (stop - 1) % 3 + 1


def test_resuming_with_a_different_configuration_is_refused(tmp_path):
    config = toy_config(method="vanilla", epochs=2)
    train(config, **toy_splits(), out_dir=tmp_path)
    with pytest.raises(ValueError, match="configuration differs in lr, temperature"):
        train(
            config.replace(lr=0.1, temperature=0.5),
            **toy_splits(),
            out_dir=tmp_path,
            resume=True,
        )


def test_resuming_a_finished_run_only_re_evaluates(tmp_path):
    config = toy_config(method="supcon", protocol="finetune", epochs=2, probe_epochs=2)
    first = train(config, **toy_splits(), out_dir=tmp_path)
    again = train(config, **toy_splits(), out_dir=tmp_path, resume=True)
    assert again.metrics == first.metrics
    assert len(again.history) == len(first.history) == 4


def test_outputs_results_json_metrics_csv_and_checkpoints(tmp_path):
    config = toy_config(method="supremix", epochs=2, probe_epochs=3)
    result = train(config, **toy_splits(), out_dir=tmp_path, data_info={"kind": "synthetic"})
    saved = json.loads((tmp_path / RESULTS_JSON).read_text())
    assert set(saved["test"]) >= {"mae", "mse", "rmse", "gm", "pearson", "r2"}
    assert saved["test"] == pytest.approx(result.metrics["test"])
    assert saved["dataset"]["kind"] == "synthetic" and saved["dataset"]["n_train"] == 64
    assert saved["config"]["method"] == "supremix"
    prov = saved["provenance"]
    assert prov["software"]["torch"] == torch.__version__
    assert prov["device"]["type"] == "cpu" and prov["precision"] == "fp32"
    assert prov["wall_time_s"] > 0 and "git" in prov
    with open(tmp_path / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["stage"], r["epoch"]) for r in rows] == [
        ("pretrain", "1"),
        ("pretrain", "2"),
        ("probe", "1"),
        ("probe", "2"),
        ("probe", "3"),
    ]
    assert all(r["val_mae"] for r in rows[2:]) and not any(r.get("val_mae") for r in rows[:2])
    # the selected weights are the EMA weights of the probe epoch with the lowest val MAE
    maes = [float(r["val_mae"]) for r in rows[2:]]
    best_epoch = 1 + maes.index(min(maes))
    assert saved["selected"] == {"stage": "probe", "epoch": best_epoch, "by": "best validation MAE"}
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] == best_epoch and states_equal(best["model"], result.model.state_dict())
    assert saved["val"]["mae"] == pytest.approx(min(maes))


def test_linear_probe_keeps_the_pretrained_encoder_and_finetune_changes_it(tmp_path):
    data = toy_splits()
    encoders = {}
    for protocol in ("linear_probe", "finetune"):
        config = toy_config(method="supcon", protocol=protocol, epochs=2, probe_epochs=2)
        cut = tmp_path / protocol

        def grab_after_pretrain(row, out=cut, key=protocol):
            if row["stage"] == "pretrain" and row["epoch"] == 2:
                encoders[key, "pretrained"] = load_checkpoint(out / "last.pt")["model"]

        result = train(config, **data, out_dir=cut, callbacks=[grab_after_pretrain])
        encoders[protocol, "final"] = result.model.state_dict()
    for protocol, changed in (("linear_probe", False), ("finetune", True)):
        before, after = encoders[protocol, "pretrained"], encoders[protocol, "final"]
        keys = [k for k in before if k.startswith("encoder.")]
        assert any(not torch.equal(before[k], after[k]) for k in keys) == changed
        linear = [k for k in before if k.startswith("regressor.1.linear.")]
        assert len(linear) == 2 and all(not torch.equal(before[k], after[k]) for k in linear)


@pytest.mark.parametrize(
    "changes",
    [
        {"method": "vanilla", "regression_loss": "huber"},
        {"method": "simclr"},
        {"method": "adacon", "protocol": "multitask", "gamma_con": 0.75},
        {"method": "rnc"},
        {"method": "supremix", "use_groups": True, "views": 2},
    ],
)
def test_every_method_trains_and_predicts(tmp_path, changes):
    config = toy_config(epochs=2, probe_epochs=1, **changes)
    data = toy_splits()
    result = train(config, **data, out_dir=tmp_path)
    assert all(torch.isfinite(torch.tensor(r["train_loss"])) for r in result.history)
    outputs = predict(result.model, data["test_set"])
    assert outputs.preds.shape == (24,) and outputs.ids == data["test_set"].ids
    assert outputs.features.shape == (24, 10)
    has_head = config.method not in ("vanilla", "rnc")
    assert (outputs.embeddings is not None) == has_head
    if has_head:
        assert outputs.embeddings.shape == (24, 8)
        assert torch.allclose(torch.from_numpy(outputs.embeddings).norm(dim=1), torch.ones(24))
    assert outputs.metrics() == pytest.approx(result.metrics["test"])
    if config.protocol == "multitask":
        assert {"loss_reg", "loss_con"} <= set(result.history[0])


def test_vanilla_regression_learns_the_toy_map(tmp_path):
    config = toy_config(method="vanilla", epochs=30, lr=1e-2, warmup_epochs=2)
    data = toy_splits(n_train=128)
    result = train(config, **data, out_dir=tmp_path)
    spread = float(torch.tensor(data["test_set"].targets).std())
    assert result.metrics["test"]["mae"] < 0.5 * spread
    assert result.metrics["test"]["pearson"] > 0.8


def test_a_training_set_smaller_than_one_batch_is_refused(tmp_path):
    with pytest.raises(
        ValueError, match="the training set has 8 items, fewer than one batch of 16"
    ):
        train(toy_config(), **toy_splits(n_train=8), out_dir=tmp_path)


def test_probe_batch_size_sets_only_the_batch_after_pretraining(tmp_path, monkeypatch):
    import supremix.train.engine as engine

    seen = []
    real = engine.train_loader

    def recording(dataset, config, env, generator, *, batch_size=None):
        loader = real(dataset, config, env, generator, batch_size=batch_size)
        seen.append(loader.batch_size)
        return loader

    monkeypatch.setattr(engine, "train_loader", recording)
    config = toy_config(batch_size=8, probe_batch_size=32)
    train(config, **toy_splits(), out_dir=tmp_path)
    assert seen == [8, 32]  # the contrastive stage, then the probe
    with pytest.raises(ValueError, match="probe_batch_size=32 is the batch of the stage after"):
        toy_config(method="vanilla", probe_batch_size=32)


def test_probe_lr_factor_scales_only_the_learning_rate_after_pretraining(tmp_path):
    """AdaCon's two-stage scheme (§IV-B6): fine-tuning starts 10 times lower than pretraining
    (1e-5 after 1e-4) and follows the same step decay from there."""
    changes = {
        "method": "supcon",
        "protocol": "finetune",
        "optimizer": "sgd",
        "lr": 1e-2,
        "warmup_epochs": 0,
        "epochs": 3,
        "probe_epochs": 3,
        "lr_decay_every": 1,
    }
    for factor in (1.0, 0.1):
        run = train(
            toy_config(**changes, probe_lr_factor=factor),
            **toy_splits(),
            out_dir=tmp_path / str(factor),
        )
        rates = {
            stage: [r["lr"] for r in run.history if r["stage"] == stage]
            for stage in ("pretrain", "finetune")
        }
        # the rate recorded after each epoch: decayed once per epoch from 1e-2
        assert rates["pretrain"] == pytest.approx([1e-3, 1e-4, 1e-5])
        assert rates["finetune"] == pytest.approx([factor * r for r in (1e-3, 1e-4, 1e-5)])
    with pytest.raises(
        ValueError, match=r"probe_lr_factor=0\.1 scales the learning rate of the stage"
    ):
        toy_config(method="supremix", protocol="multitask", probe_lr_factor=0.1)
