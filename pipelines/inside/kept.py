"""What a task's run computed that its "Look inside" needs again, kept beside the model for the last few runs.

"Look inside" explains the result just shown, with the model that computed it: recomputing the expensive
part of the run would cost the person much of the run's time a second time (DistilBART's encoder over a
600-token article, every window of a long QA context, Whisper's encoder over each 30 s window). So the
run keeps that part here and the view reads it back (the goal: about 1 s on 2 CPU cores):
- summarization and speech: the encoder's output, for each input the encoder read during the run
  (`keeping_encoder_outputs`), looked up by that input (token ids, log-mel features);
- question answering: the start and end logits of every window, by the question and the context;
- translation: which sentence became which part of the translation (the view cannot always tell by cutting
  the translation into sentences again: two sentences may come back as one).

Kept in the model's `bundle.extras` (gone when the model is unloaded), at most MAX_ENTRIES values and
MAX_BYTES, least recently used dropped first. A key is a digest of everything that decides the value (the
encoder's input itself, the texts), so a key never names two different values: concurrent requests
cannot read each other's values, and two runs of the same input write equal ones. A miss (evicted, a
fresh server, a ZeroGPU worker that ran elsewhere) is recomputed by the view: the values are the same
either way, only slower. A kept value is never changed: a reader copies before changing it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from contextlib import contextmanager

KEY = "inside_kept"  # bundle.extras key of the model's Kept store
# The view is opened under the result just shown: the last few runs are enough. A translation keeps one
# entry per sentence (the letter example: 9), so a few runs of one are dozens of entries (MAX_BYTES rules).
MAX_ENTRIES = 64
MAX_BYTES = 64 * 2**20  # a 1,024-token BART encoder output is 4 MB, a Whisper window's 3 MB, QA logits KBs
# Kinds of value, each with the parts of its key:
ENCODER_OUTPUT = "encoder output"  # (encoder input,): its last hidden state, (1, positions, width)
QA_LOGITS = "qa logits"  # (question, context, window length): (start logits, end logits), (windows, tokens)
# (model input text, the text it became): ((segment, its translation), ...) as translation cut and decoded it
SEGMENT_PAIRS = "segment pairs"


class Kept:
    """Values by key, the least recently used dropped first beyond `max_entries` or `max_bytes`."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, value) -> None:
        size = nbytes(value)
        if size > self.max_bytes:
            return  # one enormous value would evict everything else and still not fit
        with self._lock:
            self._items[key] = (value, size)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries or sum(s for _, s in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)

    def get(self, key: str):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def __len__(self) -> int:
        return len(self._items)


def keep(bundle, kind: str, parts: tuple, value) -> None:
    """Keep `value` for the model of `bundle`, under `kind` and the digest of `parts`."""
    bundle.extras.setdefault(KEY, Kept()).put(digest(kind, *parts), value)


def recall(bundle, kind: str, parts: tuple):
    """What `keep` kept for these parts, or None."""
    store = bundle.extras.get(KEY)
    return None if store is None else store.get(digest(kind, *parts))


@contextmanager
def keeping_encoder_outputs(bundle, input_name: str):
    """While inside: each pass of the model's encoder over one input (a batch of one: no padding) keeps its
    output, by that input (the encoder's `input_name` argument). A forward hook, because `generate` runs
    the encoder itself. Another request's passes meanwhile are kept too: harmless, keys are the inputs."""
    def hook(module, args, kwargs, output):
        inputs = args[0] if args else kwargs.get(input_name)
        if inputs is None:
            return
        # On the CPU: on ZeroGPU the GPU is lent for one call, and a few MB copy in about a millisecond.
        if inputs.shape[0] == 1:
            keep(bundle, ENCODER_OUTPUT, (inputs,), output[0].to("cpu"))
            return
        mask = kwargs.get("attention_mask")
        if mask is None or inputs.dtype.is_floating_point:
            return  # a batch of features (audio) has no padding to take off: not kept
        # A batch (translation's sentences): each row without its padding, by its own ids. The padding is
        # masked, so its real positions hold what the encoder gives for the row alone (to float rounding).
        for b, real in enumerate(mask.bool()):
            keep(bundle, ENCODER_OUTPUT, (inputs[b][real].unsqueeze(0),), output[0][b][real].unsqueeze(0).to("cpu"))

    handle = bundle.model.get_encoder().register_forward_hook(hook, with_kwargs=True)
    try:
        yield
    finally:
        handle.remove()


def encoder_output(bundle, inputs):
    """The encoder's kept output (1, positions, width) for `inputs` (a batch of one), on the model's device, or None."""
    hidden = recall(bundle, ENCODER_OUTPUT, (inputs,))
    return None if hidden is None else hidden.to(bundle.device)


def encoder_outputs(bundle, input_ids, attention_mask):
    """The kept outputs of a padded batch (batch, positions, width), each row looked up by its ids without
    the padding, zeros at the padding (masked out by the decoder's cross-attention); None unless all are kept."""
    import torch

    rows = []
    for b, real in enumerate(attention_mask.bool()):
        hidden = encoder_output(bundle, input_ids[b][real].unsqueeze(0).to("cpu"))
        if hidden is None:
            return None
        rows.append((real, hidden[0]))
    width = rows[0][1].shape[-1]
    batch = torch.zeros(len(rows), input_ids.shape[1], width, dtype=rows[0][1].dtype, device=bundle.device)
    for b, (real, hidden) in enumerate(rows):
        batch[b][real.to(bundle.device)] = hidden
    return batch


def digest(*parts) -> str:
    """A digest of strings, numbers, lists and tensors or arrays (by dtype, shape and bytes), told apart by type."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        if hasattr(part, "detach"):  # a torch tensor: its bytes, whatever the dtype (bfloat16 has no numpy)
            flat = part.detach().to("cpu").contiguous().reshape(-1)
            data = f"{part.dtype}{tuple(part.shape)}".encode() + flat.view(dtype=_uint8()).numpy().tobytes()
        elif hasattr(part, "tobytes"):  # a numpy array
            data = f"{part.dtype}{part.shape}".encode() + part.tobytes()
        elif isinstance(part, str):
            data = part.encode("utf-8")
        else:
            data = repr(part).encode()
        h.update(f"{type(part).__name__}:{len(data)}:".encode())
        h.update(data)
    return h.hexdigest()


def _uint8():
    import torch

    return torch.uint8


def nbytes(value) -> int:
    """Bytes held by tensors and arrays in `value` (nested in tuples, lists and dicts)."""
    if hasattr(value, "element_size") and hasattr(value, "numel"):
        return value.element_size() * value.numel()
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    if isinstance(value, str):
        return len(value)
    return 0
