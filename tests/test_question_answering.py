"""Question answering: the pipeline on both miniatures through the real load path (a 200,000-character
context included), and the /answer_question endpoint through gradio_client. Span selection on hand-set
logits is in test_qa_spans.py."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipelines.core.errors import UserInputError
from pipelines.tasks import question_answering as qa
from tests.conftest import ForwardPasses, tiny_settings

APP_TASKS = ["question-answering"]
TASK = "question-answering"
DISTILBERT = "distilbert/distilbert-base-cased-distilled-squad"
ROBERTA = "deepset/roberta-base-squad2"
EIFFEL_Q, EIFFEL_C = "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris."


def qa_examples() -> list[dict]:
    path = Path(__file__).resolve().parent.parent / "assets" / "texts" / "examples.json"
    return json.loads(path.read_text(encoding="utf-8"))["question_answering"]


# ---------------------------------------------------------------------------------------------------
# The pipeline on the miniatures, through ModelManager and from_pretrained.

@pytest.fixture(scope="module")
def qa_models(models):
    return models.task(TASK)


class PointAt:
    """Stands in for the reader's network: high logits on the given token ids, or on CLS if none."""

    def __init__(self, start_id: int | None = None, end_id: int | None = None):
        self.start_id, self.end_id = start_id, end_id

    def __call__(self, input_ids, attention_mask=None, **kwargs):
        import torch

        starts, ends = torch.zeros(input_ids.shape), torch.zeros(input_ids.shape)
        if self.start_id is None:
            starts[:, 0] = ends[:, 0] = 10.0
        else:
            starts[input_ids == self.start_id] = 10.0
            ends[input_ids == self.end_id] = 10.0
        return SimpleNamespace(start_logits=starts, end_logits=ends)


@pytest.fixture
def with_network(qa_models, monkeypatch):
    """with_network(repo_id, network): that reader keeps its real tokenizer but runs `network`, for this
    test only (the loaded model is put back afterwards)."""
    def swap(repo_id: str, network) -> None:
        loaded = qa_models.get(repo_id)
        monkeypatch.setattr(loaded, "bundle", dataclasses.replace(loaded.bundle, model=network))
    return swap


def token_id(tokenizer, word: str) -> int:
    ids = tokenizer(" " + word, add_special_tokens=False)["input_ids"]
    assert len(ids) == 1, f"{word!r} is {len(ids)} tokens"
    return ids[0]


def long_example() -> dict:
    return next(c for c in qa_examples() if len(c["context"]) > 3000)


def book(chars: int = 200_000) -> str:
    """Exactly `chars` characters of prose: the short examples (none mentions 14 or 1931) repeated, with
    the long library example (its answer: 14 June 1931) three quarters of the way in."""
    filler = "\n\n".join(c["context"] for c in qa_examples() if len(c["context"]) < 3000) + "\n\n"
    before = (filler * (chars // len(filler) + 1))[:chars * 3 // 4]
    after = (filler * (chars // len(filler) + 1))[:chars - len(before) - len(long_example()["context"]) - 4]
    return f"{before}\n\n{long_example()['context']}\n\n{after}"


@pytest.mark.parametrize("repo_id", [DISTILBERT, ROBERTA])
def test_answers_are_spans_of_the_context(qa_models, repo_id):
    for case in qa_examples():
        result = qa.answer(qa_models, case["question"], case["context"], repo_id)
        assert 0.0 <= result.score <= 1.0
        if result.has_answer:
            assert result.text and result.text == case["context"][result.start:result.end]
            assert 0 <= result.start < result.end <= len(case["context"])
        assert qa.answer(qa_models, case["question"], case["context"], repo_id) == result  # deterministic
    loaded = qa_models.get(repo_id)
    assert loaded.location.is_miniature and loaded.bundle.family == "encoder-only"
    assert type(loaded.bundle.model).__name__ == ("DistilBertForQuestionAnswering" if repo_id == DISTILBERT
                                                  else "RobertaForQuestionAnswering")
    assert loaded.bundle.tokenizer.is_fast
    assert qa.allows_no_answer(loaded.bundle) is (repo_id == ROBERTA)


def test_a_reader_without_a_fast_tokenizer_is_refused(monkeypatch):
    from pipelines.core.bundle import Bundle
    from pipelines.core.registry import task

    ckpt = task(TASK).default
    slow = Bundle(model=None, processor=SimpleNamespace(is_fast=False), device="cpu", family="encoder-only",
                  checkpoint=ckpt)
    monkeypatch.setattr(qa, "load_pretrained", lambda *args, **kwargs: slow)
    with pytest.raises(ValueError, match="no fast tokenizer"):
        qa.load(SimpleNamespace(checkpoint=ckpt))


@pytest.mark.parametrize("repo_id", [DISTILBERT, ROBERTA])
def test_long_context_is_read_in_overlapping_windows(qa_models, repo_id):
    case = long_example()
    tokenizer = qa_models.bundle(repo_id).tokenizer
    windows = qa.encode_windows(tokenizer, case["question"], case["context"])
    n = len(windows["input_ids"])
    assert n > 1 and qa.answer(qa_models, case["question"], case["context"], repo_id).windows == n
    for w in range(n - 1):  # consecutive windows share exactly STRIDE context tokens
        this, nxt = ([int(t) for t, s in zip(windows["input_ids"][i], windows.sequence_ids(i)) if s == 1]
                     for i in (w, w + 1))
        assert this[-qa.STRIDE:] == nxt[:qa.STRIDE]


@pytest.mark.parametrize("repo_id", [DISTILBERT, ROBERTA])
def test_offsets_map_back_into_the_original_context(qa_models, with_network, repo_id):
    """With the real tokenizer and logits pointing at '14' ... '1931', the answer is found in the last
    window of the long context and sliced from the original text (case and accents kept)."""
    case = long_example()
    tokenizer = qa_models.bundle(repo_id).tokenizer
    with_network(repo_id, PointAt(token_id(tokenizer, "14"), token_id(tokenizer, "1931")))
    result = qa.answer(qa_models, case["question"], case["context"], repo_id)
    start = case["context"].index("14 June 1931")
    assert (result.text, result.start, result.end) == ("14 June 1931", start, start + 12)
    assert result.windows > 1 and result.has_answer


@pytest.mark.parametrize("repo_id", [DISTILBERT, ROBERTA])
def test_a_200k_character_context_is_answered_in_batches_with_progress(qa_models, repo_id):
    context = book()
    assert len(context) == qa_models.settings.max_context_chars == 200_000  # the default limit, exactly
    question = long_example()["question"]
    qa.answer(qa_models, question, "Warm up.", repo_id)
    calls: list[tuple[float, str]] = []
    batches = ForwardPasses(qa_models.bundle(repo_id).model)
    try:
        started = time.perf_counter()
        result = qa.answer(qa_models, question, context, repo_id, progress=lambda f, m: calls.append((f, m)))
        seconds = time.perf_counter() - started
    finally:
        batches.remove()
    n = result.windows
    assert n > 100  # about 250 context tokens more per window: 160-170 windows here
    assert result.text == (context[result.start:result.end] if result.has_answer else "")
    # Memory stays bounded: every window read once, never more than WINDOW_BATCH in one forward pass.
    full, rest = divmod(n, qa.WINDOW_BATCH)
    assert batches.sizes == [qa.WINDOW_BATCH] * full + ([rest] if rest else [])
    fractions = [f for f, _ in calls]
    assert len(calls) == math.ceil(n / qa.WINDOW_BATCH)
    assert all(a < b for a, b in zip(fractions, fractions[1:])) and fractions[-1] == 1.0 and fractions[0] > 0
    assert calls[0][1] == f"Reading window {qa.WINDOW_BATCH} of {n}" and calls[-1][1] == f"Reading window {n} of {n}"
    assert seconds < 60, f"a 200,000-character context took {seconds:.1f} s on the miniature"


@pytest.mark.parametrize("repo_id", [DISTILBERT, ROBERTA])
def test_answer_deep_in_a_200k_character_context_is_sliced_from_it(qa_models, with_network, repo_id):
    context = book()
    tokenizer = qa_models.bundle(repo_id).tokenizer
    with_network(repo_id, PointAt(token_id(tokenizer, "14"), token_id(tokenizer, "1931")))
    result = qa.answer(qa_models, long_example()["question"], context, repo_id)
    start = context.index("14 June 1931")
    assert start > 140_000
    assert (result.text, result.start, result.end) == ("14 June 1931", start, start + 12)


def test_no_answer_only_from_the_squad2_model(qa_models, with_network):
    with_network(ROBERTA, PointAt())
    with_network(DISTILBERT, PointAt())
    squad2 = qa.answer(qa_models, EIFFEL_Q, EIFFEL_C, ROBERTA)
    assert (squad2.has_answer, squad2.text, squad2.start, squad2.end) == (False, "", 0, 0)
    assert 0.0 <= squad2.score <= 1.0
    squad1 = qa.answer(qa_models, EIFFEL_Q, EIFFEL_C, DISTILBERT)
    assert squad1.has_answer and squad1.text == "The"  # all context logits tie: the first token


def test_check_keeps_the_context_as_given_and_resolves_the_model(qa_models):
    request = qa.check(qa_models, "  Where?  ", "  The Eiffel Tower is in Paris.\n", "RoBERTa SQuAD2", 12.0)
    assert request == qa.Request("Where?", "  The Eiffel Tower is in Paris.\n", ROBERTA, 12)
    assert qa.check(qa_models, EIFFEL_Q, EIFFEL_C).model_id == DISTILBERT


@pytest.mark.parametrize("question, context, message", [
    ("", EIFFEL_C, "Type a question first"),
    ("   ", EIFFEL_C, "Type a question first"),
    (EIFFEL_Q, "", "Paste a context first"),
    (EIFFEL_Q, " \n ", "Paste a context first"),
    (EIFFEL_Q, "x" * 200_001, r"^The context is 200,001 characters; the limit is 200,000\. Paste the part"),
    ("x" * 20_001, EIFFEL_C, r"^The question is 20,001 characters; the limit is 20,000\."),
    ("why " * 80, EIFFEL_C, "keep it under 64 tokens"),
])
def test_bad_input_is_refused_with_a_sentence(qa_models, question, context, message):
    with pytest.raises(UserInputError, match=message):
        qa.answer(qa_models, question, context)


def test_the_context_limit_is_a_setting():
    from pipelines.core.loading import ModelManager

    small = ModelManager(tiny_settings(max_context_chars=100)).task(TASK)
    assert qa.check(small, EIFFEL_Q, "x" * 100).context == "x" * 100
    with pytest.raises(UserInputError, match=r"^The context is 101 characters; the limit is 100\."):
        qa.check(small, EIFFEL_Q, "x" * 101)
    # Nothing was loaded to refuse it: the check needs no model.
    assert not small.is_loaded()


@pytest.mark.parametrize("max_answer_tokens", [0, 201, None, 2.5, "many"])
def test_max_answer_length_out_of_range_is_refused(qa_models, max_answer_tokens):
    with pytest.raises(UserInputError, match=r"Max answer length \(tokens\) must be a whole number from 1 to 200; "
                                             f"got {max_answer_tokens}"):
        qa.answer(qa_models, EIFFEL_Q, EIFFEL_C, max_answer_tokens=max_answer_tokens)


# ---------------------------------------------------------------------------------------------------
# The endpoint through gradio_client (tests/conftest.py launches the app with only this tab).

def test_endpoint_answers_and_highlights(client):
    text, confidence, highlighted, status = client.predict(EIFFEL_Q, EIFFEL_C, api_name="/answer_question")
    assert 0.0 <= confidence <= 1.0
    assert "".join(piece["token"] for piece in highlighted) == EIFFEL_C
    marked = [piece["token"] for piece in highlighted if piece["class_or_confidence"] == "answer"]
    assert marked == [text] and text in EIFFEL_C
    assert "DistilBERT SQuAD" in status and "miniature" in status


def test_endpoint_takes_model_and_max_answer_length(client):
    text, confidence, _, status = client.predict(qa_examples()[2]["question"], qa_examples()[2]["context"],
                                                 ROBERTA, 1, api_name="/answer_question")
    assert "RoBERTa SQuAD2" in status and text in qa_examples()[2]["context"] and " " not in text.strip()
    params = [p["parameter_name"] for p in
              client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/answer_question"]
              ["parameters"]]
    assert params == ["question", "context", "model_id", "max_answer_tokens"]


def test_endpoint_answers_a_200k_character_context(client, app_server):
    context = book()
    text, confidence, highlighted, status = client.predict(long_example()["question"], context,
                                                           api_name="/answer_question")
    assert "".join(piece["token"] for piece in highlighted) == context
    marked = [piece["token"] for piece in highlighted if piece["class_or_confidence"] == "answer"]
    assert marked == [text] and text in context and 0.0 <= confidence <= 1.0
    windows = qa.encode_windows(app_server.models.get(TASK).bundle.tokenizer, long_example()["question"], context)
    assert f"{len(windows['input_ids']):,} windows of up to 384 tokens" in status
    box = next(b for b in app_server.demo.blocks.values() if getattr(b, "label", None) == "Context")
    assert "up to 200,000 characters long" in box.info  # the page says how long a context may be


def test_endpoint_shows_reading_progress_on_the_progress_bar(client, app_server, monkeypatch):
    loaded = app_server.models.get(TASK)
    network = loaded.bundle.model

    def slow(**batch):  # so that the client sees several progress updates
        time.sleep(0.05)
        return network(**batch)
    monkeypatch.setattr(loaded, "bundle", dataclasses.replace(loaded.bundle, model=slow))
    job = client.submit(long_example()["question"], book(), api_name="/answer_question")
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + 60
    while not job.done() and time.monotonic() < deadline:
        for update in job.status().progress_data or []:
            if not seen or seen[-1] != (update.desc, update.progress):
                seen.append((update.desc, update.progress))
        time.sleep(0.01)
    assert job.result()[0]
    assert len(seen) >= 3, seen
    assert all(re.fullmatch(r"Reading window \d+ of 1\d\d", desc) for desc, _ in seen), seen
    assert all(a[1] < b[1] for a, b in zip(seen, seen[1:])) and 0 < seen[0][1] and seen[-1][1] <= 1


def test_endpoint_shows_no_answer_clearly(client, app_server, monkeypatch):
    loaded = app_server.models.get(TASK, ROBERTA)
    monkeypatch.setattr(loaded, "bundle", dataclasses.replace(loaded.bundle, model=PointAt()))
    text, confidence, highlighted, status = client.predict(EIFFEL_Q, EIFFEL_C, ROBERTA, api_name="/answer_question")
    assert text == "The model found no answer in this context."
    assert [p["class_or_confidence"] for p in highlighted] == [None] and "no answer" in status


@pytest.mark.parametrize("args, message", [
    (("", EIFFEL_C), "Type a question first"),
    ((EIFFEL_Q, "  \n "), "Paste a context first"),
    ((EIFFEL_Q, "word " * 40_001), "The context is 200,005 characters; the limit is 200,000"),
    ((EIFFEL_Q, EIFFEL_C, "bert-base-uncased"), "Unknown model .bert-base-uncased.*Choose one of"),
    ((EIFFEL_Q, EIFFEL_C, DISTILBERT, 0), "Max answer length \\(tokens\\) must be a whole number from 1 to 200; got 0"),
])
def test_endpoint_bad_input_reaches_the_client_and_the_app_keeps_serving(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/answer_question")
    text, *_ = client.predict(EIFFEL_Q, EIFFEL_C, api_name="/answer_question")
    assert text and text in EIFFEL_C
