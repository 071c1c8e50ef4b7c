"""Views of the cost lab page, as plain HTML and SVG (like ui/views.py):

    speed_table(result)          float32 and the fast path, one row each: time to first token, tokens per
                                 second, weights in memory, top-5 agreement, and what each one wrote
    cache_and_batch(result)      the KV cache on and off, batch 1 and 4, as paired bars
    kv_memory(result)            the KV cache's bytes per token from the config, checked against the real cache
    sweep_chart(result)          one layer's time over the input length, the fitted quadratic, its n² term
    attention_chart(result)      attention alone timed: full and sliding window
    masks(result)                full attention's mask next to the sliding window's, with the pairs counted

Each takes the endpoint's JSON (already rounded on the model side) and returns an HTML string.
"""

from __future__ import annotations

import html

from ui.training_views import line_chart
from ui.views import CSS, shown

STYLE = """
<style>
.pg-cost table { border-collapse: collapse; width: 100%; }
.pg-cost th, .pg-cost td { border-bottom: 1px solid #0002; padding: 3px 6px; text-align: right; }
.pg-cost td { white-space: nowrap; }
.pg-cost th:first-child, .pg-cost td:first-child { text-align: left; }
.pg-cost td.pg-said { white-space: pre-wrap; text-align: left; color: var(--pg-muted); }
.pg-pair { display: grid; grid-template-columns: minmax(70px, 34%) 1fr 92px; gap: 3px 6px; align-items: center; }
.pg-pair .pg-track { height: 14px; background: #0000000d; border-radius: 3px; }
.pg-pair .pg-fill { display: block; height: 100%; border-radius: 3px; background: var(--pg-accent); }
.pg-masks { display: flex; flex-wrap: wrap; gap: 12px; }
</style>
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _num(value, unit: str = "", digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}{unit}"


def speed_table(result: dict) -> str:
    """One row per path, and a line under each with what it wrote."""
    agreement = result.get("agreement") or {}
    head = ("<tr><th>Path</th><th>Time to first token</th><th>Tokens/s</th><th>Weights in memory</th>"
            "<th>Top-5 agreement</th></tr>")
    rows = []
    for row in result["paths"]:
        agree = "reference" if row["name"] == "float32" else _num(100 * agreement.get("top5", 0), " %", 0)
        rows.append(f'<tr class="pg-path"><td><b>{_e(row["name"])}</b> · {_e(row["runs_on"])}</td>'
                    f'<td>{_num(row["time_to_first_token_ms"], " ms")}</td><td>{_num(row["tokens_per_second"])}</td>'
                    f'<td>{_num(row["weights_mb"], " MB")}</td><td>{agree}</td></tr>'
                    f'<tr><td colspan="5" class="pg-said">{_e(row["prompt_tokens"])} prompt tokens → '
                    f'{_e(shown(row["text"])) if row["text"] else "(special tokens only)"}</td></tr>')
    lines = [f"<div>{_e(result['fast_path_note'])}</div>"]
    lines += [f"<div>{_e(note)}</div>" for note in result["notes"]]
    if len(result["paths"]) == 2:
        slow, fast = result["paths"]
        if slow["tokens_per_second"] and fast["tokens_per_second"]:
            lines.append(f"<div>The fast path wrote {fast['tokens_per_second'] / slow['tokens_per_second']:.1f}× "
                         f"as many tokens per second, from {fast['weights_mb'] / slow['weights_mb']:.0%} of the "
                         f"memory. Both wrote the same first {agreement['same_first_tokens']} of "
                         f"{result['new_tokens']} tokens; the likeliest next token agreed at "
                         f"{agreement['top1']:.0%} of the positions.</div>")
    caption = f"<div><b>{result['new_tokens']} new tokens, greedy, after the same {result['prompt_tokens']} " \
              "prompt tokens</b></div>"
    return (f'{CSS}{STYLE}<div class="pg-view pg-cost">{caption}<table>{head}{"".join(rows)}</table>'
            f'{"".join(lines)}</div>')


def _pairs(title: str, rows: list[tuple[str, float | None, str]], note: str) -> str:
    """Bars for a few measured values in one unit, the largest filling its track."""
    top = max((v for _, v, _ in rows if v), default=1.0)
    bars = "".join(f'<span>{_e(label)}</span><span class="pg-track"><span class="pg-fill" style="width:'
                   f'{100 * (value or 0) / top:.1f}%"></span></span><span>{_e(text)}</span>'
                   for label, value, text in rows)
    return f'<div><b>{_e(title)}</b></div><div class="pg-pair">{bars}</div><div>{_e(note)}</div>'


def cache_and_batch(result: dict) -> str:
    cache, batch, same = result["kv_cache"], result["batch"], result["same_tokens"]
    on, off = cache["on"]["ms_per_token"], cache["off"]["ms_per_token"]
    slower = f"{off / on:.1f}× the time per token" if on and off else "no step to compare"
    kv = _pairs("KV cache (ms per new token, lower is faster)",
                [("cache on", on, _num(on, " ms")), ("cache off", off, _num(off, " ms"))],
                f"Without the cache every step reads the whole text again: {slower}. "
                + ("Same tokens either way." if same["kv_cache_off"] else "The tokens differ (float rounding)."))
    one, four = batch["one"]["tokens_per_second"], batch["four"]["tokens_per_second"]
    gain = f"{four / one:.1f}× the tokens per second" if one and four else "no step to compare"
    per_answer = batch["four"]["ms_per_token"]
    batched = _pairs("Batch (tokens per second, all sequences, higher is more)",
                     [("batch 1", one, _num(one, " tok/s")), ("batch 4", four, _num(four, " tok/s"))],
                     f"Four copies of the prompt in one tensor: {gain}, while each answer waits "
                     f"{_num(per_answer, ' ms')} per token.")
    return f'{CSS}{STYLE}<div class="pg-view pg-cost">{kv}<br>{batched}</div>'


def kv_memory(result: dict) -> str:
    size = result["kv_bytes_per_token"]
    config, measured = size["config"], size["measured"]
    check = "✓ the same" if size["matches"] else "✗ different"
    return (f'{CSS}{STYLE}<div class="pg-view pg-cost"><div><b>KV cache per token, from the config:</b> '
            f'{_e(config["formula"])}</div><div><b>Measured on the real cache:</b> {measured["bytes"]:,} bytes for '
            f'{measured["tokens"]} tokens = {measured["bytes_per_token"]:,} bytes per token ({check}).</div>'
            f'<div>A full {size["context_tokens"]:,}-token context would hold {size["context_mb"]:,.0f} MB of '
            f'cache per sequence, beside {result["weights_mb"]["float32"]:,.0f} MB of float32 weights.</div></div>')


def sweep_chart(result: dict) -> str:
    curve = result["fit_curve"]
    share = result["quadratic_share"]
    expected = f"of the multiply-adds: {result['expected_quadratic_share']:.0%}"
    title = (f"One layer (of {result['layers']}) over n tokens · fitted n² term: {share:.0%} of the time at "
             f"{result['max_length']} ({expected})" if share is not None else
             f"One layer (of {result['layers']}) over n tokens · the fit could not split the n² term ({expected})")
    series = [("measured", result["lengths"], result["forward_ms"]),
              ("fit a + b·n + c·n²", curve["lengths"], curve["total_ms"])]
    if share is not None:  # a term fitted below zero is noise: its n² part alone would mislead
        series.append(("its c·n² term", curve["lengths"], curve["quadratic_ms"]))
    chart = line_chart(series, "input tokens (n)", "ms", title=title, x_range=(0, result["max_length"]))
    notes = "".join(f"<div>{_e(note)}</div>" for note in result["notes"])
    return f'{chart}<div class="pg-view">{notes}</div>'



def attention_chart(result: dict) -> str:
    alone = result["attention_alone"]
    return line_chart([("full attention", result["lengths"], alone["full_ms"]),
                       (f"sliding window ±{result['window']}", result["lengths"], alone["window_ms"])],
                      "input tokens (n)", "ms", x_range=(0, result["max_length"]),
                      title=f"Attention alone ({result['heads']} heads of {result['head_dim']}), random values")


def _mask_picture(n: int, allowed: list[tuple[int, int]], title: str) -> str:
    """An n × n mask as one SVG, one bar per query row over the keys it may attend to (drawn at 240 px: the
    128-token picture has 2 px cells, too small for a cell of its own each with a border)."""
    size = 240
    rows = "".join(f'<rect x="{first}" y="{i}" width="{last - first + 1}" height="1" style="fill:var(--pg-accent)">'
                   f"<title>token {i} attends to tokens {first} to {last}</title></rect>"
                   for i, (first, last) in enumerate(allowed))
    return (f'<div><div><b>{_e(title)}</b></div><svg role="img" aria-label="{_e(title)}" width="{size}" '
            f'height="{size}" viewBox="0 0 {n} {n}" preserveAspectRatio="none" shape-rendering="crispEdges" '
            f'xmlns="http://www.w3.org/2000/svg"><rect width="{n}" height="{n}" fill="#d1d5db"/>{rows}</svg></div>')


def masks(result: dict) -> str:
    """Full attention's mask beside the sliding window's (query rows, key columns), with the pairs counted."""
    mask = result["mask"]
    n, allowed = mask["tokens"], mask["allowed"]
    pairs = sum(last - first + 1 for first, last in allowed)
    full = _mask_picture(n, [(0, n - 1)] * n, f"Full, {n} tokens: {n * n:,} pairs")
    window = _mask_picture(n, allowed, f"Sliding window ±{result['window']}: {pairs:,} pairs")
    counts = (f"<div>At {result['max_length']} tokens: full attention scores {result['full_pairs']:,} pairs, the "
              f"window {result['window_pairs']:,} ({result['window_share']:.1%}); the scores of one layer take "
              f"{result['scores_mb']['full']} MB against {result['scores_mb']['window']} MB. Doubling the text "
              f"doubles the window's pairs and quadruples the full ones.</div>")
    return f'{CSS}{STYLE}<div class="pg-view pg-cost"><div class="pg-masks">{full}{window}</div>{counts}</div>'
