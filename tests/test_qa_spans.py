"""Extractive QA span selection (pipelines/tasks/qa_spans.py) on hand-set logits: exact answers."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.tasks.qa_spans import best_span

# ---------------------------------------------------------------------------------------------------
# Span selection on hand-set logits. One window of 8 tokens:
#   0 CLS | 1-2 question | 3 SEP | 4-6 context | 7 SEP; context token k covers characters [10k, 10k+5).
MASK = np.array([0, 0, 0, 0, 1, 1, 1, 0], bool)
OFFSETS = np.array([[0, 0], [0, 5], [6, 9], [0, 0], [0, 5], [10, 15], [20, 25], [0, 0]])


def logits(**at: float) -> np.ndarray:
    """Eight zeros with values at positions: logits(p4=2.0) sets index 4."""
    out = np.zeros(8)
    for key, value in at.items():
        out[int(key[1:])] = value
    return out


def test_best_span_in_one_window():
    choice = best_span(logits(p5=3.0), logits(p6=2.0), OFFSETS, MASK)
    assert (choice.start_token, choice.end_token, choice.window) == (5, 6, 0)
    assert (choice.start_char, choice.end_char) == (10, 25)
    assert choice.logit == pytest.approx(5.0) and choice.has_answer


def test_end_before_start_is_never_chosen():
    # The two highest logits form (start 6, end 4) = 10: invalid. Valid: (4, 4) = 1 + 5 = 6 beats
    # (6, 6) = 5 + 0.5 and (4, 6) = 1 + 0.5.
    choice = best_span(logits(p4=1.0, p6=5.0), logits(p4=5.0, p6=0.5), OFFSETS, MASK)
    assert (choice.start_token, choice.end_token) == (4, 4)
    assert choice.logit == pytest.approx(6.0)
    # Only an inverted pair scores above zero: the answer is some span with start <= end, never it.
    choice = best_span(logits(p6=5.0), logits(p4=5.0), OFFSETS, MASK, max_answer_tokens=1)
    assert choice.start_token == choice.end_token and choice.logit == pytest.approx(5.0)


def test_max_answer_length_is_respected():
    starts, ends = logits(p4=3.0, p5=1.0), logits(p6=3.0)
    assert (best_span(starts, ends, OFFSETS, MASK, max_answer_tokens=3).start_token) == 4  # 4..6 fits
    short = best_span(starts, ends, OFFSETS, MASK, max_answer_tokens=2)  # 4..6 is 3 tokens: 5..6 wins
    assert (short.start_token, short.end_token, short.logit) == (5, 6, pytest.approx(4.0))
    one = best_span(starts, ends, OFFSETS, MASK, max_answer_tokens=1)
    assert one.start_token == one.end_token == 4 and one.logit == pytest.approx(3.0)


def test_question_and_special_tokens_are_never_chosen():
    huge = logits(p0=50.0, p1=50.0, p2=50.0, p3=50.0, p7=50.0)
    choice = best_span(huge, huge, OFFSETS, MASK)
    assert 4 <= choice.start_token <= choice.end_token <= 6
    assert 0.0 <= choice.score <= 1.0
    assert best_span(huge, huge, OFFSETS, np.zeros(8, bool)) is None  # no context token: no span


def test_best_span_in_second_of_two_overlapping_windows():
    # Context "a b c d e", tokens at characters 0,2,4,6,8. Window 0 holds a b c, window 1 holds c d e.
    mask = np.array([[0, 1, 1, 1, 0], [0, 1, 1, 1, 0]], bool)
    offsets = np.array([[[0, 0], [0, 1], [2, 3], [4, 5], [0, 0]],
                        [[0, 0], [4, 5], [6, 7], [8, 9], [0, 0]]])
    starts = np.array([[0, 1.0, 0, 0, 0], [0, 0, 4.0, 0, 0]])
    ends = np.array([[0, 0, 1.0, 0, 0], [0, 0, 0, 3.0, 0]])
    choice = best_span(starts, ends, offsets, mask)
    assert (choice.window, choice.start_token, choice.end_token) == (1, 2, 3)
    assert (choice.start_char, choice.end_char) == (6, 9)  # "d e" in the original context
    assert choice.logit == pytest.approx(7.0)


def test_tie_across_overlapping_windows_goes_to_the_first_window():
    # The same span "c" (characters 4-5) is token 3 of window 0 and token 1 of window 1, equally scored.
    mask = np.array([[0, 1, 1, 1, 0], [0, 1, 1, 1, 0]], bool)
    offsets = np.array([[[0, 0], [0, 1], [2, 3], [4, 5], [0, 0]],
                        [[0, 0], [4, 5], [6, 7], [8, 9], [0, 0]]])
    starts = np.array([[0, 0, 0, 2.0, 0], [0, 2.0, 0, 0, 0]])
    ends = starts.copy()
    choice = best_span(starts, ends, offsets, mask)
    assert (choice.window, choice.start_token, choice.start_char, choice.end_char) == (0, 3, 4, 5)
    # A strictly better score in the later window still wins.
    starts[1, 1] = 2.5
    assert best_span(starts, ends, offsets, mask).window == 1


def test_no_answer_when_null_score_wins_for_squad2_only():
    starts, ends = logits(p0=4.0, p5=1.0), logits(p0=4.0, p5=1.0)  # null 8 > best span 2
    squad2 = best_span(starts, ends, OFFSETS, MASK, allow_no_answer=True)
    assert not squad2.has_answer and (squad2.start_char, squad2.end_char) == (0, 0)
    assert squad2.logit == pytest.approx(8.0)
    squad1 = best_span(starts, ends, OFFSETS, MASK, allow_no_answer=False)
    assert squad1.has_answer and (squad1.start_token, squad1.end_token) == (5, 5)
    # Span beats null: the SQuAD2 model answers too.
    assert best_span(logits(p0=0.5, p5=1.0), logits(p0=0.5, p5=1.0), OFFSETS, MASK, allow_no_answer=True).has_answer


def test_null_score_is_the_minimum_over_windows():
    mask = np.vstack([MASK, MASK])
    offsets = np.stack([OFFSETS, OFFSETS])
    starts = np.vstack([logits(p0=5.0, p4=1.0), logits(p0=0.0, p4=1.0)])  # null 10 in window 0, 0 in 1
    ends = starts.copy()
    choice = best_span(starts, ends, offsets, mask, allow_no_answer=True)
    assert choice.has_answer and choice.logit == pytest.approx(2.0)  # min null 0 < span 2
    starts[1, 0] = ends[1, 0] = 1.5  # now the smallest null is 3 > 2: no answer, from window 1
    choice = best_span(starts, ends, offsets, mask, allow_no_answer=True)
    assert not choice.has_answer and choice.window == 1 and choice.logit == pytest.approx(3.0)


def test_confidence_is_the_softmax_product_within_the_window():
    starts, ends = logits(p5=2.0), logits(p6=1.0)
    choice = best_span(starts, ends, OFFSETS, MASK)
    p_start = np.exp(2.0) / (np.exp(2.0) + 2)  # softmax over context tokens 4, 5, 6 only
    p_end = np.exp(1.0) / (np.exp(1.0) + 2)
    assert choice.score == pytest.approx(p_start * p_end)
    with_null = best_span(starts, ends, OFFSETS, MASK, allow_no_answer=True)  # CLS joins the softmax
    assert with_null.score == pytest.approx(np.exp(2.0) / (np.exp(2.0) + 3) * np.exp(1.0) / (np.exp(1.0) + 3))
