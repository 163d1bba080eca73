"""RunSettings (supremix.experiments.settings): one validated object for how runs are made."""

from __future__ import annotations

import dataclasses

import pytest

from supremix.experiments.settings import RunSettings, study_config
from supremix.train import PRESETS


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer or None, got 0"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer or None, got 2.5"),
        ({"cpu_threads": True}, "cpu_threads must be a positive integer or None, got True"),
        ({"smoke": "yes"}, "smoke must be True or False, got 'yes'"),
        ({"memory_cache": 1}, "memory_cache must be True or False, got 1"),
        ({"device": ""}, "device must be a device name"),
        ({"preset": "rsna-gpu"}, "unknown preset 'rsna-gpu'; expected one of"),
        ({"overrides": {"lr": 0.1, "windw": 3}}, "overrides name no TrainConfig field: windw"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(changes, message):
    with pytest.raises(ValueError, match=message):
        RunSettings(**changes)
    with pytest.raises(ValueError, match=message):
        RunSettings().replace(**changes)


def test_unknown_setting_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown run settings epoch; expected some of .*epochs"):
        RunSettings.of(None, epoch=3)


def test_settings_are_frozen_and_their_overrides_cannot_change():
    given = {"lr": 0.5}
    settings = RunSettings(overrides=given)
    given["lr"] = 9.0
    assert settings.overrides["lr"] == 0.5
    with pytest.raises(TypeError):
        settings.overrides["lr"] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.epochs = 3  # type: ignore[misc]


def test_of_applies_changes_to_the_given_settings():
    base = RunSettings(epochs=4, device="cpu")
    assert RunSettings.of(base) is base
    changed = RunSettings.of(base, smoke=True)
    assert (changed.epochs, changed.device, changed.smoke) == (4, "cpu", True)
    assert RunSettings.of(None, epochs=2) == RunSettings(epochs=2)


def test_train_config_carries_the_device_and_matches_study_config():
    settings = RunSettings(preset="rsna-cpu", epochs=3, device="cpu", overrides={"lr": 0.02})
    name, config = settings.train_config("rsna")
    assert name == "rsna-cpu"
    assert (config.device, config.epochs, config.lr) == ("cpu", 3, 0.02)
    assert config.temperature == PRESETS["rsna-cpu"].temperature
    assert (
        study_config("rsna", preset="rsna-cpu", epochs=3, device="cpu", overrides={"lr": 0.02})[1]
        == config
    )


def test_smoke_keeps_only_the_first_seed_and_seeds_must_be_distinct():
    assert RunSettings(smoke=True).seeds([3, 4]) == [3]
    assert RunSettings().seeds((3, 4)) == [3, 4]
    with pytest.raises(ValueError, match="seeds must be a non-empty list of distinct integers"):
        RunSettings().seeds([1, 1])


def test_from_parameters_reads_only_the_fields_a_notebook_names():
    parameters = {
        "preset": "rsna-cpu",
        "epochs": 3,
        "smoke": True,
        "data_root": {"rsna": "/data/rsna"},
        "methods": ["supremix"],
        "seeds": [0, 1],
    }
    settings = RunSettings.from_parameters(parameters, exclude=["data_root"])
    assert settings == RunSettings(preset="rsna-cpu", epochs=3, smoke=True)
    with pytest.raises(ValueError, match="epochs must be a positive integer or None, got 0"):
        RunSettings.from_parameters({"epochs": 0})


def test_a_phantom_n_parameter_sizes_the_phantom_and_never_real_data():
    parameters = {"phantom_n": 480, "overrides": {"window": 2.0}, "smoke": False}
    settings = RunSettings.from_parameters(parameters)
    assert settings.overrides == {"window": 2.0, "phantom_n": 480}
    assert settings.train_config("rsna")[1].phantom_n == 480
    real = RunSettings.from_parameters({**parameters, "data_root": "/data/rsna"})
    assert real.overrides == {"window": 2.0}
    assert RunSettings.from_parameters({"phantom_n": None}).overrides == {}
    assert RunSettings.from_parameters({"phantom_n": 480}, exclude=["data_root"]).overrides == {
        "phantom_n": 480
    }
