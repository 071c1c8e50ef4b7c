"""Text to image on a CPU: SD-Turbo at real size (random weights), one 512x512 image in 1 step,
through our pipeline (pipelines/tasks/text_to_image.render, TAESD decode) vs the plain diffusers pipeline
(StableDiffusionPipeline.__call__, full AutoencoderKL decode).

    .venv/bin/python bench/text_to_image.py [--threads 2] [--repeats 2] [--size 512]

Writes bench/results/text_to_image.md. Needs about 7 GB of free RAM (float32: UNet 3.5 GB, text
encoder 1.4 GB, VAE 0.3 GB, plus activations: peak RSS 6.7 GB) and 3-4 minutes on 2 cores. Speed does
not depend on the weight values, so the models are built from the real configs with random weights
(the hub is not needed):
  UNet  SD 2.1: block_out_channels (320, 640, 1280, 1280), attention_head_dim (5, 10, 20, 20),
        cross_attention_dim 1024, use_linear_projection, sample_size 64 (865M parameters)
  text  OpenCLIP-H text tower: hidden 1024, 23 layers, 16 heads, intermediate 4096, gelu (340M)
  VAE   SD AutoencoderKL: block_out_channels (128, 256, 512, 512), 4 latent channels (84M)
  TAESD AutoencoderTiny with its default config (2.4M)
Stage times come from hooks on the modules: text encoder forward, UNet forward (one per step),
VAE decode; "other" is the rest (tokenizing, scheduler, latents to PIL).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "text_to_image.md"
PROMPT = "a dog playing in a park, golden hour, photograph"
TARGET_S = 12.0  # our default path, end to end, on the 2-core CPU of a free Space


def build_real_size():
    """The sd-turbo pipeline and TAESD at their real sizes, randomly initialised."""
    import torch
    from diffusers import (
        AutoencoderKL,
        AutoencoderTiny,
        EulerAncestralDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    from pipelines.miniatures.diffusion import SCHEDULER_CONFIG, _clip_tokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=64, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2, down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3, attention_head_dim=(5, 10, 20, 20),
        cross_attention_dim=1024, use_linear_projection=True, norm_num_groups=32, act_fn="silu",
        flip_sin_to_cos=True, freq_shift=0,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
        num_attention_heads=16, max_position_embeddings=77, hidden_act="gelu", projection_dim=512,
        bos_token_id=0, eos_token_id=2, pad_token_id=1,
    ))
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=2, norm_num_groups=32, act_fn="silu", sample_size=768, scaling_factor=0.18215,
    )
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=_clip_tokenizer(), unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(**SCHEDULER_CONFIG),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    for module in (unet, text_encoder, vae):
        module.eval()
    pipe.set_progress_bar_config(disable=True)
    return pipe, AutoencoderTiny().eval()


class StageTimer:
    """Seconds spent in each module, accumulated over one run."""

    def __init__(self, pipe, tiny_vae):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        for name, module in (("text encoder", pipe.text_encoder), ("UNet", pipe.unet)):
            module.register_forward_pre_hook(lambda *_, n=name: self._start(n))
            module.register_forward_hook(lambda *_, n=name: self._stop(n))
        for vae in (pipe.vae, tiny_vae):  # decode is not a forward call: wrap the method
            vae.decode = self._wrap(vae.decode)
        self._started: dict[str, float] = {}

    def _wrap(self, decode):
        def timed(*args, **kwargs):
            self._start("VAE decode")
            try:
                return decode(*args, **kwargs)
            finally:
                self._stop("VAE decode")
        return timed

    def _start(self, name):
        self._started[name] = time.perf_counter()

    def _stop(self, name):
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - self._started.pop(name)
        self.calls[name] = self.calls.get(name, 0) + 1

    def reset(self):
        self.seconds, self.calls = {}, {}


def timed_run(label, fn, timer):
    timer.reset()
    started, cpu_started = time.perf_counter(), time.process_time()
    image = fn()
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert image.size == (ARGS.size, ARGS.size), image.size
    stages = dict(timer.seconds)
    stages["other"] = total - sum(stages.values())
    stages["CPU"] = cpu
    print(f"  {label}: {total:.2f} s  " + "  ".join(f"{k} {v:.2f}" for k, v in stages.items()), flush=True)
    return total, stages


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def main() -> None:
    import diffusers
    import torch

    from pipelines.core.bundle import Bundle
    from pipelines.core.registry import task
    from pipelines.tasks import text_to_image
    from pipelines.tasks.text_to_image import ImageParams, Request

    torch.set_num_threads(ARGS.threads)
    load_before = os.getloadavg()
    print(f"building SD-Turbo at real size (random weights), {ARGS.threads} threads…", flush=True)
    started = time.perf_counter()
    pipe, tiny_vae = build_real_size()
    build_s = time.perf_counter() - started
    params_m = {name: sum(p.numel() for p in m.parameters()) / 1e6 for name, m in
                (("UNet", pipe.unet), ("text encoder", pipe.text_encoder), ("VAE", pipe.vae), ("TAESD", tiny_vae))}
    print(f"built in {build_s:.0f} s: " + ", ".join(f"{k} {v:.1f}M" for k, v in params_m.items()), flush=True)
    timer = StageTimer(pipe, tiny_vae)
    spec = task("text-to-image")
    bundle = Bundle(pipe, pipe.tokenizer, "cpu", spec.family, spec.default, {"taesd": tiny_vae})
    request = Request(PROMPT, spec.default.repo_id,
                      ImageParams(steps=1, guidance=0.0, seed=0, width=ARGS.size, height=ARGS.size))

    def ours():
        return text_to_image.render(bundle, request).image

    def plain():
        generator = torch.Generator("cpu").manual_seed(0)
        return pipe(PROMPT, num_inference_steps=1, guidance_scale=0.0, width=ARGS.size, height=ARGS.size,
                    generator=generator).images[0]

    runs = {"ours (TAESD decode)": ours, "plain diffusers (full VAE)": plain}
    results = {label: [] for label in runs}
    print("warm-up (first calls build oneDNN kernels):", flush=True)
    for label, fn in runs.items():
        timed_run(label, fn, timer)
    print(f"timed, {ARGS.repeats} repeats:", flush=True)
    for _ in range(ARGS.repeats):
        for label, fn in runs.items():
            results[label].append(timed_run(label, fn, timer))
    write_report(results, params_m, build_s, (load_before[0], os.getloadavg()[0]), torch.__version__,
                 diffusers.__version__)


def write_report(results, params_m, build_s, load, torch_version, diffusers_version) -> None:
    stage_names = ["text encoder", "UNet", "VAE decode", "other", "CPU"]
    rows = []
    for label, runs in results.items():
        total = statistics.median(t for t, _ in runs)
        stages = {n: statistics.median(s.get(n, 0.0) for _, s in runs) for n in stage_names}
        rows.append(f"| {label} | " + " | ".join(f"{stages[n]:.2f}" for n in stage_names) + f" | **{total:.2f}** |")
    ours = statistics.median(t for t, _ in next(iter(results.values())))
    plain = statistics.median(t for t, _ in list(results.values())[1])
    verdict = "meets" if ours <= TARGET_S else "misses"
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    text = f"""# Text to image: SD-Turbo, {ARGS.size}x{ARGS.size}, 1 step, CPU

Written by `bench/text_to_image.py` on {time.strftime('%Y-%m-%d %H:%M')}.

- Machine: {machine()}; torch {torch_version}, diffusers {diffusers_version}, Python {platform.python_version()}
- Threads: torch.set_num_threads({ARGS.threads}); load average before / after: {load[0]:.1f} / {load[1]:.1f}
  (the machine is shared: a load above {os.cpu_count()} means other work competed for the cores)
- Models: real SD-Turbo architecture with random weights ({', '.join(f'{k} {v:.1f}M' for k, v in params_m.items())}
  parameters), float32, built in {build_s:.0f} s; peak RSS {peak_gb:.1f} GB
- Each run: prompt "{PROMPT}", guidance 0 (no CFG), seed 0; median of {ARGS.repeats} runs after one
  warm-up run of each path. Seconds:

| path | text encoder | UNet (1 step) | VAE decode | other | CPU time | total (wall) |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

End to end, our default took {ours:.1f} s and the plain pipeline with the full VAE {plain:.1f} s
({plain / ours:.1f}x); our default {verdict} the target of {TARGET_S:.0f} s. The UNet step is the same work
in both paths; the difference is the decoder (TAESD vs AutoencoderKL). "CPU time" is the process's
CPU seconds (about threads x wall when the cores are free; much less means it waited for them).
"""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--size", type=int, default=512)
    ARGS = parser.parse_args()
    main()
