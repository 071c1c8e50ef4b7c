"""Each tab used as a person would, in a real Chromium: open its embed link, click its first example,
press its main button, and wait for the status line that names the model which answered. The cases
come from the registry (one per task), so a new tab is tested here without an edit: every tab has
examples, one primary button, and a status line (ui.widgets.status_box + describe). Runs in the embed
view at iframe size, which also checks that the view shows only its tab; one screenshot per tab is
kept in tests/artifacts/.
The module's tests share one browser page (its cache warm), each starting at the iframe's size and opening what
it checks by its link; waits are on conditions (the app's load event answered, an example's values in place, a
still layout: tests/browser/waits.py), not on the clock.
"""

from __future__ import annotations

import re

import pytest

from pipelines.core.registry import PAGES, TASKS
from tests.browser.conftest import IFRAME, open_page
from tests.browser.waits import click_example, goto_answered, goto_loaded, settle

pytestmark = pytest.mark.browser
FIRST_EXAMPLE = "[data-testid='dataset-cell-0-0'], button.gallery-item"  # a table of examples, or a gallery
ERROR_TOAST = ".toast-body.error"


@pytest.fixture(scope="module")
def shared_page(browser):
    context = browser.new_context(viewport=IFRAME)
    context.set_default_timeout(60_000)  # a tab's first request builds and loads its miniature
    yield context.new_page()
    context.close()


@pytest.fixture
def page(shared_page):
    """This module's one browser page (not conftest's fresh one per test), back at the iframe's size; each test
    opens its own link in it."""
    shared_page.set_viewport_size(IFRAME)
    return shared_page


def block(scope, label: str):
    """The innermost visible Gradio block whose label is `label` (not a button, nor an Examples
    table whose column is called the same)."""
    name = scope.get_by_text(label, exact=True).and_(
        scope.locator(":not(button, button *, option, th, th *, td, td *)"))
    return scope.locator(".block").filter(visible=True).filter(has=name).last


def run_first_example(page, task_id: str) -> str:
    """Click the tab's first example and its primary button; return the status line once a model answered."""
    panel = page.locator(".pg-page:visible").first
    example = panel.locator(FIRST_EXAMPLE).filter(visible=True).first
    click_example(page, example)  # its values are in the inputs (a file example's player drawn)
    panel.locator("button.primary").filter(visible=True).first.click()
    answered = panel.locator(".model-status").filter(visible=True).filter(has_text="Model:").first
    failed = page.locator(ERROR_TOAST).first
    answered.or_(failed).wait_for()
    assert not failed.is_visible(), f"{task_id}: the example failed: {failed.inner_text()}"
    return answered.inner_text()


@pytest.mark.parametrize("spec", TASKS, ids=lambda spec: spec.id)  # explainers: tests/browser/test_explainers.py
def test_each_tab_runs_its_first_example_in_its_embed_view(page, playground, artifacts, spec):
    if spec.id not in playground.task_ids:
        pytest.skip(f"the {spec.id} tab is not in this app (PLAYGROUND_BROWSER_TASKS)")
    goto_loaded(page, f"{playground.url}embed/{spec.id}")
    assert page.url.endswith(f"?tab={spec.id}&embed=1")  # /embed/<id> redirected to the deep link
    open_page(page, spec.id)
    assert_embed_view(page, spec.id)
    try:
        status = run_first_example(page, spec.id)
    except Exception:
        page.screenshot(path=str(artifacts / f"{spec.id}-failed.png"), full_page=True)
        raise
    labels = [c.label for c in spec.checkpoints]
    assert any(label in status for label in labels), f"{spec.id}: no curated model named in {status!r}"
    settle(page)  # the last streamed update painted, nothing pending, before the picture
    page.screenshot(path=str(artifacts / f"{spec.id}.png"), full_page=True)


def assert_embed_view(page, task_id: str) -> None:
    """Only the page: no header, no tab bars (groups or pages), no footer, nothing wider than the iframe."""
    assert page.locator("html.pg-embed").count() == 1
    assert not page.locator("#pg-header").is_visible()
    assert not page.locator("#pg-tabs > .tab-wrapper").is_visible()  # a page's own sub-tabs may show
    assert not page.locator(".pg-group-tabs > .tab-wrapper").first.is_visible()
    assert not page.locator("footer").is_visible()
    visible_panels = page.locator(".pg-page:visible")
    assert visible_panels.count() == 1
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the {task_id} embed view is {overflow}px wider than an 800px iframe"


def test_deep_links_select_their_tab_and_unknown_ids_open_the_first(page, playground):
    """In the full view. Each task's link is opened (and its selection checked) by its embed test above, as
    /embed/<id> redirects to ?tab=<id>&embed=1: here the explainers, the last task (the tasks' group in the full
    view) and two ids that open the first page."""
    titles = {spec.id: spec.title for spec in PAGES if spec.id in playground.task_ids}
    first = next(iter(titles.values()))
    tasks = [spec.id for spec in TASKS if spec.id in titles]
    linked = [(page_id, title) for page_id, title in titles.items() if page_id not in tasks[:-1]]
    for task_id, title in [*linked, ("no-such-tab", first), ("", first)]:
        if title == first:  # shown before the load event answers: check once its answer is in place
            goto_answered(page, f"{playground.url}?tab={task_id}")
        else:
            goto_loaded(page, f"{playground.url}?tab={task_id}")
        page.locator(f"#pg-tabs button[role=tab][aria-selected=true]:text-is('{title}')").wait_for()
        assert page.locator("#pg-header").is_visible() and page.get_by_role("tab").first.is_visible()


def test_embed_link_takes_theme_text_and_model_from_the_url(page, playground, artifacts):
    if "text-generation" not in playground.task_ids:
        pytest.skip("the text-generation page is not in this app (PLAYGROUND_BROWSER_TASKS)")
    page.goto(f"{playground.url}embed/text-generation?__theme=dark&text=Once%20upon%20a%20time%2C"
              "&model=openai-community/gpt2")
    prompt = block(page, "Prompt").locator("textarea")
    page.wait_for_function("el => el.value === 'Once upon a time,'", arg=prompt.element_handle())
    assert page.evaluate("document.body.classList.contains('dark')")
    assert re.search(r"GPT-2", block(page, "Model").locator("input").input_value())
    page.screenshot(path=str(artifacts / "text-generation-dark.png"))
    if "question-answering" in playground.task_ids:  # a text box by its label: ?question=...&context=...
        page.goto(f"{playground.url}embed/question-answering?question=Where%3F&context=In%20Paris.")
        context = block(page, "Context").locator("textarea")
        page.wait_for_function("el => el.value === 'In Paris.'", arg=context.element_handle())
        assert block(page, "Question").locator("textarea, input").first.input_value() == "Where?"


def test_full_app_with_its_tab_bar(page, playground, artifacts):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(playground.url)
    page.get_by_role("tab", name=next(s.title for s in PAGES if s.id in playground.task_ids)).wait_for()
    assert page.locator("html.pg-embed").count() == 0
    assert page.locator("footer").get_by_text("Use via API").is_visible()  # for the README's clients
    page.screenshot(path=str(artifacts / "full-app.png"))


@pytest.fixture(scope="module")
def course_site():
    """A course page on another origin than the app's (another port), serving whatever iframe
    `src` its query names. A real loopback server: Chromium refuses to frame a local address from a
    page it cannot place on the local network (page.route pages included)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    class CoursePage(BaseHTTPRequestHandler):
        def do_GET(self):
            src = parse_qs(urlsplit(self.path).query).get("src", [""])[0]
            body = (f'<!doctype html><title>Chapter 7</title><h1 style="font:16px sans-serif">Chapter 7</h1>'
                    f'<iframe src="{src}" width="800" height="600" style="border:1px solid #ccc" '
                    f'allow="microphone; clipboard-write"></iframe>').encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), CoursePage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/chapter-7.html"
    server.shutdown()


def open_course_page(page, course_site: str, src: str) -> None:
    from urllib.parse import quote

    page.set_viewport_size({"width": 900, "height": 700})
    page.goto(f"{course_site}?src={quote(src, safe='')}")


def test_a_course_page_on_another_site_may_frame_a_tab_by_default(page, playground, course_site, artifacts):
    open_course_page(page, course_site, f"{playground.url}embed/translation?__theme=light")
    frame = page.frame_locator("iframe")
    frame.locator("#pg-tabs > .tabitem:visible").first.wait_for()
    assert frame.locator("html.pg-embed").count() == 1
    sizes = frame.locator("html").evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] <= sizes[1], f"the tab is wider than its 800px frame: {sizes}"
    page.screenshot(path=str(artifacts / "course-page.png"))


@pytest.fixture(scope="module")
def restricted_playground():
    from tests.conftest import launch_app, tiny_settings

    server = launch_app(tiny_settings(frame_ancestors=("https://course.example.org",)), ["text-generation"])
    yield server
    server.demo.close()


def test_with_frame_ancestors_set_another_site_is_refused(page, restricted_playground, course_site):
    # The browser reports the refusal on the embedding page's console.
    with page.expect_console_message(lambda msg: "frame-ancestors" in msg.text, timeout=20_000) as refused:
        open_course_page(page, course_site, f"{restricted_playground.url}embed/text-generation")
    assert "course.example.org" in refused.value.text
    assert page.frame_locator("iframe").locator("#pg-tabs").count() == 0
