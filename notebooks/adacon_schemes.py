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
# # AdaCon: training schemes, regression losses, the contrastive weight, CAMUS (AdaCon paper)
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/adacon_schemes.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/adacon_schemes.ipynb)
#
# **The question.** The AdaCon paper {cite:p}`dai2021adacon` (AdaCon) trains its contrastive branch
# together with the regression branch, `L = L_reg + γ_con L_con` (eq. (8), "multi-task"), and checks
# two choices on its two datasets, BMD from hip X-rays and LVEF from EchoNet-Dynamic videos:
#
# * **the training scheme** (Tables V and XII): the N-pair loss, SupCon, the adaptive triplet
#   loss and AdaCon, each trained *two-stage* (contrastive pretraining, then fine-tuning the
# whole network with the regression loss) and *multi-task*. The AdaCon paper finds multi-task better
#   for every loss, and two-stage no better than plain regression;
# * **the regression loss** (Tables III and X): L1, Huber and MSE, each alone and with AdaCon
#   (multi-task). Adding AdaCon helps with every loss;
# * **the contrastive weight** (Table XI, on request): `γ_con` = 0.50, 0.75, 1.00, all "within
#   the same range";
# * **external validation** (Table XIII, on request): the EchoNet-trained models of Table VIII
#   (Ouyang et al.'s, i.e. MSE regression alone, and AdaCon) evaluated, without training, on
#   the 4-chamber sequences of CAMUS, overall and per image quality.
#
# **The losses.** AdaCon is SupCon with an adaptive margin `2 |φ(y_i) - φ(y_a)|` on every
# denominator term, `φ` the empirical CDF of the training labels (eqs. (4)-(6)). The N-pair loss
# (Sohn 2016) treats each distinct label as a class: for an anchor and each positive (another
# item of the same label), `log(1 + Σ_negatives exp(s_in - s_ip))`; unlike SupCon, the other
# positives are not in the denominator (`supremix.losses.npair`). The adaptive triplet loss is
# `[‖z_a - z_p‖² - ‖z_a - z_n‖² + m]₊` over every triplet whose positive is closer to the anchor
# in label than its negative, with a margin growing with the label gap (the AdaCon paper, §III-B and
# App. B). The AdaCon paper does not give the margin of its runs; here it is `4 (D_an - D_ap)` with
# `D = |φ(y_a) - φ(y_b)|`, which for an equal-label positive is App. B's `2 d_an`
# (`supremix.losses.triplet`). Both are tested against direct implementations of these
# equations.
#
# **How the rows map onto a run.** Two-stage is `protocol="finetune"`: `epochs` of contrastive
# pretraining, then `probe_epochs` of fine-tuning encoder and regressor at a tenth of the
# pretraining rate (`probe_lr_factor = 0.1`; AdaCon §IV-B6 fine-tunes from 1e-5 after pretraining at
# 1e-4, and its BMD runs from 1e-3 after 1e-2). Multi-task is `protocol="multitask"` with `γ_con` =
# 0.75 (the AdaCon paper, Table XI's best on EchoNet). Table XII's runs use MSE, the regression loss
# of AdaCon's EchoNet runs; Table X's rows are Vanilla (regression only) and AdaCon multi-task
# with L1, Huber or MSE. Huber's δ is 4 LVEF points, in label units as in the AdaCon paper
# (`TrainConfig.huber_delta`; the engine's regression losses see standardised labels). Table XI's
# rows are AdaCon multi-task with MSE at each `γ_con`. A run several rows share (Table X's "MSE +
# AdaCon" is Table XII's "AdaCon (multi-task)", Table XI's 0.75 row, and the "AdaCon" of Tables VIII
# and XIII) is trained once. Table XIII reads each run's selected weights back from its folder and
# predicts every labelled CAMUS 4-chamber sequence with the EchoNet clip settings (AdaCon: "the same
# parameters and data processing pipeline"); without `camus_root` the CAMUS phantom stands in (the
# EchoNet phantom's generator with CAMUS's label distribution and its three quality classes, noisier
# the poorer the class).
#
# **Protocol.** By default the notebook trains on the EchoNet phantom (`supremix.data.phantoms`:
# synthetic echocardiograms whose ejection fraction we set) with preset `echonet-cpu` and the
# book's phantom settings (`supremix.studies.PHANTOM_SETTINGS`: 160 videos of 8 frames at 24 ×
# 24, 8 epochs, 4 fine-tuning epochs, no augmentation), one seed: 13 runs in about a minute on
# a laptop CPU. Without augmentation each item is one view, and the positives of SupCon, AdaCon,
# N-pair and the triplet loss are other items of the same whole-number EF (the preset's label
# bin of 1); the AdaCon paper pairs two clips of each video. This shows the schemes at work on data
# whose answer we know; it is **not** a reproduction. With `data_root` set to your
# EchoNet-Dynamic copy and `preset = None`, it uses AdaCon's own recipe, preset
# `echonet-adacon` (AdaCon §IV-B: R(2+1)D-18 on clips of 32 frames, SGD with momentum 0.9 at
# lr 1e-4 for 45 epochs, the rate divided by 10 every 15, batch 20, MSE): these are AdaCon's
# tables, so its recipe is the default; `preset = "echonet"` gives the SupReMix paper's
# settings (Table 13) instead.
#
# **Decided here, and why.** AdaCon's loss runs at its code's scale s = 150 (`temperature` =
# 1/150) in every AdaCon row: `γ_con` = 0.75 was tuned at that scale, and at s = 1 the
# contrastive term would be about 150 times weaker against the MSE. AdaCon starts from
# Kinetics-400 weights; `kinetics = True` loads torchvision's `R2Plus1D_18_Weights.
# KINETICS400_V1` (a download, the paper-size encoder only), off by default so that the
# notebook runs offline. The two-stage rows fine-tune at a tenth of the pretraining rate
# under every preset, as AdaCon does on both of its datasets; with AdaCon's preset and its
# epochs they also follow AdaCon's two-stage schedule (§IV-B6: 25 epochs of pretraining and 25
# of fine-tuning, each divided by 10 at epochs 10 and 20), not the 45-epoch schedule of its
# multi-task runs; an `epochs` or `probe_epochs` given here replaces it. Table XI's 0.75 row
# is the run of Table X's "MSE + AdaCon" (its numbers in the paper are the same too). On a
# GPU, for instance:
#
# ```
# papermill notebooks/adacon_schemes.ipynb out.ipynb -p data_root /data/echonet -p seeds "[0, 1, 2]"
# ```

# %% tags=["parameters"]
data_root = None  # your EchoNet-Dynamic copy in the official layout; None: the phantom
preset = None  # None: "echonet-adacon" (AdaCon §IV-B) with data_root, else "echonet-cpu"
epochs = None  # Vanilla and multi-task: training epochs; two-stage: pretraining; None: preset's
probe_epochs = None  # two-stage: fine-tuning epochs; None: the preset's
batch_size = None  # None: the preset's
methods = None  # rows of these training methods only, some of "vanilla", "npair", "supcon",
# "triplet", "adacon" (e.g. ["vanilla", "adacon"]); None: every row
tables = ["Table X", "Table XII"]  # AdaCon's tables to run: also "Table VIII", "Table XI",
# "Table XIII" (CAMUS, evaluated with Table VIII's models)
camus_root = None  # your CAMUS copy (2019 or 2023 layout) for Table XIII; None: the phantom
# (Table XIII needs both data_root and camus_root, or neither: real and phantom never mix)
kinetics = False  # True: Kinetics-400 weights for R(2+1)D-18 (AdaCon's start; downloads them)
seeds = [0]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
from IPython.display import Markdown, display

from supremix.experiments.adacon_rows import ARMS
from supremix.experiments.adacon_schemes import (
    BMD_TABLES,
    adacon_schemes_figure,
    paper_reference,
    run_adacon_schemes,
)
from supremix.notebook import data_banner, glue_facts, notebook_settings
from supremix.reporting import write_results

settings = notebook_settings(globals())

# %% [markdown]
# ## The BMD tables: references only
#
# The AdaCon paper's Tables III and V report the same two ablations on its in-house BMD dataset (hip
# X-rays of Queen Mary Hospital, BMD in g/cm²; Huber's δ = 0.05 g/cm²), which is not public:
# nothing here can run them. Their numbers, read from `supremix.paper`, are shown as printed
# ("Ours" is AdaCon; R² in percent).

# %%
for bmd_table in BMD_TABLES:
    display(paper_reference(bmd_table))

# %% [markdown]
# ## Train every row
#
# Each row trains with every seed and predicts the evaluation split with the weights of best
# validation MAE. The table lists the settings every run shared and what each run changes.

# %%
result = run_adacon_schemes(
    tables=tables,
    methods=methods,
    seeds=seeds,
    settings=settings,
    camus_root=camus_root,
    kinetics=kinetics,
)
display(Markdown(data_banner(result.sweep.data_kind, "EchoNet-Dynamic", result.sweep.data["root"])))
result.sweep.settings_table()

# %% [markdown]
# ## This run beside AdaCon paper
#
# For each EchoNet table: the mean and sample standard deviation over seeds of MAE, RMSE (LVEF
# points) and R², then the AdaCon paper's number for the same row. The AdaCon paper prints R² in
# percent; so does every table here, this run's included (`R2 (%)`). `Training mean` predicts the
# mean training label for every item: a row that does not beat it learned nothing from the videos.
# The second table compares the two arms of each group (without and with AdaCon; two-stage and
# multi-task): their MAEs, the difference (second minus first: negative when the second errs less),
# a paired t-test on the per-item absolute errors (`***` p < 0.001, `**` p < 0.01, `*` p < 0.05,
# `ns` otherwise) and the paper's difference.

# %%
for table in result.tables:
    display(Markdown(f"### The AdaCon paper, {table}"))
    display(result.beside_paper(table).round(3))
    if table in ARMS:  # Tables XI and XIII have no pair of arms to compare
        display(result.arms(table).round(3))

# %%
glue_facts(result.facts())
result.findings()

# %% [markdown]
# What each table run measured: the data its rows were evaluated on and how many items (Table
# XIII: the models trained on EchoNet predict every labelled CAMUS 4-chamber sequence, real or
# phantom as the EchoNet data were; there `Training mean` predicts the mean EchoNet training
# label). For a table that compares two arms (without and with AdaCon; two-stage and
# multi-task): the number of groups, in how many the second arm had the lower mean MAE on this
# run, in how many of those the paired t-test gave p < 0.05, and in how many the second arm
# had the lower MAE in the AdaCon paper. This run trained {glue:text}`seeds` seed(s) on
# {glue:text}`data`: with one seed there is no spread over seeds to judge differences by, and
# phantom numbers do not reproduce the paper.

# %% [markdown]
# AdaCon states its relative improvements in the text only (`supremix.paper.paper_claims`):
# over a regression loss alone, 0.7-5.9 % in MAE on EchoNet (Table X's text) and 5.3-11.1 % on
# BMD (Table III's). The arms table above gives this run's differences to set beside them.

# %%
from supremix.paper import paper_claims

paper_claims(paper="adacon").drop(columns=["paper", "quote"])

# %% [markdown]
# The figure shows the MAE of every row: this run above (bars: mean over seeds, whiskers: their
# standard deviation; dashed: MSE regression alone; dotted: the training mean), the paper below,
# each on its own scale.

# %%
adacon_schemes_figure(result)

# %% [markdown]
# ## Results file
#
# With `results_path` set, the summary (per-seed values, means, standard deviations, the
# settings and whether the data were real or a phantom) is written for the book's results page.

# %%
summary = result.summary(notes=f"notebooks/adacon_schemes, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
