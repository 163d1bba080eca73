"""The ablations of the SupReMix paper (Tables 9-11, 15, 17-19): rows, their settings, their losses,
runs."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from supremix.data.label_ops import discretize_labels
from supremix.experiments.ablation_specs import (
    ABLATIONS,
    PHANTOM_BATCH_DIVISOR,
    SMOKE_BATCH_DIVISOR,
)
from supremix.experiments.ablations import (
    AblationRun,
    ablation_paper_table,
    run_ablation,
    window_table,
)
from supremix.experiments.sweep import Sweep, VariantRun
from supremix.losses import mix_pos_triples, supcon_loss, supremix_loss
from supremix.paper import paper_results
from supremix.reporting import validate_results
from supremix.studies import study_config
from supremix.train import TrainConfig
from supremix.train.protocols import build_contrastive_loss, plan_stages
from supremix.train.windows import WindowError

TABLES = {
    "components": "Table 9",
    "window": "Table 10",
    "beta": "Table 11",
    "beta_stsb": "Table 11",
    "batch_size": "Table 15",
    "discretization": "Table 17",
    "cmixup": "Table 18",
    "pair_selection": "Table 19",
    "pair_selection_baselines": "Table 19",  # the other reading of Table 19
}


def every_row(phantom: bool = False, smoke: bool = False):
    for name, ablation in ABLATIONS.items():
        for dataset in ablation.datasets:
            yield name, dataset, ablation.variants(dataset, phantom=phantom, smoke=smoke)


def dummy_sweep(dataset, variants):
    """A sweep with no runs: enough for its paper_numbers."""
    return Sweep(
        dataset=dataset,
        preset="none",
        config=TrainConfig(),
        data={"kind": "phantom"},
        eval_split="test",
        targets=np.zeros(1),
        train_targets=np.zeros(1),
        variants=list(variants),
    )


def test_the_registry_holds_the_seven_tables_of_the_issue():
    assert {n: a.table for n, a in ABLATIONS.items()} == TABLES
    assert {n for n, a in ABLATIONS.items() if a.paper != "supremix"} == {"beta_stsb"}
    assert ABLATIONS["beta_stsb"].paper == "mixup-pairs" and ABLATIONS["beta_stsb"].datasets == (
        "stsb",
    )


@pytest.mark.parametrize("phantom, smoke", [(False, False), (True, False), (True, True)])
def test_every_row_names_one_paper_row_per_reported_metric(phantom, smoke):
    for name, dataset, variants in every_row(phantom, smoke):
        paper, table = ABLATIONS[name].paper, ABLATIONS[name].table
        numbers = dummy_sweep(dataset, variants).paper_numbers(paper, table)
        reported = paper_results(paper, table=table, dataset=dataset)
        assert not reported.empty, (name, dataset)
        metrics = sorted(set(reported["metric"]))
        for variant in variants:
            part = numbers[numbers["variant"] == variant.label]
            assert sorted(part["metric"]) == metrics, (name, dataset, variant.label)
        labels = [v.label for v in variants]
        assert len(set(labels)) == len(labels)
        # distinct rows stand for distinct paper rows
        assert len({v.paper for v in variants}) == len(variants)


def test_paper_table_gives_the_papers_numbers_by_row():
    table = ablation_paper_table("components")
    assert table.loc[("rsna", "SupCon+Mix-neg"), "MAE"] == 5.92
    assert table.loc[("rsna", "SupReMix"), "GM"] == 3.22
    window = ablation_paper_table("window", ["ukb"])
    assert list(window.index.get_level_values("row")) == ["γ=0.2", "γ=0.5", "γ=1.0", "γ=2.0", "γ=∞"]
    assert window.loc[("ukb", "γ=∞"), "MAE"] == 3.45
    stsb = ablation_paper_table("beta_stsb")  # Mixup Your Own Pairs Table 11, STS-B column
    assert stsb.loc[("stsb", "Beta(8,2)"), "MSE"] == 0.93
    assert stsb.loc[("stsb", "Beta(2,8)"), "rho"] == 0.76


def test_table_11_inferred_order_has_its_premise_row_one_is_best_everywhere():
    # The rows' labels are missing; Beta(2,8) (said to be best on all six datasets) is taken as
    # row 1, which must then be the lowest in every column of the stored table.
    table = ablation_paper_table("beta")
    for dataset in ABLATIONS["beta"].datasets:
        rows = table.loc[dataset]
        assert (rows.loc["Beta(2,8)"] < rows.drop("Beta(2,8)")).all().all(), dataset
    assert [v.overrides["beta_params"] for v in ABLATIONS["beta"].rows["ukb"]] == [
        (2.0, 8.0),
        (8.0, 2.0),
        (5.0, 5.0),
    ]


@pytest.mark.parametrize("data_root", [None, "/nonexistent/real-data"])
def test_rows_make_valid_configs_that_set_what_they_claim(data_root):
    phantom = data_root is None
    for name, dataset, variants in every_row(phantom=phantom):
        ablation = ABLATIONS[name]
        _, base = study_config(dataset, data_root=data_root, overrides=ablation.overrides)
        configs = [base.replace(**v.overrides) for v in variants]
        for variant, config in zip(variants, configs, strict=True):
            for key, value in variant.overrides.items():
                assert getattr(config, key) == value, (name, dataset, variant.label, key)
        for a, b in itertools.combinations(configs, 2):
            assert a != b, (name, dataset)


def test_phantom_batch_sizes_scale_the_papers_and_keep_its_rows():
    paper = ABLATIONS["batch_size"].variants("ukb")
    for smoke, divisor in ((False, PHANTOM_BATCH_DIVISOR), (True, SMOKE_BATCH_DIVISOR)):
        rows = ABLATIONS["batch_size"].variants("ukb", phantom=True, smoke=smoke)
        sizes = [v.overrides["batch_size"] for v in rows]
        assert sizes == [
            32 // divisor,
            64 // divisor,
            128 // divisor,
            256 // divisor,
            512 // divisor,
        ]
        assert [v.paper for v in rows] == [v.paper for v in paper]
        assert rows[0].label == f"batch size {32 // divisor} (paper 32)"
        # the contrastive batch varies, the probe's stays that of the paper's main runs
        assert {v.overrides["probe_batch_size"] for v in rows} == {64 // divisor}
    assert {v.overrides["probe_batch_size"] for v in paper} == {64}
    _, base = study_config("ukb", data_root="/real")
    for variant in paper:
        config = base.replace(**variant.overrides)
        assert config.probe_batch_size == 64 and config.has_second_stage
    # the other ablations run the paper's rows on a phantom
    assert ABLATIONS["window"].variants("rsna", phantom=True) == ABLATIONS["window"].variants(
        "rsna"
    )


# ---------------------------------------------------------------- losses of the rows


def random_batch(seed=0, n=14, d=6, low=0, high=6):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=generator, dtype=torch.float64)
    y = torch.randint(low, high, (n,), generator=generator).to(torch.float64)
    return z, y


def row_loss(name, dataset, label, z, y, seed=5):
    """The contrastive loss the engine builds for ``label``'s configuration."""
    ablation = ABLATIONS[name]
    (variant,) = [v for v in ablation.variants(dataset) if v.label == label]
    _, base = study_config(dataset, overrides=ablation.overrides)
    config = base.replace(**variant.overrides)
    loss = build_contrastive_loss(config, y.numpy())
    return loss(z, y, None, torch.Generator().manual_seed(seed)), config


# (Mix-neg, Mix-pos, DM) of each row of the SupReMix paper's Table 9, read from its row names.
TABLE_9 = {
    "SupCon": (False, False, False),
    "SupCon+DM": (False, False, True),
    "SupCon+Mix-neg": (True, False, False),
    "SupCon+Mix-neg+DM": (True, False, True),
    "SupReMix": (True, True, True),
}


def direct_supcon_dm(z, y, t):
    """SupCon with the distance magnifying weights 1 + |y_i - y_a| in the denominator (
    the SupReMix paper's eq. (5)), anchors without a positive left out, written out term by term."""
    z = torch.nn.functional.normalize(z, dim=1)
    losses = []
    for i in range(len(y)):
        others = [a for a in range(len(y)) if a != i]
        positives = [p for p in others if y[p] == y[i]]
        if not positives:
            continue
        log_denominator = torch.log(
            sum((1 + abs(y[i] - y[a])) * torch.exp(z[i] @ z[a] / t) for a in others)
        )
        losses.append(-sum(z[i] @ z[p] / t - log_denominator for p in positives) / len(positives))
    return sum(losses) / len(losses)


def test_table_9_rows_are_the_supremix_loss_with_their_switches():
    z, y = random_batch()
    values = {}
    for label, (mix_neg, mix_pos, dm) in TABLE_9.items():
        value, config = row_loss("components", "rsna", label, z, y)
        expected = supremix_loss(
            z,
            y,
            temperature=config.temperature,
            window=config.window,
            alpha=2.0,
            beta=8.0,
            mix_neg=mix_neg,
            mix_pos=mix_pos,
            distance_weight=dm,
            generator=torch.Generator().manual_seed(5),
        )
        torch.testing.assert_close(value, expected)
        values[label] = float(value)
    t = study_config("rsna")[1].temperature
    torch.testing.assert_close(
        torch.tensor(values["SupCon"], dtype=torch.float64), supcon_loss(z, y, temperature=t)
    )
    torch.testing.assert_close(
        torch.tensor(values["SupCon+DM"], dtype=torch.float64), direct_supcon_dm(z, y, t)
    )
    # every ingredient changes the loss
    assert len({round(v, 9) for v in values.values()}) == len(TABLE_9)


def test_windows_below_one_form_no_mix_pos_on_whole_number_labels():
    """Inclusive windows (eq. (4)): gamma = 1.0 mixes the labels one year either side."""
    z, y = random_batch(seed=1, n=16, low=40, high=48)
    losses = {
        g: row_loss("window", "ukb", g, z, y)[0] for g in ("γ=0.2", "γ=0.5", "γ=1.0", "γ=2.0")
    }
    temperature = study_config("ukb")[1].temperature
    no_mix_pos = supremix_loss(
        z,
        y,
        temperature=temperature,
        window=1.0,
        mix_pos=False,
        generator=torch.Generator().manual_seed(5),
    )
    for g in ("γ=0.2", "γ=0.5"):
        torch.testing.assert_close(losses[g], no_mix_pos)
    assert not torch.allclose(losses["γ=1.0"], no_mix_pos)
    assert not torch.allclose(losses["γ=2.0"], losses["γ=1.0"])


def test_ukb_window_rows_run_on_unbinned_ages_and_stop_on_whole_years():
    ablation = ABLATIONS["window"]
    variants = ablation.variants("ukb")
    assert all(v.overrides["label_bin"] is None for v in variants)
    _, base = study_config("ukb", data_root="/real", overrides=ablation.overrides)
    assert base.label_bin == 1.0  # the preset bins; the rows undo it
    fractional = np.round(np.random.default_rng(0).uniform(42, 82, 3000), 2)
    table = window_table(ablation, "ukb", variants, base, fractional)
    assert (table["distinct labels"] == len(set(fractional.tolist()))).all()
    assert (table["lowest"] == fractional.min()).all()
    assert (table["highest"] == fractional.max()).all()
    per_side = table.set_index("variant")["labels per side"]
    finite = per_side.drop("γ=∞").to_numpy()
    assert np.all(np.diff(finite) > 0)  # every finite row is a different window
    with pytest.raises(WindowError, match=re.escape("γ=0.2")):
        window_table(ablation, "ukb", variants, base, np.arange(42.0, 83.0))


def test_table_17_rows_without_mix_pos_are_declared_and_others_refused():
    ablation = ABLATIONS["discretization"]
    variants = ablation.variants("echonet")
    _, base = study_config("echonet", data_root="/real", overrides=ablation.overrides)
    ef = np.random.default_rng(1).uniform(10, 90, 2000)
    table = window_table(ablation, "echonet", variants, base, ef)
    assert list(table["variant"]) == [v.label for v in variants]
    undeclared = dataclasses.replace(ablation, window_expect={})
    with pytest.raises(WindowError, match="bin size 10"):
        window_table(undeclared, "echonet", variants, base, ef)


def test_infinite_window_mixes_every_lower_with_every_higher_label():
    z, y = random_batch(seed=2, n=10, low=0, high=50)
    value, config = row_loss("window", "rsna", "γ=∞", z, y)
    assert config.window == math.inf
    wide = supremix_loss(
        z, y, temperature=config.temperature, window=1e6, generator=torch.Generator().manual_seed(5)
    )
    torch.testing.assert_close(value, wide)
    _, _, _, per_anchor = mix_pos_triples(y, math.inf)
    below = (y[:, None] > y[None, :]).sum(1)
    above = (y[:, None] < y[None, :]).sum(1)
    assert torch.equal(per_anchor, below * above)


def test_bins_of_10_and_20_leave_no_label_inside_echonets_window():
    _, config = row_loss("discretization", "echonet", "bin size 1", *random_batch())
    y = torch.linspace(20.0, 75.0, 200, dtype=torch.float64)
    for label, bin_size in (("bin size 5", 5.0), ("bin size 10", 10.0), ("bin size 20", 20.0)):
        (variant,) = [v for v in ABLATIONS["discretization"].rows["echonet"] if v.label == label]
        assert variant.overrides["label_bin"] == bin_size
        triples = mix_pos_triples(discretize_labels(y, bin_size), config.window)[0]
        assert (triples.numel() == 0) == (bin_size > config.window), label


def test_cmixup_rows_mix_only_in_regression_stages():
    rows = {v.label: v for v in ABLATIONS["cmixup"].rows["rsna"]}
    _, base = study_config("rsna", overrides=ABLATIONS["cmixup"].overrides)
    alone = base.replace(**rows["C-Mixup"].overrides)
    combined = base.replace(**rows["SupReMix + C-Mixup"].overrides)
    plain = base.replace(**rows["SupReMix"].overrides)
    assert (alone.method, alone.mixup) == ("vanilla", "cmixup")
    assert [(s.contrastive, s.regression) for s in plan_stages(alone)] == [(False, True)]
    assert (combined.method, combined.mixup, plain.mixup) == ("supremix", "cmixup", "none")
    # C-Mixup acts where the paper applies it: the regression stage trained end to end
    assert [(s.contrastive, s.regression, s.train_encoder) for s in plan_stages(combined)] == [
        (True, False, True),
        (False, True, True),
    ]
    assert combined.protocol == "finetune" and plain.protocol == "linear_probe"
    assert alone.cmixup_sigma == combined.cmixup_sigma == 21.0  # 1.75 years in months
    ukb = {v.label: v for v in ABLATIONS["pair_selection"].rows["ukb"]}
    # App. D.6's text: SupReMix with its pairs mixed at the input (the default reading)
    assert ukb["Input Mixup"].overrides == {"method": "supremix", "mix_level": "input"}
    assert ukb["C-Mixup"].overrides == {"method": "vanilla", "mixup": "cmixup"}
    cited = {v.label: v for v in ABLATIONS["pair_selection_baselines"].rows["ukb"]}
    assert cited["Input Mixup"].overrides == {"method": "vanilla", "mixup": "input"}


# ---------------------------------------------------------------- findings


def _window_run(seeds_by_dataset, rows_by_dataset, rng):
    """An AblationRun of Table 10 from hand-made predictions: per dataset, the rows named
    (None: all) and the seeds; returns the run and each (dataset, row, seed)'s predictions."""
    ablation = ABLATIONS["window"]
    sweeps, preds = {}, {}
    for dataset, seeds in seeds_by_dataset.items():
        variants = ablation.variants(dataset, methods=rows_by_dataset.get(dataset))
        targets = rng.uniform(0.0, 50.0, size=7)
        sweep = dummy_sweep(dataset, variants)
        sweep.targets, sweep.train_targets = targets, rng.uniform(0.0, 50.0, size=9)
        for variant in variants:
            for seed in seeds:
                pred = targets + rng.normal(0.0, rng.uniform(1.0, 9.0), size=targets.size)
                preds[dataset, variant.label, seed] = pred
                sweep.runs.append(VariantRun(variant.label, seed, {}, pred, None, 0.0, 10))
        sweeps[dataset] = sweep
    return AblationRun(ablation, sweeps), preds


def _spearman_without_ties(x, y):
    rank_x = {v: i for i, v in enumerate(sorted(x))}
    rank_y = {v: i for i, v in enumerate(sorted(y))}
    d2 = sum((rank_x[a] - rank_y[b]) ** 2 for a, b in zip(x, y, strict=True))
    n = len(x)
    return 1 - 6 * d2 / (n * (n * n - 1))


@pytest.mark.parametrize("draw", range(4))
def test_findings_and_facts_follow_from_the_runs_and_the_papers_table(draw):
    rng = np.random.default_rng(draw)
    run, preds = _window_run({"rsna": [0, 1], "ukb": [0]}, {"ukb": ["γ=0.2", "γ=∞"]}, rng)
    findings = run.findings()
    assert list(findings.index) == ["RSNA-BAA", "UK Biobank"]
    agrees = 0
    for dataset, name in (("rsna", "RSNA-BAA"), ("ukb", "UK Biobank")):
        seeds = sorted({s for d, _, s in preds if d == dataset})
        labels = list(dict.fromkeys(label for d, label, _ in preds if d == dataset))
        targets = run.sweep(dataset).targets
        maes = {
            label: [float(np.mean(np.abs(preds[dataset, label, s] - targets))) for s in seeds]
            for label in labels
        }
        means = {label: sum(v) / len(v) for label, v in maes.items()}
        best = min(labels, key=means.get)
        row = findings.loc[name]
        assert (row["rows"], row["best row"]) == (len(labels), best)
        assert row["mean"] == pytest.approx(means[best])
        floor = float(np.mean(np.abs(targets - run.sweep(dataset).train_targets.mean())))
        assert row["training mean"] == pytest.approx(floor)
        table = paper_results("supremix", table="Table 10", dataset=dataset, metric="MAE")
        paper = dict(zip(table["setting"], table["value"], strict=True))
        paper_best = min(labels, key=paper.get)
        assert row["paper's best row"] == paper_best
        assert row["paper's value"] == paper[paper_best]
        assert row["rows compared"] == len(labels)
        agrees += best == paper_best
        if len(seeds) == 1:
            assert math.isnan(row["sd"]) and math.isnan(row["highest sd"])
        else:
            sds = {label: float(np.std(v, ddof=1)) for label, v in maes.items()}
            assert row["sd"] == pytest.approx(sds[best])
            assert row["lowest sd"] == pytest.approx(min(sds.values()))
            assert row["highest sd"] == pytest.approx(max(sds.values()))
        if len(labels) < 3:
            assert math.isnan(row["Spearman ρ"])
        else:
            expected = _spearman_without_ties(
                [means[label] for label in labels], [paper[label] for label in labels]
            )
            assert row["Spearman ρ"] == pytest.approx(expected)
    assert run.facts() == {
        "metric": "MAE",
        "reference": "the SupReMix paper, Table 10",
        "data": "phantom",
        "datasets": 2,
        "agrees": agrees,
    }


# ---------------------------------------------------------------- running


@pytest.mark.slow
def test_smoke_run_gives_one_run_per_row_and_the_views():
    run = run_ablation("pair_selection", seeds=[3, 4], smoke=True, device="cpu")
    sweep = run.sweep("ukb")
    assert [(r.label, r.seed) for r in sweep.runs] == [
        ("Input Mixup", 3),
        ("C-Mixup", 3),
        ("SupReMix", 3),
    ]
    table = run.beside_paper()
    source = "paper (the SupReMix paper, Table 19)"
    assert table.loc[("ukb", "C-Mixup", "MSE"), source] == 14.82
    assert set(table.index.get_level_values("variant")) == {
        "Input Mixup",
        "C-Mixup",
        "SupReMix",
        "Training mean",
    }
    figure = run.figure("MSE")
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    ours, paper = figure.axes
    means = np.asarray(ours.containers[0].lines[0].get_ydata(), dtype=np.float64)
    np.testing.assert_allclose(means, sweep.table(["MSE"])["MSE"].to_numpy())
    np.testing.assert_allclose(paper.lines[0].get_ydata(), [15.88, 14.82, 14.37])
    validate_results(run.summary(notes="test"))
    findings = run.findings()
    assert list(findings.index) == ["UK Biobank"]
    assert findings.loc["UK Biobank", "paper's best row"] == "SupReMix"
    assert findings.loc["UK Biobank", "paper's value"] == 2.97  # Table 19's MAE


@pytest.mark.slow
def test_rows_chosen_by_methods_on_several_datasets_and_batch_sizes_that_fit():
    run = run_ablation(
        "batch_size", ["ukb", "echonet"], methods=["batch size 512"], smoke=True, device="cpu"
    )
    for dataset in ("ukb", "echonet"):
        (only,) = run.sweep(dataset).runs
        assert only.label == f"batch size {512 // SMOKE_BATCH_DIVISOR} (paper 512)"
    summary = validate_results(run.summary())
    assert summary["dataset"] == "ukb, echonet"
    assert sorted(summary["methods"]) == [
        "batch size 32 (paper 512) [echonet]",
        "batch size 32 (paper 512) [ukb]",
    ]
    assert len(run.figure().axes) == 4


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: run_ablation("gamma"), "unknown ablation 'gamma'; expected one of components"),
        (
            lambda: run_ablation("window", "hcp"),
            "window (the SupReMix paper, Table 10) reports no dataset",
        ),
        (lambda: run_ablation("window", methods=["γ=7"]), "unknown or no rows ['γ=7']"),
        (
            lambda: run_ablation("window", ["rsna", "ukb"], methods=["γ=0.2"]),
            "none of the rows ['γ=0.2'] is a row of rsna",
        ),
        (
            lambda: run_ablation("batch_size", batch_size=16),
            "batch_size sets batch_size in its rows",
        ),
        (
            lambda: run_ablation("window", overrides={"window": 2.0}),
            "window sets window in its rows",
        ),
        (
            lambda: run_ablation("cmixup", ["ukb", "hcp"], data_root="/data/ukb"),
            "data_root='/data/ukb' names one dataset's data_root but 2 datasets are run",
        ),
    ],
)
def test_bad_requests_fail_before_training_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
