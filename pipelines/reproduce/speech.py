"""The program for a speech request: Whisper's processor, model and `generate`, as the app runs them.

Not transformers' automatic-speech-recognition pipeline: it gives the same text (with num_beams=1: its own
default is 5 beams), but it stitches its timestamped chunks from the timestamp tokens itself, so its
segments are not the app's (the segments `generate` returns, kept inside the recording). The program says so.
"""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, file_name, header, literal
from pipelines.tasks.speech import MAX_NEW_TOKENS, WINDOW_S, language_name

SAMPLE_RATE = 16_000


def code(request, audio: str | None = None) -> str:
    ckpt = registry.task("speech").checkpoint(request.model_id)
    what = "Speech translated to English" if request.task == "translate" else "Speech transcribed"
    long_form = request.samples is not None and request.samples.size > WINDOW_S * SAMPLE_RATE
    segments = bool(request.timestamps or long_form)
    lines = [
        header(f"{what} with {ckpt.label}", "torch", "transformers") + "# and ffmpeg (apt install ffmpeg)\n",
        ("import math\n\n" if segments else "") + "import torch\n"
        "from transformers import WhisperForConditionalGeneration, WhisperProcessor\n"
        "from transformers.models.whisper.tokenization_whisper import LANGUAGES\n"
        "from transformers.pipelines.audio_utils import ffmpeg_read\n",
        f"MODEL = {literal(request.model_id)}",
        f"AUDIO = {literal(file_name(audio))}  # put your recording here (the app ran on this file)",
        f"TASK = {literal(request.task)}  # transcribe: in the spoken language; translate: into English",
        (f"LANGUAGE = {literal(request.language)}  # {language_name(request.language)}, as chosen" if request.language
         else "LANGUAGE = None  # None: detect it, as the app did") + "\n",
        DEVICE,
        "# In one line, pipeline(\"automatic-speech-recognition\", model=MODEL)(AUDIO, generate_kwargs=",
        "# {\"num_beams\": 1}) gives the same text, but cuts its timestamped chunks differently.",
        "processor = WhisperProcessor.from_pretrained(MODEL)",
        "model = WhisperForConditionalGeneration.from_pretrained(MODEL, dtype=dtype).to(device).eval()",
        "config = model.generation_config",
        "# 16 kHz mono samples, decoded by ffmpeg as the app does (it averages a stereo file's channels).",
        'with open(AUDIO, "rb") as f:',
        f"    samples = ffmpeg_read(f.read(), {SAMPLE_RATE})",
    ]
    if long_form:
        lines += [
            f"# Over {WINDOW_S} s: the whole recording's features; generate reads them {WINDOW_S} s at a time, each "
            "window", "# starting at the last complete segment (Whisper's own long-form decoding; the app switches "
            "to fixed", f"# {WINDOW_S} s windows when a model keeps ending segments after a few tenths of a second).",
            f"inputs = processor.feature_extractor(samples, sampling_rate={SAMPLE_RATE}, return_tensors=\"pt\",",
            '                                     truncation=False, padding="longest",',
            "                                     return_attention_mask=True)",
        ]
    else:
        lines += [f"# Log-mel features, the recording padded with silence to {WINDOW_S} s as Whisper was trained.",
                  f'inputs = processor.feature_extractor(samples, sampling_rate={SAMPLE_RATE}, return_tensors="pt")']
    lines.append("features = inputs.input_features.to(device, dtype)")
    if request.language is None:
        lines += _DETECT.strip("\n").splitlines()
    else:
        lines.append("probability = None")
    lines += [
        f"# Greedy, at most {MAX_NEW_TOKENS} tokens per {WINDOW_S} s window (openai/whisper's sample_len) or",
        "# the checkpoint's own limit.",
        f"limit = min({MAX_NEW_TOKENS}, config.max_length)",
        "options = {\"task\": TASK, \"language\": LANGUAGE, \"max_length\": limit}",
        "with torch.no_grad():",
    ]
    if segments:
        mask = "inputs.get(\"attention_mask\")" if long_form else "None"
        lines += [
            f"    out = model.generate(features, attention_mask={mask},",
            "                         return_timestamps=True, return_segments=True, **options)",
            "segments = [(float(s[\"start\"]), float(s[\"end\"]), s[\"tokens\"]) for s in out[\"segments\"][0]]",
            "ids = [int(t) for _, _, tokens in segments for t in tokens]",
        ]
    else:
        lines.append("    ids = model.generate(features, return_timestamps=False, **options)[0]")
    lines += [
        "# Decoded from all tokens at once, so languages written without spaces come out right.",
        'print("Transcript:", processor.tokenizer.decode(ids, skip_special_tokens=True).strip())',
        _LANGUAGE,
    ]
    if segments:
        lines += _SEGMENTS.strip("\n").splitlines()
    return "\n".join(lines) + "\n"


_DETECT = f'''
# The language Whisper hears in the first {WINDOW_S} s: one decoder step after <|startoftranscript|>, and a
# softmax over its language tokens.
decoder_start = torch.tensor([[config.decoder_start_token_id]], device=device)
with torch.no_grad():
    first = features[..., :{WINDOW_S * 100}]  # 100 feature frames a second
    out = model(input_features=first, decoder_input_ids=decoder_start, use_cache=False)
    logits = out.logits[0, -1]
languages, language_ids = zip(*config.lang_to_id.items())  # "<|en|>": its token id, ...
probs = logits[list(language_ids)].float().softmax(-1)
LANGUAGE, probability = languages[int(probs.argmax())].strip("<|>"), float(probs.max())
'''

_LANGUAGE = '''heard = f"{LANGUAGES.get(LANGUAGE, LANGUAGE).title()} ({LANGUAGE})"
heard += ", as chosen" if probability is None else f", detected with {probability:.0%} confidence"
print("Language:", heard + (", translated to English" if TASK == "translate" else ""))'''

_SEGMENTS = f'''
# Segments, their times kept inside the recording (the last window is padded with silence, and
# a model may put a timestamp there), to Whisper's timestamp steps.
last = math.floor(len(samples) / {SAMPLE_RATE} * 100) / 100
for start, end, tokens in segments:
    start = min(round(max(start, 0.0), 2), last)
    end = min(round(max(end, start), 2), last)
    said = processor.tokenizer.decode(tokens, skip_special_tokens=True).strip()
    print(f"{{start:.2f}}-{{end:.2f}} s  {{said}}")
'''
