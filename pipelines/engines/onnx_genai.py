"""Language models on onnxruntime-genai: the checkpoint converted once by its model builder into an ONNX graph
with int4 (or int8) weights and a KV cache, run by ONNX Runtime's CPU kernels.

Why this engine: on 2 cores, SmolLM2-135M-Instruct generates at about 0.1-0.2x the ms/token of transformers'
float32 `generate` (bench/results/engines.md), faster than llama.cpp's Q4 path measured on the same machine
(0.33x), and it installs from wheels. Its builder knows the Llama, Qwen, Mistral, Phi and Gemma families;
GPT-2 and StarCoder stay on torch.

The tokenizer, chat template, seeds (ONNX Runtime's own sampler: the same seed gives the same text, not the
text torch's sampler would give), stop sequences and Stop are the app's, as on the torch path: this module only
turns token ids into the next token ids.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

from pipelines.engines.built import build_once, folder_bytes, folder_digest, local_folder

log = logging.getLogger(__name__)
NAME = "onnxruntime-genai"
# transformers architectures the builder converts (onnxruntime_genai/models/builder.py).
ARCHITECTURES = {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "MistralForCausalLM",
                 "Phi3ForCausalLM", "GemmaForCausalLM", "Gemma2ForCausalLM"}
# Settings.quantize -> the builder's precision. "auto" is int4: the measured default that keeps the
# answers (tests/realmodels: the 20-question check).
PRECISION = {"auto": "int4", "int4": "int4", "int8": "int8", "none": "fp32"}
BUILD_TIMEOUT_S = 900


def installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime_genai", "onnx", "onnx_ir"))


def applies(request, config) -> bool:
    """Whether this engine should answer for the request's checkpoint: on a CPU, engine auto or asked for by
    name, the package installed, and an architecture the builder converts."""
    placement = request.placement
    if placement.device != "cpu" or placement.engine not in ("auto", NAME):
        return False
    supported = bool(set(getattr(config, "architectures", None) or ()) & ARCHITECTURES)
    if placement.engine == NAME and not (supported and installed()):
        log.warning("%s cannot run %s here (%s); using torch", NAME, request.checkpoint.repo_id,
                    "architecture not supported" if installed() else "package not installed")
    return supported and installed()


class GenAIModel:
    """One converted checkpoint, loaded once; each request gets its own generator."""

    engine_name = NAME

    def __init__(self, folder: Path, precision: str):
        import onnxruntime_genai as og

        config = og.Config(str(folder))
        config.clear_providers()  # CPU
        self._model = og.Model(config)
        self.vocab_size = int(json.loads((folder / "genai_config.json").read_text())["model"]["vocab_size"])
        self.folder = folder
        self.precision = precision
        self.label = f"{NAME} {precision}"
        self.nbytes = folder_bytes(folder)

    def tokens(self, input_ids: list[int], params, stop: threading.Event) -> Iterator[int]:
        """The new token ids after `input_ids`, one at a time, until the end of text, the length limit, or
        `stop` is set. `params`: a pipelines.families.causal_lm.GenerationParams, already checked."""
        import onnxruntime_genai as og

        search = dict(max_length=len(input_ids) + params.max_new_tokens,
                      min_length=len(input_ids) + params.min_new_tokens,
                      do_sample=params.do_sample, repetition_penalty=params.repetition_penalty)
        if params.do_sample:
            # top_k 0 means "off" in our settings; the engine wants a number up to the vocabulary's size.
            search.update(temperature=params.temperature, top_p=params.top_p, random_seed=params.seed,
                          top_k=min(params.top_k or self.vocab_size, self.vocab_size))
        options = og.GeneratorParams(self._model)
        options.set_search_options(**search)
        generator = og.Generator(self._model, options)
        generator.append_tokens(input_ids)  # the prompt's forward pass
        while not generator.is_done() and not stop.is_set():
            generator.generate_next_token()
            yield int(generator.get_next_tokens()[0])


def load(request) -> GenAIModel:
    """The converted model for the request's checkpoint, building it into the cache on first use."""
    precision = PRECISION[request.placement.quantize]
    source = local_folder(request)
    cache = Path(request.cache_dir or Path.home() / ".cache" / "transformer-playground")
    name = request.checkpoint.repo_id.replace("/", "--")
    target = cache / "engines" / NAME / f"{name}-{precision}-{folder_digest(source)}"
    build_once(target, lambda staging: _convert(request.checkpoint.repo_id, source, staging, precision, cache))
    return GenAIModel(target, precision)


def _convert(repo_id: str, source: Path, out: Path, precision: str, cache: Path) -> None:
    """Run the builder in a child process: it imports its own copy of the model (memory given back when it
    ends) and logs every tensor it writes (kept out of the app's log unless it fails)."""
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-m", repo_id, "-i", str(source),
               "-o", str(out), "-p", precision, "-e", "cpu", "-c", str(cache / "engines" / "builder-scratch")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}
    log.info("converting %s for %s (%s), once", repo_id, NAME, precision)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT_S)
    if done.returncode != 0 or not (out / "genai_config.json").is_file():
        raise RuntimeError(f"{NAME} could not convert {repo_id}: {done.stderr.strip()[-2000:]}")
