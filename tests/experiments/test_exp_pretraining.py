"""SupReMix pretraining of task-specific encoders (the SupReMix paper, §5.4, Fig. 8): each variant
builds its architecture at the right size, the two settings differ only by SupReMix pretraining, and
the improvement is computed from the runs' errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from supremix.experiments import Sweep, VariantRun
from supremix.experiments.pretraining import (
    ARCHITECTURES,
    SETTING_NAMES,
    pretraining_figure,
    pretraining_settings,
    pretraining_table,
    pretraining_variants,
    run_pretraining,
)
from supremix.experiments.settings import RunSettings
from supremix.models import SFCN
from supremix.train import TrainConfig
from supremix.train.model import build_model

INPUTS = {"volume3d": (1, 1, 32, 32, 32), "image2d": (2, 1, 64, 48), "timeseries": (2, 8, 40)}


def test_the_two_settings_differ_only_by_supremix_pretraining_then_fine_tuning():
    variants = pretraining_variants("ukb", model_size="cpu")
    by_label = {v.label: v.overrides for v in variants}
    scratch, pretrained = by_label["SFCN, from scratch"], by_label["SFCN, SupReMix pretrained"]
    assert scratch["method"] == "vanilla"
    assert (pretrained["method"], pretrained["protocol"]) == ("supremix", "finetune")
    assert {k: v for k, v in scratch.items() if k != "method"} == {
        k: v for k, v in pretrained.items() if k not in ("method", "protocol")
    }


@pytest.mark.parametrize(
    ("dataset", "modality"),
    [("ukb", "volume3d"), ("rsna", "image2d"), ("a4", "volume3d"), ("hcp", "timeseries")],
)
def test_every_cpu_architecture_reads_the_phantoms_input(dataset, modality):
    for variant in pretraining_variants(dataset, model_size="cpu", methods=["supremix"]):
        config = TrainConfig(dataset=dataset, model_size="cpu").replace(**variant.overrides)
        channels = INPUTS[modality][1]
        model = build_model(config, modality=modality, in_channels=channels).eval()
        with torch.no_grad():
            out = model(torch.randn(INPUTS[modality]))
        assert out["pred"].shape[0] == INPUTS[modality][0]
        assert out["embedding"] is not None


def test_sfcn_is_built_at_the_papers_width_with_real_data_and_narrower_on_a_phantom():
    def encoder(model_size):
        (variant,) = pretraining_variants(
            "ukb", model_size=model_size, architectures=["SFCN"], methods=["vanilla"]
        )
        config = TrainConfig(dataset="ukb", model_size=model_size).replace(**variant.overrides)
        return build_model(config, modality="volume3d", in_channels=1).encoder

    paper, cpu = encoder("paper"), encoder("cpu")
    assert isinstance(paper, SFCN) and isinstance(cpu, SFCN)
    assert paper.out_dim == 64 and cpu.out_dim < paper.out_dim


def test_unknown_architectures_and_settings_are_refused():
    with pytest.raises(
        ValueError,
        match=r"unknown or no ukb architectures \[.Global-Local Transformer.\]; expected some of",
    ):
        pretraining_variants("ukb", model_size="cpu", architectures=["Global-Local Transformer"])
    with pytest.raises(ValueError, match="no task-specific architecture for 'agedb'"):
        pretraining_variants("agedb", model_size="cpu")
    with pytest.raises(
        ValueError, match=r"unknown or no methods \['supcon'\]; expected some of vanilla, supremix"
    ):
        pretraining_variants("ukb", model_size="cpu", methods=["supcon"])
    assert set(ARCHITECTURES) <= {"ukb", "hcp", "rsna", "rhpe", "echonet", "a4"}


def test_the_improvement_is_the_relative_drop_of_the_mean_error():
    variants = pretraining_variants("ukb", model_size="cpu", architectures=["SFCN", "ResNet-18"])
    targets = np.array([50.0, 60.0, 70.0])
    errors = {
        "SFCN, from scratch": (4.0, 6.0),
        "SFCN, SupReMix pretrained": (3.0, 3.0),
        "ResNet-18, from scratch": (2.0, 2.0),
        "ResNet-18, SupReMix pretrained": (2.5, 2.5),
    }
    sweep = Sweep(
        dataset="ukb",
        preset="ukb-cpu",
        config=TrainConfig(dataset="ukb"),
        data={"kind": "phantom", "root": None},
        eval_split="test",
        targets=targets,
        train_targets=targets,
        variants=variants,
    )
    for label, per_seed in errors.items():
        for seed, error in enumerate(per_seed):
            sweep.runs.append(VariantRun(label, seed, {}, targets + error, None, 0.0, 3))
    table = pretraining_table(sweep)
    assert table.loc["SFCN", SETTING_NAMES["vanilla"]] == pytest.approx(5.0)
    assert table.loc["SFCN", SETTING_NAMES["supremix"]] == pytest.approx(3.0)
    assert table.loc["SFCN", "improvement (%)"] == pytest.approx(100 * (5.0 - 3.0) / 5.0)
    assert table.loc["ResNet-18", "improvement (%)"] == pytest.approx(-25.0)
    with pytest.raises(ValueError, match="rho is not an error"):
        pretraining_table(sweep, "rho")
    figure = pretraining_figure(sweep)
    assert isinstance(figure, Figure)
    assert len(figure.axes[0].patches) == 4


def test_a_smoke_run_trains_both_settings_of_the_chosen_architecture():
    sweep = run_pretraining("ukb", architectures=["SFCN"], smoke=True)
    assert sweep.labels == ["SFCN, from scratch", "SFCN, SupReMix pretrained"]
    assert len(sweep.runs) == 2
    assert np.isfinite(pretraining_table(sweep)["improvement (%)"]).all()


def test_rows_trained_directly_follow_their_architectures_published_recipe_on_real_data():
    from supremix.train.protocols import plan_stages

    def configs(dataset, **kwargs):
        variants = pretraining_variants(dataset, model_size="paper", **kwargs)
        base = TrainConfig(dataset=dataset, lr=1e-3, epochs=200, optimizer="adam")
        return {v.label: base.replace(**v.overrides) for v in variants}

    a4 = configs("a4", architectures=["3D DenseNet"], recipes=True)
    scratch = a4["3D DenseNet, from scratch"]  # Huang et al. 2017's ImageNet recipe
    assert (scratch.optimizer, scratch.momentum, scratch.lr, scratch.weight_decay) == (
        "sgd",
        0.9,
        0.1,
        1e-4,
    )
    assert (scratch.epochs, scratch.lr_decay_every, scratch.lr_decay_factor) == (90, 30, 0.1)
    pretrained = a4["3D DenseNet, SupReMix pretrained"]  # SupReMix keeps the preset
    assert (pretrained.optimizer, pretrained.lr, pretrained.epochs) == ("adam", 1e-3, 200)
    tcn = configs("hcp", architectures=["TCN"], recipes=True)["TCN, from scratch"]
    assert (tcn.optimizer, tcn.lr, tcn.epochs, tcn.batch_size) == ("adam", 1e-3, 200, 8)
    (stage,) = plan_stages(tcn)
    assert stage.warmup_epochs == 0 and tcn.lr_decay_factor == 1.0  # a constant rate
    vit = configs("ukb", architectures=["ViT-B"], recipes=True)["ViT-B, from scratch"]
    assert (vit.lr, vit.weight_decay, vit.epochs, vit.warmup_epochs) == (3e-3, 0.3, 300, 32)
    assert vit.lr_decay_every is None  # cosine decay
    # an architecture without a published recipe, and phantom runs, keep the preset
    sfcn = configs("ukb", architectures=["SFCN"], recipes=True)["SFCN, from scratch"]
    assert (sfcn.optimizer, sfcn.lr, sfcn.epochs) == ("adam", 1e-3, 200)
    cpu = configs("a4", architectures=["3D DenseNet"])["3D DenseNet, from scratch"]
    assert (cpu.optimizer, cpu.epochs) == ("adam", 200)
    kept = configs("a4", architectures=["3D DenseNet"], recipes=True, keep=["epochs"])
    assert kept["3D DenseNet, from scratch"].epochs == 200


def test_run_pretraining_uses_the_recipes_with_real_data_only(monkeypatch):
    import supremix.experiments.pretraining as pretraining

    seen = {}

    def fake_sweep(dataset, variants, **kwargs):
        seen["variants"] = {v.label: dict(v.overrides) for v in variants}
        seen["settings"] = kwargs["settings"]

    monkeypatch.setattr(pretraining, "run_sweep", fake_sweep)
    run_pretraining("hcp", architectures=["TCN"], data_root="/real/hcp")
    assert seen["variants"]["TCN, from scratch"]["epochs"] == 200
    run_pretraining("hcp", architectures=["TCN"], data_root="/real/hcp", epochs=3)
    assert "epochs" not in seen["variants"]["TCN, from scratch"]
    assert seen["variants"]["TCN, from scratch"]["batch_size"] == 8
    run_pretraining("hcp", architectures=["TCN"], data_root="/real/hcp", batch_size=4)
    assert "batch_size" not in seen["variants"]["TCN, from scratch"]
    run_pretraining("hcp", architectures=["TCN"])
    assert "optimizer" not in seen["variants"]["TCN, from scratch"]
    settings = RunSettings(data_root="/real/hcp", epochs=3, device="cpu")
    run_pretraining("hcp", architectures=["TCN"], settings=settings)
    assert "epochs" not in seen["variants"]["TCN, from scratch"]
    assert seen["settings"] == settings


def test_run_pretraining_keeps_the_cpu_presets_volume_size_and_the_callers_overrides(
    monkeypatch,
):
    import supremix.experiments.pretraining as pretraining
    from supremix.experiments.settings import PHANTOM_SETTINGS
    from supremix.train import PRESETS

    size = {"dataset_options": {"size": PRESETS["ukb-cpu"].dataset_options["size"]}}
    assert size["dataset_options"] != PHANTOM_SETTINGS["ukb"]["dataset_options"]
    seen = {}
    monkeypatch.setattr(
        pretraining, "run_sweep", lambda dataset, variants, **kwargs: seen.update(kwargs)
    )
    run_pretraining("ukb", architectures=["SFCN"], settings=RunSettings(smoke=True))
    assert dict(seen["settings"].overrides) == size
    run_pretraining("ukb", architectures=["SFCN"], overrides={"lr": 0.5})
    assert dict(seen["settings"].overrides) == {**size, "lr": 0.5}
    run_pretraining("ukb", architectures=["SFCN"], data_root="/real/ukb")
    assert dict(seen["settings"].overrides) == {}


def test_pretraining_settings_name_the_phantom_the_runs_train_on_once_and_for_all():
    from supremix.train import PRESETS

    size = PRESETS["ukb-cpu"].dataset_options["size"]
    settings = pretraining_settings("ukb", RunSettings(smoke=True))
    assert settings.train_config("ukb")[1].dataset_options["size"] == size
    assert pretraining_settings("ukb", settings) == settings  # the notebook's, then the run's
    real = pretraining_settings("ukb", RunSettings(data_root="/real/ukb"))
    assert dict(real.overrides) == {}  # real volumes keep the preset's size
