from pathlib import Path

import pytest

from pipelines.core.settings import Settings


def test_defaults():
    s = Settings.from_args([], env={})
    assert (s.model_source, s.device, s.dtype, s.load_mode) == ("auto", "auto", "auto", "auto")
    assert s.memory_budget_gb is None and s.frame_ancestors == ()


def test_environment_then_flags_win():
    env = {"PLAYGROUND_MODEL_SOURCE": "tiny", "PLAYGROUND_MEMORY_BUDGET_GB": "3.5",
           "PLAYGROUND_FRAME_ANCESTORS": "https://a.example, https://b.example", "PLAYGROUND_CACHE_DIR": "/tmp/x"}
    s = Settings.from_args([], env=env)
    assert s.model_source == "tiny" and s.memory_budget_gb == 3.5 and s.cache_dir == Path("/tmp/x")
    assert s.frame_ancestors == ("https://a.example", "https://b.example")
    s = Settings.from_args(["--model-source", "hub", "--queue-size", "4"], env=env)
    assert s.model_source == "hub" and s.queue_size == 4 and s.memory_budget_gb == 3.5


@pytest.mark.parametrize("env", [{"PLAYGROUND_MODEL_SOURCE": "cloud"}, {"PLAYGROUND_MEMORY_BUDGET_GB": "-1"},
                                 {"PLAYGROUND_DEVICE": "tpu"}])
def test_bad_values_are_refused_with_the_choices(env):
    with pytest.raises(ValueError):
        Settings.from_args([], env=env)


def test_bad_flag_value_exits_with_usage():
    with pytest.raises(SystemExit):
        Settings.from_args(["--model-source", "cloud"], env={})
