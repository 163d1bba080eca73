"""STS-B-DIR: the real benchmark files (../shared/data), TSVs written by pandas, bad input,
the GloVe reader and its cache, the tokenizer and the text phantom."""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.data import DatasetContentError, DatasetLayoutError, get_dataset
from supremix.data import glove as glove_module
from supremix.data.glove import GloVeFormatError, cached_glove, embedding_matrix, read_glove
from supremix.data.phantoms import write_phantom
from supremix.data.phantoms.text import GLOVE_NAME
from supremix.data.stsb import (
    COLUMNS,
    FILES,
    NOT_PAPER_EMBEDDINGS,
    PADDING,
    STSBDIR,
    UNKNOWN,
    build_vocabulary,
    locate_stsb,
    read_stsb_tsv,
)
from supremix.data.tokenizer import MAX_TOKENS, tokenize

SHA256 = {
    "train_new.tsv": "4da3322ae29f7ad1b7d03cdeafcb2480c276e5df1d08737678a7856697218a9a",
    "dev_new.tsv": "9ec12d785aa817ffe4b0f88fde442d3bf57161d8cbeaa84aaa1fdf764cca6dd6",
    "test_new.tsv": "55f90b3c5a0b2947d5ff64c41536191e9e1ba3bb5ffe64aca5465ab25fa8e94c",
}


def shared_folder() -> Path:
    configured = os.environ.get("SUPREMIX_DATA")
    if configured and (Path(configured) / "sts-b-dir").is_dir():
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


SHARED = shared_folder()
REAL = SHARED / "sts-b-dir" / "glue_data" / "STS-B"
needs_real = pytest.mark.skipif(
    not (REAL / "train_new.tsv").is_file(), reason="the real STS-B-DIR files (../shared) are absent"
)


def write_tsvs(folder: Path, rows: dict[str, list[tuple[str, str, float]]]) -> Path:
    """GLUE-layout TSVs written by pandas (tabs, no quoting), one per split."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, name in FILES.items():
        frame = pd.DataFrame(
            [
                [i, "main-news", "x", "2012", f"{i:04d}", "none", "none", a, b, f"{s:.3f}"]
                for i, (a, b, s) in enumerate(rows[split])
            ],
            columns=list(COLUMNS),
        )
        frame.to_csv(folder / name, sep="\t", index=False, quoting=csv.QUOTE_NONE, escapechar="\\")
    return folder


PAIRS = {
    "train": [
        ("A man plays a guitar.", "A man plays the guitar.", 4.8),
        ("Dogs run.", "Cats sleep.", 0.2),
    ],
    "val": [("A woman is cooking.", "A woman cooks food.", 4.0)],
    "test": [("The cat sat.", "A dog barked at the mailman.", 0.5)],
}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------- the real files


@needs_real
def test_real_files_are_the_benchmarks_with_its_sizes_and_balance():
    for name, digest in SHA256.items():
        assert hashlib.sha256((REAL / name).read_bytes()).hexdigest() == digest
    splits = {s: get_dataset("stsb", SHARED, s, glove=None) for s in ("train", "val", "test")}
    assert [len(d) for d in splits.values()] == [5249, 1000, 1000]  # Table 12
    for dataset in splits.values():
        assert dataset.targets.min() >= 0 and dataset.targets.max() <= 5
        assert dataset.embeddings is None and dataset.embedding_source == NOT_PAPER_EMBEDDINGS
    for split in ("val", "test"):  # balanced: 100 pairs per half point
        counts = np.histogram(splits[split].targets, bins=10, range=(0, 5))[0]
        assert counts.tolist() == [100] * 10
    assert splits["train"].vocabulary == splits["test"].vocabulary


@needs_real
def test_real_items_are_the_tokens_of_their_rows():
    test = STSBDIR(SHARED / "sts-b-dir", "test", glove=None)
    lines = (REAL / "test_new.tsv").read_text(encoding="utf-8").splitlines()
    assert test.ids[0] == "0" and test[0]["y"] == 0.0
    for index in (0, 417, 999):
        fields = lines[index + 1].split("\t")
        item = test[index]
        assert item["id"] == fields[0] and item["y"] == float(fields[9])
        assert item["x"].shape == (2, MAX_TOKENS) and str(item["x"].dtype) == "torch.int64"
        for side, sentence in enumerate(fields[7:9]):
            ids = [i for i in item["x"][side].tolist() if i]
            assert [test.vocabulary[i] for i in ids] == tokenize(sentence)


# ---------------------------------------------------------------------- files written here


def test_pandas_written_tsvs_load_with_one_vocabulary(tmp_path):
    write_tsvs(tmp_path / "glue_data" / "STS-B", PAIRS)
    assert locate_stsb(tmp_path) == tmp_path / "glue_data" / "STS-B"
    train = get_dataset("stsb", tmp_path, "train", glove=None)
    test = get_dataset("stsb", tmp_path / "glue_data" / "STS-B", "test", glove=None)
    assert train.targets.tolist() == [4.8, 0.2] and test.targets.tolist() == [0.5]
    assert train.vocabulary == test.vocabulary
    assert train.vocabulary[:2] == [PADDING, UNKNOWN]
    assert train.vocabulary[2] == "." and train.vocabulary[3] == "A"  # most frequent first
    assert train.modality == "text" and train.encoder_inputs()["vocab_size"] == len(
        train.vocabulary
    )
    assert train.sentence_pairs[1] == ("Dogs run.", "Cats sleep.")


def test_a_rare_word_beyond_max_vocabulary_is_unknown(tmp_path):
    write_tsvs(tmp_path, PAIRS)
    small = STSBDIR(tmp_path, "test", glove=None, max_vocabulary=3)
    assert len(small.vocabulary) == 5
    assert 1 in small[0]["x"].tolist()[1]  # "mailman" is beyond the three most frequent


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("index\tgenre", "idx\tgenre"),
            r"line 1 of .*test_new.tsv is .*expected the header",
        ),
        (
            lambda t: t.replace("\t0.500", "\tnope"),
            r"line 2 of .*test_new.tsv: score 'nope' is not a number",
        ),
        (
            lambda t: t.replace("\t0.500", "\t5.100"),
            r"line 2 of .*test_new.tsv: score 5.1 is outside \[0, 5\]",
        ),
        (
            lambda t: t.replace("\tnone\tThe cat", "\tThe cat"),
            r"line 2 of .*test_new.tsv has 9 fields, expected 10",
        ),
        (
            lambda t: t.replace("The cat sat.", " "),
            r"line 2 of .*test_new.tsv: column 8 has no tokens",
        ),
    ],
)
def test_bad_rows_are_named_and_nothing_is_written(tmp_path, edit, message):
    folder = write_tsvs(tmp_path / "data", PAIRS)
    path = folder / "test_new.tsv"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    before = snapshot(tmp_path)
    with pytest.raises(DatasetContentError, match=message):
        STSBDIR(folder, "train", glove=None, cache_dir=tmp_path / "cache")
    assert snapshot(tmp_path) == before


def test_missing_files_name_the_folder(tmp_path):
    with pytest.raises(
        DatasetLayoutError, match=rf"stsb: no folder under {tmp_path} holds train_new.tsv"
    ):
        STSBDIR(tmp_path, "train")
    with pytest.raises(DatasetLayoutError, match=r"is not a folder"):
        STSBDIR(tmp_path / "absent", "train")
    with pytest.raises(ValueError, match=r"stsb: unknown split 'dev'"):
        STSBDIR(tmp_path, "dev")


def test_read_tsv_keeps_quotes_and_ignores_crlf(tmp_path):
    folder = write_tsvs(tmp_path, PAIRS)
    path = folder / "val_quotes.tsv"
    header = "\t".join(COLUMNS)
    row = "\t".join(
        ["7", "g", "f", "y", "o", "none", "none", 'He said "hi".', "It's 'ok'", "2.500"]
    )
    path.write_bytes(f"{header}\r\n{row}\r\n".encode())
    table = read_stsb_tsv(path)
    assert table == {
        "index": ["7"],
        "sentence1": ['He said "hi".'],
        "sentence2": ["It's 'ok'"],
        "score": [2.5],
    }


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefg"), max_size=6), max_size=8), st.integers(0, 10))
def test_vocabulary_is_ranked_by_frequency_then_first_appearance(sentences, limit):
    order, counts = [], {}
    for sentence in sentences:
        for token in sentence:
            if token not in counts:
                order.append(token)
            counts[token] = counts.get(token, 0) + 1
    ranked = sorted(order, key=lambda t: (-counts[t], order.index(t)))
    assert build_vocabulary(sentences, limit) == [PADDING, UNKNOWN, *ranked[:limit]]


# ---------------------------------------------------------------------- tokenizer


def test_tokenizer_is_nltk_treebank_without_sentence_splitting():
    assert tokenize("A man isn't riding a horse.") == [
        "A",
        "man",
        "is",
        "n't",
        "riding",
        "a",
        "horse",
        ".",
    ]
    # the documented difference from nltk.word_tokenize: a period inside the text stays attached
    assert tokenize("He rides. She walks.") == ["He", "rides.", "She", "walks", "."]
    assert len(tokenize(" ".join(["w"] * 60))) == MAX_TOKENS
    assert len(tokenize(" ".join(["w"] * 60), None)) == 60


@settings(max_examples=40, deadline=None)
@given(st.text(st.characters(codec="ascii"), max_size=80), st.integers(0, 12))
def test_truncation_keeps_a_prefix(text, k):
    assert tokenize(text, k) == tokenize(text, None)[:k]


# ---------------------------------------------------------------------- GloVe


def write_glove(path: Path, vectors: dict[str, np.ndarray]) -> Path:
    lines = [" ".join([w, *(repr(float(v)) for v in vec)]) for w, vec in vectors.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_glove_streams_the_asked_words(tmp_path):
    rng = np.random.default_rng(0)
    table = {
        w: rng.normal(size=5).astype(np.float32) for w in ["the", ".", "new york", "cat", "the"]
    }
    path = write_glove(tmp_path / "g.txt", table)
    with path.open("a", encoding="utf-8") as stream:  # a repeated word keeps its first vector
        stream.write("cat " + " ".join(["9"] * 5) + "\n")
    vectors, found = read_glove(path, ["cat", "dog", "new york", "."])
    assert found.tolist() == [True, False, True, True]
    np.testing.assert_array_equal(vectors[0], table["cat"])
    np.testing.assert_array_equal(vectors[2], table["new york"])
    assert not vectors[1].any() and vectors.dtype == np.float32


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a 1 2 3\nb 1 2\n", r"g.txt, line 2: 2 values, expected 3"),
        ("a 1 2 3\nb 1 x 3\n", r"g.txt, line 2: the values of 'b' are not all numbers"),
        ("", r"g.txt: no vectors \(empty file\)"),
    ],
)
def test_malformed_glove_lines_are_named(tmp_path, content, message):
    (tmp_path / "g.txt").write_text(content)
    with pytest.raises(GloVeFormatError, match=message):
        read_glove(tmp_path / "g.txt", ["a", "b"])
    with pytest.raises(GloVeFormatError):
        cached_glove(tmp_path / "g.txt", ["a", "b"], cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("*.npz"))


def test_glove_cache_is_read_once_per_file_and_vocabulary(tmp_path, monkeypatch):
    path = write_glove(tmp_path / "g.txt", {"a": np.ones(3), "b": np.zeros(3)})
    first = cached_glove(path, ["a", "c"], cache_dir=tmp_path)
    calls = []
    monkeypatch.setattr(glove_module, "read_glove", lambda *a, **k: calls.append(a) or first)
    again = cached_glove(path, ["a", "c"], cache_dir=tmp_path)
    assert calls == [] and all(np.array_equal(x, y) for x, y in zip(first, again, strict=True))
    cached_glove(path, ["a", "b"], cache_dir=tmp_path)  # another vocabulary: read again
    assert len(calls) == 1
    with pytest.raises(FileNotFoundError, match=r"GloVe: .*absent.txt is not a file"):
        cached_glove(tmp_path / "absent.txt", ["a"], cache_dir=tmp_path)


def test_embedding_matrix_fills_the_missing_rows_like_the_benchmark():
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    found = np.array([True, False, True, False])
    table = embedding_matrix(vectors, found, seed=3)
    assert not table[0].any()  # padding
    np.testing.assert_array_equal(table[2], vectors[2])
    expected = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(table[[1, 3]], expected[[1, 3]])


# ---------------------------------------------------------------------- the phantom


def test_phantom_scores_follow_the_generative_model(tmp_path):
    root = write_phantom("stsb", tmp_path / "p", n=80, seed=4)
    again = write_phantom("stsb", tmp_path / "q", n=80, seed=4)
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((root / f).read_bytes() == (again / f).read_bytes() for f in files)
    for split, name in FILES.items():
        table = read_stsb_tsv(root / "glue_data" / "STS-B" / name)
        assert len(table["score"]) == (80 if split == "train" else 20)
        for first, second, score in zip(
            table["sentence1"], table["sentence2"], table["score"], strict=True
        ):
            a, b = first.split(), second.split()
            agree = sum(x == y for x, y in zip(a[:-1], b[:-1], strict=True))
            assert score == pytest.approx(5 * agree / (len(a) - 1), abs=5e-4)
    train = STSBDIR(root, "train", cache_dir=tmp_path / "cache")
    assert train.glove_path == root / "glove" / GLOVE_NAME
    assert train.embeddings.shape == (len(train.vocabulary), 16)
    assert 0.5 < train.glove_coverage < 1.0
    vectors, found = read_glove(train.glove_path, train.vocabulary)
    np.testing.assert_array_equal(train.embeddings[found], vectors[found][: found.sum()])
    assert STSBDIR(root, "val", glove=None).embeddings is None
