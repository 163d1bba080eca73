"""The AdaCon paper's schemes and regression-loss ablation: the rows and the paper rows they match,
tables computed from fabricated predictions (R² in percent), the figure, a smoke-scale run on
the EchoNet phantom, and Huber's δ in label units."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from scipy.stats import ttest_rel
from torch import nn

from supremix.experiments.adacon_schemes import (
    BASELINE,
    CAMUS_TABLE,
    GAMMA_CON,
    GAMMA_TABLE,
    LOSS_TABLE,
    ROWS,
    SCHEME_TABLE,
    TABLES,
    AdaConSchemes,
    adacon_schemes_figure,
    distinct_variants,
    paper_reference,
    run_adacon_schemes,
    select_rows,
)
from supremix.experiments.settings import RunSettings
from supremix.experiments.sweep import Sweep, VariantRun
from supremix.models import RegressionNet
from supremix.paper import paper_results
from supremix.train import TrainConfig
from supremix.train.model import LabelScale
from supremix.train.objective import stage_objective
from supremix.train.protocols import plan_stages

OURS = "this run (phantom)"


def test_every_row_names_a_row_of_its_paper_table_with_mae_rmse_and_r2():
    for table, rows in ROWS.items():
        numbers = paper_results("adacon", table=table)
        for row in rows:
            TrainConfig(dataset="echonet", **{"gamma_con": GAMMA_CON, **row.variant.overrides})
            if row.variant.paper is None:
                assert row.label == BASELINE
                continue
            part = numbers[
                (numbers["method"] == row.variant.paper.method)
                & (numbers["setting"] == row.variant.paper.setting)
            ]
            for _, subset in part.groupby("subset"):  # Table XIII: four quality classes
                assert sorted(subset["metric"]) == ["MAE", "R2", "RMSE"], row.label
            assert len(part) == (12 if table == CAMUS_TABLE else 3), row.label


def test_rows_change_what_the_tables_compare():
    losses = {r.label: r.variant.overrides for r in ROWS[LOSS_TABLE]}
    assert losses["Huber (δ = 4)"] == {
        "method": "vanilla",
        "regression_loss": "huber",
        "huber_delta": 4.0,
    }
    assert losses["L1 + AdaCon"] == {
        "method": "adacon",
        "protocol": "multitask",
        "regression_loss": "l1",
        "temperature": 1 / 150,  # AdaCon's scale s = 150, at which gamma_con was tuned
    }
    schemes = {r.label: r.variant.overrides for r in ROWS[SCHEME_TABLE]}
    assert schemes["Adaptive Triplet (two-stage)"] == {
        "method": "triplet",
        "protocol": "finetune",
        "regression_loss": "mse",
        "probe_lr_factor": 0.1,  # AdaCon §IV-B6: fine-tuning at 1e-5 after 1e-4
    }
    assert schemes["N-Pair (multi-task)"]["protocol"] == "multitask"


def test_runs_shared_by_the_two_tables_are_trained_once():
    variants = distinct_variants(select_rows())
    assert len(variants) == 6 + 9 - 2
    labels = [v.label for v in variants]
    assert "AdaCon (multi-task)" not in labels and BASELINE not in labels
    assert "MSE + AdaCon" in labels and "MSE" in labels


def test_selection_errors_name_the_problem():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "unknown or no tables ['Table III'] (Table III: BMD, references only: "
            "paper_reference); expected some of Table X, Table XII, Table VIII"
        ),
    ):
        select_rows(["Table III"])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "unknown or no methods ['rnc']; expected some of vanilla, npair, supcon, triplet, "
            "adacon"
        ),
    ):
        select_rows(methods=["rnc", "adacon"])
    with pytest.raises(
        ValueError,
        match=re.escape("methods ['vanilla'] select no row of the AdaCon paper's Table XII"),
    ):
        select_rows([SCHEME_TABLE], methods=["vanilla"])
    rows = select_rows([SCHEME_TABLE], methods=["supcon"])
    assert [r.label for r in rows[SCHEME_TABLE]] == ["SupCon (two-stage)", "SupCon (multi-task)"]


def _fabricated(
    preds: dict[tuple[str, int], np.ndarray], targets: np.ndarray, tables=TABLES
) -> AdaConSchemes:
    rows = select_rows(tables)
    sweep = Sweep(
        dataset="echonet",
        preset="echonet-cpu",
        config=TrainConfig(dataset="echonet"),
        data={"kind": "phantom", "root": None},
        eval_split="test",
        targets=targets,
        train_targets=np.linspace(20.0, 80.0, 13),
        variants=distinct_variants(rows),
    )
    for (label, seed), pred in preds.items():
        sweep.runs.append(VariantRun(label, seed, {}, pred, None, 0.0, 13))
    return AdaConSchemes(sweep=sweep, rows=rows)


def _direct_r2(pred: np.ndarray, target: np.ndarray) -> float:
    mean = sum(target.tolist()) / len(target)
    residual = sum((t - p) ** 2 for p, t in zip(pred.tolist(), target.tolist(), strict=True))
    total = sum((t - mean) ** 2 for t in target.tolist())
    return 1.0 - residual / total


TARGETS = np.array([35.0, 48.0, 55.0, 61.0, 64.0, 70.0])


@settings(max_examples=10, deadline=None)
@given(noise=st.lists(st.floats(-15, 15, allow_nan=False), min_size=13 * 2 * 6, max_size=156))
def test_r2_is_shown_in_percent_beside_the_papers_percent(noise):
    chunks = iter(np.array(noise).reshape(26, 6))
    labels = [v.label for v in distinct_variants(select_rows())]
    preds = {(label, seed): TARGETS + next(chunks) for label in labels for seed in (0, 1)}
    result = _fabricated(preds, TARGETS)
    frame = result.beside_paper(SCHEME_TABLE)
    # Table XII's "AdaCon (multi-task)" is the run labelled "MSE + AdaCon"
    r2 = [_direct_r2(preds[("MSE + AdaCon", s)], TARGETS) for s in (0, 1)]
    row = frame.loc[("AdaCon (multi-task)", "R2 (%)")]
    assert row[OURS] == pytest.approx(100 * np.mean(r2))
    assert row[f"{OURS} std"] == pytest.approx(100 * np.std(r2, ddof=1))
    assert row["paper (the AdaCon paper, Table XII)"] == 82.8
    mae = np.mean([np.abs(preds[("MSE", s)] - TARGETS).mean() for s in (0, 1)])
    assert frame.loc[(BASELINE, "MAE"), OURS] == pytest.approx(mae)
    assert np.isnan(frame.loc[(BASELINE, "MAE"), "paper (the AdaCon paper, Table XII)"])


def test_arms_and_describe_count_the_groups_where_the_second_arm_is_better():
    labels = [v.label for v in distinct_variants(select_rows())]
    offsets = {label: 8.0 for label in labels}
    offsets.update({"L1 + AdaCon": 2.0, "Huber (δ = 4) + AdaCon": 3.0, "MSE": 1.0})
    preds = {(label, 0): TARGETS + offsets[label] for label in labels}
    result = _fabricated(preds, TARGETS)
    arms = result.arms(LOSS_TABLE)
    assert list(arms.index) == ["L1", "Huber (δ = 4)", "MSE"]
    assert arms[f"{OURS} difference"].tolist() == [-6.0, -5.0, 7.0]
    assert arms["paper (the AdaCon paper, Table X) difference"].round(2).tolist() == [
        -0.05,
        -0.03,
        -0.24,
    ]
    found = result.findings().loc[LOSS_TABLE]
    assert (found["groups"], found["improved"], found["improved in the paper"]) == (3, 2, 3)
    assert found["improved groups"] == "L1, Huber (δ = 4)"
    assert result.facts() == {"data": "phantom", "seeds": 1}
    figure = adacon_schemes_figure(result)
    assert isinstance(figure, Figure) and len(figure.axes) == 4


@pytest.mark.parametrize("draw", range(3))
def test_findings_count_the_groups_each_arm_won_here_and_in_the_paper(draw):
    rng = np.random.default_rng(draw)
    labels = [v.label for v in distinct_variants(select_rows())]
    preds = {
        (label, seed): TARGETS + rng.normal(rng.uniform(-4, 4), rng.uniform(0.2, 3), TARGETS.size)
        for label in labels
        for seed in (0, 1)
    }
    result = _fabricated(preds, TARGETS)
    findings = result.findings()
    assert list(findings.index) == [LOSS_TABLE, SCHEME_TABLE]
    groups = {
        LOSS_TABLE: [(f"{n}", f"{n} + AdaCon") for n in ("L1", "Huber (δ = 4)", "MSE")],
        SCHEME_TABLE: [
            (f"{n} (two-stage)", f"{n} (multi-task)")
            for n in ("N-Pair", "SupCon", "Adaptive Triplet", "AdaCon")
        ],
    }
    paper_pairs = {  # the paper's (first arm, second arm) MAE rows, by (method, setting)
        LOSS_TABLE: [
            ((f"{n} regression", d), (f"{n} regression + AdaCon", d))
            for n, d in (("L1", ""), ("Huber", "δ=4"), ("MSE", ""))
        ],
        SCHEME_TABLE: [
            ((n, "two-stage"), (n, "multi-task"))
            for n in ("N-Pair", "SupCon", "Adaptive Triplet", "AdaCon")
        ],
    }
    for table, pairs in groups.items():
        sweep = result.table_sweep(table)
        improved, significant = [], 0
        for first, second in pairs:
            errors = [
                np.mean([np.abs(r.preds - TARGETS) for r in sweep.variant_runs(label)], axis=0)
                for label in (first, second)
            ]
            if errors[1].mean() < errors[0].mean():
                improved.append(first.split(" (")[0])
                significant += ttest_rel(errors[1], errors[0]).pvalue < 0.05
        mae = paper_results("adacon", table=table, metric="MAE")
        value = mae.set_index(["method", "setting"])["value"]
        in_paper = sum(value[second] < value[first] for first, second in paper_pairs[table])
        row = findings.loc[table]
        assert row["evaluated on"] == "EchoNet (phantom)" and row["items"] == TARGETS.size
        assert (row["groups"], row["improved"]) == (len(pairs), len(improved))
        assert (row["significantly"], row["improved in the paper"]) == (significant, in_paper)
    assert result.facts() == {"data": "phantom", "seeds": 2}


def test_paper_reference_shows_the_bmd_tables_as_printed():
    table = paper_reference("Table III")
    assert table.columns.name == "paper (the AdaCon paper, Table III)"
    assert list(table.columns) == ["MAE", "RMSE", "R2 (%)"]
    assert table.loc[("Huber (δ = 0.05) + Ours", "δ=0.05")].tolist() == [0.0732, 0.0927, 46.09]
    schemes = paper_reference("Table V")
    assert schemes.index[:2].tolist() == [("N-Pair", "two-stage"), ("N-Pair", "multi-task")]
    assert schemes.loc[("N-Pair", "multi-task"), "MAE"] == 0.0637
    with pytest.raises(ValueError, match=re.escape("no table 'Table IV' in this experiment")):
        paper_reference("Table IV")


@pytest.mark.slow
def test_smoke_run_on_the_echonet_phantom():
    result = run_adacon_schemes(tables=[SCHEME_TABLE], methods=["triplet", "vanilla"], smoke=True)
    assert sorted(r.label for r in result.sweep.runs) == [
        "Adaptive Triplet (multi-task)",
        "Adaptive Triplet (two-stage)",
        BASELINE,
    ]
    assert all(np.isfinite(r.preds).all() for r in result.sweep.runs)
    assert result.sweep.config.gamma_con == GAMMA_CON
    frame = result.beside_paper(SCHEME_TABLE)
    assert (
        frame.loc[("Adaptive Triplet (two-stage)", "MAE"), "paper (the AdaCon paper, Table XII)"]
        == 4.33
    )
    assert result.arms(SCHEME_TABLE).index.tolist() == ["Adaptive Triplet"]


def test_huber_delta_is_checked():
    with pytest.raises(ValueError, match=re.escape("huber_delta must be > 0, got 0.0")):
        TrainConfig(regression_loss="huber", huber_delta=0.0)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "huber_delta=4.0 is the Huber loss's delta, but regression_loss is 'l1'; set "
            "regression_loss='huber' or leave huber_delta None"
        ),
    ):
        TrainConfig(regression_loss="l1", huber_delta=4.0)


def test_huber_delta_is_in_label_units():
    """δ = 4 label units with label std 10: Huber with δ = 0.4 on the standardised errors."""
    torch.manual_seed(0)
    regressor = nn.Sequential(nn.Linear(4, 1), nn.Flatten(0), LabelScale(50.0, 10.0))
    net = RegressionNet(nn.Linear(3, 4), nn.Linear(4, 2), regressor)
    config = TrainConfig(method="vanilla", regression_loss="huber", huber_delta=4.0)
    objective = stage_objective(plan_stages(config)[0], config, model=net)
    x, y = torch.randn(6, 3), torch.linspace(30.0, 70.0, 6)
    loss, _ = objective(x, y)
    error = ((net(x)["pred"] - y) / 10.0).abs()
    expected = torch.where(error < 0.4, 0.5 * error**2, 0.4 * (error - 0.2)).mean()
    assert torch.allclose(loss, expected)


def test_adacons_own_recipe_is_a_preset_used_with_real_data(monkeypatch):
    import supremix.experiments.adacon_schemes as schemes
    from supremix.train import PRESETS

    preset = PRESETS[schemes.PAPER_PRESET]
    assert (preset.optimizer, preset.momentum, preset.lr) == ("sgd", 0.9, 1e-4)
    assert (preset.epochs, preset.lr_decay_every, preset.batch_size) == (45, 15, 20)
    assert preset.temperature == pytest.approx(1 / 150) and preset.gamma_con == 0.75
    assert preset.encoder == "r2plus1d_18" and not preset.encoder_kwargs.get("pretrained")
    calls = {}

    def fake_sweep(dataset, variants, **kwargs):
        calls.update(kwargs)
        return None

    monkeypatch.setattr(schemes, "run_sweep", fake_sweep)
    schemes.run_adacon_schemes(data_root="/real/echonet", kinetics=True)
    assert calls["settings"].preset == "echonet-adacon"
    assert calls["settings"].overrides["encoder_kwargs"] == {"pretrained": True}
    schemes.run_adacon_schemes(settings=RunSettings(smoke=True, device="cpu"))
    assert calls["settings"].preset is None
    assert "encoder_kwargs" not in calls["settings"].overrides
    assert (calls["settings"].smoke, calls["settings"].device) == (True, "cpu")
    assert calls["settings"].overrides["gamma_con"] == GAMMA_CON


def test_kinetics_weights_reach_torchvisions_builder_without_downloading(monkeypatch):
    import supremix.models.torchvision_encoders as tv
    from supremix.train import PRESETS
    from supremix.train.model import build_encoder_for

    asked = []

    def no_download(builder, weights):
        asked.append(weights)
        return builder()

    monkeypatch.setattr(tv, "build_with_weights", no_download)
    config = PRESETS["echonet-adacon"].replace(encoder_kwargs={"pretrained": True})
    build_encoder_for(config, modality="video", in_channels=3)
    assert asked == [tv.R2PLUS1D_18_WEIGHTS]
    assert str(tv.R2PLUS1D_18_WEIGHTS).endswith("KINETICS400_V1")


def test_table_viii_reuses_table_xs_runs_and_compares_adacon_with_ouyangs_model():
    from supremix.experiments.adacon_schemes import SOTA_TABLE

    both = distinct_variants(select_rows([LOSS_TABLE, SOTA_TABLE]))
    assert [v.label for v in both] == [
        v.label for v in distinct_variants(select_rows([LOSS_TABLE]))
    ]
    labels = [v.label for v in both]
    offsets = {label: 8.0 for label in labels}
    offsets.update({"MSE": 4.0, "MSE + AdaCon": 3.0})
    preds = {(label, 0): TARGETS + offsets[label] for label in labels}
    result = _fabricated(preds, TARGETS, tables=[LOSS_TABLE, SOTA_TABLE])
    arms = result.arms(SOTA_TABLE)
    assert arms[f"{OURS} difference"].tolist() == [-1.0]
    assert arms["paper (the AdaCon paper, Table VIII) difference"].round(2).tolist() == [-0.24]
    found = result.findings().loc[SOTA_TABLE]
    assert (found["groups"], found["improved"], found["improved groups"]) == (
        1,
        1,
        "R(2+1)D-18, MSE",
    )


def test_two_stage_rows_follow_adacons_schedule_with_its_preset(monkeypatch):
    """AdaCon §IV-B6: pretraining 25 epochs at 1e-4, fine-tuning 25 epochs from 1e-5, each
    divided by 10 at epochs 10 and 20; every other row keeps the preset's 45 epochs."""
    import supremix.experiments.adacon_schemes as schemes
    from supremix.train import PRESETS

    seen = {}

    def fake_sweep(dataset, variants, **kwargs):
        seen["variants"] = {v.label: dict(v.overrides) for v in variants}
        return None

    monkeypatch.setattr(schemes, "run_sweep", fake_sweep)
    schemes.run_adacon_schemes(tables=[SCHEME_TABLE], data_root="/real/echonet")
    preset = PRESETS[schemes.PAPER_PRESET].replace(gamma_con=GAMMA_CON)
    two_stage = preset.replace(**seen["variants"]["AdaCon (two-stage)"])
    pretrain, finetune = plan_stages(two_stage)
    assert (pretrain.name, pretrain.epochs, pretrain.lr) == ("pretrain", 25, pytest.approx(1e-4))
    assert (finetune.name, finetune.epochs, finetune.lr) == ("finetune", 25, pytest.approx(1e-5))
    assert two_stage.lr_decay_every == 10
    (multitask,) = plan_stages(preset.replace(**seen["variants"]["AdaCon (multi-task)"]))
    assert (multitask.epochs, multitask.lr) == (45, pytest.approx(1e-4))
    # the schedule is the paper preset's; shortened or -cpu runs keep their own epochs
    for kwargs in ({"data_root": "/real/echonet", "epochs": 3}, {}):
        schemes.run_adacon_schemes(tables=[SCHEME_TABLE], **kwargs)
        overrides = seen["variants"]["SupCon (two-stage)"]
        assert "epochs" not in overrides and overrides["probe_lr_factor"] == 0.1


def test_table_xi_varies_gamma_con_and_shares_its_075_run_with_table_x():
    rows = select_rows([LOSS_TABLE, GAMMA_TABLE])
    weights = {r.label: r.variant.overrides["gamma_con"] for r in rows[GAMMA_TABLE]}
    assert weights == {"γ_con = 0.50": 0.5, "γ_con = 0.75": 0.75, "γ_con = 1.00": 1.0}
    labels = [v.label for v in distinct_variants(rows)]
    assert len(labels) == 6 + 2 and "γ_con = 0.75" not in labels
    assert paper_reference(GAMMA_TABLE).loc[("AdaCon", "γ_reg=1, γ_con=0.50"), "MAE"] == 3.95
    with pytest.raises(ValueError, match="overrides set gamma_con, which Table XI varies"):
        run_adacon_schemes(tables=[GAMMA_TABLE], overrides={"gamma_con": 0.5})


@pytest.mark.slow
def test_table_xiii_evaluates_the_echonet_models_on_camus_by_quality(tmp_path):
    from supremix.data import get_dataset
    from supremix.experiments.adacon_camus import load_trained_model
    from supremix.experiments.sweep import run_folder
    from supremix.train import predict

    result = run_adacon_schemes(tables=[CAMUS_TABLE], smoke=True, out_dir=tmp_path)
    sweep, camus = result.sweep, result.camus
    # the weights read back are those the sweep evaluated on EchoNet
    train_set = get_dataset("echonet", sweep.data["root"], "train", **sweep.config.dataset_options)
    test_set = get_dataset("echonet", sweep.data["root"], "test", **sweep.config.dataset_options)
    for index, variant in enumerate(sweep.variants):
        model = load_trained_model(run_folder(tmp_path, index, 0), train_set)
        preds = predict(model, test_set, batch_size=8).preds
        np.testing.assert_allclose(preds, sweep.variant_runs(variant.label)[0].preds, rtol=1e-5)
    # CAMUS's labels and quality classes, read from its Info_4CH.cfg files
    infos = sorted((Path(camus.data["root"]) / "training").glob("patient*/Info_4CH.cfg"))
    fields = [dict(line.split(": ", 1) for line in p.read_text().splitlines()) for p in infos]
    np.testing.assert_allclose(camus.targets, [float(f["LVef"]) for f in fields])
    for subset, quality in {"good quality": "Good", "poor quality": "Poor"}.items():
        expected = [f["ImageQuality"] == quality for f in fields]
        assert result.camus_subsets[subset].tolist() == expected
    frame = result.beside_paper(CAMUS_TABLE)
    ours = "this run (phantom)"
    assert (
        frame.loc[("AdaCon", "poor quality", "MAE"), "paper (the AdaCon paper, Table XIII)"] == 9.68
    )
    poor = result.camus_subsets["poor quality"]
    ouyang = sweep.variants[0].label == "Ouyang et al."
    errors = np.abs(camus.variant_runs("Ouyang et al.")[0].preds - camus.targets)[poor]
    assert ouyang and frame.loc[("Ouyang et al.", "poor quality", "MAE"), ours] == pytest.approx(
        errors.mean()
    )


def test_table_xiii_never_mixes_real_and_phantom_data():
    with pytest.raises(ValueError, match="Table XIII with data_root needs camus_root too"):
        run_adacon_schemes(tables=[CAMUS_TABLE], data_root="/real/echonet")
    with pytest.raises(ValueError, match="Table XIII with camus_root needs data_root too"):
        run_adacon_schemes(tables=[CAMUS_TABLE], camus_root="/real/camus")
