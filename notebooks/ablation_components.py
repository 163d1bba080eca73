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
# # Ablation: SupReMix's ingredients (SupReMix paper, Table 9)
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/ablation_components.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/ablation_components.ipynb)
#
# **The question.** SupReMix adds three things to SupCon (the SupReMix paper
# {cite:p}`wu2025supremix`, §3): hard negatives mixed from the anchor and a negative (Mix-neg, eqs.
# (1)-(2)), hard positives mixed from two negatives around the anchor (Mix-pos, eqs. (3)-(4)) and
# distance magnifying weights on every term of the denominator (DM, eq. (5)). The SupReMix paper's
# §5.8 adds them to SupCon one by one on RSNA-BAA and reports MAE, MSE and GM per combination (Table
# 9): SupCon, SupCon+DM, SupCon+Mix-neg, SupCon+Mix-neg+DM and the full SupReMix.
#
# **How the rows map onto a run.** Every row is a SupReMix run whose loss has the row's
# ingredients switched on (`TrainConfig.mix_neg`, `mix_pos`, `distance_weight`); everything
# else is shared, so the rows differ only in the loss. With all three off the loss is exactly
# SupCon's; "+Mix-neg" without Mix-pos keeps SupCon's positives (real items of equal label) and
# adds the Mix-neg mixtures to the negatives. The package's tests check each row's loss against
# the SupReMix loss with those switches, SupCon's loss and a direct implementation of the
# weights.
#
# **Protocol.** By default the notebook trains on the RSNA phantom (`supremix.data.phantoms`:
# synthetic hand radiographs whose bone age we set) with preset `rsna-cpu` and the book's
# phantom settings, two seeds: the protocol at work on data we understand, **not** a
# reproduction. With `data_root` set to your RSNA copy and `preset = None` it uses the paper's
# preset `rsna` (the SupReMix paper, Table 13: ResNet-50 at 520 × 400, batch 128, temperature 1,
# window 5, Beta(2, 8), 200 pretraining epochs and a 100-epoch linear probe); on a GPU, for
# instance:
#
# ```
# papermill notebooks/ablation_components.ipynb out.ipynb -p data_root /data/rsna
# ```

# %% tags=["parameters"]
data_root = None  # your RSNA copy in the official layout; None: the phantom
preset = None  # None: "rsna" (the SupReMix paper, Table 13) with data_root, else "rsna-cpu"
epochs = None  # pretraining epochs; None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = None  # rows to run, by label (e.g. ["SupCon", "SupReMix"]); None: all five
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %% [markdown] tags=["remove-cell"] template="ablation"
# ablation: '"components"'
# datasets: None

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

NAME = "components"
device = notebook_device(device)

# %% [markdown] slot="paper"
# ## What the paper reports
#
# The numbers of the SupReMix paper's Table 9 (RSNA-BAA, months), read from `supremix.paper`, then
# how its rows map onto `TrainConfig`.

# %% generated="ablation"
display(Markdown(f"{ablation_paper_notes(NAME)}\n\n{ABLATIONS[NAME].mapping}"))
ablation_paper_table(NAME)

# %% [markdown] slot="train"
# ## Train every row with every seed
#
# Each run pretrains the encoder with the row's loss, fits the linear probe, and predicts the
# evaluation split with the weights of best validation MAE. The table lists the settings all
# rows share and what each row changes.

# %% generated="ablation"
run = run_ablation(
    NAME,
    None,
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
# Mean and sample standard deviation over seeds, then the SupReMix paper's Table 9's number for the
# same row. `Training mean` predicts the mean training label for every item: a row that does not
# beat it learned nothing from the images.

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
summary = run.summary(notes=f"notebooks/ablation_components, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
