"""The app as a whole: cheap to import, no model before a request, its settings, its public API."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

import app
from pipelines.core import download
from pipelines.core.settings import Settings, build_parser
from tests.api_contract import FIRST_PARAMETERS, PUBLIC_ENDPOINTS
from tests.conftest import ROOT, launch_app, tiny_settings
from ui import zerogpu

HEAVY = ("torch", "transformers", "diffusers", "chronos", "librosa")


def heavy_modules_after(code: str) -> list[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         timeout=180, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_app_imports_no_model_library():
    assert heavy_modules_after("import app") == []


def test_building_every_tab_imports_no_model_library():
    # Start-up stays at gradio's import cost: torch and friends load with the first model.
    code = ("import app\nfrom pipelines.core.loading import ModelManager\nfrom tests.conftest import tiny_settings\n"
            "app.build_app(ModelManager(tiny_settings()))")
    assert heavy_modules_after(code) == []


def model_side_modules() -> list[str]:
    return sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for p in (ROOT / "pipelines").rglob("*.py"))


def test_nothing_on_the_model_side_imports_gradio():
    """pipelines/ runs without a UI: importing every module of it (and its miniature builders) pulls no
    gradio in, and no file there names it in an import."""
    modules = model_side_modules()
    assert "pipelines.core.registry" in modules and "pipelines.tasks.text_generation" in modules
    for path in (ROOT / "pipelines").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import gradio|from gradio)", source, re.M), f"{path} imports gradio"
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    script = code + "import sys, json\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] "\
                    "in ('gradio', 'gradio_client'))))"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_every_registry_entry_points_at_real_parts():
    """Loader, pipeline and tab of each task exist; each declared endpoint has a handler of its name."""
    import importlib
    import inspect

    from pipelines.core.registry import TASKS, resolve

    for spec in TASKS:
        assert callable(resolve(spec.loader)), spec.id
        importlib.import_module(spec.pipeline)
        tab_source = inspect.getsource(importlib.import_module(spec.tab))
        for endpoint in spec.endpoints:
            assert re.search(rf"def {endpoint.name}\(", tab_source), f"{spec.tab} has no handler {endpoint.name}"
            assert endpoint.description.endswith(".") and endpoint.params


def test_help_lists_every_setting():
    out = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    for flag in ("--model-source", "--load-mode", "--frame-ancestors", "--download", "--memory-budget-gb"):
        assert flag in out.stdout
    assert "PLAYGROUND_" in out.stdout


def test_flags_beat_environment_for_the_settings_this_issue_adds():
    env = {"PLAYGROUND_FRAME_ANCESTORS": "https://a.example.org", "PLAYGROUND_LOAD_MODE": "eager"}
    s = Settings.from_args([], env=env)
    assert s.frame_ancestors == ("https://a.example.org",) and s.load_mode == "eager"
    s = Settings.from_args(["--frame-ancestors", "https://b.example.org https://*.c.edu:8443",
                            "--load-mode", "lazy"], env=env)
    assert s.frame_ancestors == ("https://b.example.org", "https://*.c.edu:8443") and s.load_mode == "lazy"


@pytest.mark.parametrize("origin", ["course.example.org", "https://a.org; script-src *", "https://a.org/path",
                                    "'unsafe-inline'", "javascript:alert(1)"])
def test_a_frame_ancestor_that_is_not_an_origin_is_refused(origin):
    with pytest.raises(ValueError, match="frame_ancestors"):
        Settings(frame_ancestors=(origin,))


def test_main_download_fetches_then_exits_without_building_the_app(monkeypatch):
    calls = []
    monkeypatch.setattr(download, "main", lambda: calls.append("download") or 0)
    monkeypatch.setattr(app, "build_app", lambda *a, **k: pytest.fail("--download must not build the app"))
    assert app.main(["--download"]) == 0 and calls == ["download"]


@pytest.mark.parametrize("env,mode,preloads", [({}, "lazy", False), ({"SPACES_ZERO_GPU": "true"}, "eager", True)])
def test_main_preloads_only_in_eager_mode(monkeypatch, env, mode, preloads):
    for key in ("SPACES_ZERO_GPU", "PLAYGROUND_LOAD_MODE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(zerogpu, "wrap_events", lambda *a, **k: 0)  # no `spaces` here
    seen = {}
    monkeypatch.setattr(zerogpu, "preload", lambda models, task_ids=None: seen.setdefault("preload", True))
    monkeypatch.setattr(app, "launch", lambda demo, settings: seen.setdefault("mode", settings.load_mode))
    monkeypatch.setattr(app, "build_app", lambda models: object())
    app.main(["--model-source", "tiny"])
    assert seen["mode"] == mode and seen.get("preload", False) is preloads


@pytest.fixture(scope="module")
def whole_app():
    server = launch_app(tiny_settings())
    yield server
    server.demo.close()


def test_a_freshly_launched_app_has_no_model_loaded(whole_app):
    from gradio_client import Client

    Client(whole_app.url, verbose=False).view_api(print_info=False)  # a page load's worth of requests
    assert whole_app.models.loaded_keys() == []


def test_public_api_lists_exactly_the_contract(whole_app):
    from gradio_client import Client

    api = Client(whole_app.url, verbose=False).view_api(print_info=False, return_format="dict")
    public = set(api["named_endpoints"])
    unknown = public - set(PUBLIC_ENDPOINTS)
    assert not unknown, f"public endpoints outside the contract (make them api_visibility='private' " \
                        f"or add them to tests/api_contract.py): {sorted(unknown)}"
    assert public == set(PUBLIC_ENDPOINTS)
    assert api["unnamed_endpoints"] == {}


def test_endpoints_take_the_contracts_first_parameters_and_default_the_rest(whole_app):
    from gradio_client import Client

    api = Client(whole_app.url, verbose=False).view_api(print_info=False, return_format="dict")
    for name, first in FIRST_PARAMETERS.items():
        params = api["named_endpoints"][name]["parameters"]
        assert tuple(p["parameter_name"] for p in params[:len(first)]) == first, name
        later = params[len(first):]
        assert all(p["parameter_has_default"] for p in later), f"{name}: every later parameter needs a default"


def test_launch_defaults_to_gradio_host_and_port_and_the_parser_has_no_host_flag():
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (the Dockerfile sets 0.0.0.0:7860) reach Gradio untouched.
    options = {a.dest for a in build_parser()._actions}
    assert not {"server_name", "server_port", "host", "port"} & options
