"""Transformer Playground: one tab per Transformer domain, each backed by a real model pipeline, and
explainers that open the models up (the "Inside the Transformer" group).

    python app.py                      # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / _PORT honoured)
    python app.py --model-source tiny  # offline miniatures; `python app.py --help` lists every setting
    python app.py --download           # fetch the default checkpoints into the HF cache, then exit

Links: /?tab=<id> opens a tab; /embed/<id> (or /?tab=<id>&embed=1) shows that tab alone, for iframes
(ui/shell.py, ui/embedding.py). On a ZeroGPU Space models load at start-up and run inside
`spaces.GPU` (ui/zerogpu.py); elsewhere each model loads on its tab's first request.

`import app` loads no model and touches no network: `build_app()` only lays out components.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import gradio as gr

from pipelines.core.loading import ModelManager
from pipelines.core.registry import PAGES
from pipelines.core.settings import Settings, build_parser
from ui import assistants, embedding, zerogpu
from ui import shell as layout
from ui.theme import PlaygroundTheme

TITLE = layout.TITLE
ASSETS = Path(__file__).resolve().parent / "assets"


def build_app(models: ModelManager, task_ids: list[str] | None = None) -> gr.Blocks:
    specs = [s for s in PAGES if task_ids is None or s.id in task_ids]
    zerogpu.before_build()  # no-op off ZeroGPU
    with gr.Blocks(title=TITLE) as demo:
        layout.build(demo, models, specs)
    demo.queue(max_size=models.settings.queue_size)
    zerogpu.wrap_events(demo.fns.values(), models)  # no-op off ZeroGPU
    from ui.metrics import Metrics  # here, not at the top: `import app` stays without prometheus_client

    demo.playground_metrics = Metrics(demo, models)  # /metrics and /healthz, served by launch() (ui/metrics.py)
    demo.playground_settings = models.settings  # read by launch() for the embedding policy
    return demo


def launch(demo: gr.Blocks, settings: Settings | None = None, **kwargs):
    # Gradio 6 takes theme, css and head at launch(). server_name/port stay None so that Gradio reads
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT itself, defaulting to 127.0.0.1:7860.
    settings = settings or getattr(demo, "playground_settings", None) or Settings()
    app_kwargs = embedding.app_kwargs(settings, demo=demo)
    # MCP (on unless --mcp off): at start-up the lifespan points Gradio's MCP server at the tools made
    # for assistants (ui/assistants.py), or logs why there is none.
    app_kwargs["lifespan"] = assistants.lifespan(demo, settings.mcp)
    kwargs.setdefault("mcp_server", settings.mcp)
    # allowed_paths: results may point at bundled example files (CLIP search returns gallery images),
    # which Gradio serves only from its cache, the working directory, or a path allowed here.
    return demo.launch(theme=PlaygroundTheme(), css=layout.CSS, head=layout.HEAD,
                       app_kwargs=app_kwargs, allowed_paths=[str(ASSETS)], **kwargs)


def launch_single(tab_module: str) -> None:
    """Serve one tab on its own (`python -m tabs.<name>` calls this with its module name)."""
    task_id = next(spec.id for spec in PAGES if spec.tab == tab_module)
    launch(build_app(ModelManager(zerogpu.prepare(Settings.from_args([]))), [task_id]))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.download:
        from pipelines.core import download

        return download.main()
    try:
        settings = zerogpu.prepare(Settings.from_namespace(args))
    except ValueError as exc:  # a bad flag or PLAYGROUND_* value: one line saying which, not a traceback
        parser.error(str(exc))
    models = ModelManager(settings)
    demo = build_app(models)
    if settings.load_mode == "eager":
        zerogpu.preload(models)
    elif settings.preloaded():  # chosen tasks, even in lazy mode: a first call that loads a model
        zerogpu.preload(models, settings.preloaded())  # can outlast an assistant's 60 s tool timeout
    launch(demo, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
