"""The program for a code-completion request: the text-generation pipeline on raw code, cut at a stop sequence."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, header, literal, onnx_genai, text
from pipelines.reproduce.text_generation import generation


def code(request, runs_on: str = "") -> str:
    """`runs_on`: what answered in the app (the loaded model's engine and precision), "" for torch."""
    ckpt = registry.task("code-completion").checkpoint(request.model_id)
    stops = request.params.stop_sequences
    engine = onnx_genai.ran_on_engine(runs_on)
    lines = [
        header(f"Code completion with {ckpt.label}" + (f" on {runs_on}" if engine else ""),
               *(onnx_genai.PACKAGES if engine else ("torch", "transformers"))),
        onnx_genai.imports(request.params) if engine else "import torch\nfrom transformers import pipeline\n",
        f"MODEL = {literal(request.model_id)}",
        f"CODE = {text(request.code)}",
        f"STOPS = {literal(list(stops))}  # the completion ends before the first of these\n" if stops else "",
    ]
    if engine:
        lines += [
            onnx_genai.converted(runs_on),
            "# Code models continue the text as it is: no chat template, even for a chat model.",
            'ids = tokenizer(CODE)["input_ids"]',
            onnx_genai.generation(request.params, "ids", stops="STOPS" if stops else ""),
            "completion = reply",
        ]
    else:
        lines += [
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
