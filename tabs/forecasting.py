"""PLACEHOLDER: replaced by the real tab (in progress)."""

import gradio as gr


def build(models) -> None:
    gr.Markdown("This tab is being built.")
