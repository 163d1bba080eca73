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
# # SupReMix pretraining of task-specific architectures
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/pretraining.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/pretraining.ipynb)
#
# **The experiment.** The SupReMix paper's §5.4 {cite:p}`wu2025supremix`, Fig. 8: architectures
# designed for one task, trained "directly" and "combined with SupReMix pretraining", SupReMix being
# "a plug-and-play solution that requires no modifications to the core architecture designs". For
# brain age on UK Biobank the paper uses ResNet-18, ViT-B, the Global-Local Transformer and SFCN
# (Peng et al. 2021), and reports MAE improvements per architecture as a chart (Figs. 8, 12, 14 and
# 16); the text quotes only ranges of improvement per dataset.
#
# **What runs here.** For each architecture of `architectures` (those of Fig. 8 that
# `supremix.models` builds: SFCN, ResNet-18 and MONAI's 3-D ViT-B for UK Biobank; SFCN and
# MONAI's 3-D DenseNet-121 for A4; 1D-ResNet and a TCN for HCP; see
# `supremix.experiments.pretraining.ARCHITECTURES`), two settings:
# **from scratch**, a Vanilla run of the architecture with an L1 loss, and **SupReMix
# pretrained**, SupReMix pretraining of the same architecture followed by fine-tuning the whole
# network with the same loss (`protocol="finetune"`; the paper does not say how the pretrained
# network is then trained, and fine-tuning is what keeps the architecture's design intact).
# The improvement is `100 × (scratch − pretrained) / scratch` of the mean MAE, as in Fig. 8.
#
# **The phantom.** Without `data_root` the data are the UK Biobank phantom (T1 volumes whose
# anatomy ages non-linearly, [data card](../data_cards/ukb.md)) at 32³ voxels, with the book's
# short CPU settings (`supremix.studies.PHANTOM_SETTINGS`), two seeds and SFCN's design at an
# eighth of its width (4 channels in the first block instead of 32; the full width is used with
# `data_root`). ResNet-18 (the CPU preset's ResNet-10 of width 8 on a phantom) is left out by
# default to keep the notebook within a couple of minutes; add it to `architectures`. This
# shows the protocol at work on data whose answer we know; it is **not** a reproduction.
#
# **Libraries, decided here.** Architectures a maintained library provides are built from it:
# the 3-D DenseNet-121 and UK Biobank's 3-D ViT-B from MONAI (the optional extra `medical`:
# `pip install "supremix[medical]"`, which brings MONAI and einops, MONAI's ViT needing the
# latter; without them they are left out of `architectures = None`), ViT-B/16 from
# torchvision (encoder `vit_b_16`, for square 2-D images, which no Fig. 8 panel has). The 3-D
# ViT-B reads the preset's 100³ crops in 20³ patches: 125 tokens, about as many as ViT-B/16
# has on a 224² image, 16 not dividing 100. The TCN has no maintained implementation for this
# input and is written in `supremix.models` (Bai et al.'s generic design; the paper cites Lea
# et al. 2017 for its TCN). Global-Local Transformer, EchoGNN, EchoCotr, the bone-age
# networks and FiA-Net are not built.
#
# **The baselines' own recipes, decided here.** The paper trains its task-specific baselines
# "following their original training protocols" (§4.2). With `data_root`, each row trained
# from scratch whose architecture has a published recipe follows it
# (`supremix.experiments.architecture_recipes`, shown below with its source and what had to
# be chosen): the 3-D DenseNet-121 Huang et al.'s ImageNet recipe (SGD, momentum 0.9, lr
# 0.1 divided by 10 at epochs 30 and 60 of 90, weight decay 1e-4), ViT-B Dosovitskiy et
# al.'s ImageNet-only recipe (Adam, lr 3e-3, weight decay 0.3, warm-up then cosine, 300
# epochs), the TCN its authors' released code (Adam at 1e-3, constant, batch 8, 200 epochs).
# The SupReMix rows keep the dataset's SupReMix preset, and SFCN, ResNet-18, 1D-ResNet,
# EchoNet and the bone-age DenseNet train with the preset in both rows. An `epochs` or
# `batch_size` given here replaces the recipes' too. On the phantom every row keeps the CPU preset's
# short schedule: a 300-epoch recipe is no CPU check, so phantom rows say nothing about the
# recipes.
#
# **The paper's numbers.** Fig. 8 is a chart and its values are not in `supremix.paper`; §5.4
# states a range of improvements per dataset, shown after this run's table.

# %% tags=["parameters"]
data_root = None  # your copy of `dataset` in the official layout; None: the phantom
dataset = "ukb"  # one of "ukb", "a4", "hcp", "echonet", "rsna", "rhpe"
architectures = ["SFCN"]  # some of ARCHITECTURES[dataset] by name; None: all of them
preset = None  # None: the paper's preset with data_root, else "<dataset>-cpu"
epochs = None  # training epochs from scratch and SupReMix pretraining epochs; None: preset's
probe_epochs = None  # fine-tuning epochs after SupReMix pretraining; None: the preset's
batch_size = None  # None: the preset's
methods = None  # some of ["vanilla", "supremix"]: from scratch, SupReMix pretrained; None: both
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.pretraining import (
    architectures_for,
    pretraining_figure,
    pretraining_table,
    run_pretraining,
)
from supremix.notebook import notebook_settings
from supremix.reporting import write_results

settings = notebook_settings(globals())

# %% [markdown]
# ## The architectures
#
# What each architecture stands for, and its size on a phantom.

# %%
for architecture in architectures_for(dataset, architectures):
    display(Markdown(f"- **{architecture.name}**: {architecture.note}."))

# %% [markdown]
# The published recipes of the rows trained from scratch (used with `data_root` only): the
# `TrainConfig` fields each sets, its source, and what the source leaves open or this package
# cannot follow.

# %%
import pandas as pd

from supremix.experiments.architecture_recipes import RECIPES

pd.DataFrame(
    {
        name: {"source": r.source, **{k: str(v) for k, v in r.settings.items()}, "chosen": r.chosen}
        for name, r in RECIPES.items()
    }
).fillna("")

# %% [markdown]
# ## Train every architecture from scratch and SupReMix pretrained
#
# Each run predicts the test split with the weights of best validation MAE (for the pretrained
# setting: the best epoch of fine-tuning). The settings table lists what every run shared and
# what each variant changes.

# %%
sweep = run_pretraining(
    dataset,
    architectures=architectures,
    methods=methods,
    seeds=seeds,
    settings=settings,
)
display(Markdown(sweep.data_banner()))
sweep.settings_table()

# %% [markdown]
# ## MAE with and without SupReMix pretraining
#
# Mean and sample standard deviation over seeds, and the relative improvement (positive:
# pretraining lowered the error), as Fig. 8 draws it.

# %%
pretraining_table(sweep).round(3)

# %% [markdown]
# The SupReMix paper gives Fig. 8's improvements only in the text of §5.4, as a range per
# dataset over its architectures (`supremix.paper.paper_claims`); this run's `improvement (%)`
# column above is the number to set beside it.

# %%
from supremix.paper import paper_claims

paper_claims(section="§5.4", dataset=dataset).drop(columns=["paper", "quote"])

# %%
pretraining_figure(sweep)

# %% [markdown]
# Every metric of every variant; the paragraph below compares them with predicting the mean
# training label for every item, the floor a model must beat.

# %%
from supremix.notebook import glue_facts

glue_facts(sweep.facts())
sweep.table().round(3)

# %% [markdown]
# On this run ({glue:text}`data`, {glue:text}`seeds` seed(s), {glue:text}`items` {glue:text}`split`
# items) the mean MAE of the {glue:text}`variants` variants ranges from {glue:text}`lowest:.3g` to
# {glue:text}`highest:.3g`; the lowest, {glue:text}`best_value:.3g`, is that of {glue:text}`best`.
# Predicting the training mean for every item gives {glue:text}`mean_predictor:.3g`: a variant that
# does not beat it learned nothing from the inputs. The standard deviation over seeds is
# {glue:text}`sd_lowest:.2g` to {glue:text}`sd_highest:.2g`, and differences smaller than that are
# noise; with one seed it is undefined (NaN) and there is no spread to judge differences by. Phantom
# numbers show the protocol at work; they do not reproduce the paper.

# %% [markdown]
# ## Results file
#
# With `results_path` set, the summary (per-seed metrics, means, standard deviations, the
# settings and whether the data were real or a phantom) is written for the book's [results
# page](../book/results.md).

# %%
summary = sweep.summary(
    notes=f"notebooks/pretraining, {dataset}, preset {sweep.preset}, smoke={smoke}",
    experiment="SupReMix pretraining of task-specific architectures (the SupReMix paper, Fig. 8)",
)
if results_path is not None:
    write_results(summary, results_path)
