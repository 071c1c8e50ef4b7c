"""Texts: the tokenizer-training corpora (hand-written files) and texts/examples.json.

corpus.txt and code_corpus.py.txt are written by hand and committed as they are; this module only
checks them. examples.json is written from texts_content.py so the long articles stay readable.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import texts_content as content
from .common import ASSETS, write_text

TEXTS = ASSETS / "texts"


def examples() -> dict:
    return {
        "generation": content.GENERATION,
        "translation": content.TRANSLATION,
        "summarization": content.SUMMARIZATION,
        "question_answering": content.QUESTION_ANSWERING,
        "code": content.CODE,
        "image_labels": content.IMAGE_LABELS,
        "fill_mask": content.FILL_MASK,
        "sentiment": content.SENTIMENT,
    }


def build() -> list[Path]:
    path = TEXTS / "examples.json"
    write_text(path, json.dumps(examples(), ensure_ascii=False, indent=2) + "\n")
    return [path]


def check() -> None:
    corpus = (TEXTS / "corpus.txt").read_text(encoding="utf-8").splitlines()
    assert 190 <= len(corpus) <= 220 and all(line.strip() for line in corpus), len(corpus)
    code = (TEXTS / "code_corpus.py.txt").read_text(encoding="utf-8")
    compile(code, "code_corpus.py.txt", "exec")          # it is valid Python
    assert 140 <= len(code.splitlines()) <= 200

    data = json.loads((TEXTS / "examples.json").read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(examples())), "examples.json is stale: run make_assets.py texts"
    assert "Once upon a time," in data["generation"]
    pairs = {(t["text"], t["source"], t["target"]) for t in data["translation"]}
    for want in [("Good morning!", "en", "de"), ("Hello, how are you?", "en", "fr"), ("How are you?", "en", "fr")]:
        assert want in pairs, want
    assert {t["source"] for t in data["translation"]} >= {"en", "de", "fr", "es"}
    assert any(t["text"].count("\n\n") >= 2 for t in data["translation"])  # a multi-paragraph one

    from transformers import GPT2TokenizerFast  # BART/RoBERTa share GPT-2's BPE, so counts carry over
    bpe = GPT2TokenizerFast.from_pretrained(str(ASSETS / "vocab/gpt2"))
    short, long = (a["text"] for a in data["summarization"])
    assert 300 <= len(short.split()) <= 600, len(short.split())
    assert len(bpe(long)["input_ids"]) > 1100, len(bpe(long)["input_ids"])

    qa = data["question_answering"]
    assert qa[0] == {"question": "Where is the Eiffel Tower?", "context": "The Eiffel Tower is in Paris.",
                     "answer": "Paris"}
    for item in qa:
        if item["answer"] is not None:
            assert item["context"].count(item["answer"]) == 1, item["question"]
    longest = max(qa, key=lambda q: len(q["context"]))
    assert 600 <= len(longest["context"].split()) <= 800
    assert longest["context"].index(longest["answer"]) > 0.8 * len(longest["context"])  # near the end
    assert any(item["answer"] is None for item in qa)
    assert data["code"][0] == "def add(a, b):\n    return"
    print(f"texts: corpus {len(corpus)} lines, code {len(code.splitlines())} lines, "
          f"long article {len(bpe(long)['input_ids'])} GPT-2 tokens, "
          f"long QA context {len(longest['context'].split())} words")
