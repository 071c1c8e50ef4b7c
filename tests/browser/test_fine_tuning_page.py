"""The Fine-tuning page in a real Chromium, used as a person would: try a sentence before training (the
untrained head answers, and says so), fine-tune with the defaults and watch the curves arrive, then try the
same sentence on the fine-tuned model. Screenshots at iframe size and phone size go to tests/artifacts/.
(The app runs the MiniLM miniature here: random weights, so the accuracies mean nothing.)"""

from __future__ import annotations

import pytest

from tests.browser.test_tabs import assert_embed_view, open_page

pytestmark = pytest.mark.browser
PAGE = "fine-tuning"


def test_try_fine_tune_and_try_again(page, playground, artifacts):
    if PAGE not in playground.task_ids:
        pytest.skip("the fine-tuning page is not in this app (PLAYGROUND_BROWSER_TASKS)")
    page.context.set_default_timeout(180_000)  # a training on a busy 2-core machine
    page.goto(f"{playground.url}embed/{PAGE}?text=I%20love%20this%20product!")
    open_page(page, PAGE)
    assert_embed_view(page, PAGE)
    panel = page.locator(".pg-page:visible").first
    sentence = panel.get_by_label("Your sentence", exact=True)
    assert sentence.input_value() == "I love this product!"  # the deep link's ?text=
    panel.get_by_role("button", name="Classify", exact=True).click()
    before = panel.locator(".model-status").filter(has_text="untrained head").first
    before.wait_for()
    assert "Fine-tune first" in before.inner_text()

    panel.get_by_role("button", name="Fine-tune", exact=True).click()
    training = panel.locator(".model-status").filter(has_text="Validation accuracy").first
    training.wait_for()
    panel.locator(".model-status").filter(has_text="finished after 3 epochs").first.wait_for()
    text = training.inner_text()
    assert "untrained head" in text and "layers trained" in text
    charts = panel.locator(".pg-chart")
    assert charts.count() == 2 and "kept: epoch" in charts.nth(0).inner_text()
    assert charts.nth(0).locator("circle").count() == 8  # epochs 0..3, training and validation
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"{PAGE}.png"))

    panel.get_by_role("button", name="Classify", exact=True).click()
    after = panel.locator(".model-status").filter(has_text="fine-tuned in this session").first
    after.wait_for()
    assert "Fine-tuned in this session: kept epoch" in after.inner_text()
    label = panel.locator(".block").filter(has_text="Class probabilities").first
    assert "Positive" in label.inner_text() and "Negative" in label.inner_text()
    page.screenshot(path=str(artifacts / f"{PAGE}-full.png"), full_page=True)

    # A long training (every layer, one review per update, 20 epochs), stopped: the best epoch so far is kept.
    for label, value in (("Frozen layers", "0"), ("Epochs", "20")):
        panel.get_by_label(f"number input for {label}").fill(value)
        panel.get_by_label(f"number input for {label}").press("Enter")
    panel.get_by_text("Advanced", exact=True).click()
    panel.get_by_label("number input for Batch size").fill("1")
    panel.get_by_label("number input for Batch size").press("Enter")
    panel.get_by_role("button", name="Fine-tune", exact=True).click()
    panel.locator(".model-status").filter(has_text="of 20").filter(has_text="training").first.wait_for()
    panel.get_by_role("button", name="Stop (keep the best epoch)", exact=True).click()
    stopped = panel.locator(".model-status").filter(has_text="stopped after").first
    stopped.wait_for()
    assert "2 of 2 layers trained" in stopped.inner_text()  # the miniature has 2 layers: 0 frozen
    assert "kept" in stopped.inner_text()

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone"
    page.screenshot(path=str(artifacts / f"{PAGE}-phone.png"), full_page=True)
