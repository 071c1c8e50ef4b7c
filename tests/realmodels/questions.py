"""A fixed set of short factual and code prompts with what a correct answer contains: the real-weight check that
a faster path keeps SmolLM2-135M-Instruct's answers (issue 11: at least as many right as float32 torch).

A prompt counts as answered when the reply contains one of its accepted strings (case-insensitive). Greedy
decoding, 40 new tokens, the chat template: the app's chat path with its randomness switched off, so a
comparison of two engines compares their arithmetic, not their samplers. The set mixes what the small model
knows and what it gets wrong in float32 (a set it always passes could not show a loss).
"""

from __future__ import annotations

QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What is the capital of France?", ("paris",)),
    ("What is the capital of Japan?", ("tokyo",)),
    ("What is the capital of Italy?", ("rome",)),
    ("What is the capital of Germany?", ("berlin",)),
    ("What is the capital of Spain?", ("madrid",)),
    ("What is the largest planet in our solar system?", ("jupiter",)),
    ("Which planet is known as the Red Planet?", ("mars",)),
    ("What is the chemical symbol for water?", ("h2o", "h₂o")),
    ("How many days are there in a week?", ("seven", "7")),
    ("What gas do plants take in from the air for photosynthesis?", ("carbon dioxide", "co2")),
    ("Who wrote the play Romeo and Juliet?", ("shakespeare",)),
    ("What is the freezing point of water in degrees Celsius?", ("0", "zero")),
    ("What is the largest ocean on Earth?", ("pacific",)),
    ("On which continent is Egypt?", ("africa",)),
    ("Write a Python function that returns the sum of two numbers a and b.", ("return a + b", "return a+b")),
    ("In Python, which keyword defines a function?", ("def",)),
    ("Write a Python expression that gives the length of a list called items.", ("len(items)",)),
    ("Which Python keyword starts a loop over the items of a list?", ("for",)),
    ("Write a line of Python that prints Hello, World!", ("print(",)),
    ("In Python, what does the expression 2 ** 3 evaluate to?", ("8",)),
)
MAX_NEW_TOKENS = 40


def correct(reply: str, accepted: tuple[str, ...]) -> bool:
    text = reply.lower()
    return any(answer in text for answer in accepted)


def score(answer) -> tuple[int, list[tuple[str, str, bool]]]:
    """`answer(question) -> reply` over the set: (number right, [(question, reply, right)])."""
    rows = []
    for question, accepted in QUESTIONS:
        reply = answer(question)
        rows.append((question, reply, correct(reply, accepted)))
    return sum(right for _, _, right in rows), rows
