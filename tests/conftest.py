"""Shared fixtures: tiny-mode settings, a model manager, and the whole app launched for gradio_client.

Everything runs offline on the miniatures (HF_HUB_OFFLINE=1). Miniatures are built once into
.cache/tests (git-ignored) and reused by later runs.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
CACHE = ROOT / ".cache" / "tests"


def tiny_settings(**overrides):
    from pipelines.core.settings import Settings

    values = dict(model_source="tiny", cache_dir=CACHE, memory_budget_gb=8.0)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def models():
    """A tiny-mode model manager shared by the pipeline tests."""
    from pipelines.core.loading import ModelManager

    return ModelManager(tiny_settings())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(settings, task_ids=None, models=None):
    """Launch the real app in this process (as `python app.py` does) and return its URL and parts."""
    from app import build_app, launch
    from pipelines.core.loading import ModelManager

    models = models or ModelManager(settings)
    demo = build_app(models, task_ids)
    port = free_port()
    launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    return SimpleNamespace(url=f"http://127.0.0.1:{port}/", models=models, demo=demo)


@pytest.fixture(scope="module")
def app_server(request):
    """The app in tiny mode, launched once per test module. A module may set APP_TASKS = [task ids]
    to launch only its tabs (faster, and isolated from the others); by default all tabs are built."""
    server = launch_app(tiny_settings(), getattr(request.module, "APP_TASKS", None))
    yield server
    server.demo.close()


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)
