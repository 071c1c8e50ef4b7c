""""Code for this result" (pipelines/reproduce/): the program written for a request, run in a subprocess
against the miniature's folder, prints what the app computed for the same request: the same tokens, the
same labels and scores to 1e-4, the same pixels for a seed.

Each program names its checkpoints once, as string constants, and its files in path constants; here the
checkpoints become the miniatures' folders and the file names the assets' paths (`localize`). The programs
run one after another in ONE subprocess (`run_programs`: each through runpy as __main__, in a folder of its
own), so the file pays for importing torch and transformers once rather than once per program.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from typing import Any, Callable

import pytest

from tests.conftest import ASSETS

IMAGES, AUDIO, SERIES = ASSETS / "images", ASSETS / "audio", ASSETS / "series"
SCORE_TOLERANCE = 1e-4
# Runs each program given on the command line (a folder holding program.py) as __main__, in that folder,
# with its output in out.txt, and any exception's traceback in error.txt.
RUNNER = """
import contextlib, os, runpy, sys, traceback
for folder in sys.argv[1:]:
    os.chdir(folder)
    with open("out.txt", "w") as out, contextlib.redirect_stdout(out):
        try:
            runpy.run_path("program.py", run_name="__main__")
        except BaseException:
            with open("error.txt", "w") as err:
                err.write(traceback.format_exc())
"""


@dataclass
class Case:
    task_id: str
    request: Any
    app: Any  # what the app computed, in the form `compare` expects
    compare: Callable[[Any, str], None]  # (app, program's stdout): asserts they agree
    inputs: dict  # the files the program reads: path constant -> path
    code_inputs: dict = None  # what source() gets beside the request (file names, the CLIP template)


def localize(models, case: Case, code: str) -> str:
    """The program with each checkpoint's hub id replaced by its miniature's folder, and each file constant
    pointed at the asset: the documented substitution points."""
    from pipelines.reproduce import literal

    spec = models.task(case.task_id).spec
    for ckpt in spec.checkpoints:
        for repo_id, folder in [(ckpt.repo_id, None)] + [(c.repo_id, c) for c in ckpt.companions]:
            written = literal(repo_id)
            if written not in code:
                continue
            assert code.count(written) == 1, f"{repo_id} is named more than once: one constant is the place to change"
            location = models.get(spec.id, ckpt.repo_id).location if folder is None else \
                models.resolver.resolve(folder)
            code = code.replace(written, literal(location.source))
    for constant, path in case.inputs.items():
        code, found = re.subn(rf"^{constant} = .*$", f"{constant} = {literal(str(path))}", code, count=1, flags=re.M)
        assert found == 1, f"no {constant} = ... line to point at the file"
    return code


def run_programs(programs: dict[str, str], folder) -> dict[str, str]:
    """{name: stdout} of each program, run in one subprocess (see RUNNER); a failing program fails here."""
    import torch

    folders = []
    for name, code in programs.items():
        (folder / name).mkdir()
        (folder / name / "program.py").write_text(code, encoding="utf-8")
        folders.append(str(folder / name))
    # The same number of threads as this process: a different split of a sum can change the last bits.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(torch.get_num_threads()),
           "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": ""}
    done = subprocess.run([sys.executable, "-c", RUNNER, *folders], env=env, capture_output=True, text=True,
                          timeout=900, cwd=folder)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = {}
    for name in programs:
        error = folder / name / "error.txt"
        outputs[name] = ("ERROR", error.read_text()) if error.exists() else (folder / name / "out.txt").read_text()
    return outputs


# ---- the cases: one request per task (two where the program has two shapes), as a person would make it ----

def exact_text(app: str, out: str) -> None:
    assert out == app + "\n", f"app:  {app!r}\ncode: {out!r}"


def scored_lines(out: str) -> list[tuple[float, str]]:
    """"0.1234  label" lines, as the image and CLIP programs print them."""
    return [(float(score), label) for score, label in (line.split("  ", 1) for line in out.splitlines())]


def same_scores(app: dict[str, float], out: str) -> None:
    printed = scored_lines(out)
    assert [label for _, label in printed] == list(app), f"app: {list(app)}\ncode: {printed}"
    for (score, label) in printed:
        assert score == pytest.approx(app[label], abs=SCORE_TOLERANCE), label


def text_generation(models) -> Case:
    from pipelines.families.causal_lm import GenerationParams
    from pipelines.tasks import text_generation as task

    m = models.task("text-generation")
    # The chat model with sampling (the tab's default decoding), a prompt with a quote and a line break.
    request = task.check(m, 'Say "hello"\nto me.', None, GenerationParams(max_new_tokens=12, seed=7))
    # On a CPU the app answers with onnxruntime-genai (pipelines/engines): its program is the engine's own.
    m.bundle(request.model_id).fast()  # built on the first request
    runs_on = m.bundle(request.model_id).runs_on
    assert runs_on.startswith("onnxruntime-genai"), runs_on
    return Case("text-generation", request, list(task.run(m, request))[-1].text, exact_text, {}, {"runs_on": runs_on})


def text_generation_on_torch(models) -> Case:
    """The same request on torch (a GPU, --engine torch): transformers' pipeline reproduces it."""
    from pipelines.core.loading import ModelManager
    from pipelines.families.causal_lm import GenerationParams
    from pipelines.tasks import text_generation as task
    from tests.conftest import tiny_settings

    m = ModelManager(tiny_settings(engine="torch")).task("text-generation")
    request = task.check(m, 'Say "hello"\nto me.', None, GenerationParams(max_new_tokens=12, seed=7))
    assert m.bundle(request.model_id).runs_on == "torch float32"
    return Case("text-generation", request, list(task.run(m, request))[-1].text, exact_text, {})


def code_completion(models) -> Case:
    from pipelines.tasks import code_completion as task

    m = models.task("code-completion")
    request = task.check(m, "def add(a, b):\n    return", None, replace(task.DEFAULTS, max_new_tokens=24))
    return Case("code-completion", request, request.code + list(task.run(m, request))[-1].text, exact_text, {})


def code_completion_on_engine(models) -> Case:
    """Qwen2.5-Coder (a Qwen2 model) runs on onnxruntime-genai on a CPU, cut at the default stop sequences."""
    from pipelines.tasks import code_completion as task

    m = models.task("code-completion")
    request = task.check(m, "def add(a, b):\n    return", "Qwen/Qwen2.5-Coder-0.5B",
                         replace(task.DEFAULTS, max_new_tokens=24, do_sample=True, seed=3))
    m.bundle(request.model_id).fast()  # built on the first request
    runs_on = m.bundle(request.model_id).runs_on
    assert runs_on.startswith("onnxruntime-genai"), runs_on
    app = request.code + list(task.run(m, request))[-1].text
    return Case("code-completion", request, app, exact_text, {}, {"runs_on": runs_on})


def translation(models) -> Case:
    from pipelines.tasks import translation as task

    m = models.task("translation")
    # Sentence by sentence, a blank line and an indented line kept, nine sentences: two batches of the app's 8.
    text = "Good morning! How are you?\n\n  It is late. " + " ".join(f"Line {n} is here." for n in range(6))
    request = task.check(m, text, "English", "German", 1)
    return Case("translation", request, task.run(m, request).text, exact_text, {})


def translation_pivot(models) -> Case:
    from pipelines.families.seq2seq import split_sentences
    from pipelines.tasks import translation as task

    m = models.task("translation")
    # German to French has no direct model: through English. The program hands the English sentence on to
    # the second model as it is; the app splits the English text again, the same here (one sentence).
    request = task.check(m, "Das Wetter ist heute schön.", "German", "French", 2)  # with beam search
    assert len(request.hops) == 2
    english, _ = task.translate_text(m.bundle(request.hops[0].repo_id), request.text, request.num_beams)
    assert len(split_sentences(english)) == 1, "the case needs an English translation of one sentence"
    return Case("translation", request, task.run(m, request).text, exact_text, {})


def summarization(models) -> Case:
    from pipelines.core.registry import EIFFEL
    from pipelines.tasks import summarization as task

    m = models.task("summarization")
    request = task.check(m, EIFFEL * 3, None, min_length=3, max_length=12, num_beams=2)
    return Case("summarization", request, task.run(m, request).text, exact_text, {})


def qa_case(model_id: str | None, question: str, context: str):
    def build(models) -> Case:
        from pipelines.tasks import question_answering as task

        m = models.task("question-answering")
        request = task.check(m, question, context, model_id, 8)
        result = task.run(m, request)
        return Case("question-answering", request, result, same_answer, {})
    return build


def same_answer(app, out: str) -> None:
    printed = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert float(printed["Confidence"]) == pytest.approx(app.score, abs=SCORE_TOLERANCE)
    if app.has_answer:
        assert printed["Answer"] == app.text
        assert f"Characters {app.start}-{app.end} of the context" in out
    else:
        assert printed["Answer"] == "The model found no answer in this context."


def fill_mask(models) -> Case:
    from pipelines.tasks import fill_mask as task

    m = models.task("fill-mask")
    request = task.check(m, "The [MASK] chased the ___ home.", None, 3)
    return Case("fill-mask", request, task.run(m, request), same_candidates, {})


def same_candidates(app, out: str) -> None:
    rows = [re.match(r"^\s*(\d+)\s+(\d+)\s+(\S+)\s+([\d.]+)\s{2,}(.*)$", line).groups()
            for line in out.splitlines()[1:]]
    expected = [(g, rank, c) for g, gap in enumerate(app.gaps, 1) for rank, c in enumerate(gap.candidates, 1)]
    assert len(rows) == len(expected)
    for (gap, rank, token, probability, sentence), (g, r, c) in zip(rows, expected):
        assert (int(gap), int(rank), token, sentence) == (g, r, c.token, c.sentence)
        assert float(probability) == pytest.approx(c.probability, abs=SCORE_TOLERANCE)


def image_classification(models) -> Case:
    from pipelines.tasks import image_classification as task

    m = models.task("image-classification")
    request = task.check(m, str(IMAGES / "cat.png"), None, 5)
    return Case("image-classification", request, task.run(m, request).scores, same_scores,
                {"IMAGE": IMAGES / "cat.png"}, {"image": str(IMAGES / "cat.png")})


def clip_labels(models) -> Case:
    from pipelines.tasks import clip_retrieval as task

    m = models.task("clip")
    template = "a photo of a {label}, {label}!"  # twice, and braces of its own around the label
    request = task.check_zero_shot(m, str(IMAGES / "cat.png"), "cat, dog, car", template)
    return Case("clip", request, task.run(m, request), same_scores, {"IMAGE": IMAGES / "cat.png"},
                {"image": str(IMAGES / "cat.png"), "template": template})


def clip_captions(models) -> Case:
    from pipelines.tasks import clip_retrieval as task

    m = models.task("clip")
    request = task.check_captions(m, str(IMAGES / "dog_park.jpg"), "a dog in a park\na cat\na {red} car")
    return Case("clip", request, task.run(m, request), same_scores, {"IMAGE": IMAGES / "dog_park.jpg"},
                {"image": str(IMAGES / "dog_park.jpg")})


def clip_search(models) -> Case:
    from pipelines.tasks import clip_retrieval as task

    m = models.task("clip")
    request = task.check_search(m, "a dog in a park")
    return Case("clip", request, task.run(m, request), same_ranking, {"FOLDER": IMAGES})


def same_ranking(app, out: str) -> None:
    rows = [re.match(r"^\s*(\d+)\s+(.+?)\s+(-?[\d.]+)\s+([\d.]+)$", line).groups() for line in out.splitlines()[1:]]
    assert [name for _, name, _, _ in rows] == [hit.name for hit in app]
    for (_, _, similarity, probability), hit in zip(rows, app):
        assert float(similarity) == pytest.approx(hit.similarity, abs=SCORE_TOLERANCE)
        assert float(probability) == pytest.approx(hit.probability, abs=SCORE_TOLERANCE)


def speech(models) -> Case:
    from pipelines.core.loading import ModelManager
    from pipelines.tasks import speech as task
    from tests.conftest import tiny_settings

    # The torch path (a GPU, --engine torch). On a CPU the app answers with CTranslate2: its programs are run in
    # tests/test_engine_speech.py (miniature) and tests/test_speech_real.py (real weights, language detected).
    m = ModelManager(tiny_settings(engine="torch")).task("speech")
    path = AUDIO / "hello.wav"
    request = task.check(m, str(path), "transcribe", "detect", None, True)  # detected, with timestamps
    return Case("speech", request, task.run(m, request), same_transcript, {"AUDIO": path}, {"audio": str(path)})


def same_transcript(app, out: str) -> None:
    from tabs.speech import language_line

    lines = out.splitlines()
    assert lines[0] == f"Transcript: {app.text}"
    assert lines[1] == f"Language: {language_line(app)}"
    assert lines[2:] == [f"{s.start:.2f}-{s.end:.2f} s  {s.text}" for s in app.segments]
    assert app.segments, "the case should have segments to compare"


def text_to_image(models) -> Case:
    from pipelines.tasks import text_to_image as task

    m = models.task("text-to-image")
    params = task.ImageParams(steps=2, guidance=2.0, negative_prompt="blurry", seed=3, width=256, height=320)
    request = task.check(m, "a red car by the sea", None, params)
    return Case("text-to-image", request, task.run(m, request).image, same_pixels, {})


def same_pixels(app, out: str) -> None:
    import numpy as np
    from PIL import Image

    assert out.startswith("Saved result.png")
    path = re.search(r"\[folder: (.*)\]", out).group(1)
    with Image.open(os.path.join(path, "result.png")) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), np.asarray(app.convert("RGB")))


def forecasting(models) -> Case:
    from pipelines.tasks import forecasting as task

    m = models.task("forecasting")
    path = SERIES / "monthly_airline_style.csv"
    request = task.check(m, str(path), None, None, horizon=12, context_length=64)
    return Case("forecasting", request, task.run(m, request).table(), same_table, {"SERIES": path},
                {"series": str(path)})


def same_table(app, out: str) -> None:
    rows = [line.split("  ") for line in out.splitlines()[1:]]
    assert [r[0] for r in rows] == [str(t) for t in app["time"]]
    for row, (_, expected) in zip(rows, app.iterrows()):
        for value, column in zip(row[1:], ("q10", "median", "q90")):
            assert float(value) == pytest.approx(expected[column], rel=1e-5)  # both at 6 significant digits


CASES = {
    "text-generation": text_generation, "text-generation-torch": text_generation_on_torch,
    "code-completion": code_completion, "code-completion-engine": code_completion_on_engine, "translation": translation,
    "translation-pivot": translation_pivot, "summarization": summarization,
    "question-answering": qa_case(None, "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris. It is tall."),
    "question-answering-squad2": qa_case("deepset/roberta-base-squad2", "Who?", "The Eiffel Tower is in Paris."),
    "fill-mask": fill_mask, "image-classification": image_classification,
    "clip-labels": clip_labels, "clip-captions": clip_captions, "clip-search": clip_search,
    "speech": speech, "text-to-image": text_to_image, "forecasting": forecasting,
}


@pytest.fixture(scope="module")
def reproduced(models, tmp_path_factory):
    """Every case: the app's result, and the stdout of its program (with its folder for text-to-image)."""
    from pipelines.reproduce import source

    folder = tmp_path_factory.mktemp("programs")
    cases = {name: build(models) for name, build in CASES.items()}
    programs = {name: localize(models, case, source(case.task_id, case.request, **(case.code_inputs or {})))
                for name, case in cases.items()}
    outputs = run_programs(programs, folder)
    if isinstance(outputs["text-to-image"], str):  # its picture is a file in its folder
        outputs["text-to-image"] += f"[folder: {folder / 'text-to-image'}]"
    return cases, outputs


@pytest.mark.parametrize("name", list(CASES))
def test_program_reproduces_the_app(reproduced, name):
    cases, outputs = reproduced
    out = outputs[name]
    assert not isinstance(out, tuple), f"the program failed:\n{out[1]}"
    cases[name].compare(cases[name].app, out)

