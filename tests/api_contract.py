"""The public API: every endpoint a gradio_client user may call, and the tab that owns it.

Anything else an app registers (Stop buttons, the deep-link load, a tab's helper events) must be
`api_visibility="private"`; tests/test_app.py checks the launched app lists exactly these. A tab
that adds a public endpoint adds it here, and documents it in the README's "Use from Python".
"""

from __future__ import annotations

import importlib

from pipelines.registry import TASKS

PUBLIC_ENDPOINTS: dict[str, str] = {
    "/generate_text": "text-generation",
    "/translate": "translation",
    "/summarize": "summarization",
    "/answer_question": "question-answering",
    "/complete_code": "code-completion",
    "/classify_image": "image-classification",
    "/zero_shot_image": "clip",
    "/search_images": "clip",
    "/rank_captions": "clip",
    "/transcribe": "speech",
    "/generate_image": "text-to-image",
    "/forecast": "forecasting",
}
assert set(PUBLIC_ENDPOINTS.values()) == {t.id for t in TASKS}, "every task has a public endpoint"


def built_task_ids() -> set[str]:
    """Tasks whose tab is written (a placeholder's docstring starts with PLACEHOLDER). Lets the
    contract tests run while tabs are still being built; once all are, this is every task."""
    built = set()
    for spec in TASKS:
        doc = importlib.import_module(spec.tab).__doc__ or ""
        if not doc.startswith("PLACEHOLDER"):
            built.add(spec.id)
    return built


def expected_endpoints(task_ids=None) -> set[str]:
    task_ids = built_task_ids() if task_ids is None else set(task_ids)
    return {name for name, task_id in PUBLIC_ENDPOINTS.items() if task_id in task_ids}
