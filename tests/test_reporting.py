"""Results summaries: statistics, JSON round trip, schema errors, comparison and collection."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.paper import paper_results
from supremix.reporting import (
    SCHEMA,
    ResultsSchemaError,
    collect_results,
    comparison_table,
    load_results,
    summarise_runs,
    write_results,
)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
per_seed = st.lists(finite, min_size=1, max_size=6)


def runs_of(values_by_method: dict[str, list[float]], metric: str = "mae") -> list[dict]:
    return [
        {"method": method, "seed": seed, "metrics": {metric: value}}
        for method, values in values_by_method.items()
        for seed, value in enumerate(values)
    ]


@settings(max_examples=60, deadline=None)
@given(per_seed)
def test_mean_and_std_are_numpy_over_seeds(values):
    summary = summarise_runs(runs_of({"SupReMix": values}), data_kind="phantom", dataset="rsna")
    stats = summary["methods"]["SupReMix"]["metrics"]["MAE"]
    assert stats["runs"] == values
    assert stats["mean"] == pytest.approx(np.mean(values), rel=1e-12, abs=1e-9)
    if len(values) == 1:
        assert stats["std"] is None
    else:
        assert stats["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-9, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(5)), per_seed.filter(lambda v: len(v) == 5))
def test_runs_follow_sorted_seeds_whatever_the_input_order(order, values):
    runs = [{"method": "vanilla", "seed": 10 + s, "metrics": {"mse": values[s]}} for s in order]
    entry = summarise_runs(runs, data_kind="real", dataset="airfoil")["methods"]["Vanilla"]
    assert entry["seeds"] == [10, 11, 12, 13, 14]
    assert entry["metrics"]["MSE"]["runs"] == values


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.sampled_from(["supremix", "supcon", "vanilla"]), per_seed, min_size=1))
def test_round_trip_through_a_file(tmp_path_factory, values_by_method):
    path = tmp_path_factory.mktemp("results") / "nested" / "run.json"
    summary = summarise_runs(
        runs_of(values_by_method, metric="pearson"),
        data_kind="phantom",
        dataset="ukb",
        notes="round trip",
        provenance={"device": "cpu"},
    )
    assert write_results(summary, path) == path
    assert load_results(path) == summary
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]  # no temporary left over


def test_names_are_canonicalised_and_provenance_merged():
    summary = summarise_runs(
        [{"method": "rnc", "seed": 0, "metrics": {"pearson": 0.5, "gm": 1.0, "custom": 2.0}}],
        data_kind="real",
        dataset="rsna",
        provenance={"device": "cuda", "python": "override"},
    )
    assert summary["schema"] == SCHEMA
    assert list(summary["methods"]) == ["RnC"]
    assert set(summary["methods"]["RnC"]["metrics"]) == {"rho", "GM", "custom"}
    assert summary["provenance"]["device"] == "cuda"
    assert summary["provenance"]["python"] == "override"
    assert summary["provenance"]["supremix"]


@pytest.mark.parametrize(
    ("runs", "kwargs", "message"),
    [
        ([], {}, "summary: no runs given"),
        (
            [{"method": "a", "seed": 0, "metrics": {"mae": 1.0}}],
            {"data_kind": "synthetic"},
            "data_kind is 'synthetic'; expected 'real' or 'phantom'",
        ),
        ([{"method": "a", "seed": 0}], {}, "run 0: missing metrics"),
        (
            [{"method": "a", "seed": 0, "metrics": {"mae": float("nan")}}],
            {},
            "run 0 (a, seed 0): metric 'mae' is nan; expected a finite number",
        ),
        (
            [{"method": "a", "seed": True, "metrics": {"mae": 1.0}}],
            {},
            "run 0: seed must be an integer, got True",
        ),
        (
            [
                {"method": "a", "seed": 0, "metrics": {"mae": 1.0}},
                {"method": "a", "seed": 0, "metrics": {"mae": 2.0}},
            ],
            {},
            "run 1: a with seed 0 is given twice",
        ),
        (
            [
                {"method": "a", "seed": 0, "metrics": {"mae": 1.0, "mse": 1.0}},
                {"method": "a", "seed": 1, "metrics": {"mae": 2.0}},
            ],
            {},
            "every seed of a method must report the same metrics",
        ),
        (
            [{"method": "a", "seed": 0, "metrics": {"mae": 1.0, "MAE": 2.0}}],
            {},
            "metric 'MAE' given twice (as 'MAE')",
        ),
    ],
)
def test_bad_runs_are_refused_with_a_clear_message(runs, kwargs, message):
    arguments = {"data_kind": "phantom", "dataset": "rsna", **kwargs}
    with pytest.raises(ResultsSchemaError) as error:
        summarise_runs(runs, **arguments)
    assert message in str(error.value)


def written(tmp_path, edit) -> str:
    summary = summarise_runs(
        runs_of({"SupReMix": [4.0, 5.0, 6.0]}), data_kind="phantom", dataset="rsna"
    )
    data = json.loads(json.dumps(summary))
    edit(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsSchemaError) as error:
        load_results(path)
    return str(error.value)


def test_schema_errors_name_the_file_and_the_problem(tmp_path):
    stats = lambda d: d["methods"]["SupReMix"]["metrics"]["MAE"]  # noqa: E731
    message = written(tmp_path, lambda d: d.pop("dataset"))
    assert message == f"{tmp_path / 'edited.json'}: missing key(s) dataset"
    assert "schema is 'other/1'" in written(tmp_path, lambda d: d.update(schema="other/1"))
    assert "mean 9.0 is not the mean of runs" in written(
        tmp_path, lambda d: stats(d).update(mean=9.0)
    )
    assert "not the sample standard deviation" in written(
        tmp_path, lambda d: stats(d).update(std=0.5)
    )
    assert "runs must list one value per seed (3)" in written(
        tmp_path, lambda d: stats(d)["runs"].pop()
    )
    assert "seeds must be a non-empty list of distinct integers" in written(
        tmp_path, lambda d: d["methods"]["SupReMix"].update(seeds=[0, 0, 1])
    )
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{")
    with pytest.raises(ResultsSchemaError, match=r"broken\.json: not valid JSON"):
        load_results(bad_json)


def test_write_refuses_an_invalid_summary_and_leaves_no_file(tmp_path):
    with pytest.raises(ResultsSchemaError, match="missing key"):
        write_results({"schema": SCHEMA}, tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


def airfoil_summary(data_kind="phantom"):
    runs = [
        {"method": "vanilla", "seed": 0, "metrics": {"mae": 6.0, "mse": 60.0}},
        {"method": "vanilla", "seed": 1, "metrics": {"mae": 7.0, "mse": 70.0}},
        {"method": "supremix", "seed": 0, "metrics": {"mae": 5.0, "mse": 50.0}},
    ]
    return summarise_runs(runs, data_kind=data_kind, dataset="airfoil")


def test_comparison_labels_keep_run_and_paper_apart():
    table = comparison_table(airfoil_summary(), paper_results(dataset="airfoil", table="Table 5"))
    assert list(table.columns) == [
        "this run (phantom)",
        "this run (phantom) std",
        "this run (phantom) seeds",
        "paper (Mixup Your Own Pairs, Table 5)",
    ]
    assert table.loc[("Vanilla", "MAE"), "this run (phantom)"] == 6.5
    assert table.loc[("Vanilla", "MAE"), "this run (phantom) std"] == pytest.approx(math.sqrt(0.5))
    assert table.loc[("Vanilla", "MAE"), "this run (phantom) seeds"] == 2
    # Mixup Your Own Pairs' Table 5: Vanilla MAE 6.56, SupReMix MSE 39.70
    assert table.loc[("Vanilla", "MAE"), "paper (Mixup Your Own Pairs, Table 5)"] == 6.56
    assert table.loc[("SupReMix", "MSE"), "paper (Mixup Your Own Pairs, Table 5)"] == 39.70
    assert np.isnan(table.loc[("SupReMix", "MAE"), "this run (phantom) std"])
    assert list(table.index) == [
        ("Vanilla", "MAE"),
        ("Vanilla", "MSE"),
        ("SupReMix", "MAE"),
        ("SupReMix", "MSE"),
    ]


def test_comparison_can_add_paper_only_rows_and_several_sources():
    paper = paper_results(dataset="airfoil", table=["Table 5", "Table 11"])
    paper = paper[paper.setting.isin(["", "Beta(α=2, β=8)"])]
    table = comparison_table(airfoil_summary("real"), paper, include_paper_only=True)
    assert "paper (Mixup Your Own Pairs, Table 11)" in table.columns
    # the column printed "GM" is the RMSE: it is a paper-only RMSE row, never beside our GM
    assert table.loc[("SupCon", "RMSE"), "paper (Mixup Your Own Pairs, Table 5)"] == 6.99
    assert pd.isna(table.loc[("SupCon", "RMSE"), "this run (real)"])
    assert table.loc[("SupReMix", "RMSE"), "paper (Mixup Your Own Pairs, Table 11)"] == 6.30
    assert "GM" not in set(table.index.get_level_values("metric"))


def test_comparison_refuses_mixed_datasets_and_ambiguous_cells():
    with pytest.raises(ValueError, match="paper numbers are for \\['rsna'\\]"):
        comparison_table(airfoil_summary(), paper_results(dataset="rsna", table="Table 5"))
    with pytest.raises(ValueError, match="Mixup Your Own Pairs, Table 11 has several numbers"):
        comparison_table(airfoil_summary(), paper_results(dataset="airfoil", table="Table 11"))


def test_collect_results_reads_files_and_folders(tmp_path):
    write_results(airfoil_summary(), tmp_path / "a" / "airfoil.json")
    ukb = summarise_runs(runs_of({"SupReMix": [3.0, 3.2]}), data_kind="real", dataset="ukb")
    write_results(ukb, tmp_path / "a" / "deeper" / "ukb.json")
    single = tmp_path / "single.json"
    write_results(ukb, single)
    frame = collect_results([tmp_path / "a", single])
    assert len(frame) == 4 + 1 + 1
    assert set(frame.source) == {
        str(tmp_path / "a" / "airfoil.json"),
        str(tmp_path / "a" / "deeper" / "ukb.json"),
        str(single),
    }
    row = frame[(frame.dataset == "ukb") & (frame.source == str(single))].iloc[0]
    assert (row.data_kind, row.method, row.metric, row.n_seeds) == ("real", "SupReMix", "MAE", 2)
    assert row["mean"] == pytest.approx(3.1)
    assert collect_results([]).empty
    (tmp_path / "a" / "junk.json").write_text("[]")
    with pytest.raises(ResultsSchemaError, match=r"junk\.json: expected a JSON object"):
        collect_results([tmp_path / "a"])
