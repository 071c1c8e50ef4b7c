"""`python app.py --download`: every registry default and its companions go through snapshot_download
(mocked: nothing here can reach the hub), each once, at its pinned revision, without useless files."""

from __future__ import annotations

import fnmatch

import huggingface_hub
import pytest

import app
from pipelines.core import download
from pipelines.core.registry import PAGES

SD_TURBO_FILES = ["model_index.json", "sd_turbo.safetensors", "unet/config.json",
                  "unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
                  "vae/diffusion_pytorch_model.bin", "tokenizer/vocab.json", "README.md"]
GPT2_FILES = ["config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack",
              "onnx/decoder_model.onnx", "64-8bits.tflite", "rust_model.ot", "tokenizer.json", "vocab.json"]


def expected_repos() -> list[tuple[str, str]]:
    wanted = []
    for spec in PAGES:
        for ckpt in spec.default_repos:
            if (ckpt.repo_id, ckpt.revision) not in wanted:
                wanted.append((ckpt.repo_id, ckpt.revision))
    return wanted


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """snapshot_download and list_repo_files that record their calls; `fail` names repos that error."""
    calls = []
    fail = set()

    def snapshot_download(repo_id, revision=None, ignore_patterns=None, **kwargs):
        calls.append((repo_id, revision, tuple(ignore_patterns or ())))
        if repo_id in fail:
            raise OSError("connection reset")
        return str(tmp_path / repo_id.replace("/", "--"))

    def list_repo_files(self, repo_id, revision=None, **kwargs):
        return SD_TURBO_FILES if "sd-turbo" in repo_id else GPT2_FILES

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", list_repo_files)
    return calls, fail


def test_every_default_and_companion_is_downloaded_once_at_its_revision(fake_hub):
    calls, _ = fake_hub
    results = download.download_defaults()
    assert [(repo, rev) for repo, rev, _ in calls] == expected_repos()
    assert len(calls) > len({s.default.repo_id for s in PAGES if s.checkpoints})  # defaults, plus TAESD
    assert all(r.path for r in results)


def test_app_download_flag_runs_it_and_exits_zero(fake_hub, capsys):
    calls, _ = fake_hub
    assert app.main(["--download"]) == 0
    assert {repo for repo, _, _ in calls} == {repo for repo, _ in expected_repos()}
    assert capsys.readouterr().out.count("ok ") == len(expected_repos())


def test_a_failed_download_is_reported_and_the_rest_still_downloaded(fake_hub, capsys):
    calls, fail = fake_hub
    fail.add(PAGES[0].default.repo_id)
    assert download.main() == 1
    out = capsys.readouterr().out
    assert f"FAILED {PAGES[0].default.repo_id}" in out and "connection reset" in out
    assert len(calls) == len(expected_repos())


def skipped(files, patterns):
    return {f for f in files if any(fnmatch.fnmatch(f, p) for p in patterns)}


def test_only_files_the_loaders_read_are_fetched():
    gpt2 = skipped(GPT2_FILES, download.skipped_patterns(GPT2_FILES))
    assert gpt2 == {"pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "onnx/decoder_model.onnx",
                    "64-8bits.tflite", "rust_model.ot"}
    sd = skipped(SD_TURBO_FILES, download.skipped_patterns(SD_TURBO_FILES))
    assert sd == {"sd_turbo.safetensors"}  # the single-file copy; vae's only weights (.bin) are kept


def test_without_a_file_list_only_other_formats_are_skipped():
    assert download.skipped_patterns(None) == download.ALWAYS_SKIPPED
