"""/metrics and /healthz of the launched app, scraped over real HTTP after real requests (gradio_client),
and parsed with prometheus_client's own parser. Counts are compared before and after each step."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from pipelines.core import registry
from pipelines.core.loading import ModelManager
from tests.conftest import ROOT, ForwardPasses, free_port, launch_app, tiny_settings
from tests.test_dockerfile import instructions
from ui.metrics import OUTCOMES

APP_TASKS = ["text-generation", "fill-mask"]
SMOLLM2, GPT2 = "HuggingFaceTB/SmolLM2-135M-Instruct", "openai-community/gpt2"
BERT = "google-bert/bert-base-uncased"
SENTENCE = "The [MASK] chased the mouse."
# A fresh process: the whole app in tiny mode, launched, asked for /healthz and /metrics, nothing else.
FRESH = """
import json, sys, urllib.request
from tests.conftest import launch_app, tiny_settings
server = launch_app(tiny_settings())
health = urllib.request.urlopen(server.url + "healthz", timeout=60)
scraped = urllib.request.urlopen(server.url + "metrics", timeout=60).read().decode()
answer = {"status": health.status, "health": json.loads(health.read()), "metrics": scraped,
          "loaded": server.models.loaded_keys(),
          "heavy": [m for m in ("torch", "transformers", "diffusers") if m in sys.modules]}
server.demo.close()
print(json.dumps(answer))
"""


@pytest.fixture(scope="module")
def server():
    """Two tabs with a memory budget of one kilobyte: every load evicts the model before it."""
    launched = launch_app(tiny_settings(memory_budget_gb=1e-6), APP_TASKS)
    yield launched
    launched.demo.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False)


def parse(text: str) -> dict[tuple, float]:
    """{(sample name, (label, value)...): value}"""
    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(server) -> dict[tuple, float]:
    with urllib.request.urlopen(server.url + "metrics", timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        return parse(response.read().decode())


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, *sorted(labels.items())))


def requests(samples: dict, endpoint: str, outcome: str) -> float:
    return value(samples, "playground_requests_total", endpoint=endpoint, outcome=outcome)


def latency_count(samples: dict, endpoint: str) -> float:
    return value(samples, "playground_request_seconds_count", endpoint=endpoint)


def healthz(server) -> dict:
    with urllib.request.urlopen(server.url + "healthz", timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_healthz_answers_in_a_fresh_app_without_loading_a_model_or_importing_torch():
    out = subprocess.run([sys.executable, "-c", FRESH], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200 and answer["health"]["status"] == "ok"
    assert answer["health"]["tasks"] == [spec.id for spec in registry.PAGES]  # every page, explainers too
    assert answer["health"]["models_loaded"] == 0 and answer["loaded"] == []
    assert answer["heavy"] == []
    samples = parse(answer["metrics"])
    assert value(samples, "playground_models_loaded") == 0
    for spec in registry.PAGES:  # every public endpoint is measured, from zero
        for endpoint in spec.endpoints:
            for outcome in OUTCOMES:
                assert requests(samples, endpoint.name, outcome) == 0, (endpoint.name, outcome)
            assert latency_count(samples, endpoint.name) == 0


def test_requests_are_counted_per_endpoint_and_outcome_and_answers_timed(server, client):
    before = scrape(server)
    client.predict(SENTENCE, api_name="/fill_mask")
    with pytest.raises(AppError, match="The text has no \\[MASK\\]"):
        client.predict("A sentence without a gap.", api_name="/fill_mask")
    after = scrape(server)
    assert requests(after, "fill_mask", "ok") == requests(before, "fill_mask", "ok") + 1
    assert requests(after, "fill_mask", "user_error") == requests(before, "fill_mask", "user_error") + 1
    assert requests(after, "fill_mask", "server_error") == requests(before, "fill_mask", "server_error")
    assert latency_count(after, "fill_mask") == latency_count(before, "fill_mask") + 1  # the answered one
    assert requests(after, "generate_text", "ok") == requests(before, "generate_text", "ok")

    client.predict("Once upon a time,", api_name="/generate_text")  # a generator: counted at its end
    streamed = scrape(server)
    assert requests(streamed, "generate_text", "ok") == requests(after, "generate_text", "ok") + 1
    assert latency_count(streamed, "generate_text") == latency_count(after, "generate_text") + 1
    assert value(streamed, "playground_request_seconds_bucket", endpoint="generate_text", le="+Inf") == \
        latency_count(streamed, "generate_text")


def test_a_bug_is_counted_apart_from_a_persons_mistake(server, client, monkeypatch):
    from pipelines.tasks import fill_mask

    def broken(models, request):
        raise RuntimeError("a bug")

    before = scrape(server)
    monkeypatch.setattr(fill_mask, "run", broken)
    with pytest.raises(AppError, match="Something went wrong \\(RuntimeError\\)"):
        client.predict(SENTENCE, api_name="/fill_mask")
    after = scrape(server)
    assert requests(after, "fill_mask", "server_error") == requests(before, "fill_mask", "server_error") + 1
    assert requests(after, "fill_mask", "user_error") == requests(before, "fill_mask", "user_error")
    assert requests(after, "fill_mask", "unavailable") == requests(before, "fill_mask", "unavailable")
    assert latency_count(after, "fill_mask") == latency_count(before, "fill_mask")


def test_models_in_memory_their_loads_and_evictions(server, client):
    client.predict(SENTENCE, api_name="/fill_mask")  # BERT in memory, and nothing else (1 kB budget)
    first = scrape(server)
    assert value(first, "playground_models_loaded") == 1 and healthz(server)["models_loaded"] == 1
    assert value(first, "playground_model_bytes", repo_id=BERT, task="fill-mask") == server.models.used_bytes() > 0
    assert value(first, "playground_model_load_seconds", repo_id=BERT, task="fill-mask") > 0

    client.predict("Once upon a time,", SMOLLM2, api_name="/generate_text")
    second = scrape(server)
    assert value(second, "playground_evictions_total") == value(first, "playground_evictions_total") + 1
    assert value(second, "playground_model_loads_total", task="text-generation") == \
        (value(first, "playground_model_loads_total", task="text-generation") or 0) + 1
    assert value(second, "playground_models_loaded") == 1
    assert value(second, "playground_model_bytes", repo_id=BERT, task="fill-mask") is None
    assert value(second, "playground_model_bytes", repo_id=SMOLLM2, task="text-generation") == \
        server.models.used_bytes() > 0

    client.predict("Once upon a time,", GPT2, api_name="/generate_text")
    third = scrape(server)
    assert value(third, "playground_evictions_total") == value(second, "playground_evictions_total") + 1
    assert [labels for (name, *labels) in third if name == "playground_model_bytes"] == \
        [[("repo_id", GPT2), ("task", "text-generation")]]


def wait_for(condition, what: str):
    """Poll the app until it reaches a state (not a timing: the deadline only stops a broken run)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"the app never reached: {what}"
        time.sleep(0.05)


def test_the_queue_length_counts_requests_waiting_for_a_busy_model(server, client):
    model = server.models.get("fill-mask").bundle.model  # concurrency 1 on a CPU: one runs, others wait
    passes = ForwardPasses(model, hold=True)
    try:
        jobs = [client.submit(SENTENCE, api_name="/fill_mask")]
        assert passes.entered.wait(60), "the first request never reached the model"
        jobs += [client.submit(SENTENCE, api_name="/fill_mask") for _ in range(2)]
        wait_for(lambda: value(scrape(server), "playground_queue_size") == 2, "two requests waiting")
        held = scrape(server)
        assert value(held, "playground_queue_busy") == 1
        assert healthz(server)["queue"] == {"waiting": 2, "busy": 1}  # answered while the model is busy
    finally:
        passes.release()
    for job in jobs:
        job.result(timeout=120)
    passes.remove()
    wait_for(lambda: value(scrape(server), "playground_queue_size") == 0, "the queue emptied")


def test_a_stream_closed_before_its_end_counts_as_cancelled(server):
    # What Gradio does when a client cancels a running stream (its /cancel route closes the iterator
    # once the current step returns); checked by hand end to end, here on the wrapper itself.
    def stream():
        yield from range(10)

    metrics = server.demo.playground_metrics
    before = requests(scrape(server), "generate_text", "cancelled")
    steps = metrics.timed(stream, "generate_text")()
    assert next(steps) == 0
    steps.close()
    after = scrape(server)
    assert requests(after, "generate_text", "cancelled") == before + 1
    assert list(metrics.timed(stream, "generate_text")()) == list(range(10))  # a wrapper changes nothing
    assert requests(scrape(server), "generate_text", "ok") == requests(after, "generate_text", "ok") + 1


def test_a_serving_engine_that_fails_is_a_remote_failure_and_an_unavailable_request():
    """Through the real remote path (pipelines/remote/): text generation sent to an engine URL where
    nothing listens. The person gets a sentence; the operator sees whose fault it was."""
    engine = f"http://127.0.0.1:{free_port()}/v1"
    remote = launch_app(tiny_settings(mcp=False, remotes=(("text-generation", engine),)), ["text-generation"])
    try:
        with pytest.raises(AppError, match="cannot be reached"):
            Client(remote.url, verbose=False).predict("Once upon a time,", api_name="/generate_text")
        samples = scrape(remote)
    finally:
        remote.demo.close()
    assert value(samples, "playground_remote_calls_total", task="text-generation", engine=engine, ok="false") == 1
    assert requests(samples, "generate_text", "unavailable") == 1
    assert requests(samples, "generate_text", "user_error") == requests(samples, "generate_text", "server_error") == 0
    assert value(samples, "playground_models_loaded") == 0  # nothing loaded locally


def test_remote_calls_and_their_failures_are_counted_per_engine(server):
    # The "remote_call" event as the model side emits it (pipelines/core/events.py) after each call.
    calls = {"http://127.0.0.1:9/v1": True, "http://127.0.0.1:9/v1/": True,
             "http://me:s3cret@127.0.0.1:9/v1?key=k3y": False}  # one engine, seen three ways
    labels = {ok: dict(task="text-generation", engine="http://127.0.0.1:9/v1", ok=ok) for ok in ("true", "false")}
    before = scrape(server)
    for url, ok in calls.items():
        server.models.events.emit("remote_call", task_id="text-generation", endpoint=url, seconds=0.2, ok=ok)
    after = scrape(server)
    for ok, more in (("true", 2), ("false", 1)):
        was = value(before, "playground_remote_calls_total", **labels[ok]) or 0
        assert value(after, "playground_remote_calls_total", **labels[ok]) == was + more
    count = "playground_remote_call_seconds_count"
    assert value(after, count, task="text-generation") == (value(before, count, task="text-generation") or 0) + 3
    assert not any("s3cret" in str(key) or "k3y" in str(key) for key in after)  # credentials stay out


def test_each_app_counts_on_its_own(server, client):
    from app import build_app

    client.predict(SENTENCE, api_name="/fill_mask")
    other = build_app(ModelManager(tiny_settings()), ["fill-mask"])
    assert requests(parse(generate_latest(other.playground_metrics.registry).decode()), "fill_mask", "ok") == 0
    assert requests(scrape(server), "fill_mask", "ok") >= 1


def test_the_dockerfile_healthcheck_passes_on_the_app_and_fails_without_it(server):
    checks = [args for name, args in instructions() if name == "HEALTHCHECK"]
    assert len(checks) == 1 and "/healthz" in checks[0]
    command = shlex.split(checks[0].split(" CMD ", 1)[1])
    assert command[0] == "python"  # the slim image has no curl
    command[0] = sys.executable

    def run(port: int) -> int:
        env = {**os.environ, "GRADIO_SERVER_PORT": str(port)}
        return subprocess.run(command, env=env, capture_output=True, timeout=60).returncode

    assert run(int(server.url.rstrip("/").rsplit(":", 1)[1])) == 0
    assert run(free_port()) != 0  # nothing listens there

