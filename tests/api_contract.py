"""The public API, read from the registry: every endpoint a gradio_client user may call, the task
that owns it, and its first parameters. Anything else an app registers (Stop buttons, the deep-link
load, a tab's helper events) must be `api_visibility="private"`; tests/test_app.py checks that the
launched app lists exactly these. A new endpoint is declared in pipelines/core/registry.py only.
"""

from __future__ import annotations

from pipelines.core.registry import PAGES

PUBLIC_ENDPOINTS: dict[str, str] = {e.api_name: spec.id for spec in PAGES for e in spec.endpoints}
FIRST_PARAMETERS: dict[str, tuple[str, ...]] = {e.api_name: e.params for spec in PAGES for e in spec.endpoints}
ENDPOINTS = [(spec, e) for spec in PAGES for e in spec.endpoints]
