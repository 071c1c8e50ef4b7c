"""What one tokenizer piece is, in words a reader of the Tokens page can use: its kind of tokenizer,
the text a piece stands for, and whether it is a special token or a byte that is only part of a character.

Plain Python over a tokenizer's outputs (no torch), so each rule is testable by hand:

    byte_level_bytes("ĠcafÃ©")  -> b" caf\\xc3\\xa9"  (" café": GPT-2's vocabulary spells bytes as characters)
    byte_level_bytes("ðŁ")      -> b"\\xf0\\x9f"      (the first 2 of the 4 UTF-8 bytes of an emoji)
"""

from __future__ import annotations

import functools
import re

BYTE_FALLBACK = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")  # SentencePiece's byte fallback (Llama): <0xF0>

# How to read each kind of tokenizer's pieces: one line each, shown once per tokenizer.
HOW_TO_READ = {
    "WordPiece": "`##` marks a piece that continues the word before it; no `##`: a word starts here.",
    "byte-level BPE": "`Ġ` is the space before a word (`Ġare` = ' are'); pieces are bytes, so a character "
                      "outside ASCII can be split across pieces.",
    "BPE": "Pieces merged from characters by frequency (byte-pair encoding).",
    "Unigram": "`▁` is the space before a word (SentencePiece).",
}
# What the special tokens the page's tokenizers add are for (others get the tokenizer's own role name).
SPECIAL_ROLES = {
    "[CLS]": "BERT's first token; its output stands for the whole input (classification)",
    "[SEP]": "ends a sentence (and separates two)",
    "[UNK]": "unknown: the vocabulary has no piece for this text",
    "[PAD]": "padding, to make inputs the same length",
    "[MASK]": "a hidden word the model must guess",
    "<|endoftext|>": "end of text (GPT-2 and Whisper also start with it)",
    "<|im_start|>": "starts a chat turn",
    "<|im_end|>": "ends a chat turn",
    "<|startoftranscript|>": "Whisper's decoder starts every transcript with it",
    "<|notimestamps|>": "asks Whisper for text without timestamps",
    "<|transcribe|>": "asks Whisper to transcribe (not translate)",
    "<|translate|>": "asks Whisper to translate into English",
}


@functools.cache
def _unicode_to_byte() -> dict[str, int]:
    """GPT-2's byte <-> character table, reversed: byte-level BPE writes each byte as a printable
    character (the space 0x20 as 'Ġ', 0xC3 as 'Ã') so every piece is a readable string."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = list(printable), 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def byte_level_bytes(piece: str) -> bytes | None:
    """The bytes a byte-level BPE piece stands for, or None if it is not written in GPT-2's byte alphabet."""
    table = _unicode_to_byte()
    try:
        return bytes(table[ch] for ch in piece)
    except KeyError:
        return None


def tokenizer_kind(tokenizer) -> str:
    """"WordPiece", "byte-level BPE", "BPE" or "Unigram", read from the fast tokenizer's parts."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return "BPE"
    model = type(backend.model).__name__
    if model == "BPE" and "ByteLevel" in f"{backend.pre_tokenizer} {backend.decoder}":
        return "byte-level BPE"
    return model if model in HOW_TO_READ else "BPE"


def how_to_read(tokenizer, kind: str) -> str:
    """The line that explains this tokenizer's marks, plus what it does to the text before splitting."""
    line = HOW_TO_READ.get(kind, "")
    backend = getattr(tokenizer, "backend_tokenizer", None)
    normalizer = str(backend.normalizer) if backend is not None else ""
    if "lowercase=True" in normalizer:  # BERT uncased also drops accents unless told not to
        line += (" It lowercases the text first." if "strip_accents=False" in normalizer
                 else " It lowercases the text and drops accents first ('Café' -> 'cafe').")
    return line


def special_ids(tokenizer) -> set[int]:
    """Ids of every special token: the named ones and the added ones flagged special (Whisper's many)."""
    found = set(tokenizer.all_special_ids)
    for token_id, added in getattr(tokenizer, "added_tokens_decoder", {}).items():
        if getattr(added, "special", False):
            found.add(int(token_id))
    return found


def special_role(tokenizer, piece: str) -> str:
    if piece in SPECIAL_ROLES:
        return SPECIAL_ROLES[piece]
    if re.fullmatch(r"<\|[a-z]{2,3}\|>", piece):
        return "names the language for Whisper"
    names = [name for name, value in tokenizer.special_tokens_map.items() if value == piece]
    return f"the tokenizer's {names[0].replace('_', ' ')}" if names else "a special token of this tokenizer"


def describe_piece(piece: str, token_id: int, kind: str, special: bool, role: str, covered: str) -> dict:
    """One piece of a tokenized text: {"piece", "id", "text", "special", "bytes", "note"}.

    `covered` is the text the tokenizer's offsets say the piece came from ("" for an added special token).
    "bytes" is True for a piece holding bytes that are not a whole character (part of an emoji or an
    accented letter split across pieces, or a byte-fallback piece); its "text" is then "".
    """
    item = {"piece": piece, "id": int(token_id), "text": "", "special": special, "bytes": False, "note": ""}
    if special:
        item["note"] = f"special token: {role}" + (f" (here: {covered!r})" if covered.strip() else "")
        return item
    raw = None
    fallback = BYTE_FALLBACK.match(piece)
    if fallback:
        raw = bytes([int(fallback.group(1), 16)])
    elif kind == "byte-level BPE":
        raw = byte_level_bytes(piece)
    if raw is not None:
        try:
            item["text"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            item["bytes"] = True
            item["note"] = partial_note(raw, covered)
            return item
    else:
        item["text"] = piece[2:] if kind == "WordPiece" and piece.startswith("##") else piece.replace("▁", " ")
    if kind == "WordPiece" and piece.startswith("##"):
        item["note"] = "continues the word before it"
    elif item["text"].startswith(" ") and piece[:1] in ("Ġ", "▁"):
        item["note"] = f"{piece[:1]} = a space before the piece"
    return item


def partial_note(raw: bytes, covered: str) -> str:
    """A sentence for a piece holding part of a character's UTF-8 bytes, naming the character."""
    hexes = " ".join(f"{b:02X}" for b in raw)
    characters = [ch for ch in covered if ord(ch) > 127]
    if not characters:
        return f"bytes {hexes}: part of a character's UTF-8 bytes, split across pieces"
    ch = characters[0]
    return (f"bytes {hexes}: part of {ch!r} (U+{ord(ch):04X}, {len(ch.encode('utf-8'))} bytes in UTF-8), "
            "split across pieces")


def covered_text(text: str, offsets: tuple[int, int] | None) -> str:
    if not offsets:
        return ""
    start, end = offsets
    return text[start:end]
