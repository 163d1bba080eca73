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
# # Reduced training data: Vanilla and SupReMix on smaller training sets
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/reduced_data.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/reduced_data.ipynb)
#
# **The experiment.** The SupReMix paper's §5.5 {cite:p}`wu2025supremix`, Fig. 9: Vanilla and
# SupReMix trained on training sets of several sizes, "keeping all other training parameters
# consistent": UK Biobank 2,500-20,000 samples, A4 500-3,500, RSNA 2,000-12,000, RHPE 1,000-5,000
# and EchoNet 1,000-7,000. The claim: SupReMix's advantage is largest when data are scarce
# ("SupReMix achieves R = 0.62 with 2,000 samples [of RSNA], matching vanilla training performance
# at 6,000 samples").
#
# **What runs here.** `dataset` picks one of those datasets. The sizes are `points` values
# evenly spaced over the paper's range (the figure's own grid is not stated), each turned into
# the same *share* of this training split as of the paper's (the SupReMix paper, Table 1;
# `supremix.experiments.reduced_data.scaled_training_size`): on the real dataset that is the
# paper's size, on a phantom the same fraction of a much smaller split, never less than one
# batch. Each seed draws its own subset; for one seed the smaller sets are nested in the
# larger. Epochs, batch size and every other setting stay the same across sizes, as in the
# paper, so a smaller set also means fewer optimisation steps.
#
# **The phantom.** Without `data_root` the data are the dataset's phantom (for RSNA: hand
# radiographs whose anatomy matures with bone age, [data card](../data_cards/rsna.md)) with the
# book's short CPU settings (`supremix.studies.PHANTOM_SETTINGS`) and two seeds: the protocol
# at work on data whose answer we know, **not** a reproduction. With `data_root` the paper's
# preset for the dataset (the SupReMix paper, Table 13) is used.
#
# **The paper's numbers.** Fig. 9 is a chart; `supremix.paper` holds the values its text
# quotes (UK Biobank MAE of both methods at 2,500 samples, RSNA ρ of SupReMix at 2,000). They
# appear beside the smallest size, whose share of the training set is the paper's smallest.

# %% tags=["parameters"]
data_root = None  # your copy of `dataset` in the official layout; None: the phantom
dataset = "rsna"  # one of "ukb", "a4", "rsna", "rhpe", "echonet" (the SupReMix paper, §5.5)
preset = None  # None: the paper's preset with data_root, else "<dataset>-cpu"
epochs = None  # pretraining epochs (Vanilla: training epochs); None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = None  # some of ["vanilla", "supremix"] (Fig. 9); None: both
points = 3  # training-set sizes per method, evenly spaced over the paper's range
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.reduced_data import (
    PAPER_TABLE,
    reduced_data_figure,
    run_reduced_data,
    size_curves,
)
from supremix.notebook import notebook_settings
from supremix.reporting import write_results

settings = notebook_settings(globals())

# %% [markdown]
# ## Train both methods at every size
#
# One variant per (method, size), labelled with its number of training items; the settings
# table lists what every run shared.

# %%
sweep = run_reduced_data(
    dataset,
    methods=methods,
    points=points,
    seeds=seeds,
    settings=settings,
)
display(Markdown(sweep.data_banner()))
sweep.settings_table()

# %% [markdown]
# ## Error against training-set size
#
# Fig. 9's rows for this run: MAE, ρ (the paper's R) and MSE of each method against the number
# of training items, mean over seeds with ± one standard deviation.

# %%
reduced_data_figure(sweep)

# %%
size_curves(sweep).round(3)

# %% [markdown]
# ## Beside the values the paper quotes
#
# The metric the text quotes for this dataset, every variant, with the paper's value beside
# the variant of the smallest size (empty elsewhere, and for datasets the text does not quote
# at all the table says so). `Training mean` predicts the mean training label for every item.

# %%
from supremix.notebook import glue_facts

glue_facts(sweep.facts())
if any(variant.paper is not None for variant in sweep.variants):
    display(sweep.beside_paper("supremix", PAPER_TABLE).round(3))
else:
    display(Markdown(f"The SupReMix paper's {PAPER_TABLE} quotes no value for {dataset}."))

# %% [markdown]
# On this run ({glue:text}`data`, {glue:text}`seeds` seed(s), {glue:text}`items` {glue:text}`split`
# items) the mean MAE of the {glue:text}`variants` (method, size) variants ranges from
# {glue:text}`lowest:.3g` to {glue:text}`highest:.3g`; the lowest, {glue:text}`best_value:.3g`, is
# that of {glue:text}`best`. Predicting the training mean for every item gives
# {glue:text}`mean_predictor:.3g`: a variant that does not beat it learned nothing from the inputs.
# The standard deviation over seeds is {glue:text}`sd_lowest:.2g` to {glue:text}`sd_highest:.2g`,
# and differences smaller than that are noise; with one seed it is undefined (NaN) and there is no
# spread to judge differences by. Phantom numbers show the protocol at work; they do not reproduce
# the paper.

# %% [markdown]
# §5.5 states its comparisons in words only (`supremix.paper.paper_claims`): a 19 % lower MAE
# on UK Biobank at 2,500 samples, R > 0.7 on A4 at 500 samples, and on RSNA SupReMix's R at
# 2,000 samples matching Vanilla's 0.62 at 6,000.

# %%
from supremix.paper import paper_claims

paper_claims(section="§5.5").drop(columns=["paper", "quote"])

# %% [markdown]
# ## Results file
#
# With `results_path` set, the summary (per-seed metrics of every (method, size), means,
# standard deviations, the settings and whether the data were real or a phantom) is written
# for the book's [results page](../book/results.md).

# %%
summary = sweep.summary(
    notes=f"notebooks/reduced_data, {dataset}, preset {sweep.preset}, smoke={smoke}",
    experiment="reduced training data (the SupReMix paper, Fig. 9)",
)
if results_path is not None:
    write_results(summary, results_path)
