"""The program for a language model the app ran on onnxruntime-genai (pipelines/engines/onnx_genai.py), shared by
text generation and code completion: convert the checkpoint once with the engine's builder, then generate token
by token with the app's settings. transformers' pipeline() would give another text for the same seed (another
sampler, float32 weights), so the program is the engine's own."""

from __future__ import annotations

from pipelines.families.causal_lm import GenerationParams
from pipelines.reproduce import literal, number

ENGINE = "onnxruntime-genai"


def ran_on_engine(runs_on: str) -> bool:
    return runs_on.startswith(ENGINE)


def precision(runs_on: str) -> str:
    return runs_on.split()[-1]  # "onnxruntime-genai int4" -> "int4"


def converted(runs_on: str) -> str:
    """Imports, and the conversion: after `MODEL = ...` and the input constants."""
    p = precision(runs_on)
    return "\n".join([
        f'ONNX = Path(MODEL.rstrip("/").split("/")[-1] + "-onnx-{p}")  # the converted model, built once',
        "if not ONNX.is_dir():  # seconds for a small model, minutes for a large one",
        "    subprocess.run([sys.executable, \"-m\", \"onnxruntime_genai.models.builder\", \"-m\", MODEL,",
        f'                    "-o", str(ONNX), "-p", "{p}", "-e", "cpu"], check=True)',
        "tokenizer = AutoTokenizer.from_pretrained(MODEL)",
        "model = og.Model(str(ONNX))\n",
    ])


def imports(params: GenerationParams) -> str:
    json = "import json\n" if params.do_sample and not params.top_k else ""  # the vocabulary size, below
    return (f"{json}import subprocess\nimport sys\nfrom pathlib import Path\n\n"
            "import onnxruntime_genai as og\nfrom transformers import AutoTokenizer\n")
PACKAGES = ("onnxruntime-genai", "onnx", "onnx-ir", "transformers", "torch")


def generation(params: GenerationParams, ids: str, stops: str = "") -> str:
    """Generate after the token ids in `ids` with the app's decoding settings; leaves the text in `reply`."""
    search = [f"max_length=len({ids}) + {params.max_new_tokens}"]
    if params.min_new_tokens:
        search.append(f"min_length=len({ids}) + {params.min_new_tokens}")
    if params.do_sample:
        search.append(f"do_sample=True, temperature={number(params.temperature)}, top_p={number(params.top_p)}")
        search.append(f"top_k={params.top_k}" if params.top_k else
                      'top_k=json.loads((ONNX / "genai_config.json").read_text())["model"]["vocab_size"]')
        search.append(f"random_seed={params.seed}")
    else:
        search.append("do_sample=False")
    search.append(f"repetition_penalty={number(params.repetition_penalty)}")
    lines = [
        "options = og.GeneratorParams(model)",
        "options.set_search_options(\n    " + ",\n    ".join(search) + ",\n)",
    ]
    if params.do_sample:
        lines[-1] += "  # the app's seed: the same seed and settings give the same text"
    lines += [
        "generator = og.Generator(model, options)",
        f"generator.append_tokens({ids})",
        "new_ids = []",
        "while not generator.is_done():",
        "    generator.generate_next_token()",
        "    new_ids.append(int(generator.get_next_tokens()[0]))",
    ]
    if params.stop_sequences:
        stop_list = stops or literal(list(params.stop_sequences))
        lines += [
            "    text = tokenizer.decode(new_ids, skip_special_tokens=True)",
            "    # as the app: generation ends on the token that completes a stop sequence",
            f"    if not text.endswith(\"\\ufffd\") and any(stop in text for stop in {stop_list}):",
            "        break",
        ]
    lines.append("reply = tokenizer.decode(new_ids, skip_special_tokens=True)")
    return "\n".join(lines)
