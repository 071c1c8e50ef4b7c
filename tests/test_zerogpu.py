"""ZeroGPU: detected from SPACES_ZERO_GPU; then eager loading and model events inside spaces.GPU.
Off ZeroGPU nothing changes and `spaces` is never imported. A fake `spaces` module stands in here."""

from __future__ import annotations

import sys
import types

import pytest

from pipelines.core.errors import ModelUnavailableError
from pipelines.core.registry import PAGES
from pipelines.core.settings import Settings
from tests.conftest import tiny_settings
from ui import zerogpu

ZERO = {"SPACES_ZERO_GPU": "true"}
APP_TASKS = ["text-generation", "code-completion"]


@pytest.mark.parametrize("value,expected", [("true", True), ("1", True), ("True", True), ("false", False),
                                            ("", False), (None, False)])
def test_zero_gpu_is_detected_like_the_spaces_package_does(value, expected):
    assert zerogpu.on_zero_gpu({} if value is None else {"SPACES_ZERO_GPU": value}) is expected


def test_auto_load_mode_is_lazy_elsewhere_and_nothing_else_changes():
    s = zerogpu.prepare(Settings(), env={})
    assert (s.load_mode, s.device, s.memory_budget_gb) == ("lazy", "auto", None)


def test_on_zero_gpu_auto_means_eager_on_cuda_with_a_fixed_budget():
    s = zerogpu.prepare(Settings(), env=ZERO)
    assert (s.load_mode, s.device, s.memory_budget_gb) == ("eager", "cuda", zerogpu.ZEROGPU_BUDGET_GB)


def test_explicit_choices_win_on_zero_gpu():
    s = zerogpu.prepare(Settings(load_mode="lazy", device="cpu", memory_budget_gb=3.0), env=ZERO)
    assert (s.load_mode, s.device, s.memory_budget_gb) == ("lazy", "cpu", 3.0)


class FakeSpaces(types.ModuleType):
    """Records what spaces.GPU was asked for and marks the functions it wrapped."""

    def __init__(self):
        super().__init__("spaces")
        self.durations = []
        self.auto_wrap_disabled = False

    def disable_gradio_auto_wrap(self):
        self.auto_wrap_disabled = True

    def GPU(self, duration=None):
        self.durations.append(duration)

        def decorate(fn):
            fn.zerogpu = duration
            return fn
        return decorate


@pytest.fixture
def fake_spaces(monkeypatch):
    fake = FakeSpaces()
    monkeypatch.setitem(sys.modules, "spaces", fake)
    return fake


@pytest.fixture
def built_app(monkeypatch):
    """Two tabs built as off ZeroGPU (plain functions); each test then wraps them its way."""
    import app
    from pipelines.core.loading import ModelManager

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    models = ModelManager(tiny_settings())
    return app.build_app(models, APP_TASKS), models


def test_off_zero_gpu_no_event_is_wrapped_and_spaces_is_not_imported(built_app, monkeypatch):
    demo, models = built_app
    monkeypatch.delitem(sys.modules, "spaces", raising=False)
    before = {id(f): f.fn for f in demo.fns.values()}
    assert zerogpu.wrap_events(demo.fns.values(), models, env={}) == 0
    assert {id(f): f.fn for f in demo.fns.values()} == before
    assert "spaces" not in sys.modules


def test_on_zero_gpu_only_model_events_run_inside_spaces_gpu(built_app, fake_spaces):
    demo, models = built_app
    count = zerogpu.wrap_events(demo.fns.values(), models, env=ZERO)
    wrapped = [f for f in demo.fns.values() if hasattr(f.fn, "zerogpu")]
    assert count == len(wrapped)
    # The public endpoints and the tabs' private model events ("Look inside"), never Stop or the deep-link load:
    # exactly the events in a task's concurrency group.
    assert {"generate_text", "complete_code"} <= {f.api_name for f in wrapped}
    assert all(f.concurrency_id in APP_TASKS for f in wrapped)
    assert not [f.api_name for f in demo.fns.values()
                if f.concurrency_id in APP_TASKS and f.fn is not None and not hasattr(f.fn, "zerogpu")]
    assert set(fake_spaces.durations) == {30}  # both tasks' gpu_seconds in the registry
    assert fake_spaces.auto_wrap_disabled  # gradio must not wrap the helper events itself
    for f in demo.fns.values():
        if f.api_name == "generate_text":
            assert f.types_generator and f.fn.__wrapped__.__name__ == "generate_text"


def test_without_the_spaces_package_zero_gpu_falls_back_to_plain_calls(built_app, monkeypatch, caplog):
    demo, models = built_app
    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces -> ImportError
    assert zerogpu.wrap_events(demo.fns.values(), models, env=ZERO) == 0
    assert "spaces" in caplog.text


class RecordingModels:
    def __init__(self, fail=()):
        self.got, self.fail = [], set(fail)

    def get(self, task_id, repo_id=None):
        self.got.append((task_id, repo_id))
        if task_id in self.fail:
            raise ModelUnavailableError(f"no {task_id}")

    def task(self, task_id):
        return types.SimpleNamespace(remote=None)  # every task loads here


def test_a_picked_model_is_loaded_in_the_main_process_before_the_gpu_call(fake_spaces):
    models = RecordingModels()
    calls = []

    def generate_text(prompt, model_id=None):
        calls.append(("gpu", list(models.got)))
        yield prompt + "!"

    block_fn = types.SimpleNamespace(fn=generate_text, concurrency_id="text-generation")
    zerogpu.wrap_events([block_fn], models, env=ZERO)
    assert list(block_fn.fn("hi", "openai-community/gpt2")) == ["hi!"]
    assert calls == [("gpu", [("text-generation", "openai-community/gpt2")])]  # loaded first, here
    models.got.clear()
    assert list(block_fn.fn("hi", "not a model")) == ["hi!"] and models.got == []
    batched = types.SimpleNamespace(fn=lambda images, model_ids: len(images), concurrency_id="image-classification")
    zerogpu.wrap_events([batched], models, env=ZERO)
    assert batched.fn(["a.png", "b.png"], ["facebook/deit-small-patch16-224"] * 2) == 2  # batch=True lists
    assert models.got == [("image-classification", "facebook/deit-small-patch16-224")]


def test_eager_preload_loads_each_default_and_survives_a_failure():
    models = RecordingModels(fail={"translation"})
    loaded = zerogpu.preload(models, ["text-generation", "translation", "code-completion"])
    assert loaded == ["text-generation", "code-completion"]
    assert models.got == [("text-generation", None), ("translation", None), ("code-completion", None)]


def test_eager_preload_really_loads_the_default_miniature(models):
    assert zerogpu.preload(models, ["text-generation"]) == ["text-generation"]
    assert models.is_loaded("text-generation")


def test_gradio_is_stopped_from_wrapping_every_event_before_the_app_is_built(fake_spaces, monkeypatch):
    import app
    from pipelines.core.loading import ModelManager

    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    order = []
    monkeypatch.setattr(fake_spaces, "disable_gradio_auto_wrap", lambda: order.append("disabled"))
    monkeypatch.setattr(app.layout, "build", lambda *a: order.append("built"))
    app.build_app(ModelManager(tiny_settings()), ["text-generation"])
    assert order[:2] == ["disabled", "built"]


def test_on_the_whole_app_exactly_the_public_endpoints_get_a_gpu(fake_spaces, monkeypatch):
    import app
    from pipelines.core.loading import ModelManager
    from tests.api_contract import PUBLIC_ENDPOINTS

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    models = ModelManager(tiny_settings())
    demo = app.build_app(models)
    zerogpu.wrap_events(demo.fns.values(), models, env=ZERO)
    on_gpu = {"/" + f.api_name for f in demo.fns.values() if hasattr(f.fn, "zerogpu")}
    # Every public endpoint of a page with checkpoints, and those pages' private model events; never the events
    # of a page that trains its own small model on the CPU (a GPU call's time limit would cut its training).
    with_models = {spec.id for spec in PAGES if spec.checkpoints}
    public = {name for name, page in PUBLIC_ENDPOINTS.items() if page in with_models}
    assert public <= on_gpu and not (set(PUBLIC_ENDPOINTS) - public) & on_gpu
    assert "/train_transformer" not in on_gpu
    assert all(f.concurrency_id in with_models for f in demo.fns.values() if hasattr(f.fn, "zerogpu"))
    durations = {"/" + f.api_name: f.fn.zerogpu for f in demo.fns.values() if hasattr(f.fn, "zerogpu")}
    from tests.api_contract import ENDPOINTS

    assert {name: durations[name] for name in public} == {e.api_name: spec.gpu_seconds
                                                          for spec, e in ENDPOINTS if spec.id in with_models}
    assert durations["/fine_tune"] == 90
    assert durations["/transcribe"] == 90 and durations["/generate_text"] == 30


def test_preload_skips_a_task_that_a_serving_engine_runs():
    from pipelines.core.loading import ModelManager

    models = ModelManager(tiny_settings(remotes=(("text-generation", "http://127.0.0.1:9/v1"),)))
    assert zerogpu.preload(models, ["text-generation", "code-completion"]) == ["code-completion"]
    assert [repo for _, repo in models.loaded_keys()] == ["bigcode/tiny_starcoder_py"]
