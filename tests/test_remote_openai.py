"""Text generation and code completion on a real OpenAI-compatible server: `transformers serve` on the
SmolLM2 miniature, on loopback, driven through the launched app (streaming, chat or plain completion,
stop sequences, cancel) and through the pipeline (Stop). The server's own answers, fetched with the
`openai` client, are what the app must show.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import CACHE, free_port, launch_app, tiny_settings

SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"
CODE = "def add(a, b):\n    return"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`transformers serve` on loopback. It loads whatever model a request names, and a name that is an
    existing path is read from disk: so in its working directory the repo id the app sends is a link to
    the miniature, and the server runs offline while the app sends the real checkpoint name."""
    from pipelines import miniatures

    folder = miniatures.build("causal_lm:smollm2", CACHE)
    root = tmp_path_factory.mktemp("engine")
    (root / "HuggingFaceTB").mkdir()
    (root / SMOL).symlink_to(folder.resolve(), target_is_directory=True)
    port = free_port()
    log = open(root / "serve.log", "w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "transformers"), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--device", "cpu", "--log-level", "info"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(process, f"http://127.0.0.1:{port}/health", root / "serve.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_until_up(process, health: str, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"transformers serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(health, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"transformers serve did not come up:\n{log.read_text()[-3000:]}")


class SlowLink:
    """A loopback TCP relay to the server that passes its answers on in 256-byte pieces 10 ms apart, as a
    slow network would, and keeps what went each way per connection. A stream the app closes early ends
    here before the server's last event, whatever the speed of the server."""

    def __init__(self, port: int):
        self.port, self.connections = port, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                app_side, _ = self.listener.accept()
            except OSError:
                return
            server_side = socket.create_connection(("127.0.0.1", self.port))
            record = {"sent": b"", "relayed": b"", "app_closed": threading.Event()}
            self.connections.append(record)
            threading.Thread(target=self._forward, args=(app_side, server_side, record), daemon=True).start()
            threading.Thread(target=self._relay, args=(server_side, app_side, record), daemon=True).start()

    @staticmethod
    def _forward(app_side, server_side, record) -> None:
        while data := _recv(app_side, 65536):
            record["sent"] += data
            server_side.sendall(data)
        record["app_closed"].set()
        server_side.close()  # the server sees its client go away

    @staticmethod
    def _relay(server_side, app_side, record) -> None:
        while not record["app_closed"].is_set() and (data := _recv(server_side, 256)):
            try:
                app_side.sendall(data)
            except OSError:
                break
            record["relayed"] += data
            time.sleep(0.01)
        app_side.close()


def _recv(sock, size: int) -> bytes:
    try:
        return sock.recv(size)
    except OSError:
        return b""


@pytest.fixture(scope="module")
def link(server):
    relay = SlowLink(int(server.rsplit(":", 1)[1].split("/")[0]))
    yield relay
    relay.listener.close()


@pytest.fixture(scope="module")
def app(server, link):
    settings = tiny_settings(remotes=(("text-generation", link.url), ("code-completion", server)))
    launched = launch_app(settings, ["text-generation", "code-completion"])
    launched.calls = []
    launched.models.events.subscribe(lambda name, fields: launched.calls.append(fields)
                                     if name == "remote_call" else None)
    yield launched
    launched.demo.close()


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app.url, verbose=False)


def direct(server: str, prompt: str, chat: bool, max_tokens: int) -> str:
    """The server's own greedy answer, streamed, through the official `openai` client."""
    from openai import OpenAI

    api = OpenAI(base_url=server, api_key="unused")
    if chat:
        chunks = api.chat.completions.create(model=SMOL, messages=[{"role": "user", "content": prompt}],
                                             max_tokens=max_tokens, temperature=0, seed=0, stream=True)
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    chunks = api.completions.create(model=SMOL, prompt=prompt, max_tokens=max_tokens, temperature=0, seed=0,
                                    stream=True)
    return "".join(c.choices[0].text or "" for c in chunks if c.choices)


def test_text_generation_streams_the_servers_chat_answer(client, app, server, link):
    prompt = "What is the capital of France?"
    job = client.submit(prompt, SMOL, 12, 0.7, 0.95, 50, 1.1, 0, "Greedy", True, api_name="/generate_text")
    assert len(list(job)) > 2, "expected several streamed updates"
    text, status = job.outputs()[-1]
    assert text == direct(server, prompt, chat=True, max_tokens=12) != direct(server, prompt, False, 12)
    assert f"SmolLM2-135M-Instruct (`{SMOL}`) on the serving engine `{link.url}`" in status
    assert re.search(r" · 12 tokens in [\d.]+ s", status)
    assert b"finish_reason" in link.connections[-1]["relayed"]  # a stream read to its end (see the cancel test)
    assert app.models.loaded_keys() == [], "the app loaded a model although the server runs it"
    assert app.calls[-1]["task_id"] == "text-generation" and app.calls[-1]["ok"] is True


def test_without_the_chat_template_it_is_a_plain_completion(client, server):
    prompt = "Once upon a time,"
    text, _ = client.predict(prompt, SMOL, 10, 0.7, 0.95, 50, 1.1, 0, "Greedy", False, api_name="/generate_text")
    assert text == direct(server, prompt, chat=False, max_tokens=10)


def test_code_completion_cuts_at_stop_sequences_even_beyond_the_four_sent(client, server):
    full, status = client.predict(CODE, SMOL, 24, [], "Greedy", api_name="/complete_code")
    completion = full[len(CODE):]
    assert full.startswith(CODE) and completion == direct(server, CODE, chat=False, max_tokens=24)
    assert "on the serving engine" in status
    stop = completion[len(completion) // 2:][:5]
    escaped = [s.encode("unicode_escape").decode() for s in ("\nclass ", "\nif __name__", "\n\n\n", "@@", stop)]
    cut, _ = client.predict(CODE, SMOL, 24, escaped, "Greedy", api_name="/complete_code")
    assert cut == CODE + completion[:completion.find(stop)] and len(cut) < len(full)


def test_cancelling_a_job_closes_the_stream_and_the_server_serves_on(client, app, link):
    before = len(app.calls)
    job = client.submit("Once upon a time", SMOL, 1000, api_name="/generate_text")
    deadline = time.monotonic() + 60
    while len(job.outputs()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    job.cancel()
    while len(app.calls) == before and time.monotonic() < deadline:  # emitted when the stream is closed
        time.sleep(0.05)
    assert app.calls[before]["task_id"] == "text-generation" and app.calls[before]["ok"] is True
    cancelled = next(c for c in link.connections if re.search(rb'"max_tokens": ?1000', c["sent"]))
    # The app records the call, then closes the connection: the relay sees that a moment later (on a busy
    # machine, more than a moment).
    assert cancelled["app_closed"].wait(30) and cancelled["relayed"].count(b"data:") >= 3
    assert b"finish_reason" not in cancelled["relayed"], "the app read the stream to its end"
    text, status = client.predict("Hello", SMOL, 4, api_name="/generate_text")
    assert "4 tokens" in status


def test_stop_ends_the_remote_stream_and_keeps_the_text(server):
    from pipelines.core.loading import ModelManager
    from pipelines.families.causal_lm import GenerationParams
    from pipelines.tasks import text_generation

    models = ModelManager(tiny_settings(remote_url=server)).task("text-generation")
    stop, parts = threading.Event(), []
    request = text_generation.check(models, "Once upon a time", SMOL, GenerationParams(max_new_tokens=1000))
    for part in text_generation.run(models, request, stop):
        parts.append(part)
        if len(parts) == 3:
            stop.set()
    assert parts[-1].done and parts[-1].stopped and len(parts) == 4
    assert parts[-1].new_tokens == 3 and parts[-1].text == parts[2].text
    assert models.manager.loaded_keys() == []


def test_request_body_speaks_only_the_protocols_fields():
    from pipelines.families.causal_lm import GenerationParams
    from pipelines.remote.openai_compat import body

    sampled = body(SMOL, GenerationParams(max_new_tokens=7, temperature=0.5, top_p=0.8, seed=3), "Hi", chat=True)
    assert sampled == {"model": SMOL, "stream": True, "max_tokens": 7, "temperature": 0.5, "seed": 3,
                       "top_p": 0.8, "messages": [{"role": "user", "content": "Hi"}]}
    greedy = body(SMOL, GenerationParams(do_sample=False, stop_sequences=tuple("abcde")), "x", chat=False)
    assert greedy["temperature"] == 0.0 and "top_p" not in greedy and greedy["prompt"] == "x"
    assert greedy["stop"] == ["a", "b", "c", "d"]  # the protocol's limit; the fifth is applied here
