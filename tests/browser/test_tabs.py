"""Each tab used as a person would, in a real Chromium: open its link, fill an example, run it, read
the result on the page. Each tab's entry in CASES is all it takes: the labels of what to fill or
upload, the button, and the labelled output to read. Runs in the embed view at iframe size, which also
checks that the view shows only its tab; one screenshot per tab is kept in tests/artifacts/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from pipelines.core.registry import TASKS
from tests.conftest import ASSETS

pytestmark = pytest.mark.browser
PLACEHOLDER_TEXT = "This tab is being built."
EIFFEL = ("The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
          "It is named after the engineer Gustave Eiffel, whose company designed and built the tower.")


@dataclass(frozen=True)
class Step:
    action: str  # "fill" a textbox, type into a "code" editor, "upload" a file, "wait" for a value
    label: str  # the component's label as shown on the page
    value: str = ""  # text to fill, or a path under assets/ to upload


@dataclass(frozen=True)
class TabCase:
    id: str
    steps: tuple[Step, ...]
    button: str  # the run button's text
    result: str  # label of the output to read
    kind: str  # how to read it: text | code | label | image | table | plot

    def __str__(self):
        return self.id


CASES = [
    TabCase("text-generation", (Step("fill", "Prompt", "Once upon a time,"),), "Generate", "Generated text", "text"),
    TabCase("translation", (Step("fill", "Text", "Good morning!"),), "Translate", "Translation", "text"),
    TabCase("summarization", (Step("fill", "Text", EIFFEL * 3),), "Summarize", "Summary", "text"),
    TabCase("question-answering", (Step("fill", "Question", "Where is the Eiffel Tower?"),
                                   Step("fill", "Context", EIFFEL)), "Answer", "Answer", "text"),
    TabCase("code-completion", (Step("code", "Your code", "def add(a, b):\n    return"),), "Complete",
            "Code with completion", "code"),
    TabCase("image-classification", (Step("upload", "Picture (upload, webcam or paste)", "images/cat.png"),),
            "Classify", "Top classes (ImageNet-1k)", "label"),
    TabCase("clip", (Step("upload", "Picture", "images/dog_park.jpg"),
                     Step("fill", "Labels (comma-separated, 2 to 50)", "a dog, a cat, a car")),
            "Label the picture", "Probability of each label", "label"),
    # A random miniature Whisper may well hear nothing: read the language it detected instead.
    TabCase("speech", (Step("upload", "Speech", "audio/hello.wav"),), "Transcribe", "Language", "text"),
    TabCase("text-to-image", (Step("fill", "Prompt", "a red car by the sea"),), "Generate", "Image", "image"),
    TabCase("forecasting", (Step("upload", "Series (CSV)", "series/monthly_airline_style.csv"),
                            Step("wait", "Value column")), "Forecast", "Forecast", "table"),
]
assert sorted(c.id for c in CASES) == sorted(t.id for t in TASKS), "one browser case per registry task"


def block(scope, label: str):
    """The innermost visible Gradio block whose label is `label` (not a button, nor an Examples
    table whose column is called the same)."""
    name = scope.get_by_text(label, exact=True).and_(
        scope.locator(":not(button, button *, option, th, th *, td, td *)"))
    return scope.locator(".block").filter(visible=True).filter(has=name).last


def fill_step(page, step: Step) -> None:
    if step.action == "fill":
        block(page, step.label).locator("textarea, input").first.fill(step.value)
    elif step.action == "code":
        editor = block(page, step.label).locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        editor.fill(step.value)
    elif step.action == "upload":
        block(page, step.label).locator("input[type=file]").set_input_files(str(ASSETS / step.value))
    elif step.action == "wait":  # e.g. a dropdown filled from an uploaded file
        field = block(page, step.label).locator("input").first
        page.wait_for_function("el => el.value && el.value.length > 0", arg=field.element_handle())
    else:
        raise ValueError(step.action)


def read_result(page, case: TabCase) -> str:
    """Wait until the labelled output shows something, and return it as text."""
    out = block(page, case.result)
    if case.kind == "text":
        box = out.locator("textarea, input").first  # an output's label also names its copy button
        box.wait_for()
        page.wait_for_function("el => el.value.trim().length > 0", arg=box.element_handle())
        return box.input_value()
    if case.kind == "code":
        lines = out.locator(".cm-content")
        lines.wait_for()
        page.wait_for_function("el => el.innerText.trim().length > 0", arg=lines.element_handle())
        return lines.inner_text()
    selector = {"label": "[data-testid=label-output-value], .output-class", "image": "img",
                "table": "[role=gridcell], table td", "plot": "svg, canvas, .js-plotly-plot"}[case.kind]
    out.locator(selector).filter(visible=True).first.wait_for(state="visible")
    return out.inner_text()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_tab_runs_an_example_in_its_embed_view(page, playground, artifacts, case):
    page.goto(f"{playground.url}embed/{case.id}")
    assert page.url.endswith(f"?tab={case.id}&embed=1")  # /embed/<id> redirected to the deep link
    page.locator("#pg-tabs > .tabitem:visible").first.wait_for()
    tab_button = page.locator(f"#pg-tabs button[role=tab][data-tab-id='{case.id}']")
    if tab_button.count() == 0:
        pytest.skip(f"the {case.id} tab is not in this app (PLAYGROUND_BROWSER_TASKS)")
    page.locator(f"#pg-tabs button[role=tab][data-tab-id='{case.id}'][aria-selected=true]").wait_for(
        state="attached")
    if page.get_by_text(PLACEHOLDER_TEXT).is_visible():
        pytest.skip(f"the {case.id} tab is not built yet")
    assert_embed_view(page, case.id)

    try:
        for step in case.steps:
            fill_step(page, step)
        page.get_by_role("button", name=case.button, exact=True).filter(visible=True).click()
        shown = read_result(page, case)
    except Exception:
        page.screenshot(path=str(artifacts / f"{case.id}-failed.png"), full_page=True)
        raise
    assert shown.strip()
    status = page.locator(".model-status:visible")
    status.filter(has_text="Model:").first.wait_for()  # which model answered (a miniature here)
    page.wait_for_timeout(300)  # let the last streamed update paint before the picture
    page.screenshot(path=str(artifacts / f"{case.id}.png"), full_page=True)


def assert_embed_view(page, task_id: str) -> None:
    """Only the tab: no header, no tab bar, no footer, and nothing wider than the iframe."""
    assert page.locator("html.pg-embed").count() == 1
    assert not page.locator("#pg-header").is_visible()
    assert not page.locator("#pg-tabs > .tab-wrapper").is_visible()  # a tab's own sub-tabs may show
    assert not page.locator("footer").is_visible()
    visible_panels = page.locator("#pg-tabs > .tabitem:visible")
    assert visible_panels.count() == 1
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the {task_id} embed view is {overflow}px wider than an 800px iframe"


def test_deep_links_select_their_tab_and_unknown_ids_open_the_first(page, playground):
    titles = {spec.id: spec.title for spec in TASKS if spec.id in playground.task_ids}
    first = next(iter(titles.values()))
    for task_id, title in [*titles.items(), ("no-such-tab", first), ("", first)]:
        page.goto(f"{playground.url}?tab={task_id}")
        # The load event selects the tab just after the first paint: wait for it.
        page.locator(f"#pg-tabs button[role=tab][aria-selected=true]:text-is('{title}')").wait_for()
        assert page.locator("#pg-header").is_visible() and page.get_by_role("tab").first.is_visible()


def test_embed_link_takes_theme_text_and_model_from_the_url(page, playground, artifacts):
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
    page.get_by_role("tab", name=TASKS[0].title).wait_for()
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
    refused = []
    page.on("console", lambda msg: refused.append(msg.text) if "frame-ancestors" in msg.text else None)
    open_course_page(page, course_site, f"{restricted_playground.url}embed/text-generation")
    page.wait_for_function("() => document.querySelector('iframe') !== null")
    for _ in range(100):  # the browser reports the refusal on the embedding page's console
        if refused:
            break
        page.wait_for_timeout(200)
    assert refused and "course.example.org" in refused[0]
    assert page.frame_locator("iframe").locator("#pg-tabs").count() == 0
