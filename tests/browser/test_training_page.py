"""The Training signals page in a real Chromium, used as a person would: type a sentence, score it, read
the loss bars and the free run; then open the warm-up schedule, change d_model, plot it and read the peak.
Screenshots at iframe size and phone size go to tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import assert_embed_view

pytestmark = pytest.mark.browser
PAGE = "training"


def test_score_a_sentence_then_plot_the_warmup_schedule(page, playground, artifacts):
    embed(page, playground, PAGE)
    assert_embed_view(page, PAGE)
    panel = page.locator(".pg-page:visible").first
    panel.get_by_label("Text").first.fill("The cat sat on the mat.")  # its info line is in the label
    panel.get_by_role("button", name="Score every token", exact=True).click()

    status = panel.locator(".model-status").filter(has_text="perplexity").first
    status.wait_for()
    assert "SmolLM2-135M-Instruct" in status.inner_text() and "7 tokens scored" in status.inner_text()
    bars = panel.locator(".pg-loss").first
    labels = bars.locator(".pg-label").all_inner_texts()
    assert [label.strip() for label in labels][:2] == ["The", "cat"] and len(labels) == 8
    assert bars.locator(".pg-fill").count() == 7  # the first token has no loss
    assert "perplexity" in panel.locator(".pg-view:has(.pg-loss)").first.inner_text()
    run = panel.locator(".pg-run").first
    assert "Running free" in run.inner_text() and "exposure bias" in run.inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"{PAGE}.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone"
    page.screenshot(path=str(artifacts / f"{PAGE}-phone.png"), full_page=True)

    page.set_viewport_size({"width": 800, "height": 600})
    panel.get_by_role("tab", name="Warm-up schedule").click()
    d_model = panel.get_by_label("number input for d_model")
    d_model.fill("1024")
    d_model.press("Enter")
    panel.get_by_role("button", name="Plot the schedule", exact=True).click()
    line = panel.locator(".model-status").filter(has_text="Schedule:").first
    line.wait_for()
    assert "peak 0.0004941 at step 4,000" in line.inner_text()  # 1024^-0.5 * 4000^-0.5
    assert "d_model 1024" in panel.locator(".pg-chart").first.inner_text()
    assert "divides by zero" in panel.inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"{PAGE}-warmup.png"))
