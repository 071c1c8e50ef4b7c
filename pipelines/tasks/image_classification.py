"""Image classification with a Vision Transformer: a picture in, the likeliest ImageNet classes out.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import image_classification
    models = ModelManager(Settings(model_source="tiny"))
    image_classification.classify(models, "assets/images/cat.png")   # {"tabby, tabby cat": 0.41, ...}

`classify_batch` serves many requests with one forward pass (the tab's Gradio event has batch=True).
One bad picture must not fail its neighbours (Gradio fails every request of a batch when the function
raises), so it returns, per item, either the scores or the error that explains that picture's problem.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from pipelines.core.errors import PlaygroundError, UserInputError
from pipelines.core.loading import LoadRequest
from pipelines.readers.images import open_image

TASK_ID = "image-classification"
DEFAULT_TOP_K = 5
MAX_TOP_K = 20
MAX_BATCH = 8  # images per forward pass: 8 at 224x224 is ~0.3 GB of ViT-B activations


@dataclass
class ImageClassifier:
    model: object  # ViTForImageClassification
    processor: object  # ViTImageProcessorPil or DeiTImageProcessorPil, as the checkpoint says
    device: str
    # Observability (and tests): forward passes so far and the sizes of the latest batches.
    forward_calls: int = 0
    recent_batch_sizes: deque = field(default_factory=lambda: deque(maxlen=64))
    _stats_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def load(request: LoadRequest) -> ImageClassifier:
    from transformers import AutoImageProcessor, ViTForImageClassification

    loc = request.location
    # backend="pil": torchvision does not import beside our torch, and the PIL processors are the
    # reference implementation. AutoImageProcessor reads the checkpoint's own processor type, so
    # DeiT keeps its resize-256/crop-224 while ViT squashes to 224x224.
    processor = AutoImageProcessor.from_pretrained(loc.source, backend="pil", **loc.pretrained_kwargs)
    model = ViTForImageClassification.from_pretrained(loc.source, dtype=request.placement.dtype,
                                                      **loc.pretrained_kwargs)
    model.to(request.placement.device).eval()
    return ImageClassifier(model, processor, request.placement.device)


def check_top_k(top_k) -> int:
    try:
        k = int(top_k if top_k is not None else DEFAULT_TOP_K)
    except (TypeError, ValueError):
        raise UserInputError(f"Top-k must be a whole number from 1 to {MAX_TOP_K}; got {top_k!r}.") from None
    if not 1 <= k <= MAX_TOP_K:
        raise UserInputError(f"Top-k must be a whole number from 1 to {MAX_TOP_K}; got {top_k}.")
    return k


def classify(models, image, model_id: str | None = None, top_k: int = DEFAULT_TOP_K) -> dict[str, float]:
    """The top_k classes of one picture, best first, as {label: probability}."""
    result = classify_batch(models, [image], model_id, top_k)[0]
    if isinstance(result, Exception):
        raise result
    return result


def classify_batch(models, images: list, model_ids=None, top_ks=DEFAULT_TOP_K) -> list:
    """For each picture, its {label: probability} or the PlaygroundError that explains why it could not
    be classified. `model_ids` and `top_ks` are one value for all or one per picture (a Gradio batch
    mixes requests from different people). Pictures for the same model share forward passes."""
    n = len(images)
    model_ids = model_ids if isinstance(model_ids, (list, tuple)) else [model_ids] * n
    top_ks = top_ks if isinstance(top_ks, (list, tuple)) else [top_ks] * n
    results: list = [None] * n
    groups: dict[str | None, list[tuple[int, object, int]]] = {}
    for i, (source, model_id, top_k) in enumerate(zip(images, model_ids, top_ks)):
        try:
            groups.setdefault(model_id or None, []).append((i, open_image(source), check_top_k(top_k)))
        except UserInputError as exc:
            results[i] = exc
    for model_id, items in groups.items():
        try:
            clf = models.get(TASK_ID, model_id).bundle
        except PlaygroundError as exc:  # unknown or unloadable model: only its requests fail
            for i, _, _ in items:
                results[i] = exc
            continue
        for start in range(0, len(items), MAX_BATCH):
            chunk = items[start:start + MAX_BATCH]
            most = max(k for _, _, k in chunk)
            for (i, _, k), scores in zip(chunk, _top_k(clf, [img for _, img, _ in chunk], most)):
                results[i] = dict(list(scores.items())[:k])  # best first, so the first k are the top k
    return results


def _top_k(clf: ImageClassifier, pictures: list, k: int) -> list[dict[str, float]]:
    import torch

    inputs = clf.processor(images=pictures, return_tensors="pt")
    pixel_values = inputs["pixel_values"].to(clf.device, dtype=clf.model.dtype)
    with clf._stats_lock:
        clf.forward_calls += 1
        clf.recent_batch_sizes.append(len(pictures))
    with torch.inference_mode():
        probs = clf.model(pixel_values=pixel_values).logits.float().softmax(dim=-1)
    values, indices = probs.topk(min(k, probs.shape[-1]), dim=-1)
    id2label = clf.model.config.id2label
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
