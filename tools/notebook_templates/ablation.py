# %% [markdown] tags=["template-doc"]
# Template of the ablation notebooks' shared cells (tools/notebooks.py).
#
# A notebook whose source has a Markdown cell with the metadata `template="ablation"` gets these
# cells after that cell, in its .py and its .ipynb, each marked `generated="ablation"`; `sync`
# writes them again after every change here. That cell's lines (YAML) give the values written where
# `{{name}}` stands: `ablation` (Python: a quoted key of supremix.experiments.ABLATIONS, or an
# expression that picks one from a parameter) and `datasets` (the notebook's parameter listing
# the datasets, or None where the ablation has one);
# `notebook` is the notebook's own name. A cell with the metadata `slot="..."` is replaced by the
# notebook's cells with the same slot (the notebook's words for that section). This cell is not
# copied.

# %%
from IPython.display import Markdown, display

from supremix.experiments.ablations import (
    ABLATIONS,
    ablation_paper_notes,
    ablation_paper_table,
    run_ablation,
)
from supremix.notebook import glue_facts, notebook_device
from supremix.reporting import write_results

NAME = {{ablation}}
device = notebook_device(device)

# %% [markdown] slot="paper"
# ## What the paper reports

# %%
display(Markdown(f"{ablation_paper_notes(NAME)}\n\n{ABLATIONS[NAME].mapping}"))
ablation_paper_table(NAME)

# %% [markdown] slot="train"
# ## Train every row with every seed

# %%
run = run_ablation(
    NAME,
    {{datasets}},
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

# %%
# Each SupReMix row's Mix-pos window on its training labels, checked before training:
# a row that forms no Mix-pos or covers the whole label range stops the run.
run.windows

# %% [markdown] slot="beside_paper"
# ## This run beside the paper

# %%
run.beside_paper().round(3)

# %% [markdown] slot="after_beside_paper"

# %% [markdown]
# Left: this run's MAE (diamonds: mean over seeds with their standard deviation, grey dots:
# seeds, dashed: the training mean); right: the paper's, on its own scale.

# %%
run.figure()

# %%
glue_facts(run.facts())
run.findings().round(3)

# %% [markdown]
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

# %% [markdown] slot="before_results"

# %% [markdown]
# ## Results file
#
# With `results_path` set, the summary (per-seed values, means, standard deviations, the
# settings and whether the data were real or a phantom) is written for the book's results page,
# one entry per row, named `"<row> [<dataset>]"` where the run holds several datasets.

# %%
summary = run.summary(notes=f"notebooks/{{notebook}}, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
