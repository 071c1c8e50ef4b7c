"""axe-core (WCAG 2.1 A and AA rules) over every page of an app folder: violations per rule and per page.

    .venv/bin/python bench/accessibility.py                                  # this checkout, saved as "after"
    .venv/bin/python bench/accessibility.py --app /tmp/a11y-before --name before

Serves `<app>/app.py` in tiny mode (its own `.venv` when it has one), opens it in Chromium at 800x600 once
per theme (light, and dark through `?__theme=dark`) and audits the home page, then every page of the
registry in the embed view (switched in place, as tests/browser/test_accessibility.py does), each as
loaded. Counts are failing elements ("nodes"), every impact included. Each run is saved as
bench/results/accessibility/<name>.json; bench/results/accessibility.md is rewritten from all saved runs.
Needs axe-core: `npm ci --prefix tests/browser` (make install-test).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.core.registry import PAGES  # noqa: E402
from tests.browser.axe_audit import Finding, audit, axe_source, show_page  # noqa: E402
from tests.browser.axe_known import known_for  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS, IFRAME, chromium_path  # noqa: E402

RESULTS = ROOT / "bench" / "results"
RUNS = RESULTS / "accessibility"
THEMES = ("light", "dark")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    python = app / ".venv" / "bin" / "python"
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    # The tests' miniature cache: pages are audited as loaded, so no model is built, but a shared cache
    # keeps the two runs identical if one ever is.
    proc = subprocess.Popen([str(python if python.exists() else sys.executable), "app.py", "--model-source", "tiny",
                             "--cache-dir", str(ROOT / ".cache" / "tests")],
                            cwd=app, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=5)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"{app}/app.py exited or did not answer within 180 s (run it alone to see why)")


def measure(url: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    source = axe_source()
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for theme in THEMES:
            page = browser.new_page(viewport=IFRAME)
            page.set_default_timeout(60_000)
            dark = "&__theme=dark" if theme == "dark" else ""
            page.goto(f"{url}?tab={PAGES[0].id}{dark}")
            show_page(page, PAGES[0].group, PAGES[0].id)
            rows += [_row(f, theme) for f in audit(page, "home", source)]
            page.goto(f"{url}?tab={PAGES[0].id}&embed=1{dark}")
            for spec in PAGES:
                show_page(page, spec.group, spec.id)
                rows += [_row(f, theme) for f in audit(page, spec.id, source)]
            page.close()
        browser.close()
    return rows


def _row(finding, theme: str) -> dict:
    return {"theme": theme, "page": finding.page, "rule": finding.rule, "impact": finding.impact,
            "target": finding.target, "contrast": finding.contrast, "html": finding.html[:200]}


def table(rows: list[dict], key: str, title: str, keys: list[str]) -> list[str]:
    counts = {theme: Counter(r[key] for r in rows if r["theme"] == theme) for theme in THEMES}
    impacts = {r["rule"]: r["impact"] for r in rows}
    extra = " | impact" if key == "rule" else ""
    lines = [f"| {title}{extra} | light | dark |", "|---" * (3 + bool(extra)) + "|"]
    for k in keys:
        if counts["light"][k] or counts["dark"][k] or key == "page":
            imp = f" | {impacts.get(k, '')}" if extra else ""
            lines.append(f"| {k}{imp} | {counts['light'][k]} | {counts['dark'][k]} |")
    lines.append(f"| **all**{' | ' if extra else ''} | **{sum(counts['light'].values())}** | "
                 f"**{sum(counts['dark'].values())}** |")
    return lines


def report(runs: dict[str, dict]) -> str:
    out = ["# Accessibility: axe-core over every page", "",
           "Written by `bench/accessibility.py` (its docstring says how it measures): axe-core "
           "(version pinned in tests/browser/package-lock.json) with the WCAG 2 A/AA and 2.1 A/AA rules, "
           "Chromium at 800x600, the home page and every registry page in the embed view as loaded, "
           "light and dark. Counts are failing elements (nodes), every impact included.", ""]
    for name, run in runs.items():
        rows = run["rows"]
        pages = ["home"] + [s.id for s in PAGES]
        rules = sorted({r["rule"] for r in rows})
        known = {theme: sum(1 for r in rows if r["theme"] == theme and _known(r)) for theme in THEMES}
        out += [f"## {name}", "", run["note"], "", f"Measured {run['date']} on `{run['app']}`. Of these, "
                f"{known['light']} (light) and {known['dark']} (dark) are Gradio's own markup as listed in "
                "tests/browser/axe_known.py.", "", "### Per rule", ""] + table(rows, "rule", "rule", rules)
        out += ["", "### Per page", ""] + table(rows, "page", "page", pages) + [""]
    return "\n".join(out)


def _known(row: dict) -> bool:
    return known_for(Finding(row["page"], row["rule"], row["impact"], row["target"], row["html"], "",
                             row["contrast"])) is not None


def write_report() -> dict[str, dict]:
    runs = {p.stem: json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json"), key=_run_order)}
    (RESULTS / "accessibility.md").write_text(report(runs))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=ROOT, help="folder with the app.py to serve")
    parser.add_argument("--name", default="after", help="run name: bench/results/accessibility/<name>.json")
    parser.add_argument("--note", default="", help="one line about what this run is")
    parser.add_argument("--report", action="store_true", help="only rewrite accessibility.md from the saved runs")
    args = parser.parse_args()
    if args.report:
        write_report()
        return
    proc, url = serve(args.app.resolve())
    try:
        rows = measure(url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    RUNS.mkdir(parents=True, exist_ok=True)
    run = {"app": str(args.app), "date": datetime.date.today().isoformat(), "note": args.note, "rows": rows}
    (RUNS / f"{args.name}.json").write_text(json.dumps(run, indent=1) + "\n")
    write_report()
    print(report({args.name: run}))


def _run_order(path: Path) -> tuple:
    return (path.stem != "before", path.stem)  # "before" first, then the others by name


if __name__ == "__main__":
    main()
