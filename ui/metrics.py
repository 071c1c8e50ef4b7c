"""Metrics and health for operators: `/metrics` (Prometheus text format) and `/healthz`.

    demo.playground_metrics = Metrics(demo, models)   # app.build_app(), once the tabs are built
    launch(app_kwargs=embedding.app_kwargs(settings, demo=demo))   # serves its two routes

What is measured, and from where (tabs and pipelines know nothing of it):
- Each public endpoint (an api_name declared in the registry): requests by outcome, and the latency of
  those answered. Its event function is wrapped once after the tabs are built, as ui/zerogpu.py does,
  so a call from the page, the Python client or MCP counts alike. Outcomes: "ok"; "user_error", the
  input was refused with a sentence (a UserInputError, or a gr.Error a tab raises itself);
  "unavailable", the app could not serve it and said so (any other PlaygroundError: a model that did
  not load, a serving engine that failed); "server_error", a bug (anything else; ui.widgets.user_errors
  logs its traceback); "cancelled", a stream closed before its end. Latency is observed for "ok" only:
  a refusal in a millisecond would make a slow endpoint look fast. A stream's latency runs to its last
  update. (No tab uses `batch=True`; a batch would count once.)
- Gradio's queue, read at scrape time: events waiting and workers busy.
- Models: the ModelManager's events ("loaded", "evicted", "remote_call": pipelines/core/events.py), and
  at scrape time which of them are still in memory (`loaded_keys()`, which also sees `unload_all()`).

Every metric lives in a CollectorRegistry of this app, not prometheus_client's global one, so two apps
in one process (the tests) count apart. `/healthz` answers from memory: no model loads and torch is not
imported; it says the process serves requests (liveness), not that every model works.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time

import gradio as gr
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipelines.core import registry
from pipelines.core.errors import PlaygroundError, UserInputError
from pipelines.remote import public_url

log = logging.getLogger(__name__)
OUTCOMES = ("ok", "user_error", "unavailable", "server_error", "cancelled")
# From a cached fill-mask (tens of ms) to a first request that loads a model or a long CPU generation.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
REMOTE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def outcome_of(exc: BaseException) -> str:
    if isinstance(exc, GeneratorExit):  # Gradio closed the stream early (a client cancelled it; the tabs'
        # own Stop ends a stream normally, so that is "ok")
        return "cancelled"
    # ui.widgets.user_errors raises gr.Error `from` what happened. A gr.Error with no cause was raised by
    # a tab for the person; a PlaygroundError that is not about the input is the app's (or an engine's).
    cause = exc.__cause__ if isinstance(exc, gr.Error) else exc
    if cause is None or isinstance(cause, (UserInputError, gr.Error)):
        return "user_error"
    return "unavailable" if isinstance(cause, PlaygroundError) else "server_error"


class Metrics:
    """One app's metrics: the event wrappers, the model-event listener, and the /metrics and /healthz
    routes. Construct it after the tabs are built and the queue is set (build_app does)."""

    def __init__(self, demo: gr.Blocks, models):
        self.demo, self.models = demo, models
        self.registry = CollectorRegistry()
        self.requests = Counter("playground_requests", "Requests to a public endpoint, by outcome "
                                "(ok, user_error, unavailable, server_error, cancelled).", ["endpoint", "outcome"],
                                registry=self.registry)
        self.latency = Histogram("playground_request_seconds", "Time to answer a public endpoint (answered "
                                 "requests; a stream until its last update).", ["endpoint"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.loads = Counter("playground_model_loads", "Models loaded, by the task that asked first.", ["task"],
                             registry=self.registry)
        self.evictions = Counter("playground_evictions", "Models unloaded to stay within the memory budget.",
                                 registry=self.registry)
        self.remote_calls = Counter("playground_remote_calls", "Calls to a serving engine, by task, engine "
                                    "and success.", ["task", "engine", "ok"], registry=self.registry)
        self.remote_latency = Histogram("playground_remote_call_seconds", "Time of a call to a serving engine.",
                                        ["task"], buckets=REMOTE_BUCKETS, registry=self.registry)
        self.registry.register(_Live(self))
        self.endpoints = self._instrument(demo.fns.values())
        self.tasks = [s.id for s in registry.PAGES if s.id in self.endpoints.values()]
        models.events.subscribe(self._on_model_event)

    # -- requests -------------------------------------------------------------------------------------
    def _instrument(self, block_fns) -> dict[str, str]:
        """Wrap each public endpoint's function; returns {api_name: task id} of those wrapped."""
        public = {e.name: s.id for s in registry.PAGES for e in s.endpoints}
        wrapped = {}
        for block_fn in block_fns:
            name = block_fn.api_name
            if block_fn.fn is None or public.get(name) != block_fn.concurrency_id:
                continue
            if inspect.iscoroutinefunction(block_fn.fn) or inspect.isasyncgenfunction(block_fn.fn):
                log.warning("/%s is async: it is not measured (ui/metrics.py wraps plain functions)", name)
                continue
            block_fn.fn = self.timed(block_fn.fn, name)
            for outcome in OUTCOMES:  # every series from the start, so that rate() sees the first request
                self.requests.labels(name, outcome)
            self.latency.labels(name)
            wrapped[name] = block_fn.concurrency_id
        return wrapped

    def _done(self, endpoint: str, outcome: str, started: float) -> None:
        self.requests.labels(endpoint, outcome).inc()
        if outcome == "ok":
            self.latency.labels(endpoint).observe(time.perf_counter() - started)

    def timed(self, fn, endpoint: str):
        if inspect.isgeneratorfunction(fn):  # Gradio checks this on block_fn.fn: the wrapper must be one too
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    yield from fn(*args, **kwargs)
                except BaseException as exc:
                    self._done(endpoint, outcome_of(exc), started)
                    raise
                self._done(endpoint, "ok", started)
            return gen_wrapper

        @functools.wraps(fn)  # keeps the signature Gradio reads (gr.Request, gr.Progress parameters)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                self._done(endpoint, outcome_of(exc), started)
                raise
            self._done(endpoint, "ok", started)
            return result
        return wrapper

    # -- models ---------------------------------------------------------------------------------------
    def _on_model_event(self, name: str, fields: dict) -> None:
        if name == "loaded":
            self.loads.labels(fields["task_id"]).inc()
        elif name == "evicted":
            self.evictions.inc()
        elif name == "remote_call":
            ok = "true" if fields.get("ok") else "false"
            # public_url: no user:token@ or ?key= published to whoever reads /metrics (pipelines/remote
            # already emits it so; a listener must not rely on every emitter doing it)
            self.remote_calls.labels(fields["task_id"], public_url(fields.get("endpoint") or ""), ok).inc()
            if fields.get("seconds") is not None:
                self.remote_latency.labels(fields["task_id"]).observe(float(fields["seconds"]))

    def in_memory(self) -> list[tuple[str, str, int, float]]:
        """(repo_id, task, bytes, load seconds) of each model in memory, read from the manager."""
        return [(m.checkpoint.repo_id, m.task_id, m.nbytes, m.load_seconds) for m in self.models.loaded_models()]

    def queue_counts(self) -> tuple[int, int]:
        """(events waiting, workers busy) in Gradio's queue. `demo._queue` is Gradio's own object (6.x):
        read-only here, from the event loop that changes it (the routes are async)."""
        queue = getattr(self.demo, "_queue", None)
        if queue is None:
            return 0, 0
        waiting = sum(len(q.queue) for q in list(queue.event_queue_per_concurrency_id.values()))
        return waiting, sum(job is not None for job in list(queue.active_jobs))

    # -- routes ---------------------------------------------------------------------------------------
    async def metrics_page(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def health_page(self, request: Request) -> JSONResponse:
        waiting, busy = self.queue_counts()
        return JSONResponse({"status": "ok", "tasks": self.tasks, "models_loaded": len(self.models.loaded_keys()),
                             "queue": {"waiting": waiting, "busy": busy}})

    def routes(self) -> list[Route]:
        return [Route("/metrics", self.metrics_page), Route("/healthz", self.health_page)]


class _Live:
    """The values read when Prometheus scrapes: the queue and the models in memory."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self):
        waiting, busy = self.metrics.queue_counts()
        yield GaugeMetricFamily("playground_queue_size", "Requests waiting in Gradio's queue.", value=waiting)
        yield GaugeMetricFamily("playground_queue_busy", "Queue workers running a request.", value=busy)
        yield GaugeMetricFamily("playground_queue_max_size", "Waiting requests beyond which people are asked "
                                "to come back (--queue-size).", value=self.metrics.models.settings.queue_size)
        rows = self.metrics.in_memory()
        yield GaugeMetricFamily("playground_models_loaded", "Models in memory.", value=len(rows))
        yield GaugeMetricFamily("playground_models_memory_bytes", "Bytes of weights of the models in memory.",
                                value=self.metrics.models.used_bytes())
        size = GaugeMetricFamily("playground_model_bytes", "Bytes of weights of a model in memory.",
                                 labels=["repo_id", "task"])
        took = GaugeMetricFamily("playground_model_load_seconds", "How long a model in memory took to load.",
                                 labels=["repo_id", "task"])
        for repo_id, task_id, nbytes, seconds in rows:
            size.add_metric([repo_id, task_id], nbytes)
            took.add_metric([repo_id, task_id], seconds)
        yield size
        yield took
