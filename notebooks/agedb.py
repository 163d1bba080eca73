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
# # AgeDB-DIR: age from face photographs
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/agedb.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/agedb.ipynb)
#
# **The dataset.** AgeDB-DIR: face photographs labelled with age in years, with the balanced
# validation and test sets of Yang et al. 2021 (Mixup Your Own Pairs {cite:p}`wu2023mixup`, §4).
# Mixup Your Own Pairs pretrains a ResNet-50 at 224 × 224 and evaluates with a linear probe.
#
# **The phantom.** Without `data_root` the notebook trains on a phantom: synthetic data written
# in the official layout by `supremix.data.phantoms` from a generative model we know ([data
# card](../data_cards/agedb.md)). Each photograph is a drawn face whose age `a` (N(50, 17) with
# 7 % children) drives non-linear traits: the head grows in childhood, the eye line drops,
# forehead wrinkles, crow's feet and nasolabial folds deepen after 25-45, hair greys after 55,
# men's hairlines recede and age spots appear after 60; identity, skin tone, background, pose,
# illumination, colour cast, noise and JPEG quality are label-free.
#
# **What the papers report.** Mixup Your Own Pairs' Table 1 gives MAE, MSE and GM for Vanilla,
# SupCon, SupCR and SupReMix; it has no SimCLR, AdaCon or RnC row and no ρ. The table below puts
# their numbers beside this run's, each column labelled with its source; they are read from
# `supremix.paper`, never typed here.
#
# **The probe, decided here.** The paper presets fit the papers' probe, one linear layer on
# the frozen features (the SupReMix paper {cite:p}`wu2025supremix`, §4.3, Fig. 2 B). The `-cpu`
# presets put a BatchNorm without affine parameters before it (`probe_batchnorm=True`): with a few
# probe epochs a plain linear layer on small features does not reach the label scale. At evaluation
# both are one linear map of the features.
#
# **Protocol.** By default: preset `agedb-cpu` (the small CPU encoder) with the book's phantom
# settings (`supremix.studies.PHANTOM_SETTINGS`: 160 to 800 items, a short schedule, no
# augmentation except for SimCLR, whose two views differ only by it), two seeds, so that the
# notebook runs in a couple of minutes on a laptop CPU. That shows the protocol at work on data
# whose answer we know; it is **not** a reproduction. With `data_root` set to your copy of the
# dataset and `preset = None`, the notebook uses the paper's preset `agedb` (Mixup Your Own Pairs,
# Table 13: ResNet-50 at 224 × 224, batch 128, temperature 0.5, window 5, SimCLR-style augmentation,
# linear probe) with its 200 pretraining epochs and 100-epoch linear probe, unless `epochs` or
# `probe_epochs` say otherwise; on a GPU, for instance:
#
# ```
# papermill notebooks/agedb.ipynb agedb-run.ipynb -p data_root /data/agedb -p epochs 200
# ```

# %% tags=["parameters"]
data_root = None  # your copy in the official layout; None: the phantom (cached after one write)
preset = None  # None: "agedb" (Mixup Your Own Pairs, Table 13) with data_root, else "agedb-cpu"
epochs = None  # pretraining epochs (Vanilla: training epochs); None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = ["vanilla", "simclr", "supcon", "adacon", "rnc", "supremix"]
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %% [markdown] tags=["remove-cell"] template="dataset"
# dataset: agedb
# title: AgeDB-DIR
# unit: years
# label_name: age (years)

# %% generated="dataset"
from IPython.display import Markdown, display

from supremix.notebook import data_banner, glue_facts, notebook_settings
from supremix.plots import embedding_grid, paired_test_heatmap, true_vs_predicted_grid
from supremix.reporting import write_results
from supremix.studies import compare_methods, paper_coverage

settings = notebook_settings(globals())

# %% [markdown] generated="dataset"
# ## Train every method with every seed
#
# Each run pretrains (contrastive methods) and fits the linear probe, or trains Vanilla end to
# end, then predicts the evaluation split with the weights of best validation MAE. The table
# lists the settings every run shared, with the Mix-pos window measured on the training labels:
# the study stops before training when that window forms no Mix-pos or covers the whole label
# range (`supremix.experiments.windows`, tested).

# %% generated="dataset"
study = compare_methods(
    "agedb",
    methods=methods,
    seeds=seeds,
    settings=settings,
)
display(Markdown(data_banner(study.data_kind, "AgeDB-DIR", study.data["root"])))
study.settings_table()

# %% [markdown] generated="dataset"
# ## Metrics beside the papers
#
# Mean and sample standard deviation over seeds on the evaluation split, then the papers'
# numbers. `Training mean` predicts the mean training label for every item: a method that does
# not beat it learned nothing from the inputs. First, which methods each of the papers' tables
# reports each metric for (`-`: none; `no source`: the methods no table reports it for, whose
# paper cells stay empty) and how a table's numbers differ from a run here (`note`).

# %% generated="dataset"
display(paper_coverage("agedb", methods))
display(Markdown(f"*Reported on {study.data.get('reported_split', 'the test split')}.*"))
study.comparison().round(3)

# %% generated="dataset"
glue_facts(study.facts())

# %% [markdown] generated="dataset"
# On this run ({glue:text}`data`, {glue:text}`seeds` seed(s), {glue:text}`items`
# {glue:text}`split` items) the lowest mean MAE is {glue:text}`best`'s,
# {glue:text}`best_value:.3g`. Predicting the training mean for every item gives MAE
# {glue:text}`mean_predictor:.3g`; the methods' MAEs are {glue:text}`ratio_lowest:.2f` to
# {glue:text}`ratio_highest:.2f` times that: at these settings they learned
# {glue:text}`learned` from the inputs. {glue:text}`reference`'s MAE
# ({glue:text}`reference_value:.3g`) is {glue:text}`relation` than {glue:text}`baseline`'s
# ({glue:text}`baseline_value:.3g`); the paired t-test on per-item errors gives p =
# {glue:text}`p:.2g` ({glue:text}`significance`).

# %% [markdown] generated="dataset"
# ## Does the phantom teach?
#
# The best method's MAE as a fraction of the training-mean predictor's (1: learned nothing) and
# of the noise floor, the expected MAE of the true function under the label noise that the
# phantom's generative model adds (1: learned all there is). The [phantoms
# page](../book/phantoms.md) compares every dataset's phantom; on real data the floor is unknown.

# %% generated="dataset"
from supremix.phantom_quality import study_quality

glue_facts(study_quality(study).facts(), prefix="quality_")

# %% [markdown] generated="dataset"
# The best method, {glue:text}`quality_best_method`, has MAE {glue:text}`quality_best_mae:.3g`:
# {glue:text}`quality_of_mean:.2f` times the training-mean predictor's
# ({glue:text}`quality_mean_predictor_mae:.3g`) and {glue:text}`quality_of_floor:.2f` times the
# noise floor ({glue:text}`quality_noise_floor:.3g`; NaN on real data, whose noise is unknown).
# Verdict: {glue:text}`quality_verdict` (the book's goal: at most {glue:text}`quality_goal` times
# the training-mean predictor's MAE, with the methods not all at the floor).

# %% [markdown] generated="dataset"
# ## Paired t-tests
#
# Per item, the absolute error of each method averaged over seeds; SupReMix against every other
# method (negative `difference`: SupReMix errs less), then every pair. Stars as in the SupReMix
# paper's Fig. 5: `***` p < 0.001, `**` p < 0.01, `*` p < 0.05, `ns` otherwise.

# %% generated="dataset"
display(study.paired_tests().round(4))
paired_test_heatmap(*study.paired_matrix(), unit="years")

# %% [markdown] generated="dataset"
# ## True versus predicted
#
# One panel per method, every seed's predictions of the evaluation items (one colour per seed);
# the dashed line is a perfect prediction.

# %% generated="dataset"
true_vs_predicted_grid(study.all_predictions(), study.targets, label_name="age (years)")

# %% [markdown] generated="dataset"
# ## t-SNE of the encoder features
#
# Encoder features (before any projection head) of the evaluation items, from the first seed,
# coloured by label: the SupReMix paper's Figs. 3 and 6 show SupReMix's features ordered along the
# label where SupCon's form separate clusters.

# %% generated="dataset"
embedding_grid(study.embeddings(), study.targets, label_name="age (years)")

# %% [markdown] generated="dataset"
# ## Results file
#
# With `results_path` set, the summary (per-seed values, means, standard deviations, the
# settings and whether the data were real or a phantom) is written for the book's [results
# page](../book/results.md).

# %% generated="dataset"
summary = study.summary(notes=f"notebooks/agedb, preset {study.preset}, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
