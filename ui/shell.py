"""The page around the tabs: header, the groups' tab bars, deep links and the embed view.

Pages come in groups (registry.GROUPS: "Tasks", "Inside the Transformer"): one outer tab per group,
and in it one tab per page. A page id is unique across groups, so links name only the page; the
load event opens its group and selects it there.

    /?tab=translation                        opens the app on that tab (unknown ids open the first tab)
    /?tab=translation&embed=1                only that tab: no header, tab bar or footer (for iframes)
    /embed/translation                       the same, as a path (redirects; see ui/embedding.py)
    ...&text=Guten%20Morgen                  fills the tab's main (first) text input
    ...&question=...&context=...             fills the text inputs labelled so (label in snake_case)
    ...&model=openai-community/gpt2          picks one of the tab's curated models
    ...&__theme=dark                         light or dark (Gradio reads this itself)

The tab comes from `gr.Request.query_params` in a load event (the browser sends the page's query
string with each event). The embed view is a class on <html>, set by a script in <head> before the
app renders, so the header and tab bar never flash; CSS does the rest. Both views are one Blocks, so
each tab's events and public API exist once.

Keyboard and phone use where Gradio falls short (tab lists with arrow keys, visible focus, dropdown lists
that close, 24 px tap targets) come from ui/keyboard.py: its HEAD and CSS are appended to this module's.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

import gradio as gr

from pipelines.core.registry import GROUPS, TaskSpec
from ui import keyboard, widgets

TITLE = "Transformer Playground"
MAX_PREFILL_CHARS = 2_000  # a URL is no place for a book; the tab's own limit applies on submit
EMBED_CLASS = "pg-embed"
PAGE_CLASS = "pg-page"  # every page's panel, whatever its group: `.pg-page:visible` is the open one
GROUP_TABS_CLASS = "pg-group-tabs"  # a group's row of page tabs

# Runs before Gradio renders (it is inlined into the page's <head>): marks the embed view.
HEAD = f"""<script>
(function () {{
  var q = new URLSearchParams(window.location.search);
  var e = (q.get("embed") || "").toLowerCase();
  if (e === "1" || e === "true" || e === "yes") document.documentElement.classList.add("{EMBED_CLASS}");
}})();
</script>
{keyboard.HEAD}
{widgets.STATUS_LIVE_HEAD}"""

CSS = f"""
.model-status {{ font-size: 0.9em; }}
/* Embed view: only the tab's content, compact enough for an 800x600 iframe. */
.{EMBED_CLASS} #pg-header, .{EMBED_CLASS} #pg-tabs > .tab-wrapper, .{EMBED_CLASS} .{GROUP_TABS_CLASS} > .tab-wrapper,
.{EMBED_CLASS} footer {{ display: none !important; }}
.{EMBED_CLASS} .gradio-container > .main {{
  padding: 8px !important; margin: 0 !important; max-width: none !important;
}}
.{EMBED_CLASS} .gradio-container > .main .contain {{ padding: 0 !important; }}
.{EMBED_CLASS} #pg-tabs, .{EMBED_CLASS} .{GROUP_TABS_CLASS} {{ border: none !important; padding: 0 !important; }}
.{EMBED_CLASS} #pg-tabs > .tabitem, .{EMBED_CLASS} .{PAGE_CLASS} {{ padding: 0 !important; border: none !important; }}
{keyboard.CSS}"""


@dataclass
class TabParts:
    """What a deep link may set in one tab, found among its components (tabs declare nothing)."""
    spec: TaskSpec
    texts: dict[str, gr.components.Component]  # editable Textbox/Code by slug of label, in page order
    model: gr.Dropdown | None  # the "Model" picker

    def components(self) -> list:
        return list(self.texts.values()) + ([self.model] if self.model is not None else [])

    def updates(self, query: dict[str, str], here: bool) -> list:
        """`text` fills the first text input, `<label slug>` (e.g. `question`) the one so labelled."""
        values = []
        for i, (slug, _component) in enumerate(self.texts.items()):
            text = query.get(slug) or (query.get("text") if i == 0 else None)
            values.append(text[:MAX_PREFILL_CHARS] if here and text else gr.skip())
        if self.model is not None:
            model = _curated_model(self.spec, query.get("model"))
            values.append(model if here and model else gr.skip())
        return values


def build(demo: gr.Blocks, models, specs: list[TaskSpec]) -> gr.Tabs:
    """Lay out the header, one outer tab per group with one tab per page in it, and wire the deep link.
    Call inside `demo`. `models` is the ModelManager; each tab module's `build` gets its own view of it
    (`models.task(spec)`)."""
    gr.Markdown(f"# {TITLE}\nTry each kind of Transformer from the course *Transformers: beginners to "
                "experts*, then look inside one. Models load on first use of a tab.", elem_id="pg-header")
    parts = []
    rows: dict[str, gr.Tabs] = {}
    # wrap: on a phone the groups stay side by side or wrap, never behind a "More tabs" menu.
    with gr.Tabs(elem_id="pg-tabs", overflow_behavior="wrap") as groups:
        for group, title in GROUPS.items():
            members = [spec for spec in specs if spec.group == group]
            if not members:
                continue
            with gr.Tab(title, id=f"group-{group}"):
                # wrap: every page's tab stays visible (none hidden behind "⋯"), on a phone too.
                with gr.Tabs(elem_id=f"pg-{group}", elem_classes=[GROUP_TABS_CLASS],
                             overflow_behavior="wrap") as rows[group]:
                    for spec in members:
                        with gr.Tab(spec.title, id=spec.id, elem_classes=[PAGE_CLASS]) as tab:
                            importlib.import_module(spec.tab).build(models.task(spec))
                        parts.append(TabParts(spec, _text_inputs(tab), _model_picker(tab)))

    def open_link(request: gr.Request):
        query = dict(request.query_params) if request is not None else {}
        selected = resolve_tab(query.get("tab"), [p.spec.id for p in parts])
        group = next(p.spec.group for p in parts if p.spec.id == selected)
        # The first page is what the app shows before this event arrives: selecting it again would undo a
        # tab that a person chose meanwhile (on a slow connection, seconds after the first paint).
        move = selected != parts[0].spec.id
        return ([gr.Tabs(selected=f"group-{group}") if move else gr.skip()]
                + [gr.Tabs(selected=selected) if move and g == group else gr.skip() for g in rows]
                + [u for p in parts for u in p.updates(query, p.spec.id == selected)])

    # queue=False: the tab is chosen at once, not behind model requests waiting in the queue.
    demo.load(open_link, None, [groups, *rows.values()] + [c for p in parts for c in p.components()],
              queue=False, api_visibility="private", show_progress="hidden")
    return groups


def resolve_tab(raw: str | None, task_ids: list[str]) -> str:
    """The tab a link asks for; anything unknown (or nothing) opens the first tab."""
    wanted = re.sub(r"[\s_]+", "-", (raw or "").strip().lower())
    return wanted if wanted in task_ids else task_ids[0]


def _curated_model(spec: TaskSpec, raw: str | None) -> str | None:
    for ckpt in spec.checkpoints:
        if raw and raw in (ckpt.repo_id, ckpt.label):
            return ckpt.repo_id
    return None


def _walk(block):
    for child in getattr(block, "children", []) or []:
        yield child
        yield from _walk(child)


def _text_inputs(tab) -> dict:
    found = {}
    for block in _walk(tab):
        if isinstance(block, (gr.Textbox, gr.Code)) and block.interactive is not False:
            slug = re.sub(r"[^a-z0-9]+", "_", str(block.label or "").lower()).strip("_")
            found.setdefault(slug or f"input_{len(found)}", block)
    return found


def _model_picker(tab):
    for block in _walk(tab):
        if isinstance(block, gr.Dropdown) and block.label == "Model":
            return block
    return None
