"""CLIP tab: zero-shot labels for a picture, pictures ranked by a text, captions ranked by a picture.

All three share one model picker; the gallery's image embeddings are computed once per model and kept
(see pipelines.tasks.clip_retrieval), so a second search only embeds the query.

Run on its own: python -m tabs.clip_retrieval
"""

from __future__ import annotations

import gradio as gr

from pipelines.inside import clip_retrieval as inside
from pipelines.tasks import clip_retrieval as clip
from ui import inside_media_views
from ui.assistants import Tool, as_json
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.pictures import image_input, loading_note, probabilities, uploaded_path
from ui.widgets import (
    ASSETS,
    describe,
    examples,
    load_model,
    model_picker,
    progress_bar,
    public_event,
    status_box,
    user_errors,
)

IMAGES = ASSETS / "images"
INSIDE = ("Which patches of the picture match the best {what} (a similarity map): each patch's last vector taken "
          "through CLIP's final LayerNorm and projection, and compared with the text's (cosine). An approximation, "
          "not an explanation: only the whole picture's vector was trained to match texts, never the patches'.")
DEFAULT_LABELS = "cat, dog, car, house, fruit, sunset"
PICTURE_HEIGHT = 300  # it sits beside its texts, button and result (not above them), so it may be this tall
DEFAULT_CAPTIONS = "\n".join([
    "a cat's face", "a dog in a park with grass, trees and sky", "a red car on a road",
    "a banana, an apple and an orange in a bowl", "a house with a red roof", "a sunset over the sea",
])


def build(models) -> None:
    default_model = models.spec.default.repo_id
    model = model_picker(models)
    status = status_box()

    # Each tab: the picture (or query) on the left; its text, the button and the result on the right, so in
    # an 800x600 iframe the button sits under the model picker and the result appears right below it.
    with gr.Tabs(overflow_behavior="wrap"):  # all three visible on a phone, none behind "⋯"
        with gr.Tab("Zero-shot labels"):
            with gr.Row():
                zs_image = image_input("Picture", height=PICTURE_HEIGHT)
                with gr.Column():
                    zs_labels = gr.Textbox(DEFAULT_LABELS, label="Labels (comma-separated, 2 to 50)")
                    zs_run = gr.Button("Label the picture", variant="primary")
                    zs_out = gr.Label(num_top_classes=clip.MAX_CHOICES, label="Probability of each label")
            with gr.Accordion("Advanced", open=False):
                template = gr.Textbox(clip.DEFAULT_TEMPLATE, label="Prompt template",
                                      info="Each label replaces {label}: CLIP was trained on captions.")
            zs_look = LookInside(models, INSIDE.format(what="labels"))
            gr.Examples([[str(IMAGES / "cat.png"), "cat, dog, car", clip.DEFAULT_TEMPLATE],
                         [str(IMAGES / "dog_park.jpg"), "a dog in a park, a cat on a sofa, a car on a road",
                          "{label}"]],
                        inputs=[zs_image, zs_labels, template], label="Examples (the course's 'a photo of a cat')")

        with gr.Tab("Search pictures by text"):
            with gr.Row():
                with gr.Column(scale=2):
                    query = gr.Textbox("a dog in a park", label="What to look for")
                    search_run = gr.Button("Search", variant="primary")
                    # Below the button: the example pictures are enough for a first search.
                    uploads = gr.File(file_count="multiple", file_types=["image"], label="Add your own pictures")
                    bundled = gr.Checkbox(clip.INCLUDE_BUNDLED,
                                          label=f"Include the {len(clip.bundled_gallery())} example pictures")
                with gr.Column(scale=3):
                    gallery = gr.Gallery(label="Best match first", columns=3, height=420, object_fit="contain")
                    table = gr.Dataframe(headers=["rank", "picture", "similarity", "probability"],
                                         label="Scores", interactive=False)
            gr.Examples([[q] for q in examples(models.spec.examples)], inputs=[query])

        with gr.Tab("Rank captions for a picture"):
            with gr.Row():
                rc_image = image_input("Picture", height=PICTURE_HEIGHT)
                with gr.Column():
                    # max_lines: a long list scrolls inside the box instead of pushing the button down
                    captions = gr.Textbox(DEFAULT_CAPTIONS, lines=6, max_lines=6,
                                          label="Captions (one per line, 2 to 50)")
                    rc_run = gr.Button("Rank the captions", variant="primary")
                    rc_out = gr.Label(num_top_classes=clip.MAX_CHOICES, label="Best caption first")
            rc_look = LookInside(models, INSIDE.format(what="captions"))
            # example_labels: a picture example without one is a button with no accessible name.
            gr.Examples([[str(IMAGES / name)] for name in ("dog_park.jpg", "fruit.jpg", "sunset_sea.jpg")],
                        example_labels=["A dog in a park", "A bowl of fruit", "A sunset over the sea"],
                        inputs=[rc_image])

    def status_line(model_id, extra: str) -> str:
        return describe(models.get(model_id), extra)

    @user_errors
    def zero_shot_image(image, labels, template=clip.DEFAULT_TEMPLATE, model_id=default_model,
                        progress=gr.Progress()):
        """Classify a picture into labels you choose (CLIP zero-shot): how well each label fits the picture,
        as probabilities that add up to 1 over the labels given. No training on those labels is needed.

        Args:
            image: The picture, as an https:// URL or a data: URL (data:image/png;base64,...).
            labels: 2 to 50 labels, comma-separated, e.g. "cat, dog, car" (required).
            template: A caption with {label} where each label goes; CLIP reads "a photo of a cat" better than "cat".
            model_id: Which CLIP: ViT-B/32 (default, fast) or ViT-B/16 (more accurate, about 4x slower).

        Returns:
            The probability of each label, and a Markdown status line.
        """
        checked = clip.check_zero_shot(models, uploaded_path(image), labels, template, model_id)
        load_model(models, checked.model_id, progress)
        probs = clip.run(models, checked)
        return probs, status_line(checked.model_id, f"{len(probs)} labels")

    @user_errors
    def search_images(query, images=None, include_examples=clip.INCLUDE_BUNDLED, model_id=default_model,
                      progress=gr.Progress()):
        """Rank pictures by how well they match a text (CLIP image search): the app's example pictures (a cat,
        a dog in a park, a red car, fruit, a house, a sunset, ...) and any pictures given.

        Args:
            query: What to look for, e.g. "a dog in a park" (required).
            images: More pictures to rank, each an https:// URL or a data: URL (optional).
            include_examples: Also rank the app's example pictures (default true).
            model_id: Which CLIP: ViT-B/32 (default, fast) or ViT-B/16 (more accurate, about 4x slower).

        Returns:
            The pictures best match first, a table of their scores, and a Markdown status line.
        """
        extra = [uploaded_path(f) for f in (images or [])]
        checked = clip.check_search(models, query, extra, include_examples, model_id)
        load_model(models, checked.model_id, progress)
        hits = clip.run(models, checked, progress_bar(progress))
        pictures = [(h.path, f"{rank}. {h.name} · {h.similarity:.3f}") for rank, h in enumerate(hits, 1)]
        rows = [[rank, h.name, round(h.similarity, 4), round(h.probability, 4)]
                for rank, h in enumerate(hits, 1)]
        return pictures, rows, status_line(checked.model_id, f"{len(hits)} pictures ranked")

    @user_errors
    def rank_captions(image, captions, model_id=default_model, progress=gr.Progress()):
        """Rank captions by how well they describe a picture (CLIP), as probabilities over the captions given.

        Args:
            image: The picture, as an https:// URL or a data: URL (data:image/png;base64,...).
            captions: 2 to 50 captions, one per line, e.g. "a dog in a park\na cat on a sofa" (required).
            model_id: Which CLIP: ViT-B/32 (default, fast) or ViT-B/16 (more accurate, about 4x slower).

        Returns:
            The probability of each caption, best first, and a Markdown status line.
        """
        checked = clip.check_captions(models, uploaded_path(image), captions, model_id)
        load_model(models, checked.model_id, progress)
        probs = clip.run(models, checked)
        return probs, status_line(checked.model_id, f"{len(probs)} captions")

    wiring = [
        ([zs_run.click, zs_image.upload], zero_shot_image, [zs_image, zs_labels, template, model],
         [zs_out, status], Tool('JSON: {"label": probability (0 to 1), ...}, likeliest first.', probabilities)),
        ([search_run.click, query.submit], search_images, [query, uploads, bundled, model],
         [gallery, table, status], Tool('JSON: {"results": [{"rank", "picture" (file name), "similarity", '
                                        '"probability"}, ...]}, best match first.', search_results)),
        ([rc_run.click, rc_image.upload], rank_captions, [rc_image, captions, model], [rc_out, status],
         Tool('JSON: {"caption": probability (0 to 1), ...}, best first.', probabilities)),
    ]
    events = []
    for triggers, fn, inputs, outputs, tool in wiring:
        gr.on(triggers, loading_note(models), [model], [status], queue=False, api_visibility="private")
        # preprocess=False: our reader explains a bad picture (see ui.pictures.uploaded_path)
        events.append(public_event(models, triggers, fn, inputs, outputs, preprocess=False, tool=tool))
    zs_look.follow(events[0], [zs_image, zs_labels, template, model, zs_out], inside.explain,
                   inside_media_views.clip_maps)
    rc_look.follow(events[2], [rc_image, captions, model, rc_out], inside.explain_captions,
                   inside_media_views.clip_maps)

    # "Code for this result", one block under the three tabs: the program of the last of them that ran.
    def zero_shot_request(image, labels, template, model_id):  # as each handler checks its inputs
        path = uploaded_path(image)
        return (clip.check_zero_shot(models, path, labels, template, model_id),
                {"image": path, "template": clip.check_template(template)})

    def search_request(query, images, include_examples, model_id):
        return clip.check_search(models, query, [uploaded_path(f) for f in (images or [])], include_examples,
                                 model_id)

    def captions_request(image, captions, model_id):
        path = uploaded_path(image)
        return clip.check_captions(models, path, captions, model_id), {"image": path}

    code_block(models, *(Wiring([event], inputs, request, preprocess=False) for event, (_, _, inputs, _, _), request
                         in zip(events, wiring, (zero_shot_request, search_request, captions_request))),
               example=lambda: zero_shot_request(str(IMAGES / "cat.png"), "cat, dog, car", clip.DEFAULT_TEMPLATE,
                                                 default_model))


def search_results(_pictures: list, rows: list, _status: str) -> str:
    """An assistant's result of search_images: the score table's rows as JSON."""
    keys = ("rank", "picture", "similarity", "probability")
    return as_json({"results": [dict(zip(keys, row)) for row in rows]})


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
