"""The table for Agno's agent, approval and team HITL examples (cookbook/02_agents, 03_teams)."""

from __future__ import annotations

from collections.abc import Callable

from tests.agno_cookbook.harness import HN_STORIES, Example, Stored
from tests.fakes.openai_server import text, tool_call, tool_calls

HN = "get_top_hackernews_stories"
TOP_TWO = f"1. {HN_STORIES[1]}\n2. {HN_STORIES[2]}"


def outcome(
    tool: str, kind: str, status: str, *, runs: int = 1, ran: int = 1, run_kind: str = "agent"
) -> Callable[[Stored], None]:
    """The common outcome: the run(s) completed, the human step was decided as the person chose,
    and the tool ran exactly ``ran`` times (0 when the person ran it or rejected it)."""

    def check(stored: Stored) -> None:
        assert stored.run_statuses(run_kind) == ["completed"] * runs
        assert (kind, tool, status) in stored.requirements
        assert stored.executions[tool] == ran

    return check


def feedback_outcome(stored: Stored) -> None:
    """The person's pick answered the question; the run completed."""
    assert stored.run_statuses() == ["completed"]
    assert [(tool, status) for _kind, tool, status in stored.requirements] == [("ask_user", "answered")]


def control_flow_outcome(stored: Stored) -> None:
    """Two runs, each asked the person once through get_user_input, then used the real tool."""
    assert stored.run_statuses() == ["completed", "completed"]
    assert stored.requirements == [("user_input", "get_user_input", "answered")] * 2
    assert stored.executions["send_email"] == stored.executions["get_emails"] == 1


def list_and_resolve_outcome(stored: Stored) -> None:
    """Both runs ended (one tool ran, the rejected one did not) and the approvals were deleted."""
    assert stored.run_statuses() == ["completed", "completed"]
    assert stored.approvals == []
    assert stored.executions["delete_user_data"] == 1 and stored.executions["send_bulk_email"] == 0


def overview_outcome(stored: Stored) -> None:
    """One required and one audit approval, both approved; both actions ran once."""
    assert sorted(stored.approvals) == [
        ("audit", "sensitive_action", "approved"),
        ("required", "critical_action", "approved"),
    ]
    assert stored.executions["critical_action"] == stored.executions["sensitive_action"] == 1


def mixed_tools_outcome(stored: Stored) -> None:
    """The person ran the external tool; signoff ran the regular one, once, in the same turn."""
    outcome("get_user_location", "external_execution", "done_externally", ran=0)(stored)
    assert stored.executions["get_current_date"] == 1
    assert [tool for _kind, tool, _status in stored.requirements] == ["get_user_location"]


AGENT_HITL = "02_agents/10_human_in_the_loop/"
APPROVALS = "02_agents/11_approvals/"
TEAMS = "03_teams/20_human_in_the_loop/"
WEATHER_TEAM = (
    tool_call("transfer_task_to_weatheragent", {"task": "Get the weather in Tokyo"}),
    tool_call("get_the_weather", {"city": "Tokyo"}),
    text("It is 70 degrees and cloudy in Tokyo."),
    text("Tokyo: 70 degrees and cloudy."),
)
DEPLOY_TEAM = (
    tool_call("transfer_task_to_deploy_agent", {"task": "Deploy the payments app version 2.1 to production"}),
    tool_call("deploy_to_production", {"app_name": "payments", "version": "2.1"}),
    text("Deployed payments v2.1."),
    text("Payments v2.1 is live in production."),
)
RELEASE_TEAM = (
    tool_call("approve_deployment", {"environment": "staging", "service": "auth"}),
    text("auth is on staging now."),
)
ALL_PASSED = "--- All checks passed! ---"
DELIBERATE_REQUIRED = (
    "deliberate difference: a requirement the caller confirms cannot bypass a pending required "
    "approval, so continue_run raises ApprovalPending before db.update_approval resolves it"
)

REQUIRED_ON_HUMAN_STEP = (
    "@approval (type='required') on an external_execution or requires_user_input tool raises "
    "ToolConfigError when the tool is defined; Agno records a pending required approval beside the "
    "human step (and the deliberate difference above would then apply to its continue_run)"
)


def approved(tool: str, approval_type: str, *, ran: int, run_kind: str = "agent") -> Callable[[Stored], None]:
    """One approval row of this type for the tool, approved; the run completed; the tool ran ``ran`` times."""

    def check(stored: Stored) -> None:
        assert stored.approvals == [(approval_type, tool, "approved")]
        assert stored.run_statuses(run_kind) == ["completed"]
        assert stored.executions[tool] == ran

    return check


def multi_round_outcome(stored: Stored) -> None:
    """Two rounds of questions in one team run, each answered once, each tool run once."""
    assert stored.run_statuses("team") == ["completed"]
    assert [(tool, status) for _kind, tool, status in stored.requirements] == [
        ("collect_name", "answered"),
        ("collect_preferences", "answered"),
    ]
    assert stored.executions["collect_name"] == stored.executions["collect_preferences"] == 1


def audit_confirmed_then_rejected(stored: Stored) -> None:
    """Two audit rows, one per decision; the delete ran only for the confirmed call."""
    assert sorted(stored.approvals) == [
        ("audit", "delete_user_data", "approved"),
        ("audit", "delete_user_data", "rejected"),
    ]
    assert stored.run_statuses() == ["completed", "completed"]
    assert stored.executions["delete_user_data"] == 1


AGENT_CASES: tuple[Example, ...] = (
    Example(
        AGENT_HITL + "confirmation_required.py",
        replies=(tool_call(HN, {"num_stories": 2}), text(TOP_TWO)),
        typed=("y",),
        printed=(f"{HN}({{'num_stories': 2}}) requires confirmation", HN_STORIES[2]),
        model_saw=(HN_STORIES[1], HN_STORIES[2]),
        stored=outcome(HN, "confirmation", "approved"),
    ),
    Example(
        AGENT_HITL + "confirmation_with_session_state.py",
        replies=(tool_call("add_to_watchlist", {"symbol": "AAPL"}), text("AAPL is on your watchlist.")),
        typed=("y",),
        printed=("Status: paused", "AAPL is on your watchlist.", "Final session state: {'watchlist': ['AAPL']}"),
        model_saw=("Added AAPL to watchlist. Current watchlist: ['AAPL']",),
        stored=outcome("add_to_watchlist", "confirmation", "approved"),
    ),
    Example(
        AGENT_HITL + "external_tool_execution.py",
        replies=(tool_call("execute_shell_command", {"command": "ls"}), text("You have one folder: tmp.")),
        typed=(),
        printed=("Executing execute_shell_command with args {'command': 'ls'} externally", "one folder: tmp"),
        model_saw=("tmp\\n",),
        stored=outcome("execute_shell_command", "external_execution", "done_externally", ran=0),
    ),
    Example(
        AGENT_HITL + "mixed_external_and_regular_tools.py",
        replies=(
            tool_calls(("get_user_location", {}), ("get_current_date", {})),
            text("In San Francisco it is now the date the tool gave."),
        ),
        typed=(),
        printed=(
            "Agent paused - handling external tool calls...",
            "Executing get_user_location with args {} externally",
            "In San Francisco it is now",
        ),
        model_saw=('{\\"city\\": \\"San Francisco\\", \\"country\\": \\"US\\"}',),
        stored=mixed_tools_outcome,
    ),
    Example(
        AGENT_HITL + "user_feedback.py",
        replies=(
            tool_call(
                "ask_user",
                {
                    "questions": [
                        {
                            "question": "What kind of trip do you want?",
                            "header": "Trip type",
                            "options": [{"label": "Beach", "description": "Sun and sea"}, {"label": "Mountains"}],
                            "multi_select": False,
                        }
                    ]
                },
            ),
            text("A beach holiday: here is a plan."),
        ),
        typed=("1",),
        printed=("Trip type: What kind of trip do you want?", "1. Beach - Sun and sea", "-> Selected: ['Beach']"),
        model_saw=("Beach",),
        stored=feedback_outcome,
    ),
    Example(
        AGENT_HITL + "user_input.py",
        replies=(
            tool_call(
                "get_user_input",
                {
                    "user_input_fields": [
                        {"field_name": "to_address", "field_type": "str", "field_description": "Who gets it"},
                        {"field_name": "subject", "field_type": "str", "field_description": "The subject"},
                    ]
                },
            ),
            tool_call(
                "send_email",
                {"subject": "Weather", "body": "What is the weather in Tokyo?", "to_address": "kim@example.com"},
            ),
            text("Sent your email to kim@example.com."),
            tool_call(
                "get_user_input",
                {
                    "user_input_fields": [
                        {"field_name": "date_from", "field_type": "str", "field_description": "Start date"},
                        {"field_name": "date_to", "field_type": "str", "field_description": "End date"},
                    ]
                },
            ),
            tool_call("get_emails", {"date_from": "2026-11-01", "date_to": "2026-11-30"}),
            text("You have 2 emails: Hello and Random other email."),
        ),
        typed=("kim@example.com", "Weather", "2026-11-01", "2026-11-30"),
        printed=(
            "Field: to_address\nDescription: Who gets it\nType: str\n"
            "Please enter a value for to_address: kim@example.com",
            "Sent your email to kim@example.com.",
            "Field: date_to",
            "You have 2 emails",
        ),
        model_saw=(
            'User input received: {\\"subject\\": \\"Weather\\", \\"to_address\\": \\"kim@example.com\\"}',
            "Random other email",
        ),
        stored=control_flow_outcome,
    ),
    Example(
        AGENT_HITL + "user_input_required.py",
        replies=(
            tool_call("send_email", {"subject": "Hello", "body": "Hello, world!"}),
            text("Sent your email to alice@example.com."),
        ),
        typed=("alice@example.com",),
        printed=("Field: to_address", "Sent your email to alice@example.com."),
        model_saw=("Sent email to alice@example.com with subject Hello and body Hello, world!",),
        stored=outcome("send_email", "user_input", "answered"),
    ),
    Example(
        APPROVALS + "approval_basic.py",
        replies=(tool_call(HN, {"num_stories": 2}), text(TOP_TWO)),
        typed=(),
        printed=("Pending approvals: 1", "Status:      pending", "Resolved by:     test_user", ALL_PASSED),
        model_saw=(HN_STORIES[2],),
        stored=approved(HN, "required", ran=1),
        xfail=DELIBERATE_REQUIRED,
    ),
    Example(
        APPROVALS + "approval_async.py",
        replies=(tool_call(HN, {"num_stories": 2}), text(TOP_TWO)),
        typed=(),
        printed=("Pending approvals: 1", "Resolved status: approved", ALL_PASSED),
        model_saw=(HN_STORIES[2],),
        stored=approved(HN, "required", ran=1),
        xfail=DELIBERATE_REQUIRED,
    ),
    Example(
        APPROVALS + "approval_external_execution.py",
        replies=(
            tool_call("deploy_to_production", {"service_name": "auth-service", "version": "2.1.0"}),
            text("auth-service v2.1.0 is live."),
        ),
        typed=(),
        printed=("Pending approvals: 1", "Setting result for tool: deploy_to_production", ALL_PASSED),
        model_saw=("Deployed auth-service v2.1.0",),
        stored=approved("deploy_to_production", "required", ran=0),
        xfail=REQUIRED_ON_HUMAN_STEP,
    ),
    Example(
        APPROVALS + "approval_list_and_resolve.py",
        replies=(
            tool_call("delete_user_data", {"user_id": "U-12345"}),
            tool_call("send_bulk_email", {"subject": "Holiday Sale", "recipient_count": 5000}),
            text("All data for user U-12345 is deleted."),
            text("The bulk email was not sent: an admin rejected it."),
        ),
        typed=(),
        printed=("All approvals deleted. Total: 0", ALL_PASSED),
        stored=list_and_resolve_outcome,
        xfail=("deliberate difference: approval rows are part of the audit record and are never deleted, "
               "so there is no db.delete_approval(approval_id)"),
    ),
    Example(
        APPROVALS + "approval_post_hook.py",
        replies=(
            tool_call("delete_user_data", {"user_id": "U-12345"}),
            text("All data for user U-12345 has been permanently deleted."),
        ),
        typed=(),
        printed=("metadata['approval'] resolved_by: admin@example.com", ALL_PASSED),
        model_saw=("All data for user U-12345 has been permanently deleted.",),
        stored=approved("delete_user_data", "required", ran=1),
    ),
    Example(
        APPROVALS + "approval_team.py",
        replies=(
            tool_call("transfer_task_to_deploy_agent", {"task": "Deploy the payments app version 2.1 to production"}),
            tool_call("deploy_to_production", {"app_name": "payments", "version": "2.1"}),
            text("Deployed payments v2.1."),
            text("The payments app v2.1 is in production."),
        ),
        typed=(),
        printed=("Confirming tool: deploy_to_production({'app_name': 'payments', 'version': '2.1'})", ALL_PASSED),
        stored=approved("deploy_to_production", "required", ran=1, run_kind="team"),
        xfail=DELIBERATE_REQUIRED,
    ),
    Example(
        APPROVALS + "approval_user_input.py",
        replies=(tool_call("send_money", {"amount": 50, "note": "lunch money"}), text("Sent $50 to Alice.")),
        typed=(),
        printed=("Providing user input for tool: send_money", ALL_PASSED),
        model_saw=("Sent $50.0 to Alice: lunch money",),
        stored=approved("send_money", "required", ran=1),
        xfail=REQUIRED_ON_HUMAN_STEP,
    ),
    Example(
        APPROVALS + "audit_approval_async.py",
        replies=(tool_call("delete_user_data", {"user_id": "U-99887"}), text("Deleted data for user U-99887.")),
        typed=(),
        printed=("Confirming tool: delete_user_data", ALL_PASSED),
        model_saw=("Deleted data for user U-99887",),
        stored=approved("delete_user_data", "audit", ran=1),
    ),
    Example(
        APPROVALS + "audit_approval_confirmation.py",
        replies=(
            tool_call("delete_user_data", {"user_id": "U-100"}),
            text("Deleted data for user U-100."),
            tool_call("delete_user_data", {"user_id": "U-200"}),
            text("I did not delete U-200: an admin rejected it."),
        ),
        typed=(),
        printed=("Confirming tool: delete_user_data", "Rejecting tool: delete_user_data", ALL_PASSED),
        model_saw=("Rejected by admin: not authorized",),
        stored=audit_confirmed_then_rejected,
    ),
    Example(
        APPROVALS + "audit_approval_external.py",
        replies=(
            tool_call("run_security_scan", {"target": "production server"}),
            text("The scan found no vulnerabilities."),
        ),
        typed=(),
        printed=("Setting result for tool: run_security_scan", ALL_PASSED),
        model_saw=("Scan complete: no vulnerabilities found",),
        stored=approved("run_security_scan", "audit", ran=0),
    ),
    Example(
        APPROVALS + "audit_approval_overview.py",
        replies=(
            tool_call("critical_action", {"action": "deploy to production"}),
            text("Deployed to production."),
            tool_call("sensitive_action", {"action": "export user reports"}),
            text("Exported the user reports."),
        ),
        typed=(),
        printed=("Required record: type=required, status=approved", "Logged record:   type=audit, status=approved"),
        stored=overview_outcome,
        xfail=DELIBERATE_REQUIRED,
    ),
    Example(
        APPROVALS + "audit_approval_user_input.py",
        replies=(tool_call("transfer_funds", {"amount": 250}), text("Transferred $250 to SAVINGS-9876.")),
        typed=(),
        printed=("Providing user input for tool: transfer_funds", ALL_PASSED),
        model_saw=("Transferred $250.0 to SAVINGS-9876",),
        stored=approved("transfer_funds", "audit", ran=1),
    ),
    Example(
        TEAMS + "confirmation_rejected.py",
        replies=(
            tool_call("transfer_task_to_admin_agent", {"task": "Delete the account for user 'jsmith'"}),
            tool_call("delete_user_account", {"username": "jsmith"}),
            text("I could not delete jsmith: the deletion was rejected."),
            text("The account for jsmith was not deleted: it needs manager approval first."),
        ),
        typed=(),
        printed=("Team paused - requires confirmation", "Tool: delete_user_account", "needs manager approval first"),
        model_saw=("Account deletion requires manager approval first",),
        stored=outcome("delete_user_account", "confirmation", "rejected", ran=0, run_kind="team"),
    ),
    Example(
        TEAMS + "confirmation_rejected_stream.py",
        replies=(
            tool_call("transfer_task_to_admin_agent", {"task": "Delete the account for user 'jsmith'"}),
            tool_call("delete_user_account", {"username": "jsmith"}),
            text("I could not delete jsmith: the deletion was rejected."),
            text("The account for jsmith was not deleted: it needs manager approval first."),
        ),
        typed=(),
        printed=("Team paused - requires confirmation", "Tool: delete_user_account", "needs manager approval first"),
        model_saw=("Account deletion requires manager approval first",),
        stored=outcome("delete_user_account", "confirmation", "rejected", ran=0, run_kind="team"),
    ),
    Example(
        TEAMS + "confirmation_required.py",
        replies=WEATHER_TEAM,
        typed=("y",),
        printed=(
            "Team is paused - member needs confirmation",
            "Member WeatherAgent wants to call get_the_weather({'city': 'Tokyo'})",
            "70 degrees and cloudy",
        ),
        model_saw=("It is currently 70 degrees and cloudy in Tokyo",),
        stored=outcome("get_the_weather", "confirmation", "approved", run_kind="team"),
    ),
    Example(
        TEAMS + "confirmation_required_async.py",
        replies=DEPLOY_TEAM,
        typed=(),
        printed=("Team paused - requires confirmation", "Tool: deploy_to_production", "Result: Payments v2.1 is live"),
        model_saw=("Successfully deployed payments v2.1 to production",),
        stored=outcome("deploy_to_production", "confirmation", "approved", run_kind="team"),
    ),
    Example(
        TEAMS + "confirmation_required_async_stream.py",
        replies=DEPLOY_TEAM,
        typed=(),
        printed=("Team paused - requires confirmation", "Tool: deploy_to_production", "Payments v2.1 is live"),
        model_saw=("Successfully deployed payments v2.1 to production",),
        stored=outcome("deploy_to_production", "confirmation", "approved", run_kind="team"),
    ),
    Example(
        TEAMS + "confirmation_required_stream.py",
        replies=DEPLOY_TEAM,
        typed=(),
        printed=("Team paused - requires confirmation", "Tool: deploy_to_production", "Payments v2.1 is live"),
        model_saw=("Successfully deployed payments v2.1 to production",),
        stored=outcome("deploy_to_production", "confirmation", "approved", run_kind="team"),
    ),
    Example(
        TEAMS + "confirmation_required_with_dependencies.py",
        replies=(
            tool_call("transfer_task_to_stock_agent", {"task": "Remove MAOTAI from the 'premium' watch group"}),
            tool_call("group_del_stock", {"group_id": "premium", "stock_list": ["MAOTAI"]}),
            text("Removed MAOTAI from premium."),
            text("MAOTAI is no longer in your premium group."),
        ),
        typed=(),
        printed=("Team paused - requires confirmation", "Tool: group_del_stock", "Result: MAOTAI is no longer"),
        model_saw=("Bearer demo-token-123",),
        stored=outcome("group_del_stock", "confirmation", "approved", run_kind="team"),
    ),
    Example(
        TEAMS + "external_tool_execution.py",
        replies=(
            tool_call(
                "transfer_task_to_emailagent",
                {"task": "Send an email to john@example.com, subject 'Meeting Tomorrow', body 'Let's meet at 3pm.'"},
            ),
            tool_call(
                "send_email", {"to": "john@example.com", "subject": "Meeting Tomorrow", "body": "Let's meet at 3pm."}
            ),
            text("The email to john@example.com was sent."),
            text("Your email to john@example.com is on its way."),
        ),
        typed=("Email sent successfully",),
        printed=(
            "Member EmailAgent needs external execution of send_email",
            "To: john@example.com",
            "Subject: Meeting Tomorrow",
            "is on its way",
        ),
        model_saw=("Email sent successfully",),
        stored=outcome("send_email", "external_execution", "done_externally", ran=0, run_kind="team"),
    ),
    Example(
        TEAMS + "external_tool_execution_stream.py",
        replies=(
            tool_call("transfer_task_to_ops_agent", {"task": "List the files in the current directory"}),
            tool_call("run_shell_command", {"command": "ls"}),
            text("There is one entry: tmp."),
            text("Your directory holds a tmp folder."),
        ),
        typed=(),
        printed=("Team paused - requires external execution", "Tool: run_shell_command", "holds a tmp folder"),
        model_saw=("tmp\\n",),
        stored=outcome("run_shell_command", "external_execution", "done_externally", ran=0, run_kind="team"),
    ),
    Example(
        TEAMS + "multi_round_user_input.py",
        replies=(
            tool_call("transfer_task_to_surveyagent", {"task": "Find a restaurant for dinner tonight"}),
            tool_call("collect_name", {}),
            tool_call("collect_preferences", {}),
            text("Ada, try Sakura: Japanese, moderate prices."),
            text("Ada, Sakura is a good Japanese place within a moderate budget."),
        ),
        typed=("Ada", "Japanese", "moderate"),
        printed=(
            "Member SurveyAgent needs input for collect_name",
            "Member SurveyAgent needs input for collect_preferences",
            "Sakura is a good Japanese place",
        ),
        model_saw=("User's name is: Ada", "User prefers Japanese cuisine with a moderate budget."),
        stored=multi_round_outcome,
    ),
    Example(
        TEAMS + "team_tool_confirmation.py",
        replies=RELEASE_TEAM,
        typed=(),
        printed=("Team paused - requires confirmation for team-level tool", "Tool: approve_deployment", "Result: auth"),
        model_saw=("Deployment of auth to staging approved and executed",),
        stored=outcome("approve_deployment", "confirmation", "approved", run_kind="team"),
    ),
    Example(
        TEAMS + "team_tool_confirmation_stream.py",
        replies=RELEASE_TEAM,
        typed=(),
        printed=("Team paused - requires confirmation for team-level tool", "Tool: approve_deployment", "auth is on"),
        model_saw=("Deployment of auth to staging approved and executed",),
        stored=outcome("approve_deployment", "confirmation", "approved", run_kind="team"),
    ),
    Example(
        TEAMS + "user_input_required.py",
        replies=(
            tool_call("transfer_task_to_travelagent", {"task": "Plan a vacation"}),
            tool_call("plan_trip", {}),
            text("Your Lisbon trip is planned within 2000 EUR."),
            text("Lisbon it is: flights, hotel and activities within 2000 EUR."),
        ),
        typed=("Lisbon", "2000 EUR"),
        printed=("Member TravelAgent needs input for plan_trip", "Lisbon it is"),
        model_saw=("Trip planned to Lisbon with a budget of 2000 EUR.",),
        stored=outcome("plan_trip", "user_input", "answered", run_kind="team"),
    ),
    Example(
        TEAMS + "user_input_required_stream.py",
        replies=(
            tool_call("transfer_task_to_booking_agent", {"task": "Book a flight to Tokyo for next Friday"}),
            tool_call("book_flight", {"destination": "Tokyo", "date": "next Friday"}),
            text("Booked: Tokyo, next Friday, John Smith."),
            text("John Smith flies to Tokyo next Friday."),
        ),
        typed=(),
        printed=(
            "needs_user_input: True",
            "Tool: book_flight",
            "Field needed: passenger_name",
            "Continuing run...",
            "John Smith flies to Tokyo",
        ),
        model_saw=("Booked flight to Tokyo on next Friday for John Smith",),
        stored=outcome("book_flight", "user_input", "answered", run_kind="team"),
    ),
)
