"""The short program that reproduces a task's result: "Code for this result" under each task tab.

One module per task (named like the task's id: text_generation.py for "text-generation") turns the
task's checked Request into runnable Python source (a string): the same checkpoint, the same settings,
the person's own input, written the way the course's chapter 9 writes it (transformers' `pipeline()`
where transformers 5 still has the task, the Auto classes and `generate` where it does not, diffusers,
chronos-forecasting). Where the app does more than the minimal program
(QA windows, summary chunks, pivot translation, long audio, cleaning a CSV) the code says so in a comment.

Pure Python: nothing here imports torch, so the UI side can build the code for any request cheaply.

    from pipelines.reproduce import source
    print(source("translation", translation.check(models, "Good morning!", "English", "German")))

Every program names each checkpoint once, as a string constant near the top (`MODEL = "..."`), and each
file it reads in a path constant (`IMAGE = "cat.png"`): the places a reader (and tests/test_reproduce.py,
which runs each program against the offline miniatures) puts their own copy.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import textwrap

DEFAULTS_NOTE = ("# This is the code for the tab's example input and default settings. Run the tab and it\n"
                 "# becomes the code for exactly what you ran: your input, your settings, your model.\n")
JUST, FOR_EXAMPLE = "As the Transformer Playground computed it", "For the tab's example"
WIDTH = 72  # characters of a long text per source line
# The device and precision lines every program shares: the app's own choice (pipelines/core/device.py).
DEVICE = ('# As the app: a GPU in half precision when there is one, else the CPU in full precision.\n'
          'device = "cuda" if torch.cuda.is_available() else "cpu"\n'
          'dtype = torch.float16 if device == "cuda" else torch.float32\n')


def source(task_id: str, request, *, example: bool = False, **inputs) -> str:
    """The program for a checked request of `task_id` (`inputs`: what the request does not keep, such as
    an uploaded file's name); `example`: the tab's defaults, shown before anything ran."""
    module = writer(task_id)
    if "runs_on" not in inspect.signature(module.code).parameters:
        inputs.pop("runs_on", None)  # only writers with an engine-specific program take it
    code = module.code(request, **inputs)
    return DEFAULTS_NOTE + code.replace(JUST, FOR_EXAMPLE, 1) if example else code


def literal(value) -> str:
    """Python source for a value (strings, numbers, None, lists of them): repr(), with strings in double
    quotes like the rest of the programs wherever that needs no escaping."""
    if isinstance(value, str):
        written = repr(value)
        return f'"{written[1:-1]}"' if written[0] == "'" and '"' not in value else written
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value)


def writer(task_id: str):
    """The module that writes a task's programs: pipelines/reproduce/<task id with underscores>.py."""
    name = f"pipelines.reproduce.{task_id.replace('-', '_')}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise KeyError(f"No code for {task_id!r}: {name} does not exist") from None


def text(value: str, indent: int = 4) -> str:
    """A Python literal for `value`: one string when short; otherwise pieces of at most WIDTH characters
    (cut after a newline or a space) in parentheses, which Python joins into the same string."""
    if len(value) <= WIDTH and value.count("\n") <= 1:
        return literal(value)
    pieces = [literal(piece) for piece in _pieces(value)]
    pad = " " * indent
    return "(\n" + "".join(f"{pad}{p}\n" for p in pieces) + pad[:-4] + ")"


def _pieces(value: str) -> list[str]:
    pieces = []
    for line in value.splitlines(keepends=True):
        while len(line) > WIDTH:
            cut = line.rfind(" ", 0, WIDTH) + 1 or WIDTH  # after a space; a long word is cut where it must be
            pieces.append(line[:cut])
            line = line[cut:]
        if line:
            pieces.append(line)
    return pieces


def comment(said: str, width: int = 100) -> str:
    """A sentence or two as comment lines of at most `width` characters."""
    return textwrap.fill(said, width, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False)


def header(what: str, *packages: str) -> str:
    """The comment that opens every program: what it reproduces and what to install."""
    return f"{comment(f'{JUST}: {what[:1].lower()}{what[1:]}.')}\n# pip install {pip(*packages)}\n"


def pip(*packages: str) -> str:
    return " ".join(_pinned(name) for name in packages)


@functools.cache
def _pinned(name: str) -> str:
    """`name==version` as installed beside the app (the versions the code was checked with)."""
    from importlib import metadata

    try:
        return f"{name}=={metadata.version(name).split('+')[0]}"  # not torch's local "+cpu": pip's index has none
    except metadata.PackageNotFoundError:
        return name


def number(value: float) -> str:
    """A float as the shortest literal that reads back as the same number (0.7, not 0.7000000000000001)."""
    return repr(float(value))


def file_name(path) -> str:
    """The last part of an uploaded file's path (Gradio keeps uploads under a temporary folder); a
    generic name for a file given inline (a data: URL has no name)."""
    path = str(path or "")
    return ("" if path.startswith("data:") else re.split(r"[\\/]", path.split("?")[0])[-1]) or "your_file"
