"""Miniatures of the decoder-only language models (text generation and code completion).

Config fields follow the real checkpoints (tied embeddings, rope settings, special token ids); only the
sizes shrink. GPT-2 keeps its real 50,257-token vocabulary.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.miniatures.text_tokenizers import byte_level_bpe, gpt2_files

# ChatML with SmolLM2's default system prompt, as in the real tokenizer_config.json.
SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def gpt2(folder: Path) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    vocab, merges = gpt2_files()
    tokenizer = GPT2TokenizerFast(vocab=str(vocab), merges=str(merges))
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=50256, eos_token_id=50256)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _chatml_tokenizer(folder: Path, vocab_size: int, template: str, eos: str, extra_specials: list[str]):
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *extra_specials]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=byte_level_bpe(vocab_size, specials),
        bos_token="<|im_start|>", eos_token=eos, unk_token="<|endoftext|>", pad_token="<|endoftext|>",
    )
    tokenizer.chat_template = template
    tokenizer.save_pretrained(folder)
    return tokenizer


def smollm2(folder: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _chatml_tokenizer(folder, 2048, SMOLLM2_CHAT_TEMPLATE, "<|im_end|>", [])
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=8192, rope_theta=100000.0,
        tie_word_embeddings=True, bos_token_id=tok.convert_tokens_to_ids("<|im_start|>"),
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )
    LlamaForCausalLM(config).save_pretrained(folder)


def qwen2(folder: Path) -> None:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = _chatml_tokenizer(folder, 2048, QWEN_CHAT_TEMPLATE, "<|im_end|>", [])
    config = Qwen2Config(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32768,
        rope_theta=1000000.0, tie_word_embeddings=True,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )
    Qwen2ForCausalLM(config).save_pretrained(folder)


def starcoder(folder: Path) -> None:
    from transformers import GPT2TokenizerFast, GPTBigCodeConfig, GPTBigCodeForCausalLM

    specials = ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>"]
    tokenizer = GPT2TokenizerFast(tokenizer_object=byte_level_bpe(2048, specials, ("code_corpus.py.txt",)),
                                  bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                  unk_token="<|endoftext|>")
    tokenizer.save_pretrained(folder)
    config = GPTBigCodeConfig(vocab_size=len(tokenizer), n_positions=8192, n_embd=64, n_layer=2, n_head=4,
                              multi_query=True, bos_token_id=0, eos_token_id=0)
    GPTBigCodeForCausalLM(config).save_pretrained(folder)
