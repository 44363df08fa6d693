"""A real MCP server for the tests, built on the SDK's own ``MCPServer`` (FastMCP in mcp 1.x).

Run it as ``python tests/mcp_server.py stdio`` (the client spawns it) or
``python tests/mcp_server.py streamable-http --port N`` / ``sse --port N`` (the tests start it
and wait for the port). Every tool call is appended as one JSON line to the file named by
``MCP_TEST_LOG``, so a test can prove that a tool did *not* run before a person confirmed it,
and that it ran exactly once after.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("signoff-test-files", instructions="A tiny file store used by signoff's tests.")

_FILES: dict[str, str] = {"report.csv": "id,total\n1,120\n", "notes.txt": "hello"}


def _log(tool: str, **args: object) -> None:
    path = os.environ.get("MCP_TEST_LOG")
    if path:
        with Path(path).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"tool": tool, "args": args}) + "\n")


@server.tool()
def list_files() -> str:
    """List the files in the store."""
    _log("list_files")
    return ", ".join(sorted(_FILES)) or "(no files)"


@server.tool()
def delete_file(path: str) -> str:
    """Delete a file from the store. Irreversible."""
    _log("delete_file", path=path)
    if _FILES.pop(path, None) is None:
        raise ToolError(f"no such file: {path}")
    return f"Deleted {path}."


@server.tool()
def send_message(channel: str, text: str) -> str:
    """Send a message to a channel."""
    _log("send_message", channel=channel, text=text)
    return f"Message sent to {channel}: {text}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["stdio", "streamable-http", "sse"])
    parser.add_argument("--port", type=int, default=8000)
    ns = parser.parse_args()
    if ns.transport == "stdio":
        server.run("stdio")
    elif ns.transport == "sse":
        server.run("sse", host="127.0.0.1", port=ns.port)
    else:
        server.run("streamable-http", host="127.0.0.1", port=ns.port)


if __name__ == "__main__":
    main()
