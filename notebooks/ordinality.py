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
# # Ordinality-awareness: training with permuted labels
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/ordinality.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/ordinality.ipynb)
#
# **What the paper does.** The SupReMix paper's §5.1.1 {cite:p}`wu2025supremix` asks whether a
# contrastive representation knows that labels are ordered. It trains SupCon and SupReMix on RSNA
# bone ages twice: with the genuine labels and with labels permuted group-wise, "randomly
# reassign[ing] a new value to each bone age group" (all X-rays of 12 months become, say, 48
# months). Equal labels stay equal; the order between groups is scrambled.
#
# **What the paper reports.** Figure 3 shows t-SNE maps of the four representations and
# prints no numbers (`supremix.paper` holds none for it). In words (§5.1.1): with genuine
# labels SupReMix forms "a continuous, ordered structure reflecting the natural progression of
# bone age", which is "significantly disrupted with permuted labels"; SupCon treats bone ages
# as discrete classes and produces clustered embeddings that "remain largely unchanged between
# genuine and permuted labels".
#
# **What this notebook measures.** The same four runs, plus a number for "how much ordering is
# lost": the *ordinality* of a representation (`supremix.analysis.ordinality_score`), the
# Spearman correlation over pairs of evaluation items between the distance of their encoder
# features and the distance of their genuine labels (1: points lie in label order; about 0:
# no relation to the labels). Both models of a method are scored against the **genuine**
# labels, and the *drop* is the ordinality the permuted training costs. One thing follows from
# the losses before any training ({doc}`../book/loss_spec`): SupCon sees labels only through
# equality, which the permutation keeps, so SupCon's pretraining is the same run with either
# labelling; the table shows whether its features differ at all.
#
# **Protocol.** By default: the RSNA hand-radiograph phantom ([data card](../data_cards/rsna.md))
# with the book's phantom settings (preset `rsna-cpu`, `supremix.studies.PHANTOM_SETTINGS`)
# and 480 phantom radiographs, so that 48 test items are mapped; one seed. The permutation is
# drawn from the training split's own label values with the run's seed
# (`supremix.experiments.ordinality.permuted_training_labels`); validation and test keep their
# genuine labels, so each probe's MAE below is its error on the genuine test labels. This shows
# the experiment at work on data whose answer we know; it is **not** a reproduction. With
# `data_root` set to your copy of RSNA and `preset = None`, the notebook uses the paper's
# preset `rsna` (the SupReMix paper, Table 13) on a GPU, for instance:
#
# ```
# papermill notebooks/ordinality.ipynb ordinality-run.ipynb -p data_root /data/rsna
# ```

# %% tags=["parameters"]
data_root = None  # RSNA in its official layout; None: the hand-radiograph phantom
preset = None  # None: "rsna" (the SupReMix paper, Table 13) with data_root, else "rsna-cpu"
epochs = None  # pretraining epochs; None: the preset's (the book's phantom settings: 24)
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = ["supremix", "supcon"]  # each trained with genuine and with permuted labels
seeds = [0]  # features, maps and ordinality come from the first seed; MAE averages all
phantom_n = 480  # radiographs in the phantom (10 % test); None: the book's phantom setting
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.ordinality import (
    ordered_features,
    ordinality_facts,
    ordinality_figure,
    ordinality_table,
    run_ordinality,
)
from supremix.notebook import data_banner, glue_facts, notebook_settings
from supremix.plots import embedding_grid
from supremix.reporting import write_results

settings = notebook_settings(globals())

# %% [markdown]
# ## Train each method with genuine and with permuted labels
#
# Four runs per seed (two per method): contrastive pretraining, then the linear probe, then the
# encoder features of the test items. The table lists the settings the runs shared and what each
# run changes.

# %%
sweep = run_ordinality(
    "rsna",
    methods=methods,
    seeds=seeds,
    settings=settings,
)
display(Markdown(data_banner(sweep.data_kind, "RSNA bone age", sweep.data["root"])))
sweep.settings_table()

# %% [markdown]
# ## How much of the label order each representation keeps
#
# `genuine` and `permuted`: ordinality of the features of the model trained with genuine,
# resp. permuted, labels, both against the genuine test labels; `drop`: their difference (the
# ordering lost); `max |Δ feature|`: the largest difference between the two models' features
# (0: the permutation changed nothing); the last two columns: each probe's MAE on the genuine
# test labels (months).

# %%
table = ordinality_table(sweep)
glue_facts(ordinality_facts(table))
display(table.round(3))
ordinality_figure(table, title="Ordinality of the encoder features (first seed)")

# %% [markdown]
# Training on permuted labels costs {glue:text}`most_drop` the most order (a drop of
# {glue:text}`most_drop_value:+.2f`) and {glue:text}`least_drop` the least
# ({glue:text}`least_drop_value:+.2f`); with genuine labels {glue:text}`most_ordered` keeps the
# most ({glue:text}`most_ordered_value:.2f`). Features the permutation left identical:
# {glue:text}`unchanged`. SupCon's loss sees labels only through equality, which the
# permutation keeps, so its features should be among those; Fig. 3 expects SupReMix to lose its
# order. Where the data banner above says phantom, these numbers show the experiment at work;
# they do not reproduce the paper.

# %% [markdown]
# ## t-SNE maps (SupReMix paper, Fig. 3)
#
# One row per method; left: trained with genuine labels (Fig. 3 A), right: with permuted
# labels (Fig. 3 B). Every map shows the same test items, coloured by their genuine bone age.

# %%
embedding_grid(ordered_features(sweep), sweep.targets, label_name="bone age (months)", ncols=2)

# %% [markdown]
# ## Results file
#
# With `results_path` set, each run's test metrics (against the genuine labels) are written for
# the book's [results page](../book/results.md), one "method" per row of the experiment.

# %%
summary = sweep.summary(
    notes=f"notebooks/ordinality, preset {sweep.preset}, smoke={smoke}", experiment="ordinality"
)
if results_path is not None:
    write_results(summary, results_path)
