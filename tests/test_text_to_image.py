"""Text to image on the SD-Turbo miniature: image size, seeded determinism, the two VAE paths, step
progress, a Stop that skips the remaining UNet steps, bad inputs; and the /generate_image endpoint."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from pipelines.core.errors import UserInputError
from pipelines.tasks import text_to_image
from pipelines.tasks.text_to_image import ImageParams, Update
from tests.conftest import ForwardPasses

APP_TASKS = ["text-to-image"]
SMALL = ImageParams(width=256, height=256)


@pytest.fixture(scope="module")
def t2i(models):
    return models.task("text-to-image")


def make(t2i, prompt="a dog playing in a park", params=SMALL, **kw):
    return text_to_image.generate(t2i, prompt, None, params, **kw)


def steps_of(total):
    """The progress reports of a run of `total` steps: encoding, each step, decoding after the last."""
    return ([(0.0, "Encoding the prompt…")]
            + [(done / total, f"Denoising: {done} of {total} steps done") for done in range(1, total)]
            + [(1.0, "Decoding the image…")])


def pixels(result) -> np.ndarray:
    return np.asarray(result.image)


@pytest.fixture
def unet_calls(t2i):
    calls = ForwardPasses(t2i.bundle().model.unet)
    yield calls
    calls.remove()


def test_loads_the_real_pipeline_classes_from_the_miniature(t2i):
    loaded = t2i.get()
    bundle = loaded.bundle
    pipe = bundle.model
    assert loaded.location.kind == "miniature"
    assert (bundle.family, bundle.checkpoint.repo_id, bundle.device) == ("diffusion", "stabilityai/sd-turbo", "cpu")
    assert bundle.processor is pipe.tokenizer and bundle.tokenizer is pipe.tokenizer
    assert "notice" not in bundle.extras
    assert not any(m.training for m in (pipe.unet, pipe.vae, pipe.text_encoder, bundle.extras["taesd"]))
    assert pipe.unet.dtype == bundle.extras["taesd"].dtype == t2i.manager.placement.dtype
    assert loaded.nbytes > sum(p.numel() * 4 for p in pipe.unet.parameters())  # TAESD and the rest counted too
    assert type(pipe).__name__ == "StableDiffusionPipeline"
    assert {k: type(v).__name__ for k, v in pipe.components.items() if v is not None} == {
        "unet": "UNet2DConditionModel", "vae": "AutoencoderKL", "text_encoder": "CLIPTextModel",
        "tokenizer": "CLIPTokenizer", "scheduler": "EulerAncestralDiscreteScheduler"}
    assert pipe.scheduler.config.timestep_spacing == "trailing"
    assert type(bundle.extras["taesd"]).__name__ == "AutoencoderTiny"
    # CLIP's real BPE: the same ids as openai/clip and stabilityai/sd-turbo's tokenizer.
    assert pipe.tokenizer("a dog playing in a park")["input_ids"] == [49406, 320, 1929, 1629, 530, 320, 1452, 49407]


@pytest.mark.parametrize("width, height", [(320, 256), (256, 384)])
def test_returns_a_pil_image_of_the_asked_size(t2i, width, height):
    result = make(t2i, params=ImageParams(width=width, height=height))
    assert isinstance(result.image, Image.Image)
    assert result.image.size == (width, height) and result.image.mode == "RGB"
    assert not result.stopped and result.steps_done == result.steps_total == 1
    assert result.decoder == "TAESD"  # the CPU default
    assert f"{width}×{height}" in result.summary


def test_same_seed_same_pixels_other_seed_other_pixels(t2i):
    params = ImageParams(width=256, height=256, steps=2, seed=11)
    first = pixels(make(t2i, params=params))
    assert np.array_equal(first, pixels(make(t2i, params=params)))
    other = pixels(make(t2i, params=ImageParams(width=256, height=256, steps=2, seed=12)))
    assert not np.array_equal(first, other)


def test_taesd_and_full_quality_decode_with_different_vaes(t2i, monkeypatch):
    bundle = t2i.bundle()
    used = []
    for name, vae in (("full", bundle.model.vae), ("tiny", bundle.extras["taesd"])):
        decode = vae.decode
        monkeypatch.setattr(vae, "decode", lambda *a, _n=name, _d=decode, **k: used.append(_n) or _d(*a, **k))
    tiny = make(t2i, params=ImageParams(width=256, height=256, seed=5))
    full = make(t2i, params=ImageParams(width=256, height=256, seed=5, full_quality=True))
    assert used == ["tiny", "full"]
    assert (tiny.decoder, full.decoder) == ("TAESD", "full VAE")
    assert full.image.size == tiny.image.size == (256, 256)
    assert not np.array_equal(pixels(tiny), pixels(full))


def test_progress_reports_every_step(t2i, unet_calls):
    seen = []
    result = make(t2i, params=ImageParams(width=256, height=256, steps=4), progress=lambda f, m: seen.append((f, m)))
    assert seen == steps_of(4)
    assert [f for f, _ in seen] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert unet_calls.calls == 4 and result.steps_done == 4


def test_stop_after_step_k_skips_the_remaining_unet_steps(t2i, unet_calls):
    stop = threading.Event()

    def progress(fraction, message):
        if fraction == 2 / 8:
            stop.set()

    result = make(t2i, params=ImageParams(width=256, height=256, steps=8), stop=stop, progress=progress)
    assert result.stopped and result.image is None
    assert (result.steps_done, result.steps_total) == (2, 8)
    assert unet_calls.calls == 2
    assert result.summary.startswith("Stopped after 2 of 8 steps")


def test_closing_the_stream_stops_the_worker(t2i, unet_calls):
    request = text_to_image.check(t2i, "a cat", None, ImageParams(width=256, height=256, steps=40))
    updates = text_to_image.stream(t2i, request)
    assert next(updates) == Update(0.0, "Encoding the prompt…")
    assert next(updates) == Update(1 / 40, "Denoising: 1 of 40 steps done")
    updates.close()  # what a cancelled job or a closed browser tab does
    assert unet_calls.calls < 40
    assert not any(t.name == "text-to-image" for t in threading.enumerate())


def test_stream_ends_with_the_result(t2i):
    request = text_to_image.check(t2i, "a cat", None, ImageParams(width=256, height=256, steps=3))
    items = list(text_to_image.stream(t2i, request))
    assert items[:-1] == [Update(f, m) for f, m in steps_of(3)]
    assert items[-1].image.size == (256, 256) and not any(t.name == "text-to-image" for t in threading.enumerate())


def test_negative_prompt_counts_only_above_guidance_1(t2i):
    def image(negative, guidance):
        params = ImageParams(width=256, height=256, seed=3, guidance=guidance, negative_prompt=negative)
        return make(t2i, params=params)

    off_a, off_b = image("blurry", 0.0), image("dark", 0.0)
    assert np.array_equal(pixels(off_a), pixels(off_b))
    assert any("only counts when guidance is above 1" in n for n in off_a.notes)
    on_a, on_b = image("blurry", 4.0), image("dark", 4.0)
    assert not np.array_equal(pixels(on_a), pixels(on_b))
    assert not on_a.notes


def test_prompt_past_clips_window_is_truncated_with_a_note(t2i):
    words = " ".join(f"word{i}" for i in range(60))  # far more than 75 tokens
    result = make(t2i, prompt=words)
    assert result.image is not None
    note = next(n for n in result.notes if "CLIP reads only the first 75" in n)
    assert "word59" in note or "..." in note
    assert "word0 " not in note.split("“", 1)[1]  # the start of the prompt was kept


def test_a_missing_taesd_is_a_note_and_the_full_vae_decodes(t2i):
    bundle = t2i.bundle()
    without = replace(bundle, extras={"notice": "TAESD could not be loaded."})
    request = text_to_image.check(t2i, "a dog", None, ImageParams(width=256, height=256, seed=5))
    result = text_to_image.render(without, request)
    assert result.decoder == "full VAE" and result.notes == ("TAESD could not be loaded.",)
    assert np.array_equal(pixels(result), pixels(make(t2i, "a dog", ImageParams(width=256, height=256, seed=5,
                                                                              full_quality=True))))


@pytest.mark.parametrize("prompt, params, message", [
    ("", SMALL, "Type a prompt"),
    ("  \n ", SMALL, "Type a prompt"),
    ("x" * 20_001, SMALL, "limit is 20,000"),
    ("a cat", ImageParams(negative_prompt="x" * 20_001), "negative prompt is 20,001 characters"),
    ("a cat", ImageParams(negative_prompt=5), "negative prompt must be text; got int"),
    ("a cat", ImageParams(steps=0), "Denoising steps must be a whole number from 1 to 50; got 0."),
    ("a cat", ImageParams(steps=51), "Denoising steps must be a whole number from 1 to 50; got 51."),
    ("a cat", ImageParams(steps=2.5), "Denoising steps must be a whole number from 1 to 50; got 2.5."),
    ("a cat", ImageParams(steps="many"), "Denoising steps must be a whole number from 1 to 50; got many."),
    ("a cat", ImageParams(guidance=-0.5), r"Guidance must be a number from 0.0 to 20.0; got -0.5\."),
    ("a cat", ImageParams(guidance=20.5), r"Guidance must be a number from 0.0 to 20.0; got 20.5\."),
    ("a cat", ImageParams(guidance=float("nan")), r"Guidance must be a number from 0.0 to 20.0; got nan\."),
    ("a cat", ImageParams(width=300), r"Width must be a multiple of 8 \(.*\); got 300\. Try 296 or 304\."),
    ("a cat", ImageParams(height=513), r"Height must be a multiple of 8 \(.*\); got 513\. Try 512 or 520\."),
    ("a cat", ImageParams(width=128), "Width must be a whole number from 256 to 768; got 128."),
    ("a cat", ImageParams(height=1024), "Height must be a whole number from 256 to 768; got 1024."),
    ("a cat", ImageParams(seed=-1), "Seed must be a whole number from 0 to 4,294,967,295; got -1."),
    ("a cat", ImageParams(seed=2**32), "Seed must be a whole number from 0 to 4,294,967,295; got 4294967296."),
    ("a cat", ImageParams(seed=None), "Seed must be a whole number from 0 to 4,294,967,295; got None."),
])
def test_bad_inputs_are_explained(t2i, prompt, params, message):
    with pytest.raises(UserInputError, match=message):
        make(t2i, prompt=prompt, params=params)


def test_inputs_are_checked_before_any_model_loads():
    from pipelines.core.loading import ModelManager
    from tests.conftest import tiny_settings

    fresh = ModelManager(tiny_settings()).task("text-to-image")
    request = text_to_image.check(fresh, "  a cat  ", None, ImageParams(negative_prompt=" dark ", steps=2.0,
                                                                       guidance="1.5", width=320.0))
    assert request == text_to_image.Request("a cat", "stabilityai/sd-turbo", ImageParams(
        negative_prompt="dark", steps=2, guidance=1.5, width=320))
    assert type(request.params.steps) is int and type(request.params.width) is int
    assert not fresh.is_loaded()


# --- through the launched app -------------------------------------------------------------------

def open_image(path) -> Image.Image:
    with Image.open(path) as img:
        img.load()
        return img


def test_endpoint_parameters_and_defaults(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/generate_image"]  # Stop and the model picker's info line are private
    params = {p["parameter_name"]: p for p in endpoints["/generate_image"]["parameters"]}
    assert list(params) == ["prompt", "negative_prompt", "steps", "guidance", "seed", "width", "height",
                            "full_quality", "model_id"]
    assert not params["prompt"]["parameter_has_default"]
    assert {name: params[name]["parameter_default"] for name in list(params)[2:]} == {
        "steps": 1, "guidance": 0.0, "seed": 0, "width": 512, "height": 512, "full_quality": False,
        "model_id": "stabilityai/sd-turbo"}  # the picker's value
    assert len(endpoints["/generate_image"]["returns"]) == 2  # (image, status)


def test_endpoint_returns_an_image_file_and_a_status(client):
    path, status = client.predict("a cat sitting on a sofa, watercolor", "", 2, 0.0, 7, 256, 320, False,
                                  api_name="/generate_image")
    image = open_image(path)
    assert image.size == (256, 320) and image.format == "PNG"
    assert "SD-Turbo" in status and "2 steps" in status and "TAESD" in status and "miniature" in status
    again = open_image(client.predict("a cat sitting on a sofa, watercolor", "", 2, 0.0, 7, 256, 320, False,
                                      api_name="/generate_image")[0])
    assert np.array_equal(np.asarray(image), np.asarray(again))


def test_endpoint_defaults_and_full_quality(client):
    path, status = client.predict("a dog playing in a park", api_name="/generate_image")
    assert open_image(path).size == (512, 512) and "1 step" in status
    path, status = client.predict("a dog", "", 1, 0.0, 0, 256, 256, True, api_name="/generate_image")
    assert "full VAE" in status


@pytest.mark.parametrize("args, message", [
    (("",), "Type a prompt"),
    (("a cat", "", 1, 0.0, 0, 300), "Width must be a multiple of 8"),
    (("a cat", "", 1, 0.0, 2**32), "Seed must be a whole number from 0 to 4,294,967,295; got 4294967296\\."),
    # Gradio checks slider ranges before our code runs, with messages of its own.
    (("a cat", "", 99), "Denoising steps must be a whole number from 1 to 50; got 99\\."),
])
def test_endpoint_bad_inputs_answer_with_a_message_and_keep_serving(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/generate_image")
    path, _ = client.predict("a dog", "", 1, 0.0, 0, 256, 256, api_name="/generate_image")
    assert open_image(path).size == (256, 256)


def test_cancelling_a_job_stops_the_denoising(client, app_server):
    client.predict("warm up", "", 1, 0.0, 0, 256, 256, api_name="/generate_image")
    calls = ForwardPasses(app_server.models.get("text-to-image").bundle.model.unet)
    try:
        job = client.submit("a dog", "", 50, 0.0, 0, 256, 256, api_name="/generate_image")
        deadline = time.monotonic() + 60
        while calls.calls < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        job.cancel()
        time.sleep(0.5)
        settled = calls.calls
        time.sleep(1.0)
        assert calls.calls == settled, "the UNet kept running after the job was cancelled"
        assert calls.calls < 50
    finally:
        calls.remove()
