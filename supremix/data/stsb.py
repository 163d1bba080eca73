"""STS-B-DIR (Yang et al. 2021): the imbalanced split of GLUE's STS-B sentence pairs.

The benchmark ships three tab-separated files in GLUE's STS-B layout,
``glue_data/STS-B/{train_new,dev_new,test_new}.tsv`` (5,249 / 1,000 / 1,000 pairs; Mixup Your
Own Pairs Table 12: score 0-5, bin size 0.1), each with the header ``index genre filename year
old_index source1 source2 sentence1 sentence2 score``. The training split is imbalanced, the
validation and test splits are balanced over the score.

Processing follows the benchmark's BiLSTM + GloVe baseline, which Mixup Your Own Pairs adopts
(§4 "Backbone networks", B.1.3): NLTK tokens, case kept, the first 40 per sentence
(:mod:`supremix.data.tokenizer`, which says how its tokens can differ from
``nltk.word_tokenize``); one vocabulary from the tokens of all three files, most frequent
first, at most 30,000 words, after the padding (index 0) and unknown (index 1) entries;
300-d GloVe vectors for the words GloVe has (:mod:`supremix.data.glove`), standard normal
draws for the others. Without GloVe vectors the encoder learns its embeddings from scratch,
which the benchmark allows (``--glove 0``) but the paper did not do: such runs use **not the
paper's embeddings**. See data_cards/stsb.md.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .base import RegressionDataset, Transform, check_split
from .errors import DatasetContentError, DatasetLayoutError
from .glove import cached_glove, embedding_matrix
from .tokenizer import MAX_TOKENS, tokenize

NAME = "stsb"
FILES = {"train": "train_new.tsv", "val": "dev_new.tsv", "test": "test_new.tsv"}
COLUMNS = (
    "index",
    "genre",
    "filename",
    "year",
    "old_index",
    "source1",
    "source2",
    "sentence1",
    "sentence2",
    "score",
)
#: Folders below a root where the TSVs may be (the benchmark's and GLUE's layouts).
SUBFOLDERS = ("", "STS-B", "glue_data/STS-B", "sts-b-dir/glue_data/STS-B")
SCORE_RANGE = (0.0, 5.0)
MAX_VOCABULARY = 30_000  # the benchmark's max_word_v_size
PADDING, UNKNOWN = "@@PADDING@@", "@@UNKNOWN@@"
NOT_PAPER_EMBEDDINGS = "trained from scratch: not the paper's embeddings"


def locate_stsb(root: str | Path) -> Path:
    """The folder holding the three TSVs: ``root`` itself or one of :data:`SUBFOLDERS`."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetLayoutError(NAME, f"{root} is not a folder", "the STS-B-DIR folder")
    for sub in SUBFOLDERS:
        folder = root / sub
        if all((folder / f).is_file() for f in FILES.values()):
            return folder
    raise DatasetLayoutError(
        NAME,
        f"no folder under {root} holds {', '.join(FILES.values())}",
        f"them in {root} or in {root}/glue_data/STS-B",
    )


def real_stsb_root(data_root: str | Path | None = None) -> Path | None:
    """``data_root``, else ``$SUPREMIX_DATA`` when the TSVs are under it (see
    :data:`SUBFOLDERS`), else ``None``: where a notebook finds the real splits, if anywhere."""
    if data_root is not None:
        return Path(data_root)
    configured = os.environ.get("SUPREMIX_DATA")
    if not configured:
        return None
    try:
        locate_stsb(Path(configured).expanduser())
    except DatasetLayoutError:
        return None
    return Path(configured).expanduser()


def read_stsb_tsv(path: str | Path) -> dict[str, list[Any]]:
    """The columns ``index``, ``sentence1``, ``sentence2`` and ``score`` of one STS-B TSV.

    Lines are split on tabs only (sentences hold quotes, so no CSV quoting applies); the
    header must name GLUE's ten columns. Errors name the file and line.
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8")
    lines = text.replace("\r\n", "\n").split("\n")
    header = lines[0].split("\t")
    if tuple(header) != COLUMNS:
        raise DatasetContentError(
            NAME, f"line 1 of {path} is {header!r}, expected the header {'/'.join(COLUMNS)}"
        )
    table: dict[str, list[Any]] = {"index": [], "sentence1": [], "sentence2": [], "score": []}
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(COLUMNS):
            raise DatasetContentError(
                NAME, f"line {number} of {path} has {len(fields)} fields, expected {len(COLUMNS)}"
            )
        try:
            score = float(fields[9])
        except ValueError:
            raise DatasetContentError(
                NAME, f"line {number} of {path}: score {fields[9]!r} is not a number"
            ) from None
        if not SCORE_RANGE[0] <= score <= SCORE_RANGE[1]:
            raise DatasetContentError(
                NAME, f"line {number} of {path}: score {score} is outside [0, 5]"
            )
        table["index"].append(fields[0])
        table["sentence1"].append(fields[7])
        table["sentence2"].append(fields[8])
        table["score"].append(score)
    if not table["score"]:
        raise DatasetContentError(NAME, f"{path} holds no sentence pairs")
    return table


@functools.lru_cache(maxsize=4)
def _tokenized(folder: str, stamp: tuple, max_tokens: int) -> dict[str, Any]:
    """Every split's table with its tokens; cached per folder, file stamp and length."""
    splits = {}
    for split, name in FILES.items():
        path = Path(folder) / name
        table = read_stsb_tsv(path)
        tokens = []
        for row, pair in enumerate(zip(table["sentence1"], table["sentence2"], strict=True)):
            pair_tokens = [tokenize(sentence, max_tokens) for sentence in pair]
            for column, sentence in zip((8, 9), pair_tokens, strict=True):
                if not sentence:
                    raise DatasetContentError(
                        NAME, f"line {row + 2} of {path}: column {column} has no tokens"
                    )
            tokens.append(pair_tokens)
        splits[split] = {**table, "tokens": tokens}
    return splits


def build_vocabulary(sentences: list[list[str]], max_words: int = MAX_VOCABULARY) -> list[str]:
    """Padding, unknown, then the ``max_words`` most frequent tokens (ties in order of first
    appearance), as the benchmark's ``get_vocab``."""
    counts = Counter(token for sentence in sentences for token in sentence)
    ranked = sorted(counts, key=lambda token: -counts[token])  # stable: first appearance
    return [PADDING, UNKNOWN, *ranked[:max_words]]


def find_glove(folder: Path) -> Path | None:
    """The GloVe file of the benchmark's layout: ``<benchmark>/glove/glove.840B.300d.txt``,
    else the first ``glove*.txt`` there (the phantom's); ``<benchmark>`` is the folder above
    ``glue_data``."""
    bench = folder.parent.parent if folder.parent.name == "glue_data" else folder
    candidates = sorted((bench / "glove").glob("glove*.txt"))
    preferred = [p for p in candidates if p.name == "glove.840B.300d.txt"]
    found = preferred or candidates
    return found[0] if found else None


class STSBDIR(RegressionDataset):
    """STS-B-DIR: ``x`` the token ids of both sentences, ``(2, max_tokens)`` int64, 0-padded;
    ``y`` the similarity score (0-5); ``id`` the file's ``index`` column.

    ``glove``: a GloVe text file, ``"auto"`` (the benchmark's ``glove/`` folder beside
    ``glue_data``, when it holds one) or ``None`` (embeddings learned from scratch, labelled
    :data:`NOT_PAPER_EMBEDDINGS`). :meth:`encoder_inputs` gives the encoder the vocabulary size
    and the embedding table (:func:`supremix.data.glove.embedding_matrix`).
    """

    name = NAME
    modality = "text"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        glove: str | Path | None = "auto",
        max_tokens: int = MAX_TOKENS,
        max_vocabulary: int = MAX_VOCABULARY,
        cache_dir: str | Path | None = None,
        transform: Transform | None = None,
    ):
        check_split(NAME, split)
        self.folder = locate_stsb(root)
        stamp = tuple(
            (p.stat().st_size, p.stat().st_mtime_ns)
            for p in (self.folder / f for f in FILES.values())
        )
        tables = _tokenized(str(self.folder.resolve()), stamp, max_tokens)
        table = tables[split]
        super().__init__(table["index"], table["score"], split=split, transform=transform)
        self.path = self.folder / FILES[split]
        self.sentence_pairs = list(zip(table["sentence1"], table["sentence2"], strict=True))
        all_sentences = [s for t in tables.values() for pair in t["tokens"] for s in pair]
        self.vocabulary = build_vocabulary(all_sentences, max_vocabulary)
        index = {token: i for i, token in enumerate(self.vocabulary)}
        ids = np.zeros((len(self.ids), 2, max_tokens), dtype=np.int64)
        for row, pair in enumerate(table["tokens"]):
            for side, sentence in enumerate(pair):
                ids[row, side, : len(sentence)] = [index.get(t, 1) for t in sentence]
        self.token_ids = ids
        self.glove_path = find_glove(self.folder) if glove == "auto" else glove
        self.embeddings: np.ndarray | None = None
        self.glove_coverage: float | None = None
        if self.glove_path is not None:
            vectors, found = cached_glove(self.glove_path, self.vocabulary, cache_dir=cache_dir)
            self.embeddings = embedding_matrix(vectors, found)
            self.glove_coverage = float(found[2:].mean()) if len(found) > 2 else 0.0
        self.options = {
            "glove": None if self.glove_path is None else str(self.glove_path),
            "max_tokens": max_tokens,
            "max_vocabulary": max_vocabulary,
        }

    @property
    def embedding_source(self) -> str:
        """The GloVe file the embeddings come from, or :data:`NOT_PAPER_EMBEDDINGS`."""
        return NOT_PAPER_EMBEDDINGS if self.glove_path is None else str(self.glove_path)

    def encoder_inputs(self) -> dict[str, Any]:
        """What the text encoder needs from the data: vocabulary size and embedding table."""
        return {"vocab_size": len(self.vocabulary), "vectors": self.embeddings}

    def load(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.token_ids[index].copy())

    def source_file(self, index: int) -> Path:
        return self.path
