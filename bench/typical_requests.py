"""The typical request of each tab that bench/cpu_latency.py times, through our pipeline functions.

Inputs come from assets/: the example prompts, the 710-word question-answering context, the first
sentences of the long example article (about 600 BART tokens), the first 10 s of long_speech.wav, the
144-point monthly series, the bundled pictures. Output lengths are fixed, so that random weights cost
what real ones do: min_new_tokens = max_new_tokens for generation, min_length = max_length for
summarization (both are settings of the tab); translation has no length setting, so its model's
`generate` gets them from a wrapper (`fixed_translation_length`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable

ASSETS = Path(__file__).resolve().parent.parent / "assets"
EXAMPLES = json.loads((ASSETS / "texts" / "examples.json").read_text(encoding="utf-8"))
TRANSLATE = ("Next month we are going to visit my parents in the mountains. "
             "There is a small hotel near the lake, and the rooms are not expensive.")
TRANSLATION_TOKENS = 32  # per sentence, </s> included: German takes ~1.2x the ~20 English tokens
SUMMARY_TOKENS = 60


@dataclass
class Case:
    task: str
    repo_id: str
    request: str  # what one request is, for the table
    run: Callable  # run(task_models) -> (output units, unit name[, a note on the output])
    extra: bool = False  # not a default checkpoint (not counted in the memory sum)
    before_each: Callable | None = None  # before_each(task_models): e.g. empty a cache


def generation(task: str, repo_id: str, prompt: str, tokens: int):
    """Exactly `tokens` new tokens (min = max): a random model's end-of-text comes at random."""
    def run(models):
        from pipelines.families.causal_lm import GenerationParams
        from pipelines.tasks import code_completion, text_generation

        if task == "code-completion":
            params = replace(code_completion.DEFAULTS, max_new_tokens=tokens, min_new_tokens=tokens,
                             stop_sequences=())  # a fixed length: no stop sequence may end it early
            parts = list(code_completion.complete(models, prompt, repo_id, params))
        else:
            params = GenerationParams(max_new_tokens=tokens, min_new_tokens=tokens)
            parts = list(text_generation.generate(models, prompt, repo_id, params))
        return parts[-1].new_tokens, "tokens"
    return run


def translate(models):
    from pipelines.tasks import translation

    result = translation.translate(models, TRANSLATE, "en", "de", num_beams=4)
    return result.sentences * TRANSLATION_TOKENS, "tokens"


def fixed_translation_length(models):
    """translate() has no length setting: make its model's generate decode exactly N tokens per text."""
    model = models.get().bundle.model
    if not hasattr(model, "_unfixed_generate"):
        model._unfixed_generate = model.generate

        def generate(*args, **kwargs):
            kwargs.update(min_length=TRANSLATION_TOKENS + 1, max_length=TRANSLATION_TOKENS + 1)
            return model._unfixed_generate(*args, **kwargs)
        model.generate = generate


def article(tokens: int = 600) -> tuple[str, int]:
    """The first sentences of the long example article, up to `tokens` BART (GPT-2 BPE) tokens."""
    from transformers import GPT2TokenizerFast

    from pipelines.families.seq2seq import split_sentences
    from pipelines.miniatures.text_tokenizers import gpt2_files

    vocab, merges = gpt2_files()
    tokenizer = GPT2TokenizerFast(vocab=str(vocab), merges=str(merges))
    text, count = "", 0
    for sentence in split_sentences(EXAMPLES["summarization"][1]["text"].replace("\n", " ")):
        longer = f"{text} {sentence}".strip()
        n = len(tokenizer(longer)["input_ids"])
        if n > tokens:
            break
        text, count = longer, n
    return text, count


def clip_10s(folder: Path) -> Path:
    """The first 10 s of assets/audio/long_speech.wav (11,025 Hz; our decoder resamples it)."""
    import soundfile

    samples, rate = soundfile.read(ASSETS / "audio" / "long_speech.wav", dtype="int16")
    path = folder / "speech_10s.wav"
    soundfile.write(path, samples[: 10 * rate], rate, subtype="PCM_16")
    return path


def summarize(models, text: str):
    from pipelines.tasks import summarization

    result = summarization.summarize(models, text, min_length=SUMMARY_TOKENS,
                                     max_length=SUMMARY_TOKENS, num_beams=4)
    assert result.chunks == 1 and result.summary_tokens >= SUMMARY_TOKENS - 2, result  # <s>, </s> not counted
    return SUMMARY_TOKENS, "tokens"


def answer(models):
    from pipelines.tasks import question_answering

    item = next(q for q in EXAMPLES["question_answering"] if len(q["context"].split()) > 500)
    return question_answering.answer(models, item["question"], item["context"]).windows, "windows"


def classify(models):
    from pipelines.tasks import image_classification

    image_classification.classify(models, str(ASSETS / "images" / "dog_park.jpg"))
    return 1, "image"


def zero_shot(models):
    from pipelines.tasks import clip_retrieval

    clip_retrieval.zero_shot(models, str(ASSETS / "images" / "cat.png"), "cat, dog, car")
    return 1, "image"


def search(models):
    from pipelines.tasks import clip_retrieval

    return len(clip_retrieval.search_images(models, "a dog playing in a park")), "images"


def empty_gallery_cache(models):
    from pipelines.tasks.clip_retrieval import EMBEDDINGS, ImageEmbeddingCache

    models.get().bundle.extras[EMBEDDINGS] = ImageEmbeddingCache()


def transcribe(models, path: Path):
    from pipelines.tasks import speech

    result = speech.transcribe(models, str(path))
    return result.duration_s, "s of audio", f"{result.language}: {result.text[:70]}"


def forecast(models):
    from pipelines.tasks import forecasting

    result = forecasting.forecast(models, str(ASSETS / "series" / "monthly_airline_style.csv"), horizon=24)
    return result.horizon, "steps"


def cases(tmp: Path) -> list[Case]:
    """One Case per request; several may share a checkpoint (loaded once)."""
    smol, code = EXAMPLES["generation"][4], EXAMPLES["code"][1]
    text, text_tokens = article()
    audio = clip_10s(tmp)
    return [
        Case("text-generation", "HuggingFaceTB/SmolLM2-135M-Instruct", "chat prompt, 64 new tokens (sampling)",
             generation("text-generation", "HuggingFaceTB/SmolLM2-135M-Instruct", smol, 64)),
        Case("text-generation", "openai-community/gpt2", "\"Once upon a time,\", 64 new tokens (sampling)",
             generation("text-generation", "openai-community/gpt2", "Once upon a time,", 64), extra=True),
        Case("code-completion", "bigcode/tiny_starcoder_py", "fibonacci stub, 48 new tokens (greedy)",
             generation("code-completion", "bigcode/tiny_starcoder_py", code, 48)),
        Case("translation", "Helsinki-NLP/opus-mt-en-de",
             f"2 sentences en→de, beam 4, {TRANSLATION_TOKENS} tokens each", translate,
             before_each=fixed_translation_length),
        Case("summarization", "sshleifer/distilbart-cnn-12-6",
             f"{text_tokens}-token article → {SUMMARY_TOKENS} tokens, beam 4", partial(summarize, text=text)),
        Case("question-answering", "distilbert/distilbert-base-cased-distilled-squad",
             "question over a 710-word context", answer),
        Case("image-classification", "google/vit-base-patch16-224", "one 512x384 photo, top 5", classify),
        Case("clip", "openai/clip-vit-base-patch32", "zero-shot, 1 image x 3 labels", zero_shot),
        Case("clip", "openai/clip-vit-base-patch32", "gallery search, 6 images (empty cache)", search,
             before_each=empty_gallery_cache),
        Case("clip", "openai/clip-vit-base-patch32", "gallery search, 6 images (cached)", search),
        Case("speech", "openai/whisper-base", "10 s of speech, detect language, timestamps",
             partial(transcribe, path=audio)),
        Case("forecasting", "amazon/chronos-bolt-small", "144 monthly points → 24 steps", forecast),
    ]

