"""Agents for the Slack end-to-end tests: the bundled examples plus a tool that asks a person.

Also the bundled team and data pipeline, a variant of the pipeline that skips a rejected step,
and an agent whose tools come from a real MCP server (``tests/mcp_server.py`` over stdio) with
``requires_confirmation_tools`` set after construction, as in the seed. The server logs every
call it receives to ``MCP_LOG`` (one file per test process).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from runner.agent import Agent
from runner.approval import approval
from runner.examples import (
    customer_email,
    data_pipeline,
    finance,
    infrastructure,
    support,
)
from runner.mcp import MCPTools
from runner.tools import tool
from runner.workflow import Workflow


@tool(requires_user_input=True, user_input_fields=["nights"])
def book_hotel(city: str, nights: int) -> str:
    """Book a hotel; a person says for how many nights."""
    return f"Booked {nights} nights in {city}."


travel = Agent(
    id="travel",
    name="Travel",
    tools=[book_hotel],
    description="Books hotels; asks how many nights.",
    instructions="You book hotels.",
)


@tool
@approval(type="required", approvers=["S_ADMINS"], quorum=2)
def wire_money(account: str, amount: float) -> str:
    """Wire money out; two admins must agree."""
    return f"Wired ${amount:.2f} to {account}."


treasury = Agent(
    id="treasury",
    name="Treasury",
    tools=[wire_money],
    description="Wires money; two admins must approve.",
    instructions="You move money.",
)

data_pipeline_skip = Workflow(
    id="data-pipeline-skip",
    name="Data pipeline (skip)",
    description="The bundled data pipeline, but a rejected publish is skipped instead of cancelling.",
    steps=[replace(s, on_reject="skip") if s.requires_confirmation else s for s in data_pipeline.steps],
)

MCP_SERVER = Path(__file__).resolve().parent / "mcp_server.py"
MCP_LOG = Path(tempfile.gettempdir()) / f"signoff-slack-mcp-{os.getpid()}.jsonl"

file_tools = MCPTools(command=[sys.executable, str(MCP_SERVER), "stdio"], env={"MCP_TEST_LOG": str(MCP_LOG)},
                      name="files")
# Set after construction: the server's tools are only known once the toolkit connects.
file_tools.requires_confirmation_tools = ["delete_file", "send_message"]

files = Agent(
    id="files",
    name="Files",
    tools=[file_tools],
    description="Manages a file store over MCP; deleting and sending need confirmation.",
    instructions="You manage files.",
)

agents = [customer_email, finance, infrastructure, travel, treasury, files]
teams = [support]
workflows = [data_pipeline, data_pipeline_skip]
