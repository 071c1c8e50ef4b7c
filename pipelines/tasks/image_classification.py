"""Image classification with a Vision Transformer: a picture in, the likeliest ImageNet classes out.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import image_classification
    models = ModelManager(Settings(model_source="tiny")).task("image-classification")
    image_classification.classify(models, "assets/images/cat.png").scores   # {"tabby, tabby cat": 0.41, ...}

Each request is checked on its own (`check` opens the picture), so a damaged or non-image file fails
that request alone, with its sentence. Checked requests then share forward passes: requests that
arrive while the model is busy go through it together in the next pass (`Batcher`, one per loaded
model). Gradio's own `batch=True` cannot do this: it fails every request of a batch when one fails,
and its per-request `validator=` does not work for batched events in Gradio 6.31 (see the tab).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable

from pipelines.core import checks
from pipelines.core.bundle import Bundle, LoadRequest, load_pretrained
from pipelines.readers.images import open_image

DEFAULT_TOP_K = 5
MAX_TOP_K = 20
MAX_BATCH = 8  # images per forward pass: 8 at 224x224 is ~0.3 GB of ViT-B activations
BATCHER = "batcher"  # the key of the model's Batcher in bundle.extras


class Batcher:
    """Natural batching: one forward pass at a time; requests that arrive meanwhile share the next.

    No timer: a request that finds the model idle runs at once, alone. The callers' threads take
    turns; whoever gets the turn while its own request is still waiting runs everything waiting (up to
    `max_size`) and hands each caller its own result. It lives in bundle.extras, with its model."""

    def __init__(self, max_size: int = MAX_BATCH):
        self.max_size = max_size
        self._waiting: list[tuple[Any, Future]] = []
        self._lock = threading.Lock()  # guards _waiting
        self._turn = threading.Lock()  # held by the thread running a forward pass

    @property
    def pending(self) -> int:
        """Requests waiting for the next forward pass."""
        with self._lock:
            return len(self._waiting)

    def submit(self, item, run: Callable[[list], list]) -> tuple[Any, int]:
        """`run(items)` returns one result per item. Returns this item's result and the batch size."""
        future: Future = Future()
        with self._lock:
            self._waiting.append((item, future))
        while not future.done():
            with self._turn:
                if future.done():  # served by the thread that had the turn before us
                    break
                with self._lock:
                    batch, self._waiting = self._waiting[:self.max_size], self._waiting[self.max_size:]
                try:
                    results = run([i for i, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError(f"a batch of {len(batch)} got {len(results)} results")
                except BaseException as exc:  # every caller of this batch gets the error, none hangs
                    for _, waiter in batch:
                        waiter.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for (_, waiter), result in zip(batch, results):
                        waiter.set_result((result, len(batch)))
        return future.result()


# A process-wide limit, not state: a 150-megapixel PNG takes about 600 MB while it decodes, and the
# event admits MAX_BATCH requests at once so that they can share forward passes.
DECODING = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class Request:
    picture: Any  # an RGB PIL image, already opened and checked
    model_id: str
    top_k: int


@dataclass(frozen=True)
class Result:
    scores: dict[str, float]  # label -> probability, best first
    batch_size: int  # how many requests shared the forward pass


def load(request: LoadRequest) -> Bundle:
    from transformers import AutoImageProcessor, ViTForImageClassification

    # backend="pil": torchvision does not import beside our torch, and the PIL processors are the
    # reference implementation. AutoImageProcessor reads the checkpoint's own processor type, so
    # DeiT keeps its resize-256/crop-224 while ViT squashes to 224x224.
    return load_pretrained(request, ViTForImageClassification, AutoImageProcessor,
                           processor_kwargs={"backend": "pil"}, extras={BATCHER: Batcher(MAX_BATCH)})


def check(models, image, model_id: str | None = None, top_k=DEFAULT_TOP_K) -> Request:
    """The request, or UserInputError with the sentence that explains what is wrong with it."""
    repo_id = models.checkpoint(model_id).repo_id
    k = checks.whole_number("Top-k", DEFAULT_TOP_K if top_k is None else top_k, 1, MAX_TOP_K)
    with DECODING:  # the tab lets MAX_BATCH requests in at once; their pictures decode two at a time
        picture = open_image(image)
    return Request(picture, repo_id, k)


def run(models, request: Request) -> Result:
    """Classify one checked picture, sharing the forward pass with requests that wait at the same time."""
    if models.remote:  # an Inference Endpoint classifies (pipelines/remote/): nothing loads here
        from pipelines.remote import hf_endpoint

        return hf_endpoint.classify(models, request)
    bundle = models.bundle(request.model_id)

    def forward(items: list[Request]) -> list[dict[str, float]]:
        return top_classes(bundle, [r.picture for r in items], max(r.top_k for r in items))

    scores, size = bundle.extras[BATCHER].submit(request, forward)
    return Result(dict(list(scores.items())[:request.top_k]), size)  # best first: the first k are the top k


def classify(models, image, model_id: str | None = None, top_k=DEFAULT_TOP_K) -> Result:
    """check() then run(): the whole task in one call."""
    return run(models, check(models, image, model_id, top_k))


def top_classes(bundle: Bundle, pictures: list, k: int) -> list[dict[str, float]]:
    """The k likeliest classes of each picture, best first, in one forward pass."""
    import torch

    inputs = bundle.processor(images=pictures, return_tensors="pt")
    pixel_values = inputs["pixel_values"].to(bundle.device, dtype=bundle.model.dtype)
    with torch.inference_mode():
        probs = bundle.model(pixel_values=pixel_values).logits.float().softmax(dim=-1)
    values, indices = probs.topk(min(k, probs.shape[-1]), dim=-1)
    id2label = bundle.model.config.id2label
    out = []
    for row_values, row_indices in zip(values.tolist(), indices.tolist()):
        scores: dict[str, float] = {}
        for p, idx in zip(row_values, row_indices):
            label = id2label.get(idx, f"class {idx}")
            if label in scores:  # ImageNet names "crane" and "maillot" twice: keep both apart
                label = f"{label} (class {idx})"
            scores[label] = float(p)
        out.append(scores)
    return out
