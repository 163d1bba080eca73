"""The built book renders without internet: MathJax and the badge images ship with it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_mathjax_is_served_from_the_book():
    sphinx = CONFIG["sphinx"]
    assert "sphinx-mathjax-offline" in sphinx["extra_extensions"]
    assert importlib.util.find_spec("sphinx-mathjax-offline") is not None
    path = sphinx["config"]["mathjax_path"]
    assert not re.match(r"https?://", path)
    package = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent
    assert (package / "static" / "mathjax" / Path(path).relative_to("mathjax")).is_file()


def test_every_notebook_badge_image_is_a_file_of_the_book():
    images = set()
    for source in sorted((ROOT / "notebooks").glob("*.py")):
        for image in re.findall(r"\[!\[(?:Colab|Kaggle)\]\(([^)]+)\)\]", source.read_text()):
            images.add(image)
            assert (source.parent / image).resolve().is_file(), f"{source.name}: {image}"
    assert len(images) == 2


def test_every_citation_key_is_in_the_bibliography():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
    pages = [*ROOT.glob("book/*.md"), *ROOT.glob("notebooks/*.py"), *ROOT.glob("data_cards/*.md")]
    cited = {
        key.strip()
        for page in pages
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text(encoding="utf-8"))
        for key in group.split(",")
    }
    assert cited, "no page cites a paper by key"
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"
