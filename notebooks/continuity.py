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
# # Representation continuity: Lipschitz factors and the bootstrap Z-gap
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/continuity.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/continuity.ipynb)
#
# **What the paper does.** The SupReMix paper's §5.3 {cite:p}`wu2025supremix` measures how smooth a
# representation is. For every test item it takes the nearest neighbour in representation space
# (after full-batch standardisation of each coordinate) and computes the local Lipschitz factor of
# eq. (7),
# `|T(x) − T(x')| / ‖φ(x) − φ(x')‖`, scaled for the embedding dimension: the Normalised
# Lipschitz Factor Distribution (NLFD). Small factors mean nearby representations have nearby
# targets. It compares SupReMix's encoder with the vanilla regressor's on UK Biobank brain age,
# RSNA bone age and A4 amyloid burden, then draws B = 100 bootstrap resamples of the test set
# and relates, across resamples, the Z-gap of the two NLFDs,
# `Z = (μ_vanilla − μ_SupReMix) / sqrt(σ²_vanilla + σ²_SupReMix)` (positive: SupReMix smoother),
# to the gap in Pearson ρ of the two models' predictions.
#
# **What the paper reports.** Figure 7 (A): SupReMix's NLFD is "left-skewed" (dominated by
# small factors) compared with vanilla's on all three datasets. Figure 7 (B): per dataset, a
# scatter of Z-gap against ρ gap over the resamples, with a positive Pearson correlation on each
# dataset, which §5.3 reads as "smoother representations lead to better regression
# performance". The three correlations are printed in the text of §5.3 and in the figure's
# caption, which assign them to the datasets differently; the table below shows both, read
# from `supremix.paper` (the SupReMix paper "Figure 7 (text §5.3)"), as the columns `paper corr
# (...)`.
#
# **What this notebook does.** `supremix.experiments.continuity` trains vanilla and SupReMix
# on each dataset (`supremix.studies.compare_methods`), takes the encoder features (before any
# regressor or projection head) and the predictions of the test items from the first seed, and
# computes the NLFDs, the Z-gap on all test items and the bootstrap (`supremix.analysis`:
# `lipschitz_factors`, `nlfd_z_gap`, `bootstrap_nlfd_gap`).
#
# **Protocol.** By default: the phantoms of the three datasets (data cards:
# [UK Biobank](../data_cards/ukb.md), [RSNA](../data_cards/rsna.md), [A4](../data_cards/a4.md))
# with the book's phantom settings (`supremix.studies.PHANTOM_SETTINGS`), one seed. Their test
# splits are small (16 to 32 items), so the distributions and correlations below are rough;
# raise `phantom_n` for more items (slower). This shows the analysis at work on data whose
# answer we know; it is **not** a reproduction. With your copies of the datasets, give
# `data_root` as a mapping dataset -> folder; each dataset then uses the paper's preset (the
# SupReMix paper Table 13) on a GPU, for instance:
#
# ```
# papermill notebooks/continuity.ipynb continuity-run.ipynb \
#     -y "{data_root: {rsna: /data/rsna}, datasets: [rsna]}"
# ```

# %% tags=["parameters"]
data_root = None  # {dataset: folder} (or one folder when `datasets` has one); None: phantoms
datasets = ["ukb", "rsna", "a4"]  # the SupReMix paper's Fig. 7
epochs = None  # pretraining epochs (vanilla: training epochs); None: each preset's
probe_epochs = None  # linear-probe epochs; None: each preset's
batch_size = None  # None: each preset's
methods = ["vanilla", "supremix"]  # [baseline, method]: the SupReMix paper compares these two
seeds = [0]  # NLFDs and bootstrap use the first seed; metrics average all
phantom_n = None  # items of every phantom; None: the book's phantom settings
n_boot = 100  # bootstrap resamples; the SupReMix paper's §5.3 draws 100
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, tiny phantoms: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.continuity import (
    continuity_analysis,
    continuity_facts,
    continuity_figure,
    continuity_summary,
    continuity_table,
    run_continuity,
)
from supremix.notebook import data_banner, glue_facts, notebook_settings
from supremix.reporting import write_results

settings = notebook_settings(globals(), exclude=["data_root"])
baseline, method = methods

# %% [markdown]
# ## Train the baseline and SupReMix on each dataset

# %%
studies = run_continuity(
    datasets,
    baseline=baseline,
    method=method,
    seeds=seeds,
    data_root=data_root,
    settings=settings,
)
for name, study in studies.items():
    display(Markdown(data_banner(study.data_kind, name, study.data["root"])))
    display(study.settings_table().T)

# %% [markdown]
# ## NLFDs, Z-gap and bootstrap
#
# Per dataset: the number of test items, the mean and median normalised Lipschitz factor of each
# representation (in label units; smaller is smoother), the Z-gap and the ρ gap on all test
# items, and over the bootstrap resamples the mean Z-gap, the share of resamples where SupReMix
# is smoother (Z > 0) and the Pearson correlation of Z-gap and ρ gap (the number of Fig. 7 B).

# %%
results = [
    continuity_analysis(study, baseline=baseline, method=method, n_boot=n_boot)
    for study in studies.values()
]
glue_facts(continuity_facts(results))
continuity_table(results).round(3)

# %% [markdown]
# {glue:text}`method`'s factors are smaller on average than {glue:text}`baseline`'s (Z-gap
# above 0) on {glue:text}`smoother` of the {glue:text}`datasets` datasets. Over
# {glue:text}`resamples` bootstrap resamples per dataset, Z-gap and ρ gap correlate positively
# on {glue:text}`positive_correlations` of them; the correlation ranges from
# {glue:text}`lowest_correlation_value:+.2f` ({glue:text}`lowest_correlation`) to
# {glue:text}`highest_correlation_value:+.2f` ({glue:text}`highest_correlation`). The paper
# reports a positive correlation on each of its three datasets (the columns `paper corr`).
# Where the data banners above say phantom, these numbers show the analysis at work on small
# test splits; they do not reproduce the paper.

# %% [markdown]
# ## SupReMix paper, Fig. 7 for this run
#
# Top (Fig. 7 A): the two NLFDs, SupReMix blue and the baseline orange; mass further left is
# smoother. Bottom (Fig. 7 B): one point per bootstrap resample, Z-gap against ρ gap, with the
# least-squares line (black, as in the paper's figure).

# %%
continuity_figure(results)

# %% [markdown]
# ## Metrics of the runs
#
# Test metrics of every run (one row per method and seed): the ρ gap above is the difference of
# the two methods' `pearson` values for the first seed.

# %%
for name, study in studies.items():
    display(Markdown(f"**{name}**"))
    display(study.metrics_frame().round(3))

# %% [markdown]
# ## Results file
#
# With `results_path` set, each run's test metrics are written for the book's
# [results page](../book/results.md), methods named `<method> (<dataset>)`.

# %%
summary = continuity_summary(studies, notes=f"notebooks/continuity, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
