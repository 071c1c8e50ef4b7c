"""The Next token page in a real Chromium, used as a person would: predict the next token, make decoding
greedy and read the bars and the 200 draws, then look through the layers and colour a text by confidence.
Screenshots at iframe size (800 x 600) and on a phone (390 x 844) go to tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import ERROR_TOAST, assert_embed_view

pytestmark = pytest.mark.browser
PAGE_ID = "next-token"
PREDICT = "Predict the next token"


def section_status(panel, text: str):
    """The visible status line that contains `text`, once it is there."""
    status = panel.locator(".model-status").filter(visible=True).filter(has_text=text).first
    status.wait_for()
    return status


def set_slider(panel, label: str, value) -> None:
    """Type a value into the number box of the slider labelled `label` (as a person can)."""
    box = panel.locator(f"input[type=number][aria-label='number input for {label}']").first
    box.fill(str(value))
    box.press("Enter")


@pytest.fixture
def next_token_page(page, playground):
    embed(page, playground, PAGE_ID)
    return page


def bar_rows(panel):
    """The candidate bars: (label, value, greyed) per row."""
    rows = panel.locator(".pg-bar").filter(visible=True)
    return [(r.locator(".pg-label").inner_text(), float(r.locator("span").last.inner_text()),
             "pg-cut" in (r.get_attribute("class") or "")) for r in rows.all()]


def test_predict_then_greedy_then_the_layers_and_the_confidence_strip(next_token_page, artifacts):
    page = next_token_page
    assert_embed_view(page, PAGE_ID)
    panel = page.locator(".pg-page:visible").first
    panel.get_by_label("Prompt").fill("The capital of France is")
    panel.get_by_role("button", name=PREDICT).click()
    status = section_status(panel, "Model:")
    assert "SmolLM2-135M-Instruct" in status.inner_text() and "tokens kept" in status.inner_text()
    candidates = panel.locator(".pg-view").filter(has_text="Next-token candidates at temperature 1").first
    candidates.wait_for()
    rows = bar_rows(candidates)
    assert len(rows) == 20 and all(label.startswith('"') and "Σ" in label for label, _, _ in rows)
    values = [value for _, value, _ in rows]
    assert values == sorted(values, reverse=True)  # likeliest first
    page.screenshot(path=str(artifacts / f"{PAGE_ID}.png"))

    # Greedy with a top-k of 5 and top-p off: one token has all the mass; the top-k marker sits under the
    # fifth bar.
    set_slider(panel, "Temperature", 0)
    set_slider(panel, "Top-k", 5)
    set_slider(panel, "Top-p", 1)
    panel.get_by_role("button", name=PREDICT).click()
    # Releasing a slider also predicts: wait for the answer to the last settings (the top-k marker).
    greedy = panel.locator(".pg-view").filter(has_text="Next-token candidates at temperature 0").filter(
        has_text="top-k = 5: only these 5 stay").first
    greedy.wait_for(timeout=150_000)  # four predictions queue up behind one another: slow on a busy CI machine
    rows = bar_rows(greedy)
    assert rows[0][1] == 1.0 and all(value == 0.0 for _, value, _ in rows[1:])
    assert [cut for _, _, cut in rows[:6]] == [False] * 5 + [True]
    assert "→ 0.00 bits (cut-offs)" in panel.inner_text()
    top = rows[0][0].split(" Σ")[0]
    panel.get_by_role("tab", name="Sampling").click()
    assert panel.get_by_text(f"{top} ×200").first.is_visible()  # every draw is the likeliest token
    panel.get_by_role("tab", name="Sampling").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{PAGE_ID}-sampling.png"))

    panel.get_by_role("tab", name="Logit lens").click()
    panel.get_by_role("button", name="Look through the layers").click()
    section_status(panel, "layers · position")
    table = panel.locator(".pg-lens table").first
    layer_rows = table.locator("tr").all()[1:]
    assert layer_rows[0].inner_text().startswith("0 embeddings") and layer_rows[-1].inner_text().startswith(
        f"{len(layer_rows) - 1} output")
    assert top.strip('"') in layer_rows[-1].locator("td").nth(1).inner_text()  # the last layer is the model's own
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{PAGE_ID}-lens.png"))

    panel.get_by_role("tab", name="Confidence").click()
    panel.get_by_label("Text").fill("The capital of France is Paris.")
    panel.get_by_role("button", name="Colour by confidence").click()
    section_status(panel, "perplexity")
    strip = panel.locator(".pg-strip").first
    assert strip.inner_text().replace("\n", "") == "The capital of France is Paris."
    tips = strip.locator("span[title]").evaluate_all("spans => spans.map(s => s.title)")
    assert tips[0].startswith("the first token") and all(t.startswith("p = ") for t in tips[1:])
    assert panel.get_by_text("Confident is not the same as correct").is_visible()
    strip.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{PAGE_ID}-confidence.png"))

    panel.get_by_label("Text").fill("")  # nothing to colour: a sentence saying what to type, not a stack trace
    panel.get_by_role("button", name="Colour by confidence").click()
    error = page.locator(ERROR_TOAST).first
    error.wait_for()
    assert "Type a text first, for example: The capital of France is Paris." in error.inner_text()


def test_the_page_on_a_phone(next_token_page, artifacts):
    page = next_token_page
    page.set_viewport_size({"width": 390, "height": 844})
    panel = page.locator(".pg-page:visible").first
    panel.get_by_role("button", name=PREDICT).click()
    section_status(panel, "Model:")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    page.screenshot(path=str(artifacts / f"{PAGE_ID}-phone.png"))
