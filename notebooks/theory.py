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
# # Theory: the SupReMix loss term by term, its theorems, and the published code's bugs
#
# [![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/theory.ipynb)
# [![Kaggle](../book/images/kaggle-badge.svg)](https://kaggle.com/kernels/welcome?src=https://raw.githubusercontent.com/supremix/supremix/main/notebooks/theory.ipynb)
#
# The SupReMix paper {cite:p}`wu2025supremix` (§3) defines its loss from three ingredients: real
# pairs, mixtures made hard on purpose (Mix-neg: the anchor mixed with a negative; Mix-pos: two
# negatives on either side of the anchor mixed to the anchor's label) and distance weights. For an
# anchor $i$ with positives $P_i$ and terms $A_i$ (every other view, its Mix-neg and its Mix-pos),
# each term
# $a$ standing for a label $y(a)$,
#
# $$
# \mathcal{L}_i = -\frac{1}{|P_i|} \sum_{p \in P_i}
# \log \frac{\exp(s_{ip}/t)}{\sum_{a \in A_i} w_{ia} \exp(s_{ia}/t)},
# \qquad w_{ia} = 1 + |y_i - y(a)|,
# $$ (theory-loss)
#
# averaged over the anchors that have a positive: the published code's reduction and this
# project's default. The page {doc}`../book/loss_spec` gives every choice behind
# {eq}`theory-loss`, the paper's eq. (6) as printed (a sum over labels, `reduction="label"`)
# and the option that selects each reading. The paper's §3.4 states three results, proved in
# App. A: Theorem 3.1 (the weights push far negatives harder than near ones), Lemma 3.2 (a
# lower bound $\mathcal{L}^*$) and Theorem 3.3 (the bound is the infimum, approached by
# globally ordered, locally linear embeddings).
#
# This notebook takes the loss apart on a toy batch, checks the three results numerically,
# settles which temperature limit the proof of Theorem 3.3 really needs, and measures what the
# two bugs of the authors' published code do: first on the toy batch, then by training a
# small encoder on a phantom with the correct loss and with each bug.
# All the computations live in `supremix.analysis.loss_anatomy`, `supremix.analysis.bug_study`
# and `supremix.losses.published`; this notebook only chooses the inputs.

# %% tags=["parameters"]
data_root = None  # UK Biobank in its official layout; None: the brain-MRI phantom
preset = "ukb-cpu"  # brain age in years; temperature 0.5, window 3, bin 1 (SupReMix Table 13)
phantom_n = 300  # subjects in the phantom: 80 % train, 10 % validation, 10 % test
dataset_options = {"spacing": None, "crop": None, "size": 16}  # 16^3 volumes for CPU speed
epochs = 25  # contrastive training epochs of every run of the bug study
batch_size = 64
methods = ["correct", "separate max shift", "misaligned weights", "published (both bugs)"]
seeds = [0, 1, 2]
device = "auto"  # "cuda" when a GPU is visible, else "cpu"
smoke = False  # True: two epochs, one seed and the preset's small phantom
results_path = None  # where to write the results JSON (supremix.reporting); None: nowhere

# %%
import pandas as pd
import torch
from IPython.display import Markdown, display

from supremix.analysis.bug_study import (
    LOSS_VARIANTS,
    compare_loss_variants,
    encode,
    load_study_data,
    train_encoder,
)
from supremix.analysis.loss_anatomy import (
    bug_effects,
    lemma_bound,
    ordered_line_embedding,
    pair_table,
    table_loss,
    term_gradients,
    theorem_3_3_table,
)
from supremix.analysis.theory_plots import (
    plot_anchor_terms,
    plot_anchor_weights,
    plot_gap_vs_temperature,
    plot_term_gradients,
    plot_variant_comparison,
)
from supremix.losses import sample_beta, supremix_loss
from supremix.losses.published import published_supremix_loss
from supremix.notebook import data_banner, device_banner, glue, select_device
from supremix.reporting import summarise_runs, write_results
from supremix.train import get_preset

device = select_device(device)
if smoke:
    epochs, seeds, phantom_n = 2, seeds[:1], 96  # the preset's own small phantom
print(device_banner(device))


def beta_draws(n: int, seed: int) -> torch.Tensor:
    """Mix-neg coefficients lambda ~ Beta(2, 8) for an n-view batch, reproducibly."""
    generator = torch.Generator().manual_seed(seed)
    return sample_beta((n, n), 2.0, 8.0, generator=generator, dtype=torch.float64)


# %% [markdown]
# ## 1. A toy batch, term by term
#
# Five samples with labels 1, 2, 3, 4 and 6, two views each (10 rows), embedded in the plane
# at an angle that grows with the label. Mix-pos window $\gamma = 2.5$ label units, temperature
# 0.5. For every anchor `pair_table` lists each term of its row: the 9 other real views
# (positives when they share its label), one Mix-neg per view $k$ of another label,
#
# $$
# m^-_{ik} = \lambda z_i + (1 - \lambda) z_k, \quad \lambda \sim \mathrm{Beta}(2, 8), \quad
# y(m^-_{ik}) = \lambda y_i + (1 - \lambda) y_k,
# $$ (theory-mix-neg)
#
# one Mix-pos per pair $j$, $k$ inside the window,
#
# $$
# m^+_{ijk} = \lambda z_j + (1 - \lambda) z_k, \quad \lambda = \frac{y_k - y_i}{y_k - y_j}, \quad
# y_i - \gamma \le y_j < y_i < y_k \le y_i + \gamma,
# $$ (theory-mix-pos)
#
# whose label is $y_i$, and the weight of {eq}`theory-loss` each term carries in the
# denominator (positives: 1). The window is inclusive as the paper's eq. (4) prints it; the
# published code's strict window ($<$ on both sides) is `window_edges="strict"`, and on this
# batch's whole-number labels the two agree for $\gamma = 2.5$. The column `published_weight`
# is what the published code uses instead of the weight (section 5).

# %%
toy_labels = torch.tensor([1.0, 2.0, 3.0, 4.0, 6.0], dtype=torch.float64).repeat(2)
jitter = 0.06 * torch.randn(10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
toy_angles = 0.35 * toy_labels + jitter
toy_features = torch.stack([toy_angles.cos(), toy_angles.sin()], dim=1)
toy_lambdas = beta_draws(10, seed=0)
toy = {"window": 2.5, "neg_lambdas": toy_lambdas}
toy_t = 0.5
table = pair_table(toy_labels, features=toy_features, temperature=toy_t, **toy)
table.groupby(["anchor", "anchor_label", "kind"]).size().unstack(fill_value=0)

# %% [markdown]
# The anchors at the ends of the label range (1 and 6) have no Mix-pos: nothing lies on both
# sides of them within the window. Anchor 2 (label 3) has all four kinds of terms; its row:

# %%
anchor = 2
columns = ["kind", "first", "second", "lam", "label", "weight", "published_weight", "logit"]
table.loc[table["anchor"] == anchor, columns].round(3)

# %%
check = supremix_loss(toy_features, toy_labels, temperature=toy_t, **toy).item()
print(f"loss from the table's terms: {table_loss(table, temperature=toy_t):.6f}")
print(f"supremix_loss on the batch:  {check:.6f}")

# %% [markdown]
# Left: the anchor's terms on the unit circle, marker area proportional to the weight. A
# Mix-neg sits on the chord from the anchor to a negative; `lam` weights the anchor, so with
# `lam ~ Beta(2, 8)` (mean 0.2) most Mix-negs lie near their negative and the few with a large
# `lam` near the anchor (the hard ones). A Mix-pos sits on the chord between a view below and a
# view above the anchor's label. Mixtures of unit vectors are shorter than 1: the published
# code does not re-normalise them, nor does the loss by default. Right: the weight of each
# mixture column, correct and as the published code assigns it (section 5).

# %%
figure = plot_anchor_terms(table, toy_features, anchor)
figure

# %%
plot_anchor_weights(table, anchor)

# %% [markdown]
# ## 2. Theorem 3.1: distance magnifying
#
# For a negative $a$ of anchor $i$, with $D_i$ the weighted denominator of {eq}`theory-loss`
# (App. A.1),
#
# $$
# \frac{\partial \mathcal{L}_i}{\partial s_{ia}} = \frac{w_{ia} \exp(s_{ia}/t)}{t\, D_i},
# \qquad
# \frac{\partial \mathcal{L}_i / \partial s_{i1}}{\partial \mathcal{L}_i / \partial s_{i2}}
# = \frac{w_{i1}}{w_{i2}} \exp\Big(\frac{s_{i1} - s_{i2}}{t}\Big),
# $$ (theory-gradient-ratio)
#
# so the weights multiply the ratio by $w_{i1} / w_{i2} > 1$ when negative 1 is the farther in
# label. `term_gradients` differentiates each anchor's loss with respect to its similarities
# by autograd, with the weights and with all weights set to 1.

# %%
gradients = term_gradients(table, temperature=toy_t)
plot_term_gradients(gradients, anchor)

# %%
negatives = gradients[(gradients["anchor"] == anchor) & (gradients["kind"] == "real negative")]
near = negatives.loc[negatives["label"] == 2.0].iloc[0]
far = negatives.loc[negatives["label"] == 6.0].iloc[0]
with_w = far["grad"] / near["grad"]
without_w = far["grad_unweighted"] / near["grad_unweighted"]
assert far["weight"] > near["weight"] and with_w > without_w  # the sentence below, checked
assert abs(with_w / without_w / (far["weight"] / near["weight"]) - 1) < 1e-9
glue("theorem31_anchor", anchor)
glue("theorem31_far_weight", far["weight"])
glue("theorem31_near_weight", near["weight"])
glue("theorem31_without", without_w)
glue("theorem31_with", with_w)
glue("theorem31_growth", with_w / without_w)

# %% [markdown]
# For anchor {glue:text}`theorem31_anchor` (label 3), the far negative (label 6, weight
# {glue:text}`theorem31_far_weight:g`) gets {glue:text}`theorem31_without:.3f` times the push of
# the near one (label 2, weight {glue:text}`theorem31_near_weight:g`) without weights, and
# {glue:text}`theorem31_with:.3f` times with them. The ratio grows by
# {glue:text}`theorem31_growth:.4f`, the ratio of the two weights, as Theorem 3.1 says (both
# asserted above).

# %% [markdown]
# ## 3. Lemma 3.2: the lower bound
#
# In the per-anchor-mean form {eq}`theory-loss`, every positive of anchor $i$ is also a term
# of its denominator with weight 1 and every other weight is at least 1, so by Jensen's
# inequality
#
# $$
# \mathcal{L}_i \ge \log |P_i|, \qquad
# \mathcal{L} \ge \mathcal{L}^* = \operatorname{mean}_{i:\, |P_i| > 0} \log |P_i| .
# $$ (theory-lower-bound)
#
# Equality needs every positive at the same similarity and the other terms to contribute
# nothing ({doc}`../book/loss_spec` gives the bound of eq. (6) as printed). Check on random
# batches (eight samples with random labels, one or two views, three temperatures, eight
# draws each): the smallest gap $\mathcal{L} - \mathcal{L}^*$ must not be negative.

# %%
rows = []
for t in (0.05, 0.5, 2.0):
    for views in (1, 2):
        gaps = []
        for draw in range(8):
            g = torch.Generator().manual_seed(draw)
            labels = torch.randint(0, 6, (8,), generator=g).double().repeat(views)
            x = torch.randn(len(labels), 4, generator=g, dtype=torch.float64)
            lam = beta_draws(len(labels), draw)
            loss = supremix_loss(x, labels, temperature=t, window=2, neg_lambdas=lam)
            gaps.append(loss.item() - lemma_bound(labels, window=2))
        rows.append({"temperature": t, "views": views, "min gap": min(gaps), "max gap": max(gaps)})
lemma_check = pd.DataFrame(rows)
assert (lemma_check["min gap"] >= -1e-9).all()
lemma_check.round(4)

# %% [markdown]
# ## 4. Theorem 3.3: the bound is the infimum, as t -> 0+
#
# The proof (App. A.3) puts the unnormalised embeddings $z^*_m$ on a line with positions
# proportional to the labels, so that once mixed and normalised every Mix-pos of an anchor
# points exactly where the anchor points; every positive then has similarity 1 and every
# negative at most $\cos\theta_0 < 1$. Its eq. (12) bounds the gap by
#
# $$
# \mathcal{L} - \mathcal{L}^* \le
# \log\Big(1 + \frac{W}{|P|} \exp\Big(\frac{\cos\theta_0 - 1}{t}\Big)\Big)
# $$ (theory-gap-bound)
#
# and concludes "as t -> infinity, the log terms converge to 0". Below: that construction (six
# labels, two views, window 2), the gap $\mathcal{L} - \mathcal{L}^*$ of
# {eq}`theory-lower-bound` over twelve temperatures, with mixtures re-normalised as the proof
# builds them, with mixtures as the published code builds them (normalise, then mix), and with
# the same points in shuffled label order.

# %%
line_labels = torch.arange(6, dtype=torch.float64).repeat(2)
line_features = ordered_line_embedding(line_labels)
line_lambdas = beta_draws(12, seed=1)
temperatures = [100.0, 10.0, 3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4]
line = {"window": 2, "neg_lambdas": line_lambdas}
shuffle = torch.tensor([3, 0, 5, 1, 4, 2, 9, 6, 11, 7, 10, 8])
proof_construction = theorem_3_3_table(line_features, line_labels, temperatures, **line)
published_mixtures = theorem_3_3_table(
    line_features, line_labels, temperatures, renormalize_mixtures=False, **line
)
shuffled_order = theorem_3_3_table(line_features[shuffle], line_labels, temperatures, **line)
plot_gap_vs_temperature(
    {
        "ordered, mixtures re-normalised (App. A.3)": proof_construction,
        "ordered, published mixtures": published_mixtures,
        "shuffled order": shuffled_order,
    }
)

# %%
proof_construction.round(6)

# %%
high, low = proof_construction.iloc[0], proof_construction.iloc[-1]
# the properties stated below, checked on these numbers
assert (proof_construction["gap"].diff().iloc[1:] <= 1e-12).all()  # shrinks as t decreases
assert (proof_construction["gap"] <= proof_construction["proof_bound"] + 1e-12).all()
assert published_mixtures["gap"].iloc[-1] > published_mixtures["gap"].iloc[-4] > 0
glue("theorem33_cos", high["cos_theta0"])
for end, row in (("high", high), ("low", low)):
    glue(f"theorem33_{end}_t", row["temperature"])
    glue(f"theorem33_{end}_term", row["vanishing_term"])
    glue(f"theorem33_{end}_gap", row["gap"])
glue("theorem33_published_gap", published_mixtures["gap"].iloc[-1])
glue("theorem33_shuffled_gap", shuffled_order["gap"].iloc[-1])

# %% [markdown]
# **The limit the proof needs is $t \to 0^+$, not $t \to \infty$.** Here
# $\cos\theta_0$ = {glue:text}`theorem33_cos:.4f`. At $t$ = {glue:text}`theorem33_high_t:g`
# the proof's term $\exp((\cos\theta_0 - 1)/t)$ is {glue:text}`theorem33_high_term:.4f` and
# the gap $\mathcal{L} - \mathcal{L}^*$ is {glue:text}`theorem33_high_gap:.4f`: as
# $t \to \infty$ the term tends to 1 and the gap to $\log(1 + W/|P|)$, not to 0. At $t$ =
# {glue:text}`theorem33_low_t:g` the term is {glue:text}`theorem33_low_term:.3g` and the gap
# {glue:text}`theorem33_low_gap:.1e` (zero to float64 rounding). Since
# $\cos\theta_0 - 1 < 0$, the term vanishes as $t \to 0^+$: the proof's "t -> infinity" (and
# "for all tau > tau_0") should read $t \to 0^+$ ($\tau < \tau_0$). The gap shrinks
# monotonically as $t$ decreases and stays below the proof's bound at every $t$ (both asserted
# above).
#
# Two further conditions matter. With the published code's mixtures (normalised first, never
# re-normalised) the Mix-pos are shorter than the anchor, and the gap at $t$ =
# {glue:text}`theorem33_low_t:g` is {glue:text}`theorem33_published_gap:.3g`, growing without
# bound as $t \to 0^+$. With the same points in shuffled order it is
# {glue:text}`theorem33_shuffled_gap:.3g`.

# %% [markdown]
# ## 5. The published code's two bugs, on the toy batch
#
# `supremix.losses.published` re-implements what the authors' scripts compute, each bug
# switchable (its docstring gives our reading of the scripts and how sure we are):
#
# 1. **Separate max shifts.** The real block of a row is shifted by its maximum (the anchor's
#    self-similarity $1/t$), the mixture block by its own maximum, and the two share one
#    denominator. That multiplies every mixture term of anchor $i$ (Mix-neg and Mix-pos,
#    numerator and denominator) by $e^{\delta_i}$, $\delta_i = M_{\text{real}} -
#    M_{\text{mix}}$. Mixtures of unit vectors are no longer than 1, so without padding
#    $\delta_i \ge 0$ and the mixtures are up-weighted. But the compression pads every anchor
#    with fewer mixtures than the batch's maximum with columns whose vector is
#    $(-1, \dots, -1)$, and these enter $M_{\text{mix}}$ with similarity
#    $-\sum_d z_{id} / t$, which can exceed $1/t$: then $\delta_i < 0$ and the mixtures are
#    down-weighted. Either way the weighting is silent and differs from anchor to anchor.
# 2. **Misaligned weights.** A column-compression step sorts each anchor's mixture columns by
#    kind (Mix-negs, then Mix-pos) but its mixture labels by value, so the `c`-th column is
#    weighted with the `c`-th smallest label: the Mix-pos, last, receive the largest labels and
#    weights `> 1`, although a positive has weight 1.
#
# With both switched off the module equals `supremix_loss` with the published code's strict
# window, `window_edges="strict"` (tested in `tests/losses/test_published.py`). Per anchor of
# the toy batch: `delta`, the mean Mix-pos weight correct and misaligned, and the share of the
# denominator carried by mixtures.

# %%
bug_effects(toy_features, toy_labels, temperature=toy_t, **toy).round(3)

# %%
toy_losses = {
    name: published_supremix_loss(
        toy_features,
        toy_labels,
        temperature=toy_t,
        separate_max_shift=bugs.separate_max_shift,
        misaligned_weights=bugs.misaligned_weights,
        **toy,
    ).item()
    for name, bugs in LOSS_VARIANTS.items()
}
pd.Series(toy_losses, name="toy-batch loss").round(4)

# %% [markdown]
# ## 6. The bugs measured on a phantom
#
# The same encoder (the preset's small 3-D ResNet and projection head) trained with the
# correct loss and with each bug, same seeds (same initialisation and batches), then: the
# test MAE of a linear probe on the frozen encoder features, the ordinality of the test
# features (Spearman correlation of feature distances with label distances, the SupReMix paper's
# §5.1.1) and the gap between the correct loss of the training embeddings and its Lemma 3.2 bound
# (how far training got from the infimum of the paper's objective). The training loop is in
# `supremix.analysis.bug_study` (the engine takes no custom loss): Adam, one view per
# sample, no augmentation, no warm-up or EMA. With the defaults this is a hundred optimiser
# steps per run on a small phantom: it measures the direction and size of the effects at this
# scale, not the paper's numbers. Differences are paired by seed (same initialisation and
# batches); read each against its standard error. CPU results also depend on the number of
# threads (floating-point summation order), so a rerun elsewhere moves every number by about
# the seed-to-seed spread.

# %%
config = get_preset(
    preset, phantom_n=phantom_n, dataset_options=dataset_options, device=device, progress=False
)
data = load_study_data(config, data_root)
display(Markdown(data_banner(data.info["kind"], "UK Biobank brain age", data.info["root"])))
shape = tuple(data.train_x.shape[1:])
print(f"train {len(data.train_y)} / test {len(data.test_y)} subjects, inputs {shape}")

# %%
study = compare_loss_variants(
    config, data, variants=methods, seeds=seeds, epochs=epochs, batch_size=batch_size, device=device
)
study.round(3)

# %%
metrics = {
    "mae": "linear-probe test MAE (years)",
    "ordinality": "test ordinality",
    "bound_gap": "L - L* (train)",
}
summary_table = study.groupby("variant", sort=False)[list(metrics)].agg(["mean", "std"])
summary_table.round(3)

# %%
plot_variant_comparison(study, metrics)

# %%
correct = study[study["variant"] == "correct"].set_index("seed")
rows = []
for variant in methods:
    if variant == "correct":
        continue
    paired = study[study["variant"] == variant].set_index("seed")
    for column, label in metrics.items():
        difference = paired[column] - correct[column]
        error = difference.std() / len(difference) ** 0.5 if len(difference) > 1 else float("nan")
        rows.append(
            {
                "variant": variant,
                "measure": label,
                "difference from the correct loss": difference.mean(),
                "standard error": error,
                "paired seeds": len(difference),
                "beyond twice the seed noise": bool(abs(difference.mean()) > 2 * error),
            }
        )
pd.DataFrame(rows).round(3)

# %% [markdown]
# What the bugs do to the rows of an actual phantom batch: the first training batch,
# embedded by the encoder trained with the correct loss (first seed). `delta` is the
# log-factor bug 1 puts on each anchor's mixture terms (negative where a padding column sets
# the mixture block's maximum), `published_mix_pos_weight` the mean weight bug 2 gives its
# Mix-pos (correct: 1), and the last three columns the share of the denominator carried by
# mixtures, correct and under each bug.

# %%
model = train_encoder(
    config, data, "correct", epochs=epochs, batch_size=batch_size, seed=seeds[0], device=device
)
_, embeddings = encode(model, data.train_x[:batch_size], device=device)
batch_labels = data.train_y[:batch_size].round()  # the preset's label bin of 1 year
effects = bug_effects(
    embeddings,
    batch_labels,
    temperature=config.temperature,
    window=config.window,
    neg_lambdas=beta_draws(len(batch_labels), seed=seeds[0]),
)
effects.describe().loc[["mean", "min", "50%", "max"]].round(3)

# %% [markdown]
# ## Results file

# %%
runs = [
    {
        "method": row.variant,
        "seed": int(row.seed),
        "metrics": {"MAE": row.mae, "ordinality": row.ordinality, "bound_gap": row.bound_gap},
    }
    for row in study.itertuples()
]
summary = summarise_runs(
    runs,
    data_kind=data.info["kind"],
    dataset=config.dataset,
    notes=f"notebooks/theory bug study, preset {preset}, {epochs} epochs, smoke={smoke}",
    provenance={"device": device, "preset": preset, "epochs": epochs, "batch_size": batch_size},
)
if results_path is not None:
    write_results(summary, results_path)
print(f"{len(runs)} runs summarised; methods: {', '.join(summary['methods'])}")
