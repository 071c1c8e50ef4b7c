"""Serving limits: a bounded queue answers "try again" instead of piling up requests."""

from __future__ import annotations

import pytest

from tests.conftest import launch_app, tiny_settings


@pytest.fixture()
def small_queue_app():
    server = launch_app(tiny_settings(queue_size=1, concurrency=1), ["text-generation"])
    yield server
    server.demo.close()


def test_a_full_queue_tells_the_user_to_try_again(small_queue_app):
    from gradio_client import Client

    client = Client(small_queue_app.url, verbose=False)
    # One request runs, one waits in the queue of size 1, the others are turned away at once.
    jobs = [client.submit("Once upon a time", None, 300, api_name="/generate_text") for _ in range(4)]
    outcomes = []
    for job in jobs:
        try:
            job.result(timeout=120)
            outcomes.append("served")
        except Exception as exc:  # gradio_client raises QueueError for a full queue
            outcomes.append(str(exc))
    assert outcomes.count("served") >= 2
    refused = [o for o in outcomes if o != "served"]
    assert refused and all("Queue is full! Please try again" in o for o in refused)
    assert client.predict("Hello", None, 3, api_name="/generate_text")[0]  # and it still serves
