"""The Positions page in a real Chromium, used as a person would: draw the course's encoding, read its
heatmap's cells, make it larger, then look at a learned (MiniLM) and a rotary (SmolLM2) model's positions.
Screenshots at iframe size (800 x 600) and on a phone (390 x 844) go to tests/artifacts/."""

from __future__ import annotations

import math

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import ERROR_TOAST, assert_embed_view

pytestmark = pytest.mark.browser
PAGE_ID = "positions"


def section_status(panel, text: str):
    """The visible status line that contains `text`, once it is there."""
    status = panel.locator(".model-status").filter(visible=True).filter(has_text=text).first
    status.wait_for()
    return status


def set_slider(panel, label: str, value: int, nth: int = 0) -> None:
    """Type a value into the number box of the nth slider labelled `label` (as a person can)."""
    box = panel.locator(f"input[type=number][aria-label='number input for {label}']").nth(nth)
    box.fill(str(value))
    box.press("Enter")


@pytest.fixture
def positions_page(page, playground):
    embed(page, playground, PAGE_ID)
    return page


def test_the_course_encoding_then_a_learned_and_a_rotary_model(positions_page, artifacts):
    page = positions_page
    assert_embed_view(page, PAGE_ID)
    panel = page.locator(".pg-page:visible").first
    panel.get_by_role("button", name="Draw the encoding").click()
    status = section_status(panel, "Sinusoidal encoding")
    assert "16 positions × 32 dimensions" in status.inner_text() and "= 4" in status.inner_text()
    heatmap = panel.locator("svg[aria-label^='PE: 16 positions']")
    heatmap.wait_for()
    # The cell of position 1, dimension 0 holds sin(1); of position 1, dimension 1, cos(1) (their tooltips).
    titles = heatmap.locator("rect > title").all_text_contents()
    assert titles[32] == f"position 1 → 0: {math.sin(1):.4f}" and titles[33] == f"position 1 → 1: {math.cos(1):.4f}"
    assert panel.get_by_text("Similarity by offset").is_visible()
    page.screenshot(path=str(artifacts / f"{PAGE_ID}.png"))

    set_slider(panel, "Length", 128)
    set_slider(panel, "d_model", 512)
    panel.get_by_role("button", name="Draw the encoding").click()
    section_status(panel, "128 positions × 512 dimensions")
    picture = panel.locator("img[alt='PE: 128 positions × 512 dimensions']")
    assert picture.is_visible() and picture.evaluate("img => img.naturalWidth") >= 512

    set_slider(panel, "d_model", 33)  # odd: the formula pairs sin and cos
    panel.get_by_role("button", name="Draw the encoding").click()
    error = page.locator(ERROR_TOAST).first
    error.wait_for()
    assert "d_model must be even" in error.inner_text()

    panel.get_by_role("button", name="Show the model's positions").click()  # the default: all-MiniLM-L6-v2
    status = section_status(panel, "learned positions")
    assert "all-MiniLM-L6-v2" in status.inner_text()
    assert panel.get_by_text("Learned absolute", exact=False).first.is_visible()
    assert panel.locator("svg[aria-label^='Cosine similarity of the first 16 learned']").is_visible()

    model = panel.locator("input[role='listbox'], input[aria-label='Model']").first
    model.click()
    page.get_by_role("option", name="SmolLM2-135M-Instruct").click()
    panel.get_by_role("button", name="Show the model's positions").click()
    section_status(panel, "rotary positions")
    facts = panel.get_by_text("Every diagonal is constant").first
    assert facts.is_visible()
    deviation = float(facts.inner_text().split("max deviation")[1].split()[0])
    assert deviation < 1e-4
    facts.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{PAGE_ID}-rotary.png"))


def test_the_page_on_a_phone(positions_page, artifacts):
    page = positions_page
    page.set_viewport_size({"width": 390, "height": 844})
    panel = page.locator(".pg-page:visible").first
    panel.get_by_role("button", name="Draw the encoding").click()
    section_status(panel, "Sinusoidal encoding")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    page.screenshot(path=str(artifacts / f"{PAGE_ID}-phone.png"))
