"""Serving engines: a task calls a model served elsewhere instead of loading one in this process.

    python app.py --remote-text-generation http://gpu-box:8000/v1      # or, for every task that can:
    PLAYGROUND_REMOTE_URL=https://my-endpoint.endpoints.huggingface.cloud python app.py

`settings.remote_for(task_id)` names the endpoint (pipelines/core/settings.py); `TaskModels.remote`
is that endpoint for a task with a standard protocol, else None. Two protocols, one per kind of task:
- "openai": an OpenAI-compatible server (vLLM, SGLang, llama.cpp's server, TGI, `transformers serve`)
  for text generation and code completion (streamed) and speech (/v1/audio/transcriptions). The URL
  is the API root, e.g. http://gpu-box:8000/v1. See openai_compat.py.
- "inference": a Hugging Face Inference Endpoint's task payloads, through huggingface_hub's
  InferenceClient, for translation, summarization, question answering, image classification, CLIP's
  zero-shot labels and text to image. A dedicated endpoint serves the one model it was deployed with;
  a URL containing `{model}` gets the repo id chosen in the tab (a router serving many models, and
  translation's per-language-pair models). See hf_endpoint.py.
Tasks without a standard protocol (CLIP's gallery search, forecasting, fill-mask) keep running here,
and their status line says so.

A failure or timeout becomes a RemoteError: a sentence in that tab only. Nothing remembers it, so
the next request tries the engine again. The token (settings.remote_token, else HF_TOKEN) goes in
an Authorization header and nowhere else: messages are scrubbed of it and URLs are shown without
credentials. Every call emits "remote_call" (task_id, endpoint, seconds, ok) on the model events.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from pipelines.core.errors import PlaygroundError
from pipelines.core.registry import Checkpoint

log = logging.getLogger(__name__)

OPENAI, INFERENCE = "openai", "inference"
PROTOCOLS = {
    "text-generation": OPENAI, "code-completion": OPENAI, "speech": OPENAI,
    "translation": INFERENCE, "summarization": INFERENCE, "question-answering": INFERENCE,
    "image-classification": INFERENCE, "clip": INFERENCE, "text-to-image": INFERENCE,
}
# What keeps running in this process although an endpoint is set: said in the tab's status line.
STAYS_LOCAL = {
    "clip": "Gallery search runs in this app: serving engines have no standard protocol for it "
            "(zero-shot labels and caption ranking go to the serving engine).",
    "forecasting": "Forecasting runs in this app: serving engines have no standard protocol for it.",
    "fill-mask": "Fill-mask runs in this app: this playground calls serving engines only for the tasks "
                 "listed under Scale out in the README.",
}


class RemoteError(PlaygroundError):
    """A serving engine did not answer, refused the request, or answered with something unusable."""


@dataclass(frozen=True)
class RemoteModel:
    """What `TaskModels.get` returns for a task that calls a serving engine: the checkpoint chosen in
    the tab and the endpoint that runs it. Nothing is loaded in this process."""
    task_id: str
    checkpoint: Checkpoint
    endpoint: str  # as configured (may contain {model}); shown without credentials
    notice: str = ""  # LoadedModel's notice: there is no miniature to warn about

    @property
    def shown_endpoint(self) -> str:
        return public_url(self.endpoint)

    @property
    def stays_local(self) -> str:
        return STAYS_LOCAL.get(self.task_id, "")


class StaysLocal:
    """A model loaded here for a task that has an endpoint set but no protocol to call it with: the
    LoadedModel itself, plus the sentence saying why it runs here (`stays_local`)."""

    def __init__(self, loaded, reason: str):
        self._loaded = loaded
        self.stays_local = reason

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loaded, name)


def protocol(task_id: str) -> str | None:
    return PROTOCOLS.get(task_id)


def token(settings) -> str | None:
    """The engines' token: the setting, else HF_TOKEN. Read per call: never stored or shown."""
    return settings.remote_token or os.environ.get("HF_TOKEN") or None


def model_url(endpoint: str, repo_id: str) -> str:
    """The endpoint for one checkpoint: `{model}` replaced by the repo id (slashes kept)."""
    return endpoint.replace("{model}", quote(repo_id, safe="/")) if "{model}" in endpoint else endpoint


def public_url(url: str) -> str:
    """The URL without user:password and query (either could carry a key): what pages and logs show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def scrub(text: str, settings) -> str:
    """`text` with the token (if any) replaced, for messages built from what a server said."""
    secret = token(settings)
    return text.replace(secret, "***") if secret else text


class Call:
    """One call to a serving engine: times it, emits "remote_call", and turns failures into a
    RemoteError naming the endpoint. Used as `with Call(models) as call:` around the request (and, for a
    stream, around the whole reading of it: closing the stream early still counts as a good call)."""

    def __init__(self, models, endpoint: str | None = None):
        self.models = models
        self.endpoint = endpoint or models.remote
        self.shown = public_url(self.endpoint)
        self.started = 0.0

    def __enter__(self) -> Call:
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        seconds = time.perf_counter() - self.started
        ok = kind is None or issubclass(kind, GeneratorExit)
        self.models.manager.events.emit("remote_call", task_id=self.models.spec.id, endpoint=self.shown,
                                        seconds=seconds, ok=ok)
        if ok or not issubclass(kind, Exception):
            return False
        if isinstance(exc, PlaygroundError) and not isinstance(exc, RemoteError):
            return False  # e.g. a UserInputError raised while reading the answer: already a sentence
        message = scrub(str(exc) if isinstance(exc, RemoteError) else self.explain(exc), self.models.settings)
        log.warning("remote call to %s failed: %s", self.shown, message)
        raise RemoteError(message) from None  # `from None`: the cause may hold request headers

    def explain(self, exc: BaseException) -> str:
        """A sentence for any failure of a call, from the exception's class and status code."""
        name = type(exc).__name__
        timeout = self.models.settings.remote_timeout_s
        status = getattr(getattr(exc, "response", None), "status_code", None)
        detail = _detail(exc)
        if "Timeout" in name:
            return (f"The serving engine at {self.shown} did not answer within {timeout:g} s. "
                    "It may be busy: try again, or ask for a shorter output.")
        if name == "OfflineModeIsEnabled":
            return (f"The app runs with HF_HUB_OFFLINE=1, which makes huggingface_hub refuse every URL, so "
                    f"the Inference Endpoint at {self.shown} was not called. Start the app without it.")
        if status in (401, 403):
            return (f"The serving engine at {self.shown} refused the token (HTTP {status}). Set "
                    "PLAYGROUND_REMOTE_TOKEN (or HF_TOKEN) where the app starts.")
        if status is not None and status >= 500:
            return (f"The serving engine at {self.shown} failed (HTTP {status}{detail}). It may be starting "
                    "or overloaded: try again in a minute.")
        if status == 404:
            return (f"The serving engine at {self.shown} has no such route (HTTP 404{detail}). Is the URL the "
                    "API root, e.g. http://gpu-box:8000/v1 for an OpenAI-compatible server?")
        if status is not None:
            return f"The serving engine at {self.shown} refused the request (HTTP {status}{detail})."
        if name in ("ConnectError", "ConnectTimeout", "RemoteProtocolError", "ReadError", "NetworkError"):
            return (f"The serving engine at {self.shown} cannot be reached ({name}). The other tabs keep "
                    "working; try again in a moment.")
        return (f"The serving engine at {self.shown} answered with something this app cannot use "
                f"({name}{': ' + str(exc).splitlines()[0][:160] if str(exc) else ''}).")


def _detail(exc: BaseException) -> str:
    """': <what the server said>', short, from an HTTP error's response (empty when there is none)."""
    response = getattr(exc, "response", None)
    try:
        text = response.text if response is not None else ""
    except Exception:  # noqa: BLE001 - a streamed body that was never read: say nothing more
        text = ""
    text = " ".join(str(text).split())[:200]
    return f": {text}" if text else ""
