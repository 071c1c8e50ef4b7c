"""The public API: every endpoint a gradio_client user may call, and the tab that owns it.

Anything else an app registers (Stop buttons, the deep-link load, a tab's helper events) must be
`api_visibility="private"`; tests/test_app.py checks the launched app lists exactly these. A tab
that adds a public endpoint adds it here, and documents it in the README's "Use from Python".
"""

from __future__ import annotations

from pipelines.core.registry import TASKS

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


# The contract: the first parameters of each endpoint, by name (more may follow, with defaults).
FIRST_PARAMETERS: dict[str, tuple[str, ...]] = {
    "/generate_text": ("prompt",),
    "/translate": ("text", "source_language", "target_language"),
    "/summarize": ("text",),
    "/answer_question": ("question", "context"),
    "/complete_code": ("code",),
    "/classify_image": ("image",),
    "/zero_shot_image": ("image", "labels"),
    "/search_images": ("query",),
    "/rank_captions": ("image", "captions"),
    "/transcribe": ("audio",),
    "/generate_image": ("prompt",),
    "/forecast": ("series",),
}
assert set(FIRST_PARAMETERS) == set(PUBLIC_ENDPOINTS)
