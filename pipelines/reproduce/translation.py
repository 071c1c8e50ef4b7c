"""The program for a translation request: opus-mt through the Auto classes and `generate` (transformers 5
has no translation pipeline), sentence by sentence as the app translates, through English when it pivots."""

from __future__ import annotations

from pipelines.families.seq2seq import BATCH_SIZE, split_sentences
from pipelines.reproduce import DEVICE, comment, header, literal, text
from pipelines.tasks.translation import name


def code(request) -> str:
    hops = request.hops
    route = " then ".join(c.label for c in hops)
    out = [
        header(f"Translation from {name(request.source)} to {name(request.target)} with {route}",
               "torch", "transformers", "sentencepiece"),
        "import torch\nfrom transformers import AutoModelForSeq2SeqLM, AutoTokenizer\n",
    ]
    if len(hops) == 1:
        out.append(f"MODEL = {literal(hops[0].repo_id)}")
    else:
        out += [comment(f"No opus-mt model translates {name(request.source)} to {name(request.target)}: the app "
                        "goes through English, so the errors of both models add up. It splits the English text "
                        "into sentences again before the second model; this program hands each sentence's English "
                        "on as it is, which is the same unless the first model made one sentence of two or two "
                        "of one."),
                f"MODELS = [{literal(hops[0].repo_id)}, {literal(hops[1].repo_id)}]"]
    simple = _simple(request.text)
    if simple:
        out.append(f"TEXT = {text(request.text)}")
    out += [f"BEAMS = {request.num_beams}\n", DEVICE, _translate_function(), "\n"]
    out += ["sentences = [TEXT.strip()]"] if simple else _sentences(request.text)
    if len(hops) == 1:
        out.append("translations = translate(MODEL, sentences)")
    else:
        out += ["translations = sentences", "for model_id in MODELS:",
                "    translations = translate(model_id, translations)"]
    out += _print(request.text)
    return "\n".join(out) + "\n"


def _translate_function() -> str:
    return f'''
def translate(model_id, sentences):
    """Translate a list of sentences with one opus-mt model (one language pair per model)."""
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_id, dtype=dtype).to(device).eval()
    window = model.config.max_position_embeddings  # Marian reads and writes at most 512 tokens
    translations = [""] * len(sentences)
    # The app translates {BATCH_SIZE} sentences per call, shortest first, so that little padding is computed.
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for start in range(0, len(order), {BATCH_SIZE}):
        batch = order[start:start + {BATCH_SIZE}]
        inputs = tokenizer([sentences[i] for i in batch], return_tensors="pt", padding=True,
                           truncation=True, max_length=window).to(device)
        longest = int(inputs["attention_mask"].sum(dim=1).max())
        # A translation may grow to about twice its input (German often takes more words).
        # max_length counts the decoder's start token too, hence + 1.
        limit = min(window - 1, 2 * longest + 16) + 1
        with torch.no_grad():
            ids = model.generate(**inputs, num_beams=BEAMS, max_length=limit)
        for i, translated in zip(batch, tokenizer.batch_decode(ids, skip_special_tokens=True)):
            translations[i] = translated.strip()
    return translations'''.rstrip("\n")


def _layout(value: str) -> list[tuple[str, list[str]]]:
    """Each line's indentation and sentences, as the app cuts the text (pipelines.tasks.translation)."""
    out = []
    for line in value.strip("\n").splitlines():
        sentences = split_sentences(line)
        out.append((line[:len(line) - len(line.lstrip())] if sentences else "", sentences))
    return out


def _simple(value: str) -> bool:
    """One sentence on one line: the text is the sentence."""
    layout = _layout(value)
    return len(layout) == 1 and len(layout[0][1]) <= 1 and not layout[0][0]


def _sentences(value: str) -> list[str]:
    """Code with the text split as the app splits it: sentence by sentence, line by line."""
    layout = _layout(value)
    out = [
        "# The app translates each sentence on its own (opus-mt was trained on sentences) and keeps your",
        "# line breaks. Your text, as the app split it: its sentences, line by line (the app also halves a",
        "# sentence of over 256 tokens).",
        f"lines = {_list_literal([sentences for _, sentences in layout])}",
    ]
    if any(indent for indent, _ in layout):
        out.append(f"indents = {literal([indent for indent, _ in layout])}  # each line's indentation, kept")
    return out + ["sentences = [sentence for line in lines for sentence in line]"]


def _list_literal(lines: list[list[str]]) -> str:
    if sum(len(literal(line)) for line in lines) < 80:
        return literal(lines)
    return "[\n" + "".join(f"    {literal(line)},\n" for line in lines) + "]"


def _print(value: str) -> list[str]:
    layout = _layout(value)
    if _simple(value):
        return ["print(translations[0])"]
    joined = '" ".join(t for t in (next(done) for _ in line) if t)'
    if any(indent for indent, _ in layout):
        return ["done = iter(translations)", "for indent, line in zip(indents, lines):",
                f'    print(indent + {joined} if line else "")']
    return ["done = iter(translations)", "for line in lines:", f"    print({joined})"]
