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
# # Discretised labels in the contrastive stage (SupReMix paper, Table 17)
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/discretization.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/discretization.ipynb)
#
# **The question.** A common way to bring classification methods to regression is to bin the
# labels (the SupReMix paper {cite:p}`wu2025supremix`, App. D.4). The SupReMix paper pretrains
# SupReMix on Echo-Net with the ejection fraction rounded to bins of 1 ("original values"), 5, 10
# and 20 % and reports MAE and GM (Table 17): the error grows with the bin. The table does not name
# its method; SupReMix is inferred because its bin-1 row equals SupReMix's Echo-Net MAE.
#
# **How the rows map onto a run.** `TrainConfig.label_bin`: the contrastive loss sees each label
# rounded to the nearest multiple of the bin; the linear probe regresses the raw labels. With
# Echo-Net's window γ = 7 (the SupReMix paper, Table 13), bins of 10 and 20 leave no other label
# inside the window, so those rows lose every Mix-pos as well as label resolution: they are declared
# so (`window_expect`), and every other row's window is checked on the training labels before
# training (`run.windows`). Table 17's column printed "GM" is the MSE (bin 1 equals Table 4's
# SupReMix MSE), so it is compared with this run's MSE, never its GM.
#
# **Protocol.** By default the notebook trains on the Echo-Net phantom (synthetic
# echocardiogram clips whose ejection fraction we set, `supremix.data.phantoms`) with preset
# `echonet-cpu` and the book's phantom settings, two seeds: the protocol at work, **not** a
# reproduction. With `data_root` set to your EchoNet-Dynamic copy and `preset = None` it uses
# the paper's preset `echonet` (R(2+1)D-18 on 112 × 112 clips, batch 64, 200 pretraining
# epochs, a 100-epoch linear probe); on a GPU, for instance:
#
# ```
# papermill notebooks/discretization.ipynb out.ipynb -p data_root /data/EchoNet-Dynamic
# ```

# %% tags=["parameters"]
data_root = None  # your EchoNet-Dynamic copy in the official layout; None: the phantom
preset = None  # None: "echonet" (the SupReMix paper, Table 13) with data_root, else "echonet-cpu"
epochs = None  # pretraining epochs; None: the preset's
probe_epochs = None  # linear-probe epochs; None: the preset's
batch_size = None  # None: the preset's
methods = None  # rows to run, by label (e.g. ["bin size 1", "bin size 20"]); None: all four
seeds = [0, 1]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %% [markdown] tags=["remove-cell"] template="ablation"
# ablation: '"discretization"'
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

NAME = "discretization"
device = notebook_device(device)

# %% [markdown] slot="paper"
# ## What the paper reports
#
# The SupReMix paper's Table 17 (Echo-Net, MAE and GM in %), read from `supremix.paper`.

# %% generated="ablation"
display(Markdown(f"{ablation_paper_notes(NAME)}\n\n{ABLATIONS[NAME].mapping}"))
ablation_paper_table(NAME)

# %% [markdown] slot="train"
# ## Train every bin size with every seed
#
# Each run pretrains SupReMix on the binned labels, fits the linear probe on the raw ones and
# predicts the evaluation split with the weights of best validation MAE.

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
# Mean and sample standard deviation over seeds, then Table 17's number for the same bin;
# `Training mean` predicts the mean training label for every item. Table 17's GM column is on
# the scale of an MSE (see the note above).

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
summary = run.summary(notes=f"notebooks/discretization, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
