""""Look inside": a collapsed block under a task's result that shows what happened inside the model for
the result just shown, computed only when the person opens it (issue 10, part 1).

A tab adds it in two lines: one where it belongs in the layout (under the result, full width: after the
row of input and settings columns, so that a map has room), and one after its public event is wired:

    from pipelines.inside import text_generation as inside
    from ui import inside_text_views
    from ui.look_inside import LookInside
    ...
    with gr.Row():
        ...the tab's columns: inputs, result, status line, settings...
    look = LookInside(models, "One line: what the view shows, and what it does not.")
    ...
    event = public_event(models, [run.click], generate_text, [prompt, model, ...], [output, status])
    look.follow(event, [prompt, model, chat, decoding, output], inside.explain, inside_text_views.strip)

`follow(event, inputs, explain, draw)`:
- `event`: what `public_event` returned. The public endpoint is not touched (its inputs and outputs are
  the API contract, tests/test_app.py and tests/test_contract.py): a private `.success()` step after it
  copies the values of `inputs` into a per-session `gr.State` (the snapshot), so the view always looks
  at the result that was shown, with the inputs that produced it, even after the person edits a box or
  picks another model; `.failure()` forgets it (the boxes may then hold a partial or older result).
  (Reading the visible boxes when the block opens would be simpler, but they can be edited after the
  run: the view would explain a result no model produced. A State output added to the public event
  would change its API outputs.)
- `inputs`: the components the model side needs, the tab's inputs first, then its result component(s).
  A Dataframe's value arrives as a list of rows (not pandas), everything else as the handler gets it.
- `explain(models, *values) -> dict`: the model side, `pipelines/inside/<task>.py` (its docstring has
  the conventions: one forward pass with the loaded model, JSON-like rounded values, `notes`). A
  UserInputError (any PlaygroundError) it raises is shown as that sentence in the block's status line;
  anything else is a bug, logged, with user_errors' short message.
- `draw(dict) -> str`: the HTML (ui/views.py pieces; a task's own variant in a ui/inside_*_views.py).
  A dict with a `message` (nothing to draw, and why) is shown as that sentence instead.

Computed on demand: opening the block runs `explain` (a private event, `concurrency_id` = the task, as
the public event, so ZeroGPU wraps it and a CPU runs one model call at a time); while it is open, each
new result is looked into after it is shown (never before: the answer comes first); reopening it on
the same result draws nothing again. Closed, it costs nothing. Errors are sentences (user_errors).
The view's caption says what it shows and what it does not (attention is not an explanation by itself).
"""

from __future__ import annotations

import time
from html import escape as html_escape

import gradio as gr

from pipelines.core.errors import PlaygroundError
from ui.widgets import default_concurrency, user_errors

LABEL = "Look inside"
NO_RESULT = "No result to look into yet: run the tab first. While this block is open, it follows each new result."
FAILED = "The last run ended with an error, so there is no result to look into: run it again."


class LookInside:
    """The "Look inside" accordion (caption, HTML view, status line) and the events that fill it."""

    def __init__(self, models, caption: str, label: str = LABEL):
        self.models = models
        with gr.Accordion(label, open=False, elem_classes=["pg-inside"]) as self.box:
            gr.Markdown(caption, elem_classes=["pg-inside-caption"])
            self.view = gr.HTML(elem_classes=["pg-inside-view"])
            self.status = gr.Markdown(elem_classes=["pg-inside-status"])
        self.snapshot = gr.State(None)  # the values of `inputs` when the last result was shown
        # Each snapshot's number, and the number of the one the view draws (None: nothing drawn). Numbers,
        # not the values, are compared: a picture's array has no plain `==`.
        self.serial = gr.State(0)
        self.shown = gr.State(None)
        self.is_open = gr.State(False)
        self.asked = gr.State(0)  # a counter: each change runs the model side once

    def follow(self, event, inputs: list, explain, draw) -> None:
        """Look into the result of `event` (see the module docstring)."""
        models, n = self.models, len(inputs)
        # Bookkeeping steps, no model: queued (a State set outside the queue does not fire its change event
        # in Gradio 6.31) but in groups of their own, unlimited, so they never wait behind model calls.
        quick = dict(api_visibility="private", show_progress="hidden", concurrency_limit=None)

        def remember(*values):
            snapshot = [_plain(v) for v in values[:n]]
            is_open, asked, serial = values[n:]
            if is_open:  # the person is watching: look into the new result now that it is shown
                return snapshot, serial + 1, gr.skip(), asked + 1, gr.skip(), "Looking inside…"
            return snapshot, serial + 1, None, gr.skip(), "", ""  # the old view must not pass for the new one's

        def forget():
            return None, None, "", FAILED

        def opened(snapshot, serial, shown, asked):
            if snapshot is None:
                return True, gr.skip(), "", NO_RESULT
            if serial == shown:  # already drawn: reopening costs nothing
                return True, gr.skip(), gr.skip(), gr.skip()
            return True, asked + 1, gr.skip(), "Looking inside…"

        @user_errors
        def look_inside(snapshot, serial):
            if snapshot is None:
                return "", NO_RESULT, None
            started = time.perf_counter()
            try:
                result = explain(models, *snapshot)
            except PlaygroundError as exc:  # a sentence for the person: kept in the status line, not a toast
                return "", f"⚠️ {exc}", None
            html = f"<p>{html_escape(result['message'])}</p>" if result.get("message") else draw(result)
            seconds = time.perf_counter() - started
            notes = "".join(f"\n\n{note}" for note in result.get("notes", ()))
            return html, f"Computed in {seconds:.2f} s from the result shown above.{notes}", serial

        event.success(remember, [*inputs, self.is_open, self.asked, self.serial],
                      [self.snapshot, self.serial, self.shown, self.asked, self.view, self.status], **quick)
        event.failure(forget, None, [self.snapshot, self.shown, self.view, self.status], **quick)
        self.box.expand(opened, [self.snapshot, self.serial, self.shown, self.asked],
                        [self.is_open, self.asked, self.view, self.status], **quick)
        self.box.collapse(lambda: False, None, self.is_open, **quick)
        self.asked.change(look_inside, [self.snapshot, self.serial], [self.view, self.status, self.shown],
                          api_visibility="private", concurrency_id=models.spec.id,
                          concurrency_limit=default_concurrency(models), show_progress="minimal")


def _plain(value):
    """A component's value as plain data for the snapshot: a Dataframe's pandas frame becomes its rows."""
    if hasattr(value, "to_numpy") and hasattr(value, "columns"):
        return value.to_numpy().tolist()
    return value
