# Ported from agno-agi/agno cookbook/03_teams/20_human_in_the_loop/user_input_required_stream.py
# at snapshot 9644f22: imports changed only (tests/agno_cookbook/port_examples.py).
# Run by tests/agno_cookbook/test_cookbook.py with a scripted OpenAI-compatible model.
"""Team HITL Streaming: Member agent tool requiring user input.

This example demonstrates how a team pauses when a member agent's tool
needs additional information from the user before it can be executed
in streaming mode.

Note: When streaming with member agents, use isinstance() with TeamRunPausedEvent
to distinguish the team's pause from member agent pauses.
"""

from runner import Agent
from storage import SqliteDb
from runner.models import OpenAIChat as OpenAIResponses
from runner import RunPausedEvent as TeamRunPausedEvent
from runner import Team
from runner import tool
from runner import pprint

# ---------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------
db = SqliteDb(db_file="tmp/team_hitl_stream.db")


# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------
@tool(requires_user_input=True, user_input_fields=["passenger_name"])
def book_flight(destination: str, date: str, passenger_name: str) -> str:
    """Book a flight to a destination.

    Args:
        destination (str): The destination city
        date (str): Travel date
        passenger_name (str): Full name of the passenger
    """
    return f"Booked flight to {destination} on {date} for {passenger_name}"


# ---------------------------------------------------------------------------
# Create Members
# ---------------------------------------------------------------------------
booking_agent = Agent(
    name="Booking Agent",
    role="Books travel arrangements",
    model=OpenAIResponses(id="gpt-5.2"),
    tools=[book_flight],
    instructions="You MUST call the book_flight tool immediately with whatever information you have. Do NOT ask clarifying questions - the tool will pause and request any missing information from the user.",
    db=db,
)


# ---------------------------------------------------------------------------
# Create Team
# ---------------------------------------------------------------------------
team = Team(
    name="Travel Team",
    members=[booking_agent],
    model=OpenAIResponses(id="gpt-5.2"),
    instructions="Delegate all booking requests to the Booking Agent immediately.",
    db=db,
)


# ---------------------------------------------------------------------------
# Run Team
# ---------------------------------------------------------------------------
if __name__ == "__main__":
    for run_event in team.run("Book a flight to Tokyo for next Friday", stream=True):
        if isinstance(run_event, TeamRunPausedEvent):
            for req in run_event.active_requirements:
                print(f"  needs_user_input: {req.needs_user_input}")
                print(f"  needs_confirmation: {req.needs_confirmation}")
                if req.needs_user_input:
                    print(f"  Tool: {req.tool_execution.tool_name}")
                    for field in req.user_input_schema or []:
                        print(f"  Field needed: {field.name} - {field.description}")

                    req.provide_user_input({"passenger_name": "John Smith"})

            print("Continuing run...")
            response = team.continue_run(
                run_id=run_event.run_id,
                session_id=run_event.session_id,
                requirements=run_event.requirements,
                stream=True,
            )
            pprint.pprint_run_response(response)
