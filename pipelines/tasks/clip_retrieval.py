"""CLIP: images and texts in one embedding space, for zero-shot labels and search both ways.

    from pipelines.tasks import clip_retrieval as clip
    clip.zero_shot(models, "assets/images/cat.png", "cat, dog, car")     # {"cat": 0.93, "dog": ...}
    clip.search_images(models, "a dog in a park")                        # [GalleryHit, ...] best first
    clip.rank_captions(models, "assets/images/cat.png", "a cat\na car")  # {"a cat": 0.9, ...}

Scores: `similarity` is the cosine between the two embeddings (CLIP's raw match, -1..1, typically
0.15-0.35 for a good match); `probability` is the softmax of CLIP's logits (cosine x the learned
logit scale) over the candidates given, so it sums to 1 and says "which of these", not "how well".

Gallery embeddings are cached per picture in the bundle (`ImageEmbeddingCache`), keyed by the model and
the SHA-256 of the file's bytes: a second search costs one text embedding, and adding a picture to the
gallery embeds only that picture. The cache lives and dies with the loaded model.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.checks import check_length
from pipelines.core.errors import UserInputError
from pipelines.core.loading import LoadRequest
from pipelines.miniatures import ASSETS
from pipelines.readers.images import describe_source, open_image

TASK_ID = "clip"
DEFAULT_TEMPLATE = "a photo of a {label}"
MIN_CHOICES, MAX_CHOICES = 2, 50  # softmax over one label is always 1: meaningless
MAX_CHOICE_CHARS = 300  # CLIP reads 77 tokens (about 300 characters) of each text
MAX_GALLERY = 100  # images ranked per search (bundled plus uploaded); each costs a forward on first use
GALLERY = ASSETS / "images"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")
EMBED_BATCH = 16


class ImageEmbeddingCache:
    """Normalised image embeddings by (model id, content hash); least recently used dropped first."""

    def __init__(self, max_items: int = 2048):  # 2048 x 512 floats = 4 MB for the real models
        self.max_items = max_items
        self.computed = 0  # embeddings computed so far (tests count these)
        self._items: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()  # guards _items and computed
        self._compute_lock = threading.Lock()  # one gallery computation at a time: no duplicate work

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def get_many(self, keys: list[tuple[str, str]], compute) -> list:
        """Embeddings for `keys`; `compute(missing_keys)` returns those not cached yet, in order."""
        with self._compute_lock:
            with self._lock:
                missing = [k for k in dict.fromkeys(keys) if k not in self._items]
            fresh = compute(missing) if missing else []
            with self._lock:
                for key, emb in zip(missing, fresh):
                    self._items[key] = emb
                self.computed += len(missing)
                found = [self._items[k] for k in keys]
                for key in keys:
                    self._items.move_to_end(key)
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
        return found


@dataclass
class ClipBundle:
    model: object  # CLIPModel
    processor: object  # CLIPProcessor (CLIPTokenizerFast + CLIPImageProcessorPil)
    device: str
    repo_id: str
    gallery: ImageEmbeddingCache = field(default_factory=ImageEmbeddingCache)


@dataclass(frozen=True)
class GalleryHit:
    path: str
    name: str
    similarity: float
    probability: float


def load(request: LoadRequest) -> ClipBundle:
    from transformers import CLIPImageProcessorPil, CLIPModel, CLIPProcessor, CLIPTokenizerFast

    loc = request.location
    # The PIL image processor on purpose: torchvision does not import beside our torch.
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessorPil.from_pretrained(loc.source, **loc.pretrained_kwargs),
        tokenizer=CLIPTokenizerFast.from_pretrained(loc.source, **loc.pretrained_kwargs),
    )
    model = CLIPModel.from_pretrained(loc.source, dtype=request.placement.dtype, **loc.pretrained_kwargs)
    model.to(request.placement.device).eval()
    return ClipBundle(model, processor, request.placement.device, request.checkpoint.repo_id)


def parse_choices(text, what: str = "labels", sep: str = ",") -> list[str]:
    """Split, strip, drop empties and case-insensitive repeats; check there are 2 to MAX_CHOICES."""
    parts = text if isinstance(text, (list, tuple)) else str(text or "").replace("\n", sep).split(sep)
    unique: dict[str, str] = {}
    for part in (str(p).strip() for p in parts):
        if part and part.lower() not in unique:
            unique[part.lower()] = part
    choices = list(unique.values())
    example = "cat, dog, car" if sep == "," else "one caption per line"
    if len(choices) < MIN_CHOICES:
        raise UserInputError(f"Give at least {MIN_CHOICES} different {what} ({example}): CLIP compares "
                             f"them with each other; got {len(choices)}.")
    if len(choices) > MAX_CHOICES:
        raise UserInputError(f"Give at most {MAX_CHOICES} {what}; got {len(choices)}.")
    longest = max(choices, key=len)
    if len(longest) > MAX_CHOICE_CHARS:
        raise UserInputError(f"Each of the {what} may have at most {MAX_CHOICE_CHARS} characters; "
                             f"“{longest[:40]}…” has {len(longest)}.")
    return choices


def check_template(template: str | None) -> str:
    template = (template or "").strip() or DEFAULT_TEMPLATE
    if "{label}" not in template:
        raise UserInputError(f"The prompt template must contain {{label}} where each label goes, "
                             f"for example: {DEFAULT_TEMPLATE}")
    return template


def zero_shot(models, image, labels, template: str = DEFAULT_TEMPLATE,
              model_id: str | None = None) -> dict[str, float]:
    """Probability of each label for the picture (summing to 1), best first."""
    choices = parse_choices(labels, "labels")
    template = check_template(template)
    picture = open_image(image)
    clip = models.get(TASK_ID, model_id).bundle
    prompts = [template.replace("{label}", label) for label in choices]
    return _ranked(choices, _softmax_rows(clip, _embed_images(clip, [picture]), _embed_texts(clip, prompts))[0])


def rank_captions(models, image, captions, model_id: str | None = None) -> dict[str, float]:
    """The captions (one per line) ranked by how well they describe the picture, best first."""
    choices = parse_choices(captions, "captions", sep="\n")
    picture = open_image(image)
    clip = models.get(TASK_ID, model_id).bundle
    return _ranked(choices, _softmax_rows(clip, _embed_images(clip, [picture]), _embed_texts(clip, choices))[0])


def bundled_gallery() -> list[Path]:
    """The example pictures shipped in assets/images (the awkward fixtures in bad/ excluded)."""
    if not GALLERY.is_dir():
        return []
    return sorted(p for p in GALLERY.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def search_images(models, query: str, extra_images=(), include_bundled: bool = True,
                  model_id: str | None = None) -> list[GalleryHit]:
    """Every gallery picture once (same bytes count once), best match for `query` first."""
    query = (query or "").strip()
    if not query:
        raise UserInputError("Type what to look for, for example: a dog in a park")
    check_length(query, models.settings.max_input_chars, "query")
    sources = (bundled_gallery() if include_bundled else []) + [p for p in (extra_images or []) if p]
    gallery = _unique_files(sources)
    if not gallery:
        raise UserInputError("The gallery is empty: include the example pictures or upload some images.")
    if len(gallery) > MAX_GALLERY:
        raise UserInputError(f"The gallery has {len(gallery)} images; the limit is {MAX_GALLERY}. "
                             "Upload fewer.")
    clip = models.get(TASK_ID, model_id).bundle
    keys = [(clip.repo_id, digest) for _, digest in gallery]
    paths = {digest: path for path, digest in gallery}

    def compute(missing):
        return list(_embed_images(clip, [open_image(paths[d], describe_source(paths[d])) for _, d in missing]))

    import torch

    image_embs = torch.stack(clip.gallery.get_many(keys, compute))
    text_emb = _embed_texts(clip, [query])
    similarity = (text_emb @ image_embs.T)[0]
    probability = (similarity * _logit_scale(clip)).softmax(dim=-1)
    hits = [GalleryHit(str(path), Path(path).name, float(s), float(p))
            for (path, _), s, p in zip(gallery, similarity.tolist(), probability.tolist())]
    return sorted(hits, key=lambda h: -h.similarity)


def _unique_files(sources) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for source in sources:
        path = Path(source)
        if not path.is_file():
            raise UserInputError(f"The gallery file “{path.name}” was not found. Upload it again.")
        stat = path.stat()
        seen.setdefault(_file_digest(str(path), stat.st_size, stat.st_mtime_ns), str(path))
    return [(path, digest) for digest, path in seen.items()]


@functools.lru_cache(maxsize=4096)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """Content hash, read once per file version: each search re-lists the bundled pictures, and
    re-reading them all would be I/O on every request for nothing."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _embed_images(clip: ClipBundle, pictures: list):
    """L2-normalised image embeddings, one row per picture."""
    import torch

    rows = []
    for start in range(0, len(pictures), EMBED_BATCH):
        inputs = clip.processor.image_processor(images=pictures[start:start + EMBED_BATCH], return_tensors="pt")
        pixels = inputs["pixel_values"].to(clip.device, dtype=clip.model.dtype)
        with torch.inference_mode():
            rows.append(clip.model.get_image_features(pixel_values=pixels).pooler_output.float())
    return torch.nn.functional.normalize(torch.cat(rows), dim=-1)


def _embed_texts(clip: ClipBundle, texts: list[str]):
    import torch

    # CLIP reads at most 77 tokens: longer texts are cut, as the transformers pipeline does.
    inputs = clip.processor.tokenizer(texts, padding=True, truncation=True, max_length=77, return_tensors="pt")
    with torch.inference_mode():
        emb = clip.model.get_text_features(**inputs.to(clip.device)).pooler_output.float()
    return torch.nn.functional.normalize(emb, dim=-1)


def _softmax_rows(clip: ClipBundle, image_embs, text_embs):
    """Per image, a probability over the texts (CLIP's logits_per_image, softmaxed)."""
    return ((image_embs @ text_embs.T) * _logit_scale(clip)).softmax(dim=-1).tolist()


def _logit_scale(clip: ClipBundle) -> float:
    return float(clip.model.logit_scale.detach().float().exp())  # learned: 100 in the real models


def _ranked(choices: list[str], probs: list[float]) -> dict[str, float]:
    return dict(sorted(zip(choices, probs), key=lambda kv: -kv[1]))
