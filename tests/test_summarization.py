"""Summarization: the checkpoints' own settings, token counts, chunking of long inputs, length limits,
the pipeline on the DistilBART and T5 miniatures, and the /summarize endpoint with every bad input.

Lengths are kept small (a random miniature never stops early, so it always writes max_length tokens).
"""

from __future__ import annotations

import pytest

from pipelines.core.errors import UserInputError
from pipelines.families import seq2seq
from pipelines.tasks import summarization

APP_TASKS = ["summarization"]
BART = "sshleifer/distilbart-cnn-12-6"
T5 = "google-t5/t5-small"
SHORT = ("The town closed its main street to cars for one summer. Shops feared the worst. "
         "Visitors came anyway.")


@pytest.fixture(scope="module")
def sm(models):
    return models.task("summarization")


@pytest.fixture(scope="module")
def articles(sm):
    from ui.widgets import examples

    texts = [e["text"] for e in examples(sm.spec.examples)]
    assert len(texts) >= 2
    return texts


def test_checkpoint_settings_and_prefix(sm):
    bart = sm.bundle(BART)
    t5 = sm.bundle(T5)
    assert type(bart.model).__name__ == "BartForConditionalGeneration" and seq2seq.window(bart) == 1024
    assert type(t5.model).__name__ == "T5ForConditionalGeneration" and seq2seq.window(t5) == 512
    assert type(t5.tokenizer).__name__ == "T5Tokenizer"
    assert summarization.settings(t5)["prefix"] == "summarize: "
    assert not summarization.settings(bart)["prefix"].strip()
    assert summarization.settings(bart)["no_repeat_ngram_size"] == 3
    assert summarization.settings(bart)["length_penalty"] == 2.0
    # BART's real tokenizer layout: fairseq specials first, GPT-2 pieces after, <mask> last.
    assert bart.tokenizer.convert_tokens_to_ids(["<s>", "<pad>", "</s>", "<unk>"]) == [0, 1, 2, 3]
    assert bart.tokenizer.tokenize(" The weather") == ["ĠThe", "Ġweather"]
    assert t5.tokenizer.convert_tokens_to_ids("<extra_id_0>") == len(t5.tokenizer) - 1


@pytest.mark.parametrize("model_id", [BART, T5])
def test_short_text_in_one_pass(sm, model_id):
    result = summarization.summarize(sm, SHORT, model_id, min_length=6, max_length=10, num_beams=2)
    s2s = sm.bundle(model_id)
    prefix = summarization.settings(s2s)["prefix"]
    assert isinstance(result, summarization.Summary)
    assert isinstance(result.text, str) and result.text.strip()
    assert result.input_tokens == len(s2s.tokenizer(prefix + SHORT)["input_ids"])
    assert (result.chunks, result.combined, result.notes) == (1, False, ())
    # min_length/max_length bound the generated tokens (BART's forced <s> and </s> are among them)
    assert 4 <= result.summary_tokens <= 10
    again = summarization.summarize(sm, SHORT, model_id, min_length=6, max_length=10, num_beams=2)
    assert again == result


def test_length_limits_are_applied(sm):
    short = summarization.summarize(sm, SHORT, T5, min_length=3, max_length=4, num_beams=1)
    longer = summarization.summarize(sm, SHORT, T5, min_length=20, max_length=24, num_beams=1)
    assert short.summary_tokens <= 4 < 20 <= longer.summary_tokens <= 24


def test_long_input_is_chunked_and_combined(sm, articles):
    long_text = articles[1].strip()  # the pipeline drops surrounding whitespace before counting
    s2s = sm.bundle(BART)
    tokens = len(s2s.tokenizer(" " + long_text)["input_ids"])
    assert tokens > 1024  # the example is meant to exceed DistilBART's window
    progress = []
    result = summarization.summarize(sm, long_text, BART, min_length=2, max_length=6, num_beams=1,
                                     progress=lambda fraction, message: progress.append(message))
    assert result.input_tokens == tokens
    assert result.chunked and result.chunks == 2 and result.combined and not result.truncated
    assert len(result.notes) == 1
    assert "2 chunks" in result.notes[0] and f"{tokens:,} tokens" in result.notes[0]
    assert result.text.strip()
    assert any("2 chunks" in d for d in progress) and any("chunk summaries" in d for d in progress)


def test_chunks_fit_the_window_with_the_t5_prefix(sm, articles):
    s2s = sm.bundle(T5)
    budget = seq2seq.window(s2s) - seq2seq.special_token_count(s2s) - seq2seq.token_count(s2s, "summarize: ", False)
    sentences = seq2seq.split_sentences(articles[0].replace("\n", " "))
    pieces = seq2seq.fit_to_window(s2s, sentences, budget)
    assert len(pieces) > 1
    assert all(seq2seq.token_count(s2s, "summarize: " + p) <= seq2seq.window(s2s) for p in pieces)
    assert " ".join(pieces).split() == " ".join(sentences).split()  # nothing lost, nothing repeated


def test_chunk_summaries_kept_apart_when_not_combined(sm, articles):
    result = summarization.summarize(sm, articles[0], T5, min_length=2, max_length=4, num_beams=1,
                                     combine=False)
    assert result.chunks > 1 and not result.combined
    assert result.text.count("\n\n") == result.chunks - 1
    assert len(result.notes) == 1 and "each paragraph below summarizes one chunk" in result.notes[0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(text=""), "Paste a text to summarize"),
    (dict(text=" \n\t"), "Paste a text to summarize"),
    (dict(text="a" * 20_001), "limit is 20,000"),
    (dict(min_length=50, max_length=20), r"minimum summary length \(50\) is above the maximum \(20\)"),
    (dict(min_length=-1), "Minimum summary length"),
    (dict(max_length=0), "Maximum summary length .* from 1 to 512"),
    (dict(max_length=513), "Maximum summary length .* from 1 to 512"),
    (dict(max_length=None), "Maximum summary length"),
    (dict(num_beams=0), "Beams must be a whole number from 1 to 8"),
    (dict(num_beams=9), r"Beams must be a whole number from 1 to 8; got 9\. Use 1 for the fastest"),
    (dict(model_id="gpt2"), "Unknown model 'gpt2' for Summarization"),
])
def test_bad_input_is_refused_before_loading(sm, kwargs, message):
    request = dict(text=SHORT, model_id=None, min_length=10, max_length=30, num_beams=4)
    request.update(kwargs)
    with pytest.raises(UserInputError, match=message):
        summarization.check(sm, **request)


# --- the launched app, through gradio_client -------------------------------------------------------


def test_endpoint_contract(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/summarize"]
    assert [p["parameter_name"] for p in api["parameters"]] == [
        "text", "model_id", "min_length", "max_length", "num_beams", "combine"]
    assert [p["parameter_has_default"] for p in api["parameters"]] == [False] + [True] * 5


def test_summarize_through_the_api(client, app_server):
    assert not app_server.models.is_loaded("summarization", T5)  # lazy: nothing before a request
    summary, status = client.predict(SHORT, T5, 2, 5, 1, True, api_name="/summarize")
    assert summary.strip()
    assert "T5 small" in status and "offline miniature" in status and "(window 512)" in status
    assert "chunks" not in status
    assert app_server.models.is_loaded("summarization", T5)


def test_long_input_shows_the_chunk_notice(client, articles):
    summary, status = client.predict(articles[1], BART, 2, 5, 1, True, api_name="/summarize")
    assert summary.strip()
    assert "✂️" in status and "2 chunks" in status and "window 1,024" in status


@pytest.mark.parametrize("args, message", [
    (("", BART, 10, 30, 4, True), "Paste a text to summarize"),
    (("a" * 20_001, BART, 10, 30, 4, True), "the limit is 20,000"),
    ((SHORT, BART, 40, 30, 4, True), r"minimum summary length \(40\) is above the maximum \(30\)"),
    ((SHORT, BART, 10, 600, 4, True), "Maximum summary length .* from 1 to 512"),
    ((SHORT, BART, 10, 30, 0, True), "Beams must be a whole number from 1 to 8"),
])
def test_bad_input_reaches_the_client_and_the_app_keeps_serving(client, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/summarize")
    summary, status = client.predict(SHORT, T5, 1, 3, 1, True, api_name="/summarize")
    assert summary.strip() and "T5 small" in status
