"""Keyboard use and phone-sized targets where Gradio 6 falls short: a script for `launch(head=...)` and CSS.

What Gradio 6.31 does, and what this module adds (ui/shell.py puts both into the page):

- Tabs (`gr.Tabs`): every tab is a `<button role="tab">` in a `role="tablist"`, each its own Tab stop,
  and the arrow keys, Home and End do nothing. In `overflow_behavior="menu"` (the default; the pages'
  own sub-tabs use it) the "More tabs" button has no `aria-expanded`, and choosing a tab from its menu
  hides the button that had focus, so focus falls to `<body>`.
  Added, after the WAI-ARIA tabs pattern: a roving tabindex (only the selected tab of each list is a
  Tab stop); Left/Right move focus to the previous/next tab (wrapping; mirrored when right-to-left),
  Home/End to the first/last; Enter or Space (the button's own click) chooses. Manual activation,
  because choosing a page here mounts it on first visit (measured 20-240 ms of main-thread work per
  page on a 2-core machine; more on a phone), so arrowing across eleven tabs would mount every page
  on the way and make the page under the tab list jump while a person only reads the tab names; the
  pattern asks for manual activation when panels do not show at once. When a list's selection changes
  while focus is in it, or was lost from it to `<body>` (the load event's deep link, the overflow
  menu), focus goes to the chosen tab, or to "More tabs" when the chosen tab lives in its menu.
  "More tabs" gets `aria-haspopup` and `aria-expanded`; Escape closes its menu and returns to it.
- Dropdown (`gr.Dropdown`): the list opens on focus and closes on blur, but its keydown handler runs
  one tick late and treats every key except Escape as "show the list", so the Tab that leaves it
  reopens the list after the blur; the list then covers the next controls until a mouse click. And
  a long list scrolls, which makes it a Tab stop in Chromium (focusable scrollers): Tab moves focus
  into the list, the blur removes it, and focus falls to `<body>` (Speech's language list). We stop
  that Tab keydown before Gradio sees it (capture phase on `window`) and set `tabindex="-1"` on the
  list: the browser still moves focus, to the next control, and Gradio's blur handler closes the list.
- Code (`gr.Code`): CodeMirror keeps Tab for indenting, so Tab alone never leaves the editor; its own
  way out is Escape, then Tab. Added: that sentence in the editor's corner while it has focus, and as
  its `aria-describedby` for screen readers.
- Focus: the themes show focus as a faint border or shadow change (textbox, number, dropdown) or not
  at all (sliders, whose range input has `outline: none`). Added: one outline on `:focus-visible` for
  every control, in the theme's accent colour (`--color-accent`, so light and dark follow the theme;
  tests/browser/test_keyboard.py checks it against the page background for 3:1 contrast).
- Targets (WCAG 2.2, 2.5.8): copy icons are 18x18 px, slider reset buttons 27x22 and number boxes
  22 px tall (a 24 px frame with a border clips both), slider tracks 8 px, dropdown inputs 18 px,
  accordion headers and footer links 20-21 px, upload source icons 22x22, checkbox rows 20 px, token
  remove buttons 16x16. Added: at least 24x24 CSS px for each, mostly as padding with an equal negative
  margin, so that layouts (and the 800x600 embeds) keep their size.

Everything is event delegation on `document`/`window` plus one MutationObserver, so components that
Gradio renders later (a page mounted on first visit, an accordion opened) need nothing of their own.
"""

from __future__ import annotations

MIN_TARGET_PX = 24  # WCAG 2.2 SC 2.5.8 (AA): a pointer target is at least 24 by 24 CSS pixels
FOCUS_RING_PX = 2  # with the 2 px gap, clear of the control's own border and shadow
# Resolved on each control, not once on :root, so that the dark theme's accent (set under `.dark`) applies.
RING_COLOR = "var(--color-accent)"

EDITOR_HINT = "Escape, then Tab, leaves the editor"  # CodeMirror's own way out; Tab alone indents

HEAD = """<script>
(function () {
  "use strict";
  if (window.__pgKeyboard) return;
  window.__pgKeyboard = true;
  var LIST = '[role="tablist"]', TAB = '[role="tab"]', MORE = 'button[aria-label="More tabs"]';
  var EDITOR = '.cm-content[contenteditable="true"]', HINT_ID = "pg-editor-hint", HINT = "__EDITOR_HINT__.";
  var chosen = new WeakMap();  // tablist -> data-tab-id of its selected tab when last seen
  var lastList = null;  // the tablist (or its "More tabs" menu) that held focus last
  var queued = false;

  function ownTabs(list) {
    return Array.prototype.filter.call(list.querySelectorAll(TAB), function (t) {
      return t.closest(LIST) === list && !t.disabled;
    });
  }
  function listOf(el) {
    if (!el || !el.closest) return null;
    var list = el.closest(LIST);
    if (list) return list;
    var wrapper = el.closest(".overflow-menu") && el.closest(".tab-wrapper");
    return wrapper ? wrapper.querySelector(LIST) : null;
  }
  function moreButton(list) {
    var wrapper = list.closest(".tab-wrapper");
    return wrapper ? wrapper.querySelector(MORE) : null;
  }
  function menuOpen(more) {
    var menu = more.parentElement && more.parentElement.querySelector(".overflow-dropdown");
    return !!menu && !menu.classList.contains("hide");
  }
  function heldFocus(list) {
    var active = document.activeElement;
    return listOf(active) === list || ((!active || active === document.body) && lastList === list);
  }

  function sync() {
    queued = false;
    document.querySelectorAll(LIST).forEach(function (list) {
      var tabs = ownTabs(list);
      var selected = tabs.filter(function (t) { return t.getAttribute("aria-selected") === "true"; })[0];
      var stop = selected || tabs[0];
      tabs.forEach(function (t) {
        var value = t === stop ? "0" : "-1";
        if (t.getAttribute("tabindex") !== value) t.setAttribute("tabindex", value);
      });
      var id = selected ? selected.getAttribute("data-tab-id") : null;
      var before = chosen.get(list);
      chosen.set(list, id);
      if (before !== undefined && before !== id && heldFocus(list)) {
        var target = selected || moreButton(list);
        if (target && target !== document.activeElement) target.focus();
      }
    });
    document.querySelectorAll(EDITOR + ":not([aria-describedby])").forEach(function (editor) {
      if (!document.getElementById(HINT_ID)) {
        var hint = document.createElement("span");
        hint.id = HINT_ID;
        hint.hidden = true;  // still read out as the editor's description
        hint.textContent = HINT;
        document.body.appendChild(hint);
      }
      editor.setAttribute("aria-describedby", HINT_ID);
    });
    document.querySelectorAll(MORE).forEach(function (more) {
      if (more.getAttribute("aria-haspopup") !== "true") more.setAttribute("aria-haspopup", "true");
      var open = String(menuOpen(more));
      if (more.getAttribute("aria-expanded") !== open) more.setAttribute("aria-expanded", open);
    });
  }
  function later() {
    if (!queued) { queued = true; requestAnimationFrame(sync); }
  }

  document.addEventListener("focusin", function (e) { lastList = listOf(e.target); });
  document.addEventListener("pointerdown", function (e) { lastList = listOf(e.target); }, true);

  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (e.altKey || e.ctrlKey || e.metaKey || !el || !el.closest) return;
    if (e.key === "Escape" && el.closest(".overflow-menu")) {
      var more = el.closest(".overflow-menu").querySelector(MORE);
      if (more && menuOpen(more)) { more.click(); more.focus(); }
      return;
    }
    if (!el.matches(TAB)) return;
    var list = el.closest(LIST), tabs = list ? ownTabs(list) : [];
    var i = tabs.indexOf(el), n = tabs.length, step = 0, next = null;
    if (i < 0) return;
    var rtl = getComputedStyle(list).direction === "rtl";
    if (e.key === "ArrowRight") step = rtl ? -1 : 1;
    else if (e.key === "ArrowLeft") step = rtl ? 1 : -1;
    if (step) next = tabs[(i + step + n) % n];
    else if (e.key === "Home") next = tabs[0];
    else if (e.key === "End") next = tabs[n - 1];
    if (!next) return;
    e.preventDefault();
    next.focus();
  });

  // Leaving a Gradio Dropdown with Tab (see ui/keyboard.py): keep the key from Gradio, which would reopen the
  // list, and take the list (a scroller, so a Tab stop in Chromium) out of the Tab order: it closes on blur.
  window.addEventListener("keydown", function (e) {
    var el = e.target;
    if (e.key !== "Tab" || !el || !el.matches || !el.matches('input[role="combobox"]')) return;
    e.stopPropagation();
    var list = document.getElementById(el.getAttribute("aria-controls") || "");
    if (list) list.setAttribute("tabindex", "-1");
  }, true);

  function start() {
    new MutationObserver(later).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["aria-selected", "class", "style"]
    });
    later();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
</script>""".replace("__EDITOR_HINT__", EDITOR_HINT)

# :where() keeps the selector list at zero specificity; !important beats the components' own
# `outline: none` rules (Gradio's scoped CSS), which are more specific than anything generic here.
_CONTROLS = (':where(button, a[href], input:not([type="hidden"]), textarea, select, summary, [tabindex], '
             '[contenteditable="true"])')

CSS = f"""
/* Visible focus for every control (ui/keyboard.py): the theme's accent, clear of the control's border. */
{_CONTROLS}:focus-visible {{
  outline: {FOCUS_RING_PX}px solid {RING_COLOR} !important;
  outline-offset: 2px !important;
}}
/* A radio or checkbox sits in its label, which turns accent-coloured once chosen: the ring goes round the
   label, on the block's background, where it shows. */
:is(input[type="radio"], input[type="checkbox"]):focus-visible {{ outline: none !important; }}
label:has(> :is(input[type="radio"], input[type="checkbox"]):focus-visible) {{
  outline: {FOCUS_RING_PX}px solid {RING_COLOR} !important; outline-offset: 2px !important;
}}
/* Where a wrapper clips overflow (tab rows, example tables, code editors, a slider's number box) the ring
   goes inside. */
:where([role="tab"], td, th, .cm-content, .tab-like-container > *, .upload-container):focus-visible {{
  outline-offset: -{FOCUS_RING_PX + 1}px !important;
}}
/* A code editor keeps Tab for indenting; while it has focus, its corner says how to leave it. */
.cm-editor.cm-focused::after {{
  content: "{EDITOR_HINT}"; position: absolute; right: 4px; bottom: 2px; padding: 0 4px; border-radius: 4px;
  font-size: 12px; pointer-events: none;
  color: var(--body-text-color-subdued); background: var(--background-fill-primary);
}}
/* Targets of at least {MIN_TARGET_PX}x{MIN_TARGET_PX} CSS px (WCAG 2.2, 2.5.8). Where a few pixels short,
   padding grows the element and an equal negative margin keeps the layout as it was. */
button.icon-button, button.reset-button, .source-selection button.icon {{
  min-width: {MIN_TARGET_PX}px !important; min-height: {MIN_TARGET_PX}px !important;
}}
input[type="number"] {{ min-height: {MIN_TARGET_PX}px !important; }}
input[role="combobox"] {{ padding-block: 3px !important; margin-block: -3px !important; }}
input[type="range"] {{ padding-block: 8px !important; margin-block: -8px !important; }}
button.label-wrap, footer a, footer button {{ padding-block: 2px !important; margin-block: -2px !important; }}
/* A slider's number box and reset button sit in a 24 px frame with a 1 px border that clips them to 22. */
.tab-like-container:has(> input[type="number"]) {{ height: auto !important; min-height: {MIN_TARGET_PX + 2}px; }}
label.checkbox-container {{ min-height: {MIN_TARGET_PX}px; }}
/* A token's round remove button is drawn at 16 px (border included); a transparent square around it (26 px)
   takes the taps. */
.token-remove {{ position: relative; }}
.token-remove::after {{ content: ""; position: absolute; inset: -6px; }}
"""
