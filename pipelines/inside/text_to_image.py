"""Look inside text to image: the image after each denoising step, as cheap previews through the tiny decoder.

The choice: the step latents come with the run, the previews are decoded on demand. While the tab's run
denoises, diffusers calls `callback_on_step_end` after every step with the current latents; the task's
callback (pipelines/tasks/text_to_image.py, `render`) copies them (4 x 64 x 64 floats, 64 KB a step at
512x512: microseconds, nothing a person waits for) and hands them to `keep_steps`, which keeps the last
runs' in the model's bundle, keyed by everything that decides the latents (model, prompts, steps,
guidance, seed, size; not the decoder). Opening "Look inside" decodes them. Recomputing instead would
run every UNet step again (about 11 s a step on 2 CPU cores): that is only the fallback, when the run's
latents are gone (evicted by later runs, the model reloaded, or a ZeroGPU worker that ran elsewhere);
the same seed gives the same latents, so the previews are the run's own either way.

What a preview is: the latent after step k (the sampler's x_t, with the noise it adds back for the
next step: with few steps the early ones are mostly noise), shrunk to PREVIEW_SIDE pixels by averaging
latent cells and decoded by TAESD (the tab's own decoder on a CPU). Previews are small and soft: a
512x512 TAESD decode takes about 2.5 s on 2 cores, a 128x128 one about a tenth of that. At most
MAX_PREVIEWS steps are decoded, evenly spaced, always including the last.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import replace

from pipelines.inside import local_bundle
from pipelines.inside.pictures import data_uri
from pipelines.tasks import text_to_image as t2i

STEPS = "step_latents"  # bundle.extras key of the StepLatents store
MAX_PREVIEWS = 8
PREVIEW_SIDE = 128  # pixels of a preview's longer side
KEPT_BYTES = 32 * 2**20  # latents kept per model: ~500 steps at 512x512, ~8 runs of 50 steps at 768x768


class StepLatents:
    """The step latents of the last runs, least recently used dropped first, within KEPT_BYTES."""

    def __init__(self, max_bytes: int = KEPT_BYTES):
        self.max_bytes = max_bytes
        self._runs: OrderedDict[tuple, list] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: tuple, latents: list) -> None:
        with self._lock:
            self._runs[key] = latents
            self._runs.move_to_end(key)
            while len(self._runs) > 1 and sum(_nbytes(v) for v in self._runs.values()) > self.max_bytes:
                self._runs.popitem(last=False)

    def get(self, key: tuple) -> list | None:
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
            return self._runs.get(key)


def _nbytes(latents: list) -> int:
    return sum(t.numel() * t.element_size() for t in latents)


def run_key(request: t2i.Request) -> tuple:
    p = request.params
    return (request.model_id, request.prompt, p.negative_prompt, p.steps, p.guidance, p.seed, p.width, p.height)


def keep_steps(bundle, request: t2i.Request, latents: list) -> None:
    """Called by the task after its denoising loop: keep this run's step latents (on the CPU)."""
    store = bundle.extras.setdefault(STEPS, StepLatents())
    store.put(run_key(request), [t.detach().to("cpu", copy=True) for t in latents])


def explain(models, prompt, negative_prompt=None, steps=t2i.DEFAULTS.steps, guidance=t2i.DEFAULTS.guidance,
            seed=t2i.DEFAULTS.seed, width=t2i.DEFAULTS.width, height=t2i.DEFAULTS.height, full_quality=False,
            model_id=None, status="") -> dict:
    """Previews of the latents after each step of the run the tab showed (the tab's inputs, then its
    status line: a stopped run says so there)."""
    params = t2i.ImageParams(negative_prompt=negative_prompt or "", steps=steps, guidance=guidance,
                             seed=t2i.DEFAULTS.seed if seed is None else seed, width=width, height=height,
                             full_quality=True if full_quality else None)  # as the tab builds them
    request = t2i.check(models, prompt, model_id, params)
    bundle = local_bundle(models, request.model_id)
    tiny_vae = bundle.extras.get("taesd")
    if tiny_vae is None:
        return {"model_id": request.model_id, "message": "The tiny decoder (TAESD) could not be loaded, so there "
                "are no cheap previews: each step would take a full-VAE decode."}
    latents = bundle.extras.get(STEPS, StepLatents()).get(run_key(request))
    notes = []
    if latents is None:
        if "Stopped" in str(status or ""):
            return {"model_id": request.model_id, "message": "This run was stopped and its steps are no longer in "
                    "memory: generate again to see them."}
        started = time.perf_counter()
        t2i.render(bundle, replace(request, params=replace(request.params, full_quality=False)))
        latents = bundle.extras[STEPS].get(run_key(request))
        notes.append(f"The run's steps were no longer in memory: they were recomputed with the same seed "
                     f"({time.perf_counter() - started:.1f} s).")
    if request.params.full_quality or t2i.on_gpu(bundle):
        notes.append("The image above was decoded with the full VAE; the previews use the tiny decoder.")
    chosen = preview_steps(len(latents))
    pictures = decode_previews(bundle, [latents[i] for i in chosen])
    return {"model_id": request.model_id, "steps": request.params.steps, "done": len(latents),
            "previews": [{"step": i + 1, "picture": data_uri(p)} for i, p in zip(chosen, pictures)],
            "side": [pictures[0].width, pictures[0].height] if pictures else [0, 0], "notes": notes}


def preview_steps(done: int, most: int = MAX_PREVIEWS) -> list[int]:
    """Indices (from 0) of the steps to preview: all of them up to `most`, else evenly spaced, the last included."""
    if done <= most:
        return list(range(done))
    return sorted({round(i * (done - 1) / (most - 1)) for i in range(most)})


def decode_previews(bundle, latents: list) -> list:
    """Small PIL previews of latents (each (1, 4, h, w)): averaged down to PREVIEW_SIDE / 8 cells on the longer
    side, decoded in one TAESD batch."""
    import torch

    if not latents:
        return []
    vae = bundle.extras["taesd"]
    batch = torch.cat(latents).to(bundle.device, vae.dtype)
    h, w = batch.shape[-2:]
    cells = max(1, PREVIEW_SIDE // 8)
    scale = min(1.0, cells / max(h, w))
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    with torch.inference_mode():
        small = torch.nn.functional.interpolate(batch.float(), size=size, mode="area").to(vae.dtype)
        pixels = vae.decode(small / vae.config.scaling_factor, return_dict=False)[0]
    return bundle.model.image_processor.postprocess(pixels, output_type="pil")
