"""The program for a speech request: transformers' automatic-speech-recognition pipeline with Whisper, the
language detected as the app detects it, and the app's decoding settings."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, file_name, header
from pipelines.tasks.speech import MAX_NEW_TOKENS, WINDOW_S, language_name

SAMPLE_RATE = 16_000


def code(request, audio: str | None = None) -> str:
    ckpt = registry.task("speech").checkpoint(request.model_id)
    what = "Speech translated to English" if request.task == "translate" else "Speech transcribed"
    long_form = request.samples is not None and request.samples.size > WINDOW_S * SAMPLE_RATE
    lines = [
        header(f"{what} with {ckpt.label}", "torch", "transformers") + "# and ffmpeg (apt install ffmpeg)\n",
        "import torch\nfrom transformers import pipeline\nfrom transformers.models.whisper.tokenization_whisper import "
        "LANGUAGES\nfrom transformers.pipelines.audio_utils import ffmpeg_read\n",
        f"MODEL = {request.model_id!r}",
        f"AUDIO = {file_name(audio)!r}  # put your recording here (the app ran on this file)",
        f"TASK = {request.task!r}  # transcribe: in the spoken language; translate: into English",
        (f"LANGUAGE = {request.language!r}  # {language_name(request.language)}, as chosen"
         if request.language else "LANGUAGE = None  # None: detect it, as the app did"),
        f"TIMESTAMPS = {bool(request.timestamps or long_form)}\n",
        DEVICE,
        'asr = pipeline("automatic-speech-recognition", model=MODEL, device=device, dtype=dtype)',
        "# 16 kHz mono samples, decoded by ffmpeg as the app decodes them (it averages the channels of a stereo file).",
        "with open(AUDIO, \"rb\") as f:",
        f"    samples = ffmpeg_read(f.read(), {SAMPLE_RATE})",
        "config = asr.model.generation_config",
    ]
    if request.language is None:
        lines += _DETECT.strip("\n").splitlines()
    else:
        lines.append('probability = None')
    if long_form:
        lines += [f"# Over {WINDOW_S} s: Whisper's own long-form decoding reads the recording {WINDOW_S} s at a time, "
                  "each window", "# starting at the last complete segment (the app switches to plain 30 s windows "
                  "if a model runs away)."]
    lines += [
        f"# Greedy, at most {MAX_NEW_TOKENS} tokens per {WINDOW_S} s window (openai/whisper's sample_len), "
        "or the checkpoint's own limit.",
        f"options = {{\"task\": TASK, \"max_length\": min({MAX_NEW_TOKENS}, config.max_length)}}",
        "if getattr(config, \"is_multilingual\", True):",
        "    options[\"language\"] = LANGUAGE",
        "result = asr(samples, return_timestamps=TIMESTAMPS, generate_kwargs=options)",
        "print(\"Transcript:\", result[\"text\"].strip())",
        _LANGUAGE,
        "for chunk in result.get(\"chunks\", []):",
        "    start, end = chunk[\"timestamp\"]",
        "    print(f\"{start:.2f}-{end:.2f} s  {chunk['text'].strip()}\")",
    ]
    return "\n".join(lines) + "\n"


_DETECT = '''
if LANGUAGE is None and getattr(config, "is_multilingual", True):
    # The language Whisper hears in the first 30 s: one decoder step after <|startoftranscript|>, and a
    # softmax over its language tokens.
    features = asr.feature_extractor(samples, sampling_rate=16000, return_tensors="pt")  # cut at 30 s
    start = torch.tensor([[config.decoder_start_token_id]], device=device)
    with torch.no_grad():
        logits = asr.model(input_features=features.input_features.to(device, dtype), decoder_input_ids=start,
                           use_cache=False).logits[0, -1]
    tokens, ids = zip(*config.lang_to_id.items())
    probs = logits[list(ids)].float().softmax(-1)
    LANGUAGE, probability = tokens[int(probs.argmax())].strip("<|>"), float(probs.max())
else:
    LANGUAGE, probability = LANGUAGE or "en", None
'''

_LANGUAGE = '''heard = f"{LANGUAGES.get(LANGUAGE, LANGUAGE).title()} ({LANGUAGE})"
heard += f", detected with {probability:.0%} confidence" if probability is not None else ", as chosen"
print("Language:", heard + (", translated to English" if TASK == "translate" else ""))'''
