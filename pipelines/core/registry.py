"""Every task of the playground, declared once: this file is the only place a task is named.

A task entry says where each of its parts lives and what it promises to the outside world:
- `loader`: the function that loads one of its checkpoints, as "module:function" (like a checkpoint's
  `miniature`); tasks naming the same loader share one copy of a checkpoint they both offer;
- `family`: what kind of model it is (decoder-only, encoder-only, encoder-decoder, vision, speech,
  diffusion, forecasting), so a feature can find every model of a kind across tasks (`by_family`);
- `pipeline` and `tab`: its model-side and UI-side modules;
- `checkpoints`: the default first, then a short curated list (a user can pick only these, which is
  also why `trust_remote_code` is never needed); each names its tiny offline miniature builder;
- `endpoints`: its public API (name, first parameters, one line, an example call), which the tab
  wires, the contract tests call and the README lists;
- `gpu_seconds`, `examples`, `iframe_allow`: what ZeroGPU, the tab's examples and the README's iframe
  snippet need.
The README's task table, `models:` front matter, tab ids and iframe snippets are written from here by
`python -m scripts.write_readme`; a test fails when they are stale.

Revisions: the hub cannot be reached from where this was written, so commit hashes could not be
looked up and checked; `revision` stays "main" until someone with hub access pins them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import Any

from pipelines.core.errors import UserInputError

FAMILIES = ("decoder-only", "encoder-only", "encoder-decoder", "vision", "speech", "diffusion", "forecasting")
# The app's pages come in groups, each a row of tabs: what models do, and how they work inside.
GROUPS = {"tasks": "Tasks", "inside": "Inside the Transformer"}


@dataclass(frozen=True)
class Checkpoint:
    repo_id: str
    label: str  # what the model picker shows
    miniature: str  # "module:function" in pipelines.miniatures that builds the offline stand-in
    params_m: float  # parameters in millions, to estimate memory before loading
    revision: str = "main"
    why: str = field(default="", compare=False)  # one line shown under the picker: what it is good for
    # Free-form facts a pipeline needs: "chat" (has a chat template), "no-answer" (SQuAD2-style QA),
    # "gpu" (too slow for a CPU Space), "english-only".
    traits: frozenset[str] = frozenset()
    languages: tuple[str, str] | None = None  # translation: (source, target) ISO codes
    companions: tuple[Checkpoint, ...] = ()  # other repos loaded with this one (e.g. a tiny VAE)
    # An explainer offers models of several kinds: each of its checkpoints names its own loader and
    # family (the task's, when borrowed from a task: see `borrow`), so both share one copy in memory.
    # Not part of its identity: a borrowed checkpoint equals the task's own.
    loader: str = field(default="", compare=False)
    family: str = field(default="", compare=False)


@dataclass(frozen=True)
class Endpoint:
    """One public API endpoint: `/name`, the handler of the same name in the task's tab."""
    name: str  # api_name without the slash; also the handler's (and an MCP tool's) name
    params: tuple[str, ...]  # its first parameters, in order; any later one has a default
    description: str  # one line: what it does
    # A call that works on every model source: keyword arguments, files as paths under the repo root.
    example: dict[str, Any] = field(default_factory=dict)

    @property
    def api_name(self) -> str:
        return "/" + self.name


@dataclass(frozen=True)
class TaskSpec:
    id: str  # also the tab id used in deep links: /?tab=<id>, /embed/<id>
    title: str  # the tab's title
    summary: str  # a few words for lists and iframe titles: "speech transcription"
    loader: str  # "module:function" returning a pipelines.core.bundle.Bundle
    family: str
    pipeline: str  # dotted module path (model side; never imports gradio)
    tab: str  # dotted module path (UI side; never imports torch)
    checkpoints: tuple[Checkpoint, ...]
    endpoints: tuple[Endpoint, ...]
    chapter: str = ""  # the course chapter this tab accompanies
    gpu_seconds: int = 30  # GPU time a call may hold on ZeroGPU (shorter requests are queued first)
    examples: str = ""  # key of this tab's examples in assets/texts/examples.json
    iframe_allow: str = "clipboard-write"  # what an embedding iframe must allow (camera, microphone)
    group: str = "tasks"  # a key of GROUPS: the row of tabs this page sits in

    def __post_init__(self):
        if self.group not in GROUPS:
            raise ValueError(f"{self.id}: group {self.group!r} is not one of {tuple(GROUPS)}")
        own = self.family in FAMILIES and self.loader
        if not own and not all(c.loader and c.family in FAMILIES for c in self.checkpoints):
            raise ValueError(f"{self.id}: give the page a loader and a family of {FAMILIES}, "
                             "or give each of its checkpoints its own (see `borrow`)")

    @property
    def is_explainer(self) -> bool:
        return self.group != "tasks"

    @property
    def default(self) -> Checkpoint:
        return self.checkpoints[0]

    @property
    def default_repos(self) -> tuple[Checkpoint, ...]:
        """The default checkpoint and its companions; none for a page that trains its own model."""
        return (self.default, *self.default.companions) if self.checkpoints else ()

    def checkpoint(self, repo_id: str | None) -> Checkpoint:
        """The curated checkpoint with this id or label (the default for None); anything else is refused."""
        if not self.checkpoints:
            raise UserInputError(f"{self.title} trains its own model: it offers no checkpoint to choose.")
        if not repo_id:
            return self.default
        for ckpt in self.checkpoints:
            if repo_id in (ckpt.repo_id, ckpt.label):
                return ckpt
        choices = ", ".join(c.repo_id for c in self.checkpoints)
        raise UserInputError(f"Unknown model {repo_id!r} for {self.title}. Choose one of: {choices}.")

    def endpoint(self, name: str) -> Endpoint:
        for endpoint in self.endpoints:
            if endpoint.name == name.lstrip("/"):
                return endpoint
        raise KeyError(f"{self.id} declares no endpoint {name!r}; it declares "
                       f"{', '.join(e.name for e in self.endpoints)} (pipelines/core/registry.py)")


def resolve(reference: str):
    """The object a "package.module:attribute" reference names, imported on first use."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _mt(src: str, tgt: str) -> Checkpoint:
    return Checkpoint(
        f"Helsinki-NLP/opus-mt-{src}-{tgt}", f"opus-mt-{src}-{tgt}", "marian:build", 74,
        why="MarianMT, one small model per language pair (the course's chapter 1 example).",
        languages=(src, tgt),
    )


_SMOLLM2 = Checkpoint(
    "HuggingFaceTB/SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct", "causal_lm:smollm2", 135,
    why="Small instruction-tuned chat model: answers questions, fast on a CPU.", traits=frozenset({"chat"}),
)
EIFFEL = "The Eiffel Tower is in Paris."

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        "text-generation", "Text generation", "text generation", "pipelines.families.causal_lm:load",
        "decoder-only", "pipelines.tasks.text_generation", "tabs.text_generation",
        (
            _SMOLLM2,
            Checkpoint("openai-community/gpt2", "GPT-2", "causal_lm:gpt2", 124,
                       why="The course's GPT-2: continues a text, does not follow instructions."),
            Checkpoint("Qwen/Qwen2.5-0.5B-Instruct", "Qwen2.5-0.5B-Instruct", "causal_lm:qwen2", 494,
                       why="Larger multilingual chat model: better answers, about 4x slower.",
                       traits=frozenset({"chat"})),
        ),
        (Endpoint("generate_text", ("prompt",), "Continue a prompt (or answer it, with a chat model), streamed.",
                  {"prompt": "Once upon a time,", "max_new_tokens": 8, "decoding": "Greedy"}),),
        chapter="Chapter 1: Introduction to Transformers", examples="generation",
    ),
    TaskSpec(
        "translation", "Translation", "translation", "pipelines.families.seq2seq:load", "encoder-decoder",
        "pipelines.tasks.translation", "tabs.translation",
        tuple(_mt(s, t) for s, t in (("en", "de"), ("de", "en"), ("en", "fr"), ("fr", "en"),
                                     ("en", "es"), ("es", "en"))),
        (Endpoint("translate", ("text", "source_language", "target_language"),
                  "Translate between English, German, French and Spanish (through English when no direct model).",
                  {"text": "Good morning!", "source_language": "English", "target_language": "German",
                   "num_beams": 1}),),
        chapter="Chapter 7: Applications of Transformers (Machine Translation)", examples="translation",
    ),
    TaskSpec(
        "summarization", "Summarization", "summarization", "pipelines.families.seq2seq:load", "encoder-decoder",
        "pipelines.tasks.summarization", "tabs.summarization",
        (
            Checkpoint("sshleifer/distilbart-cnn-12-6", "DistilBART CNN 12-6", "seq2seq:distilbart", 306,
                       why="BART distilled for news summaries: fluent 2-4 sentence abstracts."),
            Checkpoint("google-t5/t5-small", "T5 small", "seq2seq:t5", 61,
                       why="The course's T5 in its smallest size: 5x faster, plainer summaries."),
        ),
        (Endpoint("summarize", ("text",), "Summarize a text; texts longer than the model's window go in chunks.",
                  {"text": EIFFEL * 4, "min_length": 0, "max_length": 8, "num_beams": 1}),),
        chapter="Chapter 7: Applications of Transformers (Text Summarization)", examples="summarization",
    ),
    TaskSpec(
        "question-answering", "Question answering", "question answering",
        "pipelines.tasks.question_answering:load", "encoder-only", "pipelines.tasks.question_answering",
        "tabs.question_answering",
        (
            Checkpoint("distilbert/distilbert-base-cased-distilled-squad", "DistilBERT SQuAD",
                       "extractive_qa:distilbert", 65,
                       why="Fast BERT-family reader trained on SQuAD: always picks a span."),
            Checkpoint("deepset/roberta-base-squad2", "RoBERTa SQuAD2", "extractive_qa:roberta", 124,
                       why="Trained on SQuAD 2.0: says 'no answer' when the context has none.",
                       traits=frozenset({"no-answer"})),
        ),
        (Endpoint("answer_question", ("question", "context"),
                  "Find the passage of a context that answers a question (extractive QA).",
                  {"question": "Where is the Eiffel Tower?", "context": EIFFEL}),),
        chapter="Chapter 7: Applications of Transformers (Question Answering)", examples="question_answering",
    ),
    TaskSpec(
        "code-completion", "Code completion", "code completion", "pipelines.families.causal_lm:load",
        "decoder-only", "pipelines.tasks.code_completion", "tabs.code_completion",
        (
            Checkpoint("bigcode/tiny_starcoder_py", "tiny_starcoder_py", "causal_lm:starcoder", 164,
                       why="StarCoder trained on Python only: quick single-line and function completions."),
            _SMOLLM2,
            Checkpoint("Qwen/Qwen2.5-Coder-0.5B", "Qwen2.5-Coder-0.5B", "causal_lm:qwen2", 494,
                       why="Stronger code model in many languages, about 3x slower on a CPU."),
        ),
        (Endpoint("complete_code", ("code",), "Continue a piece of code, cut at the first stop sequence, streamed.",
                  {"code": "def add(a, b):\n    return", "max_new_tokens": 8}),),
        chapter="Chapter 7: Applications of Transformers (Code Completion)", examples="code",
    ),
    TaskSpec(
        "fill-mask", "Fill-mask", "fill-mask", "pipelines.tasks.fill_mask:load", "encoder-only",
        "pipelines.tasks.fill_mask", "tabs.fill_mask",
        (
            Checkpoint("google-bert/bert-base-uncased", "BERT base uncased", "masked_lm:bert_base_uncased", 110,
                       why="The course's BERT: reads the whole sentence, left and right of the gap."),
            Checkpoint("distilbert/distilbert-base-uncased", "DistilBERT base uncased",
                       "masked_lm:distilbert_base_uncased", 67,
                       why="BERT distilled: 40% smaller and 60% faster, nearly as good."),
        ),
        (Endpoint("fill_mask", ("text",), "The likeliest words for each [MASK] in a text, each shown in the "
                  "sentence, with probabilities.", {"text": "The [MASK] chased the mouse."}),),
        chapter="Chapter 8: Famous Transformer Models (BERT)", examples="fill_mask",
    ),
    TaskSpec(
        "image-classification", "Image classification", "image classification",
        "pipelines.tasks.image_classification:load", "vision", "pipelines.tasks.image_classification",
        "tabs.image_classification",
        (
            Checkpoint("google/vit-base-patch16-224", "ViT base/16", "vision:vit", 86,
                       why="The original Vision Transformer, ImageNet's 1,000 classes."),
            Checkpoint("facebook/deit-small-patch16-224", "DeiT small/16", "vision:deit", 22,
                       why="A 4x smaller ViT trained with distillation: nearly as accurate, much faster."),
        ),
        (Endpoint("classify_image", ("image",), "The likeliest ImageNet classes of a picture, with probabilities.",
                  {"image": "assets/images/cat.png"}),),
        chapter="Chapter 12: Beyond NLP (Vision Transformers)", iframe_allow="camera; clipboard-write",
    ),
    TaskSpec(
        "clip", "CLIP", "CLIP image-text retrieval", "pipelines.tasks.clip_retrieval:load", "vision",
        "pipelines.tasks.clip_retrieval", "tabs.clip_retrieval",
        (
            Checkpoint("openai/clip-vit-base-patch32", "CLIP ViT-B/32", "clip:clip_b32", 151,
                       why="Fast CLIP: good zero-shot labels and search on a CPU."),
            Checkpoint("openai/clip-vit-base-patch16", "CLIP ViT-B/16", "clip:clip_b16", 150,
                       why="The course's CLIP: finer patches, more accurate, about 4x slower."),
        ),
        (
            Endpoint("zero_shot_image", ("image", "labels"),
                     "Probabilities of your own labels for a picture (CLIP zero-shot).",
                     {"image": "assets/images/cat.png", "labels": "cat, dog, car"}),
            Endpoint("search_images", ("query",), "Rank the example pictures (and uploaded ones) by a text query.",
                     {"query": "a dog in a park"}),
            Endpoint("rank_captions", ("image", "captions"), "Rank captions (one per line) by how well they fit "
                     "a picture.", {"image": "assets/images/dog_park.jpg", "captions": "a dog in a park\na cat"}),
        ),
        chapter="Chapter 12: Beyond NLP (Multimodal Transformers)", iframe_allow="camera; clipboard-write",
        examples="image_labels",
    ),
    TaskSpec(
        "speech", "Speech", "speech transcription", "pipelines.tasks.speech:load", "speech",
        "pipelines.tasks.speech", "tabs.speech",
        (
            Checkpoint("openai/whisper-base", "Whisper base", "whisper:base", 74,
                       why="Multilingual: transcribes about 100 languages and translates them to English."),
            Checkpoint("openai/whisper-tiny", "Whisper tiny", "whisper:tiny", 39,
                       why="Twice as fast, less accurate."),
            Checkpoint("openai/whisper-small", "Whisper small", "whisper:small", 244,
                       why="Much more accurate; wants a GPU.", traits=frozenset({"gpu"})),
        ),
        (Endpoint("transcribe", ("audio",), "Transcribe speech (or translate it to English), with timestamps.",
                  {"audio": "assets/audio/hello.wav"}),),
        chapter="Chapter 12: Beyond NLP (Speech Transformers)", gpu_seconds=90,
        iframe_allow="microphone; clipboard-write",
    ),
    TaskSpec(
        "text-to-image", "Text to image", "text to image", "pipelines.tasks.text_to_image:load", "diffusion",
        "pipelines.tasks.text_to_image", "tabs.text_to_image",
        (
            Checkpoint("stabilityai/sd-turbo", "SD-Turbo", "diffusion:sd_turbo", 1290,
                       why="Distilled Stable Diffusion 2.1: a usable image in 1-4 steps.",
                       companions=(Checkpoint("madebyollin/taesd", "TAESD", "diffusion:taesd", 2.4,
                                              why="Tiny VAE decoder: about 12x faster decoding on a CPU."),)),
        ),
        (Endpoint("generate_image", ("prompt",), "Make a picture from a text prompt (SD-Turbo, 1-4 steps).",
                  {"prompt": "a red car by the sea", "width": 256, "height": 256}),),
        chapter="Chapter 8: Famous Transformer Models (DALL·E: images from text)", gpu_seconds=60,
        examples="text_to_image",
    ),
    TaskSpec(
        "forecasting", "Forecasting", "time-series forecasting", "pipelines.tasks.forecasting:load", "forecasting",
        "pipelines.tasks.forecasting", "tabs.forecasting",
        (
            Checkpoint("amazon/chronos-bolt-small", "Chronos-Bolt small", "chronos:bolt_small", 48,
                       why="T5-based forecaster: quantile forecasts of any series, zero-shot."),
            Checkpoint("amazon/chronos-bolt-tiny", "Chronos-Bolt tiny", "chronos:bolt_tiny", 9,
                       why="Five times smaller and faster, a little less accurate."),
        ),
        (Endpoint("forecast", ("series",), "Forecast a CSV time series: median and 80% band, as a plot, "
                  "a table and a CSV.", {"series": "assets/series/monthly_airline_style.csv", "horizon": 12}),),
        chapter="Cross-Disciplinary Applications: Transformers for Time Series Data",
    ),
)


def borrow(task_id: str, repo_id: str, **changes) -> Checkpoint:
    """A task's checkpoint as an explainer offers it: with the task's loader and family, so the
    explainer and the task share one copy of the model in memory."""
    spec = next(s for s in TASKS if s.id == task_id)
    return replace(spec.checkpoint(repo_id), loader=spec.loader, family=spec.family, **changes)


def _explainer(page_id: str, title: str, summary: str, module: str, checkpoints: tuple[Checkpoint, ...],
               endpoints: tuple[Endpoint, ...], chapter: str, **more) -> TaskSpec:
    """An "Inside the Transformer" page: model side in pipelines.explainers.<module>, UI in tabs.<module>."""
    return TaskSpec(page_id, title, summary, "", "", f"pipelines.explainers.{module}", f"tabs.{module}",
                    checkpoints, endpoints, chapter=chapter, group="inside", **more)


SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
GPT2 = "openai-community/gpt2"
BERT = "google-bert/bert-base-uncased"
WHISPER = "openai/whisper-base"
MINILM = Checkpoint(
    "sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2", "masked_lm:minilm", 23,
    why="A 6-layer BERT (learned positions, LayerNorm) trained for sentence embeddings: small and fast.",
    loader="pipelines.families.encoder:load", family="encoder-only",
)
COURSE_SENTENCE = "Transformers are amazing!"


def _explainers() -> tuple[TaskSpec, ...]:
    smol = borrow("text-generation", SMOLLM2, why="Decoder-only like GPT, with rotary positions, RMSNorm "
                  "and 9 query heads sharing 3 key/value heads.")
    gpt2 = borrow("text-generation", GPT2, why="The course's GPT-2: learned positions, LayerNorm, 12 heads.")
    bert = borrow("fill-mask", BERT, why="The course's BERT: reads both ways; learned positions, 12 heads.")
    whisper = borrow("speech", WHISPER)
    return (
        _explainer(
            "tokens", "Tokens", "tokens and embeddings", "tokens", (MINILM, bert, gpt2, smol, whisper),
            (Endpoint("tokenize", ("text",), "Split a text with several tokenizers side by side: each one's "
                      "pieces, ids and counts.", {"text": COURSE_SENTENCE}),
             Endpoint("nearest_tokens", ("token", "model_id"), "A vocabulary entry's embedding row and its "
                      "nearest neighbours by cosine similarity.",
                      {"token": "cat", "model_id": MINILM.repo_id})),
            "Chapter 2: Core Concepts of Transformers (tokens and embeddings)",
        ),
        _explainer(
            "positions", "Positions", "positional encoding", "positions", (MINILM, bert, gpt2, smol),
            (Endpoint("positional_encoding", ("length", "d_model"), "The course's sinusoidal encoding as a "
                      "position x dimension matrix, and the position-similarity matrix it implies.",
                      {"length": 16, "d_model": 32}),
             Endpoint("model_positions", ("model_id", "length"), "How a real model encodes positions: learned "
                      "vectors (their similarity matrix) or rotary (the score depends only on the offset).",
                      {"model_id": MINILM.repo_id, "length": 16})),
            "Chapter 2: Core Concepts of Transformers (positional encoding); Chapter 11",
        ),
        _explainer(
            "attention", "Attention", "attention lab", "attention", (smol, gpt2, MINILM, bert),
            (Endpoint("attention_example", ("q", "k", "v", "scale", "causal"), "Scaled dot-product attention "
                      "step by step on your own Q, K, V (text like [[1,0],[0,1]]): scores, weights, output.",
                      {"q": "[[1,0,1],[0,1,0],[1,1,0]]", "k": "[[1,0,1],[0,1,0],[1,1,0]]",
                       "v": "[[1,0,1],[0,1,0],[1,1,0]]", "scale": True, "causal": False}),
             Endpoint("attention_map", ("text", "model_id", "layer"), "Every head's attention weights in one "
                      "layer of a real model, with the tokens.",
                      {"text": "The cat sat on the mat.", "model_id": SMOLLM2, "layer": 0}),
             Endpoint("attention_neurons", ("text", "model_id", "layer", "head", "query", "key"),
                      "For one head and one query/key pair: the elements of q and k, their products, sum, "
                      "scale and softmax weight.",
                      {"text": "The cat sat on the mat.", "model_id": SMOLLM2, "layer": 0, "head": 0,
                       "query": 3, "key": 1})),
            "Chapter 3: Self-Attention Mechanism",
        ),
        _explainer(
            "transformer-block", "One block", "inside one Transformer block", "transformer_block",
            (smol, gpt2, MINILM),
            (Endpoint("inside_block", ("text", "model_id", "layer", "token"), "Step through one block for one "
                      "token with real values: residual, normalisation, attention, feed-forward.",
                      {"text": "The cat sat on the mat.", "model_id": SMOLLM2, "layer": 0, "token": 2}),
             Endpoint("ablate_block", ("text", "model_id", "layer", "sublayer"), "Switch off one sub-layer of "
                      "one block and compare the next-token probabilities.",
                      {"text": "The cat sat on the", "model_id": SMOLLM2, "layer": 0, "sublayer": "attention"})),
            "Chapter 4: Transformer Layer Breakdown",
        ),
        _explainer(
            "decoding", "Encoder-decoder", "encoder-decoder decoding", "decoding",
            (borrow("translation", "Helsinki-NLP/opus-mt-en-de"), whisper),
            (Endpoint("decode_step", ("text", "output", "model_id"), "One decoder step of a translation model: "
                      "its masked self-attention, cross-attention over the source, and top candidates.",
                      {"text": "Good morning!", "output": "", "model_id": "Helsinki-NLP/opus-mt-en-de"}),
             Endpoint("decode_audio_step", ("audio", "output"), "One decoder step of Whisper over an audio "
                      "clip: cross-attention over the audio's time axis, and top candidates.",
                      {"audio": "assets/audio/hello.wav", "output": ""})),
            "Chapter 5: Encoder and Decoder",
        ),
        _explainer(
            "next-token", "Next token", "the next-token step", "next_token", (smol, gpt2),
            (Endpoint("next_token", ("prompt", "model_id", "temperature", "top_k", "top_p"), "A prompt's next-"
                      "token candidates with probabilities, before and after temperature, top-k and top-p.",
                      {"prompt": "The capital of France is", "model_id": SMOLLM2, "temperature": 1.0,
                       "top_k": 50, "top_p": 0.9}),
             Endpoint("logit_lens", ("prompt", "model_id"), "What each layer would predict next at the last "
                      "position (the logit lens).", {"prompt": "The capital of France is", "model_id": SMOLLM2}),
             Endpoint("confidence_strip", ("text", "model_id"), "Each token of a text with the probability the "
                      "model gave it, and its top alternatives.",
                      {"text": "The capital of France is Paris.", "model_id": SMOLLM2})),
            "Chapter 3: Self-Attention Mechanism (the next-token step); Chapters 1 and 13",
        ),
        # Build, train and fine-tune: the hands-on chapters, trained in front of the learner.
        _explainer(
            "build-a-transformer", "Build a Transformer", "a Transformer built and trained live",
            "build_transformer", (),
            (Endpoint("train_transformer", ("width",), "Train the course's from-scratch Transformer to reverse "
                      "sentences, streamed: loss, learning rate, gradient norm, held-out accuracy, cross-attention.",
                      {"width": 32, "max_steps": 40, "seed": 0}),
             Endpoint("reverse_sentence", ("text",), "Reverse a sentence with the model this session trained, "
                      "with its cross-attention map.", {"text": "the cat sees a dog"})),
            "Chapter 11: Building Your Own Transformer from Scratch; Chapters 5 and 6",
        ),
        _explainer(
            "training", "Training signals", "training signals on a real model", "training", (smol, gpt2),
            (Endpoint("token_losses", ("text", "model_id"), "Each token's loss under teacher forcing, the mean loss "
                      "and perplexity, and where the model running free first departs from the text.",
                      {"text": "The cat sat on the mat.", "model_id": SMOLLM2}),
             Endpoint("warmup_schedule", ("d_model", "warmup_steps"), "The course's learning-rate schedule with "
                      "warm-up, step by step.", {"d_model": 512, "warmup_steps": 4000})),
            "Chapter 6: Training Transformers",
        ),
        _explainer(
            "fine-tuning", "Fine-tuning", "fine-tuning a pre-trained model", "fine_tuning", (MINILM,),
            (Endpoint("fine_tune", ("frozen_layers",), "Fine-tune all-MiniLM-L6-v2 for sentiment on the bundled "
                      "reviews, streamed: training and validation loss and accuracy per epoch.",
                      {"frozen_layers": 5, "epochs": 1, "seed": 0}),
             Endpoint("classify_sentiment", ("text",), "Positive or negative, with probabilities, by the model this "
                      "session fine-tuned.", {"text": "I love this product!"})),
            "Chapter 14: Fine-Tuning Transformer Models; Chapter 7",
            gpu_seconds=90,  # a training is capped at 90 s (pipelines/explainers/fine_tuning.py)
        ),
        _explainer(
            "cost-lab", "Cost lab", "what a generation costs: speed, memory, attention", "cost_lab", (smol,),
            (Endpoint("compare_speed", ("prompt",), "One prompt through float32 torch and the fast path side by "
                      "side (time to first token, tokens/s, memory, top-5 agreement); the KV cache on and off; "
                      "batch 1 and 4.", {"prompt": "What is the capital of France?", "max_new_tokens": 8}),
             Endpoint("attention_cost", ("max_length",), "A forward pass timed over the input length with a fitted "
                      "quadratic for attention; full attention next to a sliding window (Longformer).",
                      {"max_length": 128, "window": 8, "points": 3})),
            "Chapters 10, 13, 15 and 16: optimizing, limits, efficient attention, serving",
        ),
    )


EXPLAINERS: tuple[TaskSpec, ...] = _explainers()
PAGES: tuple[TaskSpec, ...] = TASKS + EXPLAINERS  # every tab of the app, in order


def task(task_id: str) -> TaskSpec:
    """The page (a task or an explainer) with this id."""
    for spec in PAGES:
        if spec.id == task_id:
            return spec
    raise KeyError(f"Unknown page {task_id!r}; known: {', '.join(t.id for t in PAGES)}")


def by_family(family: str) -> list[tuple[TaskSpec, Checkpoint]]:
    """Every (task, checkpoint) whose model is of this family, in registry order (tasks only: an
    explainer's models are the tasks' own)."""
    if family not in FAMILIES:
        raise KeyError(f"Unknown family {family!r}; known: {', '.join(FAMILIES)}")
    return [(spec, ckpt) for spec in TASKS if spec.family == family for ckpt in spec.checkpoints]
