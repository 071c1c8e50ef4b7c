"""Transformer Playground: one tab per Transformer domain, each backed by a real model pipeline.

    python app.py                      # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / _PORT honoured)
    python app.py --model-source tiny  # offline miniatures; `python app.py --help` lists every setting

`import app` loads no model and touches no network: `build_app()` only lays out components, and each
model is loaded by its tab's first request.
"""

from __future__ import annotations

import importlib
import logging

import gradio as gr

from pipelines.loader import ModelManager
from pipelines.registry import TASKS
from pipelines.settings import Settings, build_parser

TITLE = "Transformer Playground"
CSS = """
.model-status { font-size: 0.9em; }
footer { display: none !important; }
"""


def build_app(models: ModelManager, task_ids: list[str] | None = None) -> gr.Blocks:
    specs = [s for s in TASKS if task_ids is None or s.id in task_ids]
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\nTry each kind of Transformer from the course *Transformers: beginners to "
                    "experts*. Models load on first use of a tab.")
        with gr.Tabs():
            for spec in specs:
                with gr.Tab(spec.title, id=spec.id):
                    importlib.import_module(spec.tab).build(models)
    demo.queue(max_size=models.settings.queue_size)
    return demo


def launch(demo: gr.Blocks, **kwargs):
    # Gradio 6 takes theme and css at launch(). server_name/port stay None so that Gradio reads
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT itself, defaulting to 127.0.0.1:7860.
    return demo.launch(theme=gr.themes.Soft(), css=CSS, **kwargs)


def launch_single(task_id: str) -> None:
    """Serve one tab on its own (python -m tabs.<name>), with settings from the environment."""
    launch(build_app(ModelManager(Settings.from_args([])), [task_id]))


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    settings = Settings.from_namespace(args)
    models = ModelManager(settings)
    launch(build_app(models))


if __name__ == "__main__":
    main()
