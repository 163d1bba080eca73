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
# # Gender-aware representations in bone age assessment
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/gender_aware.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/gender_aware.ipynb)
#
# **What the paper does.** The SupReMix paper's §5.7 {cite:p}`wu2025supremix`: on RSNA bone age,
# SupReMix "generates hard-negative and hard-positive pairs exclusively within the same gender
# groups": its mixtures (Mix-neg and Mix-pos) combine only radiographs of the anchor's sex. Girls'
# skeletons mature earlier than boys' of the same age, and mixing a girl's embedding with a boy's
# would blur that difference.
#
# **What the paper reports.** Figure 10 is a pair of latent-space maps and prints no numbers
# (`supremix.paper` holds none for it). In words (§5.7 and the caption): SupReMix forms
# "distinct continuous trajectories for male and female subjects, both following clear age
# progression patterns", while alternative methods "struggle to preserve both gender
# differentiation and age continuity".
#
# **What this notebook measures.** One sweep of rows (`methods`, keys of
# `supremix.experiments.gender_aware.ROWS`): SupReMix mixing within sex
# (`TrainConfig.use_groups=True`: the loss receives each radiograph's sex, the dataset's
# `group`, 0 female and 1 male), SupReMix mixing across sexes (`use_groups=False`), and other
# methods. **Decided, and why:** §5.7 says SupReMix on RSNA mixes only within sex, so the `rsna`
# and `rhpe` presets (and their `-cpu` variants) mix within sex by default, and every other
# notebook's SupReMix on bone age does too; this notebook is where the two are compared, each
# row stating `use_groups` explicitly. For the encoder features of the test items (first seed):
#
# * *sex separability*: balanced accuracy of a cross-validated logistic regression predicting
#   sex from the features (0.5: the representation carries no sex);
# * *age ordinality* (`supremix.analysis.ordinality_score`: Spearman correlation between feature
#   distances and bone-age distances over pairs) over all items and within each sex: continuity
#   of the age progression;
# * the trajectories: t-SNE maps with, per sex, the mean map position of each bone-age bin,
#   joined in age order (Fig. 10).
#
# **Protocol.** By default: the RSNA hand-radiograph phantom ([data card](../data_cards/rsna.md)),
# whose girls mature 1.15 times faster than boys at the same bone age (epiphyses, carpals and
# growth plates), with the book's phantom settings (preset `rsna-cpu`,
# `supremix.studies.PHANTOM_SETTINGS`) and 480 radiographs (48 test items), one seed. This shows
# the experiment at work on data whose answer we know; it is **not** a reproduction. With
# `data_root` set to your copy of RSNA and `preset = None`, the paper's preset `rsna` (the SupReMix
# paper Table 13) runs on a GPU, for instance:
#
# ```
# papermill notebooks/gender_aware.ipynb gender-run.ipynb -p data_root /data/rsna
# ```

# %% tags=["parameters"]
data_root = None  # RSNA in its official layout; None: the hand-radiograph phantom
preset = None  # None: "rsna" (the SupReMix paper, Table 13) with data_root, else "rsna-cpu"
epochs = None  # pretraining epochs (Vanilla: training epochs); None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
# rows: "supremix_within_sex", "supremix" (across sexes), "supcon", "rnc", "adacon", "simclr",
# "vanilla"
methods = ["supremix_within_sex", "supremix", "supcon", "rnc"]
seeds = [0]  # features, maps and scores come from the first seed; metrics average all
phantom_n = 480  # radiographs in the phantom (10 % test); None: the book's phantom setting
n_bins = 6  # bone-age bins of the trajectories (quantiles of the test labels)
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.gender_aware import gender_facts, run_gender_aware, trajectory_figure
from supremix.notebook import data_banner, glue_facts, notebook_settings
from supremix.reporting import write_results

settings = notebook_settings(globals())

# %% [markdown]
# ## Train every row
#
# The sex of every radiograph is read before training (the run stops with a clear error on a
# dataset whose items carry none). The table lists the shared settings and what each row
# changes.

# %%
study = run_gender_aware(
    "rsna",
    rows=methods,
    seeds=seeds,
    settings=settings,
)
sweep = study.sweep
display(Markdown(data_banner(sweep.data_kind, "RSNA bone age", sweep.data["root"])))
counts = {"female": int((study.groups == 0).sum()), "male": int((study.groups == 1).sum())}
print(f"test items by sex: {counts}")
sweep.settings_table()

# %% [markdown]
# ## Sex and age in the representation
#
# MAE (months) and ρ of each row's probe on the test items (means over seeds), then, on the
# first seed's encoder features: sex separability and age ordinality, over all items and within
# each sex.

# %%
table = study.table()
glue_facts(gender_facts(table))
table.round(3)

# %% [markdown]
# Sex is read best from the features of {glue:text}`most_separable` (balanced accuracy
# {glue:text}`most_separable_value:.2f`) and worst from those of {glue:text}`least_separable`
# ({glue:text}`least_separable_value:.2f`); a representation that carries no sex gives 0.5.
# Over all test items, {glue:text}`most_ordered` keeps the age order best (ordinality
# {glue:text}`most_ordered_value:.2f`); within each sex, the row whose less ordered sex is
# still the most ordered is {glue:text}`most_ordered_within`
# ({glue:text}`most_ordered_within_value:.2f`). The lowest probe MAE is that of
# {glue:text}`lowest_mae` ({glue:text}`lowest_mae_value:.3g` months). Fig. 10's claim for
# SupReMix mixing within sex is that its features keep both: the sexes apart and the age order
# within each. Where the data banner above says phantom, these numbers show the measurement at
# work; they do not reproduce the paper.

# %% [markdown]
# ## Latent trajectories (SupReMix paper, Fig. 10)
#
# t-SNE maps of each row's features, items coloured by bone age (circles female, triangles
# male); the lines join, per sex, the mean position of each bone-age bin from youngest to
# oldest (arrow). Separate, continuous lines are what Fig. 10 shows for SupReMix.

# %%
trajectory_figure(study.maps(), sweep.targets, study.groups, n_bins=n_bins)

# %% [markdown]
# ## Results file
#
# With `results_path` set, each row's test metrics are written for the book's
# [results page](../book/results.md), one "method" per row.

# %%
summary = sweep.summary(
    notes=f"notebooks/gender_aware, preset {sweep.preset}, smoke={smoke}",
    experiment="gender_aware",
)
if results_path is not None:
    write_results(summary, results_path)
