""""Look inside" of the five media tasks (pipelines/inside/) on their miniatures, and their views: the values
that have a definition are checked against it. Rollout has one value per patch and is a distribution over
the patches, equal to Abnar & Zuidema's product computed independently; CLIP's map has one cosine per patch
and restates the tab's probabilities; Whisper's cross-attention rows over time sum to 1 and every word's
region lies inside the recording (and inside its own 30 s window); the previews count the steps and are
the run's own latents even when recomputed; forecasting's window is the series' last points, in patches
of 16 that tile it."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from pipelines.inside import clip_retrieval as inside_clip
from pipelines.inside import forecasting as inside_forecast
from pipelines.inside import image_classification as inside_image
from pipelines.inside import speech as inside_speech
from pipelines.inside import text_to_image as inside_steps
from pipelines.readers import audio
from pipelines.readers import series as series_io
from pipelines.tasks import clip_retrieval, forecasting, image_classification, text_to_image
from tests.conftest import ASSETS
from ui import inside_media_charts, inside_media_views

CAT, DOG = str(ASSETS / "images" / "cat.png"), str(ASSETS / "images" / "dog_park.jpg")
HELLO, LONG = str(ASSETS / "audio" / "hello.wav"), str(ASSETS / "audio" / "long_speech.wav")
AIRLINE = str(ASSETS / "series" / "monthly_airline_style.csv")


def reference_rollout(layers: np.ndarray, specials: int) -> np.ndarray:
    """Abnar & Zuidema's rollout, written out with numpy: prod over layers of (A + I) / 2, renormalised."""
    flow = np.eye(layers.shape[-1])
    for a in layers:
        mixed = (a + np.eye(a.shape[-1])) / 2
        flow = (mixed / mixed.sum(-1, keepdims=True)) @ flow
    shares = flow[0, specials:]
    return shares / shares.sum()


def test_rollout_is_the_product_through_the_layers_by_hand_and_with_a_distillation_token():
    import torch

    one = torch.tensor([[[0.2, 0.5, 0.3], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]])  # [CLS] and two patches
    # [CLS]'s row of (A + I) / 2 is 0.6, 0.25, 0.15: the patches' shares are 0.25 and 0.15, renormalised
    assert inside_image.rollout(one, 1).tolist() == pytest.approx([0.625, 0.375])
    rng = np.random.default_rng(0)
    layers = rng.random((4, 2 + 9, 2 + 9))
    layers /= layers.sum(-1, keepdims=True)  # [CLS], DeiT's distillation token, 3x3 patches
    got = inside_image.rollout(torch.tensor(layers, dtype=torch.float64), 2).numpy()
    assert got == pytest.approx(reference_rollout(layers, 2), abs=1e-12) and got.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("model_id", ["google/vit-base-patch16-224", "facebook/deit-small-patch16-224"])
def test_image_rollout_has_one_share_per_patch_of_a_forward_pass(models, model_id):
    import torch

    ic = models.task("image-classification")
    shown = image_classification.classify(ic, DOG, model_id).scores
    result = inside_image.explain(ic, DOG, model_id, 5, shown)
    rows, cols = result["grid"]
    assert (rows, cols) == (14, 14) and len(result["rollout"]) == len(result["last_layer"]) == rows * cols
    assert min(result["rollout"]) >= 0 and sum(result["rollout"]) == pytest.approx(1.0, abs=2e-3)
    assert sum(result["last_layer"]) == pytest.approx(1.0, abs=2e-3)
    bundle = ic.bundle(model_id)
    pixels = bundle.processor(images=[image_classification.check(ic, DOG).picture], return_tensors="pt")
    with torch.inference_mode():
        attentions = bundle.model(**pixels, output_attentions=True).attentions
    layers = np.stack([a[0].double().mean(0).numpy() for a in attentions])
    assert result["rollout"] == pytest.approx(reference_rollout(layers, result["specials"]).tolist(), abs=1e-4)
    assert shown[result["classes"][0]["label"]] == pytest.approx(result["classes"][0]["probability"], abs=1e-4)
    assert result["notes"] == [] and result["picture"].startswith("data:image/jpeg;base64,")
    assert inside_image.explain(ic, DOG, model_id, 5, {"not this class": 1.0})["notes"]  # a changed result is said
    drawn = inside_media_views.rollout(result)
    assert drawn.count('class="pg-patch"') == 2 * rows * cols and drawn.count("<img ") == 2


@pytest.mark.parametrize("model_id,side", [("openai/clip-vit-base-patch32", 7), ("openai/clip-vit-base-patch16", 14)])
def test_clip_maps_have_one_cosine_per_patch_and_restate_the_tab(models, model_id, side):
    clip = models.task("clip")
    shown = clip_retrieval.zero_shot(clip, CAT, "cat, dog, car, house", model_id=model_id)
    result = inside_clip.explain(clip, CAT, "cat, dog, car, house", clip_retrieval.DEFAULT_TEMPLATE, model_id, shown)
    assert result["grid"] == [side, side] and len(result["maps"]) == inside_clip.MAPS
    for m in result["maps"]:
        assert len(m["patches"]) == side * side and all(-1.0 <= v <= 1.0 for v in m["patches"])
    restated = {m["text"]: m["probability"] for m in result["maps"] + result["others"]}
    assert list(restated) == list(shown) and list(restated.values()) == pytest.approx(list(shown.values()), abs=1e-4)
    assert result["notes"] == [] and result["maps"][0]["prompt"] == f"a photo of a {result['maps'][0]['text']}"
    captions = inside_clip.explain_captions(clip, DOG, "a dog in a park\na cat on a sofa", model_id)
    assert [m["prompt"] for m in captions["maps"]] == [m["text"] for m in captions["maps"]]
    assert inside_media_views.clip_maps(result).count('class="pg-patch"') == inside_clip.MAPS * side * side


def test_place_finds_the_smoothed_peak_and_the_frames_at_half_its_height():
    row = np.zeros(100)
    row[40:50] = 1.0  # a plateau of 10 frames: smoothed over 5 frames it rises and falls over 2 more each side
    peak, first, last = inside_speech.place(row / row.sum())
    assert 42 <= peak <= 47 and (first, last) == (40, 49)


def test_segments_are_grouped_into_the_windows_long_form_decoding_read():
    rows = [[0.2, 12.0, " one two"], [12.0, 29.0, " three"], [29.5, 42.0, " four"], [42.0, 42.0, ""]]
    assert inside_speech._windows("ignored", rows, 42.0) == ([(0.0, "one two three"), (29.0, "four")], [])
    assert inside_speech._windows("all of it", [], 12.0) == ([(0.0, "all of it")], [])


def test_cross_attention_rows_over_time_sum_to_one_and_are_the_eager_models_weights(models):
    import torch

    whisper = models.task("speech").bundle()
    samples = audio.decode(HELLO)
    features, _ = inside_speech.speech._features(whisper, samples)
    frames = math.ceil(audio.duration_s(samples) / inside_speech.FRAME_S)
    prompt = inside_speech.prompt_ids(whisper, "en", "transcribe")
    tokens = whisper.tokenizer(" Transformers turn sound into text.", add_special_tokens=False)["input_ids"]
    loaded = whisper.attention
    rows = inside_speech.token_attention(whisper, features, prompt, tokens, frames)
    assert whisper.attention == loaded  # computed beside the pass: the model was not switched
    assert tuple(rows.shape) == (len(tokens), frames) and frames == 117
    assert rows.sum(-1).tolist() == pytest.approx([1.0] * len(tokens), abs=1e-5)
    whisper.use_attention("eager")  # what output_attentions returns, for comparison
    try:
        with torch.inference_mode():
            out = whisper.model(input_features=features, decoder_input_ids=torch.tensor([prompt + tokens]),
                                output_attentions=True, use_cache=False)
    finally:
        whisper.use_attention(loaded)
    heads = inside_speech.alignment_heads(whisper)
    eager = torch.stack([out.cross_attentions[layer][0, head] for layer, head in heads]).mean(0)
    eager = eager[len(prompt) - 1: len(prompt) - 1 + len(tokens), :frames]
    assert torch.allclose(rows, eager / eager.sum(-1, keepdim=True), atol=1e-5)


def test_words_lie_in_the_clip(models):
    sp = models.task("speech")
    result = inside_speech.explain(sp, HELLO, "transcribe", "detect", None, True,
                                   "Transformers turn sound into text.", [], "English (en), detected")
    assert [w["word"] for w in result["words"]] == ["Transformers", "turn", "sound", "into", "text."]
    for w in result["words"]:
        assert 0 <= w["start"] <= w["peak"] <= w["end"] <= result["duration"] and 0 < w["share"] <= 1
        assert sum(w["curve"]) == pytest.approx(1.0, abs=2e-3) and len(w["curve"]) == 117  # frames < CURVE_BINS
    assert result["language"] == "en" and len(result["envelope"]) == inside_speech.ENVELOPE_BINS
    drawn = inside_media_charts.speech_words(result)
    assert drawn.count('class="pg-word"') == 5 and "Transformers" in drawn


def test_a_long_recordings_words_stay_in_their_own_window(models):
    sp = models.task("speech")
    rows = [[0.0, 28.5, " Welcome to the playground."], [28.5, 42.0, " Thank you for listening."]]
    result = inside_speech.explain(sp, LONG, "transcribe", "en", None, True, "ignored when segments exist", rows,
                                   "English (en), as chosen")
    assert result["windows"] == 2
    late = [w for w in result["words"] if w["word"] in ("Thank", "you", "for", "listening.")]
    assert len(late) == 4 and all(28.5 <= w["start"] <= w["end"] <= result["duration"] for w in late)
    assert inside_speech.explain(sp, HELLO, text="")["message"]  # nothing transcribed: a sentence


def test_previews_count_the_steps_and_are_the_runs_own_latents(models):
    tti = models.task("text-to-image")
    params = text_to_image.ImageParams(steps=3, width=256, height=256, seed=7)
    shown = text_to_image.generate(tti, "a red car", params=params)
    result = inside_steps.explain(tti, "a red car", "", 3, 0.0, 7, 256, 256, False, None, shown.summary)
    assert [p["step"] for p in result["previews"]] == [1, 2, 3] and result["done"] == result["steps"] == 3
    assert result["notes"] == []  # kept by the run: nothing recomputed
    html = inside_media_views.denoising(result)
    assert html.count('class="pg-step"') == 3 and "step 3 of 3" in html
    bundle = tti.bundle()
    request = text_to_image.check(tti, "a red car", None, params)
    kept = bundle.extras[inside_steps.STEPS].get(inside_steps.run_key(request))
    bundle.extras[inside_steps.STEPS] = inside_steps.StepLatents()  # the run's latents are gone
    again = inside_steps.explain(tti, "a red car", "", 3, 0.0, 7, 256, 256, False, None, shown.summary)
    assert "recomputed" in again["notes"][0]
    recomputed = bundle.extras[inside_steps.STEPS].get(inside_steps.run_key(request))
    assert all(a.equal(b) for a, b in zip(kept, recomputed)) and len(recomputed) == 3
    bundle.extras[inside_steps.STEPS] = inside_steps.StepLatents()
    stopped = inside_steps.explain(tti, "a red car", "", 3, 0.0, 7, 256, 256, False, None, "Stopped after 1 of 3")
    assert "stopped" in stopped["message"]


def test_many_steps_are_previewed_evenly_with_the_last_one():
    assert inside_steps.preview_steps(3) == [0, 1, 2]
    chosen = inside_steps.preview_steps(50)
    assert len(chosen) == inside_steps.MAX_PREVIEWS and chosen[0] == 0 and chosen[-1] == 49
    assert chosen == sorted(set(chosen))


def test_the_latent_store_keeps_the_latest_runs_within_its_bytes():
    import torch

    store = inside_steps.StepLatents(max_bytes=3 * 4 * 100)  # three runs of one 100-float step
    for run in range(5):
        store.put(("run", run), [torch.zeros(100)])
    assert store.get(("run", 0)) is None and store.get(("run", 4)) is not None
    assert sum(store.get(("run", r)) is not None for r in range(5)) == 3


@pytest.mark.parametrize("context_length", [forecasting.DEFAULT_CONTEXT, 100])
def test_the_forecast_window_is_the_series_last_points_in_patches_of_16(models, context_length):
    fc = models.task("forecasting")
    shown = forecasting.forecast(fc, AIRLINE, horizon=24, context_length=context_length)
    table = shown.table().values.tolist()
    result = inside_forecast.explain(fc, AIRLINE, None, None, 24, context_length, None, table)
    whole = series_io.prepare(AIRLINE, context_length=10_000).values
    length = min(len(whole), context_length, forecasting.MAX_CONTEXT)
    assert result["total"] == len(whole) == 144 and result["read_length"] == length
    assert result["read_from"] == len(whole) - length
    read = result["values"][result["read_from"] - result["shown_from"]:]
    assert read == pytest.approx(whole[-length:].tolist(), rel=1e-6)  # the window equals the series' last points
    patches = result["patches"]
    assert len(patches) == math.ceil(length / 16) and patches[-1]["last"] == len(whole) - 1
    assert patches[0]["first"] == result["read_from"] and patches[0]["padded"] == -length % 16
    assert all(b["first"] == a["last"] + 1 for a, b in zip(patches, patches[1:]))
    assert result["loc"] == pytest.approx(whole[-length:].mean(), rel=1e-5)
    assert result["scale"] == pytest.approx(whole[-length:].std(), rel=1e-4)
    assert result["band"]["median"] == pytest.approx(shown.median.tolist(), rel=1e-5)
    assert inside_forecast.explain(fc, AIRLINE, None, None, 24, context_length)["band"] == result["band"]
    drawn = inside_media_charts.forecast_window(result)
    assert drawn.count('class="pg-patch"') == len(patches)
    assert ("Grey: older points" in drawn) == (length < len(whole))
    assert re.search(rf"the last {length:,} points", drawn)


def test_whispers_encoder_stays_on_sdpa_when_the_decoder_is_switched_to_eager(models):
    """Pinned at load (pipelines.core.bundle.pin_attention): the switch to eager that the decoding page and
    eager comparisons make reaches the decoder, never the encoder, whose output stays the same."""
    import torch

    whisper = models.task("speech").bundle()
    encoder, decoder = whisper.model.get_encoder(), whisper.model.get_decoder()
    features, _ = inside_speech.speech._features(whisper, audio.decode(HELLO))
    loaded = whisper.attention
    with torch.inference_mode():
        before = encoder(features).last_hidden_state
    whisper.use_attention("eager")
    try:
        assert {layer.self_attn.config._attn_implementation for layer in encoder.layers} == {"sdpa"}
        assert {layer.encoder_attn.config._attn_implementation for layer in decoder.layers} == {"eager"}
        with torch.inference_mode():
            after = encoder(features).last_hidden_state
            out = whisper.model(encoder_outputs=(after,), decoder_input_ids=torch.tensor([[1, 2]]),
                                output_attentions=True, use_cache=False)
    finally:
        whisper.use_attention(loaded)
    assert out.cross_attentions[0] is not None  # the decoder does return its weights
    assert torch.allclose(before, after, atol=1e-5)


@pytest.mark.parametrize("engine", ["torch", "auto"])
def test_the_words_are_placed_with_the_encoder_output_the_transcription_kept(engine):
    from pipelines.core.loading import ModelManager
    from pipelines.inside import kept
    from pipelines.tasks import speech
    from tests.conftest import tiny_settings

    # Both paths keep the encoder output of each window: the torch path its own, a run on CTranslate2 (a CPU's
    # default) the engine's (pipelines/tasks/speech.py), so the view runs the torch decoder alone.
    sp = ModelManager(tiny_settings(engine=engine)).task("speech")
    shown = speech.transcribe(sp, HELLO, language="en")
    whisper = sp.bundle()
    assert whisper.runs_on.startswith("torch" if engine == "torch" else "ctranslate2")
    calls = []
    hook = whisper.model.get_encoder().register_forward_hook(lambda *_: calls.append(1))
    args = (HELLO, "transcribe", "en", None, True, shown.text, [[s.start, s.end, s.text] for s in shown.segments],
            "English (en), as chosen")
    try:
        with_kept = inside_speech.explain(sp, *args)
        assert calls == [] and with_kept["words"]  # only the decoder ran
        whisper.extras[kept.KEY] = kept.Kept()  # gone (evicted, a fresh server): computed again
        again = inside_speech.explain(sp, *args)
        assert calls == [1]
        if engine == "torch":  # the same encoder: the same view
            assert again == with_kept
        else:  # the torch encoder in float32 instead of the engine's int8: the same words, close places
            assert [w["word"] for w in again["words"]] == [w["word"] for w in with_kept["words"]]
    finally:
        hook.remove()


def test_a_long_recordings_windows_are_cut_as_the_long_form_decoding_cut_them(models):
    """The encoder's input in each window of Whisper's own long-form `generate` equals `window_features` at
    that window's start (its seek), so the view reads what the run read, and finds it kept."""
    import torch

    from pipelines.tasks import speech

    whisper = models.task("speech").bundle()
    whole, read = speech._features(whisper, audio.decode(LONG))
    seeks, inputs = [], []

    def monitor(seek_and_total):
        seeks.append(int(seek_and_total[0][0]))

    hook = whisper.model.get_encoder().register_forward_hook(
        lambda module, args, kwargs, output: inputs.append(args[0] if args else kwargs["input_features"]),
        with_kwargs=True)
    try:
        with torch.inference_mode():
            whisper.model.generate(whole, attention_mask=read, return_timestamps=True, return_segments=True,
                                   monitor_progress=monitor, language="en", task="transcribe", max_length=8)
    finally:
        hook.remove()
    assert len(seeks) >= 2 and len(inputs) == len(seeks)
    for seek, given in zip(seeks, inputs):
        assert torch.equal(inside_speech.window_features(whole, read, seek / 100), given)
