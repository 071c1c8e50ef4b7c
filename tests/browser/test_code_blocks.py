""""Code for this result" on task tabs, in a real Chromium, as a person uses it: open the block before any
run (the program for the tab's example, saying so), run the tab's first example, and read the program of
that run: the checkpoint that answered, the example's input, the settings; a copy button. Screenshots at
iframe size (800 x 600) and on a phone (390 x 844) go to tests/artifacts/<task>-code.png and
<task>-code-phone.png.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import run_first_example

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
EXAMPLE_NOTE = "This is the code for the tab's example"
# What the program of each tab's first example must say: its checkpoint, its input, a setting of the run.
EXPECTED = {
    "text-generation": ['MODEL = "openai-community/gpt2"', 'PROMPT = "Once upon a time,"', "max_new_tokens=12"],
    "translation": ['MODEL = "Helsinki-NLP/opus-mt-en-de"', 'TEXT = "Good morning!"', "BEAMS = 4"],
    "image-classification": ['MODEL = "google/vit-base-patch16-224"', 'IMAGE = "cat.png"', "TOP_K = 5"],
    "forecasting": ['MODEL = "amazon/chronos-bolt-small"', 'SERIES = "monthly_airline_style.csv"', "HORIZON = 24"],
}
# Fewer new tokens than the default: a random miniature never stops early.
SETTINGS = {"text-generation": {"Max new tokens": 12}}


def code_block(panel):
    return panel.locator(".code-for-result").filter(visible=True).first


def program_text(block) -> str:
    """The program as the editor shows it (its first lines: the constants are at the top)."""
    return "\n".join(block.locator(".cm-content .cm-line").all_inner_texts())


@pytest.mark.parametrize("task_id", list(EXPECTED))
def test_the_code_of_the_first_examples_result(page, playground, artifacts, task_id):
    embed(page, playground, task_id)
    panel = page.locator(".pg-page:visible").first
    block = code_block(panel)
    toggle = block.get_by_role("button", name="Code for this result")
    toggle.wait_for()
    assert not block.locator(".cm-content").is_visible()  # closed until asked
    toggle.click()
    block.locator(".cm-content").wait_for()
    assert EXAMPLE_NOTE in program_text(block)  # before any run: the example's program, saying so

    for label, value in SETTINGS.get(task_id, {}).items():
        box = panel.locator(f"input[type=number][aria-label='number input for {label}']").first
        box.fill(str(value))
        box.press("Enter")
    run_first_example(page, task_id)
    # The program follows the run: no longer the example's, and with this run's model, input and settings.
    block.locator(".cm-content").filter(has_not_text=EXAMPLE_NOTE).wait_for()
    written = program_text(block)
    for expected in EXPECTED[task_id]:
        assert expected in written, f"{task_id}: {expected!r} not in the program:\n{written}"
    assert block.get_by_role("button", name="Copy").count() >= 1, "no copy button on the program"

    block.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{task_id}-code.png"))
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{task_id}-code-phone.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{task_id}: the page is {overflow}px wider than a phone (the program must scroll inside)"
