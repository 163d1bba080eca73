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
# # STS-B-DIR: text similarity with a BiLSTM
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/stsb.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/stsb.ipynb)
#
# **The dataset.** STS-B-DIR (Yang et al. 2021): sentence pairs of GLUE's STS-B with a
# similarity score from 0 to 5, split into an imbalanced training set of 5,249 pairs and
# balanced validation and test sets of 1,000 pairs each (Mixup Your Own Pairs {cite:p}`wu2023mixup`
# Table 12, bin size 0.1) ([data card](../data_cards/stsb.md)). It is the one text dataset of Mixup
# Your Own Pairs (§4, Table 2).
#
# **The model.** The BiLSTM + GloVe baseline of the benchmark: NLTK tokens, 300-d GloVe vectors
# (fixed), one bidirectional LSTM shared by both sentences, max pooling, and the pair feature
# `[u, v, |u - v|, u * v]`; the contrastive losses act on its projection, then a linear probe
# regresses the score (§4, Table 13: temperature 1.0, window γ = 1.0, batch 128, Beta(2, 8),
# projection to 128). Text is never augmented (§4), so every item is its own single view.
# **GloVe** (`glove.840B.300d.txt`, 5.6 GB) must be supplied by you (put it in the benchmark's
# `glove/` folder or pass `glove`); without it the encoder learns its word embeddings from
# scratch and every number below is labelled **not the paper's embeddings**.
#
# **Where the data come from.** With `data_root`, or with `$SUPREMIX_DATA` holding the
# benchmark's `glue_data/STS-B/{train,dev,test}_new.tsv` (the book's build sets it), this
# notebook runs on the **real splits**; otherwise on the text phantom, whose score is
# five times the share of word positions at which the two sentences agree.
#
# **Methods.** Vanilla, SupCon, supervised SimCSE and SupReMix, the rows of Table 2.
# Supervised SimCSE is adapted as App. C.1 says: scores above 2 are positives. Here, as for
# every loss of the book, it acts on the pair embedding, where it is SupCon on the two sides
# of the threshold (`supremix.losses.simcse`); App. C.1 can also be read as SimCSE between the
# two sentences of a pair, which this notebook does not run.
#
# **With and without the mixtures.** The authors' published STS-B script never applies
# SupReMix's mixtures (Mix-neg and Mix-pos). So SupReMix is run twice: as the paper describes
# it, and with `mix_neg=False, mix_pos=False` (the distance weights kept), which is what that
# script computes.

# %% tags=["parameters"]
data_root = (
    None  # folder with the STS-B-DIR TSVs; None: $SUPREMIX_DATA if it holds them, else the phantom
)
glove = (
    "auto"  # GloVe text file; "auto": <benchmark>/glove/ when it has one; None: learn from scratch
)
preset = (
    "stsb-cpu"  # "stsb-cpu": small BiLSTM for CPUs; "stsb": Table 13 with the benchmark's BiLSTM
)
epochs = None  # contrastive pretraining epochs (Vanilla: training epochs); None: the book's 12
probe_epochs = None  # linear-probe epochs; None: the book's 6 (preset "stsb": 100)
batch_size = None  # None: the preset's
methods = ["vanilla", "supcon", "simcse", "supremix"]
seeds = [0]
without_mixtures = True  # also run SupReMix without Mix-neg and Mix-pos (the published script)
beta_ablation = True  # Table 11's STS-B column: SupReMix with three Beta distributions
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage: checks that the notebook runs
results_dir = None  # folder to write results.json in (metrics per method, settings); None: nowhere
results_path = None  # or the results JSON's own path (supremix.reporting); None: nowhere

# %%
import math
import time
from pathlib import Path

from IPython.display import Markdown, display

from supremix.data import get_dataset
from supremix.data.stsb import NOT_PAPER_EMBEDDINGS, real_stsb_root
from supremix.experiments.ablations import ablation_paper_table, run_ablation
from supremix.experiments.settings import RunSettings
from supremix.notebook import data_banner, glue_facts, notebook_device
from supremix.plots import true_vs_predicted_grid
from supremix.reporting import summarise_runs, write_results
from supremix.studies import compare_methods, paper_coverage, side_by_side

device = notebook_device(device)
overrides = {"dataset_options": {"glove": None if glove is None else str(glove)}}
settings = RunSettings.from_parameters(globals()).replace(data_root=real_stsb_root(data_root))

# %% [markdown]
# ## Table 2's methods, every seed

# %%
began = time.perf_counter()
study = compare_methods("stsb", methods=methods, seeds=seeds, settings=settings)
seconds = {"methods": time.perf_counter() - began}
train = get_dataset("stsb", study.data["root"], "train", **study.config.dataset_options)
embeddings = train.embedding_source
paper_embeddings = embeddings != NOT_PAPER_EMBEDDINGS and study.data_kind == "real"
display(Markdown(data_banner(study.data_kind, "STS-B-DIR", study.data["root"])))
glue_facts(
    {
        "embeddings": embeddings,
        "glove_coverage": train.glove_coverage or 0.0,
        "vocabulary": len(train.vocabulary),
    }
)
study.settings_table()

# %% [markdown]
# **Word embeddings:** {glue:text}`embeddings`. GloVe has vectors for
# {glue:text}`glove_coverage:.0%` of the words of the vocabulary, {glue:text}`vocabulary:,`
# tokens from the three splits (0 % when the embeddings are learned from scratch).

# %% [markdown]
# ## SupReMix without the mixtures
#
# The same settings and seeds, SupReMix's loss with Mix-neg and Mix-pos switched off (real
# positives and negatives with the distance weights), as the authors' STS-B script computes.

# %%
label = "this run" + ("" if paper_embeddings else f" ({NOT_PAPER_EMBEDDINGS})")
studies = {label: study}
if without_mixtures:
    began = time.perf_counter()
    unmixed = compare_methods(
        "stsb",
        methods=["supremix"],
        seeds=seeds,
        settings=settings,
        overrides={**overrides, "mix_neg": False, "mix_pos": False},
    )
    seconds["without mixtures"] = time.perf_counter() - began
    studies["SupReMix without mixtures"] = unmixed
    display(unmixed.metrics_frame().round(3))

# %% [markdown]
# ## Metrics beside Table 2
#
# Means (and sample standard deviations) over seeds on the test split. The first column is
# every method of this run (labelled "not the paper's embeddings" when GloVe was not used);
# `SupReMix without mixtures` is SupReMix with Mix-neg and Mix-pos off; `paper (Mixup Your Own Pairs
# Table 2)` is Mixup Your Own Pairs Table 2 (real data, the paper's GloVe and schedule). First,
# which methods the paper's table reports each metric for (`-`: none; `no source`: none reports it).

# %%
display(paper_coverage("stsb", methods))
side_by_side(studies, metrics=("MAE", "MSE", "rho")).round(3)

# %%
glue_facts(study.facts())
display(study.comparison(metrics=("MAE", "MSE", "rho")).round(3))

# %% [markdown]
# On this run ({glue:text}`data`, {glue:text}`seeds` seed(s), {glue:text}`items`
# {glue:text}`split` items) the lowest mean MAE is {glue:text}`best`'s,
# {glue:text}`best_value:.3g`. Predicting the training mean for every item gives MAE
# {glue:text}`mean_predictor:.3g`; the methods' MAEs are {glue:text}`ratio_lowest:.2f` to
# {glue:text}`ratio_highest:.2f` times that: at these settings they learned
# {glue:text}`learned` from the inputs. {glue:text}`reference`'s MAE
# ({glue:text}`reference_value:.3g`) is {glue:text}`relation` than {glue:text}`baseline`'s
# ({glue:text}`baseline_value:.3g`); the paired t-test on per-item errors gives p =
# {glue:text}`p:.2g` ({glue:text}`significance`). Where the data banner above says phantom,
# these numbers do not reproduce the paper.

# %% [markdown]
# ## True versus predicted

# %%
predictions = study.all_predictions()
if without_mixtures:
    predictions["SupReMix without mixtures"] = unmixed.predictions("supremix")
true_vs_predicted_grid(predictions, study.targets, label_name="similarity score")

# %% [markdown]
# ## Table 11, STS-B column: the Beta distribution of Mix-neg
#
# SupReMix with λ1 ~ Beta(2, 8), Beta(8, 2) and Beta(5, 5); Mixup Your Own Pairs Table 11
# reports MSE and ρ for STS-B-DIR.

# %%
ablation = None
if beta_ablation:
    display(ablation_paper_table("beta_stsb"))
    began = time.perf_counter()
    ablation = run_ablation(
        "beta_stsb",
        "stsb",
        seeds=seeds,
        preset=preset,
        epochs=epochs,
        probe_epochs=probe_epochs,
        data_root=settings.data_root,
        device=device,
        smoke=smoke,
        overrides=overrides,
    )
    seconds["beta ablation"] = time.perf_counter() - began
    display(ablation.beside_paper().round(3))

# %% [markdown]
# ## Results file
#
# With `results_dir` set, `results.json` there holds every method's metrics per seed (SupReMix
# without mixtures as `SupReMix (without mixtures)`, the Beta rows as `SupReMix Beta(a,b)`)
# and the settings.

# %%
records = study.records()
if without_mixtures:
    records += unmixed.records(" (without mixtures)")
if ablation is not None:
    records += [
        {
            "method": f"SupReMix {run.label}",
            "seed": run.seed,
            "metrics": {k: v for k, v in run.metrics.items() if math.isfinite(v)},
        }
        for run in ablation.sweeps["stsb"].runs
    ]
summary = summarise_runs(
    records,
    data_kind=study.data_kind,
    dataset="stsb",
    notes=(
        f"notebooks/stsb, preset {study.preset}, {study.config.epochs}+"
        f"{study.config.probe_epochs} epochs, smoke={smoke}; embeddings: {embeddings}"
    ),
    provenance={
        "device": device,
        "preset": study.preset,
        "settings": study.config.to_dict(),
        "embeddings": embeddings,
        "paper_embeddings": paper_embeddings,
        "seconds": seconds,
    },
)
for target in (results_path, None if results_dir is None else Path(results_dir) / "results.json"):
    if target is not None:
        print(write_results(summary, target))
