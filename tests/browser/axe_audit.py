"""axe-core in a Playwright page: inject the pinned axe.min.js, run the WCAG 2.1 A/AA rules, get plain dicts.

Shared by tests/browser/test_accessibility.py and bench/accessibility.py. axe-core comes from the npm
registry at the version and sha512 in tests/browser/package-lock.json (`make install-test` runs
`npm ci --prefix tests/browser`); node_modules is git-ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")  # impacts the test fails on; moderate and minor are reported only

# Runs in the page: the violations only, each node reduced to what a report needs (selector, markup,
# and for contrast the colours and ratio axe measured).
_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({
      target: n.target.map(t => Array.isArray(t) ? t.join(" >>> ") : t).join(" "),
      html: n.html.slice(0, 300),
      summary: (n.failureSummary || "").slice(0, 400),
      data: (n.any.concat(n.all, n.none).find(c => c.data && c.data.contrastRatio) || {}).data || null,
    })),
  }));
}"""


@dataclass(frozen=True)
class Finding:
    """One failing element of one rule on one page."""
    page: str
    rule: str
    impact: str
    target: str
    html: str
    summary: str
    contrast: str = ""  # "3.62:1 #4f46e5 on #e0e7ff (needs 4.5:1)" for color-contrast

    def line(self) -> str:
        extra = f" [{self.contrast}]" if self.contrast else ""
        return f"{self.page}: {self.rule} ({self.impact}) {self.target}{extra}\n    {self.html[:160]}"


def axe_source() -> str:
    if not AXE_JS.is_file():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `npm ci --prefix tests/browser` (make install-test)")
    return AXE_JS.read_text(encoding="utf-8")


def audit(page, page_name: str, source: str | None = None) -> list[Finding]:
    """Every WCAG 2.1 A/AA violation axe finds in the page's current state, one Finding per element."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=source or axe_source())
    findings = []
    for violation in page.evaluate(_RUN, TAGS):
        for node in violation["nodes"]:
            findings.append(Finding(page_name, violation["id"], violation["impact"] or "", node["target"],
                                    node["html"], node["summary"], _contrast(node["data"])))
    return findings


def _contrast(data: dict | None) -> str:
    if not data:
        return ""
    return (f"{data.get('contrastRatio')}:1 {data.get('fgColor')} on {data.get('bgColor')} "
            f"(needs {data.get('expectedContrastRatio')})")


def show_page(page, group: str, page_id: str) -> None:
    """Switch the open app to another page without reloading it (a reload of the whole app costs ~5 s
    here). The embed view hides the tab bars, so the tabs are clicked from script, as the deep link's
    load event would select them."""
    # Gradio renders a group's inner tab bar only once the group is shown: one click, then wait, then the next.
    page.locator(f"#pg-tabs button[role=tab][data-tab-id='group-{group}']").first.dispatch_event("click")
    tab = page.locator(f".pg-group-tabs button[role=tab][data-tab-id='{page_id}']").first
    tab.wait_for(state="attached")
    tab.dispatch_event("click")
    page.locator(f".pg-group-tabs button[role=tab][data-tab-id='{page_id}'][aria-selected=true]").wait_for(
        state="attached")
    page.locator(".pg-page:visible").first.wait_for()
