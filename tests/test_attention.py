"""Attention lab: the course's worked example checked by hand, real heads on the miniatures (causal zeros,
rows that sum to 1, the same weights as the model's own output), the neuron view's recomputed weight
against the model's, every bad input's sentence, and the three endpoints through the launched app.
The real-checkpoint tier repeats the neuron check on the real SmolLM2 (rotary, 9 query heads sharing 3
key/value heads) and MiniLM."""

from __future__ import annotations

import math
import random

import pytest

from pipelines.core.errors import UserInputError
from pipelines.core.loading import ModelManager
from pipelines.core.registry import BERT, GPT2, MINILM, SMOLLM2
from pipelines.explainers import attention
from pipelines.explainers.attention_math import COURSE_K, COURSE_Q, COURSE_V
from tests.conftest import tiny_settings

APP_TASKS = ["attention"]
MINI = MINILM.repo_id
TEXT = "The cat sat on the mat."
CAUSAL, ENCODERS = (SMOLLM2, GPT2), (MINI, BERT)


@pytest.fixture(scope="module")
def lab(models):
    return models.task("attention")


def example(**changes):
    args = {"q": COURSE_Q, "k": COURSE_K, "v": COURSE_V, "scale": True, "causal": False, **changes}
    return attention.attention_example(None, **args)


def close(got, expected, tol=1e-4):
    if isinstance(expected, (list, tuple)):
        return len(got) == len(expected) and all(close(g, e, tol) for g, e in zip(got, expected))
    return got is not None and abs(got - expected) <= tol


# --- the worked example (chapter 3.6), by hand ---------------------------------------------------------

V = [[0.1, 0.2], [0.2, 0.3], [0.3, 0.4]]


def mix(weights):
    return [sum(w * V[j][c] for j, w in enumerate(weights)) for c in range(2)]


def test_the_course_example_scaled_matches_the_hand_calculation():
    r = example()
    assert r["scores"] == [[1, 0, 1], [0, 1, 1], [1, 1, 2]] and r["d_k"] == 2
    a = 1 / math.sqrt(2)
    assert close(r["scaled"], [[a, 0, a], [0, a, a], [a, a, 2 * a]]) and close(r["scale_factor"], a)
    e = math.exp(a)  # row 0: exp(a), exp(0), exp(a) over their sum; row 2: 1, 1, exp(a) after subtracting 2a - a
    rows = [[e / (2 * e + 1), 1 / (2 * e + 1), e / (2 * e + 1)], [1 / (2 * e + 1), e / (2 * e + 1), e / (2 * e + 1)],
            [1 / (2 + e), 1 / (2 + e), e / (2 + e)]]
    assert close(r["weights"], rows) and r["weights"][0] == [0.4011, 0.1978, 0.4011]
    assert r["weights"][2] == [0.2483, 0.2483, 0.5035] and r["row_sums"] == [1.0, 1.0, 1.0]
    assert close(r["output"], [mix(row) for row in rows]) and r["output"][0] == [0.2, 0.3]
    assert r["masked"] == r["scaled"]  # no mask: nothing hidden


def test_the_course_example_without_scaling():
    r = example(scale=False)
    assert r["scaled"] == r["scores"] and r["scale_factor"] == 1.0
    e = math.e
    rows = [[e / (2 * e + 1), 1 / (2 * e + 1), e / (2 * e + 1)], [1 / (2 * e + 1), e / (2 * e + 1), e / (2 * e + 1)],
            [1 / (2 + e), 1 / (2 + e), e / (2 + e)]]
    assert close(r["weights"], rows) and r["weights"][0] == [0.4223, 0.1554, 0.4223]
    assert close(r["output"], [mix(row) for row in rows])


def test_the_course_example_with_a_causal_mask():
    r = example(causal=True)
    a = 1 / math.sqrt(2)
    assert r["masked"] == [[0.7071, None, None], [0.0, 0.7071, None], [0.7071, 0.7071, 1.4142]]
    e = math.exp(a)
    rows = [[1, 0, 0], [1 / (1 + e), e / (1 + e), 0], [1 / (2 + e), 1 / (2 + e), e / (2 + e)]]
    assert close(r["weights"], rows) and r["weights"][0] == [1.0, 0.0, 0.0]
    assert close(r["output"], [mix(row) for row in rows]) and r["output"][0] == [0.1, 0.2]
    unscaled = example(causal=True, scale=False)["weights"][1]
    assert close(unscaled, [1 / (1 + math.e), math.e / (1 + math.e), 0])


def test_shapes_follow_q_rows_and_v_width_and_rows_sum_to_1():
    rng = random.Random(0)
    for n_q, n_k, d_k, d_v in ((1, 1, 1, 1), (2, 5, 3, 4), (16, 16, 16, 16)):
        m = lambda r, c: [[round(rng.uniform(-3, 3), 3) for _ in range(c)] for _ in range(r)]  # noqa: E731
        r = attention.attention_example(None, str(m(n_q, d_k)), str(m(n_k, d_k)), str(m(n_k, d_v)), True, False)
        assert r["shapes"]["output"] == [n_q, d_v] and len(r["output"]) == n_q and len(r["output"][0]) == d_v
        assert all(abs(sum(row) - 1) < 1e-3 for row in r["weights"]) and r["row_sums"] == [1.0] * n_q


def test_the_softmax_is_stable_for_huge_scores():
    r = attention.attention_example(None, "[[1000000, 1000000]]", "[[1000000, 1000000], [-1000000, 1000000]]",
                                    "[[1, 2], [3, 4]]", False, False)
    assert r["scores"] == [[2e12, 0.0]] and r["weights"] == [[1.0, 0.0]] and r["output"] == [[1.0, 2.0]]


def test_python_literals_and_tuples_are_read_too():
    assert example(q="((1, 0), (0, 1), (1, 1))")["weights"] == example()["weights"]
    assert example(scale="false")["scale"] is False


@pytest.mark.parametrize("changes, message", [
    ({"q": ""}, "Q is empty. Type a matrix"),
    ({"k": "[[1, 0], [0, 1]"}, "K could not be read as a matrix"),
    ({"v": "__import__('os').system('echo hacked')"}, "V could not be read as a matrix"),
    ({"q": "[[1, 0], [0]]"}, "The rows of Q have different lengths \\(2, 1\\)"),
    ({"q": "[[1, 'a'], [0, 1], [1, 1]]"}, "Q, row 1, value 2 is 'a', not a number."),
    ({"k": "[[true, 0], [0, 1], [1, 1]]"}, "K, row 1, value 1 is True, not a number."),
    ({"q": "[1, 0]"}, "Q is a single row of numbers: put it in a second pair of brackets"),
    ({"q": "7"}, "Q must be a list of rows"),
    ({"q": "[[]]"}, "Q has an empty row"),
    ({"v": str([[1]] * 17)}, "V is 17 x 1; the lab takes at most 16 x 16"),
    ({"q": str([[1] * 17])}, "Q is 1 x 17; the lab takes at most 16 x 16"),
    ({"q": "[[NaN, 0], [0, 1], [1, 1]]"}, "Q, row 1, value 1 is nan: keep values between"),
    ({"q": "[[1e999, 0], [0, 1], [1, 1]]"}, "keep values between -1,000,000 and 1,000,000"),
    ({"q": "[[1, 0, 0], [0, 1, 0]]"}, "Q's rows have 3 values but K's have 2: Q and K need the same width d_k"),
    ({"v": "[[1, 2], [3, 4]]"}, "K has 3 rows but V has 2: K and V need the same number of rows"),
    ({"q": "[[1, 0]]", "causal": True}, "A causal mask needs as many queries as keys"),
    ({"scale": "maybe"}, "Scale by √d_k must be true or false"),
    ({"q": "[" * 200_000}, "Q is 200,000 characters; the limit is 8,000"),
    ({"q": "[" * 3_000 + "]" * 3_000}, "Q could not be read as a matrix"),
    ({"q": "[[[1]]]"}, "Q, row 1, value 1 is \\[1\\], not a number."),
])
def test_each_bad_matrix_gets_its_sentence(changes, message):
    with pytest.raises(UserInputError, match=message):
        example(**changes)


# --- real heads on the miniatures ----------------------------------------------------------------------

def own_attentions(lab, model_id, text, layer):
    """The model's own weights for one layer from a plain full forward pass (output_attentions)."""
    import torch

    bundle = lab.get(model_id, attention="eager").bundle
    encoded = bundle.tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        out = bundle.model(**encoded, output_attentions=True)
    return out.attentions[layer][0]


@pytest.mark.parametrize("model_id", CAUSAL + ENCODERS)
def test_a_map_is_the_models_own_attention_for_that_layer_only(lab, model_id):
    import torch

    for layer in (0, 1):
        r = attention.attention_map(lab, TEXT, model_id, layer)
        expected = own_attentions(lab, model_id, TEXT, layer)
        heads = torch.tensor(r["heads"], dtype=torch.float64)
        assert heads.shape == expected.shape == (r["num_heads"], len(r["tokens"]), len(r["tokens"]))
        assert torch.allclose(heads, expected.double(), atol=6e-5), f"{model_id} layer {layer}"
        assert torch.allclose(heads.sum(-1), torch.ones(heads.shape[:2], dtype=heads.dtype), atol=1e-3)
        assert r["layer"] == layer and r["layers"] == 2 and r["caveat"].startswith("Attention is not an explanation")


@pytest.mark.parametrize("model_id", CAUSAL)
def test_a_causal_models_maps_are_zero_above_the_diagonal(lab, model_id):
    r = attention.attention_map(lab, "A longer sentence, so that there is plenty above the diagonal.", model_id, 1)
    assert r["mask"] == "causal" and "Causal mask" in r["mask_note"]
    for head in r["heads"]:
        assert all(w == 0.0 for i, row in enumerate(head) for w in row[i + 1:])
        assert head[0][0] == 1.0  # the first token can only look at itself


@pytest.mark.parametrize("model_id", ENCODERS)
def test_an_encoders_maps_look_both_ways(lab, model_id):
    r = attention.attention_map(lab, TEXT, model_id, 0)
    assert r["mask"] == "none" and "padding" in r["mask_note"]
    assert r["tokens"][0] == "[CLS]" and r["tokens"][-1] == "[SEP]"
    for head in r["heads"]:
        assert all(w > 0 for i, row in enumerate(head) for w in row[i + 1:])


def test_grouped_query_heads_are_read_from_the_config(lab):
    r = attention.attention_map(lab, TEXT, SMOLLM2, 0)
    assert (r["num_heads"], r["num_kv_heads"], r["kv_head_of"]) == (4, 2, [0, 0, 1, 1])
    assert "4 query heads share 2 key/value heads" in r["heads_note"]
    g = attention.attention_map(lab, TEXT, GPT2, 0)
    assert g["num_kv_heads"] == g["num_heads"] == 2 and "each with its own" in g["heads_note"]


def test_the_same_request_gives_the_same_map(lab):
    assert attention.attention_map(lab, TEXT, SMOLLM2, 1) == attention.attention_map(lab, TEXT, SMOLLM2, 1)


@pytest.mark.parametrize("model_id", CAUSAL + ENCODERS)
def test_the_neuron_view_recomputes_the_models_own_weight(lab, model_id):
    r_map = attention.attention_map(lab, TEXT, model_id, 1)
    count, heads = len(r_map["tokens"]), r_map["num_heads"]
    for head, query, key in ((0, count - 1, 1), (heads - 1, 3, 2), (heads - 1, count - 1, count - 1)):
        n = attention.attention_neurons(lab, TEXT, model_id, 1, head, query, key)
        assert n["matches_model"] and n["tolerance"] == 1e-4 and close(n["weight"], n["model_weight"])
        assert close(n["weight"], r_map["heads"][head][query][key])  # the map, a separate forward pass
        assert len(n["q"]) == len(n["k"]) == len(n["products"]) == n["d_k"]
        assert close(n["products"], [a * b for a, b in zip(n["q"], n["k"])], 1e-3)
        assert close(n["sum"], sum(n["products"]), 1e-3) and close(n["scale"], 1 / math.sqrt(n["d_k"]))
        assert close(n["scaled"], n["sum"] * n["scale"], 1e-3) and close(n["row_scaled"][key], n["scaled"])
        assert close(sum(n["row_weights"]), 1, 1e-3) and n["kv_head"] == r_map["kv_head_of"][head]
        assert n["query_token"] == r_map["tokens"][query] and n["key_token"] == r_map["tokens"][key]


def test_a_key_after_the_query_is_masked_in_a_causal_model(lab):
    n = attention.attention_neurons(lab, TEXT, GPT2, 0, 0, 1, 4)
    assert n["masked"] and n["weight"] == n["model_weight"] == 0.0 and n["row_scaled"][2:] == [None] * 5
    assert n["sum"] != 0  # q·k is still computed: the mask acts after it


def test_smollm2s_q_and_k_are_taken_after_the_rotary_rotation(lab):
    first = attention.attention_neurons(lab, TEXT, SMOLLM2, 0, 1, 0, 0)
    assert first["rotary"] and first["q"] == first["q_before_rotary"]  # position 0 turns by angle 0
    later = attention.attention_neurons(lab, TEXT, SMOLLM2, 0, 1, 5, 3)
    assert later["q"] != later["q_before_rotary"] and later["k"] != later["k_before_rotary"]
    # The rotation by its definition: pair (i, i + d/2) of position p turns by p / theta^(2i/d).
    config = lab.bundle(SMOLLM2).model.config
    theta, d = config.rope_parameters["rope_theta"], later["d_k"]
    raw, half = later["q_before_rotary"], d // 2
    for i in range(half):
        angle = 5 / theta ** (2 * i / d)
        assert close(later["q"][i], raw[i] * math.cos(angle) - raw[i + half] * math.sin(angle), 2e-4)
        assert close(later["q"][i + half], raw[i + half] * math.cos(angle) + raw[i] * math.sin(angle), 2e-4)
    assert "q_before_rotary" not in attention.attention_neurons(lab, TEXT, GPT2, 0, 0, 3, 1)


# --- bad inputs: a sentence each, before any model loads -----------------------------------------------

@pytest.fixture
def fresh():
    return ModelManager(tiny_settings()).task("attention")


@pytest.mark.parametrize("call, message", [
    (lambda m: attention.attention_map(m, "", SMOLLM2, 0), "Type a sentence to look at"),
    (lambda m: attention.attention_map(m, "   ", SMOLLM2, 0), "Type a sentence to look at"),
    (lambda m: attention.attention_map(m, 42, SMOLLM2, 0), "The text must be text; got int."),
    (lambda m: attention.attention_map(m, "word " * 200, SMOLLM2, 0),
     "The text is 200 tokens for SmolLM2-135M-Instruct; the attention lab shows at most 128"),
    (lambda m: attention.attention_map(m, "word " * 200, MINI, 0), "the attention lab shows at most 128"),
    (lambda m: attention.attention_map(m, TEXT, "gpt-5", 0), "Unknown model 'gpt-5' for Attention"),
    (lambda m: attention.attention_map(m, TEXT, SMOLLM2, 2),
     "Layer must be a whole number from 0 to 1; got 2. SmolLM2-135M-Instruct has 2 layers"),
    (lambda m: attention.attention_map(m, TEXT, GPT2, "abc"), "Layer must be a whole number from 0 to 1; got abc."),
    (lambda m: attention.attention_map(m, TEXT, GPT2, 0.5), "Layer must be a whole number"),
    (lambda m: attention.attention_neurons(m, TEXT, SMOLLM2, 0, 4, 0, 0),
     "Head must be a whole number from 0 to 3; got 4. SmolLM2-135M-Instruct has 4 heads"),
    (lambda m: attention.attention_neurons(m, TEXT, GPT2, 0, 0, 7, 0),
     "Query token must be a whole number from 0 to 6; got 7. The text has 7 tokens"),
    (lambda m: attention.attention_neurons(m, TEXT, GPT2, 0, 0, 0, -1), "Key token must be a whole number"),
    (lambda m: attention.attention_neurons(m, TEXT, GPT2, 0, 0, 0, None), "Key token .* got None."),
])
def test_each_bad_input_gets_a_sentence_and_loads_no_model(fresh, call, message):
    with pytest.raises(UserInputError, match=message):
        call(fresh)
    assert fresh.manager.loaded_keys() == []


# --- through the launched app --------------------------------------------------------------------------

def test_the_worked_example_endpoint(client):
    steps, numbers, status = client.predict(COURSE_Q, COURSE_K, COURSE_V, True, True, api_name="/attention_example")
    assert numbers["weights"] == [[1.0, 0.0, 0.0], [0.3302, 0.6698, 0.0], [0.2483, 0.2483, 0.5035]]
    assert "Causal mask" in steps and "0.6698" in steps and "−∞" in steps and "love" in steps
    assert "3 queries over 3 keys, d_k = 2" in status and "causal mask" in status
    with pytest.raises(Exception, match="K has 3 rows but V has 2"):
        client.predict(COURSE_Q, COURSE_K, "[[1, 2], [3, 4]]", api_name="/attention_example")


def test_the_map_endpoint_shows_every_head_and_says_which_mask(client):
    grid, lines, heat, numbers, status = client.predict(TEXT, GPT2, 1, 1, api_name="/attention_map")
    assert numbers["mask"] == "causal" and len(numbers["heads"]) == 2 and numbers["tokens"][1] == "cat"
    assert "head 1" in grid and "Layer 1, head 1" in lines and "masked" in heat and "cat" in heat
    assert "GPT-2" in status and "Causal mask" in status and "miniature" in status
    *_, numbers, status = client.predict(TEXT, MINI, 0, api_name="/attention_map")
    assert numbers["mask"] == "none" and "No mask here" in status
    with pytest.raises(Exception, match="the attention lab shows at most 128"):
        client.predict("word " * 200, api_name="/attention_map")
    with pytest.raises(Exception, match="Head must be a whole number from 0 to 1; got 5."):
        client.predict(TEXT, GPT2, 0, 5, api_name="/attention_map")


def test_a_long_text_draws_one_picture_per_head(client):
    grid, *_ = client.predict(" ".join(["word"] * 40), MINI, 0, 0, api_name="/attention_map")
    assert grid.count("data:image/png;base64,") == 4 and len(grid) < 100_000


def test_the_neuron_endpoint_matches_the_model(client):
    view, numbers, status = client.predict(TEXT, SMOLLM2, 1, 3, 5, 2, api_name="/attention_neurons")
    assert numbers["matches_model"] and numbers["kv_head"] == 1 and numbers["rotary"]
    assert "after the rotary position rotation" in view and "q[i]×k[i]" in view
    assert "equals the model's own" in status and "key/value head 1" in status
    with pytest.raises(Exception, match="Query token must be a whole number from 0 to 7; got 99."):
        client.predict(TEXT, SMOLLM2, 1, 3, 99, 2, api_name="/attention_neurons")


# --- real checkpoints ------------------------------------------------------------------------------------

LONG = ("The quick brown fox jumps over the lazy dog while the cat sleeps on a warm mat by the door. "
        "Attention lets each token look at every other token.")


@pytest.mark.realmodel
def test_real_smollm2_has_9_query_heads_sharing_3_and_its_weights_are_recomputed_after_rope(real_models):
    lab = real_models.task("attention")
    r = attention.attention_map(lab, LONG, SMOLLM2, 29)
    assert (r["num_heads"], r["num_kv_heads"], r["layers"]) == (9, 3, 30)
    assert r["kv_head_of"] == [0, 0, 0, 1, 1, 1, 2, 2, 2] and "9 query heads share 3" in r["heads_note"]
    assert all(w == 0.0 for head in r["heads"] for i, row in enumerate(head) for w in row[i + 1:])
    count = len(r["tokens"])
    for layer, head, query, key in ((0, 0, count - 1, 0), (15, 4, 20, 7), (29, 8, count - 1, count - 3)):
        n = attention.attention_neurons(lab, LONG, SMOLLM2, layer, head, query, key)
        assert n["rotary"] and n["d_k"] == 64 and n["kv_head"] == head // 3
        assert n["matches_model"] and abs(n["weight"] - n["model_weight"]) <= 1e-4, (layer, head, n["weight"])
    assert real_models.get("attention", SMOLLM2).notice == ""  # real weights, not the miniature


@pytest.mark.realmodel
def test_real_minilm_looks_both_ways_and_its_weights_are_recomputed(real_models):
    lab = real_models.task("attention")
    r = attention.attention_map(lab, LONG, MINI, 5)
    assert r["mask"] == "none" and r["num_heads"] == 12 and r["layers"] == 6
    assert sum(w for head in r["heads"] for i, row in enumerate(head) for w in row[i + 1:]) > 1
    n = attention.attention_neurons(lab, LONG, MINI, 5, 11, 3, 20)
    assert n["matches_model"] and not n["masked"] and n["d_k"] == 32
