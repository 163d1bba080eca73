"""TrainConfig validation and the presets' transcription of the papers' tables."""

from __future__ import annotations

import json

import pytest

from supremix.train import PRESETS, TrainConfig, get_preset, plan_stages
from supremix.train.config import differing_fields

# the SupReMix paper's Table 13, typed from its text:
# dataset: (encoder, batch size, temperature, window, input size)
SUPREMIX_PAPER_TABLE_13 = {
    "ukb": ("resnet18_3d", 64, 0.5, 3, (100, 100, 100)),
    "hcp": ("resnet18_1d", 64, 0.5, 5, (400, 478)),
    "rsna": ("resnet50_2d", 128, 1.0, 5, (520, 400)),
    "rhpe": ("resnet50_2d", 128, 1.0, 5, (520, 400)),
    "echonet": ("r2plus1d_18", 64, 1.0, 7, (112, 112)),
    "a4": ("resnet18_3d", 32, 1.0, 7, (100, 100, 100)),
}

# Mixup Your Own Pairs' Table 13: dataset: (temperature, augmentation, protocol, window, encoder,
# batch)
MIXUP_PAIRS_TABLE_13 = {
    "imdbwiki": (0.3, "simclr", "linear_probe", 5, "resnet50_2d", 64),
    "agedb": (0.5, "simclr", "linear_probe", 5, "resnet50_2d", 128),
    "ukb-mixup-pairs": (0.5, "none", "finetune", 3, "resnet18_3d", 64),
    "hcp-mixup-pairs": (0.5, "none", "finetune", 5, "resnet18_1d", 64),
    "airfoil": (1.0, "none", "linear_probe", 7, "mlp", 32),
    "stsb": (1.0, "none", "linear_probe", 1.0, "bilstm", 128),
}


@pytest.mark.parametrize("name", sorted(SUPREMIX_PAPER_TABLE_13))
def test_supremix_paper_presets_match_its_table_13(name):
    encoder, batch, temperature, window, size = SUPREMIX_PAPER_TABLE_13[name]
    preset = PRESETS[name]
    assert (preset.encoder, preset.batch_size) == (encoder, batch)
    # A4's γ = 7 is read on SUVR x 100 (supremix.train.windows.A4_WINDOW_READINGS)
    scale = 100 if name == "a4" else 1
    assert (preset.temperature, preset.input_size) == (temperature, size)
    assert preset.window * scale == pytest.approx(window)
    # rows shared by every dataset of the table, and App. C.1.1-C.1.2, §4.3
    assert (preset.lr, preset.weight_decay, preset.beta_params) == (1e-3, 1e-4, (2.0, 8.0))
    assert (preset.feature_dim, preset.head_hidden_dim, preset.epochs) == (128, 2048, 200)
    assert (preset.betas, preset.eps, preset.warmup_epochs) == ((0.9, 0.999), 1e-8, 10)
    assert (preset.grad_clip, preset.ema_decay, preset.checkpoint_every) == (1.0, 0.999, 10)
    assert (preset.protocol, preset.probe_epochs) == ("linear_probe", 100)
    assert "the SupReMix paper, Table 13" in preset.source


@pytest.mark.parametrize("name", sorted(MIXUP_PAIRS_TABLE_13))
def test_mixup_pairs_presets_match_its_table_13(name):
    temperature, augment, protocol, window, encoder, batch = MIXUP_PAIRS_TABLE_13[name]
    preset = PRESETS[name]
    assert (preset.temperature, preset.augment, preset.protocol) == (temperature, augment, protocol)
    assert (preset.window, preset.encoder, preset.batch_size) == (window, encoder, batch)
    assert (preset.lr, preset.beta_params, preset.feature_dim) == (1e-3, (2.0, 8.0), 128)
    assert preset.probe_epochs == 100
    assert "Mixup Your Own Pairs, Table 13" in preset.source
    assert "Mixup Your Own Pairs states no pretraining epochs" in preset.notes


def test_hcp_is_not_augmented_in_the_supremix_paper():
    assert PRESETS["hcp"].augment == "none"


@pytest.mark.parametrize("name", [n for n in PRESETS if n.endswith("-cpu")])
def test_cpu_presets_keep_the_method_settings_of_their_paper_preset(name):
    cpu, paper = PRESETS[name], PRESETS[name.removesuffix("-cpu")]
    for field in ("dataset", "method", "protocol", "temperature", "window", "augment"):
        assert getattr(cpu, field) == getattr(paper, field), field
    assert cpu.model_size == "cpu" and cpu.encoder is None
    assert cpu.epochs <= 10 and cpu.batch_size <= 64


def test_every_paper_dataset_has_a_cpu_preset():
    for name in SUPREMIX_PAPER_TABLE_13:
        assert f"{name}-cpu" in PRESETS


def test_get_preset_applies_overrides_and_rejects_unknown_names():
    assert get_preset("rsna", method="supcon").method == "supcon"
    assert PRESETS["rsna"].method == "supremix"
    with pytest.raises(ValueError, match=r"unknown preset 'nope'; expected one of .*rsna"):
        get_preset("nope")


def test_invalid_values_are_named_in_the_error():
    with pytest.raises(ValueError, match=r"method='mix' is not valid; expected one of vanilla"):
        TrainConfig(method="mix")
    with pytest.raises(ValueError, match=r"warmup_epochs \(10\) must be smaller than epochs \(5\)"):
        TrainConfig(epochs=5)
    with pytest.raises(ValueError, match="batch_size must be > 0, got 0"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="simclr needs two views"):
        TrainConfig(method="simclr", views=1)
    with pytest.raises(ValueError, match="unknown TrainConfig fields: colour"):
        TrainConfig().replace(colour="red")


def test_config_round_trips_through_json():
    config = get_preset("ukb-cpu", method="rnc", seed=3)
    restored = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config


def test_differing_fields_ignores_execution_settings():
    a = TrainConfig()
    assert differing_fields(a, a.replace(progress=False, num_workers=4)) == []
    assert differing_fields(a, a.replace(lr=0.5, seed=1)) == ["lr", "seed"]


@pytest.mark.parametrize(
    ("changes", "stages"),
    [
        ({"method": "vanilla"}, [("regression", True, False, True)]),
        ({"protocol": "multitask"}, [("multitask", True, True, True)]),
        ({}, [("pretrain", True, True, False), ("probe", False, False, True)]),
        (
            {"protocol": "finetune"},
            [("pretrain", True, True, False), ("finetune", True, False, True)],
        ),
        ({"method": "rnc"}, [("pretrain", True, False, False), ("probe", False, False, True)]),
    ],
)
def test_protocol_stages(changes, stages):
    config = TrainConfig(epochs=20, probe_epochs=7, **changes)
    planned = plan_stages(config)
    got = [(s.name, s.train_encoder, s.train_head, s.train_regressor) for s in planned]
    assert got == stages
    assert [s.epochs for s in planned] == [20, 7][: len(planned)]


def test_label_bins_follow_mixup_pairs_table_12_and_supremix_paper_appendix_d4():
    for name in ("imdbwiki", "agedb", "ukb-mixup-pairs", "hcp-mixup-pairs", "airfoil", "echonet"):
        assert PRESETS[name].label_bin == 1.0, name
    for name in ("rsna", "rhpe", "a4"):
        assert PRESETS[name].label_bin is None, name


def test_paper_presets_run_the_papers_linear_probe_without_batchnorm():
    from supremix.train.model import build_model

    for name, preset in PRESETS.items():
        assert preset.probe_batchnorm is name.endswith("-cpu"), name
    config = PRESETS["airfoil"]
    model = build_model(config, modality="tabular", in_channels=5)
    kinds = [type(m).__name__ for m in model.regressor.modules()]
    assert "BatchNorm1d" not in kinds and "Linear" in kinds
    model = build_model(config.replace(probe_batchnorm=True), modality="tabular", in_channels=5)
    assert "BatchNorm1d" in [type(m).__name__ for m in model.regressor.modules()]


def test_bone_age_presets_mix_only_within_sex_by_default():
    for name in ("rsna", "rhpe", "rsna-cpu", "rhpe-cpu"):
        assert PRESETS[name].use_groups, name
    for name in ("ukb", "echonet", "a4", "airfoil"):
        assert not PRESETS[name].use_groups, name


def test_ukb_presets_read_the_linearly_registered_brain_of_appendix_b11():
    for name in ("ukb", "ukb-mixup-pairs"):
        assert PRESETS[name].dataset_options["registration"] == "linear", name
    # the phantom writes the non-linear file name
    assert PRESETS["ukb-cpu"].dataset_options["registration"] == "nonlinear"
