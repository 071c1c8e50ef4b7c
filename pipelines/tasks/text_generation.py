"""Text generation: a prompt in, a streamed continuation out.

Instruction-tuned checkpoints (trait "chat") get the prompt wrapped in their chat template, so a
question is answered rather than continued; base models like GPT-2 continue the text as written.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import text_generation
    models = ModelManager(Settings(model_source="tiny")).task("text-generation")
    for part in text_generation.generate(models, "Once upon a time,"):
        print(part.text)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterator

from pipelines.core import checks
from pipelines.families.causal_lm import GenerationParams, Partial, encode, stream

DEFAULTS = GenerationParams()  # what the tab shows first and the API uses for parameters left out
USE_CHAT_TEMPLATE = True  # instruction-tuned models answer the prompt; base models (GPT-2) ignore it
EXAMPLE = "Once upon a time,"


@dataclass(frozen=True)
class Request:
    """A checked request: nothing here needs the model."""
    prompt: str
    model_id: str
    params: GenerationParams
    use_chat_template: bool


def check(models, prompt: str, model_id: str | None = None, params: GenerationParams = DEFAULTS,
          use_chat_template: bool = USE_CHAT_TEMPLATE) -> Request:
    prompt = checks.text("prompt", prompt, models.settings.max_input_chars,
                         empty=f"Type a prompt first, for example: {EXAMPLE}")
    return Request(prompt, models.checkpoint(model_id).repo_id, params.checked(), bool(use_chat_template))


def run(models, request: Request, stop: threading.Event | None = None) -> Iterator[Partial]:
    if models.remote:  # a serving engine generates (pipelines/remote/): nothing loads here
        from pipelines.remote import openai_compat

        chat = request.use_chat_template and "chat" in models.checkpoint(request.model_id).traits
        yield from openai_compat.stream_text(models, request.model_id, request.params, request.prompt, chat, stop)
        return
    lm = models.bundle(request.model_id)
    yield from stream(lm, encode(lm, request.prompt, request.use_chat_template), request.params, stop)


def generate(models, prompt: str, model_id: str | None = None, params: GenerationParams = DEFAULTS,
             use_chat_template: bool = USE_CHAT_TEMPLATE, stop: threading.Event | None = None) -> Iterator[Partial]:
    """check() then run(): the whole task in one call."""
    yield from run(models, check(models, prompt, model_id, params, use_chat_template), stop)
