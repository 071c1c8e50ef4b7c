""""Code for this result": a closed accordion under a task tab's result, holding the short program that
reproduces that result (pipelines/reproduce/), with a copy button.

Before any run it shows the program for the tab's example input and defaults, saying so; after each
successful run of the tab's public event it shows the program for the inputs of that run. The tab gives
`request_for`, its own check() call on the event's input values (the pipeline's check, so the same
parsing, defaults and model choice as the run; no model is loaded), and the values of its example.

The update is a private, unqueued event chained with `.success()` on the public one: writing the program
is string work (a millisecond), so it waits for no model and takes no place in the task's queue, and it
has no concurrency id of the task (ui/zerogpu.py would give it a GPU). It reads the inputs when the run
ends, so an input changed while a run was going shows in the program (a known limit: a run's own values
cannot reach a chained event without changing the public endpoint's outputs, which the API pins).

    events = public_event(models, [run.click], translate, inputs, outputs)
    code_block(models, Wiring([events], inputs, lambda *values: translation.check(models, *values)),
               example=lambda: translation.check(models, translation.EXAMPLE))
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from pipelines import reproduce
from pipelines.core.errors import PlaygroundError
from ui.widgets import user_errors

log = logging.getLogger(__name__)
LABEL = "Code for this result"
INTRO = ("The Python program that reproduces the result above, as chapter 9 writes it: the same model, "
         "settings and input. The button at its top right copies it.")
MINIATURE_NOTE = (" (The app runs offline miniatures here; the program names the real checkpoint, whose answer "
                  "differs.)")


@dataclass
class Wiring:
    """One public event the block follows: `request_for(*values of inputs)` returns the checked request,
    or (request, {keyword: value}) with what the program needs beside it (an uploaded file's name)."""
    events: Sequence[Any]  # the public event(s), as public_event returns them
    inputs: Sequence[gr.components.Component]
    request_for: Callable[..., Any]
    preprocess: bool = True  # as the public event: False where it takes raw file payloads


def code_block(models, *wirings: Wiring, example: Callable[[], Any]) -> gr.Code:
    """The accordion, its program for `example()` (the request for the tab's example input and defaults,
    as a request_for returns it), and the updates after each successful run of every wiring's events."""
    intro = INTRO + (MINIATURE_NOTE if models.settings.model_source == "tiny" else "")
    with gr.Accordion(LABEL, open=False, elem_classes=["code-for-result"]):
        gr.Markdown(intro, elem_classes=["code-for-result-intro"])
        code = gr.Code(example_code(models, example), language="python",
                       label=LABEL, show_label=False, interactive=False, buttons=["copy"], lines=14, max_lines=40,
                       elem_classes=["code-for-result-program"])
    for wiring in wirings:
        write = user_errors(_writer(models, wiring.request_for))  # a bug: logged, and a sentence
        for event in wiring.events:
            event.success(write, list(wiring.inputs), code, queue=False, show_progress="hidden",
                          api_visibility="private", preprocess=wiring.preprocess)
    return code


def program(models, found, example: bool = False) -> str:
    """The program for what a request_for returned (a request, or a request and its extra inputs)."""
    request, extra = found if isinstance(found, tuple) else (found, {})
    # The engine that answered (a fast CPU engine writes a different program): known once the model is loaded.
    runs_on = models.runs_on(getattr(request, "model_id", None))
    if runs_on:
        extra = {**extra, "runs_on": runs_on}
    return reproduce.source(models.spec.id, request, example=example, **extra)


def example_code(models, example: Callable[[], Any]) -> str:
    try:
        return program(models, example(), example=True)
    except PlaygroundError as exc:  # an example that no longer passes its check: the tab still builds
        log.warning("no example code for %s: %s", models.spec.id, exc)
        return f"# Run the tab: its code appears here. ({exc})\n"


def _writer(models, request_for):
    def write_code(*values) -> str:
        try:
            return program(models, request_for(*values))
        except PlaygroundError as exc:  # the run passed this check: its inputs were changed while it ran
            said = str(exc).replace("\n", " ")
            return (f"# The inputs changed while the tab ran, and now they do not pass its check:\n# {said}\n"
                    "# Run the tab again: its code appears here.\n")
    return write_code
