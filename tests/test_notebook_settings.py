"""The first cells of every notebook: the device chosen and printed, the run settings its
parameters name, and the Mix-pos window those settings train with."""

from __future__ import annotations

import pytest
import torch

from supremix.experiments.settings import RunSettings
from supremix.experiments.windows import study_window
from supremix.notebook import notebook_device, notebook_settings
from supremix.train.windows import WindowError


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_notebook_device_chooses_the_cpu_without_a_gpu_and_says_so(no_gpu, capsys):
    assert notebook_device("auto") == "cpu"
    assert capsys.readouterr().out.startswith("Device: cpu (no GPU")


def test_notebook_device_refuses_cuda_without_a_gpu_before_printing(no_gpu, capsys):
    with pytest.raises(RuntimeError, match="no CUDA GPU is visible"):
        notebook_device("cuda")
    assert capsys.readouterr().out == ""


def test_notebook_settings_reads_the_parameters_on_the_chosen_device(no_gpu, capsys):
    parameters = {
        "epochs": 3,
        "smoke": True,
        "device": "auto",
        "data_root": {"rsna": "/data/rsna"},  # per dataset: not a run setting here
        "methods": ["supremix"],  # not a field: not read
    }
    settings = notebook_settings(parameters, exclude=["data_root"], overrides={"phantom_n": 480})
    assert settings == RunSettings(epochs=3, smoke=True, device="cpu", overrides={"phantom_n": 480})
    assert capsys.readouterr().out.startswith("Device: cpu")


def test_notebook_settings_refuses_a_bad_parameter_with_its_name(no_gpu):
    with pytest.raises(ValueError, match="run settings: epochs must be a positive integer"):
        notebook_settings({"epochs": 0, "device": "auto"})


def test_study_window_reads_the_run_settings_and_their_changes():
    with pytest.raises(WindowError, match="forms no Mix-pos"):
        study_window("rsna", RunSettings(smoke=True, overrides={"window": 0.5}))
    with pytest.raises(WindowError, match="forms no Mix-pos"):
        study_window("rsna", RunSettings(smoke=True), overrides={"window": 0.5})


def test_study_window_takes_a_data_root_per_dataset_missing_names_are_the_phantom():
    phantom = study_window("rsna", RunSettings(smoke=True))
    assert study_window("rsna", smoke=True, data_root={"rhpe": "/nowhere"}) == phantom
