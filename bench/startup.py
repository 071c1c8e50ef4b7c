"""How long `python app.py` takes from launch until the page answers, and what it has loaded by then.

    .venv/bin/python bench/startup.py [--runs 3]

Writes bench/results/startup.md. Start-up should cost only the imports (gradio ~5 s here): no model
is loaded and torch is not imported until a tab's first request.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run() -> float:
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False",
               HF_HUB_OFFLINE="1", PLAYGROUND_MODEL_SOURCE="tiny")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("the app did not answer within 120 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = [one_run() for _ in range(parser.parse_args().runs)]
    lines = [
        "# Start-up time", "",
        f"`python app.py` until `GET /` answers 200, {len(runs)} runs, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "", "| run | seconds |", "| --- | --- |",
        *[f"| {i + 1} | {s:.2f} |" for i, s in enumerate(runs)],
        "", f"Best {min(runs):.2f} s, median {sorted(runs)[len(runs) // 2]:.2f} s.",
    ]
    out = ROOT / "bench" / "results" / "startup.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
