""""Look inside": the model side of the view under each task's result (issue 10), one module per task.

The tab shows a result; the person opens "Look inside" under it; the UI (ui/look_inside.py) calls
`pipelines.inside.<task>.explain(models, *snapshot)` and draws the dict it returns. The conventions:

- One module per task, named like the task's pipeline module (pipelines/tasks/<task>.py), with one
  public function `explain(models, *values) -> dict`. `models` is the tab's TaskModels; `values` are
  the values of the components the tab listed when it wired the view (`LookInside.follow(event,
  inputs, ...)`), in that order, as they stood when the tab's main event finished: the inputs the tab
  used, then the result it showed (e.g. text generation: prompt, model id, chat template, decoding,
  generated text). Give `explain` the same parameter names and order, with a docstring.
- Check the inputs with the task's own `check()` (the same sentences for the same mistakes), then
  recompute what the view needs with the model already in memory: `local_bundle(models, model_id)`,
  or `local_bundle(models, model_id, attention="eager")` when attention weights are needed (the
  same copy, switched in place; see pipelines/core/bundle.py). One forward pass where possible, never
  a second `generate` of what the tab already generated; shared helpers live beside the task modules
  here (strip.py: confidence strips; alignment.py: cross-attention between a source and an output).
  Import torch inside functions (nothing heavy at import).
- Return a JSON-like dict: lists, strings, ints and floats rounded with `rounded` (never tensors,
  never numpy scalars), only what the view shows (cap long inputs: e.g. one QA window, not all of
  them). Keep `model_id`, and `notes`: a list of sentences for the status line (what was
  approximated, what differs from the result shown); and `message` when there is nothing to draw
  (a summary of chunk summaries has no alignment with the text): the UI shows that sentence in place
  of the view, not an error. Where the view restates the result (QA's best
  span, fill-mask's candidates), compute it exactly as the task does and say in a note if it differs
  from what was shown (e.g. the text was edited while the model ran).
- Refuse with `UserInputError` and a sentence a person can act on (pipelines/core/errors.py): the UI
  shows it. A task running on a serving engine has no model in this process: `local_bundle` says so.
- Time: at most about 1 s on 2 CPU cores at real size for the tab's examples (one forward pass).
  Measure with real weights where tests/realmodels has them, real-size random weights otherwise
  (bench/real_size.py).
- Tests: tests/test_look_inside_<kind>.py checks the values that have a definition (probabilities
  equal a direct forward pass, attention rows sum to 1, the restated result equals the tab's).

The media tasks (image classification, CLIP, speech, text to image, forecasting) follow the same
conventions; their views go in their own ui/ file beside ui/inside_text_views.py.
"""

from __future__ import annotations

from pipelines.core.errors import UserInputError

DIGITS = 4  # decimals sent to the browser: a view shows two or three; the JSON keeps four


def rounded(value, digits: int = DIGITS) -> float:
    """A float (tensor scalar, numpy value) as a plain rounded Python float."""
    return round(float(value), digits)


def local_bundle(models, model_id: str | None, attention: str | None = None):
    """The tab's model in this process (loaded on first use), switched to `attention` if given.

    A task set to run on a serving engine has no model here: looking inside would mean loading a
    second copy the settings chose not to hold, so it is refused with a sentence instead."""
    if models.remote:
        raise UserInputError(f"This tab runs on the serving engine {models.remote}: its model is not in this "
                             "app, so there is nothing here to look inside. Run the app with local models "
                             "to see the view.")
    return models.get(model_id, attention=attention).bundle
