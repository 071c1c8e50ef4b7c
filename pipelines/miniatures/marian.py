"""Miniature of the Helsinki-NLP opus-mt translation models (MarianMTModel + MarianTokenizer).

The real checkpoints (e.g. opus-mt-en-de: 6+6 layers, d_model 512, a 58,101-entry joint vocabulary)
keep two SentencePiece models (source.spm, target.spm) and one vocab.json that maps their pieces to ids,
with "</s>" = 0, "<unk>" = 1 and "<pad>" last (the pad id is also the decoder start token and a banned
word). This miniature keeps that layout and the config/generation fields, with 2+2 layers, d_model 32,
and a SentencePiece model trained on our multilingual corpus (assets/texts/corpus.txt, which has
English, German, French and Spanish lines). One miniature stands in for all six language pairs, so the
source and target models are the same multilingual one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipelines.miniatures.text_tokenizers import sentencepiece_model

SPM_VOCAB = 1000  # the real models have about 58k pieces; 1k covers our corpus well


def build(folder: Path) -> None:
    import sentencepiece as spm
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    # Marian's spm models use the SentencePiece defaults: <unk>=0, <s>=1, </s>=2.
    model_file = sentencepiece_model(folder, "spm", SPM_VOCAB)
    shutil.move(model_file, folder / "source.spm")
    shutil.copy(folder / "source.spm", folder / "target.spm")

    processor = spm.SentencePieceProcessor(model_file=str(folder / "source.spm"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in pieces:
        if piece not in vocab and piece not in ("<s>",):
            vocab[piece] = len(vocab)
    pad_id = len(vocab)
    vocab["<pad>"] = pad_id
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")

    tokenizer = MarianTokenizer(
        source_spm=str(folder / "source.spm"), target_spm=str(folder / "target.spm"),
        vocab=str(folder / "vocab.json"), model_max_length=512,
    )
    tokenizer.save_pretrained(folder)

    config = MarianConfig(
        vocab_size=pad_id + 1, decoder_vocab_size=pad_id + 1, max_position_embeddings=512,
        d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, activation_function="swish", scale_embedding=True,
        share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
        pad_token_id=pad_id, decoder_start_token_id=pad_id, eos_token_id=0, bos_token_id=0,
        forced_eos_token_id=0,
    )
    model = MarianMTModel(config)
    # As in the real generation_config.json: beam search of 4, never emit <pad>, 512-token cap.
    model.generation_config = GenerationConfig(
        bad_words_ids=[[pad_id]], bos_token_id=0, decoder_start_token_id=pad_id, eos_token_id=0,
        forced_eos_token_id=0, max_length=512, num_beams=4, pad_token_id=pad_id, renormalize_logits=True,
    )
    model.save_pretrained(folder)
