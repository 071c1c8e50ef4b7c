"""Text to image with SD-Turbo: a prompt in, a PIL image out, with per-step progress and a real Stop.

SD-Turbo is Stable Diffusion 2.1 distilled (adversarial diffusion distillation) to make an image in
1-4 denoising steps without classifier-free guidance. On a CPU a 512x512 image costs one UNet step
(about 11 s on 2 cores) and a full-VAE decode (about 25-29 s, more than the step itself), so by
default a CPU decodes with TAESD (madebyollin/taesd, a tiny decoder of the same latents: about 2.5 s,
slightly softer); "full quality" uses the real AutoencoderKL. A GPU always decodes with the full VAE:
it is cheap there. Numbers: bench/results/text_to_image.md.

A real Stop: diffusers calls `callback_on_step_end` after every denoising step; ours reports progress
and, when the request's stop event is set, sets `pipe._interrupt`, diffusers' own interrupt flag, so
the remaining steps are skipped (the UNet does not run again). A stopped run returns no image: a
partly denoised latent from an ancestral sampler decodes to mostly noise, and Stop is a request to
stop spending the (shared) CPU, which a full-VAE decode would not honour.

The bundle: `model` is the StableDiffusionPipeline, `processor` its CLIP tokenizer, `extras["taesd"]`
the tiny decoder (absent when it could not be loaded, with `extras["notice"]` saying so).

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import text_to_image
    models = ModelManager(Settings(model_source="tiny")).task("text-to-image")
    result = text_to_image.generate(models, "a dog playing in a park")
    result.image.save("dog.png")
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import Iterator

from pipelines.core import checks
from pipelines.core.bundle import Bundle, LoadRequest
from pipelines.core.checks import Progress, no_progress
from pipelines.core.errors import UserInputError

log = logging.getLogger(__name__)
TAESD = "madebyollin/taesd"
# SD-Turbo was trained at 512x512; far from it images fall apart, and on a CPU 768x768 already takes
# about 2.5x as long as 512x512. Sides must be multiples of 8: the VAE works on an 8x smaller grid.
MIN_SIDE, MAX_SIDE, SIDE_MULTIPLE = 256, 768, 8
MAX_STEPS = 50  # SD-Turbo needs 1-4; more is allowed for experiments (and for a visible Stop)
MAX_GUIDANCE = 20.0
MAX_SEED = 2**32 - 1
EXAMPLE = "a dog playing in a park"
ENCODING, DECODING = "Encoding the prompt…", "Decoding the image…"


@dataclass(frozen=True)
class ImageParams:
    """Generation settings. The defaults are SD-Turbo's own recommendation (1 step, guidance 0); the
    tab reads them from here."""
    negative_prompt: str = ""
    steps: int = 1
    guidance: float = 0.0  # <= 1 turns classifier-free guidance (and the negative prompt) off
    seed: int = 0
    width: int = 512
    height: int = 512
    full_quality: bool | None = None  # decode with the full VAE; None: on a GPU yes, on a CPU no

    def checked(self) -> ImageParams:
        """The same settings as clean numbers, or UserInputError naming the one out of range."""
        return replace(
            self,
            steps=checks.whole_number("Denoising steps", self.steps, 1, MAX_STEPS),
            guidance=checks.number("Guidance", self.guidance, 0.0, MAX_GUIDANCE),
            seed=checks.whole_number("Seed", self.seed, 0, MAX_SEED),
            width=check_side("Width", self.width),
            height=check_side("Height", self.height),
        )


DEFAULTS = ImageParams()


@dataclass(frozen=True)
class Request:
    """A checked request: nothing here needs the model."""
    prompt: str
    model_id: str
    params: ImageParams


@dataclass(frozen=True)
class ImageResult:
    image: object | None  # PIL.Image.Image; None when stopped
    steps_done: int
    steps_total: int
    stopped: bool
    decoder: str  # "TAESD" or "full VAE" (empty when nothing was decoded)
    seconds: float
    notes: tuple[str, ...] = ()  # sentences for the status line

    @property
    def summary(self) -> str:
        if self.stopped:
            return (f"Stopped after {self.steps_done} of {self.steps_total} steps "
                    "(no image: a partly denoised image is mostly noise).")
        return (f"{self.image.width}×{self.image.height} · {self.steps_total} step"
                f"{'s' if self.steps_total != 1 else ''} · decoded with {self.decoder} · {self.seconds:.1f} s")


@dataclass(frozen=True)
class Update:
    """A progress report from `stream`: what `progress(fraction, message)` was called with."""
    fraction: float
    message: str


def check_side(label: str, value) -> int:
    """A side in pixels: a whole number in range, and a multiple of 8 (not a range: its own check)."""
    side = checks.whole_number(label, value, MIN_SIDE, MAX_SIDE)
    if side % SIDE_MULTIPLE:
        below = side - side % SIDE_MULTIPLE
        raise UserInputError(f"{label} must be a multiple of {SIDE_MULTIPLE} (the VAE works on an 8x smaller "
                             f"grid); got {side}. Try {below} or {below + SIDE_MULTIPLE}.")
    return side


def load(request: LoadRequest) -> Bundle:
    """load_pretrained's steps by hand (diffusers pipelines are not one transformers model)."""
    import torch
    from diffusers import StableDiffusionPipeline

    loc, placement = request.location, request.placement
    pipe = StableDiffusionPipeline.from_pretrained(loc.source, dtype=placement.dtype, **loc.pretrained_kwargs)
    pipe.to(placement.device)
    for part in pipe.components.values():
        if isinstance(part, torch.nn.Module):
            part.eval()
    pipe.set_progress_bar_config(disable=True)  # progress goes through our step callback instead
    if placement.is_gpu:
        # Tiling bounds the decoder's memory; it only engages above the VAE's sample_size (768 px),
        # so today it is a guard for larger limits. Attention slicing is deliberately NOT enabled:
        # with PyTorch's scaled_dot_product_attention it saves nothing and slows every step
        # (diffusers' own warning on enable_attention_slicing).
        pipe.vae.enable_tiling()
    extras = {}
    taesd = request.companions.get(TAESD)
    try:
        from diffusers import AutoencoderTiny

        if taesd is None:
            raise LookupError("no location was resolved for it")
        tiny_vae = AutoencoderTiny.from_pretrained(taesd.source, dtype=placement.dtype, **taesd.pretrained_kwargs)
        extras["taesd"] = tiny_vae.to(placement.device).eval()
    except Exception as exc:  # the image still comes out, through the full (slower) VAE
        log.warning("TAESD unavailable, decoding with the full VAE: %s", exc)
        extras["notice"] = f"The tiny decoder {TAESD} could not be loaded, so images are decoded with the full VAE."
    return Bundle(pipe, pipe.tokenizer, placement.device, request.family, request.checkpoint, extras)


def on_gpu(bundle: Bundle) -> bool:
    return bundle.device != "cpu"


def prompt_notes(bundle: Bundle, prompt: str, params: ImageParams) -> list[str]:
    """Sentences about what the model will not see: words past CLIP's window, an unused negative prompt."""
    notes = []
    tokenizer = bundle.tokenizer
    window = tokenizer.model_max_length  # 77: 75 prompt tokens + start and end
    for label, text in (("prompt", prompt), ("negative prompt", params.negative_prompt)):
        ids = tokenizer(text, truncation=False, verbose=False)["input_ids"] if text else []
        if len(ids) > window:
            dropped = tokenizer.decode(ids[window - 1:-1]).strip()
            dropped = dropped if len(dropped) <= 60 else dropped[:57] + "..."
            notes.append(f"The {label} is {len(ids) - 2} tokens; CLIP reads only the first {window - 2}, "
                         f"so “{dropped}” was ignored.")
    if params.negative_prompt and params.guidance <= 1:
        notes.append("The negative prompt was not used: it only counts when guidance is above 1.")
    return notes


def check(models, prompt: str, model_id: str | None = None, params: ImageParams = DEFAULTS) -> Request:
    limit = models.settings.max_input_chars
    prompt = checks.text("prompt", prompt, limit, empty=f"Type a prompt first, for example: {EXAMPLE}")
    negative = params.negative_prompt
    # Optional: an empty negative prompt is simply "none"; a given one obeys the same rules as the prompt.
    negative = checks.text("negative prompt", negative, limit, empty="") if negative and str(negative).strip() else ""
    params = replace(params, negative_prompt=negative).checked()
    return Request(prompt, models.checkpoint(model_id).repo_id, params)


def run(models, request: Request, progress: Progress = no_progress,
        stop: threading.Event | None = None) -> ImageResult:
    """Make one image. `progress(fraction, message)` is called before the first and after every step."""
    if models.remote:  # an Inference Endpoint draws it (pipelines/remote/): nothing loads here
        from pipelines.remote import hf_endpoint

        return hf_endpoint.text_to_image(models, request, progress, stop)
    return render(models.bundle(request.model_id), request, progress, stop)


def generate(models, prompt: str, model_id: str | None = None, params: ImageParams = DEFAULTS,
             progress: Progress = no_progress, stop: threading.Event | None = None) -> ImageResult:
    """check() then run(): the whole task in one call."""
    return run(models, check(models, prompt, model_id, params), progress, stop)


def stream(models, request: Request, stop: threading.Event | None = None) -> Iterator[Update | ImageResult]:
    """`run` in a worker thread: an Update for every progress report, then the ImageResult.

    Closing the iterator early (a cancelled job, a closed browser tab) sets the stop event, so the
    denoising ends after the step in progress instead of running on for nobody.
    """
    stop = stop or threading.Event()
    updates: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            updates.put(run(models, request, lambda f, m: updates.put(Update(f, m)), stop))
        except BaseException as exc:  # handed to the consumer below, never lost in the thread
            updates.put(exc)

    worker = threading.Thread(target=work, name="text-to-image", daemon=True)
    worker.start()
    finished = False
    try:
        while not finished:
            item = updates.get()
            if isinstance(item, BaseException):
                raise item
            finished = isinstance(item, ImageResult)
            yield item
    finally:
        if not finished:
            stop.set()
        worker.join()


def render(bundle: Bundle, request: Request, progress: Progress = no_progress,
           stop: threading.Event | None = None) -> ImageResult:
    """The model part of `run`, on a bundle (benchmarks time this on a bundle they built themselves)."""
    import torch

    params = request.params
    started = time.perf_counter()
    notes = prompt_notes(bundle, request.prompt, params)
    notes += [bundle.extras["notice"]] if bundle.extras.get("notice") else []
    if stop is not None and stop.is_set():  # Stop pressed while the model was loading
        return ImageResult(None, 0, params.steps, True, "", 0.0, tuple(notes))
    pipe = _request_view(bundle.model)
    done = 0
    kept = []  # the latents after each step, for "Look inside" (pipelines/inside/text_to_image.py): 64 KB a step

    def step_end(pipeline, step, timestep, tensors):
        nonlocal done
        done = step + 1
        kept.append(tensors["latents"].detach().clone())
        busy = done < params.steps
        progress(done / params.steps, f"Denoising: {done} of {params.steps} steps done" if busy else DECODING)
        if stop is not None and stop.is_set():
            pipeline._interrupt = True  # diffusers skips the remaining steps
        return {}

    progress(0.0, ENCODING)
    generator = torch.Generator(device=bundle.device).manual_seed(params.seed)
    with torch.inference_mode():
        latents = pipe(
            prompt=request.prompt, negative_prompt=params.negative_prompt or None,
            num_inference_steps=params.steps, guidance_scale=params.guidance, width=params.width,
            height=params.height, generator=generator, output_type="latent", callback_on_step_end=step_end,
        ).images
        from pipelines.inside.text_to_image import keep_steps  # here: that module imports this one

        keep_steps(bundle, request, kept)
        if done < params.steps:
            return ImageResult(None, done, params.steps, True, "", time.perf_counter() - started, tuple(notes))
        full = params.full_quality if params.full_quality is not None else on_gpu(bundle)
        tiny_vae = bundle.extras.get("taesd")
        vae, decoder = (bundle.model.vae, "full VAE") if full or tiny_vae is None else (tiny_vae, "TAESD")
        pixels = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor, return_dict=False)[0]
    image = pipe.image_processor.postprocess(pixels, output_type="pil")[0]
    return ImageResult(image, done, params.steps, False, decoder, time.perf_counter() - started, tuple(notes))


def _request_view(pipe):
    """A pipeline object of this request's own, sharing every weight with `pipe`.

    A diffusers pipeline keeps per-run state on itself (`_interrupt`, `_guidance_scale`) and in its
    scheduler (the step index), so two requests at once (concurrency 2 on a GPU) must not share one.
    Not `from_pipe`: it also casts the shared modules to float32 by default.
    """
    scheduler = pipe.scheduler.from_config(pipe.scheduler.config)
    view = type(pipe)(**{**pipe.components, "scheduler": scheduler}, requires_safety_checker=False)
    view.set_progress_bar_config(disable=True)
    return view
