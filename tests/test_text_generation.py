"""Text generation on the miniatures: streaming, seeded determinism, chat template, a Stop that stops
the computation, bad inputs; and the /generate_text endpoint of the launched app."""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.core.errors import UserInputError
from pipelines.families.causal_lm import GenerationParams, encode, is_chat
from pipelines.tasks import text_generation
from tests.conftest import ForwardPasses

APP_TASKS = ["text-generation"]
GPT2 = "openai-community/gpt2"
FIXED = GenerationParams(max_new_tokens=12, min_new_tokens=12, seed=3)


@pytest.fixture(scope="module")
def tg(models):
    return models.task("text-generation")


def run(tg, prompt="Once upon a time,", model_id=None, params=FIXED, **kw):
    return list(text_generation.generate(tg, prompt, model_id, params, **kw))


@pytest.mark.parametrize("model_id", [None, GPT2, "Qwen/Qwen2.5-0.5B-Instruct"])
def test_streams_growing_text_up_to_the_token_limit(tg, model_id):
    parts = run(tg, model_id=model_id)
    assert len(parts) > 2
    assert all(isinstance(p.text, str) for p in parts)
    for before, after in zip(parts, parts[1:]):
        assert after.text.startswith(before.text)
    assert parts[-1].done and not parts[-1].stopped and parts[-1].new_tokens == 12
    assert not any(p.done for p in parts[:-1])


def test_same_seed_same_text_other_seed_other_text(tg):
    a = run(tg)[-1].text
    assert run(tg)[-1].text == a
    assert run(tg, params=GenerationParams(max_new_tokens=12, min_new_tokens=12, seed=4))[-1].text != a


def test_greedy_ignores_the_seed(tg):
    texts = {run(tg, params=GenerationParams(max_new_tokens=8, do_sample=False, seed=s))[-1].text
             for s in (1, 2)}
    assert len(texts) == 1


def test_chat_models_get_their_chat_template_and_gpt2_does_not(tg):
    chat_lm = tg.bundle()
    ids = encode(chat_lm, "What is the capital of France?", use_chat=True)
    text = chat_lm.tokenizer.decode(ids)
    assert text.startswith("<|im_start|>system") and text.endswith("<|im_start|>assistant\n")
    assert encode(chat_lm, "Hi", use_chat=False) == chat_lm.tokenizer("Hi")["input_ids"]
    gpt2 = tg.bundle(GPT2)
    assert is_chat(chat_lm) and not is_chat(gpt2)
    assert encode(gpt2, "Hello world", use_chat=True) == [15496, 995]  # GPT-2's real vocabulary


def test_stop_ends_generation_and_keeps_the_text(tg):
    stop = threading.Event()
    parts = []
    for part in text_generation.generate(tg, "Once upon a time,", None,
                                         GenerationParams(max_new_tokens=1000, min_new_tokens=1000), stop=stop):
        parts.append(part)
        if len(parts) == 3:
            stop.set()
    last = parts[-1]
    assert last.done and last.stopped
    assert 3 <= last.new_tokens < 50
    assert last.text.startswith(parts[2].text)


def test_abandoning_the_stream_stops_the_worker(tg):
    counter = ForwardPasses(tg.bundle().model)
    try:
        stream = text_generation.generate(tg, "Once", None, GenerationParams(max_new_tokens=1000,
                                                                             min_new_tokens=1000))
        next(stream)
        stream.close()  # what happens when a client disconnects or the job is cancelled
        after_close = counter.calls
        time.sleep(0.3)
        assert counter.calls == after_close, "the model kept computing after the stream was closed"
        assert after_close < 1000
    finally:
        counter.remove()


@pytest.mark.parametrize("prompt, params, message", [
    ("", FIXED, "Type a prompt"),
    ("   \n", FIXED, "Type a prompt"),
    ("x" * 20_001, FIXED, "limit is 20,000"),
    ("Hi", GenerationParams(max_new_tokens=0), "Max new tokens must be a whole number from 1 to 1,024; got 0"),
    ("Hi", GenerationParams(max_new_tokens=2.5), "Max new tokens must be a whole number"),
    ("Hi", GenerationParams(temperature=0), "Temperature must be a number from 0.01 to 5.0; got 0"),
    ("Hi", GenerationParams(top_p=1.5), "Top-p must be a number from"),
    ("Hi", GenerationParams(seed=-1), "Seed must be a whole number from 0"),
])
def test_bad_inputs_are_explained(tg, prompt, params, message):
    with pytest.raises(UserInputError, match=message):
        run(tg, prompt=prompt, params=params)


def test_prompt_longer_than_the_window_is_refused(tg):
    with pytest.raises(UserInputError, match="1024-token window"):
        run(tg, prompt="hello " * 1020, model_id=GPT2, params=GenerationParams(max_new_tokens=10))


# --- through the launched app -------------------------------------------------------------------

def test_endpoint_streams_partial_results(client):
    job = client.submit("Once upon a time,", GPT2, 40, api_name="/generate_text")
    outputs = list(job)
    assert len(outputs) > 2, "expected several streamed updates"
    text, status = job.outputs()[-1]
    assert len(text) > 0 and "GPT-2" in status and "40 tokens" in status and "miniature" in status


def test_endpoint_defaults_and_greedy_is_repeatable(client):
    args = ("The weather today is", GPT2, 10, 0.7, 0.95, 50, 1.1, 0, "Greedy")
    assert client.predict(*args, api_name="/generate_text")[0] == client.predict(*args, api_name="/generate_text")[0]
    text, status = client.predict("What is the capital of France?", api_name="/generate_text")
    assert "SmolLM2" in status


@pytest.mark.parametrize("args, message", [
    (("",), "Type a prompt"),
    # Sliders and numbers reach our checks as sent (ui.widgets.numbers_as_given): our sentences.
    (("Hi", "not/a-model"), "Unknown model 'not/a-model'.*Choose one of"),
    (("Hi", GPT2, 5000), "Max new tokens must be a whole number from 1 to 1,024; got 5000\\."),
])
def test_endpoint_bad_inputs_answer_with_a_message_and_keep_serving(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/generate_text")
    assert client.predict("Hello", GPT2, 3, api_name="/generate_text")[0]


def test_cancelling_a_job_stops_the_model(client, app_server):
    client.predict("warm up", api_name="/generate_text")
    counter = ForwardPasses(app_server.models.get("text-generation").bundle.model)
    try:
        job = client.submit("Once upon a time", None, 1000, api_name="/generate_text")
        deadline = time.monotonic() + 30
        while len(job.outputs()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        job.cancel()
        settled = -1
        while settled != counter.calls and time.monotonic() < deadline:  # wait until no forward runs
            settled = counter.calls
            time.sleep(0.5)
        assert counter.calls < 1000, "generation ran to the end despite the cancel"
        assert settled == counter.calls
    finally:
        counter.remove()


def test_stop_signals_forget_finished_requests():
    import gc
    from types import SimpleNamespace

    from ui.widgets import StopSignals

    signals = StopSignals()
    event = signals.start(SimpleNamespace(session_hash="a"))
    assert len(signals._events) == 1
    del event
    gc.collect()
    assert len(signals._events) == 0  # no entry left per visitor once the request is over
    running = signals.start(SimpleNamespace(session_hash="b"))
    signals.stop(SimpleNamespace(session_hash="b"))
    assert running.is_set()
