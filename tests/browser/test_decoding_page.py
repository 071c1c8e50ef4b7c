"""The encoder-decoder page in a real browser, used as a person would: step a translation token by token,
pick another candidate, start over; then step Whisper over an example clip. Screenshots at iframe size
(800x600) and phone size (390x844) go to tests/artifacts/.

    PLAYGROUND_BROWSER_TASKS=decoding python -m pytest -n 0 -q tests/browser/test_decoding_page.py
"""

from __future__ import annotations

import pytest

from tests.browser.test_tabs import ERROR_TOAST, assert_embed_view, open_page

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect  # the browser fixtures say how to install it
PHONE = {"width": 390, "height": 844}


def _half(page, title: str):
    """The visible sub-tab panel of the page (text or speech half)."""
    page.get_by_role("tab", name=title).click()
    return page.locator(".pg-page:visible [role=tabpanel]:visible").first


def _step(page, panel, expected_step: int) -> None:
    panel.get_by_role("button", name="Next token").click()
    answered = panel.locator(".model-status").filter(has_text=f"step {expected_step} ")
    failed = page.locator(ERROR_TOAST).first
    answered.or_(failed).first.wait_for()
    assert not failed.is_visible(), failed.inner_text()


def _output(panel) -> str:
    return panel.get_by_label("Output so far").input_value()


@pytest.fixture
def decoding_page(page, playground):
    if "decoding" not in playground.task_ids:
        pytest.skip("the decoding page is not in this app (PLAYGROUND_BROWSER_TASKS)")
    page.goto(f"{playground.url}embed/decoding")
    open_page(page, "decoding")
    assert_embed_view(page, "decoding")
    return page


def test_stepping_a_translation_token_by_token(decoding_page, artifacts):
    page = decoding_page
    panel = _half(page, "Translation")
    assert panel.get_by_label("Source text").input_value() == "Good morning!"
    assert _output(panel) == ""

    _step(page, panel, 1)
    first = _output(panel)
    assert first, "the first step wrote no token"
    assert "Step 1: the decoder chose" in panel.inner_text()
    choices = panel.get_by_role("radio")
    assert choices.count() == 5
    _step(page, panel, 2)
    assert len(_output(panel)) >= len(first)
    assert "Step 2: the decoder chose" in panel.inner_text()
    # Two decoder rows now: the self-attention map's masked cell (future) is drawn, with its tooltip.
    assert panel.locator("svg title", has_text="masked").count() == 1
    page.screenshot(path=str(artifacts / "decoding.png"))

    greedy = _output(panel)
    choices.nth(3).check()  # not the greedy choice: it replaces the token this step chose
    panel.get_by_text("You picked").wait_for()
    expect(panel.get_by_label("Output so far")).not_to_have_value(greedy)

    panel.get_by_role("button", name="Start over").click()
    expect(panel.get_by_label("Output so far")).to_have_value("")
    expect(panel.get_by_text("You picked")).to_have_count(0)

    panel.get_by_role("button", name="Finish greedily").click()  # a random miniature runs to the page's limit
    panel.locator(".model-status").filter(has_text="Model:").first.wait_for(timeout=180_000)
    finished = panel.inner_text()
    assert "end-of-sequence" in finished and "step 1 " not in panel.locator(".model-status").first.inner_text()
    assert len(_output(panel)) > len(first)

    panel.get_by_role("button", name="Start over").click()
    expect(panel.get_by_label("Output so far")).to_have_value("")
    page.set_viewport_size(PHONE)
    _step(page, panel, 1)
    page.screenshot(path=str(artifacts / "decoding-phone.png"), full_page=True)


def test_stepping_whisper_over_an_example_clip(decoding_page, artifacts):
    page = decoding_page
    panel = _half(page, "Speech (Whisper)")
    panel.locator("[data-testid='dataset-cell-0-0'], button.gallery-item").filter(visible=True).first.click()
    page.wait_for_timeout(800)  # the example uploads its file
    _step(page, panel, 1)
    assert "2.3 s of audio = 117 of Whisper's 1500 frames" in panel.locator(".model-status").first.inner_text()
    strip = panel.locator("svg[aria-label='cross-attention over time']")
    assert strip.count() == 1
    assert strip.locator("text", has_text="1 s").count() >= 1  # the time axis
    _step(page, panel, 2)
    assert _output(panel)
    page.screenshot(path=str(artifacts / "decoding-speech.png"))
