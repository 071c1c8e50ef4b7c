"""What the app itself needs when every task that can calls a serving engine: start-up time and memory.

    .venv/bin/python bench/remote_memory.py [--runs 3]

Starts `python app.py` with every supporting task remote (pipelines/remote/), pointed at loopback stub
engines in this process (tests/test_remote_endpoints.py's StubEngine: Inference API payloads and an
OpenAI-style server), waits for `GET /` to answer, then makes one request to each remote endpoint (the
registry's example call) through gradio_client. Reports the app process's RSS when ready and after
the requests, its peak (VmHWM), whether torch was ever loaded into it, and each call's time. Writes
bench/results/remote_memory.md. The stubs answer at once: the times are the app's own overhead.
Needs the test requirements (gradio_client; the stub lives with its tests). About half a minute.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.core.registry import TASKS  # noqa: E402
from pipelines.remote import INFERENCE, PROTOCOLS  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remote_env(stub_url: str) -> dict[str, str]:
    """PLAYGROUND_REMOTE_<TASK_ID> for every task with a protocol: OpenAI-style root or an IE URL."""
    env = {}
    for task_id, protocol in PROTOCOLS.items():
        url = f"{stub_url}/ie/{task_id}/{{model}}" if protocol == INFERENCE else f"{stub_url}/v1"
        env["PLAYGROUND_REMOTE_" + task_id.upper().replace("-", "_")] = url
    return env


def start(env: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    env = {**env, "GRADIO_SERVER_PORT": str(port)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - started < 180:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return proc, url, time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise TimeoutError("the app did not answer within 180 s")


def memory(pid: int) -> dict[str, float]:
    """RSS and peak RSS (VmHWM) in MB, and whether libtorch is mapped into the process."""
    status = Path(f"/proc/{pid}/status").read_text()
    kb = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
          if line.startswith(("VmRSS", "VmHWM"))}
    torch = "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    return {"rss": kb["VmRSS"] / 1024, "peak": kb["VmHWM"] / 1024, "torch": torch}


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def requests(url: str) -> list[tuple[str, float, str]]:
    """One call of each remote endpoint's example: (api name, seconds, "ok" or the error)."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    results = []
    for spec in TASKS:
        if spec.id not in PROTOCOLS:
            continue
        for endpoint in spec.endpoints:
            if spec.id == "clip" and endpoint.name == "search_images":
                continue  # gallery search runs in the app (no protocol): it would load CLIP
            args = {k: handle_file(str(ROOT / v)) if isinstance(v, str) and v.startswith("assets/") else v
                    for k, v in endpoint.example.items()}
            started = time.perf_counter()
            try:
                client.predict(**args, api_name=endpoint.api_name)
                outcome = "ok"
            except Exception as exc:  # noqa: BLE001 - reported in the table
                outcome = str(exc).splitlines()[0][:80]
            results.append((endpoint.api_name, time.perf_counter() - started, outcome))
    return results


def main() -> None:
    from tests.test_remote_endpoints import StubEngine

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    stub = StubEngine()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PLAYGROUND_")}
    base.pop("HF_HUB_OFFLINE", None)  # huggingface_hub refuses every URL when it is set
    base.update(GRADIO_ANALYTICS_ENABLED="False", PLAYGROUND_MODEL_SOURCE="tiny")
    remote = {**base, **remote_env(stub.url)}
    local_starts, remote_starts = [], []
    for _ in range(runs):
        for env, times in ((base, local_starts), (remote, remote_starts)):
            proc, _, seconds = start(env)
            times.append((seconds, memory(proc.pid)))
            stop(proc)
    proc, url, seconds = start(remote)
    try:
        ready = memory(proc.pid)
        calls = requests(url)
        after = memory(proc.pid)
    finally:
        stop(proc)
        stub.close()
    write(local_starts, remote_starts, ready, calls, after)


def write(local_starts, remote_starts, ready, calls, after) -> None:
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    mb = lambda starts: median([m["rss"] for _, m in starts])  # noqa: E731
    load = os.getloadavg()
    lines = [
        "# The app's own memory and start-up with every task remote", "",
        f"Written by `bench/remote_memory.py` on {time.strftime('%Y-%m-%d %H:%M')}: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.2f}. Default settings otherwise (MCP as the app defaults it).", "",
        f"Remote: the {len(PROTOCOLS)} tasks with a protocol ({', '.join(PROTOCOLS)}) on loopback stubs; "
        "forecasting, fill-mask and CLIP's gallery search stay local and were not called.", "",
        "## Start-up (`python app.py` until `GET /` answers 200)", "",
        "| run | all local: s | RSS MB | all remote: s | RSS MB |", "| --- | --- | --- | --- | --- |",
        *[f"| {i + 1} | {ls:.2f} | {lm['rss']:.0f} | {rs:.2f} | {rm['rss']:.0f} |"
          for i, ((ls, lm), (rs, rm)) in enumerate(zip(local_starts, remote_starts))],
        "", f"Median start-up: {median([s for s, _ in local_starts]):.2f} s all local, "
            f"{median([s for s, _ in remote_starts]):.2f} s all remote; RSS when ready "
            f"{mb(local_starts):.0f} MB and {mb(remote_starts):.0f} MB (no model loads at start-up either way).",
        "", "## One request to each remote endpoint", "",
        "| endpoint | seconds | outcome |", "| --- | --- | --- |",
        *[f"| `{name}` | {s:.2f} | {outcome} |" for name, s, outcome in calls],
        "", f"RSS: {ready['rss']:.0f} MB when ready, {after['rss']:.0f} MB after the requests, "
            f"peak {after['peak']:.0f} MB. torch loaded into the app process: {'yes' if after['torch'] else 'no'}.",
        "", "For comparison, the default checkpoints loaded locally need 4.41 GB of float32 parameters "
            "without SD-Turbo, 9.58 GB with it (bench/results/cpu_latency.md), on top of this process.",
    ]
    out = ROOT / "bench" / "results" / "remote_memory.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
