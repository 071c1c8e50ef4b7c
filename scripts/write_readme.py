"""Write the README's registry-derived parts from pipelines/core/registry.py, so they cannot drift.

    python scripts/write_readme.py           # rewrite README.md in place
    python scripts/write_readme.py --check   # exit 1 (and say what) if README.md is stale

Rewritten: the Space front matter's `models:` list, and the text between each pair of markers
`<!-- registry:NAME -->` ... `<!-- /registry:NAME -->` (NAME: tasks, ids, iframes). Everything else
in the README is written by hand. tests/test_readme_api.py runs the check.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.core.registry import GROUPS, PAGES, TaskSpec  # noqa: E402 (after the path fix above)

README = ROOT / "README.md"
SPACE_URL = "https://YOUR-SPACE.hf.space"


def task_table(tasks: tuple[TaskSpec, ...]) -> str:
    rows = ["| Group | Tab (id) | Default checkpoint | Alternatives | Course chapter |",
            "| --- | --- | --- | --- | --- |"]
    for spec in tasks:
        default = " + ".join(f"`{c.repo_id}`" for c in spec.default_repos) or "none: trained in the page"
        alternatives = ", ".join(f"`{c.repo_id}`" for c in spec.checkpoints[1:]) or "none"
        rows.append(f"| {GROUPS[spec.group]} | {spec.title} (`{spec.id}`) | {default} | {alternatives} | "
                    f"{spec.chapter} |")
    return "\n".join(rows)


def tab_ids(tasks: tuple[TaskSpec, ...]) -> str:
    return "  " + ", ".join(f"`{spec.id}`" for spec in tasks) + "."  # indented: inside a list item


def iframes(tasks: tuple[TaskSpec, ...]) -> str:
    blocks = []
    for spec in tasks:
        blocks.append(
            f"<!-- {spec.title}: {spec.chapter} -->\n"
            f'<iframe src="{SPACE_URL}/embed/{spec.id}?__theme=light" '
            f'title="Transformer Playground: {spec.summary}"\n'
            f'        width="100%" height="600" style="border: 0" loading="lazy" allow="{spec.iframe_allow}">'
            "</iframe>")
    return "```html\n" + "\n\n".join(blocks) + "\n```"


def default_models(tasks: tuple[TaskSpec, ...]) -> list[str]:
    repos = [c.repo_id for spec in tasks for c in spec.default_repos]
    return list(dict.fromkeys(repos))


SECTIONS = {"tasks": task_table, "ids": tab_ids, "iframes": iframes}


def render(text: str, tasks: tuple[TaskSpec, ...] = PAGES) -> str:
    """The README text with every generated part brought up to date."""
    models = "models:\n" + "".join(f"  - {repo}\n" for repo in default_models(tasks))
    text, found = re.subn(r"^models:\n(?:  - .*\n)*", models, text, count=1, flags=re.M)
    if not found:
        raise ValueError("README.md has no `models:` list in its front matter")
    for name, write in SECTIONS.items():
        pattern = re.compile(rf"(<!-- registry:{name} -->\n).*?(\n *<!-- /registry:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README.md has no <!-- registry:{name} --> ... <!-- /registry:{name} --> markers")
        text = pattern.sub(lambda m, write=write: m.group(1) + write(tasks) + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if README.md is stale")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md is stale: run `python scripts/write_readme.py`", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        README.write_text(wanted, encoding="utf-8")
        print("README.md updated from the registry")
    return 0


if __name__ == "__main__":
    sys.exit(main())
