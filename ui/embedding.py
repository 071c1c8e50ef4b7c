"""Serving the app inside other sites' pages: who may frame it, and a short URL per embedded tab.

- Who may embed: by default any site (course pages live on other domains) and no header is added;
  Gradio itself sends no X-Frame-Options. With `--frame-ancestors "https://a.org https://*.b.edu"`
  every response carries `Content-Security-Policy: frame-ancestors 'self' https://a.org ...`, which
  browsers enforce. On a Hugging Face Space, https://huggingface.co is added so that the Space's own
  page (which frames the app) keeps working.
- `/embed/<tab id>?...` redirects to `/?tab=<tab id>&embed=1&...` (see ui/shell.py), keeping the
  other query parameters (`__theme`, `text`, ...). The redirect is relative so it also works when the
  app is served under a path prefix.

Both are plain Starlette/ASGI pieces handed to Gradio's FastAPI app through `launch(app_kwargs=...)`,
as are the operator routes /metrics and /healthz of the app being launched (ui/metrics.py): routes given
there are matched before Gradio's own.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from pipelines.core.settings import Settings

HF_SPACES_ORIGIN = "https://huggingface.co"
_TAB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def frame_ancestors_policy(settings: Settings, env: dict[str, str] | None = None) -> str | None:
    """The CSP value to send, or None when any site may embed the app (the default)."""
    if not settings.frame_ancestors:
        return None
    env = os.environ if env is None else env
    origins = ["'self'", *settings.frame_ancestors]
    if env.get("SPACE_ID") and HF_SPACES_ORIGIN not in origins:
        origins.append(HF_SPACES_ORIGIN)
    return "frame-ancestors " + " ".join(dict.fromkeys(origins))


class FrameAncestorsMiddleware:
    """Adds `Content-Security-Policy: frame-ancestors ...` to every HTTP response."""

    def __init__(self, app, policy: str):
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("Content-Security-Policy", self.policy)
            await send(message)

        await self.app(scope, receive, send_with_policy)


async def embed_redirect(request: Request) -> RedirectResponse:
    task_id = request.path_params["task_id"]
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("tab", "embed")]
    first = [("tab", task_id)] if _TAB_ID.match(task_id) else []  # junk ids open the first tab
    up = "../../" if request.url.path.endswith("/") else "../"
    return RedirectResponse(up + "?" + urlencode(first + [("embed", "1")] + query), status_code=307)


def app_kwargs(settings: Settings, env: dict[str, str] | None = None, demo=None) -> dict:
    """FastAPI constructor arguments: the embed routes and the demo's operator routes (both matched
    before Gradio's), and the CSP header."""
    kwargs: dict = {"routes": [Route("/embed/{task_id}", embed_redirect),
                               Route("/embed/{task_id}/", embed_redirect)]}
    metrics = getattr(demo, "playground_metrics", None)  # set by app.build_app()
    if metrics is not None:
        kwargs["routes"] += metrics.routes()
    policy = frame_ancestors_policy(settings, env)
    if policy:
        kwargs["middleware"] = [Middleware(FrameAncestorsMiddleware, policy=policy)]
    return kwargs
