"""The picture input and helpers the image tabs share (image classification, CLIP): not a tab itself."""

from __future__ import annotations

import gradio as gr

from pipelines.core.errors import PlaygroundError
from ui.assistants import as_json
from ui.widgets import loading_status

SOURCES = ["upload", "webcam", "clipboard"]


def image_input(label: str, **kwargs) -> gr.Image:
    """The picture input of the image tabs. Their events use preprocess=False (see `uploaded_path`)."""
    return gr.Image(label=label, sources=SOURCES, type="filepath", image_mode=None, **kwargs)


def uploaded_path(payload) -> str | None:
    """The file path (or pasted data: URL) of a raw gr.Image/gr.File payload.

    Our image events run with preprocess=False: gr.Image's own preprocessing opens the file with PIL,
    so a corrupt or non-image upload would fail inside Gradio with a generic message. Gradio still
    copies the upload into its cache and refuses paths that were not uploaded;
    `pipelines.readers.images.open_image` then explains any problem in a sentence.
    """
    if payload is None or isinstance(payload, str):
        return payload or None
    if isinstance(payload, dict):
        return payload.get("path") or payload.get("url")
    return getattr(payload, "path", None) or getattr(payload, "url", None)


def probabilities(scores: dict, *_status) -> str:
    """An assistant's result of the image tools: {label: probability}, likeliest first, as JSON."""
    return as_json({label: round(float(p), 4) for label, p in scores.items()})


def loading_note(models):
    """A private, unqueued event's function: "Loading …" in the status while the model loads."""
    def note(model_id):
        try:
            return loading_status(models, model_id)
        except PlaygroundError:  # an unknown model: the public event says so
            return ""
    return note
