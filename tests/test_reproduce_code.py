""""Code for this result" without running a model: the programs' string literals, every shape of program
each task writes (it compiles, names its checkpoint once, keeps the input), and the tabs' wiring (a private,
unqueued event after a successful run, which writes the program of the inputs). tests/test_reproduce.py
runs the programs against the miniatures.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import ASSETS

IMAGES, AUDIO, SERIES = ASSETS / "images", ASSETS / "audio", ASSETS / "series"


@pytest.mark.parametrize("value", [
    "", "plain", 'say "hi"', "it's", "both ' and \"", "back\\slash", "tab\tand\nnewline\n", "\n\nlead",
    "naïve café ✓ 東京", "nul\x00 and \u2028 line separator", "x" * 200, ("word " * 60).strip(),
    "para one.\n\n" + "long line " * 30 + "\nend\n",
])
def test_text_literals_read_back_as_the_same_string(value):
    from pipelines.reproduce import literal, text

    for written in (literal(value), text(value)):
        assert ast.literal_eval(written) == value
    assert all(len(line) <= 90 for line in text(value).splitlines())  # long texts are cut into short pieces
    assert ast.literal_eval(literal([value, None, 1.5])) == [value, None, 1.5]


def test_a_file_is_named_by_its_own_name_never_by_the_servers_folder():
    from pipelines.reproduce import file_name

    assert file_name("/tmp/gradio/3f2a/cat.png") == "cat.png"
    assert file_name("C:\\Users\\me\\talk.wav") == "talk.wav"
    assert file_name("https://example.org/pictures/dog.jpg?size=2") == "dog.jpg"
    assert file_name("data:image/png;base64,iVBORw0KGgo/AAA") == file_name(None) == "your_file"


def variants(models) -> list[tuple[str, Any, dict, str]]:
    """(task id, request, source()'s other inputs, a text the program must contain): every shape of program."""
    import numpy as np

    from pipelines.families.causal_lm import GenerationParams
    from pipelines.tasks import (
        clip_retrieval,
        code_completion,
        fill_mask,
        forecasting,
        speech,
        summarization,
        text_generation,
        text_to_image,
        translation,
    )
    from pipelines.tasks import question_answering as qa

    def m(task):
        return models.task(task)

    cat, hello = str(IMAGES / "cat.png"), str(AUDIO / "hello.wav")
    long_context = "The tower is in Paris. " * 80
    return [
        ("text-generation", text_generation.check(m("text-generation"), "Hi", None), {}, '"content": PROMPT'),
        ("text-generation", text_generation.check(m("text-generation"), "Once", "openai-community/gpt2",
                                                  GenerationParams(do_sample=False)), {}, "do_sample=False"),
        ("text-generation", text_generation.check(m("text-generation"), "Hi", None, GenerationParams(top_k=0),
                                                  use_chat_template=False), {}, "top_k=0"),
        ("code-completion", code_completion.check(m("code-completion"), "x = ", None, GenerationParams(
            do_sample=True, temperature=0.3)), {}, "temperature=0.3"),
        ("translation", translation.check(m("translation"), "Hallo.", "German", "English"), {}, "opus-mt-de-en"),
        ("translation", translation.check(m("translation"), "Hola. ¿Qué tal?\n\n Bien.", "es", "fr"), {},
         "indents = "),
        ("summarization", summarization.check(m("summarization"), "A text. " * 9, "google-t5/t5-small",
                                              combine=False), {}, "joins the chunk summaries"),
        ("question-answering", qa.check(m("question-answering"), "Where?", long_context,
                                        "deepset/roberta-base-squad2"), {}, "later one"),
        ("fill-mask", fill_mask.check(m("fill-mask"), "A <mask> and a ___.", None, 2), {}, "at once"),
        ("image-classification", *_image(clip_retrieval, m, cat)),
        ("clip", clip_retrieval.check_zero_shot(m("clip"), cat, "a, b", "{label}"), {"image": cat,
                                                                                    "template": "{label}"},
         'TEMPLATE = "{}"'),
        ("clip", clip_retrieval.check_captions(m("clip"), cat, "a\nb"), {"image": cat}, "CAPTIONS"),
        ("clip", clip_retrieval.check_search(m("clip"), "a dog", [cat], False), {}, '"cat.png"'),
        ("speech", speech.check(m("speech"), hello, "translate", "German", None, False), {"audio": hello},
         'LANGUAGE = "de"'),
        ("speech", speech.Request(np.full(31 * 16_000, 0.1, np.float32), "transcribe", None, "openai/whisper-tiny",
                                  False), {"audio": hello}, "long-form"),
        ("text-to-image", text_to_image.check(m("text-to-image"), "a cat", None, text_to_image.ImageParams(
            full_quality=True, negative_prompt="dark", guidance=3.0)), {}, "Full quality"),
        ("forecasting", forecasting.check(m("forecasting"), [1.0, 2.0, None, 4.0] * 4, horizon=3), {}, "VALUES"),
        ("forecasting", forecasting.check(m("forecasting"), str(SERIES / "daily_temperature.csv"),
                                          time_column="(none)"), {"series": str(SERIES / "daily_temperature.csv")},
         "steps are numbered"),
    ]


def _image(clip_retrieval, m, cat):
    from pipelines.tasks import image_classification

    return image_classification.check(m("image-classification"), cat, "facebook/deit-small-patch16-224", 3), \
        {"image": cat}, 'IMAGE = "cat.png"'


def test_every_program_compiles_names_its_checkpoint_once_and_keeps_the_input(models):
    from pipelines.reproduce import source

    for task_id, request, inputs, expected in variants(models):
        code = source(task_id, request, **inputs)
        compile(code, f"<{task_id}>", "exec")
        assert expected in code, (task_id, expected, code)
        model_ids = [h.repo_id for h in request.hops] if task_id == "translation" else [request.model_id]
        for model_id in model_ids:
            assert code.count(f'"{model_id}"') == 1, (task_id, model_id)
        assert code.startswith("# As the Transformer Playground computed it: ") and "\n# pip install torch" in code
        assert max(len(line) for line in code.splitlines()) <= 100, "a line wider than the block at iframe size"


def test_the_example_says_it_is_one_and_an_unknown_task_is_refused(models):
    from pipelines.reproduce import DEFAULTS_NOTE, source
    from pipelines.tasks import fill_mask

    code = source("fill-mask", fill_mask.check(models.task("fill-mask"), fill_mask.EXAMPLE), example=True)
    assert code.startswith(DEFAULTS_NOTE) and "# For the tab's example: fill-mask" in code and "computed" not in code
    with pytest.raises(KeyError, match="No code for 'tokens'"):  # an explainer page has none
        source("tokens", None)


def test_every_task_has_a_writer_and_writing_imports_no_torch():
    # Every task of the registry has its writer, and none of them imports torch or transformers.
    code = ("import sys\nfrom pipelines.core.registry import TASKS\nfrom pipelines.reproduce import writer\n"
            "[writer(spec.id) for spec in TASKS]\n"
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=ASSETS.parent)
    assert done.returncode == 0, done.stderr


def test_the_tab_writes_the_program_of_the_inputs_after_a_successful_run(models):
    import gradio as gr

    from app import build_app
    from pipelines.core.registry import PAGES

    demo = build_app(models, ["translation"])
    code = next(b for b in demo.blocks.values() if isinstance(b, gr.Code) and "code-for-result-program"
                in (b.elem_classes or []))
    assert code.value.startswith("# This is the code for the tab's example") and '"Good morning!"' in code.value
    writers = [fn for fn in demo.fns.values() if fn.name == "write_code"]
    assert len(writers) == 1
    writer = writers[0]
    # Private, after success only, unqueued, outside the task's concurrency group (ZeroGPU wraps those).
    assert writer.api_visibility == "private" and writer.trigger_only_on_success and not writer.queue
    assert writer.concurrency_id not in {p.id for p in PAGES}
    written = writer.fn("Guten Tag!", "German", "English", 3)
    assert '"Guten Tag!"' in written and '"Helsinki-NLP/opus-mt-de-en"' in written and "BEAMS = 3" in written
    # Inputs changed during the run into ones its check refuses: the block says so instead of a stale program.
    assert "pick a different target language" in writer.fn("Hallo", "German", "German", 1)


def test_the_clip_block_follows_each_of_its_three_endpoints_with_raw_file_payloads(models):

    from app import build_app

    demo = build_app(models, ["clip"])
    writers = [fn for fn in demo.fns.values() if fn.name == "write_code"]
    assert len(writers) == 3 and not any(w.preprocess for w in writers)  # the events take raw payloads
    zero_shot, search, captions = (w.fn for w in writers)
    picture = {"path": str(IMAGES / "fruit.jpg"), "meta": {"_type": "gradio.FileData"}}  # as the page sends it
    model = "openai/clip-vit-base-patch16"
    written = zero_shot(picture, "apple, pear", "", model)  # an empty template: the default one
    assert 'IMAGE = "fruit.jpg"' in written and 'LABELS = ["apple", "pear"]' in written
    assert 'TEMPLATE = "a photo of a {}"' in written and f'MODEL = "{model}"' in written
    written = search("a red car", [picture], False, model)
    assert 'NAMES = ["fruit.jpg"]' in written and 'QUERY = "a red car"' in written
    written = captions(picture, "a bowl of fruit\na car", model)
    assert 'CAPTIONS = ["a bowl of fruit", "a car"]' in written and 'TEMPLATE = "{}"' in written
    assert "Give at least 2 different captions" in captions(picture, "only one", model)
