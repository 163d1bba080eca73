"""tools/record.py: every recorded study names a real notebook and only parameters that
notebook declares, writes under results/<study>/, and unknown names are refused."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def record_tool():
    spec = importlib.util.spec_from_file_location("record_tool", ROOT / "tools" / "record.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def declared_parameters(notebook: Path) -> set[str]:
    cells = [
        c
        for c in nbformat.read(notebook, as_version=4).cells
        if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    assert len(cells) == 1, f"{notebook} has {len(cells)} parameters cells"
    tree = ast.parse(cells[0].source)
    return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}


def test_every_study_runs_a_real_notebook_with_parameters_it_declares(record_tool):
    assert record_tool.RECORDED
    names = [study.name for study in record_tool.RECORDED]
    assert len(set(names)) == len(names)
    for study in record_tool.RECORDED:
        notebook = ROOT / study.notebook
        assert notebook.is_file(), study.notebook
        parameters = study.all_parameters()
        assert set(parameters) <= declared_parameters(notebook), study.name
        assert parameters["results_dir"] == f"results/{study.name}"
        assert study.executed == f"results/{study.name}/{notebook.name}"


def test_the_airfoil_study_is_the_papers_schedule_on_five_splits(record_tool):
    (study,) = [s for s in record_tool.RECORDED if s.name == "airfoil"]
    assert study.parameters["epochs"] == 200 and study.parameters["probe_epochs"] == 100
    assert study.parameters["seeds"] == [0, 1, 2, 3, 4]
    assert study.parameters["run_dir"].startswith("runs/")  # ignored by git
    assert study.all_parameters({"workers": 1})["workers"] == 1  # -p overrides a parameter


def test_unknown_studies_are_refused_naming_the_known_ones(record_tool):
    with pytest.raises(SystemExit, match=r"no recorded study nope; known: .*airfoil"):
        record_tool.find(["nope"])


def test_overrides_are_read_as_yaml(record_tool):
    extra = record_tool.parse_extra([["train_missing", "False"], ["seeds", "[0, 1]"]])
    assert extra == {"train_missing": False, "seeds": [0, 1]}


def test_list_prints_each_study_and_trains_nothing(record_tool, capsys):
    assert record_tool.main(["--list", "-p", "workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "airfoil: notebooks/airfoil.ipynb -> results/airfoil/airfoil.ipynb" in out
    assert "'workers': 1" in out


def test_provenance_names_commit_data_hashes_machine_and_time(record_tool, tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "a.tsv").write_bytes(b"x\ty\n1\t2\n")
    monkeypatch.setenv("SUPREMIX_DATA", str(data))
    study = record_tool.RecordedStudy(
        "demo", "notebooks/stsb.ipynb", "a demo", {"glove": None}, ("sub/a.tsv", "sub/b.tsv")
    )
    path = tmp_path / "provenance.json"
    written = record_tool.write_provenance(study, study.all_parameters(), 12.34, path)
    assert json.loads(path.read_text()) == written
    assert written["data"] == {
        "sub/a.tsv": hashlib.sha256(b"x\ty\n1\t2\n").hexdigest(),
        "sub/b.tsv": "missing",
    }
    assert written["settings"] == {"glove": None, "results_dir": "results/demo"}
    assert written["wall_time_s"] == 12.3 and written["machine"]["cores"] >= 1
    assert len(written["git"]["commit"]) == 40


def test_every_recorded_study_names_its_data_files(record_tool):
    shared = ROOT.parent / "shared" / "data"
    for study in record_tool.RECORDED:
        assert study.data_kind in ("real", "phantom"), study.name
        # a real study names the files it reads; a phantom is written by the code, not read
        assert bool(study.data_files) == (study.data_kind == "real"), study.name
        if shared.is_dir():
            for name in study.data_files:
                assert (shared / name).is_file(), f"{study.name}: {name}"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("../book/images/colab-badge.svg", "../../book/images/colab-badge.svg"),
        ("../data_cards/rsna.md", "../../data_cards/rsna.md"),
        ("figure.png", "../../notebooks/figure.png"),
        ("https://colab.research.google.com/x.ipynb", "https://colab.research.google.com/x.ipynb"),
        ("#a-section", "#a-section"),
        ("/book/results", "/book/results"),
    ],
)
def test_links_of_a_notebook_are_rebased_to_its_results_folder(record_tool, target, expected):
    assert record_tool.rebased(target, "notebooks", "results/demo") == expected


def test_rebase_links_rewrites_markdown_cells_only(record_tool, tmp_path):
    badge = "[![Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/x)"
    code = 'print("[a](../b.md)")'
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(f"{badge}\nSee the [card](../data_cards/rsna.md)."),
            nbformat.v4.new_code_cell(code),
        ]
    )
    path = tmp_path / "x.ipynb"
    nbformat.write(notebook, path)
    assert record_tool.rebase_links(path, "notebooks", "results/demo") == 2
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].source == (
        "[![Colab](../../book/images/colab-badge.svg)](https://colab.research.google.com/x)\n"
        "See the [card](../../data_cards/rsna.md)."
    )
    assert cells[1].source == code
    before = path.read_bytes()
    assert record_tool.rebase_links(path, "results/demo", "results/demo") == 0
    assert path.read_bytes() == before  # nothing to move: the file is not rewritten
