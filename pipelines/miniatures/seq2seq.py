"""Miniatures of the summarization models: DistilBART CNN 12-6 (BART) and T5 small.

DistilBART keeps BART's real tokenizer: GPT-2's byte-level BPE (assets/vocab/gpt2) with the fairseq
special tokens in front, <s>=0 <pad>=1 </s>=2 <unk>=3, and <mask> after the word pieces. The real
vocab.json lists the GPT-2 pieces in fairseq's frequency order, which we cannot reproduce without its
dict.txt; here they keep GPT-2's order, shifted by four. Same pieces, same merges, so text splits into
the same tokens as with the real model; only the id numbers differ.

T5 gets a SentencePiece unigram model trained on our corpus with T5's ids (<pad>=0, </s>=1, <unk>=2)
and the 100 <extra_id_N> sentinels, and the real config's "summarize: " prefix in task_specific_params.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.miniatures.text_tokenizers import gpt2_files, sentencepiece_model

BART_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
# The real distilbart-cnn-12-6 / bart-large-cnn summarization settings (config task_specific_params
# and generation_config.json): 4 beams, 56-142 tokens, no repeated trigram, a preference for length.
BART_SUMMARY = dict(early_stopping=True, length_penalty=2.0, max_length=142, min_length=56,
                    no_repeat_ngram_size=3, num_beams=4)
T5_SUMMARY = dict(early_stopping=True, length_penalty=2.0, max_length=200, min_length=30,
                  no_repeat_ngram_size=3, num_beams=4, prefix="summarize: ")


def distilbart(folder: Path) -> None:
    from transformers import BartConfig, BartForConditionalGeneration, BartTokenizer, GenerationConfig

    vocab_file, merges_file = gpt2_files()
    gpt2_vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
    vocab = {token: i for i, token in enumerate(BART_SPECIALS)}
    for token, _ in sorted(gpt2_vocab.items(), key=lambda item: item[1]):
        if token != "<|endoftext|>":  # GPT-2's document separator; BART uses </s>
            vocab[token] = len(vocab)
    vocab["<mask>"] = len(vocab)
    merges = [tuple(line.split(" ")) for line in merges_file.read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#version")]
    tokenizer = BartTokenizer(vocab=vocab, merges=merges, model_max_length=1024)
    tokenizer.save_pretrained(folder)

    # distilbart-cnn-12-6: 12 encoder / 6 decoder layers of d_model 1024 -> 2 / 1 of d_model 32.
    # vocab_size 50264 as in the real config (the tokenizer has a few ids fewer).
    config = BartConfig(
        vocab_size=max(50264, len(tokenizer)), max_position_embeddings=1024, d_model=32,
        encoder_layers=2, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, activation_function="gelu", scale_embedding=False,
        bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
        task_specific_params={"summarization": BART_SUMMARY}, prefix=" ",
    )
    model = BartForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
        forced_bos_token_id=0, forced_eos_token_id=2, **BART_SUMMARY,
    )
    model.save_pretrained(folder)


def t5(folder: Path) -> None:
    import sentencepiece as spm
    from transformers import GenerationConfig, T5Config, T5ForConditionalGeneration, T5Tokenizer

    # T5's SentencePiece ids: <pad>=0, </s>=1, <unk>=2, no <s>. The "identity" normalization keeps the
    # model free of a precompiled charsmap, whose extraction would need protobuf.
    model_file = sentencepiece_model(folder, "spiece", 1000, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                     normalization_rule_name="identity")
    processor = spm.SentencePieceProcessor(model_file=str(model_file))
    pieces = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    # The 100 sentinels follow the pieces in reverse, as in the real vocabulary: <extra_id_0> is the last id.
    pieces += [(f"<extra_id_{i}>", 0.0) for i in reversed(range(100))]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=100, model_max_length=512)
    tokenizer.save_pretrained(folder)
    model_file.unlink()  # the fast tokenizer.json holds everything; a stale .model would mislead

    # t5-small: 6+6 layers, d_model 512, 8 heads of 64 -> 2+2 layers, d_model 32, 4 heads of 8.
    # The real vocab_size (32,128) rounds the tokenizer's 32,100 ids up to a multiple of 128.
    config = T5Config(
        vocab_size=-(-len(tokenizer) // 128) * 128, d_model=32, d_kv=8, d_ff=64, num_layers=2,
        num_decoder_layers=2, num_heads=4, relative_attention_num_buckets=32,
        relative_attention_max_distance=128, feed_forward_proj="relu", n_positions=512,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
        task_specific_params={"summarization": T5_SUMMARY},
    )
    model = T5ForConditionalGeneration(config)
    model.generation_config = GenerationConfig(decoder_start_token_id=0, eos_token_id=1, pad_token_id=0)
    model.save_pretrained(folder)
