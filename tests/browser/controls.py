"""What the keyboard and phone tests read from a page: its Tab stops, the focused control, pointer targets.

Each is one JavaScript function run by `page.evaluate`, so one round trip reads a whole page.
"""

from __future__ import annotations

import re

# Tab stops a person can see: the browser's focusable elements minus disabled, hidden and tabindex=-1 ones.
# Each is marked with data-kb (its index) so that a walk can tell which of them it reached.
MARK_TAB_STOPS = """() => {
  const SEL = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex], '
    + '[contenteditable=true]';
  const stops = [];
  for (const el of document.querySelectorAll(SEL)) {
    el.removeAttribute('data-kb');
    if (el.disabled || el.tabIndex < 0 || el.closest('[inert], [aria-hidden=true]')) continue;
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (box.width < 1 || box.height < 1 || style.visibility === 'hidden') continue;
    el.setAttribute('data-kb', String(stops.length));
    // Radios of one group are one Tab stop (arrows move inside the group).
    const group = el.type === 'radio' && el.name ? 'radio:' + el.name : null;
    stops.push({kb: stops.length, group, name: (el.getAttribute('aria-label') || el.textContent || el.value || '')
                .trim().slice(0, 40), tag: el.tagName.toLowerCase()});
  }
  return stops;
}"""

# Dropdown lists on screen, and whether that is more than the focused control accounts for (its own list).
OPEN_LISTS = """() => [...document.querySelectorAll('[role=listbox]')].filter(l => l.getClientRects().length > 0
  && getComputedStyle(l).visibility !== 'hidden' && l.getBoundingClientRect().height > 0).length"""
LISTS_SETTLED = ("() => (" + OPEN_LISTS + ")() <= "
                 "(document.activeElement?.getAttribute('role') === 'combobox' ? 1 : 0)")

# The focused control: which Tab stop it is, its kind, its tab list, the lists left open, and its focus ring.
FOCUSED = """async () => {
  const OPEN_LISTS = """ + OPEN_LISTS + """;
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const role = el.getAttribute('role') || '';
  const cls = [...el.classList].find(c => !c.startsWith('svelte-')) || '';
  const list = el.closest('[role=tablist]');
  // The ring is the control's own outline, or its label's (a radio in its pill, a checkbox with its text).
  const label = [...(el.labels || [])].find(l => l.contains(el));
  // Buttons fade their ring in (the theme's `transition: all`): read it once the transition is over.
  const fading = [el, label].filter(Boolean).flatMap(e => e.getAnimations())
    .filter(a => Number.isFinite(a.effect?.getComputedTiming().endTime));
  await Promise.allSettled(fading.map(a => a.finished));
  const ringed = getComputedStyle(el).outlineStyle === 'none' && label ? label : el, style = getComputedStyle(ringed);
  // The colour the ring is drawn on: the control's own background when the ring is inset, else its parent's.
  let under = parseFloat(style.outlineOffset) < 0 ? ringed : ringed.parentElement, background = 'rgb(255, 255, 255)';
  for (; under; under = under.parentElement) {
    const c = getComputedStyle(under).backgroundColor;
    const alpha = c.startsWith('rgba') ? parseFloat(c.split(',')[3]) : 1;
    if (alpha >= 0.5) { background = c; break; }
  }
  const openLists = OPEN_LISTS();
  const box = ringed.getBoundingClientRect();
  return {
    kb: el.getAttribute('data-kb'), name: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40),
    kind: [el.tagName.toLowerCase(), el.type || '', role, cls].join(':'),
    tab: role === 'tab' ? {list: list ? [...document.querySelectorAll('[role=tablist]')].indexOf(list) : -1,
                           selected: el.getAttribute('aria-selected') === 'true'} : null,
    combobox: role === 'combobox', openLists, editor: el.matches('.cm-content'),
    description: (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
      .map(id => document.getElementById(id)?.textContent || '').join(' '),
    ring: {style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor, background},
    box: {x: box.x, y: box.y, width: box.width, height: box.height},
  };
}"""

# Visible controls whose pointer target is under `min` x `min` CSS px. The target is the control, or the <label>
# around it (a tap on a checkbox's text ticks it), cut to what ancestors that clip their overflow let show.
# A control drawn smaller may take taps on a transparent ring (a pseudo-element): then a cross of `min` px
# through its centre, probed with elementFromPoint, must land on it.
SMALL_TARGETS = """(min) => {
  const SEL = 'button, input:not([type=hidden]), select, textarea, a[href], [role=button], [role=tab], [role=checkbox]';
  const small = [];
  for (const el of document.querySelectorAll(SEL)) {
    const box = el.getBoundingClientRect();
    if (box.width < 1 || box.height < 1 || getComputedStyle(el).visibility === 'hidden') continue;
    if (el.closest('[aria-hidden=true]')) continue;  // Gradio's hidden copy of a tab row, kept for measuring
    if (el.matches('.prose a, .md a, p a, li a')) continue;  // a link in a sentence: WCAG's inline exception
    const target = [...(el.labels || [])].find(l => l.contains(el)) || el;
    target.scrollIntoView({block: 'center', inline: 'center'});
    const r = target.getBoundingClientRect();
    let left = r.left, top = r.top, right = r.right, bottom = r.bottom;
    for (let a = target.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const c = a.getBoundingClientRect(), bl = parseFloat(s.borderLeftWidth), bt = parseFloat(s.borderTopWidth);
      left = Math.max(left, c.left + bl); top = Math.max(top, c.top + bt);
      right = Math.min(right, c.left + bl + a.clientWidth); bottom = Math.min(bottom, c.top + bt + a.clientHeight);
    }
    const w = right - left, h = bottom - top;
    if (w >= min - 0.5 && h >= min - 0.5) continue;
    const cx = (left + right) / 2, cy = (top + bottom) / 2, half = min / 2 - 0.5;
    const cross = [[cx, cy], [cx - half, cy], [cx + half, cy], [cx, cy - half], [cx, cy + half]];
    if (cross.every(([x, y]) => target.contains(document.elementFromPoint(x, y)))) continue;
    small.push({tag: el.tagName.toLowerCase(), type: el.type || '',
                name: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40),
                classes: [...el.classList].filter(c => !c.startsWith('svelte-')).join(' '),
                size: [Math.round(w * 10) / 10, Math.round(h * 10) / 10]});
  }
  window.scrollTo(0, 0);
  return small;
}"""


def contrast(color_a: str, color_b: str) -> float:
    """WCAG 2 contrast ratio of two CSS `rgb()`/`rgba()` colours (alpha ignored)."""
    def luminance(color: str) -> float:
        channels = [float(v) / 255 for v in re.findall(r"[\d.]+", color)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(color_a), luminance(color_b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
