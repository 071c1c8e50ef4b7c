""""Look inside" views of the text tasks, drawn from the dicts of pipelines/inside/<task>.py with the
shared pieces of ui/views.py (token_strip, heatmap, bars); the alignment views are in ui/alignment_views.py.
Plain HTML, no JavaScript: details on hover are `title=` attributes, and what matters most is also
written out (a phone has no hover).

    strip(result)        text generation, code completion: the confidence strip
    qa_scores(result)    question answering: start and end strips, the chosen span and its rivals
    fill_mask(result)    fill-mask: candidates as bars, the mask's attention per layer as a heatmap
"""

from __future__ import annotations

import html

from ui import views
from ui.views import CSS, shown

LEAST_LIKELY = 5  # tokens listed under the strip, for readers without hover
FULL = 0.5  # the darkest shade is for the strongest score, but never for less than this probability


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def strip(result: dict) -> str:
    """The generated tokens coloured by probability (red: unlikely, green: likely) after the text they
    continue (grey), a summary line, and the least likely tokens with what the model expected instead."""
    tokens = result["tokens"]
    scored = [(t["token"] or "\ufffd", t["probability"], [tuple(a) for a in t["alternatives"]]) for t in tokens]
    drawn = views.token_strip(scored)
    opening = '<div class="pg-view pg-strip">'  # larger type than the shared 12 px: this is text to read
    context = result.get("context", "")
    lead = f'<span style="color:var(--pg-muted)" title="the text it continues">{_e(context)}</span>' if context else ""
    drawn = drawn.replace(opening, opening[:-1] + ' style="font-size:15px;line-height:1.9">' + lead, 1)
    line = (f"{len(tokens)} generated tokens · mean log-probability <b>{result['mean_log_prob']:.2f}</b> · "
            f"perplexity <b>{result['perplexity']:.1f}</b> · {result['unlikely']} below 10 %")
    if result.get("sampled"):
        line += (f" · sampled: {result['not_top']} were not the model's first choice (the sampler drew them; "
                 "temperature and top-k/top-p reshaped these probabilities before each draw)")
    elif result["not_top"]:
        line += f" · {result['not_top']} were not the model's first choice (the repetition penalty moved them)"
    if result.get("chat_template"):
        line += " · read after your prompt in the chat template"
    if result.get("generated_by"):
        line += (f" · written by {_e(result['generated_by'])} (the fast CPU engine) and scored here by the float32 "
                 "model, so even a greedy token may not be that model's first choice")
    surprises = sorted((t for t in tokens if t["rank"] > 1), key=lambda t: t["probability"])[:LEAST_LIKELY]
    listed = "; ".join(f"<code>{_e(shown(t['token']))}</code> {t['probability']:.3f} (it expected "
                       f"<code>{_e(shown(t['alternatives'][0][0]))}</code> {t['alternatives'][0][1]:.3f})"
                       for t in surprises)
    least = f"<div>Not its first choice, least likely first: {listed}</div>" if listed else ""
    return f"{CSS}<div class='pg-view'><div>{line}. Hover a token for its top alternatives.</div></div>{drawn}{least}"


def _score_strip(tokens: list[dict], key: str, chosen: tuple[int, int] | None, title: str) -> str:
    """Context tokens shaded white to indigo by one probability; the chosen span outlined in green."""
    top = max(max((t[key] for t in tokens), default=0.0), FULL)  # spread-out scores stay pale
    spans = []
    for t in tokens:
        value = t[key]
        inside = chosen is not None and chosen[0] <= t["start_char"] < chosen[1]
        fill = views.color(value, 0, top)
        style = f"background:{fill};color:{views.ink(fill)}"
        if inside:
            style += ";outline:2px solid #16a34a"
        logit = t["start_logit" if key == "p_start" else "end_logit"]
        spans.append(f'{_e(t["before"])}<span style="{style}" title="{_e(f"p = {value:.4f} · logit {logit:.2f}")}">'
                     f'{_e(t["text"])}</span>')
    return (f"<div><b>{_e(title)}</b></div><div class='pg-strip' style='font-size:14px;line-height:1.9;"
            f"white-space:pre-wrap'>{''.join(spans)}</div>")


def qa_scores(result: dict) -> str:
    """The chosen span with its score and window, the start and end strips of that window, the rivals."""
    chosen, windows = result["chosen"], result["windows"]

    def where(item) -> str:
        w = windows[item["window"]]
        return f"window {item['window'] + 1} of {len(windows)} (characters {w['start']:,}–{w['end']:,})"

    answer = f"<b>{_e(chosen['text'])}</b>" if chosen["has_answer"] else "<b>no answer</b>"
    head = (f"<div>Chosen: {answer} · score {chosen['score']:.2f} (start logit + end logit) · confidence "
            f"{chosen['probability']:.3f} · {where(chosen)}</div>")
    span = (chosen["start"], chosen["end"]) if chosen["has_answer"] else None
    strips = (_score_strip(result["strip"], "p_start", span, "Where the answer starts: P(start) per token")
              + _score_strip(result["strip"], "p_end", span, "Where it ends: P(end) per token"))
    rows = "".join(f"<tr><td>{n}</td><td>{_e(r['text'][:80])}{'…' if len(r['text']) > 80 else ''}</td>"
                   f"<td>{r['score']:.2f}</td><td>{r['probability']:.3f}</td>"
                   f"<td title='{_e(where(r))}'>{r['window'] + 1}</td></tr>"
                   for n, r in enumerate(result["rivals"], 2))
    table = ("<table style='border-collapse:collapse;width:100%'><tr><th>#</th><th>rival span</th><th>score</th>"
             f"<th>p</th><th>window</th></tr>{rows}</table>") if rows else "<div>No rival span.</div>"
    table += ("<div>Score: start logit + end logit, comparable across windows (the answer is the highest). "
              "p: P(start) × P(end) within the span's own window, as the confidence is.</div>")
    return f"{CSS}<div class='pg-view'>{head}{strips}<div><b>The best rivals</b></div>{table}</div>"


def fill_mask(result: dict) -> str:
    """Per mask: its candidates as bars, and a layers x tokens heatmap of where the mask position looked."""
    blocks = []
    labels = [f"layer {n + 1}" for n in range(result["layers"])]
    for m, mask in enumerate(result["masks"], 1):
        name = f"Mask {m}" if len(result["masks"]) > 1 else "The mask"
        bars = views.bars([(c["token"], c["probability"]) for c in mask["candidates"]],
                          title=f"{name}: the candidates' probabilities")
        heat = views.heatmap(mask["attention"], labels, result["tokens"], low=0.0, high=1.0, digits=2,
                             title=f"{name}: what its position attended to in each layer (mean over heads)")
        blocks.append(f"<div>{bars}{heat}</div>")
    return f"{CSS}<div class='pg-view'>{''.join(blocks)}</div>"
