"""The program for a text-generation request: transformers' text-generation pipeline, the app's settings."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.families.causal_lm import GenerationParams
from pipelines.reproduce import DEVICE, header, literal, number, onnx_genai, text


def code(request, runs_on: str = "") -> str:
    """`runs_on`: what answered in the app (the loaded model's engine and precision), "" for torch."""
    ckpt = registry.task("text-generation").checkpoint(request.model_id)
    chat = request.use_chat_template and "chat" in ckpt.traits
    if onnx_genai.ran_on_engine(runs_on):
        return _on_engine(request, ckpt, chat, runs_on)
    lines = [
        header(f"Text generation with {ckpt.label}", "torch", "transformers"),
        "import torch\nfrom transformers import pipeline\n",
        f"MODEL = {literal(request.model_id)}",
        f"PROMPT = {text(request.prompt)}\n",
        DEVICE,
        'generator = pipeline("text-generation", model=MODEL, device=device, dtype=dtype)',
        generation(request.params, "PROMPT", chat),
    ]
    if chat:
        lines.append('print(result[0]["generated_text"][-1]["content"])  # the reply, as the app shows it')
    else:
        lines.append('print(result[0]["generated_text"])  # the continuation (the prompt not included)')
    return "\n".join(lines) + "\n"


def _on_engine(request, ckpt, chat: bool, runs_on: str) -> str:
    lines = [
        header(f"Text generation with {ckpt.label} on {runs_on}", *onnx_genai.PACKAGES),
        onnx_genai.imports(request.params),
        f"MODEL = {literal(request.model_id)}",
        f"PROMPT = {text(request.prompt)}\n",
        onnx_genai.converted(runs_on),
    ]
    if chat:
        lines.append("# A chat model answers: the prompt goes into the model's chat template.")
        lines.append('ids = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}], '
                     'add_generation_prompt=True,\n                                    return_dict=True)["input_ids"]')
    else:
        lines.append('ids = tokenizer(PROMPT)["input_ids"]')
    lines += [onnx_genai.generation(request.params, "ids"), "print(reply)  # the continuation, as the app shows it"]
    return "\n".join(lines) + "\n"


def generation(params: GenerationParams, prompt: str, chat: bool, stops: str = "") -> str:
    """The seed and the pipeline call with the app's decoding settings (shared with code completion);
    `stops`: the expression for the stop sequences (default: their list written out)."""
    out = []
    if params.do_sample:
        out.append(f"torch.manual_seed({params.seed})  # the app's seed: the same seed and settings give the same text")
        decoding = (f"do_sample=True, temperature={number(params.temperature)}, top_p={number(params.top_p)}, "
                    f"top_k={params.top_k},")
        if params.top_k == 0:
            decoding += "  # top_k=0: no top-k limit"
    else:
        decoding = "do_sample=False,  # greedy: always the likeliest token, the same text every time"
    if chat:
        out.append("# A chat model answers: the pipeline wraps the prompt in the model's chat template.")
        prompt = f'[{{"role": "user", "content": {prompt}}}]'
    call = [f"result = generator(\n    {prompt},", f"    max_new_tokens={params.max_new_tokens},",
            f"    {decoding}", f"    repetition_penalty={number(params.repetition_penalty)},"]
    if params.min_new_tokens:
        call.append(f"    min_new_tokens={params.min_new_tokens},")
    if params.stop_sequences:
        stop_strings = stops or literal(list(params.stop_sequences))
        call.append(f"    stop_strings={stop_strings},  # generation ends on the token that completes one")
        call.append("    tokenizer=generator.tokenizer,  # generate() needs it to find the stop strings")
    if not chat:
        call.append("    return_full_text=False,")
    out.append("\n".join(call) + "\n)")
    return "\n".join(out)
