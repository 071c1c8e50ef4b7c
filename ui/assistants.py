"""Every public endpoint as a tool for AI assistants (Model Context Protocol), with results they can use.

Gradio 6.31 serves an MCP server beside the app (`launch(mcp_server=True)`, streamable HTTP at
/gradio_api/mcp/): each public event becomes a tool named after its function, described by its
docstring (the lines before `Args:`, each `name: ...` line under `Args:`, and `Returns:`). A page's
event makes a poor tool, though: it returns what the page shows, several values (the result and a
Markdown status line) that MCP sends as one stringified Python tuple, and its `api_description` (the
registry's one line, which gradio_client users see) replaces the docstring's description and returns.

So `ui.widgets.public_event` also registers, beside each public event, a twin for assistants:
- the same input components (so the same parameter schema; file inputs take https:// or data: URLs),
  or a tool's own when its parameters differ (forecasting takes a list of numbers too);
- no trigger, and `api_visibility="undocumented"`: callable, but never listed by gradio_client, so
  the Python API stays exactly as it is;
- one output: the handler's *final* outputs (a stream is run to its end) shaped by the tab into one
  value: text, a small JSON object, or an image;
- it calls the page event's function as it is at call time, so whatever wraps that function
  (ZeroGPU's `spaces.GPU`, metrics) wraps assistant calls too. It queues in a concurrency group of
  its own (in the task's group ZeroGPU would wrap it a second time), with the page event's limit:
  assistants wait for each other, and one assistant call may run beside one from the page.
When the server starts (`lifespan`, before the first request), the MCP server is pointed at the
twins instead of the page events; tool names stay the registry's endpoint names (on a Space, Gradio
prefixes them with the Space's name, as it does for every Gradio MCP server).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.context import get_blocks_context

from pipelines.core.errors import PlaygroundError

log = logging.getLogger(__name__)
TOOL_OF = "playground_tool"  # attribute marking a twin's function, holding its endpoint name
PREFIX = "mcp_"  # a twin's api_name is PREFIX + the endpoint's name


def first_output(*outputs):
    """The default result: the page's first output (the text of a text tab)."""
    return outputs[0]


def as_json(value) -> str:
    """A small JSON object as the tool's text: an assistant reads it as it is."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Tool:
    """How one endpoint's result reaches an assistant (see the module docstring)."""
    returns: str  # the `Returns:` line of the tool's description
    result: Callable[..., Any] = first_output  # the handler's final outputs -> the one value returned
    output: Any = None  # the component that serialises it; None: a hidden Textbox (text or JSON)
    # A tool whose parameters differ from the page's: `adapt` has the tool's signature and docstring
    # and returns the handler's positional arguments; `inputs` are the components of its parameters.
    adapt: Callable[..., tuple] | None = None
    inputs: Sequence | None = None


def add_twin(models, endpoint, event, handler, inputs, tool: Tool, concurrency_limit: int, preprocess: bool):
    """Register the assistants' twin of a public event (call right after the event, in the same Blocks)."""
    blocks = get_blocks_context()
    page_fn = blocks.fns[event["id"]]  # its .fn may be wrapped later (ZeroGPU, metrics): read at call time
    signature_of = tool.adapt or handler

    @functools.wraps(signature_of)
    def twin(*args, **kwargs):
        if tool.adapt is not None:
            try:
                args, kwargs = tool.adapt(*args, **kwargs), {}
            except PlaygroundError as exc:
                raise gr.Error(str(exc), print_exception=False) from exc
        return tool.result(*final_outputs(page_fn.fn(*args, **kwargs)))

    twin.__name__ = twin.__qualname__ = endpoint.name  # the tool's name
    twin.__doc__ = with_returns(inspect.getdoc(signature_of) or endpoint.description, tool.returns)
    setattr(twin, TOOL_OF, endpoint.name)
    output = tool.output or gr.Textbox(visible=False, interactive=False, label=f"{endpoint.name} result")
    return gr.on([], twin, list(tool.inputs or inputs), [output], api_name=PREFIX + endpoint.name,
                 api_visibility="undocumented", concurrency_id=f"{PREFIX}{models.spec.id}",
                 concurrency_limit=concurrency_limit, preprocess=preprocess, show_progress="hidden")


def final_outputs(result) -> tuple:
    """A handler's last outputs: a streaming handler runs to its end (its last yield is the result)."""
    if inspect.isgenerator(result):
        result = (collections.deque(result, maxlen=1) or [None])[0]
    return result if isinstance(result, tuple) else (result,)


def with_returns(doc: str, returns: str) -> str:
    """The docstring with its `Returns:` section (what the page gets) replaced by the tool's."""
    lines = doc.splitlines()
    cut = next((i for i, line in enumerate(lines) if line.strip().startswith("Returns:")), len(lines))
    return "\n".join([*lines[:cut], "Returns:", f"    {returns}"])


def point_at_twins(demo: gr.Blocks) -> list[str]:
    """Serve the twins as the MCP tools, instead of the page events. Returns the tool names."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None:
        return []
    twins = ["/" + f.api_name for f in demo.fns.values() if getattr(f.fn, TOOL_OF, None)]
    named = demo.get_api_info(all_endpoints=True)["named_endpoints"]
    server.api_info = {"named_endpoints": {name: named[name] for name in twins if name in named},
                       "unnamed_endpoints": {}}
    server.tool_to_endpoint = server.get_tool_to_endpoint()
    return list(server.tool_to_endpoint)


def lifespan(demo: gr.Blocks, wanted: bool):
    """A FastAPI lifespan (`launch(app_kwargs={"lifespan": ...})`): at start-up, before any request,
    the MCP server serves the twins; if MCP was asked for and Gradio could not start it (the
    `gradio[mcp]` extra missing), say so in the log: Gradio itself prints one line, or none when quiet."""
    @contextlib.asynccontextmanager
    async def serve_tools(app):
        if demo.mcp_server:
            log.info("MCP tools for assistants: %s", ", ".join(point_at_twins(demo)))
        elif wanted:
            log.error("MCP was asked for but is not served (%s). Install the app's requirements "
                      "(gradio[mcp]), or start with --mcp off.", getattr(demo, "mcp_error", None) or "no mcp package")
        yield
    return serve_tools
