"""Keep the book's notebooks to their conventions: sync the pairs, check them, smoke-run them.

    python tools/notebooks.py sync  [NAME ...]   # .py -> .ipynb, install cell, badges, templates
    python tools/notebooks.py check [NAME ...]   # exit 1 listing every broken convention
    python tools/notebooks.py smoke [NAME ...]   # papermill -p smoke True, into runs/
    python tools/notebooks.py execute [NAME ...] # run them into the book's execution cache

``notebooks/<name>.py`` (jupytext percent format) is the reviewed source; ``<name>.ipynb`` is
its pair without outputs, for Colab, Kaggle and the book. Every notebook:

* starts with a code cell tagged ``remove-cell`` that pip-installs supremix from the
  repository when it is missing (generated here; no ``!``/``%`` magics anywhere);
* has, in its first Markdown cell, a Colab badge and a Kaggle link generated here from the
  file path and the repository named in ``_config.yml``;
* has exactly one cell tagged ``parameters`` assigning :data:`REQUIRED_PARAMETERS`, with
  ``data_root = None``, ``device = "auto"``, ``smoke = False`` and ``results_path = None``;
* uses the ``python3`` kernel (language ``python``);
* writes a results file (``supremix.reporting``) to ``results_path`` when it is set; the
  smoke run checks it.

Cells several notebooks share come from a template, ``tools/notebook_templates/<name>.py``
(the dataset notebooks share ``dataset``, the ablation notebooks ``ablation``); a template is an
input of this generator, not a notebook of the book. A notebook's source holds its own cells
(title, prose, ``parameters``) and one Markdown cell with the metadata ``template="<name>"``,
tagged ``remove-cell``, whose lines (YAML) give the template's values. ``sync`` writes the
template's cells right after that cell (:func:`expand`), into the ``.py`` and the ``.ipynb``
alike, so that the two stay an exact jupytext pair: ``{{value}}`` written out, each cell marked
``generated="<name>"``, and every ``slot="..."`` cell of the template replaced by the notebook's
own cells of that slot, which keep their ``slot``. A later ``sync`` drops the generated cells and
writes them again from the template as it is then: one change to a template is one edit and a
``sync``. ``check`` refuses a generated cell that differs from what the template writes (edited
by hand, or a template changed without ``sync``): edit the template, or give the notebook its
own cell for a slot.

The pair check does not trust timestamps: it renders both files with jupytext and compares,
naming the first cell that differs. ``pyproject.toml`` (``[tool.jupytext]``) names every cell
metadata key the notebooks use, so that ``jupytext --to ipynb --update`` on a ``.py`` writes
exactly the ``.ipynb`` that ``sync`` writes.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml
from jupytext.combine import combine_inputs_with_outputs
from jupytext.config import load_jupytext_config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = Path("tools") / "notebook_templates"  # the templates' folder, from the root
GENERATED = "generated"  # cell metadata: the template a cell was written from
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
TEMPLATE_DOC = "template-doc"  # tag of a template's own documentation cell (not copied)
RUNS = ROOT / "runs"
FORMAT = "py:percent"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
REQUIRED_PARAMETERS = (
    "data_root",
    "epochs",
    "batch_size",
    "methods",
    "seeds",
    "device",
    "smoke",
    "results_path",
)
FIXED_DEFAULTS = {"data_root": None, "device": "auto", "smoke": False, "results_path": None}
BADGE_PREFIXES = ("[![Colab]", "[![Kaggle]")
# Badge images ship with the book (it renders without internet); the links stay remote.
COLAB_BADGE = "../book/images/colab-badge.svg"
KAGGLE_BADGE = "../book/images/kaggle-badge.svg"
MAGIC = re.compile(r"^\s*[!%]|get_ipython\(")


@dataclass(frozen=True)
class Repository:
    """The GitHub repository and branch the book points at (``_config.yml``, one source)."""

    slug: str  # "owner/name"
    branch: str

    @classmethod
    def from_config(cls, config: Path = ROOT / "_config.yml") -> Repository:
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))["repository"]
        match = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)/?", settings["url"])
        if match is None:
            raise ValueError(f"{config}: repository.url {settings['url']!r} is not a GitHub URL")
        return cls(slug=match.group(1), branch=settings.get("branch", "main"))

    def colab_url(self, relative: str) -> str:
        """Colab's URL for ``relative`` (an ``.ipynb`` path from the repository root)."""
        return f"https://colab.research.google.com/github/{self.slug}/blob/{self.branch}/{relative}"

    def kaggle_url(self, relative: str) -> str:
        """Kaggle's import URL for ``relative`` (it fetches the raw file from GitHub)."""
        raw = f"https://raw.githubusercontent.com/{self.slug}/{self.branch}/{relative}"
        return f"https://kaggle.com/kernels/welcome?src={raw}"

    def badges(self, relative: str) -> list[str]:
        """The Markdown lines of the two badges for notebook ``relative`` (one line each, no
        space inside, so that line-length linters let them be)."""
        return [
            f"{BADGE_PREFIXES[0]}({COLAB_BADGE})]({self.colab_url(relative)})",
            f"{BADGE_PREFIXES[1]}({KAGGLE_BADGE})]({self.kaggle_url(relative)})",
        ]

    def install_source(self) -> str:
        """Source of the first cell: install supremix where it is missing (Colab, Kaggle)."""
        return (
            "# Colab and Kaggle: install supremix when it is missing (no-op where installed).\n"
            "import importlib.util\n"
            "import subprocess\n"
            "import sys\n"
            "\n"
            f'REQUIREMENT = "supremix @ git+https://github.com/{self.slug}@{self.branch}"\n'
            'if importlib.util.find_spec("supremix") is None:\n'
            '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", REQUIREMENT], '
            "check=True)"
        )


# ---------------------------------------------------------------- reading and writing


def _config():
    return load_jupytext_config(str(NOTEBOOKS / "any.py"))


def read_py(path: Path) -> nbformat.NotebookNode:
    return jupytext.read(path, fmt=FORMAT, config=_config())


def render(notebook: nbformat.NotebookNode) -> str:
    """The percent-format text jupytext writes for ``notebook``, without its version line."""
    text = jupytext.writes(notebook, fmt=FORMAT, config=_config())
    return re.sub(r"(?m)^#\s+jupytext_version: .*\n", "", text)


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` where it lies below it, else as given."""
    path = path.resolve()
    return (
        path.relative_to(root.resolve()).as_posix()
        if path.is_relative_to(root.resolve())
        else str(path)
    )


def pairs(folder: Path, names: list[str] | None = None) -> list[str]:
    """Notebook names under ``folder`` (from ``.py`` and ``.ipynb`` files), or ``names``."""
    found = sorted({p.stem for p in folder.glob("*.py")} | {p.stem for p in folder.glob("*.ipynb")})
    if not names:
        return found
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise SystemExit(f"no notebook named {', '.join(unknown)} in {folder}; found {found}")
    return names


def strip_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("papermill", "execution", "ExecuteTime", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    for key in ("papermill", "widgets", "language_info"):
        notebook.metadata.pop(key, None)
    return notebook


# ---------------------------------------------------------------- templates


class TemplateError(ValueError):
    """A notebook's template cell names a template, value or slot that does not fit."""


def template_names(root: Path = ROOT) -> list[str]:
    return sorted(p.stem for p in (root / TEMPLATES).glob("*.py"))


def _fill(source: str, values: dict[str, str], used: set[str], where: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"{where} uses {{{{{name}}}}}; the notebook gives no {name!r}")
        used.add(name)
        return values[name]

    return PLACEHOLDER.sub(value, source)


def _template_values(marker: nbformat.NotebookNode, rel: str, name: str) -> dict[str, str]:
    try:
        values = yaml.safe_load(marker.source) or {}
    except yaml.YAMLError as error:
        raise TemplateError(f"{rel}: the template cell is not YAML: {error}") from None
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise TemplateError(f"{rel}: the template cell must map names to values, got {values!r}")
    return {k: str(v) for k, v in values.items()} | {"notebook": name}


def _generated(cell: nbformat.NotebookNode, template: str) -> nbformat.NotebookNode:
    """A copy of template cell ``cell`` marked as written from ``template``."""
    cell = copy.deepcopy(cell)
    cell.metadata.pop("slot", None)
    cell.metadata = nbformat.NotebookNode({GENERATED: template, **cell.metadata})
    return cell


def expand(notebook: nbformat.NotebookNode, path: Path, root: Path = ROOT) -> nbformat.NotebookNode:
    """``notebook`` (read from ``path``) with its template's cells written after its template
    cell, from the template in ``root``'s ``tools/notebook_templates`` (see the module
    docstring). Cells generated before are dropped first, so expanding an expanded notebook
    gives it back unchanged when the template has not changed. A notebook without a template
    cell is returned unchanged."""
    rel = relative(path, root)
    own = [c for c in notebook.cells if GENERATED not in c.metadata]
    markers = [i for i, c in enumerate(own) if "template" in c.metadata]
    slotted = [c for c in own if "slot" in c.metadata]
    if not markers:
        if slotted:
            raise TemplateError(f"{rel}: cells with a slot but no template cell")
        if len(own) < len(notebook.cells):
            raise TemplateError(f"{rel}: cells marked {GENERATED!r} but no template cell")
        return notebook
    if len(markers) > 1:
        raise TemplateError(f"{rel}: {len(markers)} template cells; expected at most one")
    marker = copy.deepcopy(own[markers[0]])
    name = marker.metadata["template"]
    folder = root / TEMPLATES
    source = folder / f"{name}.py"
    if not source.is_file():
        known = ", ".join(template_names(root)) or "none"
        raise TemplateError(
            f"{rel}: no template {name!r} in {relative(folder, root)}; found {known}"
        )
    values = _template_values(marker, rel, path.stem)
    template = read_py(source)
    slots: dict[str, list[nbformat.NotebookNode]] = {}
    for cell in slotted:
        slots.setdefault(cell.metadata["slot"], []).append(cell)
    offered = {c.metadata["slot"] for c in template.cells if "slot" in c.metadata}
    unknown = sorted(set(slots) - offered)
    if unknown:
        raise TemplateError(
            f"{rel}: template {name!r} has no slot {', '.join(unknown)}; its slots: "
            f"{', '.join(sorted(offered)) or 'none'}"
        )
    where = f"{relative(source, root)} (for {rel})"
    used: set[str] = set()
    body = []
    for cell in template.cells:
        if TEMPLATE_DOC in cell.metadata.get("tags", []):
            continue
        slot = cell.metadata.get("slot")
        if slot in slots:
            body.extend(copy.deepcopy(slots[slot]))
        elif cell.source.strip():
            generated = _generated(cell, name)
            generated.source = _fill(generated.source, values, used, where)
            body.append(generated)
    unused = sorted(set(values) - used - {"notebook"})
    if unused:
        raise TemplateError(f"{rel}: template {name!r} uses no value {', '.join(unused)}")
    tags = marker.metadata.setdefault("tags", [])
    if "remove-cell" not in tags:
        tags.append("remove-cell")  # the book does not show the template's values
    rest = [c for c in own if "slot" not in c.metadata]
    at = next(i for i, c in enumerate(rest) if "template" in c.metadata)
    expanded = copy.deepcopy(notebook)
    expanded.cells = [
        *copy.deepcopy(rest[:at]),
        marker,
        *body,
        *copy.deepcopy(rest[at + 1 :]),
    ]
    return expanded


# ---------------------------------------------------------------- sync


def conform(notebook: nbformat.NotebookNode, repo: Repository, rel: str) -> None:
    """Put the generated install cell first, the badges in the first Markdown cell, and the
    python3 kernelspec in the metadata (in place)."""
    install = repo.install_source()
    first = notebook.cells[0] if notebook.cells else None
    if first is not None and "remove-cell" in first.metadata.get("tags", []):
        first.source = install
    else:
        cell = nbformat.v4.new_code_cell(install, metadata={"tags": ["remove-cell"]})
        notebook.cells.insert(0, cell)
    markdown = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    if markdown is None:
        raise ValueError(f"{rel}: no Markdown cell to hold the title and badges")
    lines = markdown.source.split("\n")
    kept = [line for line in lines if not line.startswith(BADGE_PREFIXES)]
    title_end = 1 if kept and kept[0].startswith("#") else 0
    block = ["", *repo.badges(rel), ""]
    markdown.source = "\n".join([*kept[:title_end], *block, *kept[title_end:]]).strip()
    markdown.source = re.sub(r"\n{3,}", "\n\n", markdown.source)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"


def sync(folder: Path = NOTEBOOKS, names: list[str] | None = None, root: Path = ROOT) -> list[Path]:
    """Regenerate install cell, badges and template cells in each ``.py``, then write its
    ``.ipynb`` pair: jupytext's reading of the ``.py`` (as ``jupytext --to ipynb --update``
    writes it), cell ids kept from the old ``.ipynb``, no outputs. Generated cells that differ
    from their template (a template changed, or a cell edited by hand) are written again from
    the template, and a line on stderr says where the first one differed (git keeps the
    old text)."""
    repo = Repository.from_config(root / "_config.yml")
    written = []
    for name in pairs(folder, names):
        source = folder / f"{name}.py"
        if not source.exists():
            raise SystemExit(f"{relative(folder / f'{name}.ipynb', root)} has no paired .py")
        notebook = read_py(source)
        drift = template_drift(notebook, source, root)  # a template mistake raises before writing
        conform(notebook, repo, relative(folder / f"{name}.ipynb", root))
        notebook = expand(notebook, source, root)
        if drift is not None:
            print(
                f"sync: {relative(source, root)}: rewriting its generated cells: {drift}",
                file=sys.stderr,
            )
        text = jupytext.writes(_sorted(notebook), fmt=FORMAT, config=_config())
        if source.read_text(encoding="utf-8") != text:
            source.write_text(text, encoding="utf-8")
            written.append(source)
        notebook = jupytext.reads(text, fmt=FORMAT, config=_config())
        target = folder / f"{name}.ipynb"
        if target.exists():
            notebook = combine_inputs_with_outputs(notebook, nbformat.read(target, as_version=4))
        output = nbformat.writes(strip_outputs(notebook)) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != output:
            target.write_text(output, encoding="utf-8")
            written.append(target)
    return written


# ---------------------------------------------------------------- check


def parameter_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """Problems with the ``parameters`` cell of ``notebook`` (empty when it is fine)."""
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        return [f"has {len(cells)} cells tagged 'parameters'; expected exactly one"]
    cell = cells[0]
    if cell.cell_type != "code":
        return ["the cell tagged 'parameters' is not a code cell"]
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as error:
        return [f"the parameters cell is not valid Python: {error}"]
    assigned = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = node.value
    problems = [
        f"the parameters cell does not assign {name}"
        for name in REQUIRED_PARAMETERS
        if name not in assigned
    ]
    for name, expected in FIXED_DEFAULTS.items():
        if name not in assigned:
            continue
        try:
            value = ast.literal_eval(assigned[name])
        except ValueError:
            value = ast.unparse(assigned[name])
        if value != expected or type(value) is not type(expected):
            problems.append(f"parameter {name} defaults to {value!r}; expected {expected!r}")
    return problems


def convention_problems(notebook: nbformat.NotebookNode, repo: Repository, rel: str) -> list[str]:
    """Problems with everything but the pairing, for the notebook whose ``.ipynb`` is ``rel``."""
    problems = []
    kernelspec = notebook.metadata.get("kernelspec", {})
    if kernelspec.get("name") != "python3" or kernelspec.get("language") != "python":
        problems.append(f"kernelspec is {dict(kernelspec)}; expected name python3, language python")
    first = notebook.cells[0] if notebook.cells else None
    if (
        first is None
        or first.cell_type != "code"
        or "remove-cell" not in first.metadata.get("tags", [])
        or first.source != repo.install_source()
    ):
        problems.append("the first cell is not the generated install cell tagged remove-cell")
    markdown = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    lines = markdown.source.split("\n") if markdown is not None else []
    for badge in repo.badges(rel):
        if badge not in lines:
            problems.append(f"the first Markdown cell lacks the badge line {badge!r}")
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            magic = [line for line in cell.source.split("\n") if MAGIC.search(line)]
            if magic:
                problems.append(f"cell {index} uses IPython magics or shell escapes: {magic[0]!r}")
    return problems + parameter_problems(notebook)


def output_problems(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        f"cell {index} has outputs or an execution count; commit the .ipynb without outputs"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]


GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`<]+?)(?::[^`:]*)?`")


def glue_problems(executed: nbformat.NotebookNode) -> list[str]:
    """Every name the Markdown cells of ``executed`` refer to with a MyST-NB glue role or
    directive that no code cell glued (:func:`supremix.notebook.glue`): the book build would
    leave a hole in the sentence."""
    glued = {
        output.get("metadata", {}).get("scrapbook", {}).get("name")
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    }
    problems = []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "markdown":
            continue
        named = GLUE_ROLE.findall(cell.source)
        named += re.findall(r"(?m)^```\{glue(?::[a-z]+)?\} *(\S+)", cell.source)
        problems += [
            f"Markdown cell {index} refers to glue name {name!r}, which no code cell glued"
            for name in dict.fromkeys(named)
            if name not in glued
        ]
    return problems


def _cells(text: str) -> list[str]:
    """The percent-format ``text`` cut into its header and its cells, one string each."""
    return re.split(r"(?m)^(?=# %%)", text)


def _sorted(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with its own and its cells' metadata keys in sorted order."""
    notebook = copy.deepcopy(notebook)
    for item in [notebook, *notebook.cells]:
        item.metadata = nbformat.NotebookNode(sorted(item.metadata.items()))
    return notebook


def first_difference(
    expected: nbformat.NotebookNode, actual: nbformat.NotebookNode
) -> tuple[str, str, str] | None:
    """Where ``actual`` first differs from ``expected`` (``None`` where they agree): the cell,
    numbered from 1 (or the notebook metadata), with its first differing line in ``actual`` and
    in ``expected``, as jupytext writes them. The order of metadata keys counts: jupytext
    writes a cell's keys in the order it holds them, so a ``.py`` is the pair of its
    ``.ipynb`` (whose keys nbformat keeps sorted) only with its keys sorted too."""
    want, have = _cells(render(expected)), _cells(render(actual))
    for index in range(max(len(want), len(have))):
        one = want[index] if index < len(want) else ""
        other = have[index] if index < len(have) else ""
        if one == other:
            continue
        where = "the notebook metadata" if index == 0 else f"cell {index}"
        ends = ["(no line)"]  # a cell one line longer than the other differs there
        lines = zip([*one.splitlines(), *ends], [*other.splitlines(), *ends], strict=False)
        line, found = next(((a, b) for a, b in lines if a != b), (one, other))
        return where, repr(found.strip()), repr(line.strip())
    return None


def template_drift(notebook: nbformat.NotebookNode, path: Path, root: Path = ROOT) -> str | None:
    """Where the generated cells of ``notebook`` (read from ``path``) first differ from what its
    template writes now, in words; ``None`` where they agree (or it has no template)."""
    fresh = expand(notebook, path, root)
    difference = first_difference(_sorted(fresh), notebook)
    if difference is None:
        return None
    marker = next(c for c in fresh.cells if "template" in c.metadata)
    template = relative(root / TEMPLATES / f"{marker.metadata['template']}.py", root)
    where, found, wanted = difference
    return f"{where} is not what {template} writes (the .py has {found}, the template {wanted})"


def check(folder: Path = NOTEBOOKS, names: list[str] | None = None, root: Path = ROOT) -> list[str]:
    """Every broken convention of the notebooks in ``folder``, one line each."""
    repo = Repository.from_config(root / "_config.yml")
    messages = []
    for name in pairs(folder, names):
        source, paired = folder / f"{name}.py", folder / f"{name}.ipynb"
        rel, rel_py = relative(paired, root), relative(source, root)
        missing = [relative(p, root) for p in (source, paired) if not p.exists()]
        if missing:
            messages.append(f"{rel}: missing {', '.join(missing)} (every notebook is a pair)")
            continue
        from_py = read_py(source)
        try:
            drift = template_drift(from_py, source, root)
        except TemplateError as error:
            messages.append(str(error))
            continue
        if drift is not None:
            messages.append(
                f"{rel_py}: {drift}; edit the template, not a generated cell, then run: "
                f"python tools/notebooks.py sync {name}"
            )
        from_ipynb = nbformat.read(paired, as_version=4)
        unpaired = first_difference(from_py, from_ipynb)
        if unpaired is not None:
            where, found, wanted = unpaired
            messages.append(
                f"{rel}: not in sync with {rel_py} from {where} (the .ipynb has {found}, the "
                f".py {wanted}); run: python tools/notebooks.py sync {name}"
            )
        for problem in output_problems(from_ipynb):
            messages.append(f"{rel}: {problem}")
        for problem in convention_problems(from_py, repo, rel):
            messages.append(f"{rel_py}: {problem}")
    return messages


# ---------------------------------------------------------------- smoke


def smoke_one(notebook: Path, out_dir: Path = RUNS, timeout: int = 600) -> Path:
    """Run ``notebook`` with papermill (``smoke=True``) in a temporary working directory.

    The executed notebook goes to ``out_dir/<name>.ipynb`` and the results file it must write
    to ``out_dir/<name>.json``. Raises on any failure (a cell error, a missing or invalid
    results file, a glue name the prose uses and no cell glued).
    """
    import papermill

    from supremix.reporting import load_results

    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / f"{notebook.stem}.ipynb"
    with tempfile.TemporaryDirectory(prefix=f"smoke-{notebook.stem}-") as cwd:
        results = Path(cwd) / f"{notebook.stem}.json"
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters={"smoke": True, "results_path": str(results)},
            kernel_name="python3",
            language="python",
            cwd=cwd,
            progress_bar=False,
            execution_timeout=timeout,
        )
        if not results.exists():
            raise RuntimeError(
                f"{notebook.name} ran but wrote no results file to results_path ({results})"
            )
        load_results(results)
        missing_glue = glue_problems(nbformat.read(executed, as_version=4))
        if missing_glue:
            raise RuntimeError(f"{notebook.name}: " + "; ".join(missing_glue))
        return Path(shutil.copy(results, out_dir / results.name))


def smoke(folder: Path = NOTEBOOKS, names: list[str] | None = None, out_dir: Path = RUNS) -> int:
    failures = []
    for name in pairs(folder, names):
        print(f"smoke: {name} ...", flush=True)
        try:
            smoke_one(folder / f"{name}.ipynb", out_dir)
        except Exception as error:  # report every notebook, then fail
            failures.append(f"{name}: {type(error).__name__}: {error}")
            print(f"smoke: {name} FAILED", flush=True)
        else:
            print(f"smoke: {name} ok -> {relative(out_dir / name, ROOT)}.ipynb/.json", flush=True)
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


# ---------------------------------------------------------------- execute (make book)

#: Where Jupyter Book 1 keeps executed notebooks (``execute_notebooks: cache``).
BOOK_CACHE = ROOT / "_build" / ".jupyter_cache"


def in_book(names: list[str], folder: Path, root: Path) -> list[str]:
    """The notebooks of ``names`` (in ``folder``) that ``root``'s ``_toc.yml`` lists, or all of
    them where there is no table of contents."""
    toc = root / "_toc.yml"
    if not toc.exists():
        return names

    def files(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [str(node["file"])] if "file" in node else []
            return own + [f for value in node.values() for f in files(value)]
        if isinstance(node, list):
            return [f for item in node for f in files(item)]
        return []

    listed = {str(Path(f).with_suffix("")) for f in files(yaml.safe_load(toc.read_text()))}
    return [name for name in names if relative(folder / name, root) in listed]


def execute(
    folder: Path = NOTEBOOKS,
    names: list[str] | None = None,
    cache_dir: Path = BOOK_CACHE,
    root: Path = ROOT,
) -> int:
    """Execute the notebooks at their defaults into the book's jupyter-cache, one per CPU core
    at a time, so that ``jupyter-book build`` finds each one executed and only renders it (the
    book executes notebooks one after another; most use one torch thread).

    Without ``names``, only the notebooks the book shows (:func:`in_book`): a notebook whose
    page is a recorded run (``results/``) is never executed by the book.

    jupyter-cache keys a notebook on its code cells, exactly as the book does, and skips those
    already executed with the same code. Each runs in its own folder with the book's timeout
    (``execute.timeout`` in ``_config.yml``). Returns 1 when any notebook failed, after printing
    every failure.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    config = yaml.safe_load((root / "_config.yml").read_text())
    timeout = int(config.get("execute", {}).get("timeout", 1800))
    cache = get_cache(cache_dir)
    chosen = pairs(folder, names) if names else in_book(pairs(folder), folder, root)
    uris = [str(folder / f"{name}.ipynb") for name in chosen]
    for uri in uris:
        cache.add_nb_to_project(uri)
    executor = load_executor("local-parallel", cache=cache)
    result = executor.run_and_cache(filter_uris=uris, timeout=timeout)
    failed = [*result.errored, *result.excepted]
    for uri in failed:
        record = cache.get_project_record(uri)
        print(f"execute: {relative(Path(uri), root)} FAILED\n{record.traceback}", file=sys.stderr)
    print(f"execute: {len(result.succeeded)} executed, {len(failed)} failed, others cached")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["sync", "check", "smoke", "execute"])
    parser.add_argument("names", nargs="*", help="notebook names (default: all in notebooks/)")
    parser.add_argument("--out", type=Path, default=RUNS, help="smoke output folder (runs/)")
    args = parser.parse_args(argv)
    if args.command == "sync":
        for path in sync(names=args.names):
            print(f"wrote {relative(path, ROOT)}")
        return 0
    if args.command == "check":
        messages = check(names=args.names)
        for message in messages:
            print(message, file=sys.stderr)
        if not messages:
            print(f"notebooks: {len(pairs(NOTEBOOKS, args.names))} pair(s) follow the conventions")
        return 1 if messages else 0
    if args.command == "execute":
        return execute(names=args.names)
    return smoke(names=args.names, out_dir=args.out)


if __name__ == "__main__":
    sys.exit(main())
