"""The theme's colours (ui/theme.py) and our views' colours (ui/views.py) pass WCAG 2.1 AA contrast, computed
from the tokens themselves: each text colour against every background it is drawn on, in light and dark.

The browser test (tests/browser/test_accessibility.py) sees what axe sees on the pages; this one also covers
states axe never meets in a page as loaded (hover, visited links, placeholders, every step of a colour scale).
"""

from __future__ import annotations

import re

import pytest

from ui import views
from ui.theme import PlaygroundTheme

AA = 4.5
NAMED = {"white": "#ffffff", "black": "#000000"}
# (text token, background token): what Gradio draws with each text colour.
PAIRS = [
    ("block_label_text_color", "block_label_background_fill"),  # the label pill
    ("block_label_text_color", "background_fill_primary"),  # gr.Label/gr.Dataframe titles without a pill
    ("block_label_text_color", "block_background_fill"),
    ("block_label_text_color", "input_background_fill"),  # an upload area's "Drop Image Here"
    ("block_title_text_color", "block_title_background_fill"),
    ("block_info_text_color", "block_background_fill"),  # info= help text
    ("body_text_color_subdued", "block_background_fill"),  # slider ends, "- or -"
    ("body_text_color_subdued", "background_fill_primary"),  # the footer
    ("body_text_color", "body_background_fill"),
    ("body_text_color", "block_background_fill"),
    ("body_text_color", "input_background_fill"),
    ("input_placeholder_color", "input_background_fill"),
    ("button_primary_text_color", "button_primary_background_fill"),
    ("button_primary_text_color_hover", "button_primary_background_fill_hover"),
    ("button_secondary_text_color", "button_secondary_background_fill"),
    ("button_secondary_text_color_hover", "button_secondary_background_fill_hover"),
    ("button_cancel_text_color", "button_cancel_background_fill"),
    ("button_cancel_text_color_hover", "button_cancel_background_fill_hover"),
    ("checkbox_label_text_color", "checkbox_label_background_fill"),
    ("checkbox_label_text_color", "checkbox_label_background_fill_hover"),
    ("checkbox_label_text_color_selected", "checkbox_label_background_fill_selected"),
    ("color_accent", "background_fill_primary"),  # the selected tab
    ("color_accent", "block_background_fill"),
    ("link_text_color", "background_fill_primary"),
    ("link_text_color", "block_background_fill"),
    ("link_text_color_hover", "block_background_fill"),
    ("link_text_color_visited", "background_fill_primary"),
    ("link_text_color_visited", "block_background_fill"),
    ("link_text_color_active", "block_background_fill"),
    ("error_text_color", "error_background_fill"),
    ("table_text_color", "table_even_background_fill"),
    ("table_text_color", "table_odd_background_fill"),
    ("accordion_text_color", "block_background_fill"),
]


def luminance(hex_color: str) -> float:
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def resolve(theme, token: str, dark: bool) -> str:
    """A token's colour as #rrggbb, following `*other_token` references in the same mode, as Gradio does."""
    value = getattr(theme, f"{token}_dark", None) if dark else None
    value = str(value if value is not None else getattr(theme, token)).strip()
    if value.startswith("*"):
        return resolve(theme, value[1:], dark)
    value = NAMED.get(value, value).lower()
    assert re.fullmatch(r"#[0-9a-f]{6}", value), f"{token} = {value!r}: not a colour this test can check"
    return value


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize(("text", "background"), PAIRS, ids=[f"{t}-on-{b}" for t, b in PAIRS])
def test_theme_text_contrast(text, background, dark):
    theme = PlaygroundTheme()
    fg, bg = resolve(theme, text, dark), resolve(theme, background, dark)
    assert contrast(fg, bg) >= AA, f"{text} {fg} on {background} {bg}: {contrast(fg, bg):.2f}:1"


def test_soft_failed_where_the_theme_changed_it():
    """The pairs the theme exists for really failed under Gradio's Soft (so the test above can fail)."""
    import gradio as gr

    soft = gr.themes.Soft()
    failing = {pair for pair in PAIRS for dark in (False, True)
               if contrast(resolve(soft, pair[0], dark), resolve(soft, pair[1], dark)) < AA}
    assert {("block_label_text_color", "block_label_background_fill"),
            ("block_info_text_color", "block_background_fill"),
            ("button_primary_text_color", "button_primary_background_fill"),
            ("color_accent", "background_fill_primary")} <= failing


def test_only_text_colours_differ_from_soft():
    """Soft's look is kept: the page colour too (a second set() in Gradio 6.31 would reset it to white)."""
    import gradio as gr

    soft, ours = gr.themes.Soft(), PlaygroundTheme()
    changed = {k for k, v in vars(soft).items() if not k.startswith("_") and vars(ours).get(k) != v} - {"name"}
    assert "background_fill_primary" not in changed
    assert all(re.search(r"color|fill", k) for k in changed), changed


def view_colours(dark: bool) -> dict[str, str]:
    rules = dict(re.findall(r"(:root|\.dark) \{([^}]*)\}", views.CSS))
    light = dict(re.findall(r"--(pg-[a-z]+): (#[0-9a-f]{6})", rules[":root"]))
    return {**light, **dict(re.findall(r"--(pg-[a-z]+): (#[0-9a-f]{6})", rules[".dark"]))} if dark else light


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_view_text_colours(dark):
    """The --pg-* text colours of our HTML views, on the page and on a block, in each mode."""
    theme = PlaygroundTheme()
    grounds = [resolve(theme, t, dark) for t in ("background_fill_primary", "block_background_fill")]
    colours = view_colours(dark)
    assert set(colours) >= {"pg-muted", "pg-accent", "pg-red", "pg-amber", "pg-green", "pg-blue"}
    weak = {(name, bg): round(contrast(fg, bg), 2) for name, fg in colours.items() for bg in grounds
            if contrast(fg, bg) < AA}
    assert not weak


@pytest.mark.parametrize("diverging", [False, True])
def test_ink_reads_on_every_fill_of_the_colour_scales(diverging):
    low = -1.0 if diverging else 0.0
    for step in range(201):
        fill = views.color(low + (1.0 - low) * step / 200, low, 1.0, diverging)
        rgb = "#" + "".join(f"{int(c):02x}" for c in re.findall(r"\d+", fill))
        text = {"#000": "#000000", "#fff": "#ffffff"}[views.ink(fill)]
        assert contrast(rgb, text) >= AA, f"{views.ink(fill)} on {fill}: {contrast(rgb, text):.2f}:1"
