"""CLIP: images and texts in one embedding space, for zero-shot labels and search both ways.

    models = ModelManager(Settings(model_source="tiny")).task("clip")
    clip.zero_shot(models, "assets/images/cat.png", "cat, dog, car")     # {"cat": 0.93, "dog": ...}
    clip.search_images(models, "a dog in a park")                        # [GalleryHit, ...] best first
    clip.rank_captions(models, "assets/images/cat.png", "a cat\na car")  # {"a cat": 0.9, ...}

Each is check_...() then run(): `check_zero_shot` and `check_captions` give a `TextsForImage` (run
returns {text: probability}), `check_search` a `GallerySearch` (run returns GalleryHits).

Scores: `similarity` is the cosine between the two embeddings (CLIP's raw match, -1..1, typically
0.15-0.35 for a good match); `probability` is the softmax of CLIP's logits (cosine x the learned
logit scale) over the candidates given, so it sums to 1 and says "which of these", not "how well".

Gallery embeddings are cached per picture in the model's bundle (extras[EMBEDDINGS]), keyed by the
SHA-256 of the file's bytes: a second search costs one text embedding, and adding a picture to the
gallery embeds only that picture. The cache lives and dies with the loaded model.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.core import checks
from pipelines.core.bundle import Bundle, LoadRequest, load_pretrained
from pipelines.core.checks import Progress, no_progress
from pipelines.core.errors import UserInputError
from pipelines.miniatures import ASSETS
from pipelines.readers.images import describe_source, open_image

DEFAULT_TEMPLATE = "a photo of a {label}"
INCLUDE_BUNDLED = True  # search ranks the example pictures too, not only uploads
MIN_CHOICES, MAX_CHOICES = 2, 50  # softmax over one label is always 1: meaningless
MAX_CHOICE_CHARS = 300  # CLIP reads 77 tokens (about 300 characters) of each text
MAX_GALLERY = 100  # images ranked per search (bundled plus uploaded); each costs a forward on first use
GALLERY = ASSETS / "images"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")
EMBED_BATCH = 16
EMBEDDINGS = "image_embeddings"  # the key of the model's ImageEmbeddingCache in bundle.extras


class ImageEmbeddingCache:
    """Normalised image embeddings by content hash, least recently used dropped first; and the hash of
    each file version (path, size, mtime), so that the bundled pictures are not re-read on every search."""

    def __init__(self, max_items: int = 2048):  # 2048 x 512 floats = 4 MB for the real models
        self.max_items = max_items
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._digests: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self._lock = threading.Lock()  # guards _items and _digests
        self._compute_lock = threading.Lock()  # one gallery computation at a time: no duplicate work

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def digest(self, path: Path) -> str:
        stat = path.stat()
        version = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if version in self._digests:
                self._digests.move_to_end(version)
                return self._digests[version]
        found = hashlib.sha256(path.read_bytes()).hexdigest()
        with self._lock:
            self._digests[version] = found
            while len(self._digests) > 2 * self.max_items:
                self._digests.popitem(last=False)
        return found

    def get_many(self, keys: list[str], compute) -> list:
        """Embeddings for `keys`; `compute(missing_keys)` returns those not cached yet, in order."""
        with self._compute_lock:
            with self._lock:
                missing = [k for k in dict.fromkeys(keys) if k not in self._items]
            fresh = compute(missing) if missing else []
            with self._lock:
                for key, emb in zip(missing, fresh):
                    self._items[key] = emb
                found = [self._items[k] for k in keys]
                for key in keys:
                    self._items.move_to_end(key)
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
        return found


@dataclass(frozen=True)
class TextsForImage:
    """A checked zero-shot or caption request: which of `names` fits the picture best."""
    picture: Any  # an RGB PIL image
    names: tuple[str, ...]  # what the result calls each candidate (a label, a caption)
    prompts: tuple[str, ...]  # what CLIP reads for each (the label in its template, the caption)
    model_id: str


@dataclass(frozen=True)
class GallerySearch:
    query: str
    paths: tuple[str, ...]  # files that exist; the same bytes under two names are ranked once
    model_id: str


@dataclass(frozen=True)
class GalleryHit:
    path: str
    name: str
    similarity: float
    probability: float


def load(request: LoadRequest) -> Bundle:
    from transformers import CLIPModel, CLIPProcessor

    # The PIL image processor on purpose: torchvision does not import beside our torch.
    return load_pretrained(request, CLIPModel, CLIPProcessor, processor_kwargs={"backend": "pil"},
                           extras={EMBEDDINGS: ImageEmbeddingCache()})


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
    template = str(template or "").strip() or DEFAULT_TEMPLATE
    if "{label}" not in template:
        raise UserInputError(f"The prompt template must contain {{label}} where each label goes, "
                             f"for example: {DEFAULT_TEMPLATE}")
    return template


def check_zero_shot(models, image, labels, template: str = DEFAULT_TEMPLATE,
                    model_id: str | None = None) -> TextsForImage:
    choices, template = parse_choices(labels, "labels"), check_template(template)
    prompts = tuple(template.replace("{label}", label) for label in choices)
    return TextsForImage(open_image(image), tuple(choices), prompts, models.checkpoint(model_id).repo_id)


def check_captions(models, image, captions, model_id: str | None = None) -> TextsForImage:
    choices = tuple(parse_choices(captions, "captions", sep="\n"))
    return TextsForImage(open_image(image), choices, choices, models.checkpoint(model_id).repo_id)


@functools.cache
def bundled_gallery() -> tuple[Path, ...]:
    """The example pictures shipped in assets/images (the awkward fixtures in bad/ excluded): listed once,
    they do not change while the app runs."""
    if not GALLERY.is_dir():
        return ()
    return tuple(sorted(p for p in GALLERY.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))


def check_search(models, query: str, extra_images=(), include_bundled: bool = INCLUDE_BUNDLED,
                 model_id: str | None = None) -> GallerySearch:
    query = checks.text("query", query, models.settings.max_input_chars,
                        empty="Type what to look for, for example: a dog in a park")
    repo_id = models.checkpoint(model_id).repo_id
    include_bundled = checks.yes_no("Include the example pictures", include_bundled)
    sources = [*(bundled_gallery() if include_bundled else ()), *(p for p in (extra_images or []) if p)]
    for source in sources:
        if not Path(source).is_file():
            raise UserInputError(f"The gallery file “{Path(source).name}” was not found. Upload it again.")
    if not sources:
        raise UserInputError("The gallery is empty: include the example pictures or upload some images.")
    return GallerySearch(query, tuple(str(p) for p in sources), repo_id)


def run(models, request: TextsForImage | GallerySearch, progress: Progress = no_progress):
    """{name: probability} best first for a TextsForImage; GalleryHits best first for a GallerySearch."""
    if models.remote and isinstance(request, TextsForImage):  # labels and captions: an Inference Endpoint
        from pipelines.remote import hf_endpoint  # (gallery search has no standard protocol: it runs here)

        return hf_endpoint.zero_shot(models, request)
    clip = models.bundle(request.model_id)
    if isinstance(request, GallerySearch):
        return _search(clip, request, progress)
    image_emb = _embed_images(clip, [request.picture])
    probs = ((image_emb @ _embed_texts(clip, list(request.prompts)).T) * _logit_scale(clip)).softmax(dim=-1)
    return dict(sorted(zip(request.names, probs[0].tolist()), key=lambda kv: -kv[1]))


def zero_shot(models, image, labels, template: str = DEFAULT_TEMPLATE,
              model_id: str | None = None) -> dict[str, float]:
    """Probability of each label for the picture (summing to 1), best first."""
    return run(models, check_zero_shot(models, image, labels, template, model_id))


def rank_captions(models, image, captions, model_id: str | None = None) -> dict[str, float]:
    """The captions (one per line) ranked by how well they describe the picture, best first."""
    return run(models, check_captions(models, image, captions, model_id))


def search_images(models, query: str, extra_images=(), include_bundled: bool = INCLUDE_BUNDLED,
                  model_id: str | None = None, progress: Progress = no_progress) -> list[GalleryHit]:
    """Every gallery picture once (same bytes count once), best match for `query` first."""
    return run(models, check_search(models, query, extra_images, include_bundled, model_id), progress)


def _search(clip: Bundle, request: GallerySearch, progress: Progress) -> list[GalleryHit]:
    import torch

    cache: ImageEmbeddingCache = clip.extras[EMBEDDINGS]
    unique: dict[str, str] = {}  # content hash -> the first path with it
    for path in request.paths:
        unique.setdefault(cache.digest(Path(path)), path)
    if len(unique) > MAX_GALLERY:
        raise UserInputError(f"The gallery has {len(unique)} images; the limit is {MAX_GALLERY}. Upload fewer.")

    def compute(missing: list[str]):
        pictures = [open_image(unique[d], describe_source(unique[d])) for d in missing]
        return list(_embed_images(clip, pictures, progress))

    image_embs = torch.stack(cache.get_many(list(unique), compute))
    similarity = (_embed_texts(clip, [request.query]) @ image_embs.T)[0]
    probability = (similarity * _logit_scale(clip)).softmax(dim=-1)
    hits = [GalleryHit(path, Path(path).name, float(s), float(p))
            for path, s, p in zip(unique.values(), similarity.tolist(), probability.tolist())]
    return sorted(hits, key=lambda h: -h.similarity)


def _embed_images(clip: Bundle, pictures: list, progress: Progress = no_progress):
    """L2-normalised image embeddings, one row per picture."""
    import torch

    rows, n = [], len(pictures)
    for start in range(0, n, EMBED_BATCH):
        progress(start / n, f"Embedding pictures {start + 1}-{min(start + EMBED_BATCH, n)} of {n}")
        inputs = clip.processor.image_processor(images=pictures[start:start + EMBED_BATCH], return_tensors="pt")
        pixels = inputs["pixel_values"].to(clip.device, dtype=clip.model.dtype)
        with torch.inference_mode():
            rows.append(clip.model.get_image_features(pixel_values=pixels).pooler_output.float())
    return torch.nn.functional.normalize(torch.cat(rows), dim=-1)


def _embed_texts(clip: Bundle, texts: list[str]):
    import torch

    # CLIP reads at most 77 tokens: longer texts are cut, as the transformers pipeline does.
    inputs = clip.tokenizer(texts, padding=True, truncation=True, max_length=77, return_tensors="pt")
    with torch.inference_mode():
        emb = clip.model.get_text_features(**inputs.to(clip.device)).pooler_output.float()
    return torch.nn.functional.normalize(emb, dim=-1)


def _logit_scale(clip: Bundle) -> float:
    return float(clip.model.logit_scale.detach().float().exp())  # learned: 100 in the real models
