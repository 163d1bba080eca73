# %% [markdown] tags=["template-doc"]
# Template of the dataset notebooks' shared cells (tools/notebooks.py).
#
# A notebook whose source has a Markdown cell with the metadata `template="dataset"` gets these
# cells after that cell, in its .py and its .ipynb, each marked `generated="dataset"`; `sync`
# writes them again after every change here. That cell's lines (YAML) give the values written where
# `{{name}}` stands: `dataset` (the name of supremix.data), `title` (how the data banner names
# it), `unit` (of the label, for the t-test heat map) and `label_name` (the axes' label);
# `notebook` is the notebook's own name. A cell with the metadata `slot="..."` is replaced by the
# notebook's cells with the same slot (dropped when empty and the notebook has none). This cell
# is not copied.

# %%
from IPython.display import Markdown, display

from supremix.notebook import data_banner, glue_facts, notebook_settings
from supremix.plots import embedding_grid, paired_test_heatmap, true_vs_predicted_grid
from supremix.reporting import write_results
from supremix.studies import compare_methods, paper_coverage

settings = notebook_settings(globals())

# %% [markdown]
# ## Train every method with every seed
#
# Each run pretrains (contrastive methods) and fits the linear probe, or trains Vanilla end to
# end, then predicts the evaluation split with the weights of best validation MAE. The table
# lists the settings every run shared, with the Mix-pos window measured on the training labels:
# the study stops before training when that window forms no Mix-pos or covers the whole label
# range (`supremix.experiments.windows`, tested).

# %%
study = compare_methods(
    "{{dataset}}",
    methods=methods,
    seeds=seeds,
    settings=settings,
)
display(Markdown(data_banner(study.data_kind, "{{title}}", study.data["root"])))
study.settings_table()

# %% [markdown] slot="after_training"

# %% [markdown]
# ## Metrics beside the papers
#
# Mean and sample standard deviation over seeds on the evaluation split, then the papers'
# numbers. `Training mean` predicts the mean training label for every item: a method that does
# not beat it learned nothing from the inputs. First, which methods each of the papers' tables
# reports each metric for (`-`: none; `no source`: the methods no table reports it for, whose
# paper cells stay empty) and how a table's numbers differ from a run here (`note`).

# %%
display(paper_coverage("{{dataset}}", methods))
display(Markdown(f"*Reported on {study.data.get('reported_split', 'the test split')}.*"))
study.comparison().round(3)

# %% [markdown] slot="after_comparison"

# %%
glue_facts(study.facts())

# %% [markdown]
# On this run ({glue:text}`data`, {glue:text}`seeds` seed(s), {glue:text}`items`
# {glue:text}`split` items) the lowest mean MAE is {glue:text}`best`'s,
# {glue:text}`best_value:.3g`. Predicting the training mean for every item gives MAE
# {glue:text}`mean_predictor:.3g`; the methods' MAEs are {glue:text}`ratio_lowest:.2f` to
# {glue:text}`ratio_highest:.2f` times that: at these settings they learned
# {glue:text}`learned` from the inputs. {glue:text}`reference`'s MAE
# ({glue:text}`reference_value:.3g`) is {glue:text}`relation` than {glue:text}`baseline`'s
# ({glue:text}`baseline_value:.3g`); the paired t-test on per-item errors gives p =
# {glue:text}`p:.2g` ({glue:text}`significance`).

# %% [markdown]
# ## Does the phantom teach?
#
# The best method's MAE as a fraction of the training-mean predictor's (1: learned nothing) and
# of the noise floor, the expected MAE of the true function under the label noise that the
# phantom's generative model adds (1: learned all there is). The [phantoms
# page](../book/phantoms.md) compares every dataset's phantom; on real data the floor is unknown.

# %%
from supremix.phantom_quality import study_quality

glue_facts(study_quality(study).facts(), prefix="quality_")

# %% [markdown]
# The best method, {glue:text}`quality_best_method`, has MAE {glue:text}`quality_best_mae:.3g`:
# {glue:text}`quality_of_mean:.2f` times the training-mean predictor's
# ({glue:text}`quality_mean_predictor_mae:.3g`) and {glue:text}`quality_of_floor:.2f` times the
# noise floor ({glue:text}`quality_noise_floor:.3g`; NaN on real data, whose noise is unknown).
# Verdict: {glue:text}`quality_verdict` (the book's goal: at most {glue:text}`quality_goal` times
# the training-mean predictor's MAE, with the methods not all at the floor).

# %% [markdown]
# ## Paired t-tests
#
# Per item, the absolute error of each method averaged over seeds; SupReMix against every other
# method (negative `difference`: SupReMix errs less), then every pair. Stars as in the SupReMix
# paper's Fig. 5: `***` p < 0.001, `**` p < 0.01, `*` p < 0.05, `ns` otherwise.

# %%
display(study.paired_tests().round(4))
paired_test_heatmap(*study.paired_matrix(), unit="{{unit}}")

# %% [markdown]
# ## True versus predicted
#
# One panel per method, every seed's predictions of the evaluation items (one colour per seed);
# the dashed line is a perfect prediction.

# %%
true_vs_predicted_grid(study.all_predictions(), study.targets, label_name="{{label_name}}")

# %% [markdown]
# ## t-SNE of the encoder features
#
# Encoder features (before any projection head) of the evaluation items, from the first seed,
# coloured by label: the SupReMix paper's Figs. 3 and 6 show SupReMix's features ordered along the
# label where SupCon's form separate clusters.

# %%
embedding_grid(study.embeddings(), study.targets, label_name="{{label_name}}")

# %% [markdown]
# ## Results file
#
# With `results_path` set, the summary (per-seed values, means, standard deviations, the
# settings and whether the data were real or a phantom) is written for the book's [results
# page](../book/results.md).

# %%
summary = study.summary(notes=f"notebooks/{{notebook}}, preset {study.preset}, smoke={smoke}")
if results_path is not None:
    write_results(summary, results_path)
