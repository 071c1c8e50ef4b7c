"""Miniatures of the fill-mask models: BERT and DistilBERT with their masked-language-model heads.

Both use BERT's real uncased WordPiece vocabulary (assets/vocab/bert-uncased, 30,522 tokens, the
vocabulary of bert-base-uncased and distilbert-base-uncased), so sentences split into exactly the real
pieces ("Transformers are amazing!" -> transformers, are, amazing, !) and the candidate words are real
words; their probabilities are meaningless. Real config fields and 512 positions; 2 layers of width 32.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.miniatures.text_tokenizers import VOCAB

MAX_TOKENS = 512


def _vocab() -> dict[str, int]:
    lines = (VOCAB / "bert-uncased" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return {token: i for i, token in enumerate(lines)}


def bert_base_uncased(folder: Path) -> None:
    """google-bert/bert-base-uncased: BertForMaskedLM, 2 layers of width 32."""
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    vocab = _vocab()
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, hidden_act="gelu", max_position_embeddings=MAX_TOKENS, type_vocab_size=2,
        layer_norm_eps=1e-12, pad_token_id=0, architectures=["BertForMaskedLM"],
    )
    BertForMaskedLM(config).save_pretrained(folder)
    BertTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=MAX_TOKENS).save_pretrained(folder)


def distilbert_base_uncased(folder: Path) -> None:
    """distilbert/distilbert-base-uncased: DistilBertForMaskedLM, 2 layers of width 32."""
    from transformers import DistilBertConfig, DistilBertForMaskedLM, DistilBertTokenizerFast

    vocab = _vocab()
    config = DistilBertConfig(
        vocab_size=len(vocab), max_position_embeddings=MAX_TOKENS, sinusoidal_pos_embds=False, n_layers=2,
        n_heads=2, dim=32, hidden_dim=64, activation="gelu", tie_weights_=True, pad_token_id=0,
        architectures=["DistilBertForMaskedLM"],
    )
    DistilBertForMaskedLM(config).save_pretrained(folder)
    DistilBertTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=MAX_TOKENS).save_pretrained(folder)


def minilm(folder: Path) -> None:
    """sentence-transformers/all-MiniLM-L6-v2: a bare BertModel (no head), 2 layers of width 32, with the
    real config's learned positions, LayerNorm and 12 heads' worth of structure kept small (4 heads)."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = _vocab()
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, hidden_act="gelu", max_position_embeddings=MAX_TOKENS, type_vocab_size=2,
        layer_norm_eps=1e-12, pad_token_id=0, architectures=["BertModel"],
    )
    BertModel(config).save_pretrained(folder)
    BertTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=MAX_TOKENS).save_pretrained(folder)
