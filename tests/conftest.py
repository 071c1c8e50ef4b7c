"""Shared fixtures: tiny-mode settings, a model manager, and the whole app launched for gradio_client.

Everything runs offline on the miniatures (HF_HUB_OFFLINE=1). Miniatures are built once into
.cache/tests (git-ignored) and reused by later runs.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One pytest worker per core (pytest.ini): one torch thread each, or their thread pools fight
    # over the cores and the suite gets slower, not faster. Set before anything imports torch.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

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


@pytest.fixture(scope="session")
def real_models():
    """Real weights where the registries have them (SmolLM2-135M-Instruct, all-MiniLM-L6-v2), miniatures
    for the rest: the real-checkpoint tier (tests/realmodels). Model source "auto" reads them as cached."""
    from tests.realmodels.manager import real_manager

    return real_manager(tiny_settings(model_source="auto"), CACHE.parent / "realmodels")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def patient_url_ok(url: str, timeout_s: float = 60.0) -> bool:
    """Gradio's start-up probe of its own page (`networking.url_ok`) gives up at the first HEAD that takes
    over 3 s; on a 2-core CI machine running other test workers, the whole app's first page can. Same
    probe, retried until `timeout_s`."""
    import time

    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.head(url, timeout=10, verify=False).status_code < 400:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def launch_app(settings, task_ids=None, models=None):
    """Launch the real app in this process (as `python app.py` does) and return its URL and parts."""
    import gradio.networking

    from app import build_app, launch
    from pipelines.core.loading import ModelManager

    models = models or ModelManager(settings)
    demo = build_app(models, task_ids)
    port = free_port()
    gradio.networking.url_ok = patient_url_ok  # tests only: see its docstring
    launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    return SimpleNamespace(url=f"http://127.0.0.1:{port}/", models=models, demo=demo)


@pytest.fixture(scope="module")
def app_server(request):
    """The app in tiny mode, launched once per test module. A module may set APP_TASKS = [task ids]
    to launch only its tabs (faster, and isolated from the others); by default all tabs are built. A module
    may set APP_SETTINGS = {name: value} for settings of its own."""
    server = launch_app(tiny_settings(**getattr(request.module, "APP_SETTINGS", {})),
                        getattr(request.module, "APP_TASKS", None))
    yield server
    server.demo.close()


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


class ForwardPasses:
    """The tests' own hook on a torch module (production objects keep no counters for tests): the batch
    size of each forward pass; with hold=True the first pass waits until `release()`, so that more
    requests arrive while the model is busy."""

    def __init__(self, module, hold: bool = False):
        self.sizes: list[int] = []
        self.entered, self._gate = threading.Event(), threading.Event()
        if not hold:
            self._gate.set()
        self._handle = module.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs):
        first = next((v for v in (*args, *kwargs.values()) if hasattr(v, "shape")), None)
        self.sizes.append(int(first.shape[0]) if first is not None and first.dim() else 1)
        self.entered.set()
        assert self._gate.wait(30), "the test never released the model"

    @property
    def calls(self) -> int:
        return len(self.sizes)

    @property
    def items(self) -> int:
        """Inputs seen over all passes (e.g. pictures embedded)."""
        return sum(self.sizes)

    def release(self) -> None:
        self._gate.set()

    def remove(self) -> None:
        self._gate.set()
        self._handle.remove()
