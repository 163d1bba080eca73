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
# # Ablation: the Mix-pos window γ (SupReMix paper, Table 10)
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/ablation_window.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/ablation_window.ipynb)
#
# **The question.** Mix-pos (the SupReMix paper {cite:p}`wu2025supremix`, eqs. (3)-(4)) mixes two
# negatives whose labels lie on either side of the anchor's, within the window γ: `y_i − γ <= y_j <
# y_i < y_k <= y_i + γ` as the paper prints it (the published code's window is strict, `<`). A small
# window keeps the hard positives local; γ = ∞ mixes every lower label with every higher one. The
# SupReMix paper's §5.8 varies γ on RSNA-BAA (1, 3, 5, 10, ∞ months) and UK Biobank (0.2, 0.5, 1, 2,
# ∞ years) and reports the MAE of SupReMix (Table 10): moderate windows are best.
#
# **How the rows map onto a run, and what was decided.** `TrainConfig.window` is γ in label
# units; `window=inf` is γ = ∞. Everything else is the dataset's SupReMix setting, with one
# exception: the `ukb` preset bins contrastive labels to 1 year (Mixup Your Own Pairs
# {cite:p}`wu2023mixup` Table 12), under which γ = 0.2, 0.5 and 1.0 would be one and the same loss,
# so the UK Biobank rows run on unbinned ages (`label_bin=None`). What a window means depends on the
# labels: on whole months an inclusive γ = 1 forms Mix-pos with the neighbours one month away, a
# strict γ = 1 forms none (RSNA's γ = 1 is then Table 9's SupCon+Mix-neg+DM: the paper's 4.86 and
# 4.85 months agree, which suggests the paper ran the strict window). UK Biobank's field 21003
# gives whole years, on which γ = 0.2 and 0.5 form no Mix-pos under either reading; they need
# fractional ages (from the birth month and the scan date). Before training, every row's window
# is measured on the training labels (the table after the run, `run.windows`) and a row whose
# window forms no Mix-pos, or covers the whole label range, stops the run with a message
# (`supremix.train.windows`): no row silently runs a different loss than its label says. The
# package's window is inclusive by default, as eq. (4) prints it; `window_edges="strict"` gives
# the published code's (the page "The SupReMix loss, specified").
#
# **Protocol.** By default the notebook runs the RSNA half of the table on the RSNA phantom
# (synthetic hand radiographs, `supremix.data.phantoms`) with preset `rsna-cpu` and the book's
# phantom settings, two seeds: the protocol at work, **not** a reproduction. Set
# `datasets = ["rsna", "ukb"]` for the whole table (about twice the time). With `data_root`
# (a mapping `{"rsna": ..., "ukb": ...}` for both) the paper's presets are used (the SupReMix paper
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

# %% [markdown] tags=["remove-cell"] template="ablation"
# ablation: '"window"'
# datasets: datasets

# %% generated="ablation"
from IPython.display import Markdown, display

from supremix.experiments.ablations import (
    ABLATIONS,
    ablation_paper_notes,
    ablation_paper_table,
    run_ablation,
)
from supremix.notebook import glue_facts, notebook_device
from supremix.reporting import write_results

NAME = "window"
device = notebook_device(device)

# %% [markdown] slot="paper"
# ## What the paper reports
#
# The SupReMix paper's Table 10 (MAE; RSNA in months, UK Biobank in years), read from
# `supremix.paper`.

# %% generated="ablation"
display(Markdown(f"{ablation_paper_notes(NAME)}\n\n{ABLATIONS[NAME].mapping}"))
ablation_paper_table(NAME)

# %% [markdown] slot="train"
# ## Train every window with every seed
#
# Each run pretrains SupReMix with the row's window, fits the linear probe and predicts the
# evaluation split with the weights of best validation MAE.

# %% generated="ablation"
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

# %% generated="ablation"
# Each SupReMix row's Mix-pos window on its training labels, checked before training:
# a row that forms no Mix-pos or covers the whole label range stops the run.
run.windows

# %% [markdown] slot="beside_paper"
# ## This run beside the paper
#
# Mean and sample standard deviation over seeds, then Table 10's number for the same window;
# `Training mean` predicts the mean training label for every item.

# %% generated="ablation"
run.beside_paper().round(3)

# %% [markdown] generated="ablation"
# Left: this run's MAE (diamonds: mean over seeds with their standard deviation, grey dots:
# seeds, dashed: the training mean); right: the paper's, on its own scale.

# %% generated="ablation"
run.figure()

# %% generated="ablation"
glue_facts(run.facts())
run.findings().round(3)

# %% [markdown] generated="ablation"
# What this run measured on {glue:text}`data` data, one line per dataset: of its `rows`, the
# `best row` by mean {glue:text}`metric` over seeds, that `mean` and its `sd`, the lowest and
# highest standard deviation over the rows (differences smaller than these are noise; with one
# seed they are undefined, NaN, and there is no spread to judge differences by) and the
# {glue:text}`metric` of predicting the training mean (a row that does not beat it learned
# nothing). Then the best of the same rows in {glue:text}`reference` and Spearman's rank
# correlation between this run's and the paper's {glue:text}`metric` over the rows both have
# (NaN with fewer than three, or with ties). This run's best row is the paper's on
# {glue:text}`agrees` of {glue:text}`datasets` dataset(s). Phantom numbers show the protocol at
# work; they never reproduce the paper.

# %% [markdown] generated="ablation"
# ## Results file
#
# With `results_path` set, the summary (per-seed values, means, standard deviations, the
# settings and whether the data were real or a phantom) is written for the book's results page,
# one entry per row, named `"<row> [<dataset>]"` where the run holds several datasets.

# %% generated="ablation"
summary = run.summary(notes=f"notebooks/ablation_window, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
