"""Image classification tab: upload, snap or paste a picture; see the top ImageNet classes.

Requests are batched (Gradio `batch=True`): pictures that arrive together go through the ViT in one
forward pass. A batch shares one fate in Gradio: an exception in the function, or in any input
component's preprocessing (gr.Image opening a corrupt file, gr.Dropdown refusing an unknown model,
gr.Slider an out-of-range value), fails every request in it. So the event runs with preprocess=False
and checks each request itself; a request that cannot be served gets its own error *value*: the Label
shows the sentence ("⚠️ The file … is not an image …", no confidences) and the status line repeats
it. API users receive the same pair.

Run on its own: python -m tabs.image_classification
"""

from __future__ import annotations

import gradio as gr

from pipelines.core.errors import PlaygroundError
from pipelines.core.registry import task
from pipelines.tasks import image_classification
from pipelines.tasks.image_classification import DEFAULT_TOP_K, MAX_BATCH, MAX_TOP_K
from ui.widgets import ASSETS, default_concurrency, describe, loading_status, model_picker, status_box, user_errors

SPEC = task("image-classification")
SOURCES = ["upload", "webcam", "clipboard"]
EXAMPLES = ["cat.png", "dog_park.jpg", "red_car.png", "fruit.jpg", "house.png", "sunset_sea.jpg"]
ERROR_MARK = "⚠️ "


def image_input(label: str, **kwargs) -> gr.Image:
    """The picture input of the image tabs. Their events use preprocess=False (see `uploaded_path`)."""
    return gr.Image(label=label, sources=SOURCES, type="filepath", image_mode=None, **kwargs)


def uploaded_path(payload) -> str | None:
    """The file path (or pasted data: URL) of a raw gr.Image/gr.File payload.

    Our image events run with preprocess=False: gr.Image's own preprocessing opens the file with PIL,
    so a corrupt or non-image upload would fail inside Gradio with a generic message (and, in a batch,
    fail everyone's request). Gradio still copies the upload into its cache and refuses paths that
    were not uploaded; `pipelines.readers.images.open_image` then explains any problem in a sentence.
    """
    if payload is None or isinstance(payload, str):
        return payload or None
    if isinstance(payload, dict):
        return payload.get("path") or payload.get("url")
    return getattr(payload, "path", None) or getattr(payload, "url", None)


def build(models) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            image = image_input("Picture (upload, webcam or paste)", height=360)
            run = gr.Button("Classify", variant="primary")
        with gr.Column(scale=2):
            labels = gr.Label(num_top_classes=MAX_TOP_K, label="Top classes (ImageNet-1k)")
            status = status_box()
            model = model_picker(SPEC)
            top_k = gr.Slider(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label="Classes shown")
    gr.Examples([[str(ASSETS / "images" / name)] for name in EXAMPLES if (ASSETS / "images" / name).is_file()],
                inputs=[image], label="Example pictures (drawn for this app)")

    @user_errors  # only bugs get here (whole batch); a bad picture is an error value for its request alone
    def classify_image(image, model_id, top_k):
        """Batched: each argument is a list with one entry per waiting request (names are the API's)."""
        paths = [uploaded_path(item) for item in image]
        results = image_classification.classify_batch(models, paths, list(model_id), list(top_k))
        label_values, statuses = [], []
        for result, one_model in zip(results, model_id):
            if isinstance(result, PlaygroundError):
                label_values.append(ERROR_MARK + str(result))
                statuses.append(ERROR_MARK + str(result))
            else:
                label_values.append(result)
                statuses.append(describe(models.get(SPEC.id, one_model), f"batch of {len(image)}"))
        return label_values, statuses

    def loading_note(model_id):
        try:
            return loading_status(models, SPEC, model_id)
        except PlaygroundError as exc:
            return ERROR_MARK + str(exc)

    gr.on([run.click, image.upload], loading_note, [model], [status], queue=False, api_visibility="private")
    gr.on([run.click, image.upload], classify_image, [image, model, top_k], [labels, status],
          api_name="classify_image", batch=True, max_batch_size=MAX_BATCH, preprocess=False,
          concurrency_id=SPEC.id,
          concurrency_limit=default_concurrency(models))


if __name__ == "__main__":
    from app import launch_single

    launch_single(SPEC.id)
