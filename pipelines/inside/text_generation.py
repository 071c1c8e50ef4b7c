"""Look inside text generation: the generated text as a confidence strip (pipelines/inside/strip.py).

The prompt is read exactly as the tab read it (the chat template applied when it was), so each
generated token is scored in the context it was generated in.
"""

from __future__ import annotations

from pipelines.core.bundle import FAST
from pipelines.families.causal_lm import encode, is_chat
from pipelines.inside import local_bundle
from pipelines.inside.strip import generated_strip
from pipelines.tasks import text_generation

GREEDY = "Greedy"  # the tab's name for greedy decoding (tabs/text_generation.py)


def engine_that_wrote(lm) -> str:
    """The fast engine that wrote the text (pipelines/engines), or "": the strip scores it with the torch float32
    model, whose first choice a greedy int4 engine's token need not be."""
    return lm.runs_on if lm.extras.get(FAST) is not None else ""


def explain(models, prompt, model_id=None, use_chat_template=text_generation.USE_CHAT_TEMPLATE, decoding=GREEDY,
            generated="") -> dict:
    """Each token of `generated` (the text the tab showed for `prompt`) with the probability the model gave
    it and its top alternatives; `decoding` ("Greedy" or "Sampling") only words the summary."""
    request = text_generation.check(models, prompt, model_id, use_chat_template=use_chat_template)
    lm = local_bundle(models, request.model_id)
    prompt_ids = encode(lm, request.prompt, request.use_chat_template)
    result = generated_strip(lm, prompt_ids, generated or "")
    templated = request.use_chat_template and is_chat(lm)
    result.update(sampled=decoding != GREEDY, chat_template=templated,
                  context="" if templated else request.prompt, generated_by=engine_that_wrote(lm))
    return result
