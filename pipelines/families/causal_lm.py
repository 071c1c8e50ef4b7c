"""Decoder-only language models, shared by text generation and code completion.

`stream()` runs `model.generate` in a worker thread and yields the text as tokens arrive. A real stop:
`generate` checks a per-request `threading.Event` after every token (a stopping criterion), so pressing
Stop, cancelling the API job, or a client going away ends the computation, not only the display.

On a CPU, a checkpoint that onnxruntime-genai converts is answered by it instead (pipelines/engines/
onnx_genai.py, several times faster); the torch model stays loaded for what reads inside it. The prompt's
tokens, the checks, the stop sequences, the Stop and the streamed `Partial`s are the same on both paths.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, replace
from typing import Iterator

from pipelines.core import checks
from pipelines.core.bundle import Bundle, LoadRequest, load_pretrained
from pipelines.core.errors import UserInputError

log = logging.getLogger(__name__)
MAX_NEW_TOKENS = 1024
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class GenerationParams:
    """Decoding settings. The defaults are text generation's (a tab reads them from here)."""
    max_new_tokens: int = 128
    do_sample: bool = True  # False: greedy decoding, the same output every time
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 50  # 0: off
    repetition_penalty: float = 1.1
    seed: int = 0
    stop_sequences: tuple[str, ...] = ()
    min_new_tokens: int = 0  # benchmarks set min = max to time a fixed number of tokens

    def checked(self, max_new_tokens: int = MAX_NEW_TOKENS) -> GenerationParams:
        """The same settings as clean numbers, or UserInputError naming the one out of range
        (`max_new_tokens`: the task's own upper limit)."""
        return replace(
            self,
            max_new_tokens=checks.whole_number("Max new tokens", self.max_new_tokens, 1, max_new_tokens),
            temperature=checks.number("Temperature", self.temperature, 0.01, 5.0),
            top_p=checks.number("Top-p", self.top_p, 0.01, 1.0),
            top_k=checks.whole_number("Top-k", self.top_k, 0, 1000),
            repetition_penalty=checks.number("Repetition penalty", self.repetition_penalty, 0.5, 3.0),
            seed=checks.whole_number("Seed", self.seed, 0, MAX_SEED),
            min_new_tokens=checks.whole_number("Min new tokens", self.min_new_tokens, 0, MAX_NEW_TOKENS),
            do_sample=bool(self.do_sample),
        )


@dataclass(frozen=True)
class Partial:
    text: str  # everything generated so far (the prompt excluded)
    new_tokens: int
    done: bool = False
    stopped: bool = False  # ended by a stop request rather than by length or end of text


def cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """The text before the earliest stop sequence, and whether one was found (local and remote streams)."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def load(request: LoadRequest) -> Bundle:
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from pipelines.engines import onnx_genai

    config = AutoConfig.from_pretrained(request.location.source, **request.location.pretrained_kwargs)
    if not onnx_genai.applies(request, config):
        return load_pretrained(request, AutoModelForCausalLM, AutoTokenizer)
    # The fast engine answers requests with its own quantized weights; the torch model, kept for Look inside
    # and the explainers, stays at full precision so that what they show is the checkpoint's own numbers.
    full = replace(request, placement=replace(request.placement, quantize="none"))
    lm = load_pretrained(full, AutoModelForCausalLM, AutoTokenizer)
    lm.engine_builder = functools.partial(onnx_genai.load, request)  # on the first generation (Bundle.fast)
    return lm


def is_chat(lm: Bundle) -> bool:
    """The checkpoint was tuned to follow instructions and has a chat template to wrap a prompt in."""
    return "chat" in lm.checkpoint.traits and bool(getattr(lm.tokenizer, "chat_template", None))


def encode(lm: Bundle, prompt: str, use_chat: bool) -> list[int]:
    """Token ids for a prompt: wrapped in the chat template when asked and available."""
    if use_chat and is_chat(lm):
        ids = lm.tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                               add_generation_prompt=True, tokenize=True)
        return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
    return lm.tokenizer(prompt)["input_ids"]


def context_window(lm: Bundle) -> int:
    config = lm.model.config
    return int(getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 1024))


def stream(lm: Bundle, input_ids: list[int], params: GenerationParams,
           stop: threading.Event | None = None) -> Iterator[Partial]:
    """Yield the growing continuation of `input_ids`; the last item has done=True."""
    import torch
    from transformers import StoppingCriteria

    params = params.checked()
    if not input_ids:
        raise UserInputError("The prompt is empty after tokenization: type some text.")
    window = context_window(lm)
    if len(input_ids) + params.max_new_tokens > window:
        raise UserInputError(
            f"The prompt is {len(input_ids)} tokens; with {params.max_new_tokens} new tokens that exceeds "
            f"this model's {window}-token window. Shorten the prompt or lower Max new tokens.")
    stop = stop or threading.Event()
    engine = lm.fast()
    if engine is not None:
        yield from _stream_fast(engine, lm.tokenizer, input_ids, params, stop)
        return

    class StopOnEvent(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    streamer = _streamer_class()(lm.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
    kwargs = dict(
        input_ids=torch.tensor([input_ids], device=lm.device),
        attention_mask=torch.ones(1, len(input_ids), dtype=torch.long, device=lm.device),
        max_new_tokens=params.max_new_tokens, min_new_tokens=params.min_new_tokens,
        do_sample=params.do_sample, repetition_penalty=params.repetition_penalty,
        stopping_criteria=[StopOnEvent()], streamer=streamer,
        pad_token_id=lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None
        else lm.tokenizer.eos_token_id,
    )
    if params.do_sample:
        kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k)
    if params.stop_sequences:
        kwargs.update(stop_strings=list(params.stop_sequences), tokenizer=lm.tokenizer)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            torch.manual_seed(params.seed)
            with torch.inference_mode():
                lm.model.generate(**kwargs)
        except BaseException as exc:  # surfaced to the caller below, never lost in the thread
            failure.append(exc)
            streamer.end()

    worker = threading.Thread(target=run, name="generate", daemon=True)
    worker.start()
    text = ""
    try:
        for chunk in streamer:
            text += chunk
            yield Partial(text, streamer.new_tokens)
    finally:
        # Reached when generation ends, and also when the consumer stops iterating (Stop button,
        # cancelled job, closed browser tab): either way the worker must not keep computing.
        stopped_early = stop.is_set()
        stop.set()
        worker.join()
    if failure:
        raise failure[0]
    yield Partial(text, streamer.new_tokens, done=True, stopped=stopped_early)


def _stream_fast(engine, tokenizer, input_ids: list[int], params: GenerationParams,
                 stop: threading.Event) -> Iterator[Partial]:
    """stream() on the bundle's fast engine. It runs in the caller's thread, one token per step, so a consumer
    that stops iterating stops the computation with it. As with `generate`, the text keeps a stop sequence
    it ends on (callers cut it)."""
    new_ids: list[int] = []
    text = ""
    for token in engine.tokens(input_ids, params, stop):
        new_ids.append(token)
        decoded = tokenizer.decode(new_ids, skip_special_tokens=True)
        if decoded.endswith("\ufffd"):  # a character split over tokens: wait for the rest of its bytes
            continue
        if decoded != text:
            text = decoded
            yield Partial(text, len(new_ids))
        if params.stop_sequences and cut_at_stop(text, params.stop_sequences)[1]:
            break
    yield Partial(tokenizer.decode(new_ids, skip_special_tokens=True), len(new_ids), done=True,
                  stopped=stop.is_set())


@functools.cache
def _streamer_class():
    """TextIteratorStreamer that also counts new tokens (defined lazily: transformers is heavy)."""
    from transformers import TextIteratorStreamer

    class CountingStreamer(TextIteratorStreamer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.new_tokens = 0
            self._prompt_seen = False

        def put(self, value):
            if self._prompt_seen:  # the first put is the prompt itself
                self.new_tokens += int(value.numel())
            self._prompt_seen = True
            super().put(value)

    return CountingStreamer
