"""Image classification tab: upload, snap or paste a picture; see the top ImageNet classes.

A bad request (a damaged or non-image file, an unknown model, Top-k out of range) fails alone, with
its sentence: a toast in the page, an error for an API client. Good requests arriving together
still share forward passes (pipelines.tasks.image_classification.Batcher).

Why not Gradio's `batch=True`: a batch shares one fate there (an exception in the function, or in
any input's preprocessing, fails every request in it), and Gradio 6.31's per-request `validator=`
does not work for batched events: it hands the validator one request's values as if they were one
input's batch (a 3-input event fails every call with "didn't receive enough input values"), and with
a single input it ignores the validator's verdict (it arrives as a tuple, which is read as "valid").
So the event is not batched; each request is checked in its own call and then waits for the shared
forward pass. That needs more calls at once than the tab's usual limit (they mostly wait), hence the
event's concurrency limit is MAX_BATCH; the Batcher still runs one forward pass at a time.

Run on its own: python -m tabs.image_classification
"""

from __future__ import annotations

import gradio as gr

from pipelines.inside import image_classification as inside
from pipelines.tasks import image_classification
from pipelines.tasks.image_classification import DEFAULT_TOP_K, MAX_BATCH, MAX_TOP_K
from ui import inside_media_views
from ui.assistants import Tool
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.pictures import image_input, loading_note, probabilities, uploaded_path
from ui.widgets import ASSETS, describe, load_model, model_picker, public_event, status_box, user_errors

EXAMPLES = ["cat.png", "dog_park.jpg", "red_car.png", "fruit.jpg", "house.png", "sunset_sea.jpg"]
# The name each example button gets (a picture example without one has no accessible name).
EXAMPLE_LABELS = {"cat.png": "A ginger cat", "dog_park.jpg": "A dog in a park", "red_car.png": "A red car",
                  "fruit.jpg": "A bowl of fruit", "house.png": "A house", "sunset_sea.jpg": "A sunset over the sea"}


def build(models) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            image = image_input("Picture (upload, webcam or paste)", height=360)
            run = gr.Button("Classify", variant="primary")
        with gr.Column(scale=2):
            labels = gr.Label(num_top_classes=MAX_TOP_K, label="Top classes (ImageNet-1k)")
            status = status_box()
            model = model_picker(models)
            top_k = gr.Slider(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label="Classes shown")
    look = LookInside(models, "Attention rollout: how much of what the [CLS] token ends with flowed from each patch of "
                      "the picture, following attention through every layer (beside the last layer's attention "
                      "alone). It shows where information came from by attention, not why the class was chosen: "
                      "the MLPs are left out, and the map is the same whatever the class.")
    shown = [name for name in EXAMPLES if (ASSETS / "images" / name).is_file()]
    gr.Examples([[str(ASSETS / "images" / name)] for name in shown], example_labels=[EXAMPLE_LABELS[n] for n in shown],
                inputs=[image], label="Example pictures (drawn for this app)")

    @user_errors
    def classify_image(image, model_id=None, top_k=DEFAULT_TOP_K, progress=gr.Progress()):
        """Say what a picture shows: the likeliest of ImageNet's 1,000 classes (animals, objects, scenes),
        with probabilities, from a Vision Transformer.

        Args:
            image: The picture (PNG, JPEG, WebP, ...), as an https:// URL or a data: URL (data:image/png;base64,...).
            model_id: Which model: ViT base/16 (default) or DeiT small/16 (4x smaller, nearly as accurate).
            top_k: How many classes to return, 1 to 20.

        Returns:
            The top classes with their probabilities, and a Markdown status line (model, batch size).
        """
        checked = image_classification.check(models, uploaded_path(image), model_id, top_k)
        load_model(models, checked.model_id, progress)
        result = image_classification.run(models, checked)
        return result.scores, describe(models.get(checked.model_id), f"batch of {result.batch_size}")

    triggers = [run.click, image.upload]
    gr.on(triggers, loading_note(models), [model], [status], queue=False, api_visibility="private")
    # Up to MAX_BATCH handlers at once: they mostly wait for the batcher, which runs one pass at a time
    # (see the module docstring).
    classified = public_event(models, triggers, classify_image, [image, model, top_k], [labels, status],
                              concurrency_limit=MAX_BATCH, preprocess=False,
                              tool=Tool('JSON: {"class name": probability (0 to 1), ...}, likeliest first.',
                                        result=probabilities))
    look.follow(classified, [image, model, top_k, labels], inside.explain, inside_media_views.rollout)

    def code_request(image, model_id, top_k):  # as classify_image checks it, and the picture's file name
        path = uploaded_path(image)
        return image_classification.check(models, path, model_id, top_k), {"image": path}

    code_block(models, Wiring([classified], [image, model, top_k], code_request, preprocess=False),
               example=lambda: code_request(str(ASSETS / "images" / EXAMPLES[0]), None, DEFAULT_TOP_K))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
