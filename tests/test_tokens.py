"""The Tokens page: several tokenizers side by side, and a vocabulary entry's embedding row with its nearest
neighbours. The miniatures of BERT, MiniLM and GPT-2 (and Whisper's ordinary vocabulary) use the real
vocabularies, so their pieces and ids are the real ones; embeddings are random there, so values are
checked against a hand computation on the same matrix. Meaning is checked on real weights (realmodel)."""

from __future__ import annotations

import pytest

from pipelines.core.errors import UserInputError
from pipelines.core.loading import ModelManager
from pipelines.core.registry import BERT, COURSE_SENTENCE, GPT2, MINILM, SMOLLM2, WHISPER
from pipelines.explainers import tokens
from pipelines.explainers.tokens_pieces import byte_level_bytes, describe_piece, partial_note
from tests.conftest import tiny_settings

APP_TASKS = ["tokens"]
MINI = MINILM.repo_id


@pytest.fixture(scope="module")
def page(models):
    return models.task("tokens")


@pytest.fixture
def fresh():
    """A manager of its own, to see that a call loads no model."""
    manager = ModelManager(tiny_settings())
    return manager, manager.task("tokens")


def group_of(result: dict, repo_id: str) -> dict:
    return next(g for g in result["tokenizers"] if repo_id in g["model_ids"])


def text_pieces(group: dict) -> list[str]:
    return [p["piece"] for p in group["pieces"] if not p["special"]]


def test_the_course_example_with_bert_and_minilm_named_once(page):
    result = tokens.tokenize(page, COURSE_SENTENCE)
    bert = group_of(result, BERT)
    assert text_pieces(bert) == ["transformers", "are", "amazing", "!"]  # course chapter 2.1
    assert [p["id"] for p in bert["pieces"]] == [101, 19081, 2024, 6429, 999, 102]  # bert-base-uncased's ids
    assert [p["piece"] for p in bert["pieces"] if p["special"]] == ["[CLS]", "[SEP]"]
    assert bert["model_ids"] == [BERT, MINI] and "all-MiniLM-L6-v2 uses the same vocabulary" in bert["shared"]
    assert bert["kind"] == "WordPiece" and "##" in bert["how_to_read"] and bert["vocabulary_size"] == 30522
    assert (bert["tokens"], bert["text_tokens"], bert["special_tokens"]) == (6, 4, 2)
    assert bert["characters_per_token"] == round(25 / 4, 2)
    assert [g["model_ids"][0] for g in result["tokenizers"]] == [BERT, GPT2, SMOLLM2, WHISPER]  # MiniLM not twice


def test_gpt2_byte_level_pieces_are_the_real_ones(page):
    gpt2 = group_of(tokens.tokenize(page, COURSE_SENTENCE), GPT2)
    assert [(p["piece"], p["id"]) for p in gpt2["pieces"]] == [
        ("Transform", 41762), ("ers", 364), ("Ġare", 389), ("Ġamazing", 4998), ("!", 0)]
    assert "".join(p["text"] for p in gpt2["pieces"]) == COURSE_SENTENCE  # Ġ is the space
    assert gpt2["kind"] == "byte-level BPE" and "Ġ" in gpt2["how_to_read"]
    assert gpt2["characters_per_token"] == 5.0 and gpt2["special_tokens"] == 0


def test_bytes_of_one_character_split_across_pieces_are_flagged(page):
    gpt2 = group_of(tokens.tokenize(page, "Łódź 🤗"), GPT2)
    flags = [(p["piece"], p["bytes"]) for p in gpt2["pieces"]]
    # Ł and ź are two UTF-8 bytes each, split in two pieces; ó is one piece; the emoji's 4 bytes are 3 pieces.
    assert flags == [("Å", True), ("ģ", True), ("Ã³", False), ("d", False), ("Å", True), ("º", True),
                     ("ĠðŁ", True), ("¤", True), ("Ĺ", True)]
    notes = [p["note"] for p in gpt2["pieces"]]
    assert "'Ł'" in notes[0] and "'ź'" in notes[4] and "'🤗'" in notes[6] and "4 bytes" in notes[6]
    assert b"".join(byte_level_bytes(p["piece"]) for p in gpt2["pieces"][6:]) == " 🤗".encode()
    assert gpt2["byte_pieces"] == 7 and gpt2["pieces"][2]["text"] == "ó"
    bert = group_of(tokens.tokenize(page, "Łódź 🤗"), BERT)
    unk = next(p for p in bert["pieces"] if p["piece"] == "[UNK]")  # WordPiece has no bytes: unknown
    assert unk["special"] and "'🤗'" in unk["note"]


def test_special_tokens_are_marked_and_can_be_left_out(page):
    with_specials = tokens.tokenize(page, COURSE_SENTENCE)
    whisper = group_of(with_specials, WHISPER)
    assert [p["piece"] for p in whisper["pieces"] if p["special"]] == [
        "<|startoftranscript|>", "<|notimestamps|>", "<|endoftext|>"]
    assert "Whisper" in whisper["pieces"][0]["note"]
    assert text_pieces(whisper) == ["Transform", "ers", "Ġare", "Ġamazing", "!"]
    without = tokens.tokenize(page, COURSE_SENTENCE, special_tokens=False)
    for group in without["tokenizers"]:
        assert group["special_tokens"] == 0 and group["tokens"] == group["text_tokens"]
    assert [p["piece"] for p in group_of(without, BERT)["pieces"]] == ["transformers", "are", "amazing", "!"]


def test_counts_add_up_for_every_tokenizer(page):
    text = "  Unbelievably, the tokenizers' outputs differ.\n"  # leading spaces and the newline are kept
    result = tokens.tokenize(page, text)
    assert result["text"] == text and result["characters"] == len(text)
    for group in result["tokenizers"]:
        assert len(group["pieces"]) == group["tokens"] == group["text_tokens"] + group["special_tokens"]
        assert group["characters_per_token"] == round(len(text) / group["text_tokens"], 2)
        assert all(isinstance(p["id"], int) for p in group["pieces"])


def test_piece_rules_by_hand():
    assert byte_level_bytes("ĠcafÃ©") == " café".encode()
    assert byte_level_bytes("ðŁ") == b"\xf0\x9f"
    wordpiece = describe_piece("##ing", 2075, "WordPiece", False, "", "ing")
    assert (wordpiece["text"], wordpiece["note"]) == ("ing", "continues the word before it")
    fallback = describe_piece("<0xF0>", 243, "Unigram", False, "", "🤗")  # SentencePiece's byte fallback
    assert fallback["bytes"] and "F0" in fallback["note"] and "U+1F917" in fallback["note"]
    assert partial_note(b"\xc3", "é") == "bytes C3: part of 'é' (U+00E9, 2 bytes in UTF-8), split across pieces"


@pytest.mark.parametrize("text, message", [
    ("", "Type a text to split into tokens"),
    ("   ", "Type a text to split into tokens"),
    (None, "Type a text to split into tokens"),
    (123, "must be text"),
    ("a" * 2001, "2,001 characters; the limit is 2,000"),
    ("a " * 300, "302 tokens for BERT base uncased; this page shows at most 256"),  # with [CLS], [SEP]
])
def test_tokenize_refuses_bad_text_with_a_sentence(fresh, text, message):
    manager, page = fresh
    with pytest.raises(UserInputError, match=message):
        tokens.tokenize(page, text)
    assert manager.loaded_keys() == []


def test_tokenize_loads_no_weights(fresh):
    manager, page = fresh
    tokens.tokenize(page, COURSE_SENTENCE)
    assert manager.loaded_keys() == []


def test_nearest_tokens_match_a_hand_computation(page):
    import torch

    result = tokens.nearest_tokens(page, "cat", MINI, top_k=5, dims=8, compare="dog, car, cat")
    matrix = page.bundle(MINI).model.get_input_embeddings().weight.detach()
    cat = matrix[result["id"]]
    assert (result["piece"], result["id"], result["found"]) == ("cat", 4937, True)
    assert result["row"] == pytest.approx(cat[:8].tolist(), abs=1e-4) and result["shown_dims"] == 8
    assert result["norm"] == pytest.approx(cat.norm().item(), abs=1e-4)
    assert (result["dimensions"], result["rows"]) == tuple(matrix.shape)[::-1]
    every = torch.nn.functional.cosine_similarity(matrix, cat[None], dim=1)
    every[result["id"]] = -2
    best = every.topk(5)
    assert [n["id"] for n in result["neighbours"]] == best.indices.tolist()
    assert [n["cosine"] for n in result["neighbours"]] == pytest.approx(best.values.tolist(), abs=1e-4)
    dog, car, itself = result["compare"]
    assert dog["cosine"] == pytest.approx(every[3899].item(), abs=1e-4) and dog["piece"] == "dog"
    assert car["piece"] == "car" and itself["cosine"] == 1.0


def test_whisper_neighbours_come_from_its_decoder_token_embedding(page):
    result = tokens.nearest_tokens(page, "Ġare", WHISPER, top_k=3)
    decoder = page.bundle(WHISPER).model.model.decoder.embed_tokens.weight
    assert (result["rows"], result["dimensions"]) == tuple(decoder.shape)
    assert result["id"] == 389 and result["shown_dims"] == min(32, decoder.shape[1])


def test_a_word_is_looked_up_as_the_entry_the_tokenizer_would_use(page):
    bert = tokens.nearest_tokens(page, "Cat", BERT, top_k=1)
    assert (bert["piece"], bert["id"]) == ("cat", 4937) and "'cat'" in bert["note"]  # BERT lowercases
    gpt2 = tokens.nearest_tokens(page, "amazing", GPT2, top_k=1)  # only after a space is it one piece
    assert (gpt2["piece"], gpt2["id"]) == ("Ġamazing", 4998)
    exact = tokens.nearest_tokens(page, "##ing", BERT, top_k=1)
    assert exact["piece"] == "##ing" and exact["note"] == ""


def test_a_text_that_is_not_one_entry_gets_its_pieces_and_loads_nothing(fresh):
    manager, page = fresh
    result = tokens.nearest_tokens(page, "transformers", GPT2)
    assert not result["found"] and [p["piece"] for p in result["pieces"]] == ["transform", "ers"]
    assert "splits it into 2 pieces, 'transform' + 'ers'" in result["message"]
    unknown = tokens.nearest_tokens(page, "🤗", BERT)
    assert unknown["pieces"] == [{"piece": "[UNK]", "id": 100}] and "[UNK]" in unknown["message"]
    assert manager.loaded_keys() == []


@pytest.mark.parametrize("args, message", [
    (("", MINI), "Pick a piece of the tokenized text"),
    ((None, MINI), "Pick a piece of the tokenized text"),
    ((42, MINI), "The token must be text"),
    (("x" * 101, MINI), "at most 100"),
    (("cat", "bert-large"), "Unknown model 'bert-large' for Tokens"),
    (("cat", MINI, 0), "Neighbours must be a whole number from 1 to 50; got 0"),
    (("cat", MINI, "many"), "Neighbours must be a whole number from 1 to 50"),
    (("cat", MINI, 10, 4), "Dimensions shown must be a whole number from 8 to 64; got 4"),
    (("cat", MINI, 10, 32, ",".join("abcdefghijk")), "at most 10 tokens; got 11"),
    (("cat", MINI, 10, 32, 7), "Compare with must be text"),
])
def test_nearest_tokens_refuses_bad_input_before_loading(fresh, args, message):
    manager, page = fresh
    with pytest.raises(UserInputError, match=message):
        tokens.nearest_tokens(page, *args)
    assert manager.loaded_keys() == []


# Through the launched app, as a browser or an API client calls it.
def test_tokenize_endpoint(client):
    view, result, status = client.predict(COURSE_SENTENCE, True, api_name="/tokenize")
    assert text_pieces(group_of(result, BERT)) == ["transformers", "are", "amazing", "!"]
    assert 'data-piece="Ġamazing"' in view and f'data-models="{BERT} {MINI}"' in view
    assert status == "4 tokenizers, 25 characters · tokenizers only: no model weights loaded."


def test_nearest_tokens_endpoint(client):
    view, result, status = client.predict("cat", MINI, 3, 8, "dog", api_name="/nearest_tokens")
    assert result["piece"] == "cat" and len(result["neighbours"]) == 3 and len(result["row"]) == 8
    assert "Nearest entries by cosine similarity" in view and "Compared with" in view
    assert "**Model:** all-MiniLM-L6-v2" in status
    _view, unknown, status = client.predict("transformers", GPT2, 3, 8, "", api_name="/nearest_tokens")
    assert unknown["found"] is False and 'data-piece="transform"' in _view and "splits it into" in status


def test_endpoints_answer_bad_input_with_the_sentence(client):
    with pytest.raises(Exception, match="Type a text to split into tokens"):
        client.predict("", True, api_name="/tokenize")
    with pytest.raises(Exception, match="Unknown model 'nope'"):
        client.predict("cat", "nope", 3, 8, "", api_name="/nearest_tokens")


# Real weights: meaning, not only shapes.
@pytest.mark.realmodel
def test_real_minilm_puts_cat_nearer_dog_than_car(real_models):
    page = real_models.task("tokens")
    result = tokens.nearest_tokens(page, "cat", MINI, top_k=10, compare="dog, car")
    dog, car = result["compare"]
    assert dog["cosine"] > car["cosine"]  # 0.42 > 0.32 with the real all-MiniLM-L6-v2
    assert "cats" in [n["piece"] for n in result["neighbours"][:3]]


@pytest.mark.realmodel
def test_real_smollm2_neighbours_make_sense(real_models):
    page = real_models.task("tokens")
    assert text_pieces(group_of(tokens.tokenize(page, COURSE_SENTENCE), SMOLLM2)) == [
        "Transform", "ers", "Ġare", "Ġamazing", "!"]
    monday = tokens.nearest_tokens(page, "ĠMonday", SMOLLM2, top_k=10)
    days = {f"Ġ{d}day" for d in ("Tues", "Wednes", "Thurs", "Fri", "Satur", "Sun")}
    assert len(days & {n["piece"] for n in monday["neighbours"]}) >= 5  # the other weekdays come first
    cat = tokens.nearest_tokens(page, "Ġcat", SMOLLM2, compare="Ġdog, Ġcar")
    dog, car = cat["compare"]
    assert dog["cosine"] > car["cosine"]
