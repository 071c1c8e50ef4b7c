"""Keyboard use on every page (issue 13), in a real Chromium: the fixes of ui/keyboard.py as a person meets them.

Per page, a walk with the Tab key from the top of the page to the footer checks that every visible control is
reached, that each tab list is one Tab stop (its selected tab), that no dropdown list stays open behind the
focus, and that focus shows: a ring of at least 2 px and 3:1 contrast on every control, and pixels that
change when it takes focus (one control of each kind per page, compared with and without focus). Then the
tab lists: arrows, Home and End move focus, Enter chooses and focus stays, a deep link keeps focus on its tab,
and a "More tabs" menu (pages' own sub-tabs) reports its state and gives focus back.
One browser page is reused and pages open by URL, to keep the walk of twenty pages short.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from pipelines.core.registry import PAGES
from tests.browser.conftest import open_page
from tests.browser.controls import FOCUSED, LISTS_SETTLED, MARK_TAB_STOPS, contrast
from ui.keyboard import EDITOR_HINT

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1024, "height": 768}
MIN_RING_CONTRAST = 3.0  # WCAG 2.2 SC 1.4.11 (non-text contrast) for the focus indicator
MAX_STEPS = 250  # a page has ~20-60 Tab stops; a walk that does not end is a focus trap
LIST_CLOSE_MS = 3_000  # Gradio closes a dropdown's list a few frames after the blur; slower on a busy machine
DARK_PAGES = ("text-generation", "attention")  # the dark walk: one task page, one explainer


@pytest.fixture(scope="module")
def tab(browser):
    """One browser page for the whole module, with the uncaught errors it reported."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield SimpleNamespace(page=page, errors=errors)
    context.close()


def open_full(tab, playground, page_id: str, theme: str = "light"):
    if page_id not in playground.task_ids:
        pytest.skip(f"the {page_id} page is not in this app (PLAYGROUND_BROWSER_TASKS)")
    tab.page.goto(f"{playground.url}?tab={page_id}&__theme={theme}")
    open_page(tab.page, page_id)
    tab.page.wait_for_timeout(300)  # the page's own load events fill its first values
    return tab.page


def walk(page, artifacts, name: str) -> tuple[list[dict], list[dict]]:
    """Tab from the top of the page until focus leaves it; return its Tab stops and each focused control.
    The first control of each kind is also compared with and without focus (`pixels_changed`)."""
    stops = page.evaluate(MARK_TAB_STOPS)
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.click(1, 1)  # the sequential focus starting point: the page's top-left corner
    seen, kinds = [], set()
    for _ in range(MAX_STEPS):
        if seen and seen[-1]["editor"]:  # a code editor keeps Tab for indenting: its way out is Escape, Tab
            page.keyboard.press("Escape")
        page.keyboard.press("Tab")
        if seen and seen[-1]["combobox"]:  # leaving a dropdown: give its list time to close (or to reopen)
            try:
                page.wait_for_function(LISTS_SETTLED, timeout=LIST_CLOSE_MS)
            except PlaywrightTimeout:
                pass  # still open: check_walk reports it
            page.wait_for_timeout(100)  # Gradio's Tab handler reopens the list one tick after the blur
        focused = page.evaluate(FOCUSED)
        if focused is None or (seen and focused["kb"] is not None and focused["kb"] == seen[0]["kb"]):
            return stops, seen
        if focused["kind"] not in kinds:
            kinds.add(focused["kind"])
            focused["pixels_changed"] = ring_pixels(page, focused, artifacts / f"focus-{name}-{len(kinds)}.png")
        seen.append(focused)
    raise AssertionError(f"{name}: {MAX_STEPS} Tab presses and focus never left the page (a focus trap?)")


def ring_pixels(page, focused: dict, path) -> int:
    """Pixels around the focused control that differ from the same place once it loses focus."""
    from PIL import Image, ImageChops

    box, pad = focused["box"], 6
    x, y = max(0, box["x"] - pad), max(0, box["y"] - pad)
    clip = {"x": x, "y": y, "width": min(VIEWPORT["width"], box["x"] + box["width"] + pad) - x,
            "height": min(VIEWPORT["height"], box["y"] + box["height"] + pad) - y}
    if clip["width"] < 1 or clip["height"] < 1:
        return -1  # off screen: nothing to compare
    with_focus = page.screenshot(clip=clip, animations="disabled", caret="hide")
    page.evaluate("window.__pgWalk = document.activeElement; document.activeElement.blur()")
    without = page.screenshot(clip=clip, animations="disabled", caret="hide")
    page.evaluate("window.__pgWalk.focus()")  # the walk goes on from here
    Image.open(io.BytesIO(with_focus)).save(path)
    diff = ImageChops.difference(Image.open(io.BytesIO(with_focus)).convert("RGB"),
                                 Image.open(io.BytesIO(without)).convert("RGB")).convert("L")
    return sum(1 for value in diff.getdata() if value > 24)


def check_walk(name: str, stops: list[dict], seen: list[dict]) -> None:
    reached = {s["kb"] for s in seen}
    reached_groups = {stops[int(kb)]["group"] for kb in reached if kb is not None and stops[int(kb)]["group"]}
    missed = [s for s in stops if str(s["kb"]) not in reached and not (s["group"] and s["group"] in reached_groups)]
    assert not missed, f"{name}: never reached by Tab: {[(s['tag'], s['name']) for s in missed]}"

    tab_stops = [s for s in seen if s["tab"] is not None]
    lists = {s["tab"]["list"] for s in tab_stops}
    assert len(tab_stops) == len(lists), f"{name}: a tab list has more than one Tab stop: {tab_stops}"
    assert all(s["tab"]["selected"] for s in tab_stops), f"{name}: a list's Tab stop is not its chosen tab"

    left_open = [s["name"] for s in seen if s["openLists"] > (1 if s["combobox"] else 0)]
    assert not left_open, f"{name}: a dropdown list stayed open with focus on {left_open}"

    untold = [s["name"] for s in seen if s["editor"] and EDITOR_HINT not in s["description"]]
    assert not untold, f"{name}: a code editor does not say how to leave it: {untold}"

    for s in seen:
        ring = s["ring"]
        assert ring["style"] != "none" and ring["width"] >= 2, f"{name}: no focus ring on {s['kind']} {s['name']!r}"
        ratio = contrast(ring["color"], ring["background"])
        assert ratio >= MIN_RING_CONTRAST, (
            f"{name}: focus ring {ring['color']} on {ring['background']} is {ratio:.2f}:1 on {s['kind']} {s['name']!r}")
    for s in seen:
        if s.get("pixels_changed", -1) >= 0:
            box = s["box"]
            needed = int(min(box["width"], VIEWPORT["width"]) + min(box["height"], VIEWPORT["height"]))
            assert s["pixels_changed"] >= needed, (
                f"{name}: focus changes {s['pixels_changed']} pixels of {s['kind']} {s['name']!r} (< {needed})")


@pytest.mark.parametrize("theme, spec", [("light", spec) for spec in PAGES]
                         + [("dark", spec) for spec in PAGES if spec.id in DARK_PAGES],
                         ids=lambda value: getattr(value, "id", value))
def test_keyboard_walk_reaches_every_control_with_visible_focus(tab, playground, artifacts, theme, spec):
    page = open_full(tab, playground, spec.id, theme)
    stops, seen = walk(page, artifacts, f"{spec.id}-{theme}")
    assert len(seen) >= 5, f"{spec.id}: only {len(seen)} Tab stops"
    check_walk(f"{spec.id} ({theme})", stops, seen)
    assert not tab.errors, f"{spec.id}: uncaught errors in the page: {tab.errors}"


def focused_tab(page) -> dict:
    return page.evaluate("""() => { const el = document.activeElement;
      return {id: el.getAttribute('data-tab-id'), role: el.getAttribute('role'),
              selected: el.getAttribute('aria-selected') === 'true'}; }""")


def test_tab_lists_move_focus_with_arrows_home_and_end_and_keep_it_on_the_chosen_tab(tab, playground):
    ids = [spec.id for spec in PAGES if spec.id in playground.task_ids]
    group_pages = [spec.id for spec in PAGES if spec.id in ids and spec.group == PAGES[0].group]
    if len(group_pages) < 3:
        pytest.skip("needs three pages of one group (PLAYGROUND_BROWSER_TASKS)")
    page = open_full(tab, playground, group_pages[0])
    page.mouse.click(1, 1)
    page.keyboard.press("Tab")  # the group list: one stop
    assert focused_tab(page)["selected"] and focused_tab(page)["id"].startswith("group-")
    page.keyboard.press("Tab")  # the page list: one stop, its chosen page
    assert focused_tab(page) == {"id": group_pages[0], "role": "tab", "selected": True}

    page.keyboard.press("ArrowRight")  # manual activation: focus moves, the page stays
    assert focused_tab(page) == {"id": group_pages[1], "role": "tab", "selected": False}
    page.keyboard.press("End")
    assert focused_tab(page)["id"] == group_pages[-1]
    page.keyboard.press("Home")
    assert focused_tab(page)["id"] == group_pages[0]
    page.keyboard.press("ArrowLeft")  # wraps from the first to the last
    assert focused_tab(page)["id"] == group_pages[-1]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")  # chooses the focused tab; focus stays on it
    open_page(page, group_pages[-2])
    page.wait_for_timeout(300)
    assert focused_tab(page) == {"id": group_pages[-2], "role": "tab", "selected": True}
    stops = page.evaluate("""() => [...document.querySelectorAll('.pg-group-tabs [role=tablist]')]
      .filter(l => l.getClientRects().length).map(l => [...l.querySelectorAll('[role=tab][tabindex="0"]')]
      .map(t => t.getAttribute('data-tab-id')))""")
    assert stops == [[group_pages[-2]]], f"the page list's Tab stops after choosing: {stops}"
    page.keyboard.press("Shift+Tab")  # back to the group list, then the other group with the keyboard
    groups = page.evaluate("[...document.querySelectorAll('#pg-tabs > .tab-wrapper [role=tab]')].length")
    if groups > 1:
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Space")
        page.wait_for_timeout(300)
        chosen = focused_tab(page)
        assert chosen["selected"] and chosen["id"] != f"group-{PAGES[0].group}", chosen
        page.keyboard.press("Tab")  # into the other group's page list: its chosen page
        assert focused_tab(page)["selected"] and focused_tab(page)["role"] == "tab"
    assert not tab.errors, tab.errors


def test_the_deep_link_moves_focus_to_its_tab_when_it_arrives(tab, playground):
    """The load event selects the linked page after the first paint; a person who already tabbed into the
    list meets the linked page's tab, not the first page's."""
    ids = [spec.id for spec in PAGES if spec.id in playground.task_ids and spec.group == PAGES[0].group]
    if len(ids) < 2:
        pytest.skip("needs two pages of one group (PLAYGROUND_BROWSER_TASKS)")
    page, release = tab.page, []
    page.route("**/gradio_api/run/predict*", lambda route: release.append(route))  # hold the load event
    try:
        page.goto(f"{playground.url}?tab={ids[1]}")
        page.locator(f".pg-group-tabs [role=tab][data-tab-id='{ids[0]}'][aria-selected=true]").wait_for(
            state="attached")
        page.wait_for_timeout(300)
        page.mouse.click(1, 1)
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert focused_tab(page)["id"] == ids[0]  # before the link arrives: the first page's tab
        while not release:
            page.wait_for_timeout(100)
        for route in release:
            route.continue_()
        open_page(page, ids[1])
        page.wait_for_function(f"document.activeElement.getAttribute('data-tab-id') === '{ids[1]}'")
    finally:
        page.unroute("**/gradio_api/run/predict*")
    assert focused_tab(page) == {"id": ids[1], "role": "tab", "selected": True}


@pytest.fixture(scope="module")
def menu_app():
    """A small app of our own with the default `overflow_behavior="menu"` (the pages' own sub-tabs use it) and
    a dropdown per tab, so these checks do not depend on what the pages hold today."""
    import gradio as gr

    from tests.conftest import free_port
    from ui import keyboard

    with gr.Blocks() as demo:
        with gr.Tabs():
            for i in range(8):
                with gr.Tab(f"Sub-tab number {i}", id=f"sub-{i}"):
                    gr.Dropdown(["one", "two", "three"], label=f"Choice {i}", interactive=True)
                    gr.Textbox(label=f"Text {i}", interactive=True)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                head=keyboard.HEAD, css=keyboard.CSS)
    yield demo.local_url
    demo.close()


def test_more_tabs_menu_reports_its_state_and_gives_focus_back(browser, menu_app, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(menu_app)
        more = page.locator('button[aria-label="More tabs"]')
        more.wait_for()
        page.wait_for_timeout(300)
        assert more.get_attribute("aria-haspopup") == "true" and more.get_attribute("aria-expanded") == "false"
        more.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('[aria-label=\"More tabs\"]').ariaExpanded === 'true'")
        page.keyboard.press("Escape")
        page.wait_for_function("() => document.querySelector('[aria-label=\"More tabs\"]').ariaExpanded === 'false'")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "More tabs"

        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('[aria-label=\"More tabs\"]').ariaExpanded === 'true'")
        page.keyboard.press("Tab")  # the menu's first item follows its button
        item = page.evaluate("document.activeElement.textContent.trim()")
        assert item.startswith("Sub-tab number"), item
        page.keyboard.press("Enter")
        page.locator(".tabitem:visible", has_text=item.replace("Sub-tab number", "Choice")).wait_for()
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / "keyboard-more-tabs.png"))
        focus = page.evaluate("""() => { const el = document.activeElement;
          return [el.tagName, el.getAttribute('aria-label'), el.getAttribute('aria-selected')]; }""")
        assert focus[0] != "BODY", "choosing from the menu dropped focus to <body>"
        assert focus[1] == "More tabs" or focus[2] == "true", focus

        combo = page.locator(".tabitem:visible [role=combobox]")
        combo.focus()
        page.locator("[role=listbox]").wait_for()
        page.keyboard.press("Tab")  # leave the dropdown with the keyboard
        page.wait_for_timeout(1_000)  # Gradio reopened it one tick after the blur; it must stay shut
        assert page.locator("[role=listbox]").filter(visible=True).count() == 0, "the dropdown list stayed open"
        assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
    finally:
        context.close()
    assert not errors, errors
