"""Serving limits: a bounded queue answers "try again" instead of piling up requests."""

from __future__ import annotations

import time

import pytest

from tests.conftest import launch_app, tiny_settings


@pytest.fixture()
def small_queue_app():
    server = launch_app(tiny_settings(queue_size=1, concurrency=1), ["text-generation"])
    yield server
    server.demo.close()


def wait_for_status(job, wanted: set, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while job.status().code not in wanted:
        assert time.monotonic() < deadline, f"job stayed {job.status().code}, wanted {wanted}"
        time.sleep(0.02)


def test_a_full_queue_tells_the_user_to_try_again(small_queue_app):
    from gradio_client import Client
    from gradio_client.utils import Status

    client = Client(small_queue_app.url, verbose=False)
    args = ("Once upon a time", None, 1024)
    # Step by step, so the order is certain: one request runs, one waits in the queue of size 1, the
    # next is turned away at once. (Fired together, which of them Gradio counts as queued is a race.)
    running = client.submit(*args, api_name="/generate_text")
    wait_for_status(running, {Status.PROCESSING, Status.ITERATING, Status.PROGRESS})
    waiting = client.submit(*args, api_name="/generate_text")
    wait_for_status(waiting, {Status.IN_QUEUE})
    turned_away = client.submit(*args, api_name="/generate_text")
    with pytest.raises(Exception, match="Queue is full! Please try again"):  # gradio_client's QueueError
        turned_away.result(timeout=120)
    still_running = running.status().code in {Status.PROCESSING, Status.ITERATING, Status.PROGRESS}
    assert still_running, "the first request ended before the third came: the queue was never full"
    assert running.result(timeout=300)[0] and waiting.result(timeout=300)[0]  # both served in turn
    assert client.predict("Hello", None, 3, api_name="/generate_text")[0]  # and it still serves
