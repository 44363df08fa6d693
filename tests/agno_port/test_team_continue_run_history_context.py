# ruff: noqa  (Agno's test bodies are kept as they are, lint findings included)
# Ported from agno-agi/agno libs/agno/tests/integration/teams/human_in_the_loop/test_continue_run_history_context.py (snapshot 9644f22; imports changed, the OPENAI_API_KEY skip
# dropped, @pytest.mark.agno_script lines added: the scripted model makes the calls a real one makes,
# the leader's transfer_task_to_<member> first, then the member's tool call).
"""
Integration tests for team continue_run with add_history_to_context=True (issue #6884).

When continue_run is called with run_id, messages are loaded from the DB where
history is scrubbed (store_history_messages defaults to False). Without the fix,
history from prior runs is missing in the continue_run context.

These tests verify that:
1. continue_run(run_id=...) includes history from prior runs for team-level tools
2. A fresh team instance also gets history via run_id
"""

import pytest

from tests.fakes.openai_server import text, tool_call, tool_calls  # noqa: F401

from runner import Agent
from runner.models import OpenAIChat
from runner import Team
from runner import tool

TEAM_INSTRUCTIONS = [
    "You are a note-taking team. You MUST use the save_note tool when asked to save a note.",
    "IMPORTANT: Always address the user by their name in every response.",
]


@tool(requires_confirmation=True)
def save_note(title: str, content: str) -> str:
    """Save a note. Requires user confirmation.

    Args:
        title: Title of the note.
        content: Content of the note.

    Returns:
        Confirmation message.
    """
    return f"Note saved - Title: '{title}', Content: '{content}'"


def _make_team(db, **kwargs):
    helper = Agent(
        name="Helper Agent",
        role="Assists with general questions",
        model=OpenAIChat(id="gpt-4o-mini"),
        telemetry=False,
    )
    return Team(
        name="Note Team",
        model=OpenAIChat(id="gpt-4o-mini"),
        members=[helper],
        tools=[save_note],
        instructions=TEAM_INSTRUCTIONS,
        db=db,
        add_history_to_context=True,
        num_history_runs=5,
        max_tool_calls_from_history=0,
        telemetry=False,
        **kwargs,
    )


@pytest.mark.agno_script(text("Nice to meet you, Alice!"), tool_call("save_note", {"title": "Reminder", "content": "Buy groceries"}), text("Alice, your note 'Reminder' has been saved."))
def test_team_continue_run_via_run_id_includes_history(shared_db):
    """Team continue_run(run_id=...) should include history from prior runs.

    Steps:
    1. First run: user introduces themselves (establishes history)
    2. Second run: triggers a requires_confirmation tool (pauses)
    3. continue_run via run_id: after confirmation, the model's response
       should reference the user's name from the first run, proving
       history was included in the context.
    """
    session_id = "test_team_history_runid_1"
    team = _make_team(shared_db)

    # Step 1: Establish history
    run1 = team.run("Hi, my name is Alice.", session_id=session_id)
    assert not run1.is_paused

    # Step 2: Trigger tool requiring confirmation
    run2 = team.run(
        "Please use the save_note tool to save a note with title 'Reminder' and content 'Buy groceries'.",
        session_id=session_id,
    )
    if not run2.is_paused:
        pytest.fail("the scripted model calls the tool: the run must pause")  # Agno skips on a flaky real model

    # Confirm all requirements
    for req in run2.active_requirements:
        if req.needs_confirmation:
            req.confirm()

    # Step 3: continue_run via run_id (loads from DB, history scrubbed)
    result = team.continue_run(
        run_id=run2.run_id,
        requirements=run2.requirements,
        session_id=session_id,
    )
    assert not result.is_paused

    # Verify continue_run produced a valid response about the saved note.
    # We don't assert the user's name since the model may not reference it when confirming a tool action,
    # even with instructions to do so. The key validation is that continue_run works with history loaded.
    assert result.content is not None and len(result.content) > 0, (
        f"continue_run should produce a response. Got: {result.content}"
    )
    content_lower = (result.content or "").lower()
    assert (
        "note" in content_lower
        or "saved" in content_lower
        or "reminder" in content_lower
        or "groceries" in content_lower
    ), f"continue_run response should reference the saved note. Got: {result.content}"


@pytest.mark.agno_script(text("Nice to meet you, Bob!"), tool_call("save_note", {"title": "TODO", "content": "Finish report"}), text("Bob, your note 'TODO' has been saved."))
def test_team_continue_run_via_run_id_new_team_includes_history(shared_db):
    """A fresh team instance should still get history when using run_id.

    This simulates a real-world scenario where the team is recreated
    (e.g., in a new API request) and continues a paused run.
    """
    session_id = "test_team_history_newteam_1"

    # First team instance: establish history + trigger pause
    team1 = _make_team(shared_db)

    run1 = team1.run("Hi, my name is Bob.", session_id=session_id)
    assert not run1.is_paused

    run2 = team1.run(
        "Please use the save_note tool to save a note with title 'TODO' and content 'Finish report'.",
        session_id=session_id,
    )
    if not run2.is_paused:
        pytest.fail("the scripted model calls the tool: the run must pause")  # Agno skips on a flaky real model

    # Confirm requirements
    for req in run2.active_requirements:
        if req.needs_confirmation:
            req.confirm()

    # Second team instance (simulates new request/process)
    team2 = _make_team(shared_db)

    result = team2.continue_run(
        run_id=run2.run_id,
        requirements=run2.requirements,
        session_id=session_id,
    )
    assert not result.is_paused

    # Verify continue_run produced a valid response with content about the saved note.
    # We don't assert the user's name since the model may not reference it when confirming a tool action,
    # even with instructions to do so. The key validation is that continue_run works with a fresh team instance.
    assert result.content is not None and len(result.content) > 0, (
        f"New team's continue_run should produce a response. Got: {result.content}"
    )
    # The response should reference the note that was saved
    content_lower = (result.content or "").lower()
    assert "note" in content_lower or "saved" in content_lower or "todo" in content_lower, (
        f"continue_run response should reference the saved note. Got: {result.content}"
    )
