"""The "One block" page in a real Chromium, used as a person would: type a sentence, step through a block,
switch a sub-layer off, pick the post-LN model from the examples, give a layer that does not exist, look
at dropout; screenshots at the iframe's 800x600 and on a 390-px phone.

    PLAYGROUND_BROWSER_TASKS=transformer-block pytest -n 0 tests/browser/test_transformer_block_page.py
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import ERROR_TOAST, assert_embed_view

pytestmark = pytest.mark.browser
PAGE_ID = "transformer-block"


def answered(panel):
    """Wait for the block's status line to name the model that answered; return its text."""
    status = panel.locator(".model-status").first.filter(has_text="Model:")
    status.wait_for()
    return status.inner_text()


def test_step_through_a_block_switch_a_sublayer_off_and_see_dropout(page, playground, artifacts):
    from playwright.sync_api import expect

    embed(page, playground, PAGE_ID, 'text=The%20dog%20ran%20home.')
    assert_embed_view(page, PAGE_ID)
    panel = page.locator(".pg-page:visible").first
    text = panel.get_by_label("Text", exact=True)
    expect(text).to_have_value("The dog ran home.")  # the deep link filled the main text

    text.fill("The cat sat on the mat.")
    panel.get_by_role("button", name="Step through the block").click()
    status = answered(panel)
    assert "SmolLM2-135M-Instruct" in status and "block 0 of 2" in status and "pre-LN, RMSNorm" in status
    steps = panel.locator("table.tb-table").first
    rows = steps.locator("tr:not(.tb-note) td.tb-name").all_inner_texts()
    assert rows == ["Residual stream in", "RMSNorm (input_layernorm)", "Attention output",
                    "Add: residual + attention", "RMSNorm (post_attention_layernorm)", "Feed-forward output",
                    "Add: residual + feed-forward"]
    assert panel.locator(".tb-chip.tb-chosen").inner_text().startswith(" s")  # token 2 of the miniature's pieces
    assert "differ by at most 0" in steps.inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"{PAGE_ID}.png"), full_page=True)

    panel.get_by_label("feed-forward").check()
    panel.get_by_role("button", name="Switch it off").click()
    panel.get_by_text("With model.layers.0.mlp off").wait_for()
    ablation_status = panel.locator(".model-status").filter(has_text="switched off").last
    assert "block 0's feed-forward switched off" in ablation_status.inner_text()

    panel.get_by_text("Dropout: training mode vs evaluation mode").click()
    panel.get_by_role("button", name="Apply dropout").click()
    dropout = panel.get_by_text("Training mode zeroed")
    dropout.wait_for()
    assert "evaluation mode returned them unchanged" in dropout.inner_text()
    assert "attention_dropout = 0" in panel.inner_text()

    # The post-LN model, from the examples: the norm comes after each add.
    panel.locator("[data-testid='dataset-cell-3-0']").click()
    page.wait_for_timeout(500)
    panel.get_by_role("button", name="Step through the block").click()
    panel.locator(".model-status").first.filter(has_text="all-MiniLM-L6-v2").wait_for()
    steps = panel.locator("table.tb-table").first
    expect(steps).to_contain_text("LayerNorm (attention.output.LayerNorm)")
    rows = steps.locator("tr:not(.tb-note) td.tb-name").all_inner_texts()
    assert rows[2:4] == ["Add: residual + attention", "LayerNorm (attention.output.LayerNorm)"]

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(400)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390-px phone"
    page.screenshot(path=str(artifacts / f"{PAGE_ID}-phone.png"), full_page=True)

    # A block that does not exist: a sentence saying which ones do.
    layer = panel.get_by_label("Layer", exact=True)
    layer.fill("99")
    panel.get_by_role("button", name="Step through the block").click()
    error = page.locator(ERROR_TOAST).first
    error.wait_for()
    assert "Layer must be a whole number from 0 to 1" in error.inner_text()

