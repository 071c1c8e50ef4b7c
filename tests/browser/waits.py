"""Waits on conditions, not on the clock, for the page-by-page browser tests (fit, phone, tabs).

A fixed sleep is either too short on a busy 2-core machine or wasted time on an idle one; these wait for
what the checks need: the app's load event answered (it selects a deep-linked page and fills its inputs),
then the layout still for a few frames with no Gradio request pending.
"""

from __future__ import annotations

import json

# The app's one load event (ui/shell.py `open_link`, queue=False): Gradio's /gradio_api/run/predict.
LOAD_EVENT = "/gradio_api/run/predict"

# Resolves once fonts are loaded and, for `frames` animation frames in a row, nothing that a check measures
# has moved (the document's size, the open page's panel, its buttons) and no visible Gradio status is pending.
# Gives up (and lets the check measure what is there) after `limit_ms`.
_SETTLED = """async ([frames, limitMs]) => {
  await document.fonts.ready;
  const signature = () => {
    const panel = [...document.querySelectorAll('.pg-page')].find(e => e.offsetParent !== null);
    const boxes = [panel, ...(panel ? panel.querySelectorAll('button') : [])].filter(Boolean).map(e => {
      const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height].map(Math.round).join(','); });
    return [document.documentElement.scrollWidth, document.documentElement.scrollHeight, ...boxes].join(';');
  };
  // Only what shows: a page left behind may still be answering a request while hidden.
  const pending = () => [...document.querySelectorAll('.pending, .generating')]
    .some(e => e.getClientRects().length > 0);
  const end = performance.now() + limitMs;
  let last = signature(), still = 0;
  while (still < frames && performance.now() < end) {
    await new Promise(resolve => requestAnimationFrame(() => resolve()));
    const now = signature();
    still = now === last && !pending() ? still + 1 : 0;
    last = now;
  }
  return still >= frames;
}"""


def settle(page, frames: int = 5, limit_ms: int = 5_000) -> bool:
    """Wait until the layout has been still for `frames` frames (about 16 ms each); False when it never was."""
    return page.evaluate(_SETTLED, [frames, limit_ms])


def goto_loaded(page, url: str) -> None:
    """Open `url` and wait for the app's load event to be answered (not merely sent)."""
    with page.expect_response(lambda response: LOAD_EVENT in response.url):
        page.goto(url)


# The ids (`fn_index`) of the events that a click on an example runs: Gradio's Examples wire their table (a
# "dataset" component, or its gallery) with `dataset.click(..., queue=False)`, one /gradio_api/run/predict request
# whose answer fills the inputs.
_EXAMPLE_EVENTS = """() => {
  const config = window.gradio_config;
  const tables = new Set(config.components.filter(c => c.type === 'dataset').map(c => c.id));
  return config.dependencies.filter(d => d.targets.some(([id, event]) => tables.has(id) && event === 'click'))
    .map(d => d.id);
}"""


def click_example(page, example) -> None:
    """Click `example` (a cell of an Examples table, or a gallery item) and wait until its values are in the
    inputs: the example's own event answered (not any other request in flight), then a still layout (a file
    example's image or audio player drawn)."""
    events = set(page.evaluate(_EXAMPLE_EVENTS))

    def answers_the_example(response) -> bool:
        if LOAD_EVENT not in response.url:
            return False
        try:
            return json.loads(response.request.post_data or "{}").get("fn_index") in events
        except ValueError:
            return False

    with page.expect_response(answers_the_example) as answer:
        example.click()
    answer.value.finished()
    settle(page)


def goto_answered(page, url: str) -> None:
    """Open `url`, wait for the app's load event's whole answer, then for a still layout: what the link selects
    or fills is in place, also where nothing visible waits for it (a link that opens the first page)."""
    with page.expect_response(lambda response: LOAD_EVENT in response.url) as answer:
        page.goto(url)
    answer.value.finished()
    settle(page)
