"""The model layer: lazy loading, one load for concurrent first calls, LRU eviction under a memory
budget, memory really released, and where weights come from (tiny | hub | auto)."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

from pipelines.core.errors import ModelUnavailableError, UserInputError
from pipelines.core.loading import ModelManager
from pipelines.core.sources import HubProbe, SourceResolver
from tests.conftest import tiny_settings

GEN = "text-generation"
SMOL, GPT2, QWEN = ("HuggingFaceTB/SmolLM2-135M-Instruct", "openai-community/gpt2", "Qwen/Qwen2.5-0.5B-Instruct")


class SlowResolver(SourceResolver):
    """Widens the window in which concurrent first requests could race each other into two loads."""

    def resolve(self, ckpt):
        time.sleep(0.3)
        return super().resolve(ckpt)


def test_nothing_is_loaded_until_first_use():
    models = ModelManager(tiny_settings())
    assert models.loaded_keys() == []
    models.get(GEN)
    assert [repo for _, repo in models.loaded_keys()] == [SMOL]


class CountingLoads:
    """Counts calls of the causal-LM loader the registry names (the test's hook, not the manager's)."""

    def __init__(self, monkeypatch):
        from pipelines.families import causal_lm

        self.calls = []
        real = causal_lm.load
        monkeypatch.setattr(causal_lm, "load", lambda request: self.calls.append(request.checkpoint.repo_id)
                            or real(request))


def test_loaded_model_is_reused(monkeypatch):
    loads = CountingLoads(monkeypatch)
    models = ModelManager(tiny_settings())
    first = models.get(GEN, GPT2)
    assert models.get(GEN, GPT2) is first
    assert loads.calls == [GPT2]


def test_concurrent_first_calls_load_once(monkeypatch):
    loads = CountingLoads(monkeypatch)
    settings = tiny_settings()
    models = ModelManager(settings, SlowResolver(settings))
    results = []
    threads = [threading.Thread(target=lambda: results.append(models.get(GEN, GPT2))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r is results[0] for r in results)
    assert loads.calls == [GPT2]


def test_models_shared_by_two_tasks_are_loaded_once():
    models = ModelManager(tiny_settings())
    a = models.get("text-generation", SMOL)
    b = models.get("code-completion", SMOL)
    assert a.bundle is b.bundle or a is b


def _sizes():
    probe = ModelManager(tiny_settings())
    return {repo: probe.get(GEN, repo).nbytes for repo in (SMOL, GPT2, QWEN)}


def test_memory_budget_evicts_least_recently_used_and_frees_it():
    sizes = _sizes()
    # Room for GPT-2 and one of the small ones, never for all three.
    budget = sizes[GPT2] + max(sizes[SMOL], sizes[QWEN]) + 100_000  # slack: file headers
    models = ModelManager(tiny_settings(memory_budget_gb=budget / 1e9))
    models.get(GEN, SMOL)
    gpt2 = models.get(GEN, GPT2)
    gone = weakref.ref(models.get(GEN, SMOL).bundle.model)  # SMOL is now the most recently used
    models.get(GEN, GPT2)  # ... and now GPT-2 is: SMOL is the least recently used
    models.get(GEN, QWEN)
    assert [repo for _, repo in models.loaded_keys()] == [GPT2, QWEN]
    assert models.used_bytes() <= budget
    gc.collect()
    assert gone() is None, "the evicted model is still referenced somewhere: its memory is not returned"
    assert gpt2.bundle.model is not None


def test_a_model_larger_than_the_budget_still_loads_alone():
    models = ModelManager(tiny_settings(memory_budget_gb=1e-6))
    models.get(GEN, SMOL)
    models.get(GEN, GPT2)
    assert [repo for _, repo in models.loaded_keys()] == [GPT2]


def test_only_curated_checkpoints_can_be_asked_for():
    models = ModelManager(tiny_settings())
    with pytest.raises(UserInputError, match="Choose one of"):
        models.get(GEN, "someone/evil-remote-code-model")
    assert models.loaded_keys() == []


def test_tiny_mode_marks_miniatures_with_a_notice():
    loaded = ModelManager(tiny_settings()).get(GEN)
    assert loaded.location.kind == "miniature"
    assert "miniature" in loaded.notice and SMOL in loaded.notice


def test_hub_mode_offline_gives_a_clear_error_and_retries_next_time(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    models = ModelManager(tiny_settings(model_source="hub"))
    for _attempt in range(2):  # a failure is not remembered: the next request tries again
        with pytest.raises(ModelUnavailableError) as info:
            models.get(GEN, GPT2)
        assert "Could not download openai-community/gpt2" in str(info.value)
        assert "--model-source tiny" in str(info.value)
    assert models.loaded_keys() == []


def test_auto_mode_falls_back_to_miniature_when_hub_unreachable(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = ModelManager(tiny_settings(model_source="auto")).get(GEN, GPT2)
    assert loaded.location.kind == "miniature" and loaded.notice


def test_auto_mode_uses_a_checkpoint_already_in_the_local_cache(monkeypatch, tmp_path, models):
    """A real HF cache layout (models--org--name/snapshots/<rev>, refs/main) is found offline."""
    import shutil

    from huggingface_hub import constants

    mini = models.resolver.miniature(models.get(GEN, GPT2).checkpoint).source
    repo_dir = tmp_path / "models--openai-community--gpt2"
    shutil.copytree(mini, repo_dir / "snapshots" / ("a" * 40))
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text("a" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = ModelManager(tiny_settings(model_source="auto")).get(GEN, GPT2)
    assert loaded.location.kind == "cache"
    assert loaded.location.source.startswith(str(tmp_path))
    assert loaded.notice == ""


def test_hub_probe_asks_once(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("pipelines.core.sources.HUB_URL", "http://127.0.0.1:9")  # the discard port: refused
    probe = HubProbe(timeout_s=2.0)
    calls = []
    real_ask = probe._ask
    monkeypatch.setattr(probe, "_ask", lambda: calls.append(1) or real_ask())
    assert probe.reachable() is False
    assert probe.reachable() is False
    assert len(calls) == 1


def test_every_loaded_model_has_the_one_bundle_shape_and_its_family(models):
    from pipelines.core.bundle import Bundle
    from pipelines.core.registry import FAMILIES, by_family

    for family in ("decoder-only", "encoder-decoder"):
        for spec, ckpt in by_family(family)[:2]:
            bundle = models.get(spec.id, ckpt.repo_id).bundle
            assert isinstance(bundle, Bundle) and bundle.family == family == spec.family
            assert bundle.checkpoint == ckpt and bundle.device == "cpu"
            assert bundle.tokenizer("Hello")["input_ids"]
    assert {spec.family for spec, _ in by_family("speech")} == {"speech"}
    with pytest.raises(KeyError, match="known: " + ", ".join(FAMILIES)):
        by_family("quantum")


def test_attention_weights_come_from_the_same_copy_switched_to_eager():
    import torch

    models = ModelManager(tiny_settings())
    plain = models.get(GEN, GPT2)
    ids = plain.bundle.tokenizer("The cat sat on the mat", return_tensors="pt")["input_ids"]
    eager = models.get(GEN, GPT2, attention="eager")
    assert eager is plain and len(models.loaded_keys()) == 1  # no second copy in memory
    assert eager.bundle.attention == "eager"
    with torch.inference_mode():
        attentions = eager.bundle.model(ids, output_attentions=True).attentions
    config = eager.bundle.model.config
    assert len(attentions) == config.n_layer
    assert tuple(attentions[0].shape) == (1, config.n_head, ids.shape[1], ids.shape[1])
    assert torch.allclose(attentions[0].sum(-1), torch.ones(()), atol=1e-4)  # each row is a distribution


def test_a_model_can_be_loaded_with_eager_attention_from_the_start():
    models = ModelManager(tiny_settings())
    assert models.get(GEN, SMOL, attention="eager").bundle.attention == "eager"


def test_a_switch_of_attention_waits_for_the_forward_pass_running_on_the_model():
    """A forward pass is built for one attention implementation: the switch must come between passes."""
    import torch

    models = ModelManager(tiny_settings())
    bundle = models.get(GEN, GPT2).bundle
    inside, release, switched = threading.Event(), threading.Event(), threading.Event()

    def held(*args):  # returns None: a pre-hook's return value would replace the inputs
        inside.set()
        release.wait(30)

    hold = bundle.model.register_forward_pre_hook(held)
    ids = bundle.tokenizer("Hello there", return_tensors="pt")["input_ids"]

    outputs = []

    def forward():
        with torch.inference_mode():
            outputs.append(bundle.model(ids).logits)

    runner = threading.Thread(target=forward)
    runner.start()
    assert inside.wait(30)
    switcher = threading.Thread(target=lambda: bundle.use_attention("eager") or switched.set())
    switcher.start()
    assert not switched.wait(0.5), "the attention implementation changed under a running forward pass"
    hold.remove()
    release.set()
    runner.join(30)
    switcher.join(30)
    assert switched.is_set() and bundle.attention == "eager" and outputs[0].shape[:2] == ids.shape


def test_a_model_that_cannot_switch_says_so():
    from dataclasses import replace

    models = ModelManager(tiny_settings())
    bundle = replace(models.get(GEN, GPT2).bundle, extras={})  # no gate: not loaded by load_pretrained
    with pytest.raises(ModelUnavailableError, match="cannot switch to eager attention"):
        bundle.use_attention("eager")
