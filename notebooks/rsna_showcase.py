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
# # RSNA phantom showcase: do the paper's qualitative claims hold where we know the truth?
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/rsna_showcase.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/rsna_showcase.ipynb)
#
# **Why a phantom.** The SupReMix paper {cite:p}`wu2025supremix` argues for its loss with numbers
# (Table 5: SupReMix has the lowest MSE on RSNA bone age) and with three statements about the
# *shape* of the learned representations:
#
# 1. **Global ordering** (§5.1.1, Fig. 3). SupReMix's features follow the order of the labels,
#    and training on group-wise permuted labels destroys that order; the representation knows
#    that 48 months lies between 12 and 100.
# 2. **Local linearity** (§5.3, Fig. 7). SupReMix's features are smoother than those of a vanilla
#    regressor: an item's nearest neighbour in feature space has a nearby label, measured by the
#    normalised Lipschitz factor distribution (NLFD).
# 3. **SupCon's clusters** (§5.1.1, Fig. 3). SupCon treats each label as a class; its embedding
#    forms clusters that "remain largely unchanged between genuine and permuted labels".
#
# On the real radiographs nobody knows what an ideal representation looks like. On the RSNA
# phantom ([data card](../data_cards/rsna.md)) we do: every image is drawn from its bone age
# by a generative model we wrote, and the label noise that the model adds (a reader's error of
# six months) fixes the **noise floor**, the lowest MAE any predictor can expect. A phantom is
# no reproduction: it cannot confirm the paper's numbers. It can show whether the paper's
# *mechanisms* appear when the answer is known, and it can show them failing.
#
# **What one run measures.** One set of runs answers all three questions, so that the
# comparisons share their seeds, splits and schedule:
#
# * the six methods of Table 5 (Vanilla, SimCLR, SupCon, AdaCon, RnC, SupReMix) with every seed,
#   each contrastive encoder read out by the linear probe (the SupReMix paper, §4.3); the best
#   MAE is placed between the training-mean predictor's (nothing learned) and the noise floor
#   (everything learned);
# * the same six methods trained once more, with the first seed, on **permuted** training labels
#   (all radiographs of 12 months become, say, 48 months; validation and test keep the genuine
#   labels), scored by the *ordinality* of their features: the Spearman correlation between
#   feature distances and genuine label distances over pairs of test items
#   (`supremix.analysis.ordinality_score`; 1 is perfect order). Their genuine-label partners are
#   the first seed's runs above, not trained twice (`supremix.experiments.showcase`);
# * the NLFD of SupReMix against Vanilla with the paper's 100 bootstrap resamples
#   (`supremix.experiments.continuity`);
# * every method's features at two scales, global (ordinality) and local (how far apart the
#   labels of nearest neighbours are), which is what tells clusters from an ordered curve.
#
# The last section states, computed from the numbers, whether each claim holds on this run.
#
# **Protocol.** The recorded run (the book's *Recorded runs* page; `tools/record.py`, study
# `rsna_showcase`) uses preset `rsna-cpu`, the book's phantom settings
# (`supremix.experiments.settings.PHANTOM_SETTINGS`: no augmentation except for SimCLR, whose two
# views differ only by it; learning rate 3e-3) and a larger phantom and longer schedule than the
# RSNA chapter, set by its parameters; every number below states them. These are not the
# paper's settings (ResNet-50 on 520 × 400 radiographs, 200 + 100 epochs, the SupReMix paper
# Table 13). At its defaults the notebook runs the same analyses at the RSNA chapter's scale with
# one seed. With `data_root` set to a copy of RSNA and `preset = None`, it uses the paper's
# preset on a GPU, for instance:
#
# ```
# papermill notebooks/rsna_showcase.ipynb showcase-run.ipynb -p data_root /data/rsna \
#     -p seeds "[0, 1, 2]"
# ```

# %% tags=["parameters"]
data_root = None  # RSNA in its official layout; None: the hand-radiograph phantom
preset = None  # None: "rsna" (the SupReMix paper, Table 13) with data_root, else "rsna-cpu"
epochs = None  # pretraining epochs (Vanilla: training epochs); None: the preset's (book: 12)
probe_epochs = None  # linear-probe epochs; None: the preset's (book: 6)
batch_size = None  # None: the preset's
phantom_n = None  # radiographs in the phantom (10 % test); None: the book's (800)
methods = ["vanilla", "simclr", "supcon", "adacon", "rnc", "supremix"]
permuted = ["vanilla", "simclr", "supcon", "adacon", "rnc", "supremix"]  # also on permuted labels
seeds = [0]  # the linear probe averages all; permuted labels, NLFD and maps use the first
n_boot = 100  # bootstrap resamples of the NLFD Z-gap; the SupReMix paper's §5.3 draws 100
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: one seed, one epoch per stage, a tiny phantom: checks that it runs
results_dir = None  # folder for results.json (a recorded study); None: nowhere
results_path = None  # or the results JSON's own path (supremix.reporting); None: nowhere

# %%
import time
from pathlib import Path

from IPython.display import Markdown, display

from supremix.experiments.continuity import (
    continuity_analysis,
    continuity_facts,
    continuity_figure,
    continuity_table,
)
from supremix.experiments.ordinality import (
    ordered_features,
    ordinality_facts,
    ordinality_figure,
    ordinality_table,
)
from supremix.experiments.settings import RunSettings
from supremix.experiments.showcase import (
    claim_verdicts,
    geometry_table,
    run_showcase,
    showcase_summary,
)
from supremix.experiments.windows import study_window
from supremix.notebook import data_banner, device_banner, glue_facts, select_device
from supremix.phantom_quality import study_quality
from supremix.plots import embedding_grid, true_vs_predicted_grid
from supremix.reporting import write_results

device = select_device(device)
print(device_banner(device))
began = time.perf_counter()

# %% [markdown]
# ## Train every method, then the permuted-label runs
#
# First the Mix-pos window on this run's training labels (the run stops here if the window forms
# no Mix-pos pair or covers the whole label range), then the runs. The table lists the settings
# every run shared; the permuted-label runs differ only in their training labels.

# %%
phantom_size = {} if phantom_n is None else {"phantom_n": phantom_n}
print(study_window("rsna", preset=preset, data_root=data_root, smoke=smoke, overrides=phantom_size))
showcase = run_showcase(
    "rsna",
    methods=methods,
    permuted=permuted,
    seeds=seeds,
    settings=RunSettings.from_parameters(globals()).replace(overrides=phantom_size),
)
study, sweep = showcase.study, showcase.ordinality
config = study.config
schedule = (
    f"{showcase.data_kind} data, preset {study.preset}, {len(study.train_targets)} training "
    f"and {study.targets.size} {study.eval_split} items, {config.epochs} pretraining + "
    f"{config.probe_epochs} probe epochs, {len(study.seeds)} seed(s)"
)
display(Markdown(data_banner(study.data_kind, "RSNA bone age", study.data["root"])))
display(Markdown(f"**This run:** {schedule}."))
study.settings_table()

# %% [markdown]
# ## 1. The linear probe: do the methods separate?
#
# Mean and sample standard deviation over seeds on the test split, beside the SupReMix paper's
# Table 5 (real RSNA, ResNet-50, the paper's schedule: a different experiment, shown for its
# ranking, not its values) and the §5.2 text's MAEs. `Training mean` predicts the mean training
# label for every item: a method that does not beat it learned nothing from the radiographs.

# %%
study.comparison().round(3)

# %%
glue_facts(study.facts(), prefix="probe_")
quality = study_quality(study)

# %% [markdown]
# On this run ({glue:text}`probe_data`, {glue:text}`probe_seeds` seed(s),
# {glue:text}`probe_items` {glue:text}`probe_split` items) the lowest mean MAE is
# {glue:text}`probe_best`'s, {glue:text}`probe_best_value:.3g`. Predicting the training mean for
# every item gives MAE {glue:text}`probe_mean_predictor:.3g`; the methods' MAEs are
# {glue:text}`probe_ratio_lowest:.2f` to {glue:text}`probe_ratio_highest:.2f` times that: at
# these settings they learned {glue:text}`probe_learned` from the radiographs.
# {glue:text}`probe_reference`'s MAE ({glue:text}`probe_reference_value:.3g`) is
# {glue:text}`probe_relation` than {glue:text}`probe_baseline`'s
# ({glue:text}`probe_baseline_value:.3g`); the paired t-test on per-item errors gives p =
# {glue:text}`probe_p:.2g` ({glue:text}`probe_significance`).

# %% [markdown]
# The paired t-tests compare per-item absolute errors (averaged over seeds) of SupReMix and every
# other method, as the SupReMix paper's Fig. 5 does (negative `difference`: SupReMix errs less;
# `***` p < 0.001, `**` p < 0.01, `*` p < 0.05, `ns` otherwise).

# %%
display(study.paired_tests().round(4))
true_vs_predicted_grid(study.all_predictions(), study.targets, label_name="bone age (months)")

# %% [markdown]
# ## 2. Global ordering: training on permuted labels
#
# For each method, the ordinality of the features of its genuine-label and its permuted-label
# model, both against the **genuine** test labels, and the drop between them; `max |Δ feature|`
# is the largest difference between the two models' features (0: the permutation changed
# nothing), and the last two columns each probe's MAE on the genuine test labels (first seed).
# A method that learns order from the labels should lose it when the order is scrambled;
# SupCon's loss sees labels only through equality, which the permutation keeps.

# %%
ordinality = ordinality_table(sweep)
glue_facts(ordinality_facts(ordinality), prefix="ordinality_")
display(ordinality.round(3))
ordinality_figure(ordinality, title="Ordinality of the encoder features (first seed)")

# %% [markdown]
# Training on permuted labels costs {glue:text}`ordinality_most_drop` the most order (a drop of
# {glue:text}`ordinality_most_drop_value:+.2f`) and {glue:text}`ordinality_least_drop` the least
# ({glue:text}`ordinality_least_drop_value:+.2f`); with genuine labels
# {glue:text}`ordinality_most_ordered` keeps the most
# ({glue:text}`ordinality_most_ordered_value:.2f`). Features the permutation left identical:
# {glue:text}`ordinality_unchanged`.

# %% [markdown]
# The SupReMix paper's Fig. 3 as t-SNE maps of the test items, coloured by genuine bone age:
# one row per method, trained on genuine labels (left) and on permuted labels (right).

# %%
embedding_grid(ordered_features(sweep), sweep.targets, label_name="bone age (months)", ncols=2)

# %% [markdown]
# ## 3. Local linearity: the NLFD of SupReMix against Vanilla
#
# For every test item, the label distance to its nearest neighbour in the standardised features
# divided by their feature distance, scaled by √d (the SupReMix paper, eq. (7)); smaller factors
# are smoother. The Z-gap is positive when SupReMix's factors are smaller; over bootstrap
# resamples of the test items the paper correlates it with the gap in Pearson ρ (Fig. 7 B). The
# `paper corr` columns are the SupReMix paper's correlations on real RSNA (§5.3 text and Fig. 7
# caption, which disagree on which dataset has which value), beside this phantom run's.

# %%
continuity = continuity_analysis(study, baseline="Vanilla", method="SupReMix", n_boot=n_boot)
glue_facts(continuity_facts([continuity]), prefix="continuity_")
display(continuity_table([continuity]).round(3))
continuity_figure([continuity])

# %% [markdown]
# {glue:text}`continuity_method`'s factors are smaller on average than
# {glue:text}`continuity_baseline`'s when the Z-gap is above 0 ({glue:text}`continuity_smoother`
# of 1 dataset here). Over {glue:text}`continuity_resamples` bootstrap resamples, Z-gap and ρ gap
# correlate at {glue:text}`continuity_highest_correlation_value:+.2f`; the paper reports a
# positive correlation on real RSNA (the columns `paper corr`).

# %% [markdown]
# ## 4. Global and local order of every method: clusters or a curve?
#
# Clusters placed in arbitrary order keep *local* order (an item's nearest neighbour has a
# nearby label) and lose *global* order (far labels are not far apart); an ordered curve keeps
# both; a representation that learned little keeps neither. Per method (first seed):
# `ordinality` (global, 1 is perfect), `NN label gap` (local: the mean label difference, in
# months, between each test item and its nearest neighbour in the standardised features, the
# error of a one-nearest-neighbour regressor), `NN gap / random` (that gap over the mean label
# difference of random pairs: 1 means no local order) and the NLFD's mean and median. The maps
# are t-SNE of each method's genuine-label features.

# %%
geometry = geometry_table(study)
display(geometry.round(3))
embedding_grid(study.embeddings(), study.targets, label_name="bone age (months)")

# %% [markdown]
# ## Do the paper's qualitative claims hold on this phantom?
#
# Each verdict below is computed from the tables above by
# `supremix.experiments.showcase.claim_verdicts`, whose docstring states the rule. The
# paper's statements are about real radiographs at the paper's schedule; ours are about this
# phantom run, whose settings the first line repeats.

# %%
verdicts = claim_verdicts(ordinality, continuity, geometry)
paper = study.paper_reference()
paper_mae = paper.query("metric == 'MAE'").set_index("method")["value"]
paper_mse = paper.query("metric == 'MSE'").set_index("method")["value"].sort_values()
ours = study.metrics_frame().groupby("variant", sort=False)[["MAE", "MSE"]].mean()
ours_mae, ours_mse = ours["MAE"], ours["MSE"].sort_values()
lines = [
    f"**This run:** {schedule}. Phantom numbers: they do not reproduce the paper.",
    "",
    f"- **The probe.** The best method is {quality.best_method} with MAE "
    f"{quality.best_mae:.2f} months, {quality.of_mean:.2f} × the training-mean predictor's "
    f"({quality.mean_predictor_mae:.2f}) and "
    + (
        f"{quality.of_floor:.2f} × the phantom's noise floor ({quality.noise_floor:.2f})."
        if quality.noise_floor
        else "the noise floor of real data is unknown."
    )
    + " SupReMix's MAE is "
    + f"{ours_mae.get('SupReMix', float('nan')):.2f} and SupCon's "
    + f"{ours_mae.get('SupCon', float('nan')):.2f} here; the SupReMix paper (§5.2 text, real "
    + f"RSNA, its schedule) reports {paper_mae.get('SupReMix', float('nan')):.2f} and "
    + f"{paper_mae.get('SupCon', float('nan')):.2f}.",
    "- **The ranking.** By MSE the SupReMix paper's Table 5 (real RSNA, its schedule) orders the "
    f"methods {', '.join(paper_mse.index)}; this phantom run orders them "
    f"{', '.join(ours_mse.index)}.",
    *[verdict.markdown() for verdict in verdicts],
]
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Results file
#
# With `results_dir` (a recorded study) or `results_path` set, every run's test metrics are
# written (`supremix.reporting`; the permuted-label runs as `"<Method>, permuted labels"`), with
# the tables above and the verdicts in its provenance.

# %%
analyses = {
    "schedule": schedule,
    "quality": quality.as_dict(),
    "ordinality": ordinality.reset_index().to_dict(orient="records"),
    "geometry": geometry.reset_index().to_dict(orient="records"),
    "continuity": continuity_table([continuity]).reset_index().to_dict(orient="records"),
    "verdicts": [
        {"claim": v.claim, "source": v.source, "holds": v.holds, "evidence": v.evidence}
        for v in verdicts
    ],
    "seconds": round(time.perf_counter() - began, 1),
}
summary = showcase_summary(
    showcase,
    notes=f"notebooks/rsna_showcase, {schedule}, smoke={smoke}",
    analyses=analyses,
)
for target in (results_path, None if results_dir is None else Path(results_dir) / "results.json"):
    if target is not None:
        print(write_results(summary, target))
