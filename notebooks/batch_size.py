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
# # Batch size (SupReMix paper, Table 15)
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/batch_size.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/batch_size.ipynb)
#
# **The question.** Contrastive learning for classification usually gains from large batches
# (more negatives per anchor). The SupReMix paper's App. D.2 {cite:p}`wu2025supremix` trains
# SupReMix on UK Biobank and Echo-Net with batches of 32 to 512 and reports MAE and GM (Table 15):
# 64 is best on both and larger batches do slightly worse. The table does not name its method;
# SupReMix is inferred because its batch-64 row equals SupReMix's numbers elsewhere.
#
# **How the rows map onto a run, and what was decided.** `TrainConfig.batch_size` is the batch
# of the contrastive pretraining; the linear probe keeps one batch, Table 13's 64, in every row
# (`probe_batch_size`; scaled like the rows on a phantom). App. D.2 varies the batch "to
# maintain extensive negative sample pools", a property of the contrastive stage, and with a
# fixed probe the rows differ in nothing else. Every other setting is the dataset's. Table 15's
# columns printed "GM" are the MSE (its batch-64 row equals the MSE of Tables 2 and 4), so they
# are compared with this run's MSE, never its GM.
#
# **On a phantom the batch sizes are scaled down.** A phantom's training split holds about 128
# items, fewer than Table 15's larger batches, so with the `-cpu` presets every batch size is
# divided by 8 (32 ... 512 become 4 ... 64) and, in smoke runs on a 45-item split, by 16. Each
# row's label gives both sizes and it is compared with the paper's row it stands for. The
# phantom runs show the protocol at work on data we understand; they are **not** a
# reproduction, and a batch of 4 is far smaller, relative to the label range, than any of the
# paper's.
#
# **Protocol.** By default: the UK Biobank phantom (3-D volumes, preset `ukb-cpu`, the book's
# phantom settings), two seeds. `datasets = ["ukb", "echonet"]` runs the whole table (about
# twice the time). With `data_root` (a mapping dataset -> folder for both) the paper's presets
# and batch sizes are used; on a GPU, for instance:
#
# ```
# papermill notebooks/batch_size.ipynb out.ipynb -p data_root /data/ukb
# ```

# %% tags=["parameters"]
data_root = None  # your copy (a dict dataset -> folder for several); None: the phantoms
preset = None  # None: the paper's preset with data_root, else "<dataset>-cpu"
datasets = ["ukb"]  # some of "ukb", "echonet" (Table 15 reports both)
epochs = None  # pretraining epochs; None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # must stay None: every row sets its own batch size
methods = None  # rows to run, by the paper's label (e.g. ["batch size 64"]); None: all five
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %% [markdown] tags=["remove-cell"] template="ablation"
# ablation: '"batch_size"'
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

NAME = "batch_size"
device = notebook_device(device)

# %% [markdown] slot="paper"
# ## What the paper reports
#
# The SupReMix paper's Table 15 (MAE and GM), read from `supremix.paper`.

# %% generated="ablation"
display(Markdown(f"{ablation_paper_notes(NAME)}\n\n{ABLATIONS[NAME].mapping}"))
ablation_paper_table(NAME)

# %% [markdown] slot="train"
# ## Train every batch size with every seed
#
# Each run pretrains SupReMix and fits the linear probe with the row's batch size (the number
# of epochs is fixed, so smaller batches take more steps, as in the paper), then predicts the
# evaluation split with the weights of best validation MAE. The settings table lists the batch
# size each row actually used.

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
# Mean and sample standard deviation over seeds, then Table 15's number for the row each
# batch size stands for; `Training mean` predicts the mean training label for every item.
# Table 15's Echo-Net GM column is on the scale of an MSE (see the note above).

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
summary = run.summary(notes=f"notebooks/batch_size, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
