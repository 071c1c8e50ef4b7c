"""Look inside code completion: the completion as a confidence strip (pipelines/inside/strip.py), read
after the code exactly as the tab read it (raw text, no chat template)."""

from __future__ import annotations

from pipelines.core.errors import UserInputError
from pipelines.families.causal_lm import encode
from pipelines.inside import local_bundle
from pipelines.inside.strip import generated_strip
from pipelines.inside.text_generation import engine_that_wrote
from pipelines.tasks import code_completion

GREEDY = "Greedy"  # the tab's name for greedy decoding (tabs/code_completion.py)


def explain(models, code, model_id=None, decoding=GREEDY, shown="") -> dict:
    """Each token of the completion in `shown` (the tab's output: the code followed by its completion)
    with the probability the model gave it and its top alternatives."""
    request = code_completion.check(models, code, model_id)
    shown = shown or ""
    if not shown.startswith(request.code):
        raise UserInputError("The code was changed while it was being completed: complete it again to look inside.")
    lm = local_bundle(models, request.model_id)
    result = generated_strip(lm, encode(lm, request.code, use_chat=False), shown[len(request.code):])
    result.update(sampled=decoding != GREEDY, chat_template=False, context=request.code,
                  generated_by=engine_that_wrote(lm))
    return result
