"""One contract over the registry: every public endpoint of every task, through the launched app.

For each endpoint the registry declares (pipelines/core/registry.py), on the tiny miniatures:
1. its example call answers;
2. the same call with its first parameter empty is refused with a sentence written for a person
   (not a stack trace, not the generic "something went wrong"), and the app goes on serving;
3. the answer is the pinned one: seeded miniature outputs are fixed, so a change that alters every
   output (a loading step, a preprocessing step, a decoding default) shows up here. The pins are small
   summaries in tests/pinned_outputs.json: texts exactly, numbers to 6 significant digits, compared
   within 0.1 % (so that a different thread count's float rounding is no change, while a rescaled
   probability is); after a deliberate change rewrite them with
   PLAYGROUND_UPDATE_PINS=1 pytest tests/test_contract.py   (and say why in the commit).
A new task needs no edit here: its registry entry is the test case.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest

from tests.api_contract import ENDPOINTS
from tests.conftest import ROOT

PINS = Path(__file__).with_name("pinned_outputs.json")
# The pinned outputs are torch's (--engine torch): the fast CPU engines' int4/int8 kernels differ by CPU
# (AVX2, AVX-512, VNNI), so their outputs on a random miniature could differ on another machine's CI. The
# engines' own paths are tested in tests/test_engines.py, test_engine_speech.py and test_reproduce.py.
APP_SETTINGS = {"engine": "torch"}
UPDATE = os.environ.get("PLAYGROUND_UPDATE_PINS") == "1"
GENERIC_FAILURE = "Something went wrong"


def call_args(example: dict) -> dict:
    """The example's arguments, with files under the repo root handed over as uploads."""
    from gradio_client import handle_file

    return {name: handle_file(str(ROOT / value)) if isinstance(value, str) and value.startswith("assets/")
            else value for name, value in example.items()}


def summary(value, depth: int = 0):
    """A small, stable picture of one output: texts, rounded numbers, image statistics; no timings."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, (int, bool)) or value is None:
        return value
    if isinstance(value, str):
        path = Path(value)
        if len(value) < 4096 and path.is_absolute() and path.is_file():
            return file_summary(path)
        return value[:300]
    if isinstance(value, (list, tuple)):
        return [summary(v, depth + 1) for v in value[:5]]
    if isinstance(value, dict):
        if "path" in value and isinstance(value.get("path"), str):
            return summary(value["path"], depth)
        return {k: summary(v, depth + 1) for k, v in list(value.items())[:12] if k not in ("plot",)}
    return type(value).__name__


def file_summary(path: Path):
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
        import numpy as np
        from PIL import Image

        pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
        return {"size": list(pixels.shape[:2]), "mean": [round(float(m), 1) for m in pixels.mean(axis=(0, 1))]}
    text = path.read_text(encoding="utf-8", errors="replace")
    return {"lines": text.count("\n"), "head": text[:200]}


def same(pinned, got) -> bool:
    """Equal, numbers within 0.1 % (see the module docstring)."""
    if isinstance(pinned, float) or isinstance(got, float):
        return isinstance(got, (int, float)) and math.isclose(pinned, got, rel_tol=1e-3, abs_tol=1e-12)
    if isinstance(pinned, list) and isinstance(got, list):
        return len(pinned) == len(got) and all(same(a, b) for a, b in zip(pinned, got))
    if isinstance(pinned, dict) and isinstance(got, dict):
        return pinned.keys() == got.keys() and all(same(pinned[k], got[k]) for k in pinned)
    return pinned == got


def test_the_comparison_catches_a_rescaled_probability_but_not_float_noise():
    assert same({"p": [0.25, "cat"]}, {"p": [0.2500001, "cat"]})
    assert not same({"p": [0.25, "cat"]}, {"p": [0.2503, "cat"]})
    assert not same({"p": [0.25, "cat"]}, {"p": [0.25, "dog"]}) and not same([0.25], [0.25, 0.5])


def answer_outputs(result) -> list:
    """The outputs to pin: all but the Markdown status line (which carries timings)."""
    outputs = list(result) if isinstance(result, (list, tuple)) else [result]
    return outputs[:-1] if len(outputs) > 1 else outputs


@pytest.fixture(scope="module")
def pins():
    stored = json.loads(PINS.read_text(encoding="utf-8")) if PINS.is_file() else {}
    yield stored
    if UPDATE:
        PINS.write_text(json.dumps(stored, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


@pytest.mark.parametrize("spec, endpoint", ENDPOINTS, ids=[e.api_name for _, e in ENDPOINTS])
def test_endpoint_answers_refuses_bad_input_with_a_sentence_and_keeps_serving(client, pins, spec, endpoint):
    assert endpoint.example, f"{spec.id}: {endpoint.api_name} declares no example call in the registry"
    result = client.predict(**call_args(endpoint.example), api_name=endpoint.api_name)
    outputs = answer_outputs(result)
    assert any(o not in (None, "", [], {}) for o in outputs), f"{endpoint.api_name} answered nothing: {result}"

    bad = {**endpoint.example, endpoint.params[0]: None if str(endpoint.example[endpoint.params[0]]).startswith(
        "assets/") else ""}
    with pytest.raises(Exception) as refused:
        client.predict(**call_args(bad), api_name=endpoint.api_name)
    message = str(refused.value)
    assert GENERIC_FAILURE not in message and "Traceback" not in message, message
    assert re.search(r"[A-Z][^.!?]{10,}[.!?:]", message), f"not a sentence: {message!r}"

    again = answer_outputs(client.predict(**call_args(endpoint.example), api_name=endpoint.api_name))
    assert summary(again) == summary(outputs), "the same seeded call gave another answer"

    if UPDATE:
        pins[endpoint.api_name] = summary(outputs)
    assert endpoint.api_name in pins, f"no pinned output for {endpoint.api_name}: run with PLAYGROUND_UPDATE_PINS=1"
    got = json.loads(json.dumps(summary(outputs)))
    assert same(pins[endpoint.api_name], got), f"{endpoint.api_name}: {got} is not the pinned {pins[endpoint.api_name]}"


NUMBER_COMPONENTS = ("Number", "Slider")


@pytest.mark.parametrize("spec, endpoint", ENDPOINTS, ids=[e.api_name for _, e in ENDPOINTS])
def test_a_number_setting_that_is_not_a_number_gets_a_sentence(client, spec, endpoint):
    """Every Number/Slider parameter sent as text through the API reaches the pipeline's checks, which name
    the setting, instead of failing inside Gradio's preprocessing with its generic message."""
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint.api_name]
    numeric = [p["parameter_name"] for p in params["parameters"] if p["component"] in NUMBER_COMPONENTS]
    for name in numeric:
        with pytest.raises(Exception) as refused:
            client.predict(**call_args({**endpoint.example, name: "abc"}), api_name=endpoint.api_name)
        message = str(refused.value)
        assert GENERIC_FAILURE not in message and "upstream Gradio app" not in message, f"{name}: {message}"
        assert "got abc" in message, f"{endpoint.api_name}({name}='abc'): {message!r}"
