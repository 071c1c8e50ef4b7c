"""Image classification: the ViT pipeline on its miniatures, the batched endpoint through gradio_client."""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.core.errors import PlaygroundError, UserInputError
from pipelines.tasks import image_classification as ic
from tests.conftest import ASSETS

APP_TASKS = ["image-classification"]
IMAGES = ASSETS / "images"
BAD = IMAGES / "bad"
VIT, DEIT = "google/vit-base-patch16-224", "facebook/deit-small-patch16-224"
ODD = ["animated.gif", "cmyk.jpg", "gray16.png", "grayscale.png", "rgba.png", "rotated_exif6.jpg",
       "tiny_8x8.png"]


@pytest.mark.parametrize("repo_id, processor", [(VIT, "ViTImageProcessorPil"), (DEIT, "DeiTImageProcessorPil")])
def test_miniatures_have_the_real_classes_and_fields(models, repo_id, processor):
    loaded = models.get(ic.TASK_ID, repo_id)
    clf = loaded.bundle
    assert loaded.location.kind == "miniature"
    assert type(clf.model).__name__ == "ViTForImageClassification"
    assert type(clf.processor).__name__ == processor  # PIL backend, the checkpoint's own processor type
    config = clf.model.config
    assert (config.image_size, config.patch_size, config.num_labels) == (224, 16, 1000)
    assert config.id2label[281] == "tabby, tabby cat" and config.id2label[0] == "tench, Tinca tinca"


def test_deit_resizes_then_crops_and_vit_squashes(models):
    from PIL import Image

    picture = Image.new("RGB", (224, 224), (255, 0, 0))
    picture.paste((0, 0, 255), (0, 0, 8, 224))  # a blue strip on the left edge
    vit = models.get(ic.TASK_ID, VIT).bundle.processor(images=[picture], return_tensors="pt")["pixel_values"]
    deit = models.get(ic.TASK_ID, DEIT).bundle.processor(images=[picture], return_tensors="pt")["pixel_values"]
    assert vit.shape == deit.shape == (1, 3, 224, 224)
    assert vit[0, 2, 112, 2] > 0.9  # ViT resizes to 224 and keeps the strip (mean/std 0.5: blue -> 1.0)
    assert deit[0, 2, 112, 2] < 0  # DeiT resizes to 256 and crops 16 pixels off each side: gone


def test_top5_sorted_probabilities_and_deterministic(models):
    scores = ic.classify(models, IMAGES / "cat.png")
    labels = set(models.get(ic.TASK_ID).bundle.model.config.id2label.values())
    values = list(scores.values())
    assert len(scores) == 5 and set(scores) <= labels
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= 1.0 for v in values) and sum(values) <= 1.0
    assert ic.classify(models, IMAGES / "cat.png") == scores


@pytest.mark.parametrize("top_k", [1, 3, 20])
def test_top_k(models, top_k):
    assert len(ic.classify(models, IMAGES / "dog_park.jpg", VIT, top_k)) == top_k


@pytest.mark.parametrize("top_k", [0, 21, "many", -1])
def test_top_k_out_of_range(models, top_k):
    with pytest.raises(UserInputError, match="Top-k must be a whole number from 1 to 20"):
        ic.classify(models, IMAGES / "cat.png", top_k=top_k)


@pytest.mark.parametrize("name", ODD)
def test_odd_pictures_are_classified(models, name):
    assert len(ic.classify(models, BAD / name)) == 5


@pytest.mark.parametrize("name, words", [("truncated.jpg", "damaged"), ("not_an_image.png", "not an image")])
def test_broken_pictures_raise_a_sentence(models, name, words):
    with pytest.raises(UserInputError, match=words):
        ic.classify(models, BAD / name)


def test_a_batch_with_one_bad_picture_fails_only_that_one(models):
    clf = models.get(ic.TASK_ID, VIT).bundle
    alone = [ic.classify(models, IMAGES / n, VIT) for n in ("cat.png", "fruit.jpg")]
    before = clf.forward_calls
    batch = [IMAGES / "cat.png", BAD / "not_an_image.png", IMAGES / "fruit.jpg"]
    results = ic.classify_batch(models, batch, VIT)
    assert clf.forward_calls == before + 1 and clf.recent_batch_sizes[-1] == 2  # one pass for the two good ones
    assert isinstance(results[1], UserInputError) and "not_an_image.png" in str(results[1])
    for got, expected in zip((results[0], results[2]), alone):
        assert list(got) == list(expected)
        assert all(abs(got[k] - expected[k]) < 1e-5 for k in got)


def test_a_batch_mixing_models_and_top_k(models):
    results = ic.classify_batch(models, [IMAGES / "cat.png"] * 4, [VIT, DEIT, "no/such-model", VIT],
                                [2, 5, 5, 50])
    assert len(results[0]) == 2 and len(results[1]) == 5
    assert isinstance(results[2], PlaygroundError) and "Unknown model" in str(results[2])
    assert isinstance(results[3], UserInputError) and "Top-k" in str(results[3])


# ---- the app through gradio_client -------------------------------------------------------------

def _classify(client, path, *args):
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)) if path else None, *args, api_name="/classify_image")


def test_endpoint_returns_top_classes(client):
    label, status = _classify(client, IMAGES / "dog_park.jpg")
    confidences = [c["confidence"] for c in label["confidences"]]
    assert len(confidences) == 5 and confidences == sorted(confidences, reverse=True)
    assert label["label"] == label["confidences"][0]["label"]
    assert "ViT base/16" in status and "miniature" in status
    label, status = _classify(client, IMAGES / "cat.png", DEIT, 3)
    assert len(label["confidences"]) == 3 and "DeiT small/16" in status


@pytest.mark.parametrize("path, args, words", [
    (BAD / "not_an_image.png", (), "“not_an_image.png” is not an image"),
    (BAD / "truncated.jpg", (), "“truncated.jpg” is damaged"),
    (None, (), "No image was given"),
    (IMAGES / "cat.png", ("no/such-model",), "Unknown model 'no/such-model'"),
    (IMAGES / "cat.png", (VIT, 99), "Top-k must be"),
])
def test_endpoint_bad_inputs_answer_with_a_sentence_and_the_app_keeps_serving(client, path, args, words):
    label, status = _classify(client, path, *args)
    assert words in label["label"] and label["confidences"] is None  # an error value, not a prediction
    assert status.startswith("⚠️") and words in status
    label, _ = _classify(client, IMAGES / "house.png")
    assert len(label["confidences"]) == 5


def test_concurrent_requests_share_one_forward_pass(client, app_server):
    """The first request holds the model (a hook waits on a gate) while three more queue up; Gradio
    then hands the three to the function as one batch: two forward passes serve four requests, and
    the bad picture in the batch fails alone."""
    from gradio_client import handle_file
    from gradio_client.utils import Status

    _classify(client, IMAGES / "cat.png")  # the model is loaded before we hold it
    clf = app_server.models.get(ic.TASK_ID).bundle
    entered, gate = threading.Event(), threading.Event()

    def hold(module, args):
        entered.set()
        gate.wait(30)

    hook = clf.model.register_forward_pre_hook(hold)
    before = clf.forward_calls
    try:
        first = client.submit(handle_file(str(IMAGES / "cat.png")), api_name="/classify_image")
        assert entered.wait(30), "the first request never reached the model"
        names = [IMAGES / "fruit.jpg", BAD / "not_an_image.png", IMAGES / "red_car.png"]
        rest = [client.submit(handle_file(str(p)), api_name="/classify_image") for p in names]
        deadline = time.monotonic() + 30
        while not all(job.status().code == Status.IN_QUEUE for job in rest):
            assert time.monotonic() < deadline, [job.status().code for job in rest]
            time.sleep(0.05)
    finally:
        gate.set()
        hook.remove()
    results = [job.result(timeout=60) for job in [first, *rest]]
    assert clf.forward_calls - before == 2
    assert list(clf.recent_batch_sizes)[-2:] == [1, 2]
    assert [r[0]["confidences"] is None for r in results] == [False, False, True, False]
    assert "not an image" in results[2][0]["label"]
    assert "batch of 3" in results[1][1] and "batch of 1" in results[0][1]
