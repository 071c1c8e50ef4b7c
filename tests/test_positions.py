"""The Positions page: the course's sinusoidal encoding against hand-computed values, its invariants (row
norms, symmetric similarity that depends only on the offset), a model's learned positions (their own table's
cosines) and rotary positions (scores constant along diagonals, equal to an independent float64 RoPE),
input errors before any load, the endpoints through the launched app, and the real SmolLM2 and MiniLM."""

from __future__ import annotations

import math

import pytest

from pipelines.core.errors import UserInputError
from pipelines.explainers import positions

APP_TASKS = ["positions"]
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
BERT = "google-bert/bert-base-uncased"
GPT2 = "openai-community/gpt2"
SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture(scope="module")
def pm(models):
    return models.task("positions")


def diagonal_spread(matrix) -> float:
    """The largest difference between two entries of one diagonal (m - n fixed)."""
    n = len(matrix)
    return max(max(d) - min(d) for d in ([matrix[m][m - k] for m in range(max(0, k), min(n, n + k))]
                                         for k in range(-n + 1, n)))


# The course's formula ----------------------------------------------------------------------------------

def test_hand_computed_values_of_the_course_formula(pm):
    pe = positions.positional_encoding(pm, 4, 4)["pe"]
    assert pe[0] == [0.0, 1.0, 0.0, 1.0]  # sin(0) = 0, cos(0) = 1 in every pair
    assert pe[1][0] == pytest.approx(math.sin(1), abs=1e-4) and pe[1][1] == pytest.approx(math.cos(1), abs=1e-4)
    # d_model 4, i = 1: the wavelength factor is 10000^(2/4) = 100
    assert pe[2][2] == pytest.approx(math.sin(2 / 100), abs=1e-4)
    assert pe[2][3] == pytest.approx(math.cos(2 / 100), abs=1e-4)
    assert pe[3][0] == pytest.approx(0.1411, abs=1e-4) and pe[3][1] == pytest.approx(-0.9900, abs=1e-4)
    # d_model 8, i = 2: 10000^(4/8) = 100 again; i = 3: 10000^(6/8) = 1000
    pe8 = positions.positional_encoding(pm, 4, 8)["pe"]
    assert pe8[3][4] == pytest.approx(math.sin(0.03), abs=1e-4) and pe8[3][7] == pytest.approx(math.cos(0.003),
                                                                                                 abs=1e-4)


@pytest.mark.parametrize("length, d_model", [(1, 2), (7, 6), (50, 64), (128, 512)])
def test_every_value_follows_the_formula_and_rows_have_norm_sqrt_half_d_model(pm, length, d_model):
    result = positions.positional_encoding(pm, length, d_model)
    pe = result["pe"]
    assert len(pe) == length and all(len(row) == d_model for row in pe)
    for pos in range(0, length, max(1, length // 9)):
        for dim in range(d_model):
            angle = pos / 10000 ** ((dim - dim % 2) / d_model)
            assert pe[pos][dim] == pytest.approx(math.sin(angle) if dim % 2 == 0 else math.cos(angle), abs=1e-4)
    assert result["row_norm"] == pytest.approx(math.sqrt(d_model / 2), abs=1e-4)
    exact = positions.sinusoidal(length, d_model).norm(dim=1)
    assert float((exact - math.sqrt(d_model / 2)).abs().max()) < 1e-9
    assert all(abs(math.sqrt(sum(v * v for v in row)) - math.sqrt(d_model / 2)) < 1e-2 for row in pe)  # rounded
    waves = result["wavelengths"]
    assert waves[0] == pytest.approx(2 * math.pi, abs=0.01) and len(waves) == d_model // 2


def test_the_similarity_is_symmetric_has_ones_on_its_diagonal_and_depends_only_on_the_offset(pm):
    result = positions.positional_encoding(pm, 24, 16)
    sim = result["similarity"]
    assert all(sim[m][n] == sim[n][m] for m in range(24) for n in range(24))
    assert all(sim[m][m] == 1.0 for m in range(24))
    assert result["diagonal_max_deviation"] < 1e-9 and diagonal_spread(sim) <= 2e-4  # rounding only
    # PE(m).PE(n) = sum_i cos((m - n) w_i): the cosine is its mean over the d_model/2 frequencies.
    for offset in (1, 5, 23):
        expected = sum(math.cos(offset / 10000 ** (2 * i / 16)) for i in range(8)) / 8
        assert result["similarity_by_offset"][offset] == pytest.approx(expected, abs=1e-4)
        assert sim[offset][0] == pytest.approx(expected, abs=1e-4)


def test_the_same_request_gives_the_same_numbers(pm):
    assert positions.positional_encoding(pm, 9, 10) == positions.positional_encoding(pm, 9, 10)


# Input errors --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("length, d_model, message", [
    (0, 32, "Length must be a whole number from 1 to 128; got 0."),
    (129, 32, "Length must be a whole number from 1 to 128; got 129."),
    (2.5, 32, "Length must be a whole number from 1 to 128; got 2.5."),
    ("", 32, "Length must be a whole number from 1 to 128; got ."),
    ("abc", 32, "got abc"),
    (None, 32, "got None"),
    (16, 0, "d_model must be a whole number from 2 to 512; got 0."),
    (16, 514, "d_model must be a whole number from 2 to 512; got 514."),
    (16, 33, "d_model must be even: .* got 33. Try 32 or 34."),
    (16, True, "d_model must be a whole number"),
])
def test_bad_encoding_settings_get_a_sentence(pm, length, d_model, message):
    with pytest.raises(UserInputError, match=message):
        positions.positional_encoding(pm, length, d_model)


@pytest.mark.parametrize("kwargs, message", [
    ({"model_id": ""}, "Choose a model: one of sentence-transformers/all-MiniLM-L6-v2, "),
    ({"model_id": None}, "Choose a model"),
    ({"model_id": "gpt-5"}, "Unknown model 'gpt-5' for Positions. Choose one of: "),
    ({"length": 0}, "Length must be a whole number from 1 to 128; got 0."),
    ({"length": "many"}, "got many"),
    ({"head": -1}, "Head must be a whole number from 0 to 63; got -1."),
    ({"vectors": "sideways"}, "Unknown q and k vectors 'sideways'. Choose one of: first layer, random."),
    ({"seed": -1}, "Seed must be a whole number"),
])
def test_bad_model_inputs_are_refused_before_any_model_loads(kwargs, message):
    from pipelines.core.loading import ModelManager
    from tests.conftest import tiny_settings

    manager = ModelManager(tiny_settings())
    call = {"model_id": SMOLLM2, "length": 8, **kwargs}
    with pytest.raises(UserInputError, match=message):
        positions.model_positions(manager.task("positions"), **call)
    assert manager.loaded_keys() == []


def test_a_head_the_model_does_not_have_is_named_with_its_range(pm):
    heads = pm.bundle(SMOLLM2).model.config.num_attention_heads
    with pytest.raises(UserInputError, match=f"Head must be a whole number from 0 to {heads - 1} for this model"):
        positions.model_positions(pm, SMOLLM2, 8, head=heads)


# Learned and rotary positions on the miniatures ------------------------------------------------------------

@pytest.mark.parametrize("model_id", [MINILM, BERT, GPT2])
def test_learned_similarity_is_the_cosine_of_the_models_own_position_table(pm, model_id):
    import torch

    result = positions.model_positions(pm, model_id, 12)
    model = pm.bundle(model_id).model
    base = model.base_model
    table = base.wpe.weight if model_id == GPT2 else base.embeddings.position_embeddings.weight
    unit = torch.nn.functional.normalize(table[:12].double(), dim=-1)
    expected = (unit @ unit.T).tolist()
    assert result["scheme"] == "learned" and "added to the token embeddings" in result["where"]
    sim = result["similarity"]
    assert all(sim[m][n] == pytest.approx(expected[m][n], abs=1e-4) for m in range(12) for n in range(12))
    assert all(sim[m][m] == 1.0 and sim[m] == [row[m] for row in sim] for m in range(12))
    config = model.config
    assert result["max_positions"] == getattr(config, "max_position_embeddings", getattr(config, "n_positions", None))
    assert result["similarity_by_offset"][3] == pytest.approx(sum(expected[m][m - 3] for m in range(3, 12)) / 9,
                                                              abs=1e-4)


def test_rotary_scores_are_constant_along_diagonals_and_match_an_independent_rope(pm):
    import torch

    result = positions.model_positions(pm, SMOLLM2, 20, head=1, vectors="random", seed=7)
    config = pm.bundle(SMOLLM2).model.config
    d = result["head_dim"]
    assert result["scheme"] == "rotary" and result["rope_theta"] == config.rope_parameters["rope_theta"]
    assert d == config.hidden_size // config.num_attention_heads and result["kv_heads"] == config.num_key_value_heads
    scores = result["scores"]
    assert result["diagonal_max_deviation"] < 1e-4 and diagonal_spread(scores) <= 1e-4 + 2e-4
    # The same seeded vectors, rotated by hand in float64: pairs (i, i + d/2) turn by pos * theta^(-2i/d).
    q, k = torch.randn(2, d, generator=torch.Generator().manual_seed(7)).double()
    freqs = result["rope_theta"] ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)

    def rotate(x, pos):
        angle = torch.cat([pos * freqs, pos * freqs])
        return x * angle.cos() + torch.cat([-x[d // 2:], x[:d // 2]]) * angle.sin()

    for m, n in [(0, 0), (5, 2), (19, 0), (3, 17), (12, 12)]:
        expected = float(rotate(q, m) @ rotate(k, n)) / math.sqrt(d)
        assert scores[m][n] == pytest.approx(expected, abs=1e-4)
    # Same position for both: rotation keeps the dot product. Elsewhere the offset changes the score.
    assert result["score_by_offset"][0] == pytest.approx(result["unrotated_score"], abs=1e-4)
    assert max(result["score_by_offset"]) - min(result["score_by_offset"]) > 0.1


def test_rotary_first_layer_vectors_say_where_they_come_from(pm):
    result = positions.model_positions(pm, SMOLLM2, 16)
    assert result["q_from"] == "'cat', layer 0, head 0" and result["k_from"].startswith("'sat', layer 0")
    assert result["diagonal_max_deviation"] < 1e-4 and "every one of the" in result["where"]
    assert len(result["scores"]) == 16 and len(result["score_by_offset"]) == 16


def test_the_page_sends_a_picture_not_65536_svg_cells_for_a_large_encoding(pm):
    from tabs.positions import encoding_views

    large = encoding_views(positions.positional_encoding(pm, 128, 512))
    small = encoding_views(positions.positional_encoding(pm, 16, 32))
    assert "data:image/png;base64," in large and len(large) < 300_000 and large.count("<rect") == 0
    assert small.count("<rect") == 16 * 32 + 16 * 16 and "data:image/png" not in small


@pytest.mark.parametrize("diverging, low, high", [(True, -1.0, 1.0), (False, 0.5, 2.0)])
def test_a_large_matrix_picture_has_the_colours_of_the_small_svg_cells(diverging, low, high):
    import base64
    import io
    import re

    from PIL import Image

    from ui import positions_views, views

    values = [[low + (high - low) * (i * 40 + j) / 1599 for j in range(40)] for i in range(40)]
    drawn = positions_views.matrix(values, "m", "row", "column", low=low, high=high, diverging=diverging)
    data = re.search(r"base64,([^\"]+)", drawn).group(1)
    picture = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    scale_x, scale_y = picture.width // 40, picture.height // 40
    for i, j in [(0, 0), (20, 7), (39, 39)]:
        pixel = picture.getpixel((j * scale_x, i * scale_y))
        expected = tuple(int(c) for c in re.findall(r"\d+", views.color(values[i][j], low, high, diverging)))
        assert all(abs(a - b) <= 1 for a, b in zip(pixel, expected)), (i, j, pixel, expected)


# The endpoints through the launched app -------------------------------------------------------------------

def test_positional_encoding_endpoint(client):
    view, numbers, status = client.predict(16, 32, api_name="/positional_encoding")
    assert numbers["pe"][1][0] == pytest.approx(math.sin(1), abs=1e-4) and len(numbers["similarity"]) == 16
    assert "PE: 16 positions × 32 dimensions" in view and "norm √(d_model/2) = 4" in status
    with pytest.raises(Exception, match="d_model must be even"):
        client.predict(16, 33, api_name="/positional_encoding")


def test_model_positions_endpoint(client):
    view, numbers, status = client.predict(SMOLLM2, 8, api_name="/model_positions")
    assert numbers["scheme"] == "rotary" and numbers["diagonal_max_deviation"] < 1e-4
    assert "max deviation" in view and "Model:" in status and "rotary positions" in status
    view, numbers, status = client.predict(MINILM, 8, 0, "first layer", 0, api_name="/model_positions")
    assert numbers["scheme"] == "learned" and len(numbers["similarity"]) == 8 and "Learned absolute" in view
    with pytest.raises(Exception, match="Unknown model 'bart'"):
        client.predict("bart", 8, api_name="/model_positions")


# Real weights --------------------------------------------------------------------------------------------

@pytest.mark.realmodel
@pytest.mark.parametrize("vectors", positions.VECTORS)
def test_real_smollm2_rotary_scores_depend_only_on_the_offset(real_models, vectors):
    result = positions.model_positions(real_models.task("positions"), SMOLLM2, 64, vectors=vectors)
    row = next(s for s in positions.SCHEMES if s["repo_id"] == SMOLLM2)
    assert (result["rope_theta"], result["head_dim"], result["layers"]) == (100000.0, 64, 30)
    assert result["max_positions"] == row["max_positions"] == 8192 and result["heads"] == 9
    assert result["diagonal_max_deviation"] < 1e-4 and diagonal_spread(result["scores"]) <= 3e-4
    assert max(result["score_by_offset"]) - min(result["score_by_offset"]) > 0.05  # not a constant


@pytest.mark.realmodel
def test_real_minilm_neighbouring_positions_are_more_alike_than_distant_ones(real_models):
    result = positions.model_positions(real_models.task("positions"), MINILM, 64)
    row = next(s for s in positions.SCHEMES if s["repo_id"] == MINILM)
    assert result["max_positions"] == row["max_positions"] == 512 and result["layers"] == 6
    sim = result["similarity"]
    assert all(sim[m][m] == 1.0 for m in range(64))
    # Measured: 0.87 for neighbours, 0.27 for positions 32 or more apart (all-MiniLM-L6-v2's real table).
    assert result["neighbour_similarity"] > 0.8 and result["far_similarity"] < 0.4
    by_offset = result["similarity_by_offset"]
    assert by_offset[1] > by_offset[2] > by_offset[40] and result["diagonal_max_deviation"] > 0.1
