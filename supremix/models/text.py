"""The text encoder of STS-B-DIR: the BiLSTM + GloVe baseline of the GLUE and STS-B-DIR
benchmarks, which Mixup Your Own Pairs adopts (§4 "Backbone networks", Table 13 "BiLSTM").

A pair of sentences ``(B, 2, L)`` of token ids (0 = padding) is encoded as in the benchmark's
``HeadlessPairEncoder``: word embeddings, dropout, one bidirectional LSTM shared by both
sentences (over the real tokens only), dropout, max pooling over the tokens, giving sentence
vectors ``u`` and ``v`` of ``2 * hidden`` values; the pair feature is
``[u, v, |u - v|, u * v]`` (``8 * hidden`` values), what the regressor reads and what the
contrastive losses' projection head reads (§4: the losses act on the pair embedding).

Embeddings: with ``vectors`` (GloVe, :func:`supremix.data.glove.embedding_matrix`) the table is
a fixed buffer, as the benchmark keeps GloVe frozen (``--train_words 0``); without them a
trainable table of ``embedding_dim`` is learned from scratch (``--glove 0``), which is
**not the paper's embeddings**. The benchmark's sizes: 300-d words, 2 layers of 1,500 units
per direction, dropout 0.2.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import torch
from torch import nn
from torch.nn import functional
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class BiLSTMSize(TypedDict):
    """The sizes of a :class:`BiLSTMPairEncoder`."""

    embedding_dim: int
    hidden: int
    layers: int
    dropout: float


PAPER_SIZE: BiLSTMSize = {"embedding_dim": 300, "hidden": 1500, "layers": 2, "dropout": 0.2}


class BiLSTMPairEncoder(nn.Module):
    """``(B, 2, L)`` token ids -> ``(B, 8 * hidden)`` pair features ``[u, v, |u-v|, u*v]``.

    ``vectors``: a fixed ``(vocab_size, d)`` embedding table (GloVe), else a trainable table
    of ``embedding_dim``. Every sentence needs at least one token (id > 0).
    """

    vectors: torch.Tensor | None

    def __init__(
        self,
        vocab_size: int,
        *,
        vectors: np.ndarray | torch.Tensor | None = None,
        embedding_dim: int = PAPER_SIZE["embedding_dim"],
        hidden: int = PAPER_SIZE["hidden"],
        layers: int = PAPER_SIZE["layers"],
        dropout: float = PAPER_SIZE["dropout"],
    ):
        super().__init__()
        if vocab_size < 2 or hidden < 1 or layers < 1 or not 0 <= dropout < 1:
            raise ValueError(
                f"BiLSTM needs vocab_size >= 2, hidden >= 1, layers >= 1 and dropout in [0, 1), "
                f"got {vocab_size}, {hidden}, {layers}, {dropout}"
            )
        self.embedding: nn.Embedding | None = None
        if vectors is not None:
            table = torch.as_tensor(np.asarray(vectors), dtype=torch.float32)
            if table.dim() != 2 or table.shape[0] != vocab_size:
                raise ValueError(
                    f"vectors must be ({vocab_size}, d) for vocab_size {vocab_size}, got "
                    f"{tuple(table.shape)}"
                )
            self.register_buffer("vectors", table.clone())
            embedding_dim = table.shape[1]
        else:
            self.vectors = None
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.vocab_size = vocab_size
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            embedding_dim, hidden, num_layers=layers, batch_first=True, bidirectional=True
        )
        self.out_dim = 8 * hidden

    @property
    def pretrained_embeddings(self) -> bool:
        """Whether the word vectors were given (fixed) rather than learned from scratch."""
        return self.embedding is None

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        if self.embedding is not None:
            return self.embedding(ids)
        if self.vectors is None:
            raise RuntimeError("BiLSTMPairEncoder has neither word vectors nor an embedding table")
        return functional.embedding(ids, self.vectors, padding_idx=0)

    def encode_sentences(self, ids: torch.Tensor) -> torch.Tensor:
        """``(N, L)`` token ids -> ``(N, 2 * hidden)``: max over the BiLSTM states of the
        real tokens."""
        lengths = (ids > 0).sum(dim=1)
        if bool((lengths == 0).any()):
            raise ValueError("BiLSTMPairEncoder: a sentence has no tokens (all ids are 0)")
        words = self.dropout(self.embed(ids))
        packed = pack_padded_sequence(words, lengths.cpu(), batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=ids.shape[1])
        states = self.dropout(states)
        real = (ids > 0).unsqueeze(-1)
        return states.masked_fill(~real, float("-inf")).max(dim=1).values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != 2 or x.dtype not in (torch.int64, torch.int32):
            raise ValueError(
                f"BiLSTMPairEncoder expects token ids (B, 2, L) of integers, got "
                f"{tuple(x.shape)} {x.dtype}"
            )
        batch = x.shape[0]
        both = self.encode_sentences(torch.cat([x[:, 0], x[:, 1]]).long())
        u, v = both[:batch], both[batch:]
        return torch.cat([u, v, (u - v).abs(), u * v], dim=1)
