"""``MCPTools``: the tools of a Model Context Protocol server, with signoff's human steps.

The toolkit speaks to the server through the official ``mcp`` SDK (stdio, streamable HTTP or
SSE). Its tools only exist once it is connected, so the name lists of :class:`Toolkit`
(``requires_confirmation_tools``, ``external_execution_required_tools``, ...) are set after
construction, as in the seed, and applied when the tools are built; a name the server does not
have produces a warning that names it instead of silently guarding nothing.

The agent loop is synchronous while the SDK is async. Rather than spinning a fresh event loop per
call (which would reconnect, and for stdio respawn the server, on every tool call), the toolkit
owns one background thread running an event loop; the session lives in a task on that loop for
as long as the toolkit is connected, and calls reach it with ``run_coroutine_threadsafe``.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import json
import logging
import os
import re
import shlex
import sys
import threading
import warnings
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Literal, TextIO

from mcp import ClientSession, StdioServerParameters
from mcp import types as mcp_types
from mcp.client.stdio import stdio_client

from runner.tools import Function, Toolkit
from storage.errors import InvalidDecision, ToolConfigError
from storage.timeouts import MCP_TIMEOUT_S

log = logging.getLogger(__name__)

Transport = Literal["stdio", "sse", "streamable-http"]
Opener = Callable[[], AbstractAsyncContextManager[Any]]

_VALID_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


class MCPToolError(RuntimeError):
    """The server answered a tool call with ``isError``; the message is the server's text."""


class MCPConnectionError(RuntimeError):
    """The server could not be reached, or stopped answering."""


def _function_name(server_name: str) -> str:
    """A name the model API accepts; MCP allows dots and longer names, OpenAI does not."""
    if _VALID_NAME.fullmatch(server_name):
        return server_name
    return (re.sub(r"[^a-zA-Z0-9_-]", "_", server_name) or "tool")[:64]


def _render(result: mcp_types.CallToolResult) -> str:
    """The result as the model reads it: text blocks joined; other blocks described, not dropped."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.EmbeddedResource):
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(text if text is not None else f"[binary resource {resource.uri}]")
        elif isinstance(block, mcp_types.ResourceLink):
            parts.append(f"[resource {block.uri}]")
        else:
            parts.append(f"[{getattr(block, 'type', 'unknown')} content]")
    text = "\n".join(parts)
    if not text and result.structured_content is not None:
        text = json.dumps(result.structured_content, default=str)
    if result.is_error:
        raise MCPToolError(text or "the MCP server reported an error without a message")
    return text


class MCPFunction(Function):
    """One MCP tool: the server's ``inputSchema`` is the schema, and the validator of edits."""

    def __init__(self, toolkit: MCPTools, tool: mcp_types.Tool) -> None:
        schema = dict(tool.input_schema or {})
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        schema.pop("title", None)
        super().__init__(None, name=_function_name(tool.name),
                         description=tool.description or tool.title or tool.name,
                         parameters=schema)
        self.server_name = tool.name
        self.toolkit = toolkit
        self.entrypoint = self._call

    def _call(self, **arguments: Any) -> str:
        return self.toolkit.call_tool(self.server_name, arguments)

    def validate(self, args: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Check edited arguments against the server's JSON schema before they are approved."""
        import jsonschema

        schema = self.parameters
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False or properties:
            unknown = [k for k in args if k not in properties]
            if unknown:
                raise InvalidDecision(f"{self.name} has no parameter {unknown[0]!r}", unknown[0])
        checked = dict(schema)
        if partial:
            checked["required"] = []
        try:
            jsonschema.validate(args, checked)
        except jsonschema.ValidationError as exc:
            where = ".".join(str(p) for p in exc.absolute_path) or None
            raise InvalidDecision(f"{self.name}: {where or 'arguments'}: {exc.message}", where) from exc
        return dict(args)


class _Connection:
    """One live session on a background event loop; ``close`` ends the session and the thread."""

    def __init__(self, opener: Opener, timeout: float) -> None:
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="mcp-tools", daemon=True)
        self.thread.start()
        self.session: ClientSession | None = None
        self._stop: asyncio.Event | None = None
        ready: concurrent.futures.Future[list[mcp_types.Tool]] = concurrent.futures.Future()
        self.runner = asyncio.run_coroutine_threadsafe(self._serve(opener, ready), self.loop)
        try:
            self.tools = ready.result(timeout)
        except BaseException as exc:
            self.close()
            if isinstance(exc, concurrent.futures.TimeoutError):
                raise MCPConnectionError(f"the MCP server did not answer within {timeout:g} s") from None
            raise

    async def _serve(self, opener: Opener,
                     ready: concurrent.futures.Future[list[mcp_types.Tool]]) -> None:
        # The transport and the session are entered and left in this one task, as anyio's
        # cancel scopes require; other threads only submit requests to the open session.
        self._stop = asyncio.Event()
        try:
            async with opener() as streams, ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                tools: list[mcp_types.Tool] = []
                cursor: str | None = None
                while True:
                    params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
                    listing = await session.list_tools(params=params)
                    tools.extend(listing.tools)
                    cursor = listing.next_cursor
                    if not cursor:
                        break
                self.session = session
                ready.set_result(tools)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            else:
                log.warning("MCP session ended: %s", exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self.session = None

    @property
    def alive(self) -> bool:
        return self.session is not None and not self.runner.done()

    def call(self, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        session = self.session
        if session is None or self.runner.done():
            raise MCPConnectionError("the MCP session is closed")
        future = asyncio.run_coroutine_threadsafe(
            session.call_tool(name, arguments, read_timeout_seconds=self.timeout), self.loop)
        try:
            return future.result(self.timeout + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise MCPConnectionError(f"{name}: no answer from the MCP server within "
                                     f"{self.timeout:g} s") from None

    def close(self) -> None:
        if self.loop.is_closed():
            return
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        with contextlib.suppress(BaseException):
            self.runner.result(10)
        if not self.runner.done():
            self.runner.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


class MCPTools(Toolkit):
    """The tools of one MCP server. Give ``command`` (stdio), ``url`` or ``server_params``.

    ``transport`` defaults to stdio for a command and, for a URL, to SSE when the path ends in
    ``/sse`` (as in the seed's example) and streamable HTTP otherwise.
    """

    def __init__(
        self,
        command: str | Sequence[str] | None = None,
        *,
        url: str | None = None,
        server_params: StdioServerParameters | None = None,
        transport: Transport | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        headers: dict[str, str] | None = None,
        timeout_seconds: float = MCP_TIMEOUT_S,
        include_tools: Sequence[str] | None = None,
        exclude_tools: Sequence[str] | None = None,
        name: str = "mcp",
        requires_confirmation_tools: Sequence[str] | None = None,
        external_execution_required_tools: Sequence[str] | None = None,
        stop_after_tool_call_tools: Sequence[str] | None = None,
        errlog: TextIO | None = None,
    ) -> None:
        super().__init__(name, (), requires_confirmation_tools=requires_confirmation_tools,
                         external_execution_required_tools=external_execution_required_tools,
                         stop_after_tool_call_tools=stop_after_tool_call_tools)
        given = [x for x in (command, url, server_params) if x]
        if len(given) != 1:
            raise ToolConfigError("MCPTools needs exactly one of command=, url= or server_params=")
        if transport is None:
            if url:
                path = url.split("?", 1)[0].rstrip("/")
                transport = "sse" if path.endswith("/sse") else "streamable-http"
            else:
                transport = "stdio"
        if transport not in ("stdio", "sse", "streamable-http"):
            raise ToolConfigError(f"MCPTools: unknown transport {transport!r}")
        if transport == "stdio" and url:
            raise ToolConfigError("MCPTools: transport='stdio' starts a command; give command=, "
                                  "or a URL with transport 'streamable-http' or 'sse'")
        if transport != "stdio" and not url:
            raise ToolConfigError(f"MCPTools: transport {transport!r} needs url=")
        if command:
            argv = shlex.split(command) if isinstance(command, str) else list(command)
            if not argv:
                raise ToolConfigError("MCPTools: command is empty")
            server_params = StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=cwd)
        self.transport: Transport = transport
        self.url = url
        self.server_params = server_params
        self.headers = dict(headers or {})
        self.timeout_seconds = timeout_seconds
        self.include_tools = list(include_tools) if include_tools is not None else None
        self.exclude_tools = list(exclude_tools or [])
        self.errlog = errlog
        self._lock = threading.RLock()
        self._connection: _Connection | None = None
        self._pid = os.getpid()
        self._functions: list[MCPFunction] | None = None
        _open_toolkits.add(self)

    # ------------------------------------------------------------ connection

    def _opener(self) -> Opener:
        if self.transport == "stdio":
            assert self.server_params is not None
            params = self.server_params
            errlog = self.errlog or _usable_stderr()
            return lambda: stdio_client(params, errlog=errlog)
        assert self.url is not None
        url = self.url
        if self.transport == "sse":
            from mcp.client.sse import sse_client

            headers = self.headers or None
            return lambda: sse_client(url, headers=headers, timeout=self.timeout_seconds)
        from mcp.client.streamable_http import streamable_http_client

        if not self.headers:
            return lambda: streamable_http_client(url)

        @contextlib.asynccontextmanager
        async def with_headers() -> AsyncIterator[Any]:
            from mcp.shared._httpx_utils import create_mcp_http_client

            async with create_mcp_http_client(headers=self.headers) as client, \
                    streamable_http_client(url, http_client=client) as streams:
                yield streams

        return with_headers

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and self._connection.alive

    def connect(self) -> MCPTools:
        """Open the session and load the server's tools (done lazily on first use otherwise)."""
        with self._lock:
            if self._pid != os.getpid():
                # A forked worker inherits the object but not the thread: start afresh.
                self._connection = None
                self._pid = os.getpid()
            if self._connection is not None and self._connection.alive:
                return self
            if self._connection is not None:
                self._connection.close()
            self._connection = _Connection(self._opener(), self.timeout_seconds)
            self._functions = None
        return self

    def close(self) -> None:
        """End the session, stop a stdio server, and stop the background thread."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            connection.close()

    def __enter__(self) -> MCPTools:
        return self.connect()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    async def __aenter__(self) -> MCPTools:
        return await asyncio.to_thread(self.connect)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await asyncio.to_thread(self.close)

    # ---------------------------------------------------------------- tools

    def server_tools(self) -> list[mcp_types.Tool]:
        """The tools as the server lists them (connecting if needed), after include/exclude."""
        self.connect()
        assert self._connection is not None
        tools = self._connection.tools
        if self.include_tools is not None:
            tools = [t for t in tools if t.name in self.include_tools]
        return [t for t in tools if t.name not in self.exclude_tools]

    def base_functions(self) -> list[Function]:
        with self._lock:
            if self._functions is None or not self.is_connected:
                self._functions = [MCPFunction(self, t) for t in self.server_tools()]
                names = [f.name for f in self._functions]
                duplicated = sorted({n for n in names if names.count(n) > 1})
                if duplicated:
                    raise ToolConfigError(f"MCP server tools map to the same name: {duplicated}")
            return list(self._functions)

    def functions(self) -> list[Function]:
        """Apply the name lists, accepting the server's own names for tools we had to rename."""
        base = self.base_functions()
        aliases = {getattr(f, "server_name", f.name): f.name for f in base}
        lists = {
            "requires_confirmation": {aliases.get(n, n) for n in self.requires_confirmation_tools},
            "external_execution": {aliases.get(n, n) for n in self.external_execution_required_tools},
            "stop_after_tool_call": {aliases.get(n, n) for n in self.stop_after_tool_call_tools},
        }
        known = {f.name for f in base}
        unknown = sorted({n for names in lists.values() for n in names if n not in known})
        if unknown:
            warnings.warn(
                f"toolkit {self.name!r}: the MCP server has no tool named {', '.join(unknown)} "
                f"(it has: {', '.join(sorted(aliases)) or 'none'})",
                stacklevel=2,
            )
        out: list[Function] = []
        for fn in base:
            changes = {flag: True for flag, names in lists.items() if fn.name in names}
            out.append(fn.copy(**changes) if changes else fn)
        return out

    def call_tool(self, name: str, arguments: dict[str, Any]) -> str:
        """Call a tool by the server's name; reconnects once if the session was lost."""
        self.connect()
        assert self._connection is not None
        try:
            result = self._connection.call(name, arguments)
        except MCPConnectionError:
            if self._connection is not None and self._connection.alive:
                raise
            self.connect()
            result = self._connection.call(name, arguments)
        return _render(result)

    def __repr__(self) -> str:
        where = self.url or (self.server_params.command if self.server_params else "?")
        return f"<MCPTools {self.transport} {where}>"


def _usable_stderr() -> TextIO:
    """The stdio server's stderr goes to ours when it is a real file, else to /dev/null."""
    try:
        sys.stderr.fileno()
        return sys.stderr
    except (AttributeError, OSError, ValueError):
        # Kept open for as long as the server process writes to it.
        return open(os.devnull, "w")


_open_toolkits: weakref.WeakSet[MCPTools] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Stop stdio servers at exit instead of leaving them orphaned."""
    for toolkit in list(_open_toolkits):
        with contextlib.suppress(Exception):
            toolkit.close()
