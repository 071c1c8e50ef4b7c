"""The engine and quantization settings (pipelines/engines, pipelines/core/device.py) on the miniatures: which
checkpoints onnxruntime-genai answers for, its files built once and never used half written, the fallback to
torch, the memory it counts, and torch's int8 path for the other tasks."""

from __future__ import annotations

import pytest

from pipelines.core.bundle import FAST
from pipelines.core.device import choose_placement
from pipelines.core.loading import ModelManager
from pipelines.core.settings import Settings
from pipelines.engines import onnx_genai
from pipelines.families.causal_lm import GenerationParams
from pipelines.tasks import fill_mask, text_generation
from tests.conftest import tiny_settings

SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"
GPT2 = "openai-community/gpt2"
GREEDY = GenerationParams(max_new_tokens=10, min_new_tokens=10, do_sample=False)


def text(models, model_id=SMOL, params=GREEDY):
    return list(text_generation.generate(models.task("text-generation"), "Once upon a time,", model_id, params))[-1]


def test_settings_take_the_engine_and_quantization_from_flags_and_environment():
    settings = Settings.from_args(["--engine", "torch", "--quantize", "int8"], env={})
    assert (settings.engine, settings.quantize) == ("torch", "int8")
    settings = Settings.from_args([], env={"PLAYGROUND_ENGINE": "onnxruntime-genai", "PLAYGROUND_QUANTIZE": "int4"})
    assert (settings.engine, settings.quantize) == ("onnxruntime-genai", "int4")
    with pytest.raises(ValueError, match="engine must be one of"):
        Settings(engine="llama")


def test_a_gpu_always_gets_the_torch_half_precision_path():
    cpu = choose_placement("cpu", "auto", "auto", "int8")
    assert (cpu.engine, cpu.quantize, cpu.dtype_name) == ("auto", "int8", "float32")
    gpu = choose_placement("cuda", "auto", "onnxruntime-genai", "int4")  # named: no GPU needed to decide
    assert (gpu.engine, gpu.quantize, gpu.dtype_name) == ("torch", "none", "float16")


def test_smollm2_and_qwen_run_on_the_engine_and_gpt2_on_torch(models):
    smol = models.get("text-generation", SMOL)
    assert isinstance(smol.bundle.fast(), onnx_genai.GenAIModel) and smol.bundle.runs_on == "onnxruntime-genai int4"
    qwen = models.get("text-generation", "Qwen/Qwen2.5-0.5B-Instruct").bundle
    assert qwen.fast() is not None and qwen.runs_on.startswith("onnxruntime-genai")
    gpt2 = models.get("text-generation", GPT2).bundle
    assert gpt2.runs_on == "torch float32" and gpt2.fast() is None
    # The torch model stays, at full precision, for Look inside and the explainers.
    assert next(smol.bundle.model.parameters()).dtype.is_floating_point


def test_the_engine_is_built_on_the_first_request_and_the_memory_budget_counts_it(tmp_path):
    models = ModelManager(tiny_settings())
    loaded = models.get("text-generation", SMOL)
    # Loading converts nothing: the explainers that share this model never use the engine.
    assert loaded.bundle.extras.get(FAST) is None and loaded.bundle.runs_on == "torch float32"
    weights = loaded.nbytes
    assert text(models).new_tokens == 10  # the first generation builds it
    engine = loaded.bundle.extras[FAST]
    assert engine.nbytes > 0 and loaded.nbytes == weights + engine.nbytes
    assert loaded.bundle.runs_on == "onnxruntime-genai int4"


def test_engine_torch_keeps_everything_on_torch(tmp_path):
    models = ModelManager(tiny_settings(engine="torch"))
    bundle = models.get("text-generation", SMOL).bundle
    assert bundle.fast() is None and bundle.runs_on == "torch float32"
    assert text(models).new_tokens == 10


def test_the_conversion_is_built_once_and_found_again(monkeypatch, models):
    models.get("text-generation", SMOL)  # built (or found) by the shared manager
    called = []
    monkeypatch.setattr(onnx_genai, "_convert", lambda *a, **k: called.append(a))
    again = ModelManager(tiny_settings()).get("text-generation", SMOL).bundle
    assert again.fast() is not None and again.runs_on == "onnxruntime-genai int4" and not called


def test_a_failed_conversion_leaves_no_folder_and_falls_back_to_torch(monkeypatch, tmp_path):
    def half_then_fail(repo_id, source, out, precision, cache):
        (out / "model.onnx").write_bytes(b"half a model")
        raise RuntimeError("the builder was killed")

    monkeypatch.setattr(onnx_genai, "_convert", half_then_fail)
    models = ModelManager(tiny_settings(cache_dir=tmp_path))
    bundle = models.get("text-generation", SMOL).bundle
    assert bundle.runs_on == "torch float32" and bundle.fast() is None
    assert not list((tmp_path / "engines" / onnx_genai.NAME).iterdir())  # no folder, final or staging
    assert text(models).new_tokens == 10  # the tab still answers


def test_int8_on_the_engine_and_int8_on_torch(tmp_path):
    models = ModelManager(tiny_settings(quantize="int8"))
    smol = models.get("text-generation", SMOL).bundle
    assert smol.fast() is not None and smol.runs_on == "onnxruntime-genai int8"
    assert text(models).new_tokens == 10
    fill = models.get("fill-mask").bundle
    assert fill.runs_on == "torch float32, int8 Linear layers"
    kinds = {type(m).__module__ for m in fill.model.modules() if "Linear" in type(m).__name__}
    assert any("quantized" in k for k in kinds), kinds
    result = fill_mask.fill(models.task("fill-mask"), "The cat sat on the [MASK].")
    probabilities = [c.probability for c in result.gaps[0].candidates]
    assert all(0 <= p <= 1 for p in probabilities) and probabilities == sorted(probabilities, reverse=True)
    full = ModelManager(tiny_settings(engine="torch")).get("fill-mask")
    assert models.get("fill-mask").nbytes < full.nbytes  # int8 weights take less memory
