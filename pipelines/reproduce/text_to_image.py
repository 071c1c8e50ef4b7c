"""The program for a text-to-image request: diffusers' AutoPipelineForText2Image with SD-Turbo, the seed,
steps, guidance and size the app used, decoded by the TAESD tiny decoder where the app uses it."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import header, literal, number, text
from pipelines.tasks.text_to_image import TAESD


def code(request) -> str:
    ckpt = registry.task("text-to-image").checkpoint(request.model_id)
    p = request.params
    lines = [
        header(f"Text to image with {ckpt.label}", "torch", "diffusers", "transformers", "accelerate"),
        "import torch\nfrom diffusers import " + ("AutoPipelineForText2Image" if p.full_quality
                                                   else "AutoencoderTiny, AutoPipelineForText2Image") + "\n",
        f"MODEL = {literal(request.model_id)}",
    ]
    if not p.full_quality:
        lines.append(f"TINY_DECODER = {literal(TAESD)}  # TAESD: a tiny decoder of Stable Diffusion's latents")
    lines += [
        f"PROMPT = {text(request.prompt)}",
        f"NEGATIVE_PROMPT = {text(p.negative_prompt) if p.negative_prompt else None}"
        + ("  # only counts when guidance is above 1" if p.negative_prompt else ""),
        f"STEPS = {p.steps}  # SD-Turbo is made for 1-4 denoising steps",
        f"GUIDANCE = {number(p.guidance)}  # at 1 or below, no classifier-free guidance (as SD-Turbo was trained)",
        f"SEED = {p.seed}  # the same seed and settings give the same picture",
        f"WIDTH, HEIGHT = {p.width}, {p.height}\n",
        "# As the app: a GPU in half precision when there is one, else the CPU in full precision.",
        'device = "cuda" if torch.cuda.is_available() else "cpu"',
        "dtype = torch.float16 if device == \"cuda\" else torch.float32\n",
        "pipe = AutoPipelineForText2Image.from_pretrained(MODEL, dtype=dtype).to(device)",
    ]
    if p.full_quality:
        lines.append("# Full quality: the model's own VAE decodes the picture (slow on a CPU, where the app\n"
                     "# decodes with TAESD by default).")
    else:
        lines += [
            'if device == "cpu":',
            "    # On a CPU the app decodes with TAESD: about 12x faster than the full VAE, slightly softer.",
            "    # (A GPU decodes with the full VAE: it is cheap there.)",
            "    pipe.vae = AutoencoderTiny.from_pretrained(TINY_DECODER, dtype=dtype).to(device)",
        ]
    lines += [
        "generator = torch.Generator(device=device).manual_seed(SEED)",
        "image = pipe(",
        "    prompt=PROMPT, negative_prompt=NEGATIVE_PROMPT, num_inference_steps=STEPS,",
        "    guidance_scale=GUIDANCE, width=WIDTH, height=HEIGHT, generator=generator,",
        ").images[0]",
        'image.save("result.png")',
        'print(f"Saved result.png ({image.width}x{image.height})")',
    ]
    return "\n".join(lines) + "\n"
