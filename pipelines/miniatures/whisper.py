"""Miniatures of the multilingual Whisper checkpoints (speech transcription and translation).

Same classes as the hub (WhisperForConditionalGeneration, WhisperProcessor = WhisperFeatureExtractor +
WhisperTokenizer) and the real layout of the special tokens, so language detection, translation and
timestamp decoding run exactly as with the real models:

    <|endoftext|> <|startoftranscript|> <|en|> ... <|su|> (99 languages) <|translate|> <|transcribe|>
    <|startoflm|> <|startofprev|> <|nocaptions|> <|notimestamps|> <|0.00|> ... <|30.00|>

The ordinary vocabulary is GPT-2's real byte-level BPE (assets/vocab/gpt2): Whisper's English-only
checkpoints use exactly that BPE, and the multilingual ones a BPE of the same kind and size, so the
miniature tokenizes English like the real thing and decodes random ids into real word pieces. A small
BPE trained on our corpus would shrink the embedding (51,865 x 32 floats, 6.6 MB) but nothing else;
that size costs nothing here. Audio side: the real 80 mel bins and 1,500 encoder positions (30 s).

One deliberate difference: the generation config's `max_length` is 24, not the hub's 448. A random
Whisper never writes end-of-text, so every window runs to that limit, and each step pays a suppress-tokens
pass over the 51,865-token vocabulary; the pipeline reads the limit from the checkpoint
(`pipelines.tasks.speech.window_tokens`), so a miniature window costs 24 steps instead of 224. 24 tokens
still hold several timestamped segments, so long recordings are still decoded window after window.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.miniatures.text_tokenizers import gpt2_files

# Whisper's 99 languages in token order (openai/whisper tokenizer.py; large-v3 later added "yue").
LANGUAGE_CODES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr "
    "bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn "
    "yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su"
).split()
CONTROL_TOKENS = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>",
                  "<|notimestamps|>")
TIME_PRECISION = 0.02  # seconds per timestamp token
NUM_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|>
MAX_LENGTH = 24  # tokens per 30 s window (the hub's 448 is the whole decoder): see above

# Real sizes for reference: base d_model 512, 6+6 layers, 8 heads; tiny 384, 4+4, 6; small 768, 12+12, 12.
SIZES = {
    "base": dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                 decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64),
    "tiny": dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                 decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64),
    "small": dict(d_model=48, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                  decoder_attention_heads=4, encoder_ffn_dim=96, decoder_ffn_dim=96),
}


def _tokenizer():
    from tokenizers import AddedToken
    from transformers import WhisperTokenizer

    vocab_file, merges_file = gpt2_files()
    vocab = json.loads(vocab_file.read_text(encoding="utf-8"))  # ends with <|endoftext|> = 50256
    merges = [tuple(line.split()) for line in merges_file.read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#version")]
    specials = ["<|endoftext|>", "<|startoftranscript|>", *(f"<|{c}|>" for c in LANGUAGE_CODES), *CONTROL_TOKENS]
    tokenizer = WhisperTokenizer(vocab=vocab, merges=merges, pad_token="<|endoftext|>",
                                 extra_special_tokens=specials, model_max_length=1024)
    # Timestamps are ordinary added tokens after the last special one, as on the hub: WhisperTokenizer
    # finds the first timestamp id as the last special id + 1.
    tokenizer.add_tokens([AddedToken(f"<|{i * TIME_PRECISION:.2f}|>", normalized=False)
                          for i in range(NUM_TIMESTAMPS)])
    return tokenizer


def _non_speech_tokens(tokenizer) -> list[int]:
    """Symbols Whisper never writes in a transcript (openai/whisper `Tokenizer.non_speech_tokens`)."""
    encode = lambda s: tokenizer.encode(s, add_special_tokens=False)  # noqa: E731
    symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
    symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
    miscellaneous = set("♩♪♫♬♭♮♯")
    result = {encode(" -")[0], encode(" '")[0]}
    for symbol in symbols + list(miscellaneous):
        for tokens in (encode(symbol), encode(" " + symbol)):
            if len(tokens) == 1 or symbol in miscellaneous:
                result.add(tokens[0])
    return sorted(result)


def _build(folder: Path, size: str) -> None:
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    tokenizer = _tokenizer()
    ids = tokenizer.convert_tokens_to_ids
    end, start = ids("<|endoftext|>"), ids("<|startoftranscript|>")
    lang_to_id = {f"<|{c}|>": ids(f"<|{c}|>") for c in LANGUAGE_CODES}
    task_to_id = {"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")}
    begin_suppress = [ids("Ġ"), end]  # no blank and no end of text as the first word, as on the hub
    suppress = _non_speech_tokens(tokenizer) + [start, *(ids(t) for t in CONTROL_TOKENS[:-1])]
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, max_source_positions=1500, max_target_positions=448,
        bos_token_id=end, eos_token_id=end, pad_token_id=end, decoder_start_token_id=start,
        begin_suppress_tokens=begin_suppress, suppress_tokens=[], **SIZES[size],
    )
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        bos_token_id=end, eos_token_id=end, pad_token_id=end, decoder_start_token_id=start,
        max_length=MAX_LENGTH, suppress_tokens=suppress, begin_suppress_tokens=begin_suppress,
        alignment_heads=[[config.decoder_layers - 1, h] for h in range(config.decoder_attention_heads)],
        is_multilingual=True, lang_to_id=lang_to_id, task_to_id=task_to_id,
        # The hub configs still carry the old forced ids (detect the language, then transcribe);
        # generate() ignores them whenever task or language is given, which our pipeline always does.
        forced_decoder_ids=[[1, None], [2, task_to_id["transcribe"]]],
        no_timestamps_token_id=ids("<|notimestamps|>"), prev_sot_token_id=ids("<|startofprev|>"),
        max_initial_timestamp_index=50, return_timestamps=False,
    )
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80),
                     tokenizer=tokenizer).save_pretrained(folder)


def base(folder: Path) -> None:
    _build(folder, "base")


def tiny(folder: Path) -> None:
    _build(folder, "tiny")


def small(folder: Path) -> None:
    _build(folder, "small")
