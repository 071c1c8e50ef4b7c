"""Look inside CLIP (zero-shot labels, ranked captions): which patches of the picture match each of the best
texts, as a similarity map over the picture.

CLIP's image embedding is the [CLS] token's last vector through the vision tower's final LayerNorm and
its projection into the shared space. Each patch token's last vector goes through the same two steps
here, and its cosine with a text's embedding is that patch's value. That is an approximation: only
[CLS] was trained to be matched with texts, the patch tokens never were (they are read by [CLS] through
attention), so the maps are noisy and can even be highest off the object. They show where in the picture
the shared space lines up with a text, not why the picture was labelled so.

One pass through the vision tower gives both the picture's embedding (so the probabilities restated above
the maps are the tab's, computed the same way) and the patch vectors; the texts are embedded as the task
embeds them.
"""

from __future__ import annotations

from pipelines.inside import local_bundle, rounded
from pipelines.inside.pictures import patch_grid, seen_picture
from pipelines.tasks import clip_retrieval as clip

MAPS = 3  # the best texts get a map each; the rest are listed with their probability


def explain(models, image, labels, template=clip.DEFAULT_TEMPLATE, model_id=None, shown=None) -> dict:
    """Zero-shot labels: similarity maps of the picture's patches with the best labels' prompts. `shown` is
    the tab's {label: probability}: a note says if its best label differs from the one computed now."""
    return similarity_maps(models, clip.check_zero_shot(models, image, labels, template, model_id), shown)


def explain_captions(models, image, captions, model_id=None, shown=None) -> dict:
    """Ranked captions: similarity maps of the picture's patches with the best captions."""
    return similarity_maps(models, clip.check_captions(models, image, captions, model_id), shown)


def similarity_maps(models, request: clip.TextsForImage, shown=None) -> dict:
    import torch

    bundle = local_bundle(models, request.model_id)
    model, image_processor = bundle.model, bundle.processor.image_processor
    pixel_values = image_processor(images=[request.picture], return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        vision = model.vision_model(pixel_values=pixel_values.to(bundle.device, dtype=model.dtype))
        picture = model.visual_projection(vision.pooler_output).float()  # [CLS], as get_image_features
        patches = model.visual_projection(model.vision_model.post_layernorm(vision.last_hidden_state[0, 1:])).float()
    normalize = torch.nn.functional.normalize
    picture, patches = normalize(picture, dim=-1), normalize(patches, dim=-1)
    texts = clip._embed_texts(bundle, list(request.prompts))  # normalised, exactly as the task embeds them
    similarity = (picture @ texts.T)[0]
    probabilities = (similarity * clip._logit_scale(bundle)).softmax(-1)
    order = probabilities.argsort(descending=True).tolist()
    patch_similarity = (patches @ texts.T).T.cpu()  # (texts, patches): cosines in -1..1
    rows, cols = patch_grid(model.config.vision_config)
    maps = [{"text": request.names[i], "prompt": request.prompts[i], "probability": rounded(probabilities[i]),
             "similarity": rounded(similarity[i]), "patches": [rounded(v) for v in patch_similarity[i].tolist()]}
            for i in order[:MAPS]]
    notes = []
    if shown and isinstance(shown, dict) and next(iter(shown)) != maps[0]["text"]:
        notes.append(f"The tab showed “{next(iter(shown))}” first, the model now says “{maps[0]['text']}”: was "
                     "the picture, a text or the model changed while it ran? Run it again to look inside this one.")
    return {
        "model_id": request.model_id,
        "picture": seen_picture(pixel_values, image_processor.image_mean, image_processor.image_std),
        "grid": [rows, cols],
        "maps": maps,
        "others": [{"text": request.names[i], "probability": rounded(probabilities[i])} for i in order[MAPS:]],
        "notes": notes,
    }
