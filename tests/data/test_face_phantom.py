"""Face-age phantoms: DIR file layouts (JPEG), determinism, balanced splits, generative model."""

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from scipy.stats import spearmanr

from supremix.data.phantoms import write_phantom
from supremix.data.phantoms.faces import dir_balanced_split, face_traits

IMDB_NAME = re.compile(r"imdb_crop/\d\d/nm\d{7}_rm\d{9}_(\d+)-\d+-\d+_(\d{4})\.jpg")
WIKI_NAME = re.compile(r"wiki_crop/\d\d/\d+_(\d+)-\d+-\d+_(\d{4})\.jpg")


def test_agedb_layout_and_file_names(tmp_path):
    root = write_phantom("agedb", tmp_path, n=40, image_size=20)
    table = pd.read_csv(root / "agedb.csv")
    assert list(table.columns) == ["age", "path", "split"]
    assert set(table["split"]) == {"train", "val", "test"}
    for age, path in zip(table["age"], table["path"], strict=True):
        assert path.startswith("AgeDB/")
        stem_parts = Path(path).stem.split("_")
        assert int(stem_parts[-2]) == age and stem_parts[-1] in ("m", "f")
        with Image.open(root / path) as image:
            assert image.format == "JPEG" and image.mode == "RGB" and image.size == (20, 20)
    assert table["age"].between(1, 101).all()


def test_imdbwiki_layout_and_file_names(tmp_path):
    root = write_phantom("imdbwiki", tmp_path, n=40, image_size=20, seed=2)
    table = pd.read_csv(root / "imdb_wiki.csv")
    assert list(table.columns) == ["age", "path", "split"]
    for age, path in zip(table["age"], table["path"], strict=True):
        match = IMDB_NAME.fullmatch(path) or WIKI_NAME.fullmatch(path)
        assert match, path
        assert int(match.group(2)) - int(match.group(1)) == age  # photo year - birth year
        assert (root / path).is_file()
    assert table["path"].str.startswith("wiki_crop/").any()


@pytest.mark.parametrize(
    ("name", "csv_name"), [("agedb", "agedb.csv"), ("imdbwiki", "imdb_wiki.csv")]
)
def test_face_phantoms_are_deterministic_by_seed(tmp_path, name, csv_name):
    a = write_phantom(name, tmp_path / "a", n=10, image_size=16, seed=3)
    b = write_phantom(name, tmp_path / "b", n=10, image_size=16, seed=3)
    c = write_phantom(name, tmp_path / "c", n=10, image_size=16, seed=4)
    assert (a / csv_name).read_bytes() == (b / csv_name).read_bytes()
    assert (a / csv_name).read_bytes() != (c / csv_name).read_bytes()
    for path in pd.read_csv(a / csv_name)["path"]:
        assert (a / path).read_bytes() == (b / path).read_bytes()


@given(st.lists(st.integers(1, 12), min_size=1, max_size=200), st.integers(1, 5), st.integers(0, 9))
def test_dir_split_balances_val_and_test_per_age(ages, cap, seed):
    ages = np.asarray(ages)
    split = dir_balanced_split(ages, cap, np.random.default_rng(seed))
    for age, count in Counter(ages.tolist()).items():
        chosen = Counter(split[ages == age].tolist())
        assert chosen["val"] == chosen["test"] == min(count // 3, cap)
        assert chosen["train"] == count - 2 * min(count // 3, cap)


def test_agedb_phantom_val_and_test_are_balanced_and_train_is_skewed(tmp_path):
    root = write_phantom("agedb", tmp_path, n=300, image_size=16, seed=1)
    table = pd.read_csv(root / "agedb.csv")
    val_counts = table[table["split"] == "val"]["age"].value_counts()
    test_counts = table[table["split"] == "test"]["age"].value_counts()
    assert val_counts.max() <= 1 and test_counts.max() <= 1  # cap round(30 * 300 / 16488) = 1
    assert val_counts.sort_index().equals(test_counts.sort_index())
    train_counts = table[table["split"] == "train"]["age"].value_counts()
    assert train_counts.max() >= 5 * train_counts.min()


def test_hair_saturation_tracks_age(tmp_path):
    """Greying desaturates the hair in the top centre of the image: rank-correlated with age."""
    root = write_phantom("agedb", tmp_path, n=200, image_size=32, seed=7)
    table = pd.read_csv(root / "agedb.csv")
    saturation = []
    for path in table["path"]:
        with Image.open(root / path) as image:
            top = np.asarray(image.convert("RGB"), dtype=np.float64)[2:10, 10:22] / 255.0
        brightest, darkest = top.max(axis=2), top.min(axis=2)
        saturation.append(np.mean((brightest - darkest) / (brightest + 1e-3)))
    assert spearmanr(saturation, table["age"])[0] < -0.5


years = st.floats(0.0, 110.0)


@given(years, years, st.booleans())
def test_traits_age_monotonically(a, b, male):
    young, old = face_traits(min(a, b), male), face_traits(max(a, b), male)
    assert young.greying <= old.greying and young.wrinkle_depth <= old.wrinkle_depth
    assert young.wrinkle_lines <= old.wrinkle_lines and young.fold_depth <= old.fold_depth
    assert young.elongation <= old.elongation and young.eye_line >= old.eye_line
    assert young.recession <= old.recession


def test_traits_are_non_linear_in_age():
    elongation = [face_traits(a, True).elongation for a in (0, 10, 60, 70)]
    assert elongation[1] - elongation[0] > 10 * (elongation[3] - elongation[2])
    greying = [face_traits(a, True).greying for a in (10, 30, 55, 65)]
    assert greying[1] - greying[0] < 0.05 < greying[3] - greying[2]
    assert face_traits(60, male=False).recession == 0.0 < face_traits(60, male=True).recession


def test_bad_face_phantom_parameters():
    with pytest.raises(ValueError, match="needs n >= 3"):
        write_phantom("agedb", "/nonexistent", n=1)
    with pytest.raises(ValueError, match="at least 16"):
        write_phantom("imdbwiki", "/nonexistent", image_size=8)
