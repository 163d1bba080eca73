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
# # Hardness of contrastive pairs during training
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/hardness.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/hardness.ipynb)
#
# **What the paper does.** The SupReMix paper's §5.1.2 {cite:p}`wu2025supremix` follows, over
# training epochs on RSNA bone age, "the average of logit values (i.e. the inner product of two
# embeddings with norm of 1)" of "all positive pairs and the top 1k most challenging negative
# pairs", for SupCon and SupReMix, with a Pearson correlation on a second axis (Figure 4, 100
# epochs).
#
# **What the paper reports.** Figure 4 is a chart and prints no numbers (`supremix.paper`
# holds none for it). In words (§5.1.2 and the caption): SupCon's positive logits "saturate
# swiftly, approaching 1", so those pairs contribute less and less to the loss, and fewer
# negative pairs contribute over time ("early logit saturation due to exhausted contrastive
# pairs"); SupReMix "maintains gradual improvement without early saturation" through the 100
# epochs, thanks to its harder (mixed) pairs.
#
# **What this notebook measures.** Every contrastive step of a run hands its embeddings and
# labels to a recorder (`supremix.experiments.hardness.EpochHardnessRecorder`, through the
# engine's `batch_observers`); at the end of each pretraining epoch it keeps
#
# * the mean logit of all positive pairs (two batch items with the same label, two views of one
#   image included when the run augments);
# * the mean logit of the hardest negatives of each batch (largest logits between different
#   labels). The paper's "1k" is out of the 32,640 pairs of a batch of 128 images in two views;
#   by default this notebook takes the same share of its own, smaller batch
#   (`hard_negative_count`), since 1,000 would be every negative of a 32-item batch;
# * a Pearson ρ. The SupReMix paper does not say what its curve correlates while pretraining,
#   when the linear-probe protocol has no regressor yet. Here: ρ between the labels and the
#   predictions of a ridge regression on the epoch's embeddings, fitted on half of the epoch's
#   batches and evaluated on the other half (and vice versa): how linearly the label can be read
#   from the embedding.
#
# After pretraining each run fits its linear probe as usual; the table gives its test MAE and ρ.
#
# **Protocol.** By default: the RSNA hand-radiograph phantom ([data card](../data_cards/rsna.md))
# with the book's phantom settings (preset `rsna-cpu`, `supremix.studies.PHANTOM_SETTINGS`:
# 320 radiographs, batch 32, no augmentation, so positives are only different radiographs of
# the same bone age in months) but 48 pretraining epochs instead of 24, two seeds. This shows
# the measurement at work on data whose answer we know; it is **not** a reproduction. With
# `data_root` set to your copy of RSNA and `preset = None`, the paper's preset `rsna` (the SupReMix
# paper Table 13: batch 128, two augmented views) runs on a GPU for the figure's 100 epochs, the
# default with real data (`supremix.experiments.hardness.hardness_epochs`), for instance:
#
# ```
# papermill notebooks/hardness.ipynb hardness-run.ipynb -p data_root /data/rsna
# ```

# %% tags=["parameters"]
data_root = None  # RSNA in its official layout; None: the hand-radiograph phantom
preset = None  # None: "rsna" (the SupReMix paper, Table 13) with data_root, else "rsna-cpu"
epochs = None  # pretraining epochs tracked; None: Fig. 4's 100 with data_root, 48 on the phantom
probe_epochs = None  # linear-probe epochs after pretraining; None: the preset's
batch_size = None  # None: the preset's
methods = ["supcon", "supremix"]  # contrastive methods to track
seeds = [0, 1]
hard_negatives = None  # hardest negatives per batch; None: the paper's share of the pairs
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.hardness import hardness_figure, track_hardness
from supremix.notebook import data_banner, glue_facts, notebook_settings
from supremix.reporting import write_results

settings = notebook_settings(globals())

# %% [markdown]
# ## Train each method and record every pretraining epoch

# %%
# The Mix-pos window on this run's training labels; stops here if it forms no Mix-pos or
# covers the whole label range (supremix.train.windows, tested).
from supremix.experiments.windows import study_window

print(study_window("rsna", settings))

# %%
study = track_hardness(
    "rsna",
    methods=methods,
    seeds=seeds,
    settings=settings,
    n_hard_negatives=hard_negatives,
)
display(Markdown(data_banner(study.data_kind, "RSNA bone age", study.data["root"])))
study.settings_table()

# %% [markdown]
# ## Logits over training (SupReMix paper, Fig. 4)
#
# One panel per method: mean logit of the positive pairs (solid) and of the hardest negatives
# (dashed) per pretraining epoch, left axis; the held-out ridge ρ of the embeddings (dotted),
# right axis. Lines are means over seeds, bands their range. A positive curve that flattens near
# 1 means the positives no longer teach the model anything; hardest negatives near 1 mean the
# model cannot tell the closest labels apart.

# %%
hardness_figure(study)

# %% [markdown]
# ## The curves in numbers
#
# Each curve at the first, middle and last epoch (means over seeds), its gain over the second
# half of training (about 0 once it has saturated), and each method's probe on the test items.

# %%
glue_facts(study.facts())
study.table().round(3)

# %% [markdown]
# At the last epoch ({glue:text}`epochs`) the positive pairs of {glue:text}`highest_positive`
# are the most alike (mean logit {glue:text}`highest_positive_value:.3f`; 1 is saturation).
# Over the second half of training, from epoch {glue:text}`middle` on, the positive logit of
# {glue:text}`largest_gain` gains the most ({glue:text}`largest_gain_value:+.3f`) and that of
# {glue:text}`smallest_gain` the least ({glue:text}`smallest_gain_value:+.3f`); a gain near 0
# is a curve that has saturated. The hardest negatives end highest for
# {glue:text}`hardest_negatives` ({glue:text}`hardest_negatives_value:.3f`), and the lowest
# probe MAE on the test items is {glue:text}`lowest_mae`'s ({glue:text}`lowest_mae_value:.3g`
# months). Fig. 4 shows SupCon's positives saturating early and SupReMix's still gaining at
# epoch 100. Where the data banner above says phantom, these numbers show the measurement at
# work; they do not reproduce the paper.

# %% [markdown]
# Every epoch of every run, with the number of positive pairs and of hardest negatives behind
# each mean:

# %%
study.curves().round(4)

# %% [markdown]
# ## Results file
#
# With `results_path` set, the probe's test metrics and the last epoch's mean logits of each run
# are written for the book's [results page](../book/results.md).

# %%
summary = study.summary(notes=f"notebooks/hardness, preset {study.preset}, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
