"""The README cannot drift from the app: every ```python block under "Use from Python" runs against the
launched app (tiny mode), and its front matter names the real Gradio version and default checkpoints.

Blocks run in order in one namespace, as a reader would paste them, from the repository root (so
paths like assets/images/cat.png work), with the README's http://127.0.0.1:7860/ replaced by the test
server's address.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipelines.core.registry import PAGES
from scripts import write_readme
from tests.api_contract import PUBLIC_ENDPOINTS
from tests.conftest import ROOT

SECTION = "Use from Python"
DOCUMENTS = [ROOT / "README.md"]
README_URL = re.compile(r"http://(?:127\.0\.0\.1|localhost):7860/?")


def section(markdown: str, title: str) -> str:
    """The text under the heading that contains `title`, up to the next heading of its level or above.
    Lines inside ``` fences are never headings (a Python comment starts with "# " too)."""
    lines = markdown.splitlines(keepends=True)
    in_fence, level, kept = False, None, []
    for line in lines:
        if line.startswith("```"):
            in_fence = not in_fence
        heading = None if in_fence else re.match(r"(#+) ", line)
        if level is None:
            if heading and title in line:
                level = len(heading.group(1))
            continue
        if heading and len(heading.group(1)) <= level:
            break
        kept.append(line)
    return "".join(kept)


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", section(markdown, SECTION), re.M | re.S)


def documented() -> tuple[Path, list[str]]:
    for path in DOCUMENTS:
        if path.is_file():
            blocks = python_blocks(path.read_text(encoding="utf-8"))
            if blocks:
                return path, blocks
    return DOCUMENTS[0], []


SOURCE, BLOCKS = documented()


def test_the_section_has_examples():
    assert BLOCKS, f"no ```python blocks under '{SECTION}' in {[str(p) for p in DOCUMENTS]}"


@pytest.fixture(scope="module")
def namespace():
    return {"__name__": "__readme__"}


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=lambda i: f"block{i + 1}")
def test_readme_example_runs_against_the_app(index, app_server, namespace, monkeypatch):
    code = BLOCKS[index]
    assert README_URL.search(code) or "client" in namespace, "each example starts from Client(<url>)"
    monkeypatch.chdir(ROOT)
    exec(compile(README_URL.sub(app_server.url, code), f"{SOURCE.name} block {index + 1}", "exec"), namespace)


def test_every_public_endpoint_of_the_app_is_documented(client):
    used = {name for block in BLOCKS for name in re.findall(r"api_name=['\"](/[\w-]+)['\"]", block)}
    outside = used - set(PUBLIC_ENDPOINTS)
    assert not outside, f"examples call endpoints outside the contract: {outside}"
    served = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert served - used == set(), f"public endpoints without a README example in {SOURCE.name}"


def front_matter() -> dict:
    for path in DOCUMENTS:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        match = re.match(r"---\n(.*?)\n---\n", text, re.S) or \
            re.search(r"```yaml\n---\n(.*?)\n---\n```", text, re.S)
        if match:
            return yaml.safe_load(match.group(1))
    pytest.fail("no Space front matter at the top of README.md")


def test_front_matter_matches_the_requirements_and_the_registry():
    meta = front_matter()
    pins = dict(re.findall(r"^([\w-]+)(?:\[[\w,]+\])?==([\w.]+)", (ROOT / "requirements.txt").read_text(), re.M))
    assert meta["sdk"] == "gradio" and str(meta["sdk_version"]) == pins["gradio"]
    assert (ROOT / meta["app_file"]).is_file()
    defaults = [c.repo_id for page in PAGES for c in page.default_repos]
    assert meta["models"] == list(dict.fromkeys(defaults))


def test_the_registry_derived_parts_are_current():
    """Task table, models:, tab ids and iframe snippets are written by scripts/write_readme.py."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert write_readme.render(readme) == readme, "README.md is stale: run `python scripts/write_readme.py`"


def test_the_writer_follows_a_changed_registry():
    """The check can fail: a registry with one task more makes the current README stale."""
    from dataclasses import replace

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    extra = replace(PAGES[0], id="made-up-task", title="Made-up task")
    rendered = write_readme.render(readme, (*PAGES, extra))
    assert rendered != readme
    assert "| Tasks | Made-up task (`made-up-task`) |" in rendered and "/embed/made-up-task?" in rendered
    assert "`made-up-task`." in rendered
