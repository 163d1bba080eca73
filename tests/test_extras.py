"""The light install: the losses need torch and numpy only, every other part names its extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib

from supremix.extras import EXTRAS, INCLUDES, MissingExtraError, missing, require

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = sorted({module for libraries in EXTRAS.values() for module, _ in libraries})

# A finder placed first on sys.meta_path that makes the named libraries uninstallable.
BLOCK = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
"""


def run_without(blocked: list[str], code: str) -> subprocess.CompletedProcess[str]:
    script = BLOCK.format(blocked=blocked) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_losses_import_and_run_with_no_optional_library():
    result = run_without(
        OPTIONAL,
        """
        import torch
        from supremix.losses import SupReMixLoss
        z = torch.nn.functional.normalize(torch.randn(16, 8), dim=1)
        y = torch.arange(8.0).repeat(2)
        print(float(SupReMixLoss(temperature=1.0, window=2.0)(z, y)) > 0)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("blocked", "statement", "extra", "dist"),
    [
        (["sklearn"], "import supremix.models", "train", "scikit-learn"),
        (["torchvision"], "import supremix.experiments", "train", "torchvision"),
        (["matplotlib"], "import supremix.analysis", "train", "matplotlib"),
        (["pandas"], "import supremix.models", "train", "pandas"),
        (
            ["nibabel"],
            "from supremix.data import dataset_class; dataset_class('ukb')",
            "medical",
            "nibabel",
        ),
        (["torchvision"], "from supremix.train import train", "train", "torchvision"),
    ],
)
def test_a_part_without_its_extra_names_the_extra_in_one_line(blocked, statement, extra, dist):
    result = run_without(blocked, statement)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("supremix.extras.MissingExtraError: ")
    assert f"'{extra}' extra" in last
    assert dist in last or blocked[0] in last
    assert f"pip install 'supremix[{extra}]'" in last


def test_require_and_missing_on_this_full_install():
    for extra in EXTRAS:
        assert missing(extra) == []
        require(extra, by="test")
    with pytest.raises(ValueError, match="unknown extra 'gpu'; expected one of data, medical"):
        missing("gpu")


def test_missing_extra_error_is_an_import_error():
    assert issubclass(MissingExtraError, ImportError)


def test_pyproject_declares_what_the_extras_check():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    core = {spec.split(">")[0].split("=")[0] for spec in project["dependencies"]}
    assert core == {"torch", "numpy"}
    for extra, libraries in EXTRAS.items():
        declared = {spec.split(">")[0].split("=")[0].split("[")[0] for spec in optional[extra]}
        for _, dist in libraries:
            assert dist in declared, f"pyproject extra {extra!r} lacks {dist}"
        for inner in INCLUDES[extra]:
            assert f"supremix[{inner}]" in optional[extra]


def test_beta_draws_without_scipy_follow_the_distribution_and_the_generator(monkeypatch):
    import torch
    from scipy import stats

    from supremix.losses import beta as beta_module

    monkeypatch.setattr(beta_module, "installed", lambda module: module != "scipy")
    draws = [
        beta_module.sample_beta((20000,), 2.0, 8.0, generator=torch.Generator().manual_seed(3))
        for _ in range(2)
    ]
    torch.testing.assert_close(draws[0], draws[1])
    statistic = stats.kstest(draws[0].double().numpy(), stats.beta(2.0, 8.0).cdf).statistic
    assert statistic < 0.015  # 1% KS critical value at n = 20000: 0.0115
