"""Every task of the playground, declared once.

A task entry names its pipeline module (model side), its tab module (UI side), its default checkpoint
first, then a short curated list of alternatives: a user can pick only these, which is also why
`trust_remote_code` is never needed. Each checkpoint names the builder of its tiny offline miniature
("module:function" under pipelines.miniatures), which makes a randomly initialised model of the same
classes and config fields, small enough to build in seconds.

Adding a task: one entry here, one module in pipelines/, one in tabs/, one test file.

Revisions: the hub cannot be reached from where this was written, so commit hashes could not be
looked up and checked; `revision` stays "main" until someone with hub access pins them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.errors import UserInputError


@dataclass(frozen=True)
class Checkpoint:
    repo_id: str
    label: str  # what the model picker shows
    miniature: str  # "module:function" in pipelines.miniatures that builds the offline stand-in
    params_m: float  # parameters in millions, to estimate memory before loading
    revision: str = "main"
    why: str = ""  # one line shown under the picker: what this model is good for
    # Free-form facts a pipeline needs: "chat" (has a chat template), "no-answer" (SQuAD2-style QA),
    # "gpu" (too slow for a CPU Space), "english-only".
    traits: frozenset[str] = frozenset()
    languages: tuple[str, str] | None = None  # translation: (source, target) ISO codes
    companions: tuple["Checkpoint", ...] = ()  # other repos loaded with this one (e.g. a tiny VAE)


@dataclass(frozen=True)
class TaskSpec:
    id: str  # also the tab id used in deep links: /?tab=<id>
    title: str
    pipeline: str  # dotted module path (model side; never imports gradio)
    tab: str  # dotted module path (UI side; never imports torch)
    checkpoints: tuple[Checkpoint, ...] = field(default_factory=tuple)
    chapter: str = ""  # the course chapter this tab accompanies

    @property
    def default(self) -> Checkpoint:
        return self.checkpoints[0]

    def checkpoint(self, repo_id: str | None) -> Checkpoint:
        """The curated checkpoint with this id (the default for None); anything else is refused."""
        if not repo_id:
            return self.default
        for ckpt in self.checkpoints:
            if repo_id in (ckpt.repo_id, ckpt.label):
                return ckpt
        choices = ", ".join(c.repo_id for c in self.checkpoints)
        raise UserInputError(f"Unknown model {repo_id!r} for {self.title}. Choose one of: {choices}.")


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

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        "text-generation", "Text generation", "pipelines.text_generation", "tabs.text_generation",
        (
            _SMOLLM2,
            Checkpoint("openai-community/gpt2", "GPT-2", "causal_lm:gpt2", 124,
                       why="The course's GPT-2: continues a text, does not follow instructions."),
            Checkpoint("Qwen/Qwen2.5-0.5B-Instruct", "Qwen2.5-0.5B-Instruct", "causal_lm:qwen2", 494,
                       why="Larger multilingual chat model: better answers, about 4x slower.",
                       traits=frozenset({"chat"})),
        ),
        chapter="Chapter 1: Introduction to Transformers",
    ),
    TaskSpec(
        "translation", "Translation", "pipelines.translation", "tabs.translation",
        tuple(_mt(s, t) for s, t in (("en", "de"), ("de", "en"), ("en", "fr"), ("fr", "en"),
                                     ("en", "es"), ("es", "en"))),
        chapter="Chapter 7: Applications of Transformers (Machine Translation)",
    ),
    TaskSpec(
        "summarization", "Summarization", "pipelines.summarization", "tabs.summarization",
        (
            Checkpoint("sshleifer/distilbart-cnn-12-6", "DistilBART CNN 12-6", "seq2seq:distilbart", 306,
                       why="BART distilled for news summaries: fluent 2-4 sentence abstracts."),
            Checkpoint("google-t5/t5-small", "T5 small", "seq2seq:t5", 61,
                       why="The course's T5 in its smallest size: 5x faster, plainer summaries."),
        ),
        chapter="Chapter 7: Applications of Transformers (Text Summarization)",
    ),
    TaskSpec(
        "question-answering", "Question answering", "pipelines.question_answering",
        "tabs.question_answering",
        (
            Checkpoint("distilbert/distilbert-base-cased-distilled-squad", "DistilBERT SQuAD",
                       "extractive_qa:distilbert", 65,
                       why="Fast BERT-family reader trained on SQuAD: always picks a span."),
            Checkpoint("deepset/roberta-base-squad2", "RoBERTa SQuAD2", "extractive_qa:roberta", 124,
                       why="Trained on SQuAD 2.0: says 'no answer' when the context has none.",
                       traits=frozenset({"no-answer"})),
        ),
        chapter="Chapter 7: Applications of Transformers (Question Answering)",
    ),
    TaskSpec(
        "code-completion", "Code completion", "pipelines.code_completion", "tabs.code_completion",
        (
            Checkpoint("bigcode/tiny_starcoder_py", "tiny_starcoder_py", "causal_lm:starcoder", 164,
                       why="StarCoder trained on Python only: quick single-line and function completions."),
            _SMOLLM2,
            Checkpoint("Qwen/Qwen2.5-Coder-0.5B", "Qwen2.5-Coder-0.5B", "causal_lm:qwen2", 494,
                       why="Stronger code model in many languages, about 3x slower on a CPU."),
        ),
        chapter="Chapter 7: Applications of Transformers (Code Completion)",
    ),
    TaskSpec(
        "image-classification", "Image classification", "pipelines.image_classification",
        "tabs.image_classification",
        (
            Checkpoint("google/vit-base-patch16-224", "ViT base/16", "vision:vit", 86,
                       why="The original Vision Transformer, ImageNet's 1,000 classes."),
            Checkpoint("facebook/deit-small-patch16-224", "DeiT small/16", "vision:deit", 22,
                       why="A 4x smaller ViT trained with distillation: nearly as accurate, much faster."),
        ),
        chapter="Chapter 12: Beyond NLP (Vision Transformers)",
    ),
    TaskSpec(
        "clip", "CLIP", "pipelines.clip_retrieval", "tabs.clip_retrieval",
        (
            Checkpoint("openai/clip-vit-base-patch32", "CLIP ViT-B/32", "clip:clip_b32", 151,
                       why="Fast CLIP: good zero-shot labels and search on a CPU."),
            Checkpoint("openai/clip-vit-base-patch16", "CLIP ViT-B/16", "clip:clip_b16", 150,
                       why="The course's CLIP: finer patches, more accurate, about 4x slower."),
        ),
        chapter="Chapter 12: Beyond NLP (Multimodal Transformers)",
    ),
    TaskSpec(
        "speech", "Speech", "pipelines.speech", "tabs.speech",
        (
            Checkpoint("openai/whisper-base", "Whisper base", "whisper:base", 74,
                       why="Multilingual: transcribes about 100 languages and translates them to English."),
            Checkpoint("openai/whisper-tiny", "Whisper tiny", "whisper:tiny", 39,
                       why="Twice as fast, less accurate."),
            Checkpoint("openai/whisper-small", "Whisper small", "whisper:small", 244,
                       why="Much more accurate; wants a GPU.", traits=frozenset({"gpu"})),
        ),
        chapter="Chapter 12: Beyond NLP (Speech Transformers)",
    ),
    TaskSpec(
        "text-to-image", "Text to image", "pipelines.text_to_image", "tabs.text_to_image",
        (
            Checkpoint("stabilityai/sd-turbo", "SD-Turbo", "diffusion:sd_turbo", 1290,
                       why="Distilled Stable Diffusion 2.1: a usable image in 1-4 steps.",
                       companions=(Checkpoint("madebyollin/taesd", "TAESD", "diffusion:taesd", 2.4,
                                              why="Tiny VAE decoder: about 12x faster decoding on a CPU."),)),
        ),
        chapter="Chapter 8: Famous Transformer Models (DALL·E: images from text)",
    ),
    TaskSpec(
        "forecasting", "Forecasting", "pipelines.forecasting", "tabs.forecasting",
        (
            Checkpoint("amazon/chronos-bolt-small", "Chronos-Bolt small", "chronos:bolt_small", 48,
                       why="T5-based forecaster: quantile forecasts of any series, zero-shot."),
            Checkpoint("amazon/chronos-bolt-tiny", "Chronos-Bolt tiny", "chronos:bolt_tiny", 9,
                       why="Five times smaller and faster, a little less accurate."),
        ),
        chapter="Cross-Disciplinary Applications: Transformers for Time Series Data",
    ),
)


def task(task_id: str) -> TaskSpec:
    for spec in TASKS:
        if spec.id == task_id:
            return spec
    raise KeyError(f"Unknown task {task_id!r}; known: {', '.join(t.id for t in TASKS)}")
