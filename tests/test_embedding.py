"""Embedding: who may frame the app (headers), the /embed/<id> links, and deep-link tab resolution.
What the embed view looks like is checked in a real browser (tests/browser/)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from pipelines.core.registry import TASKS
from pipelines.core.settings import Settings
from tests.conftest import launch_app, tiny_settings
from ui.embedding import frame_ancestors_policy
from ui.shell import resolve_tab

APP_TASKS = ["text-generation"]
COURSE = "https://course.example.org"


def get(url: str, path: str) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.body = response.read().decode("utf-8", "replace")
    conn.close()
    return response


@pytest.fixture(scope="module")
def restricted_app():
    server = launch_app(tiny_settings(frame_ancestors=(COURSE, "https://*.uni.edu")), APP_TASKS)
    yield server
    server.demo.close()


@pytest.mark.parametrize("path", ["/", "/config", "/gradio_api/info", "/theme.css"])
def test_by_default_any_site_may_frame_the_app(app_server, path):
    response = get(app_server.url, path)
    assert response.status == 200
    assert response.getheader("X-Frame-Options") is None  # Gradio sends none: keep it that way
    assert response.getheader("Content-Security-Policy") is None


@pytest.mark.parametrize("path", ["/", "/config", "/gradio_api/info", "/no-such-page"])
def test_listed_origins_are_enforced_with_frame_ancestors(restricted_app, path):
    response = get(restricted_app.url, path)
    assert response.getheader("Content-Security-Policy") == \
        f"frame-ancestors 'self' {COURSE} https://*.uni.edu"
    assert response.getheader("X-Frame-Options") is None


def test_on_a_space_the_space_page_may_still_frame_the_app():
    settings = Settings(frame_ancestors=(COURSE,))
    assert frame_ancestors_policy(settings, env={"SPACE_ID": "me/playground"}) == \
        f"frame-ancestors 'self' {COURSE} https://huggingface.co"
    assert frame_ancestors_policy(Settings(), env={"SPACE_ID": "me/playground"}) is None


@pytest.mark.parametrize("path,location", [
    ("/embed/translation", "../?tab=translation&embed=1"),
    ("/embed/speech?__theme=dark&text=Hi+there", "../?tab=speech&embed=1&__theme=dark&text=Hi+there"),
    ("/embed/clip/?embed=0&tab=x", "../../?tab=clip&embed=1"),
    ("/embed/%3Cscript%3E", "../?embed=1"),  # junk ids open the first tab, and are not echoed
])
def test_embed_paths_redirect_to_the_deep_link(app_server, path, location):
    response = get(app_server.url, path)
    assert response.status == 307
    assert response.getheader("Location") == location


def test_the_page_marks_the_embed_view_before_rendering(app_server):
    # The <head> script that sets html.pg-embed (the browser tests check what it hides).
    response = get(app_server.url, "/?tab=text-generation&embed=1&__theme=dark")
    assert response.status == 200
    assert 'classList.add(\\"pg-embed\\")' in response.body or 'classList.add("pg-embed")' in response.body


@pytest.mark.parametrize("raw,expected", [
    ("translation", "translation"), ("Text_Generation", "text-generation"), (" clip ", "clip"),
    ("no-such-tab", "text-generation"), ("", "text-generation"), (None, "text-generation"),
])
def test_a_link_opens_its_tab_or_the_first_one(raw, expected):
    assert resolve_tab(raw, [t.id for t in TASKS]) == expected


# Ids already in course pages' links and iframes: a new task adds its own, these never change.
PUBLISHED_TAB_IDS = ["text-generation", "translation", "summarization", "question-answering", "code-completion",
                     "image-classification", "clip", "speech", "text-to-image", "forecasting"]


def test_published_tab_ids_keep_working():
    ids = [t.id for t in TASKS]
    assert [i for i in ids if i in PUBLISHED_TAB_IDS] == PUBLISHED_TAB_IDS  # all there, in their order
    assert ids[0] == "text-generation"  # unknown ids open the first tab, as links expect
