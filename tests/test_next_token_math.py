"""The next-token page's decoding arithmetic on logits set by hand: softmax with temperature (stable where the
naive formula overflows), greedy at T = 0, top-k, top-p (the smallest prefix reaching p, read after top-k as
`generate` does), entropy in bits, and seeded draws. Exact values from the formulas, computed here."""

from __future__ import annotations

import math

import pytest

from pipelines.explainers import next_token as nt

LOGITS = [0.0, 2.0, -1.0, 1.0]  # ids 0..3; likeliest first: 1, 3, 0, 2
SORTED = [2.0, 1.0, 0.0, -1.0]


def by_hand(z, temperature=1.0):
    weights = [math.exp(v / temperature) for v in z]
    return [w / sum(weights) for w in weights]


def dist(temperature=1.0, top_k=0, top_p=1.0, logits=LOGITS):
    import torch

    return nt.distribution(torch.tensor(logits), temperature, top_k, top_p)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 0.5])
def test_softmax_with_temperature_matches_the_formula(temperature):
    d = dist(temperature)
    assert d.order.tolist() == [1, 3, 0, 2]
    assert d.probability.tolist() == pytest.approx(by_hand(SORTED), abs=1e-12)
    assert d.probability_t.tolist() == pytest.approx(by_hand(SORTED, temperature), abs=1e-12)
    assert d.final.tolist() == pytest.approx(by_hand(SORTED, temperature), abs=1e-12)  # nothing cut


def test_temperature_zero_puts_all_the_mass_on_the_argmax():
    d = dist(0.0, top_p=0.9)
    assert d.probability_t.tolist() == [1.0, 0.0, 0.0, 0.0] and d.final.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert d.kept.tolist() == [True, False, False, False] and d.cut_by == [None, "top-p", "top-p", "top-p"]
    assert nt.entropy_bits(d.final) == 0.0 and math.copysign(1, nt.entropy_bits(d.final)) == 1  # not -0.0


def test_the_softmax_is_stable_where_the_naive_formula_overflows():
    with pytest.raises(OverflowError):
        by_hand([1000.0, 999.0], 0.01)
    d = dist(0.01, logits=[1000.0, 999.0, -1000.0])
    assert all(math.isfinite(v) for v in d.probability_t.tolist())
    assert d.probability_t.tolist() == pytest.approx([1.0, math.exp(-100), 0.0], abs=1e-40)
    assert dist(5.0).probability_t.tolist() == pytest.approx(by_hand(SORTED, 5.0))


def test_top_k_keeps_k_and_renormalises():
    d = dist(top_k=2)
    p = by_hand(SORTED)
    assert d.kept.tolist() == [True, True, False, False] and d.cut_by == [None, None, "top-k", "top-k"]
    assert d.final.tolist() == pytest.approx([p[0] / (p[0] + p[1]), p[1] / (p[0] + p[1]), 0, 0])


@pytest.mark.parametrize("top_p, kept", [(0.5, 1), (0.7, 2), (0.9, 3), (0.97, 4), (1.0, 4)])
def test_top_p_keeps_the_smallest_prefix_reaching_p(top_p, kept):
    d = dist(top_p=top_p)
    cumulative = [sum(by_hand(SORTED)[:i + 1]) for i in range(4)]  # 0.644, 0.881, 0.968, 1.0
    assert d.cumulative.tolist() == pytest.approx(cumulative)
    assert d.kept.tolist() == [i < kept for i in range(4)]
    assert sum(d.final.tolist()) == pytest.approx(1.0)


def test_top_p_exactly_on_a_cumulative_value_keeps_that_prefix():
    p0 = by_hand(SORTED)[0]
    assert dist(top_p=float(dist().cumulative[0])).kept.tolist() == [True, False, False, False]
    assert dist(top_p=p0 + 1e-9).kept.tolist() == [True, True, False, False]


def test_top_p_reads_the_top_k_renormalised_as_generate_does():
    d = dist(top_k=2, top_p=0.7)  # alone, top-p 0.7 keeps two; within the top 2 the first has 0.73 >= 0.7
    assert d.cumulative.tolist() == pytest.approx([0.7310586, 1.0, 1.0, 1.0])
    assert d.kept.tolist() == [True, False, False, False] and d.cut_by == [None, "top-p", "top-k", "top-k"]


def test_entropy_in_bits():
    assert nt.entropy_bits(dist(logits=[0.0] * 4).probability) == pytest.approx(2.0)
    expected = -sum(p * math.log2(p) for p in by_hand(SORTED))
    assert nt.entropy_bits(dist().probability) == pytest.approx(expected)
    assert nt.entropy_bits(dist(3.0).probability_t) > expected > nt.entropy_bits(dist(0.5).probability_t)


def test_the_same_seed_draws_the_same_tokens():
    final = dist(2.0).final
    assert nt.draw(final, 300, 7).tolist() == nt.draw(final, 300, 7).tolist()
    assert nt.draw(final, 300, 7).tolist() != nt.draw(final, 300, 8).tolist()
    assert set(nt.draw(dist(top_k=2).final, 300, 0).tolist()) <= {0, 1}  # only kept tokens are drawn




def test_the_final_distribution_is_what_generate_samples_from():
    """transformers' own warpers (temperature, top-k, top-p, in generate's order) on random logits."""
    import torch
    from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        logits = torch.randn(1, 50, generator=generator) * 3
        temperature = float(torch.rand(1, generator=generator)) * 2 + 0.1
        top_k = int(torch.randint(0, 30, (1,), generator=generator))
        top_p = float(torch.rand(1, generator=generator)) * 0.99 + 0.01
        scores = TemperatureLogitsWarper(temperature)(None, logits.clone())
        if top_k:
            scores = TopKLogitsWarper(top_k)(None, scores)
        expected = TopPLogitsWarper(top_p)(None, scores).softmax(-1)[0].double()
        d = nt.distribution(logits[0], temperature, top_k, top_p)
        final = torch.zeros(50, dtype=torch.float64)
        final[d.order] = d.final
        assert torch.allclose(final, expected, atol=1e-6), (temperature, top_k, top_p)
