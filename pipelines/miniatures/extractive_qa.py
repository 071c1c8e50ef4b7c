"""Miniatures of the extractive question-answering readers (a start/end logit head on an encoder).

Both keep the real model and tokenizer classes, the real config fields and 512 positions (so the
pipeline's 384-token windows fit), and shrink only the sizes: 2 layers of width 32.

Vocabularies, and where they differ from the real checkpoints:
- DistilBERT: the real distilbert-base-cased-distilled-squad is *cased* (28,996 WordPiece tokens). We
  only have BERT's *uncased* vocabulary (assets/vocab/bert-uncased, 30,522 tokens), so the miniature
  lower-cases its input. Answers are still sliced from the original text by character offsets, so the
  case shown to the user is preserved.
- RoBERTa: its byte-level BPE is GPT-2's (same merges, same 50,257 token strings) plus fairseq's
  specials. We write a vocab.json with the specials at their real ids (<s>=0, <pad>=1, </s>=2,
  <unk>=3), the GPT-2 tokens after them, then madeupword0000-0002 and <mask>=50264: 50,265 entries as
  in the real file. The real file orders the ordinary tokens by fairseq's frequency dictionary, which
  we do not have, so their ids differ from the real ones; texts split into exactly the same pieces.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.miniatures.text_tokenizers import VOCAB, gpt2_files

# Real checkpoints accept 512 tokens; RoBERTa's position table has 2 extra rows (padding offset).
MAX_TOKENS = 512
ROBERTA_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
ROBERTA_TAIL = ("madeupword0000", "madeupword0001", "madeupword0002", "<mask>")


def distilbert(folder: Path) -> None:
    """distilbert/distilbert-base-cased-distilled-squad, 2 layers of width 32, uncased vocabulary."""
    from transformers import DistilBertConfig, DistilBertForQuestionAnswering, DistilBertTokenizerFast

    vocab_lines = (VOCAB / "bert-uncased" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    vocab = {token: i for i, token in enumerate(vocab_lines)}
    tokenizer = DistilBertTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=MAX_TOKENS)
    config = DistilBertConfig(
        vocab_size=len(vocab), max_position_embeddings=MAX_TOKENS, sinusoidal_pos_embds=False,
        n_layers=2, n_heads=2, dim=32, hidden_dim=64, dropout=0.1, attention_dropout=0.1,
        activation="gelu", qa_dropout=0.1, seq_classif_dropout=0.2, tie_weights_=True,
        pad_token_id=0, architectures=["DistilBertForQuestionAnswering"],
    )
    DistilBertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def roberta_vocab() -> dict[str, int]:
    """RoBERTa's 50,265-entry vocabulary built from GPT-2's (see the module docstring)."""
    gpt2_vocab, _ = gpt2_files()
    gpt2 = json.loads(gpt2_vocab.read_text(encoding="utf-8"))
    tokens = [*ROBERTA_SPECIALS, *sorted(gpt2, key=gpt2.__getitem__), *ROBERTA_TAIL]
    return {token: i for i, token in enumerate(tokens)}


def roberta(folder: Path) -> None:
    """deepset/roberta-base-squad2, 2 layers of width 32, with RoBERTa's real BPE pieces."""
    from transformers import RobertaConfig, RobertaForQuestionAnswering, RobertaTokenizerFast

    _, merges_file = gpt2_files()
    merges = [tuple(line.split(" ")) for line in merges_file.read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#version")]
    tokenizer = RobertaTokenizerFast(vocab=roberta_vocab(), merges=merges, add_prefix_space=False,
                                     trim_offsets=True, model_max_length=MAX_TOKENS)
    config = RobertaConfig(
        vocab_size=len(tokenizer), max_position_embeddings=MAX_TOKENS + 2, type_vocab_size=1,
        num_hidden_layers=2, num_attention_heads=2, hidden_size=32, intermediate_size=64,
        hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        layer_norm_eps=1e-5, initializer_range=0.02,
        bos_token_id=0, pad_token_id=1, eos_token_id=2, architectures=["RobertaForQuestionAnswering"],
    )
    RobertaForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
