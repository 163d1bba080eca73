"""Resuming (``supremix.train.resume``, ``supremix.train.fingerprint``): a damaged, empty or
foreign ``last.pt`` and other data are refused in one line naming the file and what differs,
with nothing on disk changed."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
import torch
from runs_kit import Rows, rows_splits, tiny_config, tree_state

from supremix.train import train
from supremix.train.checkpoint import CheckpointError, load_checkpoint
from supremix.train.fingerprint import data_differences, dataset_fingerprint
from supremix.train.resume import ResumeError, read_resume_file, read_resume_point


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished one-epoch run: real ``last.pt``, ``best.pt``, CSV and JSON."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    torch.set_num_threads(1)
    train(tiny_config(), **rows_splits(), out_dir=folder)
    return folder


@pytest.fixture
def run_copy(finished_run, tmp_path):
    return shutil.copytree(finished_run, tmp_path / "run")


class Opaque:
    """A class that ``weights_only`` loading refuses."""


def damage(path, how):
    """Replace the real checkpoint ``path`` by a damaged or foreign file."""
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "one byte short":
        path.write_bytes(data[:-1])
    elif how == "text":
        path.write_text("not a checkpoint\n")
    elif how == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif how == "pickled object":
        path.write_bytes(pickle.dumps(Opaque(), protocol=2))
    elif how == "tensor":
        torch.save(torch.zeros(3), path)
    elif how == "foreign dict":
        torch.save({"state_dict": {"w": torch.zeros(2)}, "epoch": 3}, path)
    elif how == "old format":
        state = torch.load(path, weights_only=True)
        torch.save({**state, "format": 1}, path)
    elif how == "missing keys":
        state = torch.load(path, weights_only=True)
        torch.save({k: v for k, v in state.items() if k not in ("rng", "ema")}, path)
    return path


DAMAGES = [
    "empty",
    "truncated",
    "one byte short",
    "text",
    "random bytes",
    "pickled object",
    "tensor",
    "foreign dict",
    "old format",
    "missing keys",
]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_or_foreign_last_pt_is_refused_naming_it(run_copy, how):
    last = damage(run_copy / "last.pt", how)
    before = tree_state(run_copy)
    with pytest.raises(ResumeError) as error:
        read_resume_file(last)
    message = str(error.value)
    assert str(last) in message and "start over with --overwrite" in message
    assert "\n" not in message
    assert tree_state(run_copy) == before


@pytest.mark.parametrize("how", ["empty", "truncated", "text", "random bytes", "pickled object"])
def test_load_checkpoint_names_an_unreadable_file(run_copy, how):
    path = damage(run_copy / "best.pt", how)
    with pytest.raises(CheckpointError, match=f"{path} is not a readable torch checkpoint"):
        load_checkpoint(path)


@pytest.mark.parametrize("how", ["empty", "truncated", "foreign dict", "old format"])
def test_train_resume_refuses_a_damaged_last_pt_before_training(run_copy, how):
    last = damage(run_copy / "last.pt", how)
    before = tree_state(run_copy)
    with pytest.raises(ResumeError, match=f"{last}.*start over with --overwrite"):
        train(tiny_config(), **rows_splits(), out_dir=run_copy, resume=True)
    assert tree_state(run_copy) == before


def changed_data(what):
    data = rows_splits()
    if what == "labels":
        data["train_set"].targets[3] += 1.0
    elif what == "size":
        data["train_set"] = Rows(31, seed=0, split="train")
    elif what == "ids":
        data["val_set"].ids[0] = "other"
    elif what == "test split":
        data["test_set"] = None
    elif what == "other draw":
        data = rows_splits(seed=5)
    return data


EXPECTED = {
    "labels": "the train split's labels",
    "size": "the train split's size, labels, item ids (32 items then, 31 now)",
    "ids": "the val split's item ids",
    "test split": "the test split is absent",
    "other draw": "the train split's labels",
}


@pytest.mark.parametrize("what", sorted(EXPECTED))
def test_resuming_on_other_data_is_refused_naming_what_differs(run_copy, what):
    before = tree_state(run_copy)
    with pytest.raises(ResumeError) as error:
        train(tiny_config(), **changed_data(what), out_dir=run_copy, resume=True)
    message = str(error.value)
    assert f"cannot resume from {run_copy / 'last.pt'}: it was trained on other data" in message
    assert EXPECTED[what] in message and "start over with --overwrite" in message
    assert tree_state(run_copy) == before


def test_resuming_a_finished_run_on_the_same_data_re_evaluates(run_copy):
    result = train(tiny_config(), **rows_splits(), out_dir=run_copy, resume=True)
    assert result.results["resumed_from"] == {"stage": "regression", "epoch": 1}
    assert sorted(tree_state(run_copy)) == ["best.pt", "last.pt", "metrics.csv", "results.json"]


def test_a_different_number_of_processes_is_refused(run_copy):
    last = run_copy / "last.pt"
    state = read_resume_file(last)
    fingerprint = state["data"]
    with pytest.raises(ResumeError, match="written by 1 processes, this run has 2"):
        read_resume_point(last, config=tiny_config(), world_size=2, data=fingerprint)


def write_files(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


FILES = {"images/a.png": b"a" * 10, "images/b.png": b"b" * 20, "labels.csv": b"id,y\na,1\n"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"images/c.png": b"c"}, "added images/c.png"),
        ({"images/a.png": b"a" * 11}, "resized images/a.png"),
        ({"labels.csv": b"id,y\na,2\nb,3\n"}, "resized labels.csv"),
    ],
)
def test_files_added_or_resized_under_the_data_root_are_named(tmp_path, change, expected):
    root = write_files(tmp_path / "data", FILES)
    splits = {"train": Rows(8)}
    saved = dataset_fingerprint(splits, root)
    write_files(root, change)
    [difference] = data_differences(saved, dataset_fingerprint(splits, root))
    assert difference == f"the files under {root}: {expected}"


def test_a_removed_file_is_named_and_a_moved_root_is_the_same_data(tmp_path):
    root = write_files(tmp_path / "data", FILES)
    splits = {"train": Rows(8)}
    saved = dataset_fingerprint(splits, root)
    moved = shutil.copytree(root, tmp_path / "elsewhere")
    assert data_differences(saved, dataset_fingerprint(splits, moved)) == []
    (root / "images" / "b.png").unlink()
    [difference] = data_differences(saved, dataset_fingerprint(splits, root))
    assert difference == f"the files under {root}: removed images/b.png"


def test_a_single_data_file_is_fingerprinted_by_size(tmp_path):
    data = write_files(tmp_path, {"airfoil.dat": b"1\t2\t3\n"}) / "airfoil.dat"
    splits = {"train": Rows(8)}
    saved = dataset_fingerprint(splits, data)
    data.write_bytes(b"1\t2\t3\n4\t5\t6\n")
    [difference] = data_differences(saved, dataset_fingerprint(splits, data))
    assert difference == f"the files under {data}: resized airfoil.dat"
