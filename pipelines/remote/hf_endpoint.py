"""A Hugging Face Inference Endpoint as the model, through `huggingface_hub.InferenceClient`'s task methods.

The payloads are the Inference API's (`{"inputs": ..., "parameters": {...}}`, images as bytes or base64),
answered by a dedicated endpoint, a TGI/TEI deployment or the HF router. Each function takes a task's
checked request and returns that task's own result type, so its tab shows it as it shows a local one.
What the protocol does not report (token counts, windows read) is 0 in those results.

Offline mode: huggingface_hub refuses every URL, loopback included, when HF_HUB_OFFLINE=1 (read once at
import). A deployment with remote endpoints is online; if it is not, the tab says so in a sentence.
"""

from __future__ import annotations

import io

from pipelines.core.checks import Progress, no_progress
from pipelines.remote import Call, model_url, token

# What a summary may read at most when the engine truncates for us: beyond this many characters
# (about a 1,000-token window) the status line says the end may not have been read.
LONG_TEXT_CHARS = 4_000


def _client(models):
    """One InferenceClient per task view, reused by its requests."""
    def build():
        from huggingface_hub import InferenceClient

        return InferenceClient(token=token(models.settings), timeout=models.settings.remote_timeout_s)

    return models.client("inference", build)


def _waiting(progress: Progress, what: str) -> None:
    progress(0.0, f"{what} on the serving engine…")


def translate(models, request, progress: Progress = no_progress):
    """Line by line (blank lines and indentation kept), one call per line and hop: a pair without a direct
    model goes through English as it does here, each hop to its own model's URL ({model} in it)."""
    from pipelines.families.seq2seq import split_sentences
    from pipelines.tasks.translation import Translation, name

    lines = request.text.strip("\n").splitlines()
    work = [i for i, line in enumerate(lines) if line.strip()]
    out = list(lines)
    client, total = _client(models), max(1, len(work) * len(request.hops))
    for hop, ckpt in enumerate(request.hops):
        src, tgt = ckpt.languages
        url = model_url(models.remote, ckpt.repo_id)
        for done, i in enumerate(work):
            progress((hop * len(work) + done) / total, f"{name(src)}→{name(tgt)} on the serving engine: "
                                                       f"line {done + 1} of {len(work)}")
            indent = out[i][:len(out[i]) - len(out[i].lstrip())]
            with Call(models):
                answer = client.translation(out[i].strip(), model=url, src_lang=src, tgt_lang=tgt)
                out[i] = indent + _text(answer, "translation_text")
    kept = set(work)
    out = [line if i in kept else "" for i, line in enumerate(out)]  # whitespace-only lines: empty
    notes = ()
    if len(request.hops) > 1:
        first, second = (c.repo_id.split("/")[-1] for c in request.hops)
        notes = (f"No direct {name(request.source)}→{name(request.target)} model: translated through English "
                 f"({first}, then {second}), so errors of both models add up.",)
    sentences = sum(len(split_sentences(lines[i])) for i in work)
    return Translation("\n".join(out), request.source, request.target, tuple(c.repo_id for c in request.hops),
                       sentences, notes)


def summarize(models, request, progress: Progress = no_progress):
    """One call: the engine reads what its window holds (truncating the rest) and writes one summary."""
    from pipelines.tasks.summarization import Summary

    _waiting(progress, "Summarizing")
    parameters = {"min_new_tokens": request.min_length, "max_new_tokens": request.max_length,
                  "num_beams": request.num_beams}
    with Call(models):
        answer = _client(models).summarization(request.text, model=model_url(models.remote, request.model_id),
                                               generate_parameters=parameters, truncation="longest_first")
        text = _text(answer, "summary_text")
    notes = ()
    if len(request.text) > LONG_TEXT_CHARS:
        notes = (f"The serving engine reads the text in one window and cuts what does not fit: this text "
                 f"({len(request.text):,} characters) may have been summarized without its end. Summarize it "
                 "in parts to cover all of it.",)
    return Summary(text, 0, 0, 1, False, 0, notes=notes)


def answer(models, request, progress: Progress = no_progress):
    """The span the engine picks; its offsets are checked against the context (and found again if off)."""
    from pipelines.tasks.question_answering import Answer

    _waiting(progress, "Reading the context")
    allow_none = "no-answer" in models.checkpoint(request.model_id).traits
    with Call(models):
        found = _client(models).question_answering(
            request.question, request.context, model=model_url(models.remote, request.model_id),
            max_answer_len=request.max_answer_tokens, handle_impossible_answer=allow_none)
        found = found[0] if isinstance(found, list) else found
        text, score = str(found.answer), float(found.score)
        start, end = int(found.start), int(found.end)
    if not text.strip():
        return Answer("", 0, 0, score, False, 0)
    context = request.context
    if context[start:end] != text:  # some servers count offsets differently: find the answer itself
        start = context.find(text)
        if start < 0:  # not a passage of the context at all: show it as the engine said it, unplaced
            return Answer(text, 0, 0, score, True, 0)
        end = start + len(text)
    return Answer(context[start:end], start, end, score, True, 0)


def classify(models, request):
    """ImageNet classes of the picture, best first (each request is its own batch of one)."""
    from pipelines.tasks.image_classification import Result

    with Call(models):
        found = _client(models).image_classification(_jpeg(request.picture), top_k=request.top_k,
                                                     model=model_url(models.remote, request.model_id))
        scores = {str(e.label): float(e.score) for e in found}
    return Result(dict(sorted(scores.items(), key=lambda kv: -kv[1])[:request.top_k]), 1)


def zero_shot(models, request) -> dict[str, float]:
    """Probability of each candidate text for the picture, best first: CLIP zero-shot labels, and caption
    ranking, which is the same computation. The texts go as they are (the template already applied)."""
    with Call(models):
        found = _client(models).zero_shot_image_classification(
            _jpeg(request.picture), list(request.prompts), hypothesis_template="{}",
            model=model_url(models.remote, request.model_id))
        by_prompt = {str(e.label): float(e.score) for e in found}
        probs = {name: by_prompt[prompt] for name, prompt in zip(request.names, request.prompts)}
    return dict(sorted(probs.items(), key=lambda kv: -kv[1]))


def text_to_image(models, request, progress: Progress = no_progress, stop=None):
    """One picture from the engine. Stop before the call skips it; a call under way runs to its end."""
    import time

    from pipelines.tasks.text_to_image import ImageResult

    params = request.params
    if stop is not None and stop.is_set():
        return ImageResult(None, 0, params.steps, True, "", 0.0)
    _waiting(progress, "Making the picture")
    started = time.perf_counter()
    with Call(models):
        image = _client(models).text_to_image(
            request.prompt, negative_prompt=params.negative_prompt or None, width=params.width,
            height=params.height, num_inference_steps=params.steps, guidance_scale=params.guidance,
            seed=params.seed, model=model_url(models.remote, request.model_id))
        image.load()
    progress(1.0, "Done")
    return ImageResult(image.convert("RGB"), params.steps, params.steps, False, "the serving engine",
                       time.perf_counter() - started)


def _text(answer, field: str) -> str:
    """A text field of a task output (some servers answer with a one-item list)."""
    answer = answer[0] if isinstance(answer, list) else answer
    value = getattr(answer, field, None)
    if value is None and isinstance(answer, dict):
        value = answer.get(field)
    if not isinstance(value, str):
        raise ValueError(f"no {field} in the answer")
    return value


def _jpeg(picture) -> bytes:
    """The checked RGB picture as JPEG bytes: a tenth of PNG's size for photos, same labels."""
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()
