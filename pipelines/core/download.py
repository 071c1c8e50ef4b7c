"""`python app.py --download`: fetch every task's default checkpoint (and its companions) into the
Hugging Face cache, then exit. Used by the Docker image (build arg DOWNLOAD_MODELS=1) and by anyone
about to go offline; afterwards `--model-source auto` finds them in the cache.

Only the files our loaders read are fetched: weights in other frameworks' formats (TensorFlow, Flax,
ONNX, Core ML, GGUF, original .ckpt), a .bin beside a .safetensors, and root-level single-file weights
of diffusers repositories (diffusers loads the per-component folders) are skipped. That keeps a
Docker image gigabytes smaller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pipelines.core import registry
from pipelines.core.registry import Checkpoint

log = logging.getLogger(__name__)
ALWAYS_SKIPPED = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "*.onnx_data", "onnx/*", "*.tflite", "coreml/*",
                  "*.mlmodel", "*.mlpackage/*", "openvino/*", "*.gguf", "*.ckpt", "tf_model*", "flax_model*",
                  "rust_model*"]


@dataclass(frozen=True)
class Downloaded:
    repo_id: str
    path: str | None  # local snapshot folder; None when it failed
    error: str = ""


def default_checkpoints(tasks=None) -> list[Checkpoint]:
    """Each task's default and its companions, each repo once, in registry order."""
    seen: dict[str, Checkpoint] = {}
    for spec in tasks or registry.PAGES:
        for ckpt in spec.default_repos:
            seen.setdefault(ckpt.repo_id, ckpt)
    return list(seen.values())


def skipped_patterns(repo_files: list[str] | None) -> list[str]:
    """What not to download from a repository, given its file list (None: not known)."""
    patterns = list(ALWAYS_SKIPPED)
    files = repo_files or []
    if "model_index.json" in files:  # a diffusers pipeline: root-level weights are a single-file copy
        patterns += [f for f in files if "/" not in f and f.endswith((".safetensors", ".bin"))]
    # Loaders prefer safetensors: a .bin beside a .safetensors in the same folder is never read.
    with_safetensors = {f.rpartition("/")[0] for f in files if f.endswith(".safetensors")}
    patterns += [f for f in files if f.endswith(".bin") and f.rpartition("/")[0] in with_safetensors]
    return patterns


def download_defaults(tasks=None) -> list[Downloaded]:
    from huggingface_hub import HfApi, snapshot_download

    results = []
    for ckpt in default_checkpoints(tasks):
        try:
            try:
                files = HfApi().list_repo_files(ckpt.repo_id, revision=ckpt.revision)
            except Exception:  # listing is an optimisation only: download everything usable
                files = None
            log.info("downloading %s@%s", ckpt.repo_id, ckpt.revision)
            path = snapshot_download(ckpt.repo_id, revision=ckpt.revision,
                                     ignore_patterns=skipped_patterns(files))
            results.append(Downloaded(ckpt.repo_id, str(path)))
        except Exception as exc:  # keep going: report every failure at the end
            results.append(Downloaded(ckpt.repo_id, None, f"{type(exc).__name__}: {exc}"))
    return results


def main() -> int:
    """Download, print one line per repository, and return the exit status (1 if any failed)."""
    results = download_defaults()
    for r in results:
        print(f"{'ok    ' if r.path else 'FAILED'} {r.repo_id}  {r.path or r.error}")
    failed = [r for r in results if r.path is None]
    if failed:
        print(f"{len(failed)} of {len(results)} downloads failed; rerun to retry (finished ones are cached).")
    return 1 if failed else 0
