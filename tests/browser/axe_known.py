"""axe-core violations that only Gradio's own markup causes, which the app cannot fix: the one list of them.

tests/browser/test_accessibility.py fails on every serious or critical violation not matched here. An entry
matches a finding by rule id and a regular expression over the element's opening markup (and, for contrast,
over the colours axe measured), so a new kind of element failing the same rule is still caught. Each entry
says what Gradio does (in 6.31, the pinned version) and why the app cannot change it; remove an entry when
Gradio fixes the behaviour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.browser.axe_audit import Finding


@dataclass(frozen=True)
class Known:
    rule: str
    markup: str  # regex, searched in the failing element's outer HTML (axe keeps its first 300 characters)
    reason: str  # what Gradio does, and why the app cannot change it
    contrast: str = ""  # regex over "ratio fg on bg" for color-contrast entries; empty matches anything

    def matches(self, finding: Finding) -> bool:
        return (finding.rule == self.rule and re.search(self.markup, finding.html) is not None
                and re.search(self.contrast, finding.contrast) is not None)


# Gradio's light CodeMirror theme for gr.Code (Nord-like, hard-coded in the Code component's bundle, not
# theme tokens): keywords and function names #5e81ac (4.02:1 on white), names and strings #d08770,
# definitions and operators #a3be8c, numbers #88c0d0, braces #8fbcbb, class names #ebcb8b. On any background:
# gr.Code picks its CodeMirror theme when it is drawn, so after a switch to dark in the open page (Gradio's
# own Settings panel does that; so does the test, to audit both themes without reloading) it keeps these
# colours on the dark block until the page is reloaded; opened with ?__theme=dark it draws its dark theme,
# which passes.
NORD_LIGHT = "#(5e81ac|d08770|a3be8c|88c0d0|8fbcbb|ebcb8b|81a1c1|b48ead|bf616a) on #"

KNOWN: tuple[Known, ...] = (
    Known("aria-prohibited-attr", r'^<div aria-label="Empty value" class="empty\b',
          "An output with no value yet (gr.Label, gr.Image, gr.Plot, gr.Gallery, ...) shows Gradio's Empty "
          "placeholder (@gradio/atoms Empty.svelte): `<div aria-label=\"Empty value\">` with no role, where ARIA "
          "forbids aria-label. The markup is Gradio's; giving every output a dummy value would be worse."),
    Known("label-content-name-mismatch", r'^<button class="upload-container\b[^>]*aria-label="',
          "Gradio's upload area (@gradio/upload Upload.svelte) is a button named by aria-label (\"Drop an image "
          "file here to upload\", \"Click to upload or drop files\") while its visible text reads \"Drop Image Here "
          "- or - Click to Upload\": speech users saying the visible words may miss it. Fixed text in Gradio's "
          "bundle; an experimental axe rule."),
    Known("color-contrast", r'^<span class="ͼ[0-9a-z]+"', "gr.Code in light mode colours Python with Gradio's "
          "hard-coded Nord-like CodeMirror theme, not theme tokens (and keeps it after a live switch to dark); "
          "the CodeMirror theme it draws when opened in dark passes.", contrast=NORD_LIGHT),
)


def known_for(finding: Finding) -> Known | None:
    return next((known for known in KNOWN if known.matches(finding)), None)
