"""benchmarks/gpu_check.py: refuses without CUDA, and its CPU dry run at tiny sizes writes
every measurement it promises, consistent with itself."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gpu_check():
    path = ROOT / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_without_cuda_it_refuses_in_one_line_and_writes_nothing(
    gpu_check, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "gpu.json"
    assert gpu_check.main(["--out", str(out)]) == 2
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == [gpu_check.REFUSAL] and "no CUDA device" in printed[0]
    assert not out.exists()


def test_an_unknown_preset_is_named(gpu_check, tmp_path, capsys):
    assert gpu_check.main(["--dry-run", "--presets", "rsna-cpu", "--out", str(tmp_path / "x")]) == 2
    assert "unknown presets ['rsna-cpu']" in capsys.readouterr().out
    assert not (tmp_path / "x").exists()


def test_every_paper_preset_has_a_cpu_variant_for_the_dry_run(gpu_check):
    names = gpu_check.paper_presets()
    assert "rsna" in names and "airfoil" in names and not any(n.endswith("-cpu") for n in names)
    for name in names:
        config = gpu_check.check_config(name, "cpu", dry_run=True)
        assert config.method == "supremix" and config.batch_size == 4


def test_the_dry_run_measures_a_preset_and_the_loss(gpu_check, tmp_path):
    out = tmp_path / "gpu.json"
    assert gpu_check.main(["--dry-run", "--presets", "airfoil", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["dry_run"] is True and results["card"] == "cpu (dry run)"
    row = results["presets"]["airfoil"]
    assert row["status"] == "measured" and row["input_shape"] == [5]
    assert row["samples_per_s"] == pytest.approx(row["batch_size"] / (row["step_ms"] / 1e3))
    assert row["loss_share"] == pytest.approx(row["loss_ms"] / row["step_ms"])
    assert row["loss_share"] > 0
    sizes = results["loss"]["sizes"]
    assert set(sizes) == {"8", "16"}
    for entry in sizes.values():
        assert entry["status"] == "measured"
        assert entry["time_ratio"] == pytest.approx(entry["supremix"]["ms"] / entry["supcon"]["ms"])


def test_what_does_not_fit_the_budget_is_recorded_as_skipped(gpu_check, tmp_path):
    out = tmp_path / "gpu.json"
    gpu_check.main(["--dry-run", "--presets", "airfoil", "--budget-s", "0", "--out", str(out)])
    results = json.loads(out.read_text())
    assert results["presets"]["airfoil"]["status"] == "skipped: time budget"
    assert {e["status"] for e in results["loss"]["sizes"].values()} == {"skipped: time budget"}
