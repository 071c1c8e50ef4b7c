"""The Dockerfile, without a Docker engine: what it promises (small slim image, uid 1000, port 7860,
apt lists and pip caches removed) and the commands it runs, run here.

The full check installs requirements.txt into a clean temporary venv with the Dockerfile's own pip
command, then runs `python app.py --help` and `python app.py --download` (hub mocked) with it. It takes
a few minutes, so it runs only with PLAYGROUND_CHECK_IMAGE=1:
    PLAYGROUND_CHECK_IMAGE=1 HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_dockerfile.py -q
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import venv

import pytest

import app
from pipelines.core import download
from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
MOCKED_DOWNLOAD = """
import huggingface_hub, sys
calls = []
huggingface_hub.snapshot_download = lambda repo_id, **kw: calls.append(repo_id) or "/tmp/" + repo_id
huggingface_hub.HfApi.list_repo_files = lambda self, repo_id, **kw: []
sys.argv = ["app.py", "--download"]
import app
status = app.main(sys.argv[1:])
print("downloaded", len(calls))
sys.exit(status)
"""


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def runs() -> list[str]:
    return [args for name, args in instructions() if name == "RUN"]


def test_small_official_base_and_the_space_conventions():
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    env = " ".join(args for name, args in steps if name == "ENV")
    assert "GRADIO_SERVER_NAME=0.0.0.0" in env and "GRADIO_SERVER_PORT=7860" in env
    assert ("EXPOSE", "7860") in steps
    assert any(name == "RUN" and "--uid 1000" in args for name, args in steps)
    user_at = steps.index(("USER", "user"))
    pip_at = next(i for i, (name, args) in enumerate(steps) if name == "RUN" and "pip install" in args)
    assert user_at < pip_at  # nothing of ours is installed or run as root
    assert steps[-1] == ("CMD", '["python", "app.py"]')


def test_apt_installs_packages_txt_without_recommends_and_removes_its_lists():
    apt = next(r for r in runs() if "apt-get install" in r)
    assert "packages.txt" in apt and "--no-install-recommends" in apt
    assert "rm -rf /var/lib/apt/lists/*" in apt  # same layer, or the lists stay in the image
    listed = [line.strip() for line in (ROOT / "packages.txt").read_text().splitlines()
              if line.strip() and not line.lstrip().startswith("#")]
    assert listed == ["ffmpeg"]


def test_pip_keeps_no_cache_and_installs_only_the_pinned_requirements():
    pips = [r for r in runs() if "pip " in r]
    assert pips and all("--no-cache-dir" in r for r in pips)
    assert all("-r requirements.txt" in r for r in pips)


def test_dockerignore_keeps_the_venv_caches_tests_and_git_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".git", ".venv", ".cache", "tests", "**/__pycache__"):
        assert path in ignored


def app_commands() -> list[list[str]]:
    """Each `python app.py ...` the image runs at build time, as an argument list."""
    return [shlex.split(m) for r in runs() for m in re.findall(r"python (app\.py[^;&|]*)", r)]


def test_the_optional_model_download_step_runs(monkeypatch, capsys):
    import huggingface_hub

    assert app_commands() == [["app.py", "--download"]]
    assert 'ARG DOWNLOAD_MODELS=0' in DOCKERFILE
    fetched = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo_id, **kw: fetched.append(repo_id) or "/x")
    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", lambda self, repo_id, **kw: [])
    assert app.main(app_commands()[0][1:]) == 0
    assert "stabilityai/sd-turbo" in fetched and "madebyollin/taesd" in fetched


@pytest.mark.skipif(os.environ.get("PLAYGROUND_CHECK_IMAGE") != "1",
                    reason="installs requirements.txt into a clean venv (minutes): PLAYGROUND_CHECK_IMAGE=1")
def test_the_image_commands_work_in_a_clean_venv(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    env = {**os.environ, "PATH": f"{env_dir / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(env_dir),
           "TORCH_INDEX_URL": "", "HF_HUB_OFFLINE": "1", "PYTHONNOUSERSITE": "1"}
    for command in runs():
        if "pip install" in command:  # exactly as the Dockerfile says, minus the unreachable index
            done = subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    python = str(env_dir / "bin" / "python")
    helped = subprocess.run([python, "app.py", "--help"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert helped.returncode == 0 and "--download" in helped.stdout, helped.stderr
    fetched = subprocess.run([python, "-c", MOCKED_DOWNLOAD], cwd=ROOT, env=env, capture_output=True, text=True)
    expected = f"downloaded {len(download.default_checkpoints())}"
    assert fetched.returncode == 0 and expected in fetched.stdout, fetched.stderr[-3000:]
