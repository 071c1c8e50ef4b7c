"""Without a browser the browser tests skip, with the reason; in CI they fail instead."""

from __future__ import annotations

import pytest

from tests.browser import conftest as browser_setup


@pytest.mark.parametrize("ci,outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_browser_skips_locally_and_fails_in_ci(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no Chromium"):
        browser_setup._unavailable("no Chromium found")


def test_the_chromium_override_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_CHROMIUM", str(tmp_path / "missing"))
    assert browser_setup.chromium_path() is None
    (tmp_path / "chromium").write_text("")
    monkeypatch.setenv("PLAYGROUND_CHROMIUM", str(tmp_path / "chromium"))
    assert browser_setup.chromium_path() == str(tmp_path / "chromium")
