# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: generated,slot,tags,template,-papermill,-execution
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -papermill,-widgets
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"]
# Colab and Kaggle: install supremix when it is missing (no-op where installed).
import importlib.util
import subprocess
import sys

REQUIREMENT = "supremix @ git+https://github.com/supremix/supremix@main"
if importlib.util.find_spec("supremix") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", REQUIREMENT], check=True)

# %% [markdown]
# # Quickstart: SupReMix on UCI airfoil
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/quickstart.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/quickstart.ipynb)
#
# Vanilla regression and SupReMix on the real UCI airfoil self-noise table (1,503 wind-tunnel
# measurements, five inputs, sound pressure level in dB), the tabular benchmark of Mixup Your Own
# Pairs {cite:p}`wu2023mixup` (Table 5). The whole protocol lives in the `supremix` package; this
# notebook only chooses the settings, runs each method with each seed, and puts the numbers beside
# the paper's.
#
# The defaults run on a laptop CPU in a few minutes: the package's small CPU preset
# (`airfoil-cpu`, small heads) and a few epochs. They show the protocol at work, not the
# paper's values; `preset = "airfoil"` with `epochs = 200` follows Mixup Your Own Pairs (Table 13).

# %% tags=["parameters"]
data_root = None  # folder holding airfoil_self_noise.dat; None: $SUPREMIX_DATA, else download
preset = "airfoil-cpu"  # "airfoil" for Mixup Your Own Pairs' settings (Table 13)
epochs = 5  # contrastive pretraining epochs, and linear-probe epochs
batch_size = 64
methods = ["vanilla", "supremix"]
seeds = [0, 1, 2]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: two epochs and one seed, to check that the notebook runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
import tempfile
from pathlib import Path

from IPython.display import Markdown, display

from supremix.notebook import data_banner, notebook_device
from supremix.paper import paper_results
from supremix.reporting import comparison_table, summarise_runs, write_results
from supremix.train import get_preset, run_experiment

device = notebook_device(device)
if smoke:
    epochs, seeds = 2, seeds[:1]

# %% [markdown]
# ## Train every method with every seed

# %%
# The Mix-pos window on this run's training labels; stops here if it forms no Mix-pos or
# covers the whole label range (supremix.train.windows, tested).
from supremix.experiments.windows import study_window

print(study_window("airfoil", preset=preset, data_root=data_root))

# %%
runs = []
with tempfile.TemporaryDirectory() as scratch:
    for method in methods:
        for seed in seeds:
            config = get_preset(
                preset,
                method=method,
                epochs=epochs,
                probe_epochs=epochs,
                batch_size=batch_size,
                seed=seed,
                device=device,
                progress=False,
            )
            result = run_experiment(
                config, out_dir=Path(scratch) / f"{method}-{seed}", data_root=data_root
            )
            runs.append({"method": method, "seed": seed, "metrics": result.metrics["test"]})
data = result.results["dataset"]
display(Markdown(data_banner(data["kind"], "UCI airfoil", data["root"])))

# %% [markdown]
# ## This run beside Mixup Your Own Pairs, Table 5
#
# Means and sample standard deviations over seeds, on the test split (150 rows). The paper
# column is the number Mixup Your Own Pairs prints, not something this notebook computed.

# %%
summary = summarise_runs(
    runs,
    data_kind=data["kind"],
    dataset="airfoil",
    notes=f"notebooks/quickstart, preset {preset}, {epochs} epochs, smoke={smoke}",
    provenance={"device": device, "preset": preset, "epochs": epochs, "batch_size": batch_size},
)
if results_path is not None:
    write_results(summary, results_path)
comparison_table(summary, paper_results(dataset="airfoil", table="Table 5")).round(3)
