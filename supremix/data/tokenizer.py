"""Word tokenisation of STS-B sentences as Mixup Your Own Pairs B.1.3 states ("NLTK toolkit
tokenization"), without any model download.

The STS-B-DIR benchmark tokenises each sentence with ``nltk.word_tokenize`` and keeps the first
40 tokens. ``word_tokenize`` first splits the text into sentences with the Punkt model (a
download, ``nltk.download('punkt')``), then tokenises each sentence with NLTK's improved
Treebank tokenizer. :func:`tokenize` runs that same Treebank tokenizer on the whole text
(``word_tokenize(..., preserve_line=True)``), which needs no download. The only difference:
a period that ends a sentence *inside* the text stays attached to its word (``"horse."``), where
Punkt would have split it off (``"horse"``, ``"."``); the period that ends the text is split
off by both. Most STS-B items are one sentence, so few tokens differ.
"""

from __future__ import annotations

from nltk.tokenize import word_tokenize

#: The STS-B-DIR benchmark's ``max_seq_len``: tokens kept per sentence.
MAX_TOKENS = 40


def tokenize(text: str, max_tokens: int | None = MAX_TOKENS) -> list[str]:
    """The NLTK Treebank tokens of ``text`` (case kept), the first ``max_tokens`` of them
    (all with ``None``)."""
    tokens = word_tokenize(text, preserve_line=True)
    return tokens if max_tokens is None else tokens[:max_tokens]
