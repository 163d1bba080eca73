# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -papermill,-execution
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
# # Ablation: the Mix-pos window γ (seed 001 Table 10)
#
# [![Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/ablation_window.ipynb)
# [![Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/ablation_window.ipynb)
#
# **The question.** Mix-pos (seed 001 eqs. (3)-(4)) mixes two negatives whose labels lie on
# either side of the anchor's, within the window γ: `y_i − γ < y_j < y_i < y_k < y_i + γ`. A
# small window keeps the hard positives local; γ = ∞ mixes every lower label with every higher
# one. Seed 001 §5.8 varies γ on RSNA-BAA (1, 3, 5, 10, ∞ months) and UK Biobank (0.2, 0.5, 1,
# 2, ∞ years) and reports the MAE of SupReMix (Table 10): moderate windows are best.
#
# **How the rows map onto a run.** `TrainConfig.window` is γ in label units; `window=inf` is
# γ = ∞. Everything else is the dataset's SupReMix setting. The window is inclusive, as the
# paper's eq. (4) prints it (`y_i - γ <= y_j`, `y_k <= y_i + γ`; the page "The SupReMix loss,
# specified" gives the published code's strict window, `window_edges="strict"`), so every
# RSNA row is a different loss on whole-month labels: γ = 1 mixes the months either side.
# Strict, γ = 1 would form no Mix-pos at all and be Table 9's SupCon+Mix-neg+DM. On
# whole-number labels (UK Biobank's ages in years, and both phantoms) γ = 0.2 and 0.5 still
# form no Mix-pos and are one and the same loss. The package's tests check both.
#
# **Protocol.** By default the notebook runs the RSNA half of the table on the RSNA phantom
# (synthetic hand radiographs, `supremix.data.phantoms`) with preset `rsna-cpu` and the book's
# phantom settings, two seeds: the protocol at work, **not** a reproduction. Set
# `datasets = ["rsna", "ukb"]` for the whole table (about twice the time). With `data_root`
# (a mapping `{"rsna": ..., "ukb": ...}` for both) the paper's presets are used (seed 001
# Table 13: 200 pretraining epochs, a 100-epoch linear probe); on a GPU, for instance:
#
# ```
# papermill notebooks/ablation_window.ipynb out.ipynb -p data_root /data/rsna
# ```

# %% tags=["parameters"]
data_root = None  # your copy (a dict dataset -> folder for several); None: the phantoms
preset = None  # None: the paper's preset with data_root, else "<dataset>-cpu"
datasets = ["rsna"]  # some of "rsna", "ukb" (Table 10 reports both)
epochs = None  # pretraining epochs; None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = None  # rows to run, by label (e.g. ["γ=5", "γ=∞"]); None: every row
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.ablations import (
    ABLATIONS,
    ablation_paper_notes,
    ablation_paper_table,
    run_ablation,
)
from supremix.notebook import device_banner, select_device
from supremix.reporting import write_results

NAME = "window"
device = select_device(device)
print(device_banner(device))

# %% [markdown]
# ## What the paper reports
#
# Seed 001 Table 10 (MAE; RSNA in months, UK Biobank in years), read from `supremix.paper`.

# %%
display(Markdown(f"{ablation_paper_notes(NAME)}\n\n{ABLATIONS[NAME].mapping}"))
ablation_paper_table(NAME)

# %% [markdown]
# ## Train every window with every seed
#
# Each run pretrains SupReMix with the row's window, fits the linear probe and predicts the
# evaluation split with the weights of best validation MAE.

# %%
run = run_ablation(
    NAME,
    datasets,
    methods=methods,
    seeds=seeds,
    preset=preset,
    epochs=epochs,
    probe_epochs=probe_epochs,
    batch_size=batch_size,
    data_root=data_root,
    device=device,
    smoke=smoke,
)
display(Markdown(run.data_banners()))
run.settings_table()

# %% [markdown]
# ## This run beside the paper
#
# Mean and sample standard deviation over seeds, then Table 10's number for the same window;
# `Training mean` predicts the mean training label for every item.

# %%
run.beside_paper().round(3)

# %% [markdown]
# Left: this run's MAE (diamonds: mean over seeds with their standard deviation, grey dots:
# seeds, dashed: the training mean); right: the paper's, on its own scale.

# %%
run.figure()

# %%
display(Markdown(run.describe()))

# %% [markdown]
# ## Results file
#
# With `results_path` set, the summary is written for the book's results page.

# %%
summary = run.summary(notes=f"notebooks/ablation_window, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
