"""Text generation: a prompt in, a streamed continuation out.

Instruction-tuned checkpoints (trait "chat") get the prompt wrapped in their chat template, so a
question is answered rather than continued; base models like GPT-2 continue the text as written.

    from pipelines.loader import ModelManager
    from pipelines.settings import Settings
    from pipelines import text_generation
    models = ModelManager(Settings(model_source="tiny"))
    for part in text_generation.generate(models, "Once upon a time,"):
        print(part.text)
"""

from __future__ import annotations

import threading
from typing import Iterator

from pipelines.causal_lm import GenerationParams, Partial, encode, load, stream  # noqa: F401 (load: registry)
from pipelines.errors import UserInputError, check_length

TASK_ID = "text-generation"


def generate(models, prompt: str, model_id: str | None = None, params: GenerationParams = GenerationParams(),
             use_chat_template: bool = True, stop: threading.Event | None = None) -> Iterator[Partial]:
    prompt = (prompt or "").strip()
    if not prompt:
        raise UserInputError("Type a prompt first, for example: Once upon a time,")
    check_length(prompt, models.settings.max_input_chars, "prompt")
    params = params.checked()
    lm = models.get(TASK_ID, model_id).bundle
    yield from stream(lm, encode(lm, prompt, use_chat_template), params, stop)
