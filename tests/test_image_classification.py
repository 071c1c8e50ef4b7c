"""Image classification: the ViT pipeline on its miniatures, forward passes shared by requests that wait
together, and the /classify_image endpoint through gradio_client (a bad picture fails alone)."""

from __future__ import annotations

import re
import threading
import time

import pytest

from pipelines.core.errors import UserInputError
from pipelines.tasks import image_classification as ic
from tests.conftest import ASSETS, ForwardPasses

APP_TASKS = ["image-classification"]
IMAGES = ASSETS / "images"
BAD = IMAGES / "bad"
VIT, DEIT = "google/vit-base-patch16-224", "facebook/deit-small-patch16-224"
ODD = ["animated.gif", "cmyk.jpg", "gray16.png", "grayscale.png", "rgba.png", "rotated_exif6.jpg",
       "tiny_8x8.png"]


@pytest.fixture(scope="module")
def ic_models(models):
    return models.task("image-classification")


def wait_until(condition, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("repo_id, processor", [(VIT, "ViTImageProcessorPil"), (DEIT, "DeiTImageProcessorPil")])
def test_miniatures_have_the_real_classes_and_fields(ic_models, repo_id, processor):
    loaded = ic_models.get(repo_id)
    clf = loaded.bundle
    assert loaded.location.kind == "miniature" and clf.family == "vision"
    assert type(clf.model).__name__ == "ViTForImageClassification"
    assert type(clf.processor).__name__ == processor  # PIL backend, the checkpoint's own processor type
    config = clf.model.config
    assert (config.image_size, config.patch_size, config.num_labels) == (224, 16, 1000)
    assert config.id2label[281] == "tabby, tabby cat" and config.id2label[0] == "tench, Tinca tinca"


def test_deit_resizes_then_crops_and_vit_squashes(ic_models):
    from PIL import Image

    picture = Image.new("RGB", (224, 224), (255, 0, 0))
    picture.paste((0, 0, 255), (0, 0, 8, 224))  # a blue strip on the left edge
    vit = ic_models.bundle(VIT).processor(images=[picture], return_tensors="pt")["pixel_values"]
    deit = ic_models.bundle(DEIT).processor(images=[picture], return_tensors="pt")["pixel_values"]
    assert vit.shape == deit.shape == (1, 3, 224, 224)
    assert vit[0, 2, 112, 2] > 0.9  # ViT resizes to 224 and keeps the strip (mean/std 0.5: blue -> 1.0)
    assert deit[0, 2, 112, 2] < 0  # DeiT resizes to 256 and crops 16 pixels off each side: gone


def test_top5_sorted_probabilities_and_deterministic(ic_models):
    result = ic.classify(ic_models, IMAGES / "cat.png")
    scores = result.scores
    labels = set(ic_models.bundle().model.config.id2label.values())
    values = list(scores.values())
    assert len(scores) == 5 and set(scores) <= labels and result.batch_size == 1
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= 1.0 for v in values) and sum(values) <= 1.0
    assert ic.classify(ic_models, IMAGES / "cat.png").scores == scores


@pytest.mark.parametrize("top_k", [1, 3, 20])
def test_top_k(ic_models, top_k):
    assert len(ic.classify(ic_models, IMAGES / "dog_park.jpg", VIT, top_k).scores) == top_k


@pytest.mark.parametrize("top_k", [0, 21, "many", -1, 2.5])
def test_top_k_out_of_range(ic_models, top_k):
    with pytest.raises(UserInputError, match=re.escape(f"Top-k must be a whole number from 1 to 20; got {top_k}.")):
        ic.check(ic_models, IMAGES / "cat.png", top_k=top_k)


def test_an_unknown_model_is_refused_before_any_loading(ic_models):
    with pytest.raises(UserInputError, match="Unknown model 'no/such-model'.*Choose one of"):
        ic.check(ic_models, IMAGES / "cat.png", "no/such-model")


@pytest.mark.parametrize("name", ODD)
def test_odd_pictures_are_classified(ic_models, name):
    assert len(ic.classify(ic_models, BAD / name).scores) == 5


@pytest.mark.parametrize("name, words", [("truncated.jpg", "“truncated.jpg” is damaged"),
                                         ("not_an_image.png", "“not_an_image.png” is not an image")])
def test_broken_pictures_are_refused_by_check_with_a_sentence(ic_models, name, words):
    with pytest.raises(UserInputError, match=words):
        ic.check(ic_models, BAD / name)


def test_requests_waiting_together_share_one_forward_pass(ic_models):
    """While the model is busy with a first picture, three more requests (other top-k) arrive: they go
    through it together in one pass, each gets its own top-k, and the scores equal one-by-one scores."""
    names = ["cat.png", "fruit.jpg", "red_car.png", "house.png"]
    alone = {n: ic.classify(ic_models, IMAGES / n, VIT, 20).scores for n in names}
    bundle = ic_models.bundle(VIT)
    held = ForwardPasses(bundle.model, hold=True)
    results: dict[str, ic.Result] = {}

    def classify(name, k):
        results[name] = ic.run(ic_models, ic.check(ic_models, IMAGES / name, VIT, k))

    threads = [threading.Thread(target=classify, args=(n, k)) for n, k in zip(names, (3, 2, 5, 20))]
    try:
        threads[0].start()
        assert held.entered.wait(30)
        for t in threads[1:]:
            t.start()
        wait_until(lambda: bundle.extras[ic.BATCHER].pending == 3, "three requests wait for the model")
        held.release()
        for t in threads:
            t.join(30)
    finally:
        held.remove()
    assert held.sizes == [1, 3]
    assert [results[n].batch_size for n in names] == [1, 3, 3, 3]
    for name, k in zip(names, (3, 2, 5, 20)):
        got, expected = results[name].scores, list(alone[name].items())[:k]
        assert list(got) == [label for label, _ in expected]
        assert all(abs(got[label] - p) < 1e-5 for label, p in expected)


def test_a_failing_forward_pass_fails_its_requests_and_the_next_ones_still_run():
    def broken(items):
        raise RuntimeError("boom")

    batcher = ic.Batcher(max_size=2)
    with pytest.raises(RuntimeError, match="boom"):
        batcher.submit("x", broken)
    with pytest.raises(RuntimeError, match="a batch of 1 got 0 results"):
        batcher.submit("x", lambda items: [])
    assert batcher.submit("y", lambda items: [s.upper() for s in items]) == ("Y", 1)
    assert batcher.pending == 0


def test_the_batcher_never_runs_more_than_its_size_and_serves_everyone():
    """20 requests arrive while the first pass runs: they go in passes of at most 3, one at a time."""
    batcher, sizes, running, entered = ic.Batcher(max_size=3), [], threading.Lock(), threading.Event()

    def run(items):
        assert running.acquire(blocking=False), "two forward passes at once"
        if not sizes:  # the first pass lasts until everyone else waits
            entered.set()
            wait_until(lambda: batcher.pending == 19, "19 requests wait")
        sizes.append(len(items))
        running.release()
        return [i * 10 for i in items]

    out: dict[int, tuple] = {}
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, batcher.submit(i, run))) for i in range(20)]
    threads[0].start()
    assert entered.wait(30)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(30)
    assert {i: r for i, (r, _) in out.items()} == {i: i * 10 for i in range(20)}
    assert sizes == [1, 3, 3, 3, 3, 3, 3, 1]
    assert sorted(size for _, size in out.values()) == [1, 1] + [3] * 18


# ---- the app through gradio_client -------------------------------------------------------------

def _file(path):
    from gradio_client import handle_file

    return handle_file(str(path)) if path else None


def _classify(client, path, *args):
    return client.predict(_file(path), *args, api_name="/classify_image")


def test_endpoint_returns_top_classes(client):
    label, status = _classify(client, IMAGES / "dog_park.jpg")
    confidences = [c["confidence"] for c in label["confidences"]]
    assert len(confidences) == 5 and confidences == sorted(confidences, reverse=True)
    assert label["label"] == label["confidences"][0]["label"]
    assert "ViT base/16" in status and "miniature" in status and "batch of 1" in status
    label, status = _classify(client, IMAGES / "cat.png", DEIT, 3)
    assert len(label["confidences"]) == 3 and "DeiT small/16" in status


@pytest.mark.parametrize("path, args, words", [
    (BAD / "not_an_image.png", (), "The file “not_an_image.png” is not an image that can be read."),
    (BAD / "truncated.jpg", (), "The image “truncated.jpg” is damaged or incomplete"),
    (None, (), "No image was given"),
    (IMAGES / "cat.png", ("no/such-model",), "Unknown model 'no/such-model'"),
    (IMAGES / "cat.png", (VIT, 99), "Top-k must be a whole number from 1 to 20; got 99."),
])
def test_endpoint_bad_inputs_raise_their_sentence_and_the_app_keeps_serving(client, path, args, words):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as error:
        _classify(client, path, *args)
    assert words in str(error.value)
    label, _ = _classify(client, IMAGES / "house.png")
    assert len(label["confidences"]) == 5


def test_concurrent_requests_share_forward_passes_and_a_bad_one_fails_alone(client, app_server):
    """The first request holds the model (a hook waits on a gate) while four more arrive together: the
    two bad files get their own errors at once, and the two good pictures then share one forward pass.
    Five requests, two forward passes; the app keeps serving."""
    from gradio_client.exceptions import AppError

    _classify(client, IMAGES / "cat.png")  # the model is loaded before we hold it
    bundle = app_server.models.get("image-classification").bundle
    held = ForwardPasses(bundle.model, hold=True)
    try:
        first = client.submit(_file(IMAGES / "cat.png"), api_name="/classify_image")
        assert held.entered.wait(30), "the first request never reached the model"
        paths = [IMAGES / "fruit.jpg", BAD / "not_an_image.png", IMAGES / "red_car.png", BAD / "truncated.jpg"]
        rest = [client.submit(_file(p), api_name="/classify_image") for p in paths]
        bad = [rest[1], rest[3]]
        wait_until(lambda: all(job.done() for job in bad), "the bad requests are answered")
        assert not first.done() and held.sizes == [1]  # answered while the model was still busy
        wait_until(lambda: bundle.extras[ic.BATCHER].pending == 2, "the good requests wait for the model")
        held.release()
        results = [job.result(timeout=60) for job in (first, rest[0], rest[2])]
    finally:
        held.remove()
    assert held.sizes == [1, 2]
    for job, words in zip(bad, ("“not_an_image.png” is not an image", "“truncated.jpg” is damaged")):
        with pytest.raises(AppError, match=words):
            job.result(timeout=5)
    assert all(len(label["confidences"]) == 5 for label, _ in results)
    assert "batch of 1" in results[0][1] and all("batch of 2" in status for _, status in results[1:])
    label, _ = _classify(client, IMAGES / "house.png")
    assert len(label["confidences"]) == 5
