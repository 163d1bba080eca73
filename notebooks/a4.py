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
# # A4: amyloid burden from PET
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/a4.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/a4.ipynb)
#
# **The dataset.** The A4 study's florbetapir amyloid PET; the label is the composite SUVR with
# the whole cerebellum as reference (seed 001 §4.1.5). Seed 001 trains a 3-D ResNet-18.
#
# **The phantom.** Without `data_root` the notebook trains on a phantom: synthetic data written
# in the official layout by `supremix.data.phantoms` from a generative model we know ([data
# card](../data_cards/a4.md)). A latent amyloid burden (70 % amyloid-negative around 1.0, 30 %
# positive around 1.3) raises tracer uptake region by region, early regions (precuneus,
# posterior cingulate, medial orbitofrontal) linearly and temporal and parietal cortex only
# late, over white-matter binding that carries no label; the volume is blurred (8 mm), scaled
# and noised frame by frame, and the label is the SUVR measured on the written image,
# partial-volume effects and noise included.
#
# **What the papers report.** Seed 001 Table 7 gives ρ and MSE for the six methods; A4's MAE
# appears only in an ablation (Table 11) and GM not at all. The table below puts their numbers
# beside this run's, each column labelled with its source; they are read from `supremix.paper`,
# never typed here.
#
# **Protocol.** By default: preset `a4-cpu` (the small CPU encoder) with the book's phantom
# settings (`supremix.studies.PHANTOM_SETTINGS`: 160 to 480 items, a short schedule, no
# augmentation except for SimCLR, whose two views differ only by it), two seeds, so that the
# notebook runs in a couple of minutes on a laptop CPU. That shows the protocol at work on data
# whose answer we know; it is **not** a reproduction. With `data_root` set to your copy of the
# dataset and `preset = None`, the notebook uses the paper's preset `a4` (seed 001 Table 13: 3-D
# ResNet-18, batch 32, temperature 1, window 7) with its 200 pretraining epochs and 100-epoch
# linear probe, unless `epochs` or `probe_epochs` say otherwise; on a GPU, for instance:
#
# ```
# papermill notebooks/a4.ipynb a4-run.ipynb -p data_root /data/a4 -p epochs 200
# ```

# %% tags=["parameters"]
data_root = None  # your copy in the official layout; None: the phantom (cached after one write)
preset = None  # None: "a4" (seed 001 Table 13) with data_root, else "a4-cpu"
epochs = None  # pretraining epochs (Vanilla: training epochs); None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = ["vanilla", "simclr", "supcon", "adacon", "rnc", "supremix"]
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %% [markdown] template="dataset"
# dataset: a4
# title: A4 amyloid PET
# unit: SUVR
# label_name: SUVR
