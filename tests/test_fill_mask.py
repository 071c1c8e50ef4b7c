"""Fill-mask on its miniatures (BERT's real uncased vocabulary): gaps typed three ways, limits, the
candidates and their sentences; and the /fill_mask endpoint of the launched app."""

from __future__ import annotations

import pytest

from pipelines.core.errors import UserInputError
from pipelines.tasks import fill_mask

APP_TASKS = ["fill-mask"]
DISTILBERT = "distilbert/distilbert-base-uncased"


@pytest.fixture(scope="module")
def fm(models):
    return models.task("fill-mask")


@pytest.mark.parametrize("model_id", [None, DISTILBERT])
def test_the_course_example_gives_ranked_candidates_each_in_the_sentence(fm, model_id):
    result = fill_mask.fill(fm, "The [MASK] chased the mouse.", model_id, top_k=5)
    assert len(result.gaps) == 1 and result.notes == ()
    candidates = result.gaps[0].candidates
    probabilities = [c.probability for c in candidates]
    assert len(candidates) == 5 and probabilities == sorted(probabilities, reverse=True)
    assert all(0 < p < 1 for p in probabilities) and sum(probabilities) <= 1 + 1e-6
    for c in candidates:
        word = c.token.removeprefix("##")
        assert c.sentence.startswith("The") and c.sentence.endswith("chased the mouse.") and word in c.sentence
    assert result.tokens == 8  # [CLS] the [MASK] chased the mouse . [SEP]


def test_the_miniature_tokenizes_like_the_real_bert_base_uncased(fm):
    """The course (chapter 2): bert-base-uncased splits "Transformers are amazing!" into 4 pieces."""
    tokenizer = fm.bundle().tokenizer
    assert tokenizer.tokenize("Transformers are amazing!") == ["transformers", "are", "amazing", "!"]
    assert tokenizer.mask_token == "[MASK]" and tokenizer.convert_tokens_to_ids("[MASK]") == 103


@pytest.mark.parametrize("text", ["The [MASK] chased the mouse.", "The [mask] chased the mouse.",
                                  "The <mask> chased the mouse.", "The ___ chased the mouse."])
def test_a_gap_may_be_typed_three_ways_with_the_same_answer(fm, text):
    expected = fill_mask.fill(fm, "The [MASK] chased the mouse.")
    assert fill_mask.fill(fm, text) == expected


def test_several_masks_are_predicted_together(fm):
    result = fill_mask.fill(fm, "The [MASK] chased the [MASK] across the [MASK].", top_k=3)
    assert [len(g.candidates) for g in result.gaps] == [3, 3, 3]
    assert result.notes and "at once" in result.notes[0]
    best = [g.candidates[0].token for g in result.gaps]
    for g, gap in enumerate(result.gaps):
        for c in gap.candidates:  # this gap's candidate, the others' likeliest words
            words = [c.token if i == g else b for i, b in enumerate(best)]
            # A word piece ("##fed") continues the word before it, as BERT's own decoding joins it.
            expected = "The {} chased the {} across the {}.".format(*words).replace(" ##", "")
            assert c.sentence == expected


def test_the_same_request_gives_the_same_numbers(fm):
    assert fill_mask.fill(fm, "Paris is the [MASK] of France.") == fill_mask.fill(fm, "Paris is the [MASK] of France.")


@pytest.mark.parametrize("text, top_k, message", [
    ("", 5, "Type a sentence with \\[MASK\\]"),
    ("   ", 5, "Type a sentence with \\[MASK\\]"),
    ("The cat chased the mouse.", 5, "has no \\[MASK\\]"),
    (" ".join(["[MASK]"] * 6), 5, "6 masks; the limit is 5"),
    ("x [MASK]" + "x" * 20_000, 5, "limit is 20,000"),
    ("The [MASK] sat.", 0, "Candidates per mask must be a whole number from 1 to 20; got 0."),
    ("The [MASK] sat.", 21, "Candidates per mask must be a whole number from 1 to 20; got 21."),
])
def test_bad_inputs_are_explained_before_any_model_loads(models, text, top_k, message):
    fresh = models.task("fill-mask")
    with pytest.raises(UserInputError, match=message):
        fill_mask.check(fresh, text, None, top_k)


def test_a_nul_character_is_not_taken_for_a_gap(fm):
    assert fill_mask.fill(fm, "The [MASK] chased\x00 the mouse.") == fill_mask.fill(fm, "The [MASK] chased the mouse.")


def test_five_masks_are_allowed(fm):
    assert len(fill_mask.fill(fm, " and ".join(["[MASK]"] * 5), top_k=1).gaps) == 5


def test_a_text_longer_than_the_window_is_refused_with_its_length(fm):
    with pytest.raises(UserInputError, match="this model reads at most 512"):
        fill_mask.fill(fm, "word " * 600 + "[MASK].")


# --- through the launched app -------------------------------------------------------------------

def test_endpoint_returns_the_filled_sentences_a_table_and_the_model(client):
    label, table, status = client.predict("The [MASK] chased the mouse.", api_name="/fill_mask")
    confidences = label["confidences"]
    assert len(confidences) == 5 and all(c["label"].endswith("chased the mouse.") for c in confidences)
    assert [c["label"].split(".")[0] for c in confidences] == ["1", "2", "3", "4", "5"]  # ranked, none lost
    assert [row[1] for row in table["data"]] == [1, 2, 3, 4, 5] and table["headers"][2] == "candidate"
    assert "BERT base uncased" in status and "1 mask" in status and "miniature" in status


def test_endpoint_refuses_bad_input_with_a_sentence_and_keeps_serving(client):
    with pytest.raises(Exception, match="has no \\[MASK\\]"):
        client.predict("No gap here.", api_name="/fill_mask")
    with pytest.raises(Exception, match="Unknown model 'bert-large'"):
        client.predict("The [MASK] sat.", "bert-large", api_name="/fill_mask")
    for top_k, said in ((0, "got 0."), (None, "got None."), ("abc", "got abc.")):
        with pytest.raises(Exception, match=f"Candidates per mask must be a whole number from 1 to 20; {said}"):
            client.predict("The [MASK] sat.", None, top_k, api_name="/fill_mask")
    _, table, _ = client.predict("The [MASK] sat on the [MASK].", DISTILBERT, 2, api_name="/fill_mask")
    assert [row[0] for row in table["data"]] == [1, 1, 2, 2]
