"""Text to image tab: a prompt in, an SD-Turbo image out, with progress per denoising step and a Stop
that really stops (the denoising loop, not only the display).

Run on its own: python -m tabs.text_to_image
"""

from __future__ import annotations

import gradio as gr

from pipelines.inside import text_to_image as inside
from pipelines.tasks import text_to_image
from pipelines.tasks.text_to_image import MAX_GUIDANCE, MAX_SEED, MAX_SIDE, MAX_STEPS, MIN_SIDE, SIDE_MULTIPLE
from ui import inside_media_views
from ui.assistants import Tool
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.widgets import (
    StopSignals,
    describe,
    examples,
    model_picker,
    progress_bar,
    public_event,
    status_box,
    user_errors,
    while_loading,
)

D = text_to_image.DEFAULTS
# Scenes the course's chapters use as examples (a dog in a park, a cat on a sofa), so the images can
# go back into the image-classification and CLIP tabs. assets/texts/examples.json may override them.
PROMPTS = [
    ["a dog playing in a park, golden hour, photograph", "", 1, 0.0],
    ["a cat sitting on a sofa, watercolor", "", 2, 0.0],
    ["a red car parked in front of a small house, morning light", "", 1, 0.0],
    ["a sunset over the sea, oil painting", "blurry, low quality", 4, 2.0],
]


def build(models) -> None:
    signals = StopSignals()
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(label="Prompt", lines=2, placeholder=text_to_image.EXAMPLE,
                                info="CLIP reads the first 75 tokens (about 50-60 words); the rest is ignored.")
            negative = gr.Textbox(label="Negative prompt", lines=1, placeholder="blurry, low quality",
                                  info="What to steer away from. Used only when guidance is above 1.")
            with gr.Row():
                run = gr.Button("Generate", variant="primary")
                stop = gr.Button("Stop", variant="stop")
            image = gr.Image(label="Image", type="pil", format="png", interactive=False)
            status = status_box()
            look = LookInside(models, "The image after each denoising step: the latents the sampler held after the "
                              "step (kept during the run), decoded small by the tiny decoder TAESD. Early steps "
                              "still hold noise; it does not show how the prompt steered each step.")
        with gr.Column(scale=2):
            model = model_picker(models)
            steps = gr.Slider(1, MAX_STEPS, value=D.steps, step=1, label="Denoising steps",
                              info="SD-Turbo is made for 1-4. Each step runs the UNet once: "
                                   "the main cost on a CPU.")
            guidance = gr.Slider(0.0, MAX_GUIDANCE, value=D.guidance, step=0.5, label="Guidance",
                                 info="At 1 or below classifier-free guidance is off (SD-Turbo was trained "
                                      "so) and the negative prompt is ignored; above 1 each step costs twice.")
            with gr.Row():
                width = gr.Slider(MIN_SIDE, MAX_SIDE, value=D.width, step=SIDE_MULTIPLE, label="Width")
                height = gr.Slider(MIN_SIDE, MAX_SIDE, value=D.height, step=SIDE_MULTIPLE, label="Height")
            seed = gr.Number(D.seed, precision=0, minimum=0, maximum=MAX_SEED, label="Seed",
                             info="Same seed and settings, same image.")
            full_quality = gr.Checkbox(bool(D.full_quality), label="Full quality (slow on CPU)",
                                       info="Decode with the full Stable Diffusion VAE instead of the tiny "
                                            "TAESD decoder: finer detail, about 12x slower decoding on a "
                                            "CPU. A GPU always uses the full VAE.")

    listed = [[e, "", D.steps, D.guidance] if isinstance(e, str) else e for e in examples(models.spec.examples)]
    gr.Examples(listed or PROMPTS, inputs=[prompt, negative, steps, guidance],
                label="Examples (chapter 8: DALL·E generates images from text)")

    @user_errors
    def generate_image(prompt, negative_prompt=None, steps=D.steps, guidance=D.guidance, seed=D.seed,
                       width=D.width, height=D.height, full_quality=bool(D.full_quality), model_id=None,
                       request: gr.Request = None, progress=gr.Progress()):
        """Make a picture from a text prompt with SD-Turbo (a distilled Stable Diffusion): a usable picture in
        1 to 4 denoising steps. On a CPU a 512x512 picture takes about 10 s; the first call loads the model.

        Args:
            prompt: What to draw, in English, e.g. "a dog playing in a park, golden hour, photograph" (required).
            negative_prompt: What to steer away from, e.g. "blurry"; used only when guidance is above 1.
            steps: Denoising steps, 1 to 50; SD-Turbo is made for 1 to 4 (each step costs one UNet pass).
            guidance: Classifier-free guidance, 0 to 20; at 1 or below it is off (SD-Turbo's default, 0).
            seed: Random seed, 0 to 4294967295: the same seed and settings give the same picture.
            width: Picture width in pixels, 256 to 768, a multiple of 8 (SD-Turbo was trained at 512).
            height: Picture height in pixels, 256 to 768, a multiple of 8.
            full_quality: Decode with the full Stable Diffusion VAE (finer, about 12x slower on a CPU).
            model_id: The model: SD-Turbo (the only one).

        Returns:
            The picture and a Markdown status line (model, steps, time).
        """
        params = text_to_image.ImageParams(
            negative_prompt=negative_prompt or "", steps=steps, guidance=guidance,
            seed=D.seed if seed is None else seed, width=width, height=height,
            full_quality=True if full_quality else None,  # unticked: TAESD on a CPU, full VAE on a GPU
        )
        checked = text_to_image.check(models, prompt, model_id, params)  # before any model loads
        stop_event = signals.start(request)
        yield from while_loading(models, checked.model_id, progress, None)
        bar = progress_bar(progress)
        result = None
        # The pipeline runs in a worker thread and reports each step; leaving this loop early (a
        # cancelled job, a closed tab) stops the denoising too.
        for update in text_to_image.stream(models, checked, stop_event):
            if isinstance(update, text_to_image.Update):
                bar(update.fraction, update.message)
                yield None, f"⏳ {update.message}"
            else:
                result = update
        line = describe(models.get(checked.model_id), result.summary)
        line += "".join(f"\n\nℹ️ {note}" for note in result.notes)
        yield result.image, line

    generated = public_event(models, [run.click, prompt.submit], generate_image,
                             [prompt, negative, steps, guidance, seed, width, height, full_quality, model],
                             [image, status], tool=Tool("The picture (PNG), and its URL on this app.", output=image))
    look.follow(generated, [prompt, negative, steps, guidance, seed, width, height, full_quality, model, status],
                inside.explain, inside_media_views.denoising)
    stop.click(signals.stop, None, None, queue=False, api_visibility="private")

    def code_request(prompt, negative_prompt, steps, guidance, seed, width, height, full_quality, model_id):
        """The request generate_image checked (its settings built the same way), for "Code for this result"."""
        params = text_to_image.ImageParams(negative_prompt=negative_prompt or "", steps=steps, guidance=guidance,
                                           seed=D.seed if seed is None else seed, width=width, height=height,
                                           full_quality=True if full_quality else None)
        return text_to_image.check(models, prompt, model_id, params)

    code_block(models, Wiring([generated], [prompt, negative, steps, guidance, seed, width, height, full_quality,
                                            model], code_request),
               example=lambda: text_to_image.check(models, text_to_image.EXAMPLE))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
