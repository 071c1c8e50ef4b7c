"""Pieces every tab uses: the model picker, the status line, the public event, error handling, Stop.

The UI side never imports torch: tabs call functions of `pipelines.tasks.<task>` and show what comes
back. A tab receives its `TaskModels` (the model manager as its task sees it, with `.spec`).
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import threading
import time
import weakref
from pathlib import Path

import gradio as gr

from pipelines.core.errors import PlaygroundError
from ui import assistants

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def model_picker(models, **kwargs) -> gr.Dropdown:
    """A dropdown of the task's curated checkpoints; its value is the repo id. Its info line says what
    the chosen model is good for (one line, not the whole list: tabs must fit a 600 px iframe)."""
    spec = models.spec
    picker = gr.Dropdown(
        choices=[(c.label, c.repo_id) for c in spec.checkpoints],  # the status line names the repo
        value=spec.default.repo_id, label="Model", info=spec.default.why,
        # Lets API callers name a model by label too; anything not curated gets our own message.
        allow_custom_value=True,
        **kwargs,
    )
    if len(spec.checkpoints) > 1:
        picker.change(lambda repo_id: gr.update(info=_why(spec, repo_id)), picker, picker, queue=False,
                      show_progress="hidden", api_visibility="private")
    return picker


def _why(spec, repo_id: str | None) -> str:
    return next((c.why for c in spec.checkpoints if repo_id in (c.repo_id, c.label)), "")


STATUS_CLASS = "model-status"
# Screen readers announce the status line (which model answered, "Loading…", notices) when it changes:
# gr.Markdown takes no ARIA attributes in Gradio 6.31, so this script, for launch(head=...), makes each
# status line's rendered Markdown a polite live region. The inner element, not the block around it: the
# block also holds Gradio's progress timer, which changes ten times a second and would be read aloud
# without end. It is marked while still empty, because a region that appears together with its text is
# not announced; pages mount their components when first opened, hence the observer.
STATUS_LIVE_HEAD = f"""<script>
(function () {{
  "use strict";
  if (window.__pgStatusLive) return;
  window.__pgStatusLive = true;
  var LINES = '.block.{STATUS_CLASS} [data-testid="markdown"]:not([role])';
  function mark() {{
    document.querySelectorAll(LINES).forEach(function (line) {{
      line.setAttribute("role", "status");
      line.setAttribute("aria-live", "polite");
      line.setAttribute("aria-atomic", "true");
    }});
  }}
  new MutationObserver(mark).observe(document.documentElement, {{ childList: true, subtree: true }});
  mark();
}})();
</script>"""


def status_box() -> gr.Markdown:
    """The result's status line; STATUS_LIVE_HEAD makes screen readers announce it."""
    return gr.Markdown(label="Status", show_label=False, elem_classes=[STATUS_CLASS])


def load_model(models, model_id: str | None, progress: gr.Progress | None = None):
    """Load (or reuse) the tab's model, showing which one in the progress bar while it loads. A task
    that calls a serving engine loads nothing: it gets the RemoteModel naming the endpoint."""
    ckpt = models.checkpoint(model_id)
    if models.remote:
        return models.get(ckpt.repo_id)
    if progress is not None and not models.is_loaded(ckpt.repo_id):
        progress(0, desc=f"Loading {ckpt.repo_id} (first use of this model)…")
    return models.get(ckpt.repo_id)


def loading_status(models, model_id: str | None) -> str:
    """Markdown shown while a model that is not in memory yet is loaded (nothing for a serving engine)."""
    ckpt = models.checkpoint(model_id)
    if models.remote or models.is_loaded(ckpt.repo_id):
        return ""
    return f"⏳ Loading **{ckpt.label}** (`{ckpt.repo_id}`), first use of this model…"


def while_loading(models, model_id: str | None, progress, *placeholders):
    """For generator handlers: if the model is not in memory yet, yield one update (the placeholder
    outputs plus a "Loading …" status) and load it, showing which model in the progress bar. Nothing
    when the task calls a serving engine: there is no loading step."""
    waiting = loading_status(models, model_id)
    if waiting:
        yield (*placeholders, waiting)
        load_model(models, model_id, progress)


def progress_bar(progress: gr.Progress):
    """A pipeline progress callback, (fraction, message), drawn on Gradio's progress bar."""
    return lambda fraction, message: progress(fraction, desc=message)


def public_event(models, triggers, fn, inputs, outputs, concurrency_limit: int | None = None,
                 tool: assistants.Tool | None = None, **kwargs):
    """Wire a tab's public endpoint: the API name is the handler's name, which must be declared in the
    task's registry entry (so the contract, the README and MCP all know it); its description comes
    from there; model calls share the task's concurrency group (ZeroGPU finds them by it). A tab whose
    handlers mostly wait (on a batcher of its own) may allow more of them at once.

    With MCP on, the endpoint is also an assistant's tool of the same name (ui/assistants.py): described
    by the handler's docstring, returning one value that `tool` shapes (default: the first output)."""
    endpoint = models.spec.endpoint(fn.__name__)
    limit = concurrency_limit or default_concurrency(models)
    for component in inputs:
        numbers_as_given(component)
    event = gr.on(triggers, fn, inputs, outputs, api_name=endpoint.name, api_description=endpoint.description,
                  concurrency_id=models.spec.id, concurrency_limit=limit, **kwargs)
    if models.settings.mcp:
        assistants.add_twin(models, endpoint, event, fn, inputs, tool or assistants.Tool(endpoint.description),
                            limit, kwargs.get("preprocess", True))
    return event


def numbers_as_given(component) -> None:
    """Let a Number or Slider hand its value to the handler as sent. Their own preprocessing answers an API
    call's "abc", None or out-of-range value with Gradio's generic error (or rounds 2.5 to 2) before the
    pipeline's checks (pipelines.core.checks) can say which setting is wrong and what to give."""
    if isinstance(component, (gr.Number, gr.Slider)):
        component.preprocess = _as_given


def _as_given(value):
    return value


def describe(loaded, extra: str = "") -> str:
    """Markdown status line: which model answered, from where (or on which serving engine), and a
    notice for miniatures or for what runs here although a serving engine is set."""
    endpoint = getattr(loaded, "shown_endpoint", None)  # a pipelines.remote.RemoteModel
    if endpoint:
        where = f"on the serving engine `{endpoint}`"
    else:
        where = "from " + {"hub": "the Hugging Face Hub", "cache": "the local cache",
                           "miniature": "an offline miniature"}[loaded.location.kind]
    line = f"**Model:** {loaded.checkpoint.label} (`{loaded.checkpoint.repo_id}`) {where}"
    runs_on = getattr(getattr(loaded, "bundle", None), "runs_on", "")  # engine and precision (--engine, --quantize)
    if runs_on and not endpoint:
        line += f", run by {runs_on}"
    if extra:
        line += f" · {extra}"
    if loaded.notice:
        line += f"\n\n⚠️ {loaded.notice}"
    if getattr(loaded, "stays_local", ""):
        line += f"\n\nℹ️ {loaded.stays_local}"
    return line


def user_errors(fn):
    """Turn errors into a sentence in the UI (gr.Error) instead of a stack trace.

    PlaygroundError messages are written for people and shown as they are. Anything else is a bug:
    it is logged with its traceback and the person gets a short message; the app keeps serving.
    """
    def translate(exc: Exception) -> gr.Error:
        if isinstance(exc, gr.Error):
            return exc
        if isinstance(exc, PlaygroundError):  # expected: no traceback in the server log
            return gr.Error(str(exc), print_exception=False)
        log.exception("unexpected error in %s", fn.__qualname__)
        return gr.Error(f"Something went wrong ({type(exc).__name__}). The app is still running: "
                        "try again, or try another input.")

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise translate(exc) from exc
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise translate(exc) from exc
    return wrapper


class StopSignals:
    """One stop flag per browser session, so Stop in one tab of one user stops only their request."""

    def __init__(self):
        self._lock = threading.Lock()
        # Weak values: a session's entry disappears once its request ends and drops its event, so
        # the map holds only running requests, not one entry per visitor forever.
        self._events: weakref.WeakValueDictionary[str, threading.Event] = weakref.WeakValueDictionary()

    def start(self, request: gr.Request | None) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._events[_session(request)] = event
        return event

    def stop(self, request: gr.Request | None) -> None:
        with self._lock:
            event = self._events.pop(_session(request), None)
        if event is not None:
            event.set()


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "anonymous"


def default_concurrency(models) -> int:
    """Model calls at once per tab: 1 on a CPU (2 cores already saturated by one), 2 on a GPU."""
    if models.settings.concurrency:
        return models.settings.concurrency
    has_gpu = models.settings.device in ("cuda", "mps") or (
        models.settings.device == "auto" and os.path.exists("/dev/nvidia0"))
    return 2 if has_gpu else 1


@functools.cache
def _examples_file() -> dict:
    import json

    path = ASSETS / "texts" / "examples.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def examples(key: str) -> list:
    """Example inputs of one tab from assets/texts/examples.json (written for the course's chapters)."""
    return list(_examples_file().get(key, []))


# A streamed text is sent to the browser at most this often. Every update costs the server a diff, a JSON
# message and a status line, taken from the same 2 cores that generate the tokens: at one update per token a
# fast engine (8 ms/token) would spend a good part of its time on updates. 12 updates a second still reads as
# a stream.
STREAM_EVERY_S = 0.08


def paced(parts, every_s: float = STREAM_EVERY_S):
    """The parts of a stream (pipelines.families.causal_lm.Partial), at most one per `every_s` seconds: the
    first at once, then the latest one when the interval has passed, and always the last (done) one."""
    last_sent = None
    for part in parts:
        now = time.monotonic()
        if part.done or last_sent is None or now - last_sent >= every_s:
            last_sent = now
            yield part
