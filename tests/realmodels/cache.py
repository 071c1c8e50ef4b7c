"""Build-once cache folders that never appear half written: the app's own helper, used for the real checkpoints
rebuilt offline too."""

from pipelines.engines.built import build_once

__all__ = ["build_once"]
