"""Tasks on serving engines, through the launched app: Inference Endpoint payloads and OpenAI-style
transcription against a small loopback server (StubEngine) that speaks them, failures as a sentence in
their tab only, the next request trying again, and the token kept out of pages, messages and logs.

The OpenAI-compatible text tabs run against a real `transformers serve` in test_remote_openai.py.
"""

from __future__ import annotations

import email.parser
import io
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import ASSETS, free_port, launch_app, tiny_settings

TOKEN = "hf_test_SECRET_4b1d"
TASKS = ["translation", "summarization", "question-answering", "image-classification", "clip",
         "text-to-image", "speech", "forecasting"]


class StubEngine:
    """A loopback serving engine: Inference API task payloads under /ie/<task>/..., and OpenAI's
    /v1/completions, /v1/chat/completions (streamed) and /v1/audio/transcriptions. It records each
    request. Paths with /flaky/ fail their first request (HTTP 503, echoing the Authorization header
    as a careless server might); paths with /slow/ answer after 3 s. Also used by bench/remote_memory.py."""

    def __init__(self):
        self.requests: list[dict] = []
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def seen(self, part: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if part in r["path"]]

    def _handler(self):
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                record = {"path": self.path, "auth": self.headers.get("authorization"),
                          "type": self.headers.get("content-type", ""), "raw": raw}
                with engine._lock:
                    engine.requests.append(record)
                    first_failure = "/flaky/" in self.path and self.path not in engine._failed
                    engine._failed.add(self.path)
                if first_failure:
                    return self._send(503, json.dumps({"error": f"warming up (got {record['auth']})"}).encode())
                if "/slow/" in self.path:
                    time.sleep(3)
                try:
                    status, body, kind = 200, *engine.answer(self.path, raw, record["type"])
                except Exception as exc:  # noqa: BLE001 - a stub: tell the client what it sent wrong
                    status, body, kind = 400, json.dumps({"error": repr(exc)}).encode(), "application/json"
                self._send(status, body, kind)

            def _send(self, status, body, kind="application/json"):
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def answer(self, path: str, raw: bytes, kind: str) -> tuple[bytes, str]:
        from PIL import Image

        if path.endswith("/audio/transcriptions"):
            import soundfile

            form = _form(raw, kind)
            samples, rate = soundfile.read(io.BytesIO(form["file"]))
            text = f"heard {len(samples) / rate:.1f} s with {form['model']}"
            segments = [{"start": 0.0, "end": 0.5, "text": " heard"}, {"start": 0.5, "end": 99.0, "text": " it"}]
            return _json({"text": text, "language": "german", "segments": segments}), "application/json"
        if path.endswith("/completions"):  # OpenAI streams, for the benchmark
            request = json.loads(raw)
            chunks = [{"choices": [{"text": "tok ", "delta": {"content": "tok "}}]}] * request["max_tokens"]
            events = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            return events.encode(), "text/event-stream"
        payload = json.loads(raw) if "json" in kind else {"inputs": raw, "parameters": {}}
        inputs, params = payload["inputs"], payload.get("parameters") or {}
        if "/translation/" in path:
            return _json([{"translation_text": f"[{params['src_lang']}>{params['tgt_lang']}] {inputs}"}]), "j"
        if "/summarization/" in path:
            words = inputs.split()
            return _json([{"summary_text": " ".join(words[:params["generate_parameters"]["max_new_tokens"]])}]), "j"
        if "/question-answering/" in path:
            start = inputs["context"].find("Paris")
            return _json({"answer": "Paris", "score": 0.875, "start": start, "end": start + 5}), "j"
        if "/image-classification/" in path or "/clip/" in path:
            import base64

            data = base64.b64decode(inputs) if isinstance(inputs, str) else inputs
            width, height = Image.open(io.BytesIO(data)).size
            if "/clip/" in path:
                labels = params["candidate_labels"]
                return _json([{"label": text, "score": 1.0 / (i + 2)} for i, text in enumerate(labels)]), "j"
            found = [{"label": f"{width}x{height} picture", "score": 0.5}, {"label": "tabby", "score": 0.3},
                     {"label": "lynx", "score": 0.15}, {"label": "car", "score": 0.05}]
            return _json(found[:params.get("top_k", 4)]), "j"
        if "/text-to-image/" in path:
            buffer = io.BytesIO()
            Image.new("RGB", (params["width"], params["height"]), (200, 30, 30)).save(buffer, "PNG")
            return buffer.getvalue(), "image/png"
        raise ValueError(f"no such route {path}")


def _json(value) -> bytes:
    return json.dumps(value).encode()


def _form(raw: bytes, kind: str) -> dict:
    """multipart/form-data fields: bytes for files, str for the rest."""
    message = email.parser.BytesParser().parsebytes(b"content-type: " + kind.encode() + b"\r\n\r\n" + raw)
    fields = {}
    for part in message.get_payload():
        name = part.get_param("name", header="content-disposition")
        value = part.get_payload(decode=True)
        fields[name] = value if part.get_filename() else value.decode()
    return fields


@pytest.fixture(scope="module")
def engine():
    stub = StubEngine()
    yield stub
    stub.close()


@pytest.fixture(scope="module")
def online():
    # The suite runs with HF_HUB_OFFLINE=1, which huggingface_hub reads once at import into this constant
    # and then refuses every URL, loopback included. A deployment that calls Inference Endpoints is online,
    # so this module (only) lifts the flag; the app is in tiny mode and contacts no hub either way.
    import huggingface_hub.constants

    patch = pytest.MonkeyPatch()
    patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    yield
    patch.undo()


@pytest.fixture(scope="module")
def app(engine, online):
    ie = engine.url + "/ie"
    remotes = (("translation", ie + "/translation/{model}"), ("summarization", ie + "/flaky/summarization/{model}"),
               ("question-answering", f"http://127.0.0.1:{free_port()}/nobody-listens"),
               ("image-classification", ie + "/image-classification/{model}"), ("clip", ie + "/clip/{model}"),
               ("text-to-image", ie + "/text-to-image/{model}"), ("speech", engine.url + "/v1"))
    settings = tiny_settings(remotes=remotes, remote_url=ie + "/default", remote_token=TOKEN,
                             remote_timeout_s=30.0)
    server = launch_app(settings, TASKS)
    calls = []
    server.models.events.subscribe(lambda name, fields: calls.append(fields) if name == "remote_call" else None)
    server.calls = calls
    yield server
    server.demo.close()


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app.url, verbose=False)


def test_translation_goes_through_the_endpoint_line_by_line_and_hop_by_hop(client, app, engine):
    text, status = client.predict("Guten Morgen.\n\n  Wie geht es?", "German", "French", api_name="/translate")
    assert text == "[en>fr] [de>en] Guten Morgen.\n\n  [en>fr] [de>en] Wie geht es?"
    paths = [r["path"] for r in engine.seen("/translation/")]
    assert paths == ["/ie/translation/Helsinki-NLP/opus-mt-de-en"] * 2 + [
        "/ie/translation/Helsinki-NLP/opus-mt-en-fr"] * 2
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in engine.seen("/translation/"))
    assert f"on the serving engine `{engine.url}/ie/translation/{{model}}`" in status and "opus-mt-en-fr" in status
    assert "through English" in status
    assert app.models.loaded_keys() == [], "a remote task loaded a model"


def test_image_classification_sends_the_picture_and_top_k(client, engine):
    from gradio_client import handle_file

    scores, status = client.predict(handle_file(str(ASSETS / "images" / "cat.png")), None, 3,
                                    api_name="/classify_image")
    labels = [c["label"] for c in scores["confidences"]]
    assert labels[0].endswith(" picture") and labels[1:] == ["tabby", "lynx"]
    assert json.loads(engine.seen("/image-classification/")[-1]["raw"])["parameters"] == {"top_k": 3}
    assert "google/vit-base-patch16-224" in engine.seen("/image-classification/")[-1]["path"]
    assert "ViT base/16" in status and "serving engine" in status


def test_clip_zero_shot_is_remote_and_gallery_search_stays_here(client, app, engine):
    from gradio_client import handle_file

    probs, status = client.predict(handle_file(str(ASSETS / "images" / "cat.png")), "cat, dog",
                                   api_name="/zero_shot_image")
    sent = json.loads(engine.seen("/clip/")[-1]["raw"])["parameters"]
    assert sent == {"candidate_labels": ["a photo of a cat", "a photo of a dog"], "hypothesis_template": "{}"}
    assert [c["label"] for c in probs["confidences"]] == ["cat", "dog"]
    assert "Gallery search runs in this app" in status and app.models.loaded_keys() == []
    client.predict("a dog in a park", api_name="/search_images")
    assert [repo for _, repo in app.models.loaded_keys()] == ["openai/clip-vit-base-patch32"]


def test_text_to_image_and_speech(client, engine):
    image, status = client.predict("a red car", None, 1, 0.0, 0, 256, 320, api_name="/generate_image")
    from PIL import Image

    assert Image.open(image).size == (256, 320) and "decoded with the serving engine" in status
    text, segments, language, status = client.predict(
        {"path": str(ASSETS / "audio" / "hello.wav"), "meta": {"_type": "gradio.FileData"}}, api_name="/transcribe")
    assert text.startswith("heard ") and text.endswith("with openai/whisper-base")
    assert [row[-1] for row in segments["data"]] == ["heard", "it"]
    assert segments["data"][-1][1] < 99, "segment times stay inside the recording"
    assert language.startswith("German (de)") and "detected German (de)" in status


def test_a_failure_is_a_sentence_in_its_tab_and_the_next_request_tries_again(client, app):
    with pytest.raises(Exception, match=r"failed \(HTTP 503.*try again in a minute") as failure:
        client.predict("The Eiffel Tower is in Paris. It is tall.", api_name="/summarize")
    assert TOKEN not in str(failure.value) and "***" in str(failure.value)
    summary, status = client.predict("The Eiffel Tower is in Paris. It is tall.", None, 0, 4, api_name="/summarize")
    assert summary == "The Eiffel Tower is"
    with pytest.raises(Exception, match=r"at http://127\.0\.0\.1:\d+/nobody-listens cannot be reached"):
        client.predict("Where is it?", "It is in Paris.", api_name="/answer_question")
    assert client.predict("Good morning!", "English", "German", api_name="/translate")[0]  # others unaffected
    outcomes = {(c["task_id"], c["ok"]) for c in app.calls}
    assert {("summarization", False), ("summarization", True), ("question-answering", False)} <= outcomes


def test_forecasting_stays_local_and_says_so(client, app):
    *_, status = client.predict({"path": str(ASSETS / "series" / "monthly_airline_style.csv"),
                                 "meta": {"_type": "gradio.FileData"}}, api_name="/forecast")
    assert "Forecasting runs in this app" in status and "offline miniature" in status


def test_the_token_is_never_in_the_page_or_the_logs(client, app, engine, caplog):
    import httpx
    from gradio_client.exceptions import AppError

    from pipelines.core.loading import ModelManager
    from pipelines.remote import RemoteError
    from pipelines.tasks import translation

    caplog.set_level(logging.DEBUG)
    with pytest.raises(AppError, match="cannot be reached"):
        client.predict("Where is it?", "It is in Paris.", api_name="/answer_question")
    client.predict("Good night.", "English", "Spanish", api_name="/translate")
    assert engine.seen("/translation/")[-1]["auth"] == f"Bearer {TOKEN}"  # sent where it belongs
    # A server that echoes the Authorization header in its error (see StubEngine): scrubbed everywhere.
    models = ModelManager(tiny_settings(remote_url=engine.url + "/ie/flaky/echo/translation/{model}",
                                        remote_token=TOKEN)).task("translation")
    with pytest.raises(RemoteError, match=r"HTTP 503.*Bearer \*\*\*") as failure:
        translation.translate(models, "Hello.", "English", "German")
    assert TOKEN not in str(failure.value) and failure.value.__cause__ is None
    assert caplog.records and "Bearer ***" in caplog.text and TOKEN not in caplog.text
    assert TOKEN not in httpx.get(app.url + "config").text


def test_a_timeout_is_a_sentence(engine, online):
    from pipelines.core.loading import ModelManager
    from pipelines.remote import RemoteError
    from pipelines.tasks import translation

    models = ModelManager(tiny_settings(remote_url=engine.url + "/ie/slow/translation/{model}",
                                        remote_timeout_s=0.5)).task("translation")
    calls = []
    models.manager.events.subscribe(lambda name, fields: calls.append(fields))
    with pytest.raises(RemoteError, match=r"did not answer within 0\.5 s"):
        translation.translate(models, "Hello.", "English", "German")
    assert calls[-1]["ok"] is False and calls[-1]["endpoint"] == engine.url + "/ie/slow/translation/{model}"


def test_question_answering_offsets_point_into_the_context(engine, online):
    from pipelines.core.loading import ModelManager
    from pipelines.tasks import question_answering

    models = ModelManager(tiny_settings(remote_url=engine.url + "/ie/question-answering/{model}"))
    context = "The Eiffel Tower, built in 1889, is in Paris. It is 330 m tall."
    found = question_answering.answer(models.task("question-answering"), "Where is it?", context,
                                      "deepset/roberta-base-squad2", 12)
    assert (found.text, context[found.start:found.end], found.score) == ("Paris", "Paris", 0.875)
    assert found.has_answer
    sent = json.loads(engine.seen("/question-answering/deepset/roberta-base-squad2")[-1]["raw"])
    assert sent["parameters"] == {"handle_impossible_answer": True, "max_answer_len": 12}
    assert models.loaded_keys() == []
