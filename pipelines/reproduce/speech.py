"""The program for a speech request: Whisper's processor, model and `generate`, as the app runs them.

Not transformers' automatic-speech-recognition pipeline: it gives the same text (with num_beams=1: its own
default is 5 beams), but it stitches its timestamped chunks from the timestamp tokens itself, so its
segments are not the app's (the segments `generate` returns, kept inside the recording). The program says so.

Where CTranslate2 answered (a CPU, pipelines/engines/ct2_whisper.py), the program is CTranslate2's: the checkpoint
converted once with int8 weights, the same features and prompt, and the same sequential long-form loop, written
out (CTranslate2 decodes one window per call).
"""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, file_name, header, literal
from pipelines.tasks.speech import MAX_NEW_TOKENS, WINDOW_S, language_name

SAMPLE_RATE = 16_000
ENGINE = "ctranslate2"


def code(request, audio: str | None = None, runs_on: str = "") -> str:
    """`runs_on`: what answered in the app (the loaded model's engine and precision), "" for torch."""
    if runs_on.startswith(ENGINE):
        return _on_engine(request, audio, runs_on)
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
    return _ending(lines, segments)


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


def _on_engine(request, audio: str | None, runs_on: str) -> str:
    ckpt = registry.task("speech").checkpoint(request.model_id)
    precision = runs_on.split()[-1]  # "ctranslate2 int8" -> "int8"
    what = "Speech translated to English" if request.task == "translate" else "Speech transcribed"
    long_form = request.samples is not None and request.samples.size > WINDOW_S * SAMPLE_RATE
    segments = bool(request.timestamps or long_form)
    lines = [
        header(f"{what} with {ckpt.label} on {runs_on}", "torch", "transformers", ENGINE)
        + "# and ffmpeg (apt install ffmpeg)\n",
        ("import math\n" if segments else "") + "from pathlib import Path\n\nimport ctranslate2\nimport numpy as np\n"
        "import torch\nfrom ctranslate2.converters import TransformersConverter\n"
        "from transformers import GenerationConfig, WhisperProcessor\n"
        "from transformers.models.whisper.tokenization_whisper import LANGUAGES\n"
        "from transformers.pipelines.audio_utils import ffmpeg_read\n",
        f"MODEL = {literal(request.model_id)}",
        f"AUDIO = {literal(file_name(audio))}  # put your recording here (the app ran on this file)",
        f"TASK = {literal(request.task)}  # transcribe: in the spoken language; translate: into English",
        (f"LANGUAGE = {literal(request.language)}  # {language_name(request.language)}, as chosen" if request.language
         else "LANGUAGE = None  # None: detect it, as the app did") + "\n",
        f"# On a CPU the app runs Whisper on CTranslate2: the checkpoint converted once, {precision} weights.",
        f'CT2 = Path(MODEL.rstrip("/").split("/")[-1] + "-ct2-{precision}")',
        "if not CT2.is_dir():",
        f'    TransformersConverter(MODEL).convert(str(CT2), quantization="{precision}")',
        f'model = ctranslate2.models.Whisper(str(CT2), device="cpu", compute_type="{precision}",',
        "                                   intra_threads=torch.get_num_threads())",
        "processor = WhisperProcessor.from_pretrained(MODEL)",
        "config = GenerationConfig.from_pretrained(MODEL)  # the special tokens' ids",
        "# 16 kHz mono samples, decoded by ffmpeg as the app does (it averages a stereo file's channels).",
        'with open(AUDIO, "rb") as f:',
        f"    samples = ffmpeg_read(f.read(), {SAMPLE_RATE})",
    ]
    if long_form:
        lines += [f"# Over {WINDOW_S} s: the whole recording's features, read {WINDOW_S} s at a time below.",
                  f"features = processor.feature_extractor(samples, sampling_rate={SAMPLE_RATE}, "
                  'return_tensors="np",',
                  '                                       truncation=False, padding="longest").input_features']
    else:
        lines += [f"# Log-mel features, the recording padded with silence to {WINDOW_S} s as Whisper was trained.",
                  f"features = processor.feature_extractor(samples, sampling_rate={SAMPLE_RATE},",
                  '                                       return_tensors="np").input_features']
    lines += ["", ""] + _ENGINE_WINDOWS.strip("\n").splitlines() + ["", ""]
    if request.language is None:
        lines += _ENGINE_DETECT.strip("\n").splitlines()
    else:
        lines.append("probability = None")
    lines += [
        "prompt = [config.decoder_start_token_id, config.lang_to_id[f\"<|{LANGUAGE}|>\"],",
        "          config.task_to_id[TASK]]  # the start, language and task tokens",
        f"# Greedy, at most {MAX_NEW_TOKENS} tokens per {WINDOW_S} s window (openai/whisper's sample_len) or the",
        "# checkpoint's own limit; CTranslate2 decodes at most max_length / 2 new tokens.",
        f"limit = min({MAX_NEW_TOKENS}, config.max_length)",
    ]
    if segments:
        lines += _ENGINE_SEGMENTS.strip("\n").splitlines()
    else:
        lines += [
            "ids = model.generate(encoded(0), [prompt + [config.no_timestamps_token_id]], beam_size=1,",
            "                     max_length=2 * limit)[0].sequences_ids[0]",
        ]
    return _ending(lines, segments)


def _ending(lines: list[str], segments: bool) -> str:
    """The program's last lines, the same on both paths: the transcript, the language, the segments."""
    lines += [
        "# Decoded from all tokens at once, so languages written without spaces come out right.",
        'print("Transcript:", processor.tokenizer.decode(ids, skip_special_tokens=True).strip())',
        _LANGUAGE,
    ]
    if segments:
        lines += _SEGMENTS.strip("\n").splitlines()
    return "\n".join(lines) + "\n"


_ENGINE_WINDOWS = f'''


def encoded(seek):
    """The encoder's output for the {WINDOW_S} s window from feature frame `seek` (100 a second)."""
    window = np.zeros((1, features.shape[1], {WINDOW_S * 100}), np.float32)
    part = features[..., seek: seek + {WINDOW_S * 100}]
    window[..., : part.shape[-1]] = part
    return model.encode(ctranslate2.StorageView.from_array(window))


'''

_ENGINE_DETECT = '''
# The language Whisper hears in the first 30 s: one decoder step after <|startoftranscript|>, and a
# softmax over its language tokens.
(token, probability), *_ = model.detect_language(encoded(0))[0]
LANGUAGE = token.strip("<|>")
'''

_ENGINE_SEGMENTS = f'''
# With timestamps: Whisper's sequential long-form decoding, as transformers' generate runs it. A
# window's tokens are cut into segments at each pair of timestamp tokens; the next window starts
# where its last complete segment ended (or after the window, when it ended on a single timestamp).
# (The app switches to fixed {WINDOW_S} s windows when a model keeps ending segments after a few
# tenths of a second.)
begin = config.no_timestamps_token_id + 1  # <|0.00|>; timestamp tokens are 20 ms apart
total, seek, segments = features.shape[-1], 0, []
while seek < total:
    frames, offset = min(total - seek, {WINDOW_S * 100}), seek / 100
    result = model.generate(encoded(seek), [prompt], beam_size=1, max_length=2 * limit,
                            max_initial_timestamp_index=config.max_initial_timestamp_index)
    tokens = result[0].sequences_ids[0]
    stamp = [t >= begin for t in tokens]
    pairs = [i + 1 for i in range(len(tokens) - 1) if stamp[i] and stamp[i + 1]]
    single_ending = stamp[-2:] == [False, True]
    if not pairs:  # one segment: to its last timestamp, else to the window's end
        last = [t for t in tokens if t >= begin]
        end = last[-1] if last and last[-1] != begin else begin + frames // 2
        segments.append((offset, offset + (end - begin) * 0.02, tokens))
        seek += frames
        continue
    cuts = pairs + [len(tokens)] if single_ending else pairs[:-1] + [pairs[-1] + 1]
    for n, (a, b) in enumerate(zip([0] + cuts[:-1], cuts)):
        piece = tokens[a:b]
        end = piece[-2] if n == len(cuts) - 1 and not single_ending else piece[-1]
        segments.append((offset + (piece[0] - begin) * 0.02, offset + (end - begin) * 0.02, piece))
    seek += frames if single_ending else (tokens[cuts[-1] - 2] - begin) * 2
ids = [t for _, _, tokens in segments for t in tokens]
'''
