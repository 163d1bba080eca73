"""The BiLSTM pair encoder of STS-B-DIR against direct per-sentence code, its properties,
fixed GloVe vectors, errors, its registration and a training run on the text phantom."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from supremix.data.phantoms import write_phantom
from supremix.data.stsb import STSBDIR
from supremix.models import build_encoder, encoder_for_modality
from supremix.models.text import BiLSTMPairEncoder
from supremix.studies import compare_methods
from supremix.train import get_preset, train
from supremix.train.model import build_model, set_trainable


def pad(sentences: list[list[int]], length: int) -> torch.Tensor:
    out = torch.zeros(len(sentences), length, dtype=torch.int64)
    for row, ids in enumerate(sentences):
        out[row, : len(ids)] = torch.tensor(ids)
    return out


def direct_pair_feature(encoder: BiLSTMPairEncoder, first: list[int], second: list[int]):
    """Each sentence alone, unpadded: embeddings -> BiLSTM -> max over time; then
    [u, v, |u - v|, u * v]."""

    def sentence(ids):
        words = encoder.embed(torch.tensor([ids]))
        states, _ = encoder.lstm(words)
        return states[0].max(dim=0).values

    u, v = sentence(first), sentence(second)
    return torch.cat([u, v, (u - v).abs(), u * v])


sentence_st = st.lists(st.integers(1, 19), min_size=1, max_size=7)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    pairs=st.lists(st.tuples(sentence_st, sentence_st), min_size=1, max_size=4),
    extra=st.integers(0, 3),
    layers=st.integers(1, 2),
)
def test_pair_feature_matches_direct_code_whatever_the_padding(pairs, extra, layers):
    torch.manual_seed(0)
    encoder = BiLSTMPairEncoder(20, embedding_dim=5, hidden=3, layers=layers).eval()
    length = max(len(s) for pair in pairs for s in pair) + extra
    x = torch.stack([pad([a for a, _ in pairs], length), pad([b for _, b in pairs], length)], 1)
    with torch.no_grad():
        out = encoder(x)
        assert out.shape == (len(pairs), encoder.out_dim) == (len(pairs), 24)
        for row, (a, b) in enumerate(pairs):
            torch.testing.assert_close(out[row], direct_pair_feature(encoder, a, b))
            swapped = encoder(x[row : row + 1].flip(1))[0]
            torch.testing.assert_close(swapped[:6], out[row, 6:12])
            torch.testing.assert_close(swapped[12:], out[row, 12:])


def test_glove_vectors_are_a_fixed_buffer_and_scratch_embeddings_train():
    vectors = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    fixed = BiLSTMPairEncoder(10, vectors=vectors, hidden=2, layers=1)
    assert fixed.pretrained_embeddings and "vectors" not in dict(fixed.named_parameters())
    fixed.requires_grad_(True)
    x = pad([[1, 2, 3], [4, 5]], 4).view(1, 2, 4)
    optimizer = torch.optim.SGD(fixed.parameters(), lr=1.0)
    fixed(x).sum().backward()
    optimizer.step()
    np.testing.assert_array_equal(fixed.vectors.numpy(), vectors)
    scratch = BiLSTMPairEncoder(10, embedding_dim=6, hidden=2, layers=1)
    assert not scratch.pretrained_embeddings and isinstance(scratch.embedding, nn.Embedding)
    scratch(x).sum().backward()
    grad = scratch.embedding.weight.grad
    assert grad[[1, 2, 3, 4, 5]].abs().sum() > 0 and not grad[0].any()  # padding row fixed


def test_errors_name_the_problem():
    with pytest.raises(
        ValueError, match=r"vectors must be \(10, d\) for vocab_size 10, got \(9, 4\)"
    ):
        BiLSTMPairEncoder(10, vectors=np.zeros((9, 4)))
    encoder = BiLSTMPairEncoder(10, embedding_dim=3, hidden=2, layers=1)
    with pytest.raises(ValueError, match=r"expects token ids \(B, 2, L\) of integers"):
        encoder(torch.zeros(2, 3, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"expects token ids"):
        encoder(torch.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"a sentence has no tokens"):
        encoder(torch.tensor([[[1, 2], [0, 0]]]))
    with pytest.raises(ValueError, match=r"encoder 'bilstm' reads sentence pairs"):
        build_encoder("bilstm", in_channels=3, vocab_size=10)
    with pytest.raises(ValueError, match=r"in_channels must be 2 and vocab_size given"):
        encoder_for_modality("text", in_channels=2)


def test_registry_sizes():
    cpu = encoder_for_modality("text", in_channels=2, vocab_size=30)
    assert isinstance(cpu, BiLSTMPairEncoder) and cpu.out_dim == 8 * 32
    assert cpu.lstm.num_layers == 1 and cpu.embedding.embedding_dim == 32
    small = build_encoder("bilstm", in_channels=2, vocab_size=30, width=4, depth=2)
    assert small.out_dim == 32 and small.lstm.num_layers == 2 and small.lstm.hidden_size == 4
    glove = build_encoder("bilstm", in_channels=2, vocab_size=30, vectors=np.ones((30, 7)), width=3)
    assert glove.lstm.input_size == 7


@pytest.mark.slow
@pytest.mark.parametrize("glove", ["auto", None])
def test_a_run_on_the_text_phantom_uses_the_datasets_words(tmp_path, glove):
    root = write_phantom("stsb", tmp_path / "phantom", n=64, seed=0)
    splits = {
        s: STSBDIR(root, s, glove=glove, cache_dir=tmp_path) for s in ("train", "val", "test")
    }
    config = get_preset(
        "stsb-cpu",
        method="supremix",
        epochs=1,
        probe_epochs=1,
        warmup_epochs=0,
        batch_size=16,
        progress=False,
        device="cpu",
    )
    result = train(
        config,
        train_set=splits["train"],
        val_set=splits["val"],
        test_set=splits["test"],
        out_dir=tmp_path / "run",
    )
    encoder = result.model.encoder
    assert encoder.vocab_size == len(splits["train"].vocabulary)
    if glove is None:
        assert not encoder.pretrained_embeddings
    else:
        np.testing.assert_array_equal(encoder.vectors.numpy(), splits["train"].embeddings)
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["dataset"]["modality"] == "text" and saved["dataset"]["input_shape"] == [2, 40]
    assert np.isfinite(saved["test"]["mae"])
    model = build_model(
        config, modality="text", in_channels=2, data_inputs=splits["train"].encoder_inputs()
    )
    set_trainable(model, encoder=True, projection_head=True, regressor=True)
    assert all(p.requires_grad for p in model.encoder.parameters())


@pytest.mark.slow
def test_the_phantom_is_learned_at_the_cpu_preset(monkeypatch):
    """The book's phantom standard: at the CPU preset the best method's test MAE is at most 0.6
    times the MAE of predicting the training mean (SupReMix alone is tested, to save time)."""
    monkeypatch.delenv("SUPREMIX_DATA", raising=False)
    study = compare_methods("stsb", methods=["supremix"], seeds=[0], device="cpu")
    assert study.data_kind == "phantom" and study.preset == "stsb-cpu"
    mae = study.metrics_frame()["MAE"].min()
    assert mae <= 0.6 * study.mean_predictor_metrics()["MAE"], mae
