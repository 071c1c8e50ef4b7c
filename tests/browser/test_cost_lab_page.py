"""The Cost lab page in a real Chromium, used as a person would: type a prompt, compare the two paths and read
both rows, the cache and batch bars and the KV memory; then open "Attention cost", measure, and read the charts
and the masks. Each result is audited by axe-core in light and dark (the views are our HTML: tables, bars,
charts, masks). Screenshots at iframe size and phone size go to tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.browser.axe_audit import AXE_JS, axe_source
from tests.browser.conftest import embed
from tests.browser.test_accessibility import assert_clean, audit_both_themes
from tests.browser.test_tabs import assert_embed_view

pytestmark = pytest.mark.browser
PAGE = "cost-lab"


def test_compare_the_paths_then_measure_the_attention_cost(page, playground, artifacts):
    axe = axe_source() if AXE_JS.is_file() else None  # tests/browser/test_accessibility.py says how to get it
    embed(page, playground, PAGE)
    assert_embed_view(page, PAGE)
    panel = page.locator(".pg-page:visible").first
    assert "CPU is shared" in panel.inner_text()  # said before anything runs
    panel.get_by_label("Prompt").first.fill("What is the capital of France?")
    panel.get_by_role("button", name="Compare the paths", exact=True).click()

    status = panel.locator(".model-status").filter(has_text="tokens/s").first
    status.wait_for()
    assert "float32:" in status.inner_text() and "fast:" in status.inner_text()
    rows = panel.locator("tr.pg-path")
    assert rows.count() == 2
    float32, fast = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "torch float32" in float32 and "reference" in float32
    assert "onnxruntime-genai" in fast and "%" in fast and " MB" in fast and " ms" in fast
    bars = panel.locator(".pg-pair")
    assert bars.count() == 2 and "cache off" in bars.first.inner_text() and "batch 4" in bars.nth(1).inner_text()
    assert "bytes per token" in panel.inner_text() and "✓ the same" in panel.inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"{PAGE}.png"), full_page=True)
    if axe:
        assert_clean(audit_both_themes(page, "cost-lab with both paths", axe))

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone"
    page.screenshot(path=str(artifacts / f"{PAGE}-phone.png"), full_page=True)

    page.set_viewport_size({"width": 800, "height": 600})
    panel.get_by_role("tab", name="Attention cost").click()
    for label, value in (("Longest input", "128"), ("Window", "8")):
        box = panel.get_by_label(f"number input for {label}")
        box.fill(value)
        box.press("Enter")
    panel.get_by_role("button", name="Measure the costs", exact=True).click()
    line = panel.locator(".model-status").filter(has_text="lengths measured").first
    line.wait_for()
    assert "5 lengths measured" in line.inner_text()
    charts = panel.locator(".pg-chart")
    assert charts.count() == 2 and "One layer (of 2) over n tokens" in charts.first.inner_text()
    assert "sliding window ±8" in charts.nth(1).inner_text() and "Attention alone" in charts.nth(1).inner_text()
    masks = panel.locator(".pg-masks").first  # four windows wide: 32 tokens
    assert "Full, 32 tokens: 1,024 pairs" in masks.inner_text() and "Sliding window ±8: 472 pairs" in masks.inner_text()
    assert "At 128 tokens: full attention scores 16,384 pairs, the window 2,104" in panel.inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"{PAGE}-attention.png"), full_page=True)
    if axe:
        assert_clean(audit_both_themes(page, "cost-lab with the attention costs", axe))
