"""Placeholder while the page is written."""

import gradio as gr


def build(models) -> None:
    gr.Markdown(models.spec.summary)
