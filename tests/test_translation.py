"""Translation: language parsing, routing, sentence splitting, the pipeline on the Marian miniature, and
the /translate endpoint of the launched app with every kind of bad input.

The miniature has random weights, so its translations are gibberish: these tests check structure (one
output line per input line, blank lines and indentation kept, one segment per sentence), routing through
English, determinism, and the messages people get.
"""

from __future__ import annotations

import pytest

from pipelines.core.errors import UserInputError
from pipelines.families import seq2seq
from pipelines.tasks import translation

APP_TASKS = ["translation"]
EN_DE = "Helsinki-NLP/opus-mt-en-de"


@pytest.fixture(scope="module")
def tr(models):
    return models.task("translation")


@pytest.mark.parametrize("value, code", [
    ("English", "en"), ("german", "de"), ("FRENCH", "fr"), ("  Spanish ", "es"),
    ("en", "en"), ("DE", "de"), ("Fr", "fr"), ("es", "es"), ("Deutsch", "de"), ("Français", "fr"),
])
def test_languages_by_name_or_code_in_any_case(tr, value, code):
    assert translation.parse_language(tr, value) == code


@pytest.mark.parametrize("value", ["Italian", "it", "", None, "eng"])
def test_unknown_language_lists_the_choices(tr, value):
    with pytest.raises(UserInputError, match=r"English \(en\), German \(de\), French \(fr\), Spanish \(es\)"):
        translation.parse_language(tr, value, "target")


def test_route_is_direct_or_through_english(tr):
    assert [c.repo_id for c in translation.route(tr, "en", "de")] == [EN_DE]
    assert [c.repo_id for c in translation.route(tr, "es", "en")] == ["Helsinki-NLP/opus-mt-es-en"]
    assert [c.repo_id for c in translation.route(tr, "de", "fr")] == ["Helsinki-NLP/opus-mt-de-en",
                                                                     "Helsinki-NLP/opus-mt-en-fr"]
    assert [c.languages for c in translation.route(tr, "fr", "es")] == [("fr", "en"), ("en", "es")]


@pytest.mark.parametrize("text, sentences", [
    ("Good morning!", ["Good morning!"]),
    ("Hello, how are you? I am fine. Dr. Smith says hi.",
     ["Hello, how are you?", "I am fine.", "Dr. Smith says hi."]),
    ("Am 3. Oktober ist frei. Das ist z.B. gut.", ["Am 3. Oktober ist frei.", "Das ist z.B. gut."]),
    ("¿Dónde está? ¡Aquí! «Oui», dit-il.", ["¿Dónde está?", "¡Aquí!", "«Oui», dit-il."]),
    ("It costs 3.5 euros... Then it rained", ["It costs 3.5 euros...", "Then it rained"]),
    ("no capital after. the period", ["no capital after. the period"]),
])
def test_sentence_splitting(text, sentences):
    assert seq2seq.split_sentences(text) == sentences


def test_translate_on_the_miniature(tr):
    result = translation.translate(tr, "Good morning!", "English", "German", num_beams=2)
    assert isinstance(result, translation.Translation)
    assert isinstance(result.text, str) and result.text.strip()
    assert (result.source, result.target, result.models, result.sentences) == ("en", "de", (EN_DE,), 1)
    assert not result.pivot and result.notes == ()
    loaded = tr.get(EN_DE)
    assert loaded.location.kind == "miniature"
    assert type(loaded.bundle.model).__name__ == "MarianMTModel"
    assert type(loaded.bundle.tokenizer).__name__ == "MarianTokenizer"
    assert seq2seq.window(loaded.bundle) == 512
    again = translation.translate(tr, "Good morning!", "en", "de", num_beams=2)
    assert again.text == result.text  # beam search is deterministic


def test_paragraphs_lines_and_indentation_are_kept(tr):
    text = "Dear Anna,\n\nThank you. The walk was lovely!\n  We will come back.\n\n\nBest wishes,\nTom"
    progress = []
    result = translation.translate(tr, text, "en", "es", num_beams=1,
                                   progress=lambda fraction, message: progress.append((fraction, message)))
    lines_in, lines_out = text.split("\n"), result.text.split("\n")
    assert len(lines_out) == len(lines_in)
    for before, after in zip(lines_in, lines_out):
        assert bool(before.strip()) == bool(after.strip())  # blank stays blank, text stays text
        assert after[:len(after) - len(after.lstrip())] == before[:len(before) - len(before.lstrip())]
    assert result.sentences == 6  # "Thank you." and "The walk was lovely!" are two
    assert progress and progress[-1][0] == pytest.approx(1.0) and "6/6 sentences" in progress[-1][1]


def test_pivot_through_english_for_german_to_french(tr):
    result = translation.translate(tr, "Guten Morgen! Wie geht es dir?", "de", "fr", num_beams=1)
    assert result.pivot
    assert result.models == ("Helsinki-NLP/opus-mt-de-en", "Helsinki-NLP/opus-mt-en-fr")
    assert len(result.notes) == 1
    assert "through English" in result.notes[0] and "German→French" in result.notes[0]
    assert result.text.strip() and result.sentences == 2
    assert tr.is_loaded("Helsinki-NLP/opus-mt-de-en")
    assert tr.is_loaded("Helsinki-NLP/opus-mt-en-fr")


def test_long_sentences_are_cut_to_fit_the_window(tr):
    s2s = tr.bundle(EN_DE)
    sentence = " ".join(["the weather was perfect for a long walk by the river"] * 60)  # no full stop
    assert seq2seq.token_count(s2s, sentence) > seq2seq.window(s2s)
    pieces = seq2seq.cut_to_window(s2s, sentence, 200)
    assert len(pieces) > 1 and " ".join(pieces) == sentence
    assert all(seq2seq.token_count(s2s, p, special_tokens=False) <= 200 for p in pieces)
    packed = seq2seq.fit_to_window(s2s, seq2seq.split_sentences("One. Two. Three. " * 50), 40)
    assert all(seq2seq.token_count(s2s, p, special_tokens=False) <= 40 for p in packed)
    assert " ".join(packed).split() == ("One. Two. Three. " * 50).split()


@pytest.mark.parametrize("args, message", [
    (("", "en", "de"), "Type or paste some text"),
    (("   \n ", "en", "de"), "Type or paste some text"),
    (("a" * 20_001, "en", "de"), "limit is 20,000"),
    (("Hi", "German", "de"), "both German: pick a different target"),
    (("Hi", "Klingon", "de"), "Unknown source language 'Klingon'"),
    (("Hi", "en", "Italian"), "Unknown target language"),
    (("Hi", "en", "de", 0), "Beams must be a whole number from 1 to 8"),
    (("Hi", "en", "de", 9), r"Beams must be a whole number from 1 to 8; got 9\. Use 1 for the fastest"),
    (("Hi", "en", "de", 2.5), "Beams must be a whole number"),
    (("Hi", "en", "de", None), "Beams must be a whole number"),
])
def test_bad_input_is_refused_before_loading(tr, args, message):
    with pytest.raises(UserInputError, match=message):
        translation.check(tr, *args)


# --- the launched app, through gradio_client -------------------------------------------------------


def test_endpoint_contract(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/translate"]
    assert [p["parameter_name"] for p in api["parameters"]] == [
        "text", "source_language", "target_language", "num_beams"]
    assert [p["parameter_has_default"] for p in api["parameters"]] == [False, True, True, True]


def test_lazy_load_then_translate(client, app_server):
    es_en = "Helsinki-NLP/opus-mt-es-en"
    assert not app_server.models.is_loaded("translation", es_en)  # nothing loads before a request
    text, status = client.predict("¿Dónde está la estación?", "Spanish", "English", 1,
                                  api_name="/translate")
    assert isinstance(text, str) and text.strip()
    assert "opus-mt-es-en" in status and "offline miniature" in status and "1 sentence" in status
    assert app_server.models.is_loaded("translation", es_en)


def test_codes_and_pivot_through_the_api(client):
    text, status = client.predict("Guten Morgen!", "de", "FR", 1, api_name="/translate")
    assert text.strip()
    assert "through English" in status and "opus-mt-de-en" in status and "opus-mt-en-fr" in status


def test_course_examples_are_offered(tr):
    from ui.widgets import examples

    pairs = {(e["text"], e["source"], e["target"]) for e in examples(tr.spec.examples)}
    assert ("Good morning!", "en", "de") in pairs
    assert ("Hello, how are you?", "en", "fr") in pairs
    for _, source, target in pairs:  # every example is a pair the tab can run
        assert translation.route(tr, source, target)


@pytest.mark.parametrize("args, message", [
    (("", "English", "German", 4), "Type or paste some text to translate"),
    (("a" * 20_001, "English", "German", 4), "the limit is 20,000"),
    (("Hi", "French", "fr", 4), "Source and target are both French"),
    (("Hi", "English", "Klingon", 4), "Unknown target language 'Klingon'"),
    (("Hi", "English", "German", 0), "Beams must be a whole number from 1 to 8"),
    (("Hi", "English", "German", 12), "Beams must be a whole number from 1 to 8"),
])
def test_bad_input_reaches_the_client_and_the_app_keeps_serving(client, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/translate")
    text, status = client.predict("Hello, how are you?", "English", "French", 1, api_name="/translate")
    assert text.strip() and "opus-mt-en-fr" in status
