"""Text to image on the SD-Turbo miniature: image size, seeded determinism, the two VAE paths, step
progress, a Stop that skips the remaining UNet steps, bad inputs; and the /generate_image endpoint."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image

from pipelines.core.errors import UserInputError
from pipelines.tasks import text_to_image
from pipelines.tasks.text_to_image import ImageParams

APP_TASKS = ["text-to-image"]
SMALL = ImageParams(width=256, height=256)


def make(models, prompt="a dog playing in a park", params=SMALL, **kw):
    return text_to_image.generate(models, prompt, None, params, **kw)


def pixels(result) -> np.ndarray:
    return np.asarray(result.image)


class UNetCalls:
    """Counts UNet forward passes: the real cost of a denoising step."""

    def __init__(self, unet):
        self.count = 0
        self._handle = unet.register_forward_hook(self._hook)

    def _hook(self, *args):
        self.count += 1

    def close(self):
        self._handle.remove()


@pytest.fixture
def unet_calls(models):
    calls = UNetCalls(models.get("text-to-image").bundle.pipe.unet)
    yield calls
    calls.close()


def test_loads_the_real_pipeline_classes_from_the_miniature(models):
    loaded = models.get("text-to-image")
    pipe = loaded.bundle.pipe
    assert loaded.location.kind == "miniature"
    assert type(pipe).__name__ == "StableDiffusionPipeline"
    assert {k: type(v).__name__ for k, v in pipe.components.items() if v is not None} == {
        "unet": "UNet2DConditionModel", "vae": "AutoencoderKL", "text_encoder": "CLIPTextModel",
        "tokenizer": "CLIPTokenizer", "scheduler": "EulerAncestralDiscreteScheduler"}
    assert pipe.scheduler.config.timestep_spacing == "trailing"
    assert type(loaded.bundle.tiny_vae).__name__ == "AutoencoderTiny"
    # CLIP's real BPE: the same ids as openai/clip and stabilityai/sd-turbo's tokenizer.
    assert pipe.tokenizer("a dog playing in a park")["input_ids"] == [49406, 320, 1929, 1629, 530, 320, 1452, 49407]


@pytest.mark.parametrize("width, height", [(320, 256), (256, 384)])
def test_returns_a_pil_image_of_the_asked_size(models, width, height):
    result = make(models, params=ImageParams(width=width, height=height))
    assert isinstance(result.image, Image.Image)
    assert result.image.size == (width, height) and result.image.mode == "RGB"
    assert not result.stopped and result.steps_done == result.steps_total == 1
    assert result.decoder == "TAESD"  # the CPU default
    assert f"{width}×{height}" in result.summary


def test_same_seed_same_pixels_other_seed_other_pixels(models):
    params = ImageParams(width=256, height=256, steps=2, seed=11)
    first = pixels(make(models, params=params))
    assert np.array_equal(first, pixels(make(models, params=params)))
    other = pixels(make(models, params=ImageParams(width=256, height=256, steps=2, seed=12)))
    assert not np.array_equal(first, other)


def test_taesd_and_full_quality_decode_with_different_vaes(models, monkeypatch):
    bundle = models.get("text-to-image").bundle
    used = []
    for name, vae in (("full", bundle.pipe.vae), ("tiny", bundle.tiny_vae)):
        decode = vae.decode
        monkeypatch.setattr(vae, "decode", lambda *a, _n=name, _d=decode, **k: used.append(_n) or _d(*a, **k))
    tiny = make(models, params=ImageParams(width=256, height=256, seed=5))
    full = make(models, params=ImageParams(width=256, height=256, seed=5, full_quality=True))
    assert used == ["tiny", "full"]
    assert (tiny.decoder, full.decoder) == ("TAESD", "full VAE")
    assert type(bundle.pipe.vae).__name__ == "AutoencoderKL" and type(bundle.tiny_vae).__name__ == "AutoencoderTiny"
    assert full.image.size == tiny.image.size == (256, 256)
    assert not np.array_equal(pixels(tiny), pixels(full))


def test_step_callback_reports_every_step(models, unet_calls):
    seen = []
    result = make(models, params=ImageParams(width=256, height=256, steps=4), on_step=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert unet_calls.count == 4 and result.steps_done == 4


def test_stop_after_step_k_skips_the_remaining_unet_steps(models, unet_calls):
    stop = threading.Event()

    def on_step(done, total):
        if done == 2:
            stop.set()

    result = make(models, params=ImageParams(width=256, height=256, steps=8), stop=stop, on_step=on_step)
    assert result.stopped and result.image is None
    assert (result.steps_done, result.steps_total) == (2, 8)
    assert unet_calls.count == 2
    assert result.summary.startswith("Stopped after 2 of 8 steps")


def test_closing_the_stream_stops_the_worker(models, unet_calls):
    updates = text_to_image.stream(models, "a cat", None, ImageParams(width=256, height=256, steps=40))
    assert next(updates) == text_to_image.Step(1, 40)
    updates.close()  # what a cancelled job or a closed browser tab does
    assert unet_calls.count < 40
    assert not any(t.name == "text-to-image" for t in threading.enumerate())


def test_stream_ends_with_the_result(models):
    items = list(text_to_image.stream(models, "a cat", None, ImageParams(width=256, height=256, steps=3)))
    assert items[:-1] == [text_to_image.Step(i, 3) for i in (1, 2, 3)]
    assert items[-1].image.size == (256, 256)


def test_negative_prompt_counts_only_above_guidance_1(models):
    def image(negative, guidance):
        params = ImageParams(width=256, height=256, seed=3, guidance=guidance, negative_prompt=negative)
        return make(models, params=params)

    off_a, off_b = image("blurry", 0.0), image("dark", 0.0)
    assert np.array_equal(pixels(off_a), pixels(off_b))
    assert any("only counts when guidance is above 1" in n for n in off_a.notices)
    on_a, on_b = image("blurry", 4.0), image("dark", 4.0)
    assert not np.array_equal(pixels(on_a), pixels(on_b))
    assert not on_a.notices


def test_prompt_past_clips_window_is_truncated_with_a_notice(models):
    words = " ".join(f"word{i}" for i in range(60))  # far more than 75 tokens
    result = make(models, prompt=words)
    assert result.image is not None
    notice = next(n for n in result.notices if "CLIP reads only the first 75" in n)
    assert "word59" in notice or "..." in notice
    assert "word0 " not in notice.split("“", 1)[1]  # the start of the prompt was kept


@pytest.mark.parametrize("prompt, params, message", [
    ("", SMALL, "Type a prompt"),
    ("  \n ", SMALL, "Type a prompt"),
    ("x" * 20_001, SMALL, "limit is 20,000"),
    ("a cat", ImageParams(negative_prompt="x" * 20_001), "negative prompt is 20,001 characters"),
    ("a cat", ImageParams(steps=0), "Steps must be between 1 and 50"),
    ("a cat", ImageParams(steps=51), "Steps must be between 1 and 50"),
    ("a cat", ImageParams(steps=2.5), "Steps must be a whole number"),
    ("a cat", ImageParams(steps="many"), "Steps must be a number"),
    ("a cat", ImageParams(guidance=-0.5), "Guidance must be between 0.0 and 20.0"),
    ("a cat", ImageParams(guidance=20.5), "Guidance must be between 0.0 and 20.0"),
    ("a cat", ImageParams(guidance=float("nan")), "Guidance must be between"),
    ("a cat", ImageParams(width=300), "Width must be a multiple of 8.*Try 296 or 304"),
    ("a cat", ImageParams(height=513), "Height must be a multiple of 8"),
    ("a cat", ImageParams(width=128), "Width must be between 256 and 768"),
    ("a cat", ImageParams(height=1024), "Height must be between 256 and 768"),
    ("a cat", ImageParams(seed=-1), "Seed must be between 0 and 4294967295"),
    ("a cat", ImageParams(seed=2**32), "Seed must be between 0 and 4294967295"),
    ("a cat", ImageParams(seed=None), "Seed must be a number"),
])
def test_bad_inputs_are_explained(models, prompt, params, message):
    with pytest.raises(UserInputError, match=message):
        make(models, prompt=prompt, params=params)


# --- through the launched app -------------------------------------------------------------------

def open_image(path) -> Image.Image:
    with Image.open(path) as img:
        img.load()
        return img


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
    (("a cat", "", 1, 0.0, 2**32), "4294967296 is greater than maximum value 4294967295"),
    # Gradio checks slider ranges before our code runs, with messages of its own.
    (("a cat", "", 99), "99 is greater than maximum value 50"),
])
def test_endpoint_bad_inputs_answer_with_a_message_and_keep_serving(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/generate_image")
    path, _ = client.predict("a dog", "", 1, 0.0, 0, 256, 256, api_name="/generate_image")
    assert open_image(path).size == (256, 256)


def test_cancelling_a_job_stops_the_denoising(client, app_server):
    client.predict("warm up", "", 1, 0.0, 0, 256, 256, api_name="/generate_image")
    calls = UNetCalls(app_server.models.get("text-to-image").bundle.pipe.unet)
    try:
        job = client.submit("a dog", "", 50, 0.0, 0, 256, 256, api_name="/generate_image")
        deadline = time.monotonic() + 60
        while calls.count < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        job.cancel()
        time.sleep(0.5)
        settled = calls.count
        time.sleep(1.0)
        assert calls.count == settled, "the UNet kept running after the job was cancelled"
        assert calls.count < 50
    finally:
        calls.close()
