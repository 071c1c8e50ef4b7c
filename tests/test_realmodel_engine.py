"""Real-checkpoint tier: the fast CPU path keeps SmolLM2-135M-Instruct's answers. The 20 short factual and code
prompts of tests/realmodels/questions.py, greedy, through the text-generation task on float32 torch and on the
app's default engine (onnxruntime-genai, int4): the engine answers at least as many correctly (issue 11)."""

from __future__ import annotations

import pytest

from pipelines.core.registry import SMOLLM2
from pipelines.families.causal_lm import GenerationParams
from pipelines.tasks import text_generation
from tests.conftest import CACHE, tiny_settings
from tests.realmodels import questions
from tests.realmodels.manager import real_manager

pytestmark = pytest.mark.realmodel
GREEDY = GenerationParams(max_new_tokens=questions.MAX_NEW_TOKENS, do_sample=False)


def answers(engine: str):
    models = real_manager(tiny_settings(model_source="auto", engine=engine), CACHE.parent / "realmodels")
    task = models.task("text-generation")
    right, rows = questions.score(lambda q: list(text_generation.generate(task, q, SMOLLM2, GREEDY))[-1].text)
    runs_on = models.get("text-generation", SMOLLM2).bundle.runs_on  # after a run: the engine is built then
    models.unload_all()
    return runs_on, right, rows


def test_the_engine_answers_at_least_as_many_questions_as_float32():
    torch_on, torch_right, torch_rows = answers("torch")
    engine_on, engine_right, engine_rows = answers("auto")
    assert torch_on == "torch float32" and engine_on == "onnxruntime-genai int4"
    report = "\n".join(f"  {q}\n    torch {'✓' if a else '✗'} {ra[:70]!r}\n    engine {'✓' if b else '✗'} {rb[:70]!r}"
                       for (q, ra, a), (_, rb, b) in zip(torch_rows, engine_rows))
    print(f"\nfloat32 torch: {torch_right}/20, {engine_on}: {engine_right}/20\n{report}")
    assert engine_right >= torch_right, report
    assert torch_right >= 12, "the float32 model itself should know most of these: the check is not measuring"
    assert engine_rows[0][2], f"the engine no longer knows the capital of France: {engine_rows[0][1]!r}"
