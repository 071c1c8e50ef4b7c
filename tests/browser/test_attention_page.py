"""The attention lab in a real Chromium, as a person uses it: show a model's heads, enlarge another head,
take one query/key pair apart, switch to an encoder, and work the course's example with a mask and a
mistake. Screenshots at iframe size and on a phone go to tests/artifacts/attention*.png."""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import ERROR_TOAST, assert_embed_view

pytestmark = pytest.mark.browser
PAGE = "attention"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def lab(page, playground):
    embed(page, playground, PAGE)
    return page.locator(".pg-page:visible").first


def status_with(panel, text: str):
    found = panel.locator(".model-status").filter(visible=True).filter(has_text=text).first
    found.or_(panel.page.locator(ERROR_TOAST).first).wait_for()
    toast = panel.page.locator(ERROR_TOAST).first
    assert not toast.is_visible(), toast.inner_text()
    return found


def show_attention(panel, text: str | None = None, expect: str = "Model:"):
    if text is not None:
        panel.get_by_label("Text").fill(text)
    panel.get_by_role("button", name="Show attention").click()
    return status_with(panel, expect)


def refused(panel, text: str) -> str:
    panel.get_by_label("Text").fill(text)
    panel.get_by_role("button", name="Show attention").click()
    toast = panel.page.locator(ERROR_TOAST).first
    toast.wait_for()
    return toast.inner_text()


def test_real_heads_a_pair_and_the_screenshots(page, lab, artifacts):
    assert_embed_view(page, PAGE)
    assert "not an explanation by itself" in lab.inner_text()
    status = show_attention(lab).inner_text()
    assert "SmolLM2-135M-Instruct" in status and "Causal mask" in status and "share 2 key/value heads" in status
    grid = lab.locator(".pg-view").filter(has_text="the model view").first
    assert [f"head {h}" in grid.inner_text() for h in range(4)] == [True] * 4
    assert lab.locator("svg.pg-lines").filter(visible=True).count() == 1  # the head view
    heat = lab.locator("svg[aria-label^='Layer 0, head 0']").filter(visible=True)
    assert heat.locator("title", has_text="masked").count() > 0  # the causal mask drawn as masked cells

    head = lab.get_by_label("number input for Head (enlarged)")
    head.fill("3")
    head.press("Enter")
    lab.get_by_text("Layer 0, head 3, key/value head 1 (the head view)").wait_for()

    lab.get_by_role("button", name="Show q·k for this pair").click()
    pair = status_with(lab, "Recomputed weight").inner_text()
    assert "equals the model's own" in pair and "key/value head 1" in pair
    view = lab.locator(".pg-view").filter(has_text="q[i]×k[i]").first
    assert "after the rotary position rotation" in view.inner_text() and "✓ equals" in view.inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"{PAGE}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"{PAGE}-phone.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"


def test_an_encoder_is_labelled_unmasked_and_a_long_text_draws_pictures(page, lab):
    lab.locator("[data-testid='dataset-cell-2-0']").click()  # "Transformers are amazing!" with all-MiniLM-L6-v2
    page.wait_for_timeout(300)
    status = show_attention(lab, expect="all-MiniLM-L6-v2").inner_text()
    assert "No mask here" in status and "padding" in status
    show_attention(lab, " ".join(["word"] * 40))
    grid = lab.locator(".pg-heads").filter(visible=True).first
    grid.wait_for()
    assert grid.locator("img").count() == 4  # the miniature's 4 heads, one picture each
    assert "the attention lab shows at most 128" in refused(lab, "word " * 300)


def test_the_worked_example_with_a_mask_and_a_mistake(page, lab, artifacts):
    lab.get_by_role("tab", name="Worked example (3.6)").click()
    lab.get_by_role("button", name="Compute attention").click()
    steps = lab.locator(".pg-steps").filter(visible=True).first
    steps.get_by_text("Output = weights × V").wait_for()
    assert "0.4011" in steps.inner_text() and "1.4142" in steps.inner_text()
    lab.get_by_role("checkbox", name="Causal mask").check()  # the tick box recomputes at once
    lab.get_by_text("3. Causal mask").wait_for()
    assert "−∞" in steps.inner_text() and "0.6698" in steps.inner_text()
    page.screenshot(path=str(artifacts / f"{PAGE}-worked.png"), full_page=True)
    v = lab.get_by_label("values, one row per key")  # V's label and info line
    v.fill("[[0.1, 0.2], [0.2, 0.3]]")
    v.press("Enter")
    toast = page.locator(ERROR_TOAST).first
    toast.wait_for()
    assert "K has 3 rows but V has 2" in toast.inner_text()
