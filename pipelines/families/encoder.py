"""Encoder-only models without a task head (all-MiniLM-L6-v2): the bare BERT stack, for the explainers
that look at its embeddings, positions, attention and hidden states."""

from __future__ import annotations

from pipelines.core.bundle import Bundle, LoadRequest, load_pretrained


def load(request: LoadRequest) -> Bundle:
    from transformers import AutoModel, AutoTokenizer

    return load_pretrained(request, AutoModel, AutoTokenizer)
