"""Agents for the Slack end-to-end tests: the bundled examples plus a tool that asks a person."""

from __future__ import annotations

from runner.agent import Agent
from runner.approval import approval
from runner.examples import customer_email, finance, infrastructure
from runner.tools import tool


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

agents = [customer_email, finance, infrastructure, travel, treasury]
teams: list[object] = []
workflows: list[object] = []
