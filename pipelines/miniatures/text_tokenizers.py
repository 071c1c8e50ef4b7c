"""Small tokenizers for miniatures whose real vocabulary we cannot ship, trained on text we wrote.

GPT-2's real byte-level BPE (assets/vocab/gpt2) and BERT's real WordPiece (assets/vocab/bert-uncased)
are used as they are where the real checkpoint uses them, so those miniatures tokenize exactly like
the real models.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.miniatures import ASSETS

VOCAB = ASSETS / "vocab"
TEXTS = ASSETS / "texts"


def training_lines(*names: str) -> list[str]:
    """Lines of our own corpora (assets/texts), with a fallback so a build never fails on a checkout
    whose assets are missing."""
    lines: list[str] = []
    for name in names:
        path = TEXTS / name
        if path.is_file():
            lines += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return lines or ["Transformers turn text into tokens and tokens into text.", "def add(a, b): return a + b"]


def byte_level_bpe(vocab_size: int, special_tokens: list[str], corpora=("corpus.txt", "code_corpus.py.txt")):
    """A GPT-2 style byte-level BPE `tokenizers.Tokenizer` trained on our corpora."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(training_lines(*corpora), trainer=trainer)
    return tok


def gpt2_files() -> tuple[Path, Path]:
    return VOCAB / "gpt2" / "vocab.json", VOCAB / "gpt2" / "merges.txt"


def sentencepiece_model(folder: Path, name: str, vocab_size: int, model_type: str = "unigram",
                        corpora=("corpus.txt",), **options) -> Path:
    """Train a SentencePiece model on our corpora into folder/name.model (deterministic)."""
    import sentencepiece as spm

    text = folder / f"{name}.train.txt"
    text.write_text("\n".join(training_lines(*corpora)), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(folder / name), vocab_size=vocab_size, model_type=model_type,
        character_coverage=1.0, num_threads=1, minloglevel=2, hard_vocab_limit=False, **options,
    )
    text.unlink()
    (folder / f"{name}.vocab").unlink(missing_ok=True)
    return folder / f"{name}.model"
