"""The program for a summarization request: the Auto classes and `generate` (transformers 5 has no
summarization pipeline), with the checkpoint's own summarization settings, as the app reads them."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, header, literal, text


def code(request) -> str:
    ckpt = registry.task("summarization").checkpoint(request.model_id)
    chunks = ("chunks, and joins the chunk summaries" if not request.combine
              else "chunks and summarizes the chunk summaries again into one")
    return "\n".join([
        header(f"Summarization with {ckpt.label}", "torch", "transformers", "sentencepiece"),
        "import torch\nfrom transformers import AutoModelForSeq2SeqLM, AutoTokenizer\n",
        f"MODEL = {literal(request.model_id)}",
        f"TEXT = {text(request.text)}\n",
        DEVICE,
        "tokenizer = AutoTokenizer.from_pretrained(MODEL)",
        "model = AutoModelForSeq2SeqLM.from_pretrained(MODEL, dtype=dtype).to(device).eval()",
        "# The checkpoint's own summarization settings, as the transformers v4 pipeline used them: T5",
        '# keeps them in its config with the "summarize: " prefix it reads its task from; BART in its',
        "# generation config.",
        'settings = (model.config.task_specific_params or {}).get("summarization", {})',
        'prefix = settings.get("prefix") or ("summarize: " if model.config.model_type == "t5" else "")',
        "options = {key: value for key, value in settings.items()",
        '           if key in ("no_repeat_ngram_size", "length_penalty", "early_stopping")}\n',
        "# A text longer than the model's window (DistilBART 1,024 tokens, T5 512) is cut here; the app",
        f"# splits it at sentence boundaries into window-sized {chunks}.",
        'inputs = tokenizer([prefix + TEXT], return_tensors="pt", truncation=True).to(device)',
        "with torch.no_grad():",
        "    ids = model.generate(",
        f"        **inputs, num_beams={request.num_beams},",
        "        # Summary lengths in tokens; these count the decoder's start token too, hence + 1.",
        f"        min_length={min(request.min_length, request.max_length)} + 1, max_length={request.max_length} + 1,",
        "        **options,",
        "    )",
        "print(tokenizer.batch_decode(ids, skip_special_tokens=True)[0].strip())",
    ]) + "\n"
