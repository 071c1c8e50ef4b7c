"""Input checks, written once with one wording, so every tab refuses bad input the same way.

Each returns the cleaned value or raises UserInputError with a sentence naming the setting (as the
page labels it), the allowed range or choices, and what was given:

    whole_number("Beams", 9, 1, 8)         -> "Beams must be a whole number from 1 to 8; got 9."
    number("Temperature", 0, 0.01, 5.0)    -> "Temperature must be a number from 0.01 to 5.0; got 0."
    choice("Task", "sing", ("transcribe", "translate"))
                                           -> "Unknown task 'sing'. Choose one of: transcribe, translate."
    text("prompt", "", 20_000, empty="Type a prompt first, for example: Once upon a time,")

Also the one shape of a progress callback: `progress(fraction_done, message)`.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

from pipelines.core.errors import UserInputError

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """The default progress callback: report nothing."""


def _as_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def whole_number(label: str, value, low: int, high: int, hint: str = "") -> int:
    """`value` as an int if it is a whole number in [low, high]."""
    number = _as_number(value)
    if number is None or not number.is_integer() or not low <= number <= high:
        raise UserInputError(f"{label} must be a whole number from {low:,} to {high:,}; got {value}."
                             + (f" {hint}" if hint else ""))
    return int(number)


def number(label: str, value, low: float, high: float, hint: str = "") -> float:
    """`value` as a float if it is a finite number in [low, high]."""
    found = _as_number(value)
    if found is None or not low <= found <= high:
        raise UserInputError(f"{label} must be a number from {low} to {high}; got {value}."
                             + (f" {hint}" if hint else ""))
    return found


def choice(label: str, value, choices: Iterable[str], hint: str = "") -> str:
    """`value` if it is one of `choices` (compared without case or surrounding spaces)."""
    options = list(choices)
    key = str(value if value is not None else "").strip().lower()
    for option in options:
        if key == option.lower():
            return option
    raise UserInputError(f"Unknown {label.lower()} {value!r}. Choose one of: {', '.join(options)}."
                         + (f" {hint}" if hint else ""))


def yes_no(label: str, value) -> bool:
    """A tick box's value: True/False (or, from an API call, "true"/"false", 1/0)."""
    if isinstance(value, bool):
        return value
    key = str(value).strip().lower()
    if key in ("true", "1", "yes"):
        return True
    if key in ("false", "0", "no", "none", ""):
        return False
    raise UserInputError(f"{label} must be true or false; got {value!r}.")


def text(what: str, value, limit: int, empty: str, advice: str = "Shorten it.", strip: bool = True) -> str:
    """A non-empty text within the character limit (settings.max_input_chars, usually).

    `empty` is the sentence for a missing text (say what to type, with an example). The text comes
    back stripped unless strip=False (when offsets must point into it as given)."""
    if not isinstance(value, str) and value is not None:
        raise UserInputError(f"The {what} must be text; got {type(value).__name__}.")
    given = value or ""
    if not given.strip():
        raise UserInputError(empty)
    check_length(given, limit, what, advice)
    return given.strip() if strip else given


def check_length(value: str, limit: int, what: str, advice: str = "Shorten it.") -> None:
    """Refuse a text over the character limit, saying by how much and what to do."""
    if len(value) > limit:
        raise UserInputError(f"The {what} is {len(value):,} characters; the limit is {limit:,}. {advice}")
