"""Every endpoint a tool for AI assistants: the app launched in tiny mode with MCP on (the default),
driven by the `mcp` package's own client over streamable HTTP on loopback, as Claude Desktop or Cursor
would; plus forecasting from a plain list of numbers, and the start-up preload of chosen tasks.

What an assistant gets is compared with what gradio_client (the page's API, unchanged) gets for the
same input: the tool returns the same text, or the same values as one JSON object, not a tuple.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import app
from pipelines.core.errors import UserInputError
from pipelines.core.registry import PAGES, TASKS
from pipelines.readers import series
from tests.conftest import ASSETS, launch_app, tiny_settings
from ui import assistants, zerogpu

ENDPOINTS = [e for spec in PAGES for e in spec.endpoints]
NUMBERS = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141]


@pytest.fixture(scope="module")
def served():
    server = launch_app(tiny_settings())  # every tab: the tool list is the whole registry's
    yield server
    server.demo.close()


def mcp_session(server, *calls):
    """Open one MCP session (initialize, as clients do) and run `calls`: coroutines taking the session."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        async with streamable_http_client(server.url + "gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return [await call(session) for call in calls]
    # In a thread of its own: a browser test run earlier in this pytest worker leaves Playwright's event loop
    # running in the main thread, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def call(name: str, **arguments):
    return lambda session: session.call_tool(name, arguments)


def only_text(result) -> str:
    """The one text an assistant reads: no error, exactly one text content."""
    assert not result.isError, result.content
    assert [c.type for c in result.content] == ["text"], result.content
    return result.content[0].text


def test_mcp_is_really_on_and_lists_one_described_tool_per_registry_endpoint(served):
    assert served.demo.mcp_server is True  # without gradio[mcp], Gradio prints a line and this stays False
    (listed,) = mcp_session(served, lambda s: s.list_tools())
    tools = {t.name: t for t in listed.tools}
    assert list(tools) == [e.name for e in ENDPOINTS]
    for endpoint in ENDPOINTS:
        tool = tools[endpoint.name]
        # The handler's docstring, not the registry's one line, and what the tool returns.
        assert tool.description != endpoint.description and " Returns: " in tool.description, endpoint.name
        properties = tool.inputSchema["properties"]
        assert list(properties)[:len(endpoint.params)] == list(endpoint.params), endpoint.name
        undocumented = [name for name, prop in properties.items() if not prop.get("description")]
        assert not undocumented, f"{endpoint.name}: no `Args:` line for {undocumented}"
        assert set(tool.inputSchema.get("required", [])) <= set(endpoint.params), endpoint.name
    assert tools["generate_text"].inputSchema["required"] == ["prompt"]
    assert "enum" in tools["translate"].inputSchema["properties"]["target_language"]
    assert "data: URL" in tools["classify_image"].inputSchema["properties"]["image"]["description"]
    assert set(tools["forecast"].inputSchema["properties"]) >= {"series", "numbers"}
    assert "required" not in tools["forecast"].inputSchema  # numbers or a file: the tool says which is missing
    import httpx  # the schema route the README points to lists the same tools

    schema = httpx.get(served.url + "gradio_api/mcp/schema", timeout=30).json()
    assert [t["name"] for t in schema] == list(tools)


def test_a_streaming_text_tool_returns_its_final_text_alone(served):
    from gradio_client import Client

    arguments = {"prompt": "Once upon a time,", "max_new_tokens": 8, "decoding": "Greedy"}
    text, status = Client(served.url, verbose=False).predict(**arguments, api_name="/generate_text")
    assert status.startswith("**Model:**")  # the page's API still returns both
    (result,) = mcp_session(served, call("generate_text", **arguments))
    assert only_text(result) == text


def test_an_image_tool_takes_a_data_url_and_returns_json(served):
    from gradio_client import Client, handle_file

    picture = ASSETS / "images" / "cat.png"
    url = "data:image/png;base64," + base64.b64encode(picture.read_bytes()).decode()
    (result,) = mcp_session(served, call("classify_image", image=url, top_k=3))
    scores = json.loads(only_text(result))
    labels, _status = Client(served.url, verbose=False).predict(handle_file(str(picture)), top_k=3,
                                                                api_name="/classify_image")
    assert list(scores) == [c["label"] for c in labels["confidences"]]
    assert list(scores.values()) == pytest.approx([c["confidence"] for c in labels["confidences"]], abs=1e-4)


def test_forecast_takes_a_plain_list_of_numbers(served):
    plain, bracketed = mcp_session(served, call("forecast", numbers=", ".join(map(str, NUMBERS)), horizon=3),
                                   call("forecast", numbers=json.dumps(NUMBERS), horizon=3))
    answer = json.loads(only_text(plain))
    assert answer == json.loads(only_text(bracketed))
    from pipelines.tasks import forecasting

    # The same series straight through the pipeline gives the same forecast.
    expected = forecasting.forecast(served.models.task("forecasting"), NUMBERS, horizon=3).table()
    assert answer["forecast"] == expected.to_dict(orient="records")
    assert [row["time"] for row in answer["forecast"]] == [1, 2, 3]
    assert "notes" not in answer  # nothing was cleaned


def test_bad_inputs_come_back_as_tool_errors_with_their_sentence(served):
    results = mcp_session(served, call("generate_text", prompt=""),
                          call("forecast", numbers="112, 118, x"),
                          call("forecast", numbers="1, 2, 3"),
                          call("forecast"),
                          call("translate", text="Hello", source_language="English", target_language="English"))
    messages = []
    for result in results:
        assert result.isError and [c.type for c in result.content] == ["text"], result.content
        messages.append(result.content[0].text)
    assert messages[0].startswith("Type a prompt first")
    assert messages[1].startswith("“x” is not a number")
    assert "forecasting needs at least 10" in messages[2]
    assert messages[3].startswith("Give the series: numbers")
    assert messages[4].startswith("Source and target are both English")
    (after,) = mcp_session(served, call("forecast", numbers=json.dumps(NUMBERS), horizon=2))
    assert len(json.loads(only_text(after))["forecast"]) == 2  # and the app keeps serving


def test_mcp_off_serves_no_tools_and_registers_no_twins():
    server = launch_app(tiny_settings(mcp=False), ["translation"])
    try:
        assert server.demo.mcp_server is False
        assert not [f for f in server.demo.fns.values() if getattr(f.fn, assistants.TOOL_OF, None)]
        import httpx

        assert httpx.get(server.url + "gradio_api/mcp/schema").status_code == 404
    finally:
        server.demo.close()


def test_without_the_mcp_package_the_log_says_mcp_is_not_served(monkeypatch, caplog):
    """Gradio alone prints one line (none when quiet) and serves no MCP; the app logs an error saying why."""
    monkeypatch.setitem(sys.modules, "mcp", None)  # `import mcp` fails, as without the gradio[mcp] extra
    server = launch_app(tiny_settings(), ["translation"])
    try:
        assert server.demo.mcp_server is False
        assert "MCP was asked for but is not served" in caplog.text and "gradio[mcp]" in caplog.text
    finally:
        server.demo.close()


# -- forecasting from numbers, below the app --------------------------------------------------------

@pytest.mark.parametrize("text", ["112, 118, 132", "[112, 118, 132]", "112\n118\n132", "112 118;132",
                                  " [112,118,132] "])
def test_numbers_typed_as_text_in_the_usual_ways(text):
    assert series.numbers_from_text(text) == [112.0, 118.0, 132.0]


def test_gaps_in_a_list_are_filled_like_a_csv_column():
    values = series.numbers_from_text("1, 2, n/a, 4, 5, 6, 7, 8, 9, 10, 11, null")
    assert values[2] is None and values[-1] is None
    prepared = series.prepare(values)
    assert prepared.values.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # inside filled, the end dropped
    assert prepared.name == series.NUMBERS_NAME and prepared.freq is None
    assert any("interpolation" in note for note in prepared.notes)


@pytest.mark.parametrize("bad,sentence", [("", "No numbers given"), ("1, two, 3", "“two” is not a number"),
                                          ("1, 2, inf, 4", "infinite")])
def test_numbers_that_are_not_a_series_get_a_sentence(bad, sentence):
    with pytest.raises(UserInputError, match=sentence):
        series.prepare(series.numbers_from_text(bad))


def test_a_list_of_numbers_has_no_columns_to_name(models):
    from pipelines.tasks import forecasting

    with pytest.raises(UserInputError, match="leave them empty"):
        forecasting.check(models.task("forecasting"), NUMBERS, value_column="passengers")


# -- preload at start-up -----------------------------------------------------------------------------

@pytest.mark.parametrize("flag,expected", [("forecasting speech", ["forecasting", "speech"]),
                                           ("all", [s.id for s in TASKS])])
def test_main_preloads_the_chosen_tasks_even_in_lazy_mode(monkeypatch, flag, expected):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    seen = {}
    monkeypatch.setattr(zerogpu, "preload", lambda models, task_ids=None: seen.setdefault("preload", task_ids))
    monkeypatch.setattr(app, "launch", lambda demo, settings: seen.setdefault("settings", settings))
    monkeypatch.setattr(app, "build_app", lambda models: object())
    app.main(["--model-source", "tiny", "--load-mode", "lazy", "--preload", flag])
    assert seen["settings"].load_mode == "lazy" and seen["preload"] == expected
