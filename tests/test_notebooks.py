"""Notebook conventions (tools/notebooks.py): pairing, parameters, badges, install cell, smoke."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from jupytext.cli import jupytext as jupytext_cli

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_FILES = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _load_tool():
    spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A throwaway book root: _config.yml, pyproject.toml (its jupytext settings) and a copy of
    the quickstart pair."""
    for name in ("_config.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "notebooks").mkdir()
    for suffix in (".py", ".ipynb"):
        shutil.copy(ROOT / "notebooks" / f"quickstart{suffix}", tmp_path / "notebooks")
    assert tool.check(tmp_path / "notebooks", root=tmp_path) == []
    return tmp_path


def parameters_cell(book: Path) -> int:
    """The number, from 1, of the quickstart's parameters cell."""
    cells = tool.read_py(book / "notebooks" / "quickstart.py").cells
    return 1 + next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))


def problems(book: Path) -> str:
    return "\n".join(tool.check(book / "notebooks", root=book))


def edit_ipynb(path: Path, change) -> None:
    notebook = nbformat.read(path, as_version=4)
    change(notebook)
    nbformat.write(notebook, path)


def test_the_repository_notebooks_follow_the_conventions():
    assert NOTEBOOK_FILES, "notebooks/ holds no notebook"
    assert tool.check(ROOT / "notebooks", root=ROOT) == []


def test_badge_urls_come_from_the_path_and_the_config():
    repo = tool.Repository.from_config(ROOT / "_config.yml")
    assert repo == tool.Repository("supremix/supremix", "main")
    path = "notebooks/rsna.ipynb"
    assert repo.colab_url(path) == (
        "https://colab.research.google.com/github/supremix/supremix/blob/main/notebooks/rsna.ipynb"
    )
    assert repo.kaggle_url(path) == (
        "https://kaggle.com/kernels/welcome?src="
        "https://raw.githubusercontent.com/supremix/supremix/main/notebooks/rsna.ipynb"
    )
    assert all(" " not in line for line in repo.badges(path))
    assert "git+https://github.com/supremix/supremix@main" in repo.install_source()


def test_a_py_edited_without_sync_is_out_of_sync(book):
    source = book / "notebooks" / "quickstart.py"
    source.write_text(source.read_text().replace("batch_size = 64", "batch_size = 16"))
    report = problems(book)
    cell = parameters_cell(book)
    assert report == (
        f"notebooks/quickstart.ipynb: not in sync with notebooks/quickstart.py from cell {cell} "
        "(the .ipynb has 'batch_size = 64', the .py 'batch_size = 16'); "
        "run: python tools/notebooks.py sync quickstart"
    )
    tool.sync(book / "notebooks", root=book)
    assert problems(book) == ""
    assert "batch_size = 16" in (book / "notebooks" / "quickstart.ipynb").read_text()


def test_an_ipynb_edited_alone_is_out_of_sync(book):
    def change(notebook):
        notebook.cells[-1].source += "\nprint('edited in Jupyter')"

    edit_ipynb(book / "notebooks" / "quickstart.ipynb", change)
    assert "not in sync" in problems(book)


def test_sync_is_idempotent(book):
    assert tool.sync(book / "notebooks", root=book) == []


def test_outputs_in_the_ipynb_are_refused(book):
    def change(notebook):
        cell = next(c for c in notebook.cells if c.cell_type == "code")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
        cell.execution_count = 1

    edit_ipynb(book / "notebooks" / "quickstart.ipynb", change)
    assert "has outputs or an execution count" in problems(book)
    tool.sync(book / "notebooks", root=book)
    assert problems(book) == ""


def edit_py(book: Path, old: str, new: str, *, sync: bool = True) -> None:
    source = book / "notebooks" / "quickstart.py"
    text = source.read_text()
    assert old in text
    source.write_text(text.replace(old, new))
    if sync:
        tool.sync(book / "notebooks", root=book)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '# %% tags=["parameters"]',
            "# %%",
            "has 0 cells tagged 'parameters'; expected exactly one",
        ),
        (
            "# %% [markdown]\n# ## Train",
            '# %% tags=["parameters"]\nx = 1\n\n# %% [markdown]\n# ## Train',
            "has 2 cells tagged 'parameters'",
        ),
        ("data_root = None", "data_root = '/data'", "parameter data_root defaults to '/data'"),
        ('device = "auto"', 'device = "cuda"', "parameter device defaults to 'cuda'"),
        ("smoke = False", "smoke = 0", "parameter smoke defaults to 0; expected False"),
        ("seeds = [0, 1, 2]\n", "", "the parameters cell does not assign seeds"),
        ("import tempfile\n", "!pip install foo\nimport tempfile\n", "uses IPython magics"),
    ],
)
def test_broken_conventions_are_named(book, old, new, message):
    edit_py(book, old, new)
    assert message in problems(book)


def test_the_install_cell_and_badges_are_regenerated(book):
    source = book / "notebooks" / "quickstart.py"
    text = source.read_text()
    source.write_text(text.replace("supremix/supremix/blob/main", "someone/else/blob/dev"))
    assert "lacks the badge line" in problems(book)
    tool.sync(book / "notebooks", root=book)
    assert problems(book) == ""


def test_badges_follow_the_config(book):
    config = book / "_config.yml"
    text = config.read_text()
    config.write_text(
        text.replace("https://github.com/supremix/supremix", "https://github.com/a/b")
    )
    report = problems(book)
    assert "lacks the badge line '[![Colab](" in report
    assert "the first cell is not the generated install cell" in report
    tool.sync(book / "notebooks", root=book)
    assert (
        "https://colab.research.google.com/github/a/b/blob/main/notebooks/quickstart.ipynb"
        in (book / "notebooks" / "quickstart.ipynb").read_text()
    )
    assert problems(book) == ""


def test_a_wrong_kernel_is_refused_and_sync_restores_it(book):
    edit_py(book, "#     name: python3", "#     name: python2", sync=False)
    assert "kernelspec is" in problems(book)
    tool.sync(book / "notebooks", root=book)
    assert problems(book) == ""


def test_a_notebook_without_its_pair_is_refused(book):
    (book / "notebooks" / "quickstart.ipynb").unlink()
    assert "missing notebooks/quickstart.ipynb (every notebook is a pair)" in problems(book)


# ---------------------------------------------------------------- templates

TEMPLATE = """# %% [markdown] tags=["template-doc"]
# Not copied: {{nothing}}

# %%
label = "{{label}}"

# %% [markdown] slot="words"
# Default words.

# %% [markdown] slot="optional"

# %%
print(label, "{{notebook}}")
"""


@pytest.fixture
def templated(book: Path) -> Path:
    """The throwaway book with a template ``demo`` and the quickstart using it, synced."""
    (book / "tools" / "notebook_templates").mkdir(parents=True)
    template_file(book).write_text(TEMPLATE)
    edit_py(
        book,
        "# %% [markdown]\n# ## Train",
        '# %% [markdown] template="demo"\n# label: first\n\n'
        '# %% [markdown] slot="words"\n# Own words.\n\n# %% [markdown]\n# ## Train',
    )
    return book


def template_file(book: Path) -> Path:
    return book / "tools" / "notebook_templates" / "demo.py"


def ipynb_cells(book: Path) -> list[nbformat.NotebookNode]:
    return nbformat.read(book / "notebooks" / "quickstart.ipynb", as_version=4).cells


def ipynb_sources(book: Path) -> list[str]:
    return [cell.source for cell in ipynb_cells(book)]


def cell_number(book: Path, source: str) -> int:
    """The number, from 1, of the quickstart's cell whose source is ``source``."""
    return 1 + ipynb_sources(book).index(source)


def jupytext_update(book: Path) -> None:
    """``jupytext --to ipynb --update notebooks/quickstart.py``, as a user would run it."""
    jupytext_cli(["--to", "ipynb", "--update", str(book / "notebooks" / "quickstart.py")])


def test_a_template_is_written_into_both_files_of_the_pair(templated):
    assert problems(templated) == ""
    cells = ipynb_cells(templated)
    at = [c.source for c in cells].index("label: first")
    marker, *body = cells[at : at + 4]
    assert marker.metadata == {"template": "demo", "tags": ["remove-cell"]}
    assert [(c.source, dict(c.metadata)) for c in body] == [
        ('label = "first"', {"generated": "demo"}),
        ("Own words.", {"slot": "words"}),
        ('print(label, "quickstart")', {"generated": "demo"}),
    ]
    assert cells[at + 4].source.startswith("## Train")
    assert not any("Not copied" in c.source or "Default words" in c.source for c in cells)
    # The .py holds the same cells: it is the notebook jupytext reads, nothing to expand.
    from_py = tool.read_py(templated / "notebooks" / "quickstart.py")
    assert [(c.cell_type, c.source, dict(c.metadata)) for c in from_py.cells] == [
        (c.cell_type, c.source, dict(c.metadata)) for c in cells
    ]


def test_sync_of_an_expanded_notebook_changes_nothing(templated):
    files = [templated / "notebooks" / f"quickstart{suffix}" for suffix in (".py", ".ipynb")]
    before = [path.read_bytes() for path in files]
    assert tool.sync(templated / "notebooks", root=templated) == []
    assert tool.sync(templated / "notebooks", root=templated) == []
    assert [path.read_bytes() for path in files] == before


def test_jupytext_update_writes_the_ipynb_sync_wrote(templated):
    before = (templated / "notebooks" / "quickstart.ipynb").read_text()
    jupytext_update(templated)
    assert (templated / "notebooks" / "quickstart.ipynb").read_text() == before


def test_a_changed_template_is_refused_until_synced(templated):
    template_file(templated).write_text(
        TEMPLATE.replace('print(label, "{{notebook}}")', "print(2 * label)")
    )
    cell = cell_number(templated, 'print(label, "quickstart")')
    assert problems(templated) == (
        f"notebooks/quickstart.py: cell {cell} is not what tools/notebook_templates/demo.py "
        "writes (the .py has 'print(label, \"quickstart\")', the template 'print(2 * label)'); "
        "edit the template, not a generated cell, then run: python tools/notebooks.py sync "
        "quickstart"
    )
    assert tool.sync(templated / "notebooks", root=templated) != []
    assert problems(templated) == ""
    assert ipynb_sources(templated)[cell - 1] == "print(2 * label)"
    assert "Own words." in ipynb_sources(templated)
    assert "\nprint(2 * label)\n" in (templated / "notebooks" / "quickstart.py").read_text()


def test_a_template_cell_added_is_written_after_sync(templated):
    template_file(templated).write_text(TEMPLATE + '\n# %%\nprint("added")\n')
    after = cell_number(templated, 'print(label, "quickstart")') + 1
    report = problems(templated)
    assert report.startswith(
        f"notebooks/quickstart.py: cell {after} is not what tools/notebook_templates/demo.py "
        "writes (the .py has '# %% [markdown]', the template '# %% generated=\"demo\"')"
    )
    tool.sync(templated / "notebooks", root=templated)
    sources = ipynb_sources(templated)
    assert sources.index('print("added")') == sources.index('print(label, "quickstart")') + 1
    assert sources.count('print("added")') == 1


def test_a_generated_cell_edited_by_hand_is_refused(templated):
    source = templated / "notebooks" / "quickstart.py"
    source.write_text(source.read_text().replace('label = "first"', 'label = "mine"'))
    jupytext_update(templated)  # the pair agrees: only the template check can see it
    cell = cell_number(templated, 'label = "mine"')
    assert problems(templated) == (
        f"notebooks/quickstart.py: cell {cell} is not what tools/notebook_templates/demo.py "
        "writes (the .py has 'label = \"mine\"', the template 'label = \"first\"'); "
        "edit the template, not a generated cell, then run: python tools/notebooks.py sync "
        "quickstart"
    )


def test_sync_rewrites_a_hand_edited_generated_cell_and_says_so(templated, capsys):
    source = templated / "notebooks" / "quickstart.py"
    source.write_text(source.read_text().replace('label = "first"', 'label = "mine"'))
    cell = cell_number(templated, 'label = "first"')
    capsys.readouterr()
    tool.sync(templated / "notebooks", root=templated)
    assert capsys.readouterr().err == (
        f"sync: notebooks/quickstart.py: rewriting its generated cells: cell {cell} is not what "
        "tools/notebook_templates/demo.py writes (the .py has 'label = \"mine\"', the template "
        "'label = \"first\"')\n"
    )
    assert 'label = "mine"' not in source.read_text()
    assert problems(templated) == ""


def test_a_generated_cell_removed_by_hand_is_refused(templated):
    def drop(notebook):
        notebook.cells = [c for c in notebook.cells if c.source != 'label = "first"']

    edit_ipynb(templated / "notebooks" / "quickstart.ipynb", drop)
    jupytext_cli(["--to", "py:percent", str(templated / "notebooks" / "quickstart.ipynb")])
    report = problems(templated)
    assert report.startswith(
        f"notebooks/quickstart.py: cell {cell_number(templated, 'label: first') + 1} is not "
        "what tools/notebook_templates/demo.py writes (the .py has '# %% [markdown] slot="
    )
    assert "not in sync" not in report


def test_an_ipynb_edited_in_a_generated_cell_is_out_of_sync(templated):
    def change(notebook):
        next(c for c in notebook.cells if c.source == 'label = "first"').source = "label = 2"

    edit_ipynb(templated / "notebooks" / "quickstart.ipynb", change)
    assert problems(templated) == (
        "notebooks/quickstart.ipynb: not in sync with notebooks/quickstart.py from cell "
        f"{cell_number(templated, 'label = 2')} (the .ipynb has 'label = 2', the .py "
        "'label = \"first\"'); run: python tools/notebooks.py sync quickstart"
    )


def test_a_slot_the_notebook_leaves_out_keeps_the_templates_words(templated):
    edit_py(templated, '# %% [markdown] slot="words"\n# Own words.\n\n', "")
    cell = ipynb_cells(templated)[cell_number(templated, "Default words.") - 1]
    assert cell.metadata == {"generated": "demo"}
    assert problems(templated) == ""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("# label: first\n", "", "uses {{label}}; the notebook gives no 'label'"),
        ("# label: first\n", "# label: first\n# colour: red\n", "uses no value colour"),
        (
            'template="demo"',
            'template="nope"',
            "notebooks/quickstart.py: no template 'nope' in tools/notebook_templates; found demo",
        ),
        ('slot="words"', 'slot="wrods"', "has no slot wrods; its slots: optional, words"),
        ("# label: first\n", "# - a list\n", "the template cell must map names to values"),
        (
            '# %% [markdown] tags=["remove-cell"] template="demo"\n# label: first\n',
            "# %% [markdown]\n# no template\n",
            "notebooks/quickstart.py: cells with a slot but no template cell",
        ),
    ],
)
def test_template_mistakes_are_named_and_nothing_is_written(templated, old, new, message):
    before = (templated / "notebooks" / "quickstart.ipynb").read_text()
    edit_py(templated, old, new, sync=False)
    after = (templated / "notebooks" / "quickstart.py").read_text()
    assert message in problems(templated)
    with pytest.raises(tool.TemplateError, match=re.escape(message)):
        tool.sync(templated / "notebooks", root=templated)
    assert (templated / "notebooks" / "quickstart.ipynb").read_text() == before
    assert (templated / "notebooks" / "quickstart.py").read_text() == after


def test_generated_cells_without_a_template_cell_are_refused(templated):
    text = (templated / "notebooks" / "quickstart.py").read_text()
    start = text.index('# %% [markdown] tags=["remove-cell"] template="demo"')
    end = text.index("# %% [markdown]\n# ## Train")
    kept = "".join(
        chunk for chunk in re.split(r"(?m)^(?=# %%)", text[start:end]) if "generated=" in chunk
    )
    (templated / "notebooks" / "quickstart.py").write_text(text[:start] + kept + text[end:])
    assert problems(templated) == (
        "notebooks/quickstart.py: cells marked 'generated' but no template cell"
    )


def test_the_repository_templates_serve_their_notebooks():
    used = {}
    for source in sorted((ROOT / "notebooks").glob("*.py")):
        for cell in tool.read_py(source).cells:
            if "template" in cell.metadata:
                used.setdefault(cell.metadata["template"], []).append(source.stem)
    assert sorted(used) == tool.template_names() == ["ablation", "dataset"]
    assert len(used["dataset"]) == 8 and len(used["ablation"]) == 7
    # The templates are the generator's inputs, not notebooks of the book.
    assert not set(tool.template_names()) & set(tool.pairs(ROOT / "notebooks"))
    assert not (ROOT / "notebooks" / "templates").exists()
    assert "notebook_templates" not in (ROOT / "_toc.yml").read_text()


def test_jupytext_update_leaves_every_ipynb_as_committed(tmp_path):
    """``jupytext --to ipynb --update`` on a copy of every ``notebooks/*.py`` (with the
    repository's jupytext configuration) writes each ``.ipynb`` exactly as it is committed."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    copies = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", copies, ignore=shutil.ignore_patterns(".*"))
    sources = sorted(copies.glob("*.py"))
    assert len(sources) == len(NOTEBOOK_FILES)
    jupytext_cli(["--to", "ipynb", "--update", *map(str, sources)])
    for committed in NOTEBOOK_FILES:
        written = copies / committed.name
        assert written.read_text() == committed.read_text(), committed.name


def test_jupytext_from_each_ipynb_writes_the_py_as_committed(tmp_path):
    """The other direction of the pair, as Jupyter with jupytext writes it on save:
    ``jupytext --to py:percent`` on a copy of every ``notebooks/*.ipynb`` writes each ``.py``
    exactly as it is committed (cell metadata keys in the order the ``.ipynb`` keeps them)."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    copies = tmp_path / "notebooks"
    copies.mkdir()
    for committed in NOTEBOOK_FILES:
        shutil.copy(committed, copies)
    jupytext_cli(["--to", "py:percent", *map(str, sorted(copies.glob("*.ipynb")))])
    for committed in NOTEBOOK_FILES:
        source = committed.with_suffix(".py")
        assert (copies / source.name).read_text() == source.read_text(), source.name


def test_a_py_whose_cell_keys_jupytext_would_reorder_is_out_of_sync(templated):
    source = templated / "notebooks" / "quickstart.py"
    synced = source.read_text()
    assert '# %% [markdown] tags=["remove-cell"] template="demo"\n' in synced
    source.write_text(
        synced.replace(
            'tags=["remove-cell"] template="demo"', 'template="demo" tags=["remove-cell"]'
        )
    )
    assert "notebooks/quickstart.ipynb: not in sync with notebooks/quickstart.py" in problems(
        templated
    )
    tool.sync(templated / "notebooks", root=templated)
    assert source.read_text() == synced
    jupytext_cli(["--to", "py:percent", str(templated / "notebooks" / "quickstart.ipynb")])
    assert source.read_text() == synced


def test_the_jupytext_configuration_names_every_cell_metadata_key():
    """jupytext adds unnamed keys it reads in the order of a Python set (it changes between
    runs): every key the notebooks use must be named for the .ipynb to be reproducible."""
    config = tool._config()
    named = set(config.cell_metadata_filter.split(","))
    used = {
        key
        for path in NOTEBOOK_FILES
        for cell in nbformat.read(path, as_version=4).cells
        for key in cell.metadata
    }
    used -= {"lines_to_next_cell"}  # jupytext's own key (blank lines), never in the filter
    assert used <= named, sorted(used - named)
    assert {"generated", "slot", "template", "tags"} <= used


def test_glue_names_the_prose_uses_and_no_cell_glued_are_named():
    """A glue role or directive whose name no output carries would leave a hole in the book."""
    glued = nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": "0.25"},
        metadata={"scrapbook": {"name": "gap", "mime_prefix": "application/papermill.record/"}},
    )
    code = nbformat.v4.new_code_cell("glue('gap', 0.25)", outputs=[glued])
    prose = nbformat.v4.new_markdown_cell(
        "The gap is {glue:text}`gap:.2f`, the best {glue:text}`best` and again "
        "{glue:text}`best`; {glue}`gap` as it is.\n\n```{glue:figure} heatmap\n```"
    )
    executed = nbformat.v4.new_notebook(cells=[code, prose])
    assert tool.glue_problems(executed) == [
        "Markdown cell 1 refers to glue name 'best', which no code cell glued",
        "Markdown cell 1 refers to glue name 'heatmap', which no code cell glued",
    ]
    executed.cells.insert(0, nbformat.v4.new_markdown_cell("No glue here: `gap` and {math}`x`."))
    assert len(tool.glue_problems(executed)) == 2


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_notebook_smoke_run(notebook, tmp_path):
    """Each notebook runs under papermill with smoke=True and writes a valid results file."""
    results = tool.smoke_one(notebook, out_dir=tmp_path)
    executed = nbformat.read(tmp_path / notebook.name, as_version=4)
    assert executed.metadata["papermill"]["parameters"]["smoke"] is True
    summary = json.loads(results.read_text())
    assert summary["schema"] == "supremix-results/1"


# ---------------------------------------------------------------- book pages

API_PAGES = ROOT / "book" / "api"
UNDOCUMENTED = {"cli"}  # the command line is documented by `supremix --help`


def test_no_docstring_or_book_page_uses_a_glue_role():
    """A glue role in a docstring or a book page asks the book for a value no cell of that page
    glues: ``make book``'s strict build fails on it (the no-execution build lets it pass)."""
    files = [*(ROOT / "supremix").rglob("*.py"), *(ROOT / "book").rglob("*.md")]
    used = [str(f.relative_to(ROOT)) for f in files if tool.GLUE_ROLE.search(f.read_text())]
    assert used == []
    assert tool.GLUE_ROLE.search("costs {glue:text}`most_drop` the most")
    assert tool.GLUE_ROLE.search("as ``{glue:text}`name:.3f``` in a cell")


def test_every_public_module_has_an_api_page():
    package = ROOT / "supremix"
    public = {
        p.stem if p.is_file() else p.name
        for p in package.iterdir()
        if not p.name.startswith("_")
        and (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
    }
    pages = {p.stem for p in API_PAGES.glob("*.md")}
    assert pages == public - UNDOCUMENTED
    for page in API_PAGES.glob("*.md"):
        assert f"```{{automodule}} supremix.{page.stem}\n" in page.read_text()
        importlib.import_module(f"supremix.{page.stem}")


# ---------------------------------------------------------------- helpers the notebooks call


def test_select_device_falls_back_to_the_cpu(monkeypatch):
    import torch

    from supremix.notebook import select_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device("auto") == "cpu"
    assert select_device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="'cuda' was requested but no CUDA GPU is visible"):
        select_device("cuda")
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        select_device("gpu0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto") == "cuda"
    assert select_device("cuda:1") == "cuda:1"


def test_data_banner_says_what_the_numbers_are():
    from supremix.notebook import data_banner

    phantom = data_banner("phantom", "RSNA", "/tmp/phantom")
    assert phantom.startswith("**Data: phantom.**")
    assert "**not** a reproduction of the paper" in phantom
    assert data_banner("real", "RSNA", "/data/rsna") == (
        "**Data: real.** RSNA from `/data/rsna`, in its official layout."
    )
    with pytest.raises(ValueError, match="unknown data kind 'fake'"):
        data_banner("fake", "RSNA")


def test_execute_fills_the_book_cache_and_names_the_failing_notebook(tmp_path, capsys):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name, code in (("fine", "value = 6 * 7\nprint(value)"), ("broken", "1 / 0")):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        notebook.metadata["kernelspec"] = dict(tool.KERNELSPEC)
        nbformat.write(notebook, folder / f"{name}.ipynb")
    cache_dir = tmp_path / "_build" / ".jupyter_cache"
    assert tool.execute(folder, cache_dir=cache_dir, root=tmp_path) == 1
    err = capsys.readouterr().err
    assert "notebooks/broken.ipynb FAILED" in err and "ZeroDivisionError" in err
    assert "fine.ipynb" not in err
    from jupyter_cache import get_cache

    cache = get_cache(cache_dir)
    fine = nbformat.read(folder / "fine.ipynb", as_version=4)
    record = cache.match_cache_notebook(fine)
    outputs = cache.get_cache_bundle(record.pk).nb.cells[0].outputs
    assert outputs[0]["text"] == "42\n"
    assert tool.execute(folder, ["fine"], cache_dir=cache_dir, root=tmp_path) == 0


def test_execute_runs_only_the_notebooks_the_table_of_contents_lists(tmp_path, capsys):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n- file: notebooks/shown\n"
    )
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("shown", "recorded"):
        code = "1 / 0" if name == "recorded" else "print('ran')"
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        notebook.metadata["kernelspec"] = dict(tool.KERNELSPEC)
        nbformat.write(notebook, folder / f"{name}.ipynb")
    assert tool.in_book(["recorded", "shown"], folder, tmp_path) == ["shown"]
    cache_dir = tmp_path / "_build" / ".jupyter_cache"
    assert tool.execute(folder, cache_dir=cache_dir, root=tmp_path) == 0
    assert "execute: 1 executed, 0 failed" in capsys.readouterr().out
