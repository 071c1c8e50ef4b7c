"""An OpenAI-compatible server as the model: streamed chat and plain completions, and transcription.

What vLLM, SGLang, llama.cpp's server, Text Generation Inference and `transformers serve` all speak:
POST {root}/chat/completions and {root}/completions with "stream": true answer with server-sent
events ("data: {json}" lines, ending with "data: [DONE]"); {root}/audio/transcriptions (and
/audio/translations) take a multipart upload. The root is the configured URL, e.g. http://host:8000/v1.

Only the protocol's standard fields are sent (model, max_tokens, temperature, top_p, seed, stop):
some servers refuse any other field (`transformers serve` answers 422), so top-k and the repetition
penalty of the local tabs do not travel. Greedy decoding is temperature 0, as the protocol defines it.

Stop: the stream is read chunk by chunk and the request's stop event is checked after each one;
leaving the loop closes the HTTP response, and the server cancels the generation when its client
goes away. Stop sequences are sent (at most 4, the protocol's limit, which TGI enforces) and also
applied here, so a server that ignores them or returns them still ends the text at the right place.
"""

from __future__ import annotations

import io
import json
import threading
from typing import Iterator

from pipelines.families.causal_lm import GenerationParams, Partial, cut_at_stop
from pipelines.remote import Call, RemoteError, token

MAX_STOP_SEQUENCES = 4


def _client(models):
    """A client per call, on purpose (unlike the Inference Endpoint client): closing it when a stream is
    stopped closes that stream's own connection, which is how the server learns to stop generating; a
    pooled connection would carry other requests too. A handshake costs little beside a generation."""
    import httpx

    timeout = models.settings.remote_timeout_s
    headers = {"Authorization": f"Bearer {secret}"} if (secret := token(models.settings)) else {}
    # The timeout bounds connecting and each wait for data (the first token, then every next one),
    # not the whole stream: a long answer that keeps coming is not a timeout.
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), headers=headers)


def _url(models, path: str) -> str:
    return models.remote.rstrip("/") + path


def body(model_id: str, params: GenerationParams, prompt: str, chat: bool) -> dict:
    """The JSON of a streamed completion request (chat: the prompt as one user message)."""
    request = {"model": model_id, "stream": True, "max_tokens": params.max_new_tokens,
               "temperature": params.temperature if params.do_sample else 0.0, "seed": params.seed}
    if params.do_sample:
        request["top_p"] = params.top_p
    if params.stop_sequences:
        request["stop"] = list(params.stop_sequences[:MAX_STOP_SEQUENCES])
    if chat:
        request["messages"] = [{"role": "user", "content": prompt}]
    else:
        request["prompt"] = prompt
    return request


def stream_text(models, model_id: str, params: GenerationParams, prompt: str, chat: bool,
                stop: threading.Event | None = None) -> Iterator[Partial]:
    """Yield the growing text as the server streams it; the last item has done=True (and stopped=True
    when the stop event ended it). Same contract as pipelines.families.causal_lm.stream."""
    stop = stop or threading.Event()
    path = "/chat/completions" if chat else "/completions"
    text, chunks, counted = "", 0, None
    ended_by_stop_sequence = False
    with Call(models), _client(models) as client:
        with client.stream("POST", _url(models, path), json=body(model_id, params, prompt, chat)) as response:
            if response.is_error:
                response.read()  # so that the error message can quote what the server said
                response.raise_for_status()
            for event in _events(response):
                piece = _piece(event, chat)
                if piece:
                    chunks += 1
                    text += piece
                    text, ended_by_stop_sequence = cut_at_stop(text, params.stop_sequences)
                    yield Partial(text, chunks)
                counted = (event.get("usage") or {}).get("completion_tokens", counted)
                if stop.is_set() or ended_by_stop_sequence:
                    break  # leaving the `with` closes the response: the server stops generating
    stopped = stop.is_set()
    yield Partial(text, chunks if stopped or ended_by_stop_sequence or counted is None else counted,
                  done=True, stopped=stopped)


def _events(response) -> Iterator[dict]:
    """The JSON objects of a server-sent event stream, up to "[DONE]"."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue  # blank separators, comments (": keep-alive"), "event:" lines
        data = line[5:].strip()
        if data == "[DONE]":
            return
        event = json.loads(data)
        if isinstance(event, dict) and event.get("error"):
            error = event["error"]
            raise RemoteError(f"The serving engine stopped with an error: "
                              f"{error.get('message', error) if isinstance(error, dict) else error}")
        yield event


def _piece(event: dict, chat: bool) -> str:
    choices = event.get("choices") or [{}]
    choice = choices[0] or {}
    if chat:
        return (choice.get("delta") or {}).get("content") or ""
    return choice.get("text") or ""


def transcript(models, request, timestamps: bool, progress=None):
    """A speech request (pipelines.tasks.speech.Request) transcribed by the server, as a speech.Transcript.
    Servers report the language they heard (as a code or an English name) but no probability, and
    no decoding windows (0 here)."""
    from pipelines.core.errors import UserInputError
    from pipelines.readers.audio import SAMPLE_RATE, duration_s
    from pipelines.tasks import speech

    if progress is not None:
        progress(0.0, "Transcribing on the serving engine…")
    answer = transcribe(models, request.model_id, request.samples, SAMPLE_RATE, request.task, request.language,
                        timestamps)
    duration = duration_s(request.samples)
    language, notes = request.language, []
    if language is None:
        heard = str(answer.get("language") or "")
        try:
            language = speech.language_code(heard) if heard else None
        except UserInputError:
            language = None
        notes.append(f"The serving engine detected {speech.language_name(language)} ({language}); it reports "
                     "no confidence." if language else "The serving engine did not say which language it heard.")
    segments = tuple(speech.Segment(round(max(0.0, start), 2), round(min(end, duration), 2), words.strip())
                     for start, end, words in answer["segments"] if timestamps)
    text = answer["text"].strip()
    if not text:
        notes.append("No words were recognised in this recording.")
    code = language or "?"
    detected = request.language is None and language is not None  # servers give no probability with it
    return speech.Transcript(text, segments, code, speech.language_name(code) if language else "Unknown", detected,
                             None, request.task, duration, 0, tuple(notes))


def transcribe(models, model_id: str, samples, sample_rate: int, task: str, language: str | None,
               timestamps: bool) -> dict:
    """POST the recording (a 16-bit WAV) to /audio/transcriptions, or /audio/translations to write
    English; returns the server's JSON (text, and with verbose_json: language, duration, segments)."""
    import soundfile

    wav = io.BytesIO()
    soundfile.write(wav, samples, sample_rate, format="WAV", subtype="PCM_16")
    form = {"model": model_id, "response_format": "verbose_json" if timestamps else "json"}
    if language and task == "transcribe":
        form["language"] = language
    path = "/audio/translations" if task == "translate" else "/audio/transcriptions"
    with Call(models), _client(models) as client:
        response = client.post(_url(models, path), data=form,
                               files={"file": ("recording.wav", wav.getvalue(), "audio/wav")})
        response.raise_for_status()
        answer = response.json()
        if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
            raise ValueError("no transcript text in the answer")
        # Read the segments here, inside the call: a malformed one is the engine's fault, said as such.
        answer["segments"] = [(float(s["start"]), float(s["end"]), str(s.get("text", "")))
                              for s in (answer.get("segments") or [])]
        return answer
