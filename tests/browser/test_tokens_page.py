"""The Tokens page in a real Chromium, used as a person would: type a text, press Tokenize, read each
tokenizer's pieces, click a piece (and pick one from the Token list) and read its nearest neighbours.
Screenshots at iframe size and phone size go to tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import assert_embed_view

pytestmark = pytest.mark.browser
PAGE = "tokens"
GPT2 = "openai-community/gpt2"


def embedding_head(page):
    return page.locator(".pg-tokens .pg-message").filter(has_text="input embeddings").first


def test_tokenize_then_pick_pieces_by_click_and_from_the_list(page, playground, artifacts):
    embed(page, playground, PAGE)
    assert_embed_view(page, PAGE)
    panel = page.locator(".pg-page:visible").first
    panel.get_by_label("Text", exact=True).fill("Transformers are amazing! 🤗")
    panel.get_by_role("button", name="Tokenize", exact=True).click()

    bert_row = panel.locator(".pg-tokens .pg-row").filter(has_text="BERT base uncased = all-MiniLM-L6-v2").first
    bert_row.wait_for()
    assert bert_row.locator("[data-piece]").all_inner_texts()[:5] == [
        "[CLS]101", "transformers19081", "are2024", "amazing6429", "!999"]
    gpt2_row = panel.locator(".pg-tokens .pg-row").filter(has_text="GPT-2").first
    assert "same vocabulary" in bert_row.inner_text() and "characters per token" in gpt2_row.inner_text()
    assert gpt2_row.locator(".pg-bytes").count() == 3  # the emoji's 4 bytes in 3 pieces, dotted
    assert bert_row.locator(".pg-special").count() == 3  # [CLS], [UNK] for the emoji, [SEP]

    # Tokenizing shows the first piece of the picked model (MiniLM) at once.
    embedding_head(page).filter(has_text="transformers").wait_for()
    assert "all-MiniLM-L6-v2" in embedding_head(page).inner_text()
    status = panel.locator(".model-status").filter(has_text="Model:").first
    status.wait_for()
    page.screenshot(path=str(artifacts / f"{PAGE}.png"))

    # A click on a GPT-2 piece: GPT-2's embeddings, and the picker follows.
    gpt2_row.locator('[data-piece="Ġamazing"]').click()
    embedding_head(page).filter(has_text="Ġamazing").filter(has_text="GPT-2").wait_for()
    assert panel.get_by_label("Model", exact=True).input_value() == "GPT-2"
    neighbours = panel.locator(".pg-tokens").filter(has_text="Nearest entries by cosine similarity")
    assert neighbours.locator(".pg-bar").count() == 10

    # The Token list offers GPT-2's pieces of the text: pick one without typing.
    panel.get_by_label("Token", exact=True).click()
    page.get_by_role("option", name="Ġare  (389)").click()
    embedding_head(page).filter(has_text="Ġare").wait_for()
    assert "(id 389)" in embedding_head(page).inner_text()
    page.screenshot(path=str(artifacts / f"{PAGE}-full.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone"
    page.screenshot(path=str(artifacts / f"{PAGE}-phone.png"))


def test_a_word_that_is_not_one_entry_offers_its_pieces(page, playground):
    embed(page, playground, PAGE)
    panel = page.locator(".pg-page:visible").first
    picker = panel.get_by_label("Model", exact=True)
    picker.click()
    page.get_by_role("option", name="GPT-2").click()
    token = panel.get_by_label("Token", exact=True)
    token.fill("transformers")
    token.press("Enter")
    panel.get_by_role("button", name="Show embedding", exact=True).click()
    message = panel.locator(".pg-tokens .pg-message").filter(has_text="splits it into 2 pieces").first
    message.wait_for(timeout=180_000)  # the first request builds and loads the GPT-2 miniature: slow on a busy CI
    panel.locator('.pg-tokens [data-piece="ers"]').click()  # the offered piece, clicked
    embedding_head(page).filter(has_text="ers").filter(has_text="GPT-2").wait_for()
