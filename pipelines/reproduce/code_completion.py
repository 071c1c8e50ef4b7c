"""The program for a code-completion request: the text-generation pipeline on raw code, cut at a stop sequence."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, header, literal, text
from pipelines.reproduce.text_generation import generation


def code(request) -> str:
    ckpt = registry.task("code-completion").checkpoint(request.model_id)
    stops = request.params.stop_sequences
    lines = [
        header(f"Code completion with {ckpt.label}", "torch", "transformers"),
        "import torch\nfrom transformers import pipeline\n",
        f"MODEL = {literal(request.model_id)}",
        f"CODE = {text(request.code)}",
        f"STOPS = {literal(list(stops))}  # the completion ends before the first of these\n" if stops else "",
        DEVICE,
        'generator = pipeline("text-generation", model=MODEL, device=device, dtype=dtype)',
        "# Code models continue the text as it is: no chat template, even for a chat model.",
        generation(request.params, "CODE", chat=False, stops="STOPS" if stops else ""),
        'completion = result[0]["generated_text"]',
    ]
    if stops:
        lines += [
            "# generate() stopped on the token that completed a stop sequence: cut the text before it.",
            "found = [completion.find(stop) for stop in STOPS if stop in completion]",
            "if found:",
            "    completion = completion[:min(found)]",
        ]
    lines.append("print(CODE + completion)  # your code followed by its completion, as the app shows it")
    return "\n".join(line for line in lines if line != "") + "\n"
