"""Code completion: stop sequences cut the completion, limits and bad inputs, the /complete_code
endpoint streaming into a code view."""

from __future__ import annotations

import pytest

from pipelines.core.errors import UserInputError
from pipelines.families.causal_lm import GenerationParams, cut_at_stop
from pipelines.tasks import code_completion as cc

APP_TASKS = ["code-completion"]
PROMPT = "def add(a, b):\n    return"


@pytest.fixture(scope="module")
def cc_models(models):
    return models.task("code-completion")


def greedy(max_new_tokens, stops=()):
    return GenerationParams(max_new_tokens=max_new_tokens, do_sample=False, stop_sequences=stops)


def test_parse_stop_sequences_understands_escapes_and_drops_blanks_and_repeats():
    assert cc.parse_stop_sequences(["\\ndef ", "", "\\ndef ", "\\t#", None]) == ("\ndef ", "\t#")
    assert cc.parse_stop_sequences(["→", "\\n# é"]) == ("→", "\n# é")  # other characters stay as typed
    with pytest.raises(UserInputError, match="broken escape"):
        cc.parse_stop_sequences(["\\x4"])


@pytest.mark.parametrize("text, stops, expected", [
    (" a + b\n\ndef sub(a, b):", ("\ndef ",), (" a + b\n", True)),
    (" a + b\nclass X:\ndef y", ("\ndef ", "\nclass "), (" a + b", True)),  # the earliest stop wins
    (" a + b", ("\ndef ",), (" a + b", False)),
])
def test_cut_at_stop(text, stops, expected):
    assert cut_at_stop(text, stops) == expected


@pytest.mark.parametrize("model_id", [None, "HuggingFaceTB/SmolLM2-135M-Instruct", "Qwen/Qwen2.5-Coder-0.5B"])
def test_completion_streams_and_respects_max_tokens(cc_models, model_id):
    parts = list(cc.complete(cc_models, PROMPT, model_id, greedy(10)))
    assert len(parts) > 1 and parts[-1].done
    assert 1 <= parts[-1].new_tokens <= 10
    assert list(cc.complete(cc_models, PROMPT, model_id, greedy(10)))[-1].text == parts[-1].text  # greedy: repeatable


def test_completion_never_contains_a_stop_sequence(cc_models):
    """Whatever a stop sequence is (here the letter "e"), it and everything after it stay hidden."""
    unstopped = list(cc.complete(cc_models, PROMPT, None, greedy(40)))[-1].text
    assert "e" in unstopped, "pick another stop letter: this continuation never contains it"
    parts = list(cc.complete(cc_models, PROMPT, None, greedy(40, ("e",))))
    assert all("e" not in p.text for p in parts)
    assert parts[-1].text == unstopped[:unstopped.index("e")]


@pytest.mark.parametrize("code, message", [("", "Type the start of some code"),
                                           ("   ", "Type the start of some code"),
                                           ("x" * 20_001, "limit is 20,000")])
def test_bad_inputs(cc_models, code, message):
    with pytest.raises(UserInputError, match=message):
        list(cc.complete(cc_models, code))


def test_endpoint_streams_prompt_plus_completion(client):
    job = client.submit(PROMPT, None, 20, [], api_name="/complete_code")
    updates = list(job)
    code, status = job.outputs()[-1]
    assert len(updates) > 1
    assert code.startswith(PROMPT) and len(code) > len(PROMPT)
    assert "tiny_starcoder_py" in status and "20 new tokens" in status


def test_endpoint_default_stop_sequences_apply(client):
    code, _ = client.predict(PROMPT, api_name="/complete_code")
    completion = code[len(PROMPT):]
    assert not any(s in completion for s in cc.DEFAULT_STOP_SEQUENCES)


@pytest.mark.parametrize("args, message", [(("",), "Type the start"),
                                           ((PROMPT, "gpt-4"), "Unknown model 'gpt-4'.*Choose one of"),
                                           ((PROMPT, None, 0), "Max new tokens must be a whole number from 1 to 512; "
                                                                "got 0\\.")])
def test_endpoint_bad_inputs_keep_serving(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/complete_code")
    assert client.predict(PROMPT, None, 3, api_name="/complete_code")[0].startswith(PROMPT)
