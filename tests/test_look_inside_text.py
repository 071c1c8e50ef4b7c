""""Look inside" of the six text tasks (pipelines/inside/) on their miniatures: the values that have a
definition are checked against it. A strip's probabilities equal a direct forward pass (and greedy text
is the model's first choice at every step); alignment rows are distributions over the source; the QA
view's best span is the answer the tab shows; fill-mask's candidates are the tab's. Also the mechanism's
own rules: a serving engine's model is not looked into, nor a summary of chunk summaries."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pipelines.core.errors import UserInputError
from pipelines.families.causal_lm import GenerationParams, encode
from pipelines.inside import code_completion as inside_code
from pipelines.inside import fill_mask as inside_fill
from pipelines.inside import kept, local_bundle
from pipelines.inside import question_answering as inside_qa
from pipelines.inside import summarization as inside_summary
from pipelines.inside import text_generation as inside_text
from pipelines.inside import translation as inside_translation
from pipelines.tasks import code_completion, fill_mask, question_answering, summarization, text_generation, translation
from tests.conftest import ASSETS

EXAMPLES = json.loads((ASSETS / "texts" / "examples.json").read_text(encoding="utf-8"))
GREEDY = GenerationParams(max_new_tokens=10, do_sample=False, repetition_penalty=1.0)


def last(parts):
    return list(parts)[-1].text


def direct_probabilities(bundle, prompt_ids, new_ids):
    """P(each new token | everything before it) from a plain forward pass over the whole sequence."""
    import torch

    ids = torch.tensor([list(prompt_ids) + list(new_ids)])
    with torch.inference_mode():
        probs = bundle.model(input_ids=ids).logits[0].float().softmax(-1)
    return [float(probs[len(prompt_ids) - 1 + t, token]) for t, token in enumerate(new_ids)]


@pytest.fixture(scope="module")
def torch_models():
    """Every model on torch (--engine torch): the text is written by the model that scores it."""
    from pipelines.core.loading import ModelManager
    from tests.conftest import tiny_settings

    return ModelManager(tiny_settings(engine="torch"))


@pytest.mark.parametrize("engine", ["torch", "auto"])
@pytest.mark.parametrize("model_id,chat", [(None, True), ("openai-community/gpt2", True), (None, False)])
def test_the_strip_is_a_forward_pass_and_greedy_text_is_the_first_choice(models, torch_models, engine, model_id,
                                                                           chat):
    if engine == "torch":
        models = torch_models
    tg = models.task("text-generation")
    prompt = "Once upon a time,"
    generated = last(text_generation.generate(tg, prompt, model_id, GREEDY, chat))
    result = inside_text.explain(tg, prompt, model_id, chat, "Greedy", generated)
    bundle = tg.bundle(model_id)
    new_ids = [t["id"] for t in result["tokens"]]
    assert bundle.tokenizer.decode(new_ids) == generated and "".join(t["token"] for t in result["tokens"]) == generated
    prompt_ids = encode(bundle, prompt, chat)
    assert result["prompt_tokens"] == len(prompt_ids)
    expected = direct_probabilities(bundle, prompt_ids, new_ids)
    assert [t["probability"] for t in result["tokens"]] == pytest.approx(expected, abs=2e-4)
    on_engine = tg.get(model_id).bundle.runs_on.startswith("onnxruntime-genai")
    assert result["generated_by"] == (tg.get(model_id).bundle.runs_on if on_engine else "")
    assert on_engine == (engine == "auto" and model_id is None)  # GPT-2 has no engine path
    if not on_engine:  # the same model wrote and scored it: greedy, no penalty, the argmax every time
        assert all(t["rank"] == 1 for t in result["tokens"])
    for t in result["tokens"]:
        alternatives = [p for _, p in t["alternatives"]]
        assert len(alternatives) == 3 and alternatives == sorted(alternatives, reverse=True)
        assert t["alternatives"][0][1] == pytest.approx(t["probability"], abs=1e-4)  # rank 1: the top one
    assert result["chat_template"] is (chat and model_id is None)  # GPT-2 has no template
    assert result["context"] == ("" if result["chat_template"] else prompt)
    assert result["not_top"] == sum(t["rank"] > 1 for t in result["tokens"]) and result["sampled"] is False
    if not on_engine:
        assert result["not_top"] == 0


def test_sampled_text_is_scored_by_the_model_not_the_sampler(models):
    tg = models.task("text-generation")
    params = GenerationParams(max_new_tokens=12, do_sample=True, temperature=2.0, top_k=0, top_p=1.0, seed=3)
    generated = last(text_generation.generate(tg, "The weather today is", None, params))
    result = inside_text.explain(tg, "The weather today is", None, True, "Sampling", generated)
    assert result["sampled"] is True and len(result["tokens"]) > 0
    ranks = [t["rank"] for t in result["tokens"]]
    assert result["not_top"] == sum(r > 1 for r in ranks)
    assert result["unlikely"] == sum(t["probability"] < 0.1 for t in result["tokens"])


def test_code_completion_strip_scores_the_completion_after_the_code(models):
    cc = models.task("code-completion")
    code = EXAMPLES["code"][0]
    shown = code + last(code_completion.complete(cc, code, None, replace(code_completion.DEFAULTS, max_new_tokens=8)))
    result = inside_code.explain(cc, code, None, "Greedy", shown)
    bundle = cc.bundle()
    new_ids = [t["id"] for t in result["tokens"]]
    assert code + "".join(t["token"] for t in result["tokens"]) == shown and result["context"] == code
    expected = direct_probabilities(bundle, encode(bundle, code, use_chat=False), new_ids)
    assert [t["probability"] for t in result["tokens"]] == pytest.approx(expected, abs=2e-4)
    with pytest.raises(UserInputError, match="changed while it was being completed"):
        inside_code.explain(cc, code + "  # edited", None, "Greedy", shown)


def test_no_generated_text_is_a_message_not_an_error(models):
    result = inside_text.explain(models.task("text-generation"), "Hello", None, True, "Greedy", "")
    assert result["tokens"] == [] and "no text" in result["message"]


def assert_distributions(rows, columns):
    assert rows and all(len(row) == columns for row in rows)
    for row in rows:
        assert all(0 <= w <= 1 for w in row)
        assert sum(row) == pytest.approx(1.0, abs=columns * 5e-5 + 1e-6)  # each weight rounded to 4 decimals


def test_translation_alignment_rows_are_distributions_over_the_source(models):
    tr = models.task("translation")
    text = EXAMPLES["translation"][0]["text"]  # "Good morning!", English to German
    shown = translation.translate(tr, text, "English", "German", 1).text
    result = inside_translation.explain(tr, text, "English", "German", 1, shown)
    (hop,) = result["hops"]
    assert hop["model_id"] == "Helsinki-NLP/opus-mt-en-de" and (hop["source"], hop["target"]) == ("English", "German")
    pair = hop["pairs"][0]
    assert "".join(pair["source_tokens"]).startswith(text) and pair["source_tokens"][-1] == "</s>"
    assert "".join(pair["output_tokens"]).strip() == shown.strip()
    assert len(pair["alignment"]) == len(pair["output_tokens"])
    assert_distributions(pair["alignment"], len(pair["source_tokens"]))


def test_translation_through_english_shows_both_hops_with_the_same_english(models):
    tr = models.task("translation")
    shown = translation.translate(tr, "Guten Morgen!", "German", "French", 1).text
    result = inside_translation.explain(tr, "Guten Morgen!", "German", "French", 1, shown)
    first, second = result["hops"]
    assert (first["source"], first["target"], second["source"], second["target"]) == (
        "German", "English", "English", "French")
    english = translation.translate(tr, "Guten Morgen!", "German", "English", 1).text
    assert " ".join(p["output"] for p in first["pairs"]) == english
    assert " ".join(p["source"] for p in second["pairs"]) == english
    assert any("through the English" in note for note in result["notes"])
    for hop in result["hops"]:
        for pair in hop["pairs"]:
            assert_distributions(pair["alignment"], len(pair["source_tokens"]))


def test_a_multi_sentence_text_is_aligned_sentence_by_sentence_as_translated(models):
    tr = models.task("translation")
    bundle = tr.bundle("Helsinki-NLP/opus-mt-en-de")
    pairs, notes = inside_translation.pairs(bundle, "One. Two.\n\nThree.", "Eins. Zwei.\n\nDrei.")
    assert pairs == [("One.", "Eins."), ("Two.", "Zwei."), ("Three.", "Drei.")] and notes == []
    pairs, notes = inside_translation.pairs(bundle, "One. Two.", "Eins und zwei.")
    assert pairs == [("One. Two.", "Eins und zwei.")] and "as a whole" in notes[0]


def test_the_view_pairs_each_sentence_with_the_translation_its_run_gave_it(models):
    tr = models.task("translation")
    text = "One sentence here. Another one there!\nA third line."
    shown = translation.translate(tr, text, "en", "de").text
    bundle = tr.bundle("Helsinki-NLP/opus-mt-en-de")
    pairs, notes = inside_translation.pairs(bundle, text, shown)
    # The run's own pairs, whatever the translation's sentences look like (a miniature writes no full stops).
    assert [s for s, _ in pairs] == ["One sentence here.", "Another one there!", "A third line."] and notes == []
    assert [" ".join(o for _, o in pairs[:2]), pairs[2][1]] == shown.split("\n")
    bundle.extras[kept.KEY] = kept.Kept()  # gone: the view cuts the translation into sentences itself
    again, again_notes = inside_translation.pairs(bundle, text, shown)
    assert again == pairs or (len(again) < 3 and "as a whole" in again_notes[0])


def test_summary_alignment_rows_and_sentence_sums_are_distributions(models):
    sm = models.task("summarization")
    text = EXAMPLES["summarization"][0]["text"]
    shown = summarization.summarize(sm, text, None, 5, 12, 1).text
    result = inside_summary.explain(sm, text, None, 5, 12, 1, True, shown)
    (pair,) = result["pairs"]
    assert_distributions(pair["alignment"], len(pair["source_tokens"]))
    assert result["sentences"][-1] == inside_summary.OTHER and len(result["sentences"]) > 5
    assert len(pair["by_sentence"]) == len(pair["alignment"])
    for row, sums in zip(pair["alignment"], pair["by_sentence"]):
        assert len(sums) == len(result["sentences"]) and sum(sums) == pytest.approx(1.0, abs=1e-3)
        assert sum(sums) == pytest.approx(sum(row), abs=len(row) * 5e-5 + 1e-4)


def test_a_summary_of_chunk_summaries_has_no_alignment_to_show(models):
    sm = models.task("summarization")
    text = EXAMPLES["summarization"][1]["text"]  # longer than the window: summarized in chunks
    result = inside_summary.explain(sm, text, None, 0, 8, 1, True, "Any summary.")
    assert result["pairs"] == [] and "chunks" in result["message"]


@pytest.mark.parametrize("case", range(len(EXAMPLES["question_answering"])))
@pytest.mark.parametrize("model_id", [None, "deepset/roberta-base-squad2"])  # SQuAD 1.1, and 2.0 ("no answer")
def test_the_qa_views_best_span_is_the_answer_shown(models, case, model_id):
    qa = models.task("question-answering")
    example = EXAMPLES["question_answering"][case]
    answer = question_answering.answer(qa, example["question"], example["context"], model_id)
    shown = answer.text if answer.has_answer else question_answering.NO_ANSWER
    result = inside_qa.explain(qa, example["question"], example["context"], model_id, 30, shown)
    chosen = result["chosen"]
    assert result["matches_shown"]
    assert any("'No answer' won" in note for note in result["notes"]) is not answer.has_answer
    assert chosen["has_answer"] == answer.has_answer
    assert (chosen["text"], chosen["start"], chosen["end"]) == (
        (answer.text, answer.start, answer.end) if answer.has_answer else ("", 0, 0))
    assert chosen["probability"] == pytest.approx(answer.score, abs=1e-4)
    assert len(result["windows"]) == answer.windows
    assert result["rivals"] and all(r["score"] <= chosen["score"] for r in result["rivals"])
    assert len({(r["start"], r["end"]) for r in result["rivals"]}) == len(result["rivals"])  # each place once
    strip = result["strip"]
    window = result["windows"][chosen["window"]]
    assert strip[0]["start_char"] == window["start"]
    assert "".join(t["before"] + t["text"] for t in strip) == example["context"][window["start"]:window["end"]]
    if "no-answer" not in qa.checkpoint(model_id).traits:  # no "no answer" option: the strips are distributions
        assert sum(t["p_start"] for t in strip) == pytest.approx(1.0, abs=len(strip) * 5e-5)


def test_when_no_answer_wins_the_view_says_so_and_shows_the_spans_it_beat(models, monkeypatch):
    qa = models.task("question-answering")
    read = question_answering.read_windows

    def sure_there_is_none(reader, windows, progress=None):  # hand-set scores: the first token (CLS) wins
        starts, ends = read(reader, windows)
        starts[:, 0] = ends[:, 0] = 50.0
        return starts, ends

    monkeypatch.setattr(question_answering, "read_windows", sure_there_is_none)
    squad2 = "deepset/roberta-base-squad2"
    answer = question_answering.answer(qa, "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris.", squad2)
    assert not answer.has_answer
    result = inside_qa.explain(qa, "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris.", squad2, 30,
                               question_answering.NO_ANSWER)
    chosen = result["chosen"]
    assert result["matches_shown"] and not chosen["has_answer"] and chosen["score"] == 100.0
    assert chosen["probability"] == pytest.approx(answer.score, abs=1e-4)
    assert "'No answer' won" in result["notes"][0]
    assert result["rivals"] and all(r["score"] < chosen["score"] for r in result["rivals"])


def test_the_qa_view_says_when_the_answer_shown_is_not_what_the_model_picks(models):
    qa = models.task("question-answering")
    result = inside_qa.explain(qa, "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris.", None, 30,
                               "an answer from another context")
    assert not result["matches_shown"] and "not what the model picks now" in result["notes"][0]


def test_fill_mask_candidates_are_the_tabs_and_each_layer_row_is_a_distribution(models):
    fm = models.task("fill-mask")
    text = "The [MASK] chased the [MASK]."
    tab = fill_mask.fill(fm, text, top_k=5)
    rows = [[g, rank, c.token, round(c.probability, 4), c.sentence]
            for g, gap in enumerate(tab.gaps, 1) for rank, c in enumerate(gap.candidates, 1)]  # as the tab shows
    result = inside_fill.explain(fm, text, None, 5, rows)
    assert result["notes"] == [] and len(result["masks"]) == 2
    for gap, mask in zip(tab.gaps, result["masks"]):
        assert [c["token"] for c in mask["candidates"]] == [c.token for c in gap.candidates]
        assert [c["probability"] for c in mask["candidates"]] == pytest.approx(
            [c.probability for c in gap.candidates], abs=1e-4)
        assert result["tokens"][mask["position"]] == "[MASK]"
        assert len(mask["attention"]) == result["layers"] == fm.bundle().model.config.num_hidden_layers
        assert_distributions(mask["attention"], len(result["tokens"]))
    rows[0][2] = "something else"
    assert "differ" in inside_fill.explain(fm, text, None, 5, rows)["notes"][0]


def test_a_task_on_a_serving_engine_has_nothing_here_to_look_inside(models):
    class OnAnEngine:
        remote = "https://engine.example/v1"

    with pytest.raises(UserInputError, match="serving engine"):
        local_bundle(OnAnEngine(), None)


def test_the_kept_store_drops_the_least_recently_used_within_its_entries_and_bytes():
    import torch

    store = kept.Kept(max_entries=3, max_bytes=1300)  # three values of 100 floats (400 bytes) fit, not four
    for k in range(3):
        store.put(f"run {k}", torch.zeros(100))
    store.get("run 0")  # used again: now the most recent
    store.put("run 3", torch.zeros(100))
    assert [store.get(f"run {k}") is not None for k in range(4)] == [True, False, True, True]
    store.put("big", torch.zeros(200))  # over the bytes with the others: the oldest go first
    assert store.get("big") is not None and len(store) == 2
    store.put("too big", torch.zeros(400))  # more than the whole store: not kept, nothing evicted for it
    assert store.get("too big") is None and len(store) == 2


def test_kept_keys_tell_apart_what_decides_the_value():
    import numpy as np
    import torch

    assert kept.digest("ids", [1, 2]) == kept.digest("ids", [1, 2])
    assert kept.digest(torch.tensor([[1, 2]])) == kept.digest(torch.tensor([[1, 2]]))
    assert len({kept.digest("ids", [1, 2]), kept.digest("ids", [2, 1]), kept.digest("ids", "[1, 2]"),
                kept.digest("ids", [1], [2]), kept.digest("logits", [1, 2]), kept.digest(torch.tensor([[1, 2]])),
                kept.digest(torch.tensor([[1, 2]], dtype=torch.int32)), kept.digest(torch.tensor([1, 2])),
                kept.digest(torch.tensor([[1.0, 2.0]])), kept.digest(np.array([[1, 2]]))}) == 10


def forward_counter(module):
    """A list that grows by one at each forward call of `module`, and the hook to remove."""
    calls = []
    return calls, module.register_forward_hook(lambda *_: calls.append(1))


def test_a_summary_is_looked_into_with_the_encoder_output_its_run_kept(models):
    import torch

    sm = models.task("summarization")
    text = EXAMPLES["summarization"][0]["text"]
    shown = summarization.summarize(sm, text, None, 5, 12, 1).text
    bundle = sm.bundle()
    read = summarization.settings(bundle)["prefix"] + summarization.check(sm, text).text  # as the task read it
    ids = bundle.tokenizer(read, truncation=True, return_tensors="pt")["input_ids"]
    hidden = kept.encoder_output(bundle, ids)
    with torch.inference_mode():
        fresh = bundle.model.get_encoder()(input_ids=ids).last_hidden_state
    assert hidden is not None and torch.allclose(hidden, fresh, atol=1e-5)
    assert kept.encoder_output(bundle, ids[:, :-1]) is None  # another input: nothing kept for it
    calls, hook = forward_counter(bundle.model.get_encoder())
    try:
        with_kept = inside_summary.explain(sm, text, None, 5, 12, 1, True, shown)
        assert calls == []  # only the decoder ran
        bundle.extras[kept.KEY] = kept.Kept()  # gone (evicted, a fresh server): computed again, the same view
        assert inside_summary.explain(sm, text, None, 5, 12, 1, True, shown) == with_kept and calls == [1]
    finally:
        hook.remove()


def test_a_seq2seq_encoder_stays_on_sdpa_when_the_model_is_switched_to_eager(models):
    bundle = models.task("summarization").bundle()
    loaded = bundle.attention
    bundle.use_attention("eager")
    try:
        assert {m.config._attn_implementation for m in bundle.model.get_encoder().modules()
                if hasattr(m, "config") and not hasattr(m, "base_model_prefix")} == {"sdpa"}
        assert bundle.model.get_decoder().config._attn_implementation == "eager"
    finally:
        bundle.use_attention(loaded)


def test_the_qa_view_reads_the_scores_its_run_kept(models):
    qa = models.task("question-answering")
    example = max(EXAMPLES["question_answering"], key=lambda e: len(e["context"]))  # several windows
    answer = question_answering.answer(qa, example["question"], example["context"])
    assert answer.windows > 1
    reader = qa.bundle()
    calls, hook = forward_counter(reader.model)
    try:
        with_kept = inside_qa.explain(qa, example["question"], example["context"], None, 30, answer.text)
        assert calls == [] and with_kept["matches_shown"]
        reader.extras[kept.KEY] = kept.Kept()
        assert inside_qa.explain(qa, example["question"], example["context"], None, 30, answer.text) == with_kept
        assert len(calls) == -(-answer.windows // question_answering.WINDOW_BATCH)  # every window read again
    finally:
        hook.remove()


def test_a_translations_sentences_are_aligned_with_the_encoder_outputs_its_batched_run_kept(models):
    from pipelines.inside.alignment import align

    tr = models.task("translation")
    sentences = ["The cat sleeps on the warm mat.", "Dogs run in the big park every morning.", "Good night!"]
    translation.translate(tr, " ".join(sentences), "English", "German", 1)  # one batch of three sentences
    bundle = local_bundle(tr, None, attention="eager")  # as the view gets it: cross-attention weights
    outputs = ["Die Katze schläft.", "Hunde laufen im Park.", "Gute Nacht!"]  # the miniature's own are noise
    calls, hook = forward_counter(bundle.model.get_encoder())
    try:
        with_kept = align(bundle, sentences, outputs)
        assert len(with_kept) == 3 and calls == []  # each sentence's row was kept: only the decoder ran
        bundle.extras[kept.KEY] = kept.Kept()  # gone: the batch is encoded again, the same alignment
        assert align(bundle, sentences, outputs) == with_kept and calls == [1]
        assert align(bundle, sentences[:2] + ["Something else."], outputs) and calls == [1, 1]  # one not kept
    finally:
        hook.remove()
