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


@pytest.mark.parametrize("url", ["http://gpu-box:80x0/v1", "http://gpu-box:99999/v1", "http:///v1", "gpu-box:8000"])
def test_a_remote_endpoint_that_no_client_could_call_is_refused_at_start(url):
    with pytest.raises(ValueError, match="remote endpoints must be http"):
        Settings(remote_url=url)


def test_a_bad_setting_at_start_is_one_line_not_a_traceback():
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run([sys.executable, "app.py", "--remote", "http://gpu-box:80x0/v1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "remote endpoints must be http(s) URLs" in out.stderr.splitlines()[-1]
