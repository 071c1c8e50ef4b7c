"""CLIP: zero-shot labels, search by text, captions by image; the gallery embedding cache (in the model's
bundle, counted here with the test's own hook on the vision tower); the endpoints."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest

from pipelines.core.errors import UserInputError
from pipelines.tasks import clip_retrieval as clip
from tests.conftest import ASSETS, ForwardPasses, tiny_settings

APP_TASKS = ["clip"]
IMAGES = ASSETS / "images"
BAD = IMAGES / "bad"
B32, B16 = "openai/clip-vit-base-patch32", "openai/clip-vit-base-patch16"
CAT = IMAGES / "cat.png"


@pytest.fixture(scope="module")
def clip_models(models):
    return models.task("clip")


@pytest.mark.parametrize("repo_id, patch", [(B32, 32), (B16, 16)])
def test_miniatures_have_the_real_classes_tokenizer_and_fields(clip_models, repo_id, patch):
    bundle = clip_models.bundle(repo_id)
    assert type(bundle.model).__name__ == "CLIPModel" and bundle.family == "vision"
    assert type(bundle.processor).__name__ == "CLIPProcessor"
    assert type(bundle.processor.image_processor).__name__ == "CLIPImageProcessorPil"
    assert isinstance(bundle.extras[clip.EMBEDDINGS], clip.ImageEmbeddingCache)
    ids = bundle.tokenizer("a photo of a cat")["input_ids"]
    assert ids == [49406, 320, 1125, 539, 320, 2368, 49407]  # the real CLIP BPE
    vision, text = bundle.model.config.vision_config, bundle.model.config.text_config
    assert (vision.image_size, vision.patch_size) == (224, patch)
    assert (text.vocab_size, text.max_position_embeddings) == (49408, 77)


def test_parse_choices_strips_dedupes_and_counts():
    assert clip.parse_choices(" cat, dog ,, Cat,\n car ,") == ["cat", "dog", "car"]
    assert clip.parse_choices("a cat\n\na dog\na cat", "captions", sep="\n") == ["a cat", "a dog"]
    for text, words in [("", "at least 2"), ("cat, cat", "at least 2"),
                        (",".join(map(str, range(51))), "at most 50"),
                        ("cat, " + "x" * 301, "at most 300 characters")]:
        with pytest.raises(UserInputError, match=words):
            clip.parse_choices(text)


def test_zero_shot_probabilities_sum_to_one_and_use_the_template(clip_models):
    probs = clip.zero_shot(clip_models, CAT, "cat, dog, car, Dog, ")
    assert list(probs) == sorted(probs, key=probs.get, reverse=True)
    assert set(probs) == {"cat", "dog", "car"}
    assert abs(sum(probs.values()) - 1) < 1e-5 and all(0 < p < 1 for p in probs.values())
    assert clip.zero_shot(clip_models, CAT, "cat, dog, car") == probs  # deterministic
    bare = clip.zero_shot(clip_models, CAT, "cat, dog, car", "{label}")
    assert any(abs(bare[k] - probs[k]) > 1e-6 for k in probs)  # the template reaches the model


@pytest.mark.parametrize("kwargs, words", [
    (dict(labels="cat"), "at least 2 different labels"),
    (dict(labels=" , ,"), "at least 2 different labels"),
    (dict(labels="cat, dog", template="a photo of a thing"), "must contain {label}"),
    (dict(image=None), "No image was given"),
    (dict(image=BAD / "truncated.jpg"), "damaged"),
    (dict(image=BAD / "not_an_image.png"), "not an image"),
])
def test_zero_shot_bad_inputs(clip_models, kwargs, words):
    args = dict(image=CAT, labels="cat, dog", template=clip.DEFAULT_TEMPLATE) | kwargs
    with pytest.raises(UserInputError, match=words):
        clip.zero_shot(clip_models, args["image"], args["labels"], args["template"])


def test_rank_captions_sorted_and_summing_to_one(clip_models):
    probs = clip.rank_captions(clip_models, IMAGES / "dog_park.jpg", "a dog in a park\na cat\n\na red car\n")
    assert set(probs) == {"a dog in a park", "a cat", "a red car"}
    assert list(probs.values()) == sorted(probs.values(), reverse=True)
    assert abs(sum(probs.values()) - 1) < 1e-5
    with pytest.raises(UserInputError, match="at least 2 different captions"):
        clip.rank_captions(clip_models, CAT, "only one caption")


def test_search_ranks_every_gallery_picture_once(clip_models, tmp_path):
    copy = shutil.copy(CAT, tmp_path / "same_cat.png")  # same bytes as a bundled picture: listed once
    extra = shutil.copy(BAD / "rgba.png", tmp_path / "mine.png")
    hits = clip.search_images(clip_models, "a dog in a park", [str(copy), str(extra)])
    bundled = clip.bundled_gallery()
    assert len(bundled) >= 6
    assert sorted(h.name for h in hits) == sorted([p.name for p in bundled] + ["mine.png"])
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    assert all(-1 <= h.similarity <= 1 for h in hits)
    assert abs(sum(h.probability for h in hits) - 1) < 1e-5
    only_mine = clip.search_images(clip_models, "a cat", [str(extra)], include_bundled=False)
    assert [h.name for h in only_mine] == ["mine.png"] and abs(only_mine[0].probability - 1) < 1e-6


@pytest.mark.parametrize("query, extra, bundled, words", [
    ("   ", [], True, "Type what to look for"),
    ("a cat", [], False, "gallery is empty"),
    ("a cat", [BAD / "not_an_image.png"], True, "“not_an_image.png” is not an image"),
    ("a cat", [BAD / "truncated.jpg"], False, "damaged"),
    ("a cat", ["/no/such/file.png"], True, "was not found"),
])
def test_search_bad_inputs(clip_models, query, extra, bundled, words):
    with pytest.raises(UserInputError, match=words):
        clip.search_images(clip_models, query, [str(p) for p in extra], bundled)


def test_gallery_embeddings_are_computed_once_and_again_only_when_the_gallery_changes(tmp_path):
    from pipelines.core.loading import ModelManager

    models = ModelManager(tiny_settings()).task("clip")  # a fresh bundle: its cache starts empty
    embedded = ForwardPasses(models.bundle().model.vision_model)
    n = len(clip.bundled_gallery())
    try:
        clip.search_images(models, "a cat")
        assert embedded.items == n
        clip.search_images(models, "a red car")
        clip.search_images(models, "a house")
        assert embedded.items == n  # unchanged gallery: only the queries were embedded
        added = shutil.copy(BAD / "grayscale.png", tmp_path / "gray.png")
        clip.search_images(models, "a cat", [str(added)])
        assert embedded.items == n + 1  # one new picture: one new embedding
        (tmp_path / "gray.png").write_bytes((BAD / "cmyk.jpg").read_bytes())  # same name, new content
        clip.search_images(models, "a cat", [str(added)])
        assert embedded.items == n + 2
        assert len(models.bundle().extras[clip.EMBEDDINGS]) == n + 2
        other = ForwardPasses(models.bundle(B16).model.vision_model)
        clip.search_images(models, "a cat", model_id=B16)  # another model: its own bundle and cache
        assert other.items == n and embedded.items == n + 2
        other.remove()
    finally:
        embedded.remove()


def test_embedding_cache_is_bounded_and_computes_each_key_once_under_threads():
    cache = clip.ImageEmbeddingCache(max_items=3)
    calls = []

    def compute(keys):
        calls.append(list(keys))
        return [f"emb-{k}" for k in keys]

    keys = [str(i) for i in range(3)]
    threads = [threading.Thread(target=cache.get_many, args=(keys, compute)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [keys]
    assert cache.get_many(["0", "3"], compute) == ["emb-0", "emb-3"]
    assert len(cache) == 3 and calls[-1] == ["3"]
    cache.get_many(["1"], compute)  # "1" was the least recently used: it was dropped
    assert calls[-1] == ["1"] and sum(map(len, calls)) == 5


def test_file_hashes_are_remembered_per_file_version(tmp_path, monkeypatch):
    """Each search re-lists the bundled pictures: their bytes are hashed once, not on every request."""
    import hashlib

    cache, hashed = clip.ImageEmbeddingCache(), []
    real = hashlib.sha256
    monkeypatch.setattr(clip.hashlib, "sha256", lambda data: hashed.append(len(data)) or real(data))
    path = Path(shutil.copy(CAT, tmp_path / "cat.png"))
    first = cache.digest(path)
    assert cache.digest(path) == first and len(hashed) == 1
    path.write_bytes((BAD / "rgba.png").read_bytes())  # a new version: size and mtime change
    assert cache.digest(path) != first and len(hashed) == 2


# ---- the app through gradio_client -------------------------------------------------------------

def _file(path):
    from gradio_client import handle_file

    return handle_file(str(path)) if path else None


def test_zero_shot_endpoint(client):
    label, status = client.predict(_file(CAT), "cat, dog, car", api_name="/zero_shot_image")
    confidences = [c["confidence"] for c in label["confidences"]]
    assert {c["label"] for c in label["confidences"]} == {"cat", "dog", "car"}
    assert abs(sum(confidences) - 1) < 1e-4 and "CLIP ViT-B/32" in status


def test_search_endpoint_with_an_upload(client):
    pictures, table, status = client.predict("a dog in a park", [_file(BAD / "rgba.png")],
                                             api_name="/search_images")
    names = [row[1] for row in table["data"]]
    assert sorted(names) == sorted([p.name for p in clip.bundled_gallery()] + ["rgba.png"])
    assert [row[0] for row in table["data"]] == list(range(1, len(names) + 1))
    assert [row[2] for row in table["data"]] == sorted((row[2] for row in table["data"]), reverse=True)
    assert len(pictures) == len(names) and pictures[0]["caption"].startswith(f"1. {names[0]}")
    assert f"{len(names)} pictures ranked" in status


def test_rank_captions_endpoint(client):
    label, _ = client.predict(_file(CAT), "a cat\na dog in a park\na red car", api_name="/rank_captions")
    assert len(label["confidences"]) == 3 and label["label"] == label["confidences"][0]["label"]


@pytest.mark.parametrize("api_name, args, words", [
    ("/zero_shot_image", (None, "cat, dog"), "No image was given"),
    ("/zero_shot_image", (BAD / "not_an_image.png", "cat, dog"), "is not an image"),
    ("/zero_shot_image", (BAD / "truncated.jpg", "cat, dog"), "damaged"),
    ("/zero_shot_image", (CAT, ""), "at least 2 different labels"),
    ("/zero_shot_image", (CAT, "cat"), "at least 2 different labels"),
    ("/zero_shot_image", (CAT, "cat, dog", "a photo"), "must contain {label}"),
    ("/zero_shot_image", (CAT, "cat, dog", "{label}", "no/such-model"), "Unknown model"),
    ("/search_images", ("",), "Type what to look for"),
    ("/search_images", ("a cat", None, False), "gallery is empty"),
    ("/search_images", ("a cat", [BAD / "not_an_image.png"]), "is not an image"),
    ("/rank_captions", (CAT, "one caption"), "at least 2 different captions"),
    ("/rank_captions", (None, "a\nb"), "No image was given"),
])
def test_endpoint_bad_inputs_reach_the_client_and_the_app_keeps_serving(client, api_name, args, words):
    from gradio_client.exceptions import AppError

    def upload(arg):  # Paths become uploads, lists of Paths lists of uploads; text stays text
        if isinstance(arg, list):
            return [upload(a) for a in arg]
        return _file(arg) if hasattr(arg, "suffix") else arg

    with pytest.raises(AppError, match=re.escape(words)):
        client.predict(*[upload(a) for a in args], api_name=api_name)
    label, _ = client.predict(_file(CAT), "cat, dog", api_name="/zero_shot_image")
    assert len(label["confidences"]) == 2


def test_include_examples_sent_as_text_is_read_as_a_yes_or_no(client):
    """The search event takes its inputs as sent (preprocess=False): "false" must not count as true."""
    with pytest.raises(Exception, match="The gallery is empty"):  # "false": no example pictures, no uploads
        client.predict("a dog", [], "false", api_name="/search_images")
    with pytest.raises(Exception, match="Include the example pictures must be true or false; got 'maybe'"):
        client.predict("a dog", [], "maybe", api_name="/search_images")
