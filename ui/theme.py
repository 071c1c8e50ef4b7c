"""The app's theme: Gradio's Soft look (indigo accent, Montserrat, soft shadows) with every text colour moved
to WCAG 2.1 AA contrast (4.5:1 for text) in light and dark. Passed to `launch(theme=...)` by app.py.

Soft's own tokens failed axe-core's colour-contrast rule on 262 elements over the app's pages (light; measured
in bench/results/accessibility.md); each change below names the old and the new ratio (WCAG relative luminance,
text on the background it sits on; tests/test_theme.py recomputes every pair from the tokens):

light
- block_label/title_text_color: indigo 500 -> 700 on the labels' indigo 100 pill: 3.63 -> 6.41
  (and on the page's gray 50, where gr.Label and gr.Dataframe show the label without its pill: 4.27 -> 7.56)
- body_text_color_subdued (`info=` help text, slider min/max, "- or -", the footer): gray 400 -> 600 on white:
  2.54 -> 7.56 (gray 50: 2.43 -> 7.23)
- input_placeholder_color: gray 400 -> 500 on white: 2.54 -> 4.83
- button_primary_background_fill (+ its border): indigo 500 -> 600 under white text: 4.47 -> 6.29;
  hover indigo 400 -> 700: 2.98 -> 7.90
- checkbox_label_background_fill_selected (the chosen radio/checkbox pill): indigo 500 -> 600: 4.47 -> 6.29
- color_accent (the selected tab's text, accent marks): indigo 500 -> 600 on gray 50: 4.27 -> 6.02
- link_text_color_visited: indigo 500 -> 700 on gray 50: 4.27 -> 7.56; hover stays indigo 700
dark
- color_accent: indigo 500 -> 400 on the page (#0b0f19): 4.29 -> 6.42 (on blocks, gray 800: 4.92)
- link_text_color (+ active): indigo 500 -> 400: 4.29 -> 6.42; hover and visited indigo 300: 9.61
- input_placeholder_color: gray 500 -> #adb3bd on the input's gray 700: 2.13 -> 4.89 (gray 300 would be
  7.00 but too close to typed text)
- hover fills of the primary, secondary and cancel buttons (white text): indigo 500 -> 700: 4.47 -> 7.90;
  of radio/checkbox pills (gray 100 text): 4.06 -> 7.18; the primary button stays indigo 600 (6.29)
- slider_color: indigo 600 -> 500 (the filled track against gray 700 reads better in dark; non-text, 3:1 rule)

Everything else is Soft's, including its page colour, restated below because of a Gradio quirk.
Not a token: gr.Code's light syntax colours are hard-coded in Gradio's CodeMirror theme (Nord-like: keywords
#5e81ac at 4.02:1 on white); they are listed in tests/browser/axe_known.py, not patched here.
"""

from __future__ import annotations

import gradio as gr

DARK_PLACEHOLDER = "#adb3bd"  # between gray 300 and 400: 4.89:1 on the dark input, still unlike typed text


class PlaygroundTheme(gr.themes.Soft):
    def __init__(self):
        super().__init__(primary_hue=gr.themes.colors.indigo, secondary_hue=gr.themes.colors.indigo,
                         neutral_hue=gr.themes.colors.gray)
        self.name = "playground"
        super().set(
            # Soft's page colour, restated: a second set() resets background_fill_primary to white (Gradio 6.31's
            # set() reads it back as `background_primary`, a name that does not exist).
            background_fill_primary="*neutral_50",
            # Labels: the pill keeps Soft's indigo 100, the text darkens.
            block_label_text_color="*primary_700",
            block_title_text_color="*primary_700",
            # Help text, slider ends, upload hints and the footer.
            body_text_color_subdued="*neutral_600",
            body_text_color_subdued_dark="*neutral_400",
            input_placeholder_color="*neutral_500",
            input_placeholder_color_dark=DARK_PLACEHOLDER,
            # Buttons and chosen options under white text.
            button_primary_background_fill="*primary_600",
            button_primary_background_fill_dark="*primary_600",
            button_primary_background_fill_hover="*primary_700",
            button_primary_background_fill_hover_dark="*primary_700",
            button_primary_border_color="*primary_600",
            button_primary_border_color_dark="*primary_600",
            button_primary_border_color_hover="*primary_700",
            button_primary_border_color_hover_dark="*primary_700",
            button_secondary_background_fill_hover_dark="*primary_700",
            checkbox_label_background_fill_selected="*primary_600",
            checkbox_label_background_fill_selected_dark="*primary_600",
            checkbox_label_background_fill_hover_dark="*primary_700",
            # Accent text (selected tab) and links.
            color_accent="*primary_600",
            link_text_color="*primary_600",
            link_text_color_dark="*primary_400",
            link_text_color_active="*primary_600",
            link_text_color_active_dark="*primary_400",
            link_text_color_hover="*primary_700",
            link_text_color_hover_dark="*primary_300",
            link_text_color_visited="*primary_700",
            link_text_color_visited_dark="*primary_300",
            slider_color="*primary_600",
            slider_color_dark="*primary_500",
        )
        # set() has no dark variant of color_accent, but the theme's CSS writer puts every `<token>_dark`
        # attribute into the `.dark` rules, as it does for the ones set() knows.
        self.color_accent_dark = "*primary_400"
