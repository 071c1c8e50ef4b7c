"""Look inside image classification: attention rollout over the picture's patches (Abnar & Zuidema, 2020).

A ViT cuts the 224x224 picture into 16x16-pixel patches (196 of them), reads them as tokens after a
[CLS] token (DeiT's distilled models add a distillation token), and classifies from [CLS]'s last vector.
One layer's attention says where [CLS] looked in that layer, but the tokens it looked at had already
mixed with each other in the layers before. Rollout follows the mixing through all layers:

    per layer: A = attention averaged over heads; A' = (A + I) / 2 (the residual path keeps half of
    each token); rows renormalised; rollout R = A'_L ... A'_2 A'_1

The [CLS] row of R over the patch tokens, renormalised to sum to 1, is each patch's share: how much
of the information [CLS] ends with flowed from that patch, by attention alone. It ignores what the
MLPs and the values do and is not specific to the predicted class; raw last-layer attention is sent
beside it for comparison. One forward pass with attention weights (the model switched to eager
attention in place) gives the attentions and the classes, exactly as the tab computes them.
"""

from __future__ import annotations

from pipelines.inside import local_bundle, rounded
from pipelines.inside.pictures import patch_grid, seen_picture
from pipelines.tasks import image_classification as classification

TOP = 3  # classes restated above the view


def explain(models, image, model_id=None, top_k=classification.DEFAULT_TOP_K, scores_shown=None) -> dict:
    """Rollout and last-layer attention of [CLS] over the patches, the picture as the model saw it, and
    its top classes. `scores_shown` is the tab's {class: probability}: a note says if the top class differs."""
    import torch

    request = classification.check(models, image, model_id, top_k)
    bundle = local_bundle(models, request.model_id, attention="eager")
    processor, model = bundle.processor, bundle.model
    pixel_values = processor(images=[request.picture], return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        out = model(pixel_values=pixel_values.to(bundle.device, dtype=model.dtype), output_attentions=True)
    probs = out.logits[0].float().softmax(-1)
    rows, cols = patch_grid(model.config)
    # (layers, tokens, tokens): every layer's attention averaged over its heads
    layers = torch.stack([a[0].float().mean(0) for a in out.attentions]).cpu()
    specials = layers.shape[-1] - rows * cols  # [CLS], and DeiT's distillation token when there is one
    shares = rollout(layers, specials)
    last = layers[-1, 0, specials:]
    top = probs.topk(min(TOP, probs.shape[-1]))
    id2label = model.config.id2label
    classes = [{"label": id2label.get(int(i), f"class {int(i)}"), "probability": rounded(p)}
               for p, i in zip(top.values.tolist(), top.indices.tolist())]
    notes = []
    if scores_shown and isinstance(scores_shown, dict):
        shown = next(iter(scores_shown))
        if not shown.startswith(classes[0]["label"]):  # "crane (class 517)": the tab adds the class number
            notes.append(f"The tab showed “{shown}” first, the model now says “{classes[0]['label']}”: was the "
                         "picture or the model changed while it ran? Classify again to look inside this one.")
    return {
        "model_id": request.model_id,
        "picture": seen_picture(pixel_values, processor.image_mean, processor.image_std),
        "grid": [rows, cols],
        "specials": specials,
        "layers": int(layers.shape[0]),
        "rollout": [rounded(v, 5) for v in shares.tolist()],
        "last_layer": [rounded(v, 5) for v in (last / last.sum()).tolist()],
        "classes": classes,
        "notes": notes,
    }


def rollout(layers, specials: int):
    """Attention rollout of head-averaged attentions `layers` (layers, tokens, tokens), first layer first:
    the [CLS] row over the last tokens (the patches, after `specials`), renormalised to sum to 1."""
    import torch

    eye = torch.eye(layers.shape[-1], dtype=layers.dtype)
    flow = eye
    for attention in layers:
        mixed = 0.5 * attention + 0.5 * eye
        flow = (mixed / mixed.sum(-1, keepdim=True)) @ flow
    shares = flow[0, specials:]
    return shares / shares.sum()
