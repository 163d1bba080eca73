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
# # Missing targets: brain age without three age ranges
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/missing_targets.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/missing_targets.ipynb)
#
# **The experiment.** The SupReMix paper's App. D.1 {cite:p}`wu2025supremix`: "we curate subsets of
# the UK Biobank dataset by removing samples within specific age ranges (45-50, 60-65, and 75-80
# years) while maintaining the original validation and test sets." Table 14 reports MAE and GM of
# Vanilla, SupCon, RnC and SupReMix over the whole test set ("overall") and over the test subjects
# whose age lies in a removed range ("missing targets", MT). The claim: SupReMix's mixtures act as
# landmarks between the labels it has seen, so it predicts unseen ages better.
#
# **What runs here.** Every method is trained on the training split without the subjects aged
# 45-50, 60-65 or 75-80 (closed ranges: an age of exactly 50 is removed;
# `supremix.data.label_ops.remove_label_ranges`), selected on the unchanged validation split
# and evaluated on the unchanged test split, overall and on its missing-target items
# (`supremix.experiments.missing_targets`).
#
# **The phantom.** Without `data_root` the data are the UK Biobank phantom (T1 volumes whose
# anatomy ages non-linearly; ages 45-82, [data card](../data_cards/ukb.md)), which covers all
# three ranges (the first table below counts them). This experiment uses a phantom of 320
# subjects (`phantom_n`) so that the test split holds about ten missing-target subjects, with
# the book's short CPU settings (`supremix.studies.PHANTOM_SETTINGS`) and two seeds: it shows
# the protocol at work on data whose answer we know; it is **not** a reproduction. With
# `data_root` set to your UK Biobank copy the paper's preset `ukb` (the SupReMix paper, Table 13) is
# used.
#
# **The paper's numbers** come from `supremix.paper` (the SupReMix paper, Table 14), never typed
# here. Its GM columns are larger than its MAE columns, which a geometric mean of the same errors
# cannot be; the table's note says they are on the scale of an MSE. Compare the GM rows with care.

# %% tags=["parameters"]
data_root = None  # your UK Biobank copy in the official layout; None: the phantom
preset = None  # None: "ukb" (the SupReMix paper, Table 13) with data_root, else "ukb-cpu"
epochs = None  # pretraining epochs (Vanilla: training epochs); None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = None  # some of ["vanilla", "supcon", "rnc", "supremix"] (Table 14); None: all four
seeds = [0, 1]
phantom_n = 320  # subjects of the phantom (ignored with data_root and by smoke)
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.missing_targets import (
    MISSING_AGE_RANGES,
    PAPER_TABLE,
    coverage_table,
    missing_target_subsets,
    run_missing_targets,
)
from supremix.notebook import glue, notebook_settings
from supremix.paper import paper_results
from supremix.reporting import write_results

settings = notebook_settings(globals())

# %% [markdown]
# ## Train every method without the three age ranges
#
# Each run trains on the reduced training split (its size is in the settings table, after
# `training items`), pretraining then probing for the contrastive methods, and predicts the
# test split with the weights of best validation MAE.

# %%
sweep = run_missing_targets(
    methods=methods,
    seeds=seeds,
    settings=settings,
    phantom_n=phantom_n,
)
display(Markdown(sweep.data_banner()))
sweep.settings_table()

# %% [markdown]
# ## Do the data cover the removed ranges?
#
# Subjects per removed range in the whole training split (all of them are left out of
# training) and in the test split (the missing-target items), then the age range of each split.

# %%
coverage_table(sweep, MISSING_AGE_RANGES)

# %% [markdown]
# ## Overall and on the missing targets, beside Table 14
#
# Mean and sample standard deviation over seeds of MAE and GM, over the whole test split and
# over its {glue:text}`missing_items` missing-target items, then the paper's number.
# `Training mean` predicts the mean training age for everyone: a method that does not beat it
# learned nothing from the images.

# %%
subsets = missing_target_subsets(sweep.targets, MISSING_AGE_RANGES)
glue("missing_items", int(subsets["missing targets"].sum()))
sweep.beside_paper("supremix", PAPER_TABLE, subsets=subsets).round(3)

# %%
from supremix.notebook import glue_facts

glue("paper_note", paper_results(paper="supremix", table=PAPER_TABLE)["notes"].iloc[0])
glue_facts(sweep.facts())

# %% [markdown]
# Note on the SupReMix paper's Table 14: {glue:text}`paper_note`
#
# Overall, on this run ({glue:text}`data`, {glue:text}`seeds` seed(s), {glue:text}`items`
# {glue:text}`split` items) the methods' mean MAE ranges from {glue:text}`lowest:.3g` to
# {glue:text}`highest:.3g`; the lowest, {glue:text}`best_value:.3g`, is that of {glue:text}`best`.
# Predicting the training mean for everyone gives {glue:text}`mean_predictor:.3g`. The standard
# deviation over seeds is {glue:text}`sd_lowest:.2g` to {glue:text}`sd_highest:.2g`, and differences
# smaller than that are noise; with one seed it is undefined (NaN) and there is no spread to judge
# differences by. Phantom numbers show the protocol at work; they do not reproduce the paper.

# %% [markdown]
# ## Results file
#
# With `results_path` set, the summary (per-seed overall metrics, means, standard deviations,
# the settings and whether the data were real or a phantom) is written for the book's
# [results page](../book/results.md).

# %%
summary = sweep.summary(
    notes=f"notebooks/missing_targets, preset {sweep.preset}, smoke={smoke}",
    experiment="missing targets (the SupReMix paper, Table 14)",
)
if results_path is not None:
    write_results(summary, results_path)
