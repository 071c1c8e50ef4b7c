"""The cost lab (course chapters 10, 13, 15, 16): what a generation costs, measured on the app's own model.

    compare_speed(models, prompt, max_new_tokens, chat_template)    one prompt through the torch float32 model and
                                   the fast path side by side (time to first token, tokens per second, weights in
                                   memory, top-5 agreement); the KV cache on and off; batch 1 and 4; the KV
                                   cache's bytes per token from the config, checked against the real cache
    attention_cost(models, max_length, window, points)    cost_lab_attention.py: one layer's time over the
                                   input length with a fitted quadratic, and full attention next to a sliding
                                   window

The fast path is the engine the app generates with on a CPU (pipelines/engines: onnxruntime-genai with int4
weights), in the model's bundle beside the float32 torch model that the other explainers read. Where there is
none (a GPU, --engine torch, the package missing) the page shows the float32 path alone and says why.

Top-5 agreement: both paths read the same text (the prompt, then the float32 path's own tokens) and at every
position each names its five likeliest next tokens; the agreement is the mean share of the float32 five that
the fast path also names. It says how much the quantized weights moved the predictions, position by position,
which the output text alone hides (one different token and the two texts part for good).

The torch runs come first and the fast path last: ONNX Runtime's threads spin a moment after each of its runs,
which would slow a torch run timed right after. The cache-off and batch runs stop after SIDE_TOKENS tokens and
are compared with the same first tokens of the float32 run: without the cache every step re-reads the whole text.

Timings are wall-clock on whatever machine runs the app. A Space's free CPU is shared (2 cores), so they move
from run to run: compare the rows of one run, not one run with another.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.explainers import cost_lab
    models = ModelManager(Settings(model_source="tiny")).task("cost-lab")
    cost_lab.compare_speed(models, "The capital of France is")["paths"][0]["tokens_per_second"]
"""

from __future__ import annotations

from pipelines.core import checks
from pipelines.core.checks import Progress, no_progress
from pipelines.core.errors import UserInputError
from pipelines.explainers import cost_lab_runs as runs
from pipelines.explainers.cost_lab_attention import attention_cost  # noqa: F401  (the page's second endpoint)
from pipelines.explainers.next_token_inputs import check_prompt

EXAMPLE = "What is the capital of France?"
# Sizes that keep one press of the button within a few seconds on 2 cores (SmolLM2-135M in float32: about
# 6 ms per prompt token for a forward pass, 50 ms per new token with the cache).
NEW_TOKENS = 16
MAX_NEW_TOKENS = 24
MAX_PROMPT_TOKENS = 96  # as the model reads them: SmolLM2's chat template adds 30
SIDE_TOKENS = 6  # the cache-off and batch runs: enough steps for their cost per token, each step a full re-read
BATCH = 4
SHARED_CPU = ("Timings are measured live on the machine running this app. A free Space's CPU is shared "
              "(2 cores), so the numbers move from run to run: compare the rows of one run.")


def check(models, prompt, max_new_tokens=NEW_TOKENS, chat_template=True):
    """The prompt as token ids and the checked count of new tokens, or UserInputError; loads only the tokenizer."""
    count = checks.whole_number("New tokens", max_new_tokens, 2, MAX_NEW_TOKENS,
                                hint="Two at least: the first token's time is not a step.")
    request = check_prompt(models, prompt, None, chat_template, example=EXAMPLE)
    if len(request.ids) > MAX_PROMPT_TOKENS:
        raise UserInputError(f"The prompt is {len(request.ids)} tokens as the model reads it"
                             f"{' (with the chat template)' if request.chat_template else ''}; this page reads at "
                             f"most {MAX_PROMPT_TOKENS}, so that a run stays short. Shorten it.")
    return request, count


def compare_speed(models, prompt, max_new_tokens=NEW_TOKENS, chat_template=True,
                  progress: Progress = no_progress) -> dict:
    """One prompt through float32 torch and the fast path; the KV cache on and off; batch 1 and 4."""
    request, new_tokens = check(models, prompt, max_new_tokens, chat_template)
    bundle = models.get(request.model_id).bundle
    ids, model, engine = list(request.ids), bundle.model, bundle.fast()
    element_bytes = next(model.parameters()).element_size()
    ends = runs.end_tokens(model, bundle.tokenizer)
    side = min(new_tokens, SIDE_TOKENS)

    progress(0.05, "Float32 torch: warming up, then timing")
    runs.greedy(model, ids[:4], 2)  # the first pass after loading pays one-off costs (allocations, thread start)
    fp32 = runs.greedy(model, ids, new_tokens, keep_logits=True, never=ends)
    paths = [_row("float32", f"torch {_dtype(model)}", fp32, len(ids), runs.weight_bytes(model), bundle.tokenizer)]
    progress(0.3, "KV cache off: every step re-reads the whole text")
    no_cache = runs.greedy(model, ids, side, use_cache=False, never=ends)
    progress(0.55, f"Batch of {BATCH}: {BATCH} copies of the prompt at once")
    batch = runs.greedy(model, ids, side, batch=BATCH, never=ends)
    agreement = None
    if engine is not None:  # last: ONNX Runtime's threads keep spinning a moment after a run, slowing torch
        progress(0.8, f"Fast path: {engine.label}")
        runs.engine_run(engine, ids[:4], 2)
        fast = runs.engine_run(engine, ids, new_tokens)
        paths.append(_row("fast", engine.label, fast, len(ids), int(engine.nbytes), bundle.tokenizer))
        fast_logits = runs.engine_logits(engine, ids, fp32.tokens[:-1])
        agreement = {**runs.agreement([t.numpy() for t in fp32.logits], fast_logits),
                     "same_first_tokens": runs.same_prefix(fp32.tokens, fast.tokens)}
    progress(1.0, "Done")

    config_size = runs.kv_bytes_per_token(model.config, element_bytes)
    measured = runs.cache_size(fp32.cache)
    window = _window(model.config)
    # What does not depend on the clock comes first: the API contract pins a result's first twelve keys
    # (tests/test_contract.py), and timings are never the same twice.
    return {
        "model_id": request.model_id, "prompt_tokens": len(ids), "new_tokens": new_tokens,
        "chat_template": request.chat_template, "fast_path": engine is not None,
        "fast_path_note": _fast_note(models, bundle) if engine is None else
        f"The fast path is {engine.label}: the engine the app generates with for this model on a CPU.",
        "texts": {row["name"]: row["text"] for row in paths},
        "agreement": agreement,
        "weights_mb": {row["name"]: row["weights_mb"] for row in paths},
        "kv_bytes_per_token": {"config": config_size, "measured": measured,
                               "matches": measured["bytes_per_token"] == config_size["bytes_per_token"],
                               "context_tokens": window, "context_mb": _mb(config_size["bytes_per_token"] * window)},
        "same_tokens": {"kv_cache_off": no_cache.tokens == fp32.tokens[:side],
                        "batch": batch.tokens == fp32.tokens[:side]},
        "notes": [*request.notes, SHARED_CPU],
        "paths": paths,
        # Over the same first `side` tokens, so that each pair did the same steps.
        "kv_cache": {"on": fp32.summary(side), "off": no_cache.summary()},
        "batch": {"one": fp32.summary(side), "four": batch.summary()},
    }


def _row(name: str, runs_on: str, run: runs.Run, prompt_tokens: int, nbytes: int, tokenizer) -> dict:
    return {"name": name, "runs_on": runs_on, "prompt_tokens": prompt_tokens, **run.summary(),
            "weights_bytes": nbytes, "weights_mb": _mb(nbytes), "token_ids": run.tokens,
            "text": tokenizer.decode(run.tokens, skip_special_tokens=True)}


def _fast_note(models, bundle) -> str:
    """Why this model has no fast path here, in the words of the setting that decided it."""
    if bundle.device != "cpu":
        return f"No fast path here: the model runs on {bundle.device}, where the app keeps torch (fp16 on a GPU)."
    if models.settings.engine == "torch":
        return "No fast path here: the app was started with --engine torch (PLAYGROUND_ENGINE=torch)."
    return ("No fast path here: onnxruntime-genai is not installed, or it could not convert this model; "
            "the app generates with torch float32.")


def _dtype(model) -> str:
    return str(next(model.parameters()).dtype).replace("torch.", "")


def _mb(nbytes: int) -> float:
    return round(nbytes / 2**20, 2)


def _window(config) -> int:
    return int(getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 1024))
