# ruff: noqa  (Agno's test bodies are kept as they are, lint findings included)
# Ported from agno-agi/agno libs/agno/tests/integration/teams/human_in_the_loop/test_team_user_input_flows.py (snapshot 9644f22; imports changed, the OPENAI_API_KEY skip
# dropped, @pytest.mark.agno_script lines added: the scripted model makes the calls a real one makes,
# the leader's transfer_task_to_<member> first, then the member's tool call).
"""Integration tests for team HITL user input flows.

Tests sync/async/streaming flows where member agent tools require user input.
"""

import pytest

from tests.fakes.openai_server import text, tool_call, tool_calls  # noqa: F401

from runner import Agent
from runner.models import OpenAIChat as OpenAIResponses  # signoff has only chat-completions models
from runner import TeamRunPausedEvent
from runner import Team
from runner import tool

@tool(requires_user_input=True, user_input_fields=["city"])
def get_the_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city to get weather for.
    """
    return f"It is currently 70 degrees and cloudy in {city}"


def _make_agent(db=None):
    return Agent(
        name="Weather Agent",
        role="Provides weather information. Use the get_the_weather tool to get weather data.",
        model=OpenAIResponses(id="gpt-5.4"),
        tools=[get_the_weather],
        db=db,
        telemetry=False,
    )


def _make_team(agent, db=None):
    return Team(
        name="Weather Team",
        model=OpenAIResponses(id="gpt-5.4"),
        members=[agent],
        db=db,
        telemetry=False,
        instructions=[
            "You MUST delegate all weather-related tasks to the Weather Agent.",
            "Do NOT try to answer weather questions yourself - always use the Weather Agent member.",
        ],
    )


@pytest.mark.agno_script(tool_call("transfer_task_to_weather_agent", {"task": "Get the weather for a city the user picks."}), tool_call("get_the_weather", {}), text("It is currently 70 degrees and cloudy in Tokyo."), text("The weather in Tokyo is 70 degrees and cloudy."))
def test_member_user_input_pause(shared_db):
    """Team pauses when member agent tool requires user input."""
    agent = _make_agent(db=shared_db)
    team = _make_team(agent, db=shared_db)

    response = team.run("Get me the weather for any city", session_id="test_user_input_pause")

    assert response.is_paused
    assert len(response.active_requirements) >= 1

    req = response.active_requirements[0]
    assert req.needs_user_input
    assert req.user_input_schema is not None
    field_names = [f.name for f in req.user_input_schema]
    assert "city" in field_names


@pytest.mark.agno_script(tool_call("transfer_task_to_weather_agent", {"task": "Get the weather for a city the user picks."}), tool_call("get_the_weather", {}), text("It is currently 70 degrees and cloudy in Tokyo."), text("The weather in Tokyo is 70 degrees and cloudy."))
def test_member_user_input_continue(shared_db):
    """Pause -> provide user input -> continue_run completes."""
    agent = _make_agent(db=shared_db)
    team = _make_team(agent, db=shared_db)

    response = team.run("Get me the weather for any city", session_id="test_user_input_continue")

    assert response.is_paused
    req = response.active_requirements[0]
    assert req.needs_user_input

    req.provide_user_input({"city": "Tokyo"})

    result = team.continue_run(response)
    assert not result.is_paused
    assert result.content is not None


@pytest.mark.agno_script(tool_call("transfer_task_to_weather_agent", {"task": "Get the weather for a city the user picks."}), tool_call("get_the_weather", {}), text("It is currently 70 degrees and cloudy in Paris."), text("The weather in Paris is 70 degrees and cloudy."))
@pytest.mark.asyncio
async def test_member_user_input_async(shared_db):
    """Async user input flow."""
    agent = _make_agent(db=shared_db)
    team = _make_team(agent, db=shared_db)

    response = await team.arun("Get me the weather for any city", session_id="test_user_input_async")

    assert response.is_paused
    req = response.active_requirements[0]
    assert req.needs_user_input

    req.provide_user_input({"city": "Paris"})

    result = await team.acontinue_run(response)
    assert not result.is_paused
    assert result.content is not None


@pytest.mark.xfail(strict=True, reason="signoff's provide_user_input raises InvalidDecision for a field the tool does not ask for (one validation for the SDK, Slack and REST), where Agno ignores it and leaves the requirement unresolved")
@pytest.mark.agno_script(tool_call("transfer_task_to_weather_agent", {"task": "Get the weather for a city the user picks."}), tool_call("get_the_weather", {}), text("It is currently 70 degrees and cloudy in Tokyo."), text("The weather in Tokyo is 70 degrees and cloudy."))
def test_member_user_input_invalid_field_name(shared_db):
    """Providing an invalid field name leaves the requirement unresolved."""
    agent = _make_agent(db=shared_db)
    team = _make_team(agent, db=shared_db)

    response = team.run("Get me the weather for any city", session_id="test_user_input_invalid_field")

    assert response.is_paused
    req = response.active_requirements[0]
    assert req.needs_user_input

    # Provide an invalid field name — should not mark as resolved
    req.provide_user_input({"nonexistent_field": "Tokyo"})
    assert not req.is_resolved()

    # Now provide the correct field name
    req.provide_user_input({"city": "Tokyo"})
    assert req.is_resolved()

    result = team.continue_run(response)
    assert not result.is_paused
    assert result.content is not None


@pytest.mark.agno_script(tool_call("transfer_task_to_weather_agent", {"task": "Get the weather for a city the user picks."}), tool_call("get_the_weather", {}), text("It is currently 70 degrees and cloudy in Berlin."), text("The weather in Berlin is 70 degrees and cloudy."))
@pytest.mark.asyncio
async def test_member_user_input_async_streaming(shared_db):
    """Async streaming user input flow."""
    agent = _make_agent(db=shared_db)
    team = _make_team(agent, db=shared_db)

    paused_event = None
    async for event in team.arun(
        "Get me the weather for any city",
        session_id="test_user_input_async_stream",
        stream=True,
        stream_events=True,
    ):
        # Use isinstance to check for team's pause event (not the member agent's)
        if isinstance(event, TeamRunPausedEvent):
            paused_event = event
            break

    if paused_event is None:
        pytest.fail("the scripted model delegates: a member must pause the run")  # Agno skips on a flaky real model

    assert paused_event.is_paused

    req = paused_event.requirements[0]
    assert req.needs_user_input

    req.provide_user_input({"city": "Berlin"})

    result = await team.acontinue_run(
        run_id=paused_event.run_id,
        session_id=paused_event.session_id,
        requirements=paused_event.requirements,
    )
    assert not result.is_paused
    assert result.content is not None


@pytest.mark.agno_script(tool_call("transfer_task_to_weather_agent", {"task": "Get the weather for a city the user picks."}), tool_call("get_the_weather", {}), text("It is currently 70 degrees and cloudy in London."), text("The weather in London is 70 degrees and cloudy."))
def test_member_user_input_streaming(shared_db):
    """Streaming user input flow."""
    agent = _make_agent(db=shared_db)
    team = _make_team(agent, db=shared_db)

    paused_event = None
    for event in team.run(
        "Get me the weather for any city",
        session_id="test_user_input_stream",
        stream=True,
        stream_events=True,
    ):
        # Use isinstance to check for team's pause event (not the member agent's)
        if isinstance(event, TeamRunPausedEvent):
            paused_event = event
            break

    assert paused_event is not None
    assert paused_event.is_paused

    req = paused_event.requirements[0]
    assert req.needs_user_input

    req.provide_user_input({"city": "London"})

    result = team.continue_run(
        run_id=paused_event.run_id,
        session_id=paused_event.session_id,
        requirements=paused_event.requirements,
    )
    assert not result.is_paused
    assert result.content is not None
