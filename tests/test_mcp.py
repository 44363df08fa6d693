"""MCP toolkits against a real MCP server (``tests/mcp_server.py``, the SDK's own server).

The server runs as a stdio subprocess spawned by the client, and as a separate process serving
streamable HTTP or SSE on a free local port. Every tool call the server receives is logged to a
file, so the tests prove that a guarded tool did not reach the server before a person confirmed
it, and reached it exactly once after.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner import Agent, Team, ToolCallCompleted, ToolCallStarted
from runner.mcp import MCPFunction, MCPTools
from storage import Database, RunStatus
from storage.errors import InvalidDecision, ToolConfigError
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.test_team import SEED, STREAM, cont, run

REPO = Path(__file__).resolve().parent.parent
SERVER = REPO / "tests" / "mcp_server.py"


class ServerLog:
    """The tool calls the MCP server received, read from its log file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [e for e in entries if tool is None or e["tool"] == tool]


@pytest.fixture
def server_log(tmp_path: Path) -> ServerLog:
    return ServerLog(tmp_path / "mcp-calls.jsonl")


@pytest.fixture
def stdio_tools(server_log: ServerLog) -> Iterator[MCPTools]:
    toolkit = MCPTools(command=[sys.executable, str(SERVER), "stdio"],
                       env={"MCP_TEST_LOG": str(server_log.path)})
    yield toolkit
    toolkit.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server(server_log: ServerLog, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Start the server over HTTP (``streamable-http`` or ``sse``); returns its URL."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(transport: str) -> str:
        port = _free_port()
        env = dict(os.environ, MCP_TEST_LOG=str(server_log.path))
        with (tmp_path / f"server-{transport}.log").open("wb") as errors:
            proc = subprocess.Popen([sys.executable, str(SERVER), transport, "--port", str(port)],
                                    env=env, stdout=errors, stderr=subprocess.STDOUT)
        processes.append(proc)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the MCP server did not start: "
                                       f"{(tmp_path / f'server-{transport}.log').read_text()}") from None
                time.sleep(0.05)
        return f"http://127.0.0.1:{port}/" + ("sse" if transport == "sse" else "mcp")

    yield start
    for proc in processes:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def file_agent(toolkit: MCPTools) -> Agent:
    return Agent(id="files", name="Files", tools=[toolkit], instructions="You manage files.")


# ------------------------------------------------------------------------------ tests


def test_construction_is_checked_and_lazy() -> None:
    with pytest.raises(ToolConfigError, match="exactly one"):
        MCPTools()
    with pytest.raises(ToolConfigError, match="exactly one"):
        MCPTools(command="server", url="http://x/mcp")
    with pytest.raises(ToolConfigError, match="stdio"):
        MCPTools(url="http://127.0.0.1:1/mcp", transport="stdio")
    with pytest.raises(ToolConfigError, match="needs url"):
        MCPTools(command="server", transport="sse")
    assert MCPTools(url="https://example.com/sse").transport == "sse"
    assert MCPTools(url="https://example.com/mcp").transport == "streamable-http"
    toolkit = MCPTools(command="python -m some.server --flag")
    assert toolkit.transport == "stdio" and toolkit.server_params is not None
    assert (toolkit.server_params.command, toolkit.server_params.args) == ("python", ["-m", "some.server", "--flag"])
    assert not toolkit.is_connected, "nothing is started before the tools are needed"


def test_tools_are_loaded_on_connect_with_the_servers_schema(stdio_tools: MCPTools,
                                                              server_log: ServerLog) -> None:
    assert not stdio_tools.is_connected
    stdio_tools.requires_confirmation_tools = ["delete_file"]
    functions = stdio_tools.functions()
    assert stdio_tools.is_connected
    by_name = {f.name: f for f in functions}
    assert sorted(by_name) == ["delete_file", "list_files", "send_message"]
    delete = by_name["delete_file"]
    assert isinstance(delete, MCPFunction)
    assert delete.requires_confirmation is True and by_name["list_files"].requires_confirmation is False
    assert delete.parameters["required"] == ["path"]
    assert delete.parameters["properties"]["path"]["type"] == "string"
    assert delete.description == "Delete a file from the store. Irreversible."
    assert by_name["list_files"].execute({}) == "notes.txt, report.csv"
    assert server_log.calls() == [{"tool": "list_files", "args": {}}]
    stdio_tools.close()
    assert not stdio_tools.is_connected
    assert by_name["send_message"].execute({"channel": "ops", "text": "hi"}) == "Message sent to ops: hi"
    assert stdio_tools.is_connected, "a call after close reconnects"


def test_unknown_names_produce_a_warning_that_names_them(stdio_tools: MCPTools) -> None:
    stdio_tools.requires_confirmation_tools = ["delete_file", "update_record"]
    stdio_tools.external_execution_required_tools = ["rotate_keys"]
    with pytest.warns(UserWarning, match="no tool named rotate_keys, update_record"):
        functions = stdio_tools.functions()
    assert [f.name for f in functions if f.requires_confirmation] == ["delete_file"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stdio_tools.requires_confirmation_tools = ["delete_file"]
        stdio_tools.external_execution_required_tools = []
        stdio_tools.functions()


@STREAM
def test_stdio_tool_waits_for_confirmation(sqlite_db: Database, fake_openai: FakeOpenAI,
                                           stdio_tools: MCPTools, server_log: ServerLog,
                                           stream: bool) -> None:
    stdio_tools.requires_confirmation_tools = ["delete_file", "send_message"]
    fake_openai.script(
        tool_call("list_files", {}, id="call_list"),
        tool_call("delete_file", {"path": "report.csv"}, id="call_delete"),
    )
    agent = file_agent(stdio_tools)
    response, _ = run(agent, "Delete the report", stream)
    assert response.is_paused
    [req] = response.active_requirements
    assert (req.tool_name, req.tool_args) == ("delete_file", {"path": "report.csv"})
    assert isinstance(req.function, MCPFunction)
    offered = {t["function"]["name"]: t["function"] for t in fake_openai.requests[0]["tools"]}
    assert offered["delete_file"]["parameters"]["required"] == ["path"]
    assert [c["tool"] for c in server_log.calls()] == ["list_files"], "delete_file has not reached the server"
    assert fake_openai.requests[1]["messages"][-1] == {"role": "tool", "tool_call_id": "call_list",
                                                       "content": "notes.txt, report.csv"}
    req.confirm()
    fake_openai.script(text("The report is deleted."))
    done, events = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED and done.content == "The report is deleted."
    assert server_log.calls("delete_file") == [{"tool": "delete_file", "args": {"path": "report.csv"}}]
    assert fake_openai.requests[2]["messages"][-1] == {"role": "tool", "tool_call_id": "call_delete",
                                                       "content": "Deleted report.csv."}
    if stream:
        assert [e.tool_name for e in events if isinstance(e, ToolCallStarted)] == ["delete_file"]
        assert [e.result for e in events if isinstance(e, ToolCallCompleted)] == ["Deleted report.csv."]


def test_edited_arguments_are_checked_against_the_servers_schema(sqlite_db: Database,
                                                                 fake_openai: FakeOpenAI,
                                                                 stdio_tools: MCPTools,
                                                                 server_log: ServerLog) -> None:
    stdio_tools.requires_confirmation_tools = ["delete_file"]
    fake_openai.script(tool_call("delete_file", {"path": "report.csv"}))
    agent = file_agent(stdio_tools)
    response = agent.run("Delete the report")
    [req] = response.active_requirements
    with pytest.raises(InvalidDecision, match="path"):
        req.confirm({"path": 3})
    with pytest.raises(InvalidDecision, match="'force'"):
        req.confirm({"force": True})
    req.confirm({"path": "notes.txt"})
    fake_openai.script(text("Deleted the notes instead."))
    done = agent.continue_run(response)
    assert done.status is RunStatus.COMPLETED
    assert server_log.calls("delete_file") == [{"tool": "delete_file", "args": {"path": "notes.txt"}}]


def test_external_execution_never_reaches_the_server(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                      stdio_tools: MCPTools, server_log: ServerLog) -> None:
    stdio_tools.external_execution_required_tools = ["send_message"]
    fake_openai.script(tool_call("send_message", {"channel": "#ops", "text": "deploy at 5"}))
    agent = file_agent(stdio_tools)
    response = agent.run("Tell ops")
    [req] = response.active_requirements
    assert req.needs_external_execution
    req.set_external_execution_result("Posted by hand in #ops.")
    fake_openai.script(text("Ops were told."))
    done = agent.continue_run(response)
    assert done.content == "Ops were told."
    assert server_log.calls("send_message") == []
    assert fake_openai.requests[1]["messages"][-1]["content"] == "Posted by hand in #ops."


def test_a_tool_error_from_the_server_reaches_the_model(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                        stdio_tools: MCPTools) -> None:
    fake_openai.script(tool_call("delete_file", {"path": "missing.txt"}), text("That file does not exist."))
    done = file_agent(stdio_tools).run("Delete missing.txt")
    assert done.status is RunStatus.COMPLETED
    result = fake_openai.requests[1]["messages"][-1]["content"]
    assert result.startswith("Error: delete_file failed: MCPToolError:") and "no such file: missing.txt" in result
    assert [(t.tool_name, t.status) for t in done.tools] == [("delete_file", "failed")]


@STREAM
def test_streamable_http_tool_waits_for_confirmation(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                     http_server: Callable[[str], str],
                                                     server_log: ServerLog, stream: bool) -> None:
    url = http_server("streamable-http")
    toolkit = MCPTools(url=url, transport="streamable-http")
    try:
        toolkit.requires_confirmation_tools = ["send_message"]
        fake_openai.script(tool_call("send_message", {"channel": "#sales", "text": "Q3 is up"}))
        agent = file_agent(toolkit)
        response, _ = run(agent, "Tell sales", stream)
        [req] = response.active_requirements
        assert req.tool_name == "send_message"
        assert server_log.calls() == []
        req.confirm()
        fake_openai.script(text("Sales were told."))
        done, _ = cont(agent, stream, response)
        assert done.status is RunStatus.COMPLETED
        assert server_log.calls() == [{"tool": "send_message",
                                       "args": {"channel": "#sales", "text": "Q3 is up"}}]
        assert fake_openai.requests[1]["messages"][-1]["content"] == "Message sent to #sales: Q3 is up"
    finally:
        toolkit.close()


def test_mcp_tool_of_a_team_member(sqlite_db: Database, fake_openai: FakeOpenAI,
                                   stdio_tools: MCPTools, server_log: ServerLog) -> None:
    stdio_tools.requires_confirmation_tools = ["delete_file"]
    team = Team(id="it", name="IT", members=[file_agent(stdio_tools)])
    fake_openai.script(
        tool_call("transfer_task_to_files", {"task": "Delete report.csv"}),
        tool_call("delete_file", {"path": "report.csv"}),
    )
    response = team.run("Clean up the report")
    [req] = response.active_requirements
    assert req.member_agent_name == "Files" and isinstance(req.function, MCPFunction)
    req.confirm()
    fake_openai.script(text("Deleted."), text("The report is gone."))
    done = team.continue_run(response)
    assert done.content == "The report is gone."
    assert server_log.calls("delete_file") == [{"tool": "delete_file", "args": {"path": "report.csv"}}]


# ------------------------------------------------------------------- the seed's snippet

SEED_MCP_SNIPPET = """\
from runner.mcp import MCPTools
mcp_tools = MCPTools(url="https://your-mcp-server.com/sse")
# Set requires_confirmation after initialization
# (MCP tools aren't loaded until build_tools() is called)
mcp_tools.requires_confirmation_tools = ["delete_file", "send_message", "update_record"]
"""


def test_seed_snippet_is_the_seeds() -> None:
    assert SEED.exists(), f"the seed document is expected at {SEED} (shared/ beside the checkout)"
    seed_lines = {line.strip() for line in SEED.read_text().splitlines()}
    for line in SEED_MCP_SNIPPET.splitlines():
        if line.startswith("from runner"):
            assert "from agno.tools.mcp import MCPTools" in seed_lines
            continue
        assert line.strip() in seed_lines, line


def test_seed_mcp_snippet_runs(sqlite_db: Database, fake_openai: FakeOpenAI,
                               http_server: Callable[[str], str], server_log: ServerLog) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(SEED_MCP_SNIPPET, "seed-mcp", "exec"), namespace)
    seed_tools = namespace["mcp_tools"]
    assert seed_tools.transport == "sse" and not seed_tools.is_connected
    assert seed_tools.requires_confirmation_tools == ["delete_file", "send_message", "update_record"]

    # The same snippet against a real SSE server: the marks apply, the unknown name is reported.
    url = http_server("sse")
    local = SEED_MCP_SNIPPET.replace("https://your-mcp-server.com/sse", url)
    exec(compile(local, "seed-mcp-local", "exec"), namespace)
    mcp_tools = namespace["mcp_tools"]
    try:
        agent = Agent(id="files", name="Files", tools=[mcp_tools])
        fake_openai.script(tool_call("delete_file", {"path": "notes.txt"}))
        with pytest.warns(UserWarning, match="no tool named update_record"):
            response = agent.run("Delete the notes")
        [req] = response.active_requirements
        assert req.tool_name == "delete_file" and server_log.calls() == []
        req.confirm()
        fake_openai.script(text("Notes deleted."))
        done = agent.continue_run(response)
        assert done.content == "Notes deleted."
        assert server_log.calls() == [{"tool": "delete_file", "args": {"path": "notes.txt"}}]
    finally:
        mcp_tools.close()
