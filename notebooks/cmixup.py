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
# # SupReMix and C-Mixup (SupReMix paper, Table 18)
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/cmixup.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/cmixup.ipynb)
#
# **The question.** C-Mixup (Yao et al. 2022) mixes training inputs and labels with partners
# drawn by label closeness, `P(j | i) ∝ exp(−(y_i − y_j)² / 2σ²)`, a regression-aware mixup of
# the data; SupReMix mixes embeddings inside a contrastive loss. The SupReMix paper's App. D.5
# {cite:p}`wu2025supremix` compares "C-Mixup trained from scratch", SupReMix, and "SupReMix
# pretraining with C-Mixup" on UK Biobank, HCP, Echo-Net and RSNA and reports MAE (Table 18): the
# combination is best.
#
# **How the rows map onto a run.** C-Mixup is a Vanilla regression whose batches are C-Mixup
# mixtures (`method="vanilla", mixup="cmixup"`). SupReMix is the dataset's SupReMix run.
# SupReMix + C-Mixup is SupReMix pretraining followed by the regression stage trained end to
# end on C-Mixup batches (`protocol="finetune"`, `mixup="cmixup"`). **Decided here, and why:**
# C-Mixup is a way of training a regression network, and the paper combines it with "SupReMix
# pretraining"; on a frozen encoder (the linear probe) it would only mix the probe's inputs,
# so the combined row fine-tunes the whole network. The SupReMix row stays the linear probe,
# the paper's main protocol. One λ ~ Beta(2, 2) per batch; σ = 1.75 label units (the default
# of C-Mixup's code; 21 months, the same 1.75 years, on RSNA). The SupReMix paper gives neither σ
# nor α.
#
# **Protocol.** By default the notebook runs UK Biobank and HCP (the two cheapest phantoms)
# with the `-cpu` presets and the book's phantom settings, two seeds: the protocol at work on
# data we understand, **not** a reproduction. `datasets` can name any of the table's four
# (ukb, hcp, echonet, rsna). With `data_root` (a mapping dataset -> folder for several) the
# paper's presets are used; on a GPU, for instance:
#
# ```
# papermill notebooks/cmixup.ipynb out.ipynb -p datasets '["rsna"]' -p data_root /data/rsna
# ```

# %% tags=["parameters"]
data_root = None  # your copy (a dict dataset -> folder for several); None: the phantoms
preset = None  # None: the paper's preset with data_root, else "<dataset>-cpu"
datasets = ["ukb", "hcp"]  # some of "ukb", "hcp", "echonet", "rsna"
epochs = None  # pretraining epochs (Vanilla: training epochs); None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = None  # rows to run: some of "C-Mixup", "SupReMix", "SupReMix + C-Mixup"; None: all
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %% [markdown] tags=["remove-cell"] template="ablation"
# ablation: '"cmixup"'
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

NAME = "cmixup"
device = notebook_device(device)

# %% [markdown] slot="paper"
# ## What the paper reports
#
# The SupReMix paper's Table 18 (MAE per dataset), read from `supremix.paper`.

# %% generated="ablation"
display(Markdown(f"{ablation_paper_notes(NAME)}\n\n{ABLATIONS[NAME].mapping}"))
ablation_paper_table(NAME)

# %% [markdown] slot="train"
# ## Train every row with every seed
#
# C-Mixup trains encoder and regressor end to end for `epochs`; the SupReMix rows pretrain for
# `epochs` and fit the linear probe for `probe_epochs`. Each run then predicts the evaluation
# split with the weights of best validation MAE.

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
# Mean and sample standard deviation over seeds, then Table 18's number for the same row;
# `Training mean` predicts the mean training label for every item. The paper's SupReMix MAE on
# RSNA is 4.20 here but 4.08 in its §5.2 and Table 9.

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
summary = run.summary(notes=f"notebooks/cmixup, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
