"""The table for Agno's workflow HITL examples (cookbook/04_workflows/08_human_in_the_loop).

In these examples each agent step is one model turn, so the script is the steps' answers in the
order the steps run (a skipped or rejected step has none).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.agno_cookbook.harness import Example, Stored
from tests.fakes.openai_server import text, tool_call

HITL = "04_workflows/08_human_in_the_loop/"


def workflow_outcome(
    *decided: tuple[str, str], runs: tuple[str, ...] = ("completed",), ran: dict[str, int] | None = None
) -> Callable[[Stored], None]:
    """The workflow run(s) ended as ``runs`` after the human steps ``decided`` as (kind, status), in
    order; ``ran``: how many times each named tool ran."""

    def check(stored: Stored) -> None:
        assert stored.run_statuses("workflow") == list(runs)
        for tool, times in (ran or {}).items():
            assert stored.executions[tool] == times, (tool, stored.executions)
        assert [(kind, outcome) for kind, _name, outcome in stored.requirements] == list(decided)

    return check


def full_review_cycle_outcome(stored: Stored) -> None:
    """Demo 1 approved, demo 2 cancelled on reject, demo 3 approved on the retry after a reject."""
    assert stored.run_statuses("workflow") == ["completed", "cancelled", "completed"]
    assert [(kind, outcome) for kind, _name, outcome in stored.requirements] == [
        ("step_output_review", "approved"),
        ("step_output_review", "rejected"),
        ("step_output_review", "rejected"),
        ("step_output_review", "approved"),
    ]


CONFIRMED = ("step_confirmation", "approved")
REJECTED = ("step_confirmation", "rejected")
TOOL_CONFIRMED = ("confirmation", "approved")
REVIEW_APPROVED = ("step_output_review", "approved")
ROUTE_PICKED = ("step_route_selection", "answered")
STEP_ERROR = ("step_error", "answered")
LONG_EMAIL = (
    "Team, here is the Q4 plan. Budget: engineering gets 45%, marketing 30%, operations 25%. "
    "Assignments: Ana leads the platform work, Ben owns the launch campaign, Chen runs vendor "
    "reviews. Please send questions by Friday so we can finalise the plan next week."
)
"""Over the example's 200-character review threshold."""
WEATHER = (tool_call("get_the_weather", {"city": "Tokyo"}), text("Tokyo: 70 degrees and cloudy."))

CONDITION_ON_ERROR = (
    "deliberate difference (tests/agno_port test_error_fail_raises): under on_error='fail' the run "
    "ends failed and workflow.run() returns that output instead of raising the step's ValueError, "
    "so the example's 'Workflow failed as expected' line never prints (its skip and pause parts pass)"
)

WORKFLOW_CASES: tuple[Example, ...] = (
    Example(
        HITL + "confirmation/01_basic_step_confirmation.py",
        replies=(text("I would fetch the user table."), text("I would anonymise it."), text("Saved the result.")),
        typed=("yes",),
        printed=(
            "Step 'process_data' requires confirmation",
            "Message: About to process sensitive data. Confirm?",
            "Step confirmed.",
            "Final output: Saved the result.",
        ),
        model_saw=("I would anonymise it.",),
        stored=workflow_outcome(CONFIRMED),
    ),
    Example(
        HITL + "confirmation/02_custom_function_step_confirmation.py",
        replies=(text("- Energy\n- Mood\n- Sleep"), text("Morning exercise lifts energy, mood and sleep.")),
        typed=("yes",),
        printed=(
            "[HITL] Step 'process_research' requires confirmation",
            "[HITL] Research complete. Ready to generate blog post. Proceed?",
            "Status: completed",
            "Morning exercise lifts energy, mood and sleep.",
        ),
        model_saw=("PROCESSED RESEARCH:\\n- Energy\\n- Mood\\n- Sleep",),
        stored=workflow_outcome(CONFIRMED),
    ),
    Example(
        HITL + "confirmation/03_step_confirmation_streaming.py",
        replies=(text("I would fetch the user table."), text("Saved without processing.")),
        typed=("no",),
        printed=(
            "[EVENT] Workflow started: data_processing_streaming",
            "[EVENT] Step started: fetch_data",
            "[EVENT] Step paused: process_data",
            "        Reason: Requires confirmation",
            "Step rejected.",
            "[EVENT] Step completed: save_results",
            "[EVENT] Workflow completed!",
            "Status: completed",
            "[fetch_data] SUCCESS: I would fetch the user table....",
            "[save_results] SUCCESS: Saved without processing....",
        ),
        stored=workflow_outcome(REJECTED),
    ),
    Example(
        HITL + "confirmation/04_async_step_confirmation.py",
        replies=(text("- Calm\n- Focus\n- Sleep"), text("Meditation brings calm, focus and sleep.")),
        typed=(),
        printed=(
            "[HITL] Step 'async_process' requires confirmation",
            "[HITL] Auto-confirming for demo...",
            "Status: completed",
            "Meditation brings calm, focus and sleep.",
        ),
        model_saw=("[Processed with async I/O simulation]",),
        stored=workflow_outcome(CONFIRMED),
    ),
    Example(
        HITL + "confirmation/04_step_continued_event.py",
        replies=(text("Hello, world, and welcome!"),),
        typed=("y",),
        printed=(
            "StepStartedEvent: greet",
            "StepPausedEvent: greet",
            "Paused at 'greet': About to generate a greeting. Proceed?",
            "StepContinuedEvent: greet",
            "StepCompletedEvent: save",
            "WorkflowCompletedEvent",
            "Final: Saved: Hello, world, and welcome!",
        ),
        stored=workflow_outcome(CONFIRMED),
    ),
    Example(
        HITL + "condition/01_condition_user_decision.py",
        replies=(),
        typed=("4",),
        printed=(
            "on_reject = else",
            "[DECISION POINT] analysis_depth_decision",
            "[AUTO] Rejecting to demonstrate on_reject behavior...",
            "Content: === FINAL REPORT ===\n\nQuick Summary:",
            "Content: === FINAL REPORT ===\n\nAnalysis complete for 'Q4 sales data'",
            "Status: cancelled",
        ),
        stored=workflow_outcome(REJECTED, REJECTED, REJECTED, runs=("completed", "completed", "cancelled")),
    ),
    Example(
        HITL + "condition/02_condition_on_error.py",
        replies=(),
        typed=("skip",),
        printed=(
            "Example 1: on_error='skip' (default)",
            "Workflow failed as expected: Data validation failed: missing required fields",
            "failed: Data validation failed: missing required fields",
            "Error type: ValueError",
            "Skipping...",
        ),
        stored=workflow_outcome(("step_error", "answered"), runs=("completed", "failed", "completed")),
        xfail=CONDITION_ON_ERROR,
    ),
    Example(
        HITL + "decision_tree/01_decision_tree.py",
        replies=(),
        typed=("yes", "no"),
        printed=(
            "[Decision] analysis_depth",
            "Perform detailed analysis? (No = quick summary)",
            "[Decision] output_format",
            "-> Rejected (taking alternative path)",
            "Status: completed",
            "--- Internal Notes ---\n\nDetailed analysis complete:",
        ),
        stored=workflow_outcome(CONFIRMED, REJECTED),
    ),
    Example(
        HITL + "decision_tree/02_multi_component_decision_tree.py",
        replies=(),
        typed=("no", "yes", "yes"),
        printed=(
            "[Decision] analysis_depth",
            "[Decision] refinement",
            "Start iterative refinement? (up to 3 passes)",
            "[Decision] output_format",
            "Status: completed",
            "=== FORMAL REPORT ===\nRefinement pass complete. Quality improved.\n"
            "Previous: Quick summary: key highlights",
        ),
        stored=workflow_outcome(REJECTED, CONFIRMED, CONFIRMED),
    ),
    Example(
        HITL + "dual_level_hitl/01_step_confirmation_and_tool_confirmation.py",
        replies=(
            tool_call("send_alert", {"city": "Tokyo", "message": "Heavy rain expected"}),
            text("Alert sent for Tokyo."),
        ),
        typed=("y", "y"),
        printed=(
            "Step paused: send_alert",
            "--- Pause #1 (step-level) ---",
            "Message: This will send a weather alert. Proceed?",
            "Executor paused: AlertAgent",
            "--- Pause #2 (executor-level) ---",
            "Tool: send_alert({'city': 'Tokyo', 'message': 'Heavy rain expected'})",
            "Workflow completed!",
            "Done after 2 pause(s). Output: Logged: Alert sent for Tokyo.",
        ),
        model_saw=("Alert sent for Tokyo: Heavy rain expected",),
        stored=workflow_outcome(CONFIRMED, TOOL_CONFIRMED, ran={"send_alert": 1}),
    ),
    Example(
        HITL + "dual_level_hitl/02_step_user_input_and_tool_confirmation.py",
        replies=(
            tool_call("book_flight", {"destination": "Tokyo", "origin": "San Francisco"}),
            text("Booked San Francisco -> Tokyo."),
        ),
        typed=("Tokyo", "y"),
        printed=(
            "Which city do you want to fly to?",
            "--- Pause #1 (step-level) ---",
            "Executor paused: TravelAgent",
            "--- Pause #2 (executor-level) ---",
            "Tool: book_flight({'destination': 'Tokyo', 'origin': 'San Francisco'})",
            "Done after 2 pause(s). Output: Booked San Francisco -> Tokyo.",
        ),
        model_saw=("Tokyo", "Flight booked: San Francisco -> Tokyo"),
        stored=workflow_outcome(("step_user_input", "answered"), TOOL_CONFIRMED, ran={"book_flight": 1}),
    ),
    Example(
        HITL + "dual_level_hitl/03_condition_and_tool_confirmation.py",
        replies=(tool_call("deploy_to_staging", {"service": "auth-service"}), text("auth-service is on staging.")),
        typed=("n", "y"),
        printed=(
            "Paused: deploy_gate",
            "Rejected -> will execute else-branch (staging)",
            "Executor paused: StagingDeployer",
            "Executor: StagingDeployer",
            "Tool: deploy_to_staging({'service': 'auth-service'})",
            "Done after 2 pause(s). Output: auth-service is on staging.",
        ),
        model_saw=("Deployed auth-service to staging successfully",),
        stored=workflow_outcome(REJECTED, TOOL_CONFIRMED, ran={"deploy_to_staging": 1, "deploy_to_production": 0}),
    ),
    Example(
        HITL + "dual_level_hitl/04_router_selection_and_tool_confirmation.py",
        replies=(
            tool_call("send_sms", {"message": "The deployment is done", "phone": "+15550100"}),
            text("SMS sent to the team."),
        ),
        typed=("sms", "y"),
        printed=(
            "--- Pause #1 (router-level) ---",
            "Which notification channel should we use?",
            "Available: ['email', 'sms', 'slack']",
            "Executor paused: SMSAgent",
            "--- Pause #2 (executor-level) ---",
            "Tool: send_sms({'message': 'The deployment is done', 'phone': '+15550100'})",
            "Done after 2 pause(s). Output: SMS sent to the team.",
        ),
        model_saw=("SMS sent to +15550100: The deployment is done",),
        stored=workflow_outcome(ROUTE_PICKED, TOOL_CONFIRMED, ran={"send_sms": 1, "send_email": 0}),
    ),
    Example(
        HITL + "dual_level_hitl/05_output_review_and_tool_confirmation.py",
        replies=(
            tool_call("query_database", {"query": "SELECT id, name, status FROM users"}),
            text("Alice is active; Bob is inactive."),
        ),
        typed=("y", "y"),
        printed=(
            "Executor paused: DataAnalyst",
            "--- Pause #1 (executor) ---",
            "Tool: query_database({'query': 'SELECT id, name, status FROM users'})",
            "--- Pause #2 (output-review) ---",
            "Review the analysis before saving the report.",
            "Output: Alice is active; Bob is inactive.",
            "Done after 2 pause(s). Output: Report saved: Alice is active; Bob is inactive.",
        ),
        model_saw=("| 2  | Bob     | inactive |",),
        stored=workflow_outcome(TOOL_CONFIRMED, REVIEW_APPROVED, ran={"query_database": 1}),
    ),
    Example(
        HITL + "dual_level_hitl/06_loop_confirmation_and_tool_confirmation.py",
        replies=(
            tool_call("publish_draft", {"content": "Draft one", "title": "AI safety"}),
            text("Published draft one."),
            tool_call("publish_draft", {"content": "Draft two", "title": "AI safety"}),
            text("Published draft two."),
            tool_call("publish_draft", {"content": "Draft three", "title": "AI safety"}),
            text("Published draft three."),
        ),
        typed=("y", "y", "y", "y"),
        printed=(
            "--- Pause #1 (loop-confirmation) ---",
            "This will run a publishing loop (up to 3 iterations). Proceed?",
            "Executor paused: WriterAgent",
            "--- Pause #2 (executor) ---",
            "Executor: WriterAgent",
            "Tool: publish_draft\n  Args: {'content': 'Draft three', 'title': 'AI safety'}",
            "--- Pause #4 (executor) ---",
            "Done after 4 pause(s). Output: Published draft three.",
        ),
        model_saw=("[v3] Published 'AI safety': Draft three...",),
        stored=workflow_outcome(CONFIRMED, TOOL_CONFIRMED, TOOL_CONFIRMED, TOOL_CONFIRMED, ran={"publish_draft": 3}),
    ),
    Example(
        HITL + "dual_level_hitl/07_router_confirmation_and_tool_confirmation.py",
        replies=(tool_call("restart_service", {"service": "auth-service"}), text("auth-service restarted.")),
        typed=("y", "y"),
        printed=(
            "Paused: ops_router",
            "--- Pause #1 (router-confirmation) ---",
            "An ops action will be executed. Proceed?",
            "Executor paused: RestartAgent",
            "--- Pause #2 (executor) ---",
            "Tool: restart_service({'service': 'auth-service'})",
            "Done after 2 pause(s). Output: auth-service restarted.",
        ),
        model_saw=("Service 'auth-service' restarted successfully",),
        stored=workflow_outcome(CONFIRMED, TOOL_CONFIRMED, ran={"restart_service": 1, "scale_service": 0}),
    ),
    Example(
        HITL + "dual_level_hitl/09_multi_step_mixed_hitl.py",
        replies=(
            tool_call("create_plan", {"project": "Apollo", "tasks": "Design, Build, Test"}),
            text("Plan for Apollo: Design, Build, Test."),
            tool_call("finalize_plan", {"plan": "Plan for Apollo: Design, Build, Test."}),
            text("FINALIZED: Plan for Apollo."),
        ),
        typed=("Apollo", "MVP", "y", "y", "y", "y"),
        printed=(
            "--- Pause #1 (user-input) ---",
            "Provide project details:",
            "--- Pause #2 (confirmation) ---",
            "Ready to generate the project plan. Proceed?",
            "Executor paused: PlannerAgent",
            "Executor paused: ReviewerAgent",
            "--- Pause #3 (executor) ---",
            "--- Pause #4 (executor) ---",
            "--- Pause #5 (output-review) ---",
            "Output: FINALIZED: Plan for Apollo.",
            "Done after 5 pause(s)!",
            "Final output: FINALIZED: Plan for Apollo.",
        ),
        model_saw=("Requirements gathered for 'Apollo': scope=MVP", "FINALIZED: Plan for Apollo: Design, Build, Test."),
        stored=workflow_outcome(
            ("step_user_input", "answered"),
            CONFIRMED,
            TOOL_CONFIRMED,
            TOOL_CONFIRMED,
            REVIEW_APPROVED,
            ran={"create_plan": 1, "finalize_plan": 1},
        ),
    ),
    Example(
        HITL + "error/01_error_retry_skip.py",
        replies=(),
        typed=("retry", "skip"),
        printed=(
            "Step 'fetch_data' FAILED",
            "Error Type: Exception",
            "Error Message: API call failed: Connection timeout",
            "Retry Count: 0",
            "Retrying the step...",
            "Retry Count: 1",
            "Skipping the step and continuing...",
            "Status: completed",
            "Content: Saved: Processed: No data",
        ),
        random_value=0.5,
        stored=workflow_outcome(STEP_ERROR, STEP_ERROR),
    ),
    Example(
        HITL + "error/02_error_retry_skip_streaming.py",
        replies=(),
        typed=("skip",),
        printed=(
            "[EVENT] Workflow started: error_hitl_streaming_workflow",
            "[EVENT] Step started: fetch_data",
            "Step 'fetch_data' FAILED",
            "Error Message: API call failed: Connection timeout",
            "Skipping the step and continuing...",
            "[EVENT] Step completed: save_results",
            "Status: completed",
            "Content: Saved: Processed: No data",
        ),
        random_value=0.5,
        stored=workflow_outcome(STEP_ERROR),
    ),
    Example(
        HITL + "executor_hitl/01_agent_confirmation.py",
        replies=WEATHER,
        typed=("y",),
        printed=(
            "Workflow paused at step 'get_weather'",
            "Executor: WeatherAgent (type: agent)",
            "Tool: get_the_weather({'city': 'Tokyo'})",
            "Final output: Result saved: Tokyo: 70 degrees and cloudy.",
        ),
        model_saw=("It is currently 70 degrees and cloudy in Tokyo",),
        stored=workflow_outcome(TOOL_CONFIRMED, ran={"get_the_weather": 1}),
    ),
    Example(
        HITL + "executor_hitl/02_agent_confirmation_stream.py",
        replies=WEATHER,
        typed=("y",),
        printed=(
            "StepExecutorPausedEvent received!",
            "Step: get_weather",
            "Executor: WeatherAgent (agent)",
            "Requirements: 1",
            "Workflow is paused. Resolving requirements...",
            "Workflow completed!",
            "Final output: Result saved: Tokyo: 70 degrees and cloudy.",
        ),
        model_saw=("It is currently 70 degrees and cloudy in Tokyo",),
        stored=workflow_outcome(TOOL_CONFIRMED, ran={"get_the_weather": 1}),
    ),
    Example(
        HITL + "executor_hitl/03_team_in_step.py",
        replies=(
            tool_call("transfer_task_to_weatheragent", {"task": "Get the weather in Tokyo"}),
            tool_call("get_the_weather", {"city": "Tokyo"}),
            text("It is 70 degrees and cloudy in Tokyo."),
            text("Tokyo: 70 degrees and cloudy."),
        ),
        typed=("y",),
        printed=(
            "Workflow paused at step 'team_weather'",
            "Executor: WeatherTeam (type: team)",
            "Tool: get_the_weather({'city': 'Tokyo'})",
            "Final output: Result saved: Tokyo: 70 degrees and cloudy.",
        ),
        model_saw=("It is currently 70 degrees and cloudy in Tokyo",),
        stored=workflow_outcome(TOOL_CONFIRMED, ran={"get_the_weather": 1}),
    ),
    Example(
        HITL + "executor_hitl/04_agent_confirmation_in_condition_step.py",
        replies=(
            tool_call("run_detailed_analysis", {"topic": "Q4 sales performance"}),
            text("Q4: 47 data points, all edge cases covered."),
        ),
        typed=("y",),
        printed=(
            "Step: detailed_analysis",
            "Executor: AnalysisAgent (agent)",
            "Requirements: 1",
            "Workflow paused (step: detailed_analysis)",
            "Agent: AnalysisAgent (agent)",
            "Tool: run_detailed_analysis({'topic': 'Q4 sales performance'})",
            "Workflow completed!",
            "Final output: === FINAL REPORT ===\n\nQ4: 47 data points, all edge cases covered.\n\nReport complete.",
        ),
        model_saw=("Data gathered for: Q4 sales performance", "- 47 data points processed"),
        stored=workflow_outcome(TOOL_CONFIRMED, ran={"run_detailed_analysis": 1}),
    ),
    Example(
        HITL + "executor_hitl/05_agent_confirmation_in_loop_step.py",
        replies=(
            tool_call("run_batch_analysis", {"batch_id": "batch-001"}),
            text("batch-001: 3 anomalies, quality 94%."),
        ),
        typed=("y",),
        printed=(
            "Step: batch_analysis",
            "Executor: BatchAnalysisAgent (agent)",
            "Workflow paused (step: batch_analysis)",
            "Tool: run_batch_analysis({'batch_id': 'batch-001'})",
            "Workflow completed!",
            "Final output: === FINAL REPORT ===\n\nbatch-001: 3 anomalies, quality 94%.\n\nReport complete.",
        ),
        model_saw=("- Quality score: 94%",),
        stored=workflow_outcome(TOOL_CONFIRMED, ran={"run_batch_analysis": 1}),
    ),
    Example(
        HITL + "executor_hitl/06_agent_confirmation_in_steps_container.py",
        replies=(
            tool_call("run_deep_scan", {"target": "production-api"}),
            text("production-api: no critical findings, 2 warnings."),
        ),
        typed=("y",),
        printed=(
            "Step: deep_scan",
            "Executor: SecurityScanAgent (agent)",
            "Workflow paused (step: deep_scan)",
            "Tool: run_deep_scan({'target': 'production-api'})",
            "Final output: === SECURITY REPORT ===\n\nPostprocessing: scan results formatted\n"
            "production-api: no critical findings, 2 warnings.\n\nReport complete.",
        ),
        model_saw=("Preprocessing complete. Target to scan: Data gathered for: production-api", "- 2 warnings"),
        stored=workflow_outcome(TOOL_CONFIRMED, ran={"run_deep_scan": 1}),
    ),
    Example(
        HITL + "executor_hitl/07_agent_confirmation_in_router_step.py",
        replies=(
            tool_call("run_deep_analysis", {"subject": "quarterly revenue"}),
            text("Quarterly revenue: 5 key insights, 97% confidence."),
        ),
        typed=("y",),
        printed=(
            "Step: deep_analysis",
            "Executor: DeepAnalysisAgent (agent)",
            "Workflow paused (step: deep_analysis)",
            "Tool: run_deep_analysis({'subject': 'quarterly revenue'})",
            "Final output: === ANALYSIS REPORT ===\n\nQuarterly revenue: 5 key insights, 97% confidence."
            "\n\nReport complete.",
        ),
        model_saw=("- Confidence: 97%",),
        stored=workflow_outcome(TOOL_CONFIRMED, ran={"run_deep_analysis": 1}),
    ),
    Example(
        HITL + "executor_hitl/08_agent_user_input_step.py",
        replies=(
            tool_call("send_money", {"amount": 50, "note": "lunch money"}),
            text("Sent $50 to Alice for lunch."),
        ),
        typed=("Alice",),
        printed=(
            "StepExecutorPausedEvent received!",
            "Step: transfer",
            "Executor: TransferAgent (agent)",
            "Workflow paused (step: transfer)",
            "User input required for:",
            "    - recipient",
            "Final output: Result saved: Sent $50 to Alice for lunch.",
        ),
        model_saw=("Sent $50.0 to Alice: lunch money",),
        stored=workflow_outcome(("user_input", "answered"), ran={"send_money": 1}),
    ),
    Example(
        HITL + "executor_hitl/09_executor_continued_event.py",
        replies=WEATHER,
        typed=("y",),
        printed=(
            "StepExecutorPausedEvent: WeatherAgent (agent)",
            "Executor paused: WeatherAgent",
            "Tool: get_the_weather",
            "StepExecutorContinuedEvent: WeatherAgent (agent)",
            "WorkflowCompletedEvent",
            "Final: Saved: Tokyo: 70 degrees and cloudy.",
        ),
        model_saw=("It is currently 70 degrees and cloudy in Tokyo",),
        stored=workflow_outcome(TOOL_CONFIRMED, ran={"get_the_weather": 1}),
    ),
    Example(
        HITL + "loop/01_loop_confirmation.py",
        replies=(),
        typed=("yes",),
        printed=(
            "[DECISION POINT] refinement_loop",
            "[HITL] Start the refinement loop? This may take several iterations.",
            "[HITL] Confirmed - starting loop",
            "Status: completed",
            "=== FINAL RESULTS ===\n\nIteration 1 complete:\n- Quality score: 80%",
        ),
        stored=workflow_outcome(CONFIRMED),
    ),
    Example(
        HITL + "loop/02_loop_confirmation_streaming.py",
        replies=(),
        typed=("no",),
        printed=(
            "[EVENT] Workflow started",
            "[EVENT] Step completed: prepare_data",
            "[EVENT] Step paused: refinement_loop",
            "  Requires confirmation: True",
            "  Message: Start the refinement loop? This may take several iterations.",
            "[HITL] Rejected - skipping loop",
            "[EVENT] Step completed: finalize_results",
            "Status: completed",
            "=== FINAL RESULTS ===\n\nData prepared for iterative processing.",
        ),
        stored=workflow_outcome(REJECTED),
    ),
    Example(
        HITL + "loop/03_loop_iteration_review.py",
        replies=(
            text("The hungry fox jumped the dog and went to buy groceries."),
            text("The hungry fox went grocery shopping."),
        ),
        typed=("no", "Shorter, please.", "yes"),
        printed=(
            "Review this iteration.",
            "Current output:\nThe hungry fox jumped the dog and went to buy groceries.",
            "Trying another iteration...",
            "Current output:\nThe hungry fox went grocery shopping.",
            "Result accepted.",
            "Final status: completed",
            "Final output: The hungry fox went grocery shopping.",
        ),
        model_saw=("Shorter, please.", "The hungry fox jumped the dog and went to buy groceries."),
        stored=workflow_outcome(("step_output_review", "rejected"), REVIEW_APPROVED),
    ),
    Example(
        HITL + "output_review/01_basic_output_review.py",
        replies=(
            text("Team, Friday's standup moves to Monday. Same time."),
            text("Sent: the standup moved to Monday."),
        ),
        typed=("yes",),
        printed=(
            "Step 'draft_email' produced output for review:",
            "Message: Review the email draft before sending",
            "Output:\nTeam, Friday's standup moves to Monday. Same time.",
            "Output approved - continuing to next step.",
            "Final status: completed",
            "Final output: Sent: the standup moved to Monday.",
        ),
        model_saw=("Team, Friday's standup moves to Monday. Same time.",),
        stored=workflow_outcome(REVIEW_APPROVED),
    ),
    Example(
        HITL + "output_review/02_output_review_with_retry.py",
        replies=(
            text("Hey all, standup is Monday now."),
            text("Dear team, Friday's standup moves to Monday at 10:00."),
            text("Sent the formal note about Monday's standup."),
        ),
        typed=("no", "More formal, and give the time.", "yes"),
        printed=(
            "Step 'draft_email' output (attempt 1):\nHey all, standup is Monday now.",
            "Rejected with feedback. Retrying...",
            "Step 'draft_email' output (attempt 2):\nDear team, Friday's standup moves to Monday at 10:00.",
            "Final status: completed",
            "Final output: Sent the formal note about Monday's standup.",
        ),
        model_saw=("More formal, and give the time.",),
        stored=workflow_outcome(("step_output_review", "rejected"), REVIEW_APPROVED),
    ),
    Example(
        HITL + "output_review/03_edit_output.py",
        replies=(text("Standup moved to Monday."), text("Sent the edited note about Monday.")),
        typed=("e", "Team: Friday's standup is now on Monday at 10:00. Thanks!"),
        printed=(
            "Draft output:\nStandup moved to Monday.",
            "Output replaced with your edit.",
            "Final status: completed",
            "Final output: Sent the edited note about Monday.",
        ),
        model_saw=("Team: Friday's standup is now on Monday at 10:00. Thanks!",),
        stored=workflow_outcome(REVIEW_APPROVED),
    ),
    Example(
        HITL + "output_review/04_conditional_output_review.py",
        replies=(text(LONG_EMAIL), text("Sent the Q4 planning email.")),
        typed=("yes",),
        printed=(
            f"[Review triggered: output is {len(LONG_EMAIL)} chars, threshold is 200]",
            "Output for review:\n" + LONG_EMAIL[:60],
            "Final status: completed",
            "Final output: Sent the Q4 planning email.",
        ),
        model_saw=(LONG_EMAIL,),
        stored=workflow_outcome(REVIEW_APPROVED),
    ),
    Example(
        HITL + "output_review/05_full_review_cycle.py",
        replies=(
            text("1. More energy\n2. Better sleep"),
            text("Morning exercise gives you energy and better sleep."),
            text("1. More energy\n2. Better sleep"),
            text("1. More energy\n2. Better sleep"),
            text("1. More energy\n2. Better sleep\n3. Improved mood and mental health"),
            text("Morning exercise lifts energy, sleep and mood."),
        ),
        typed=(),
        printed=(
            "  Demo 1: APPROVE",
            "[RESULT] Agent B summary:\n  Morning exercise gives you energy and better sleep.",
            "  -> Simulating decision: CANCEL",
            "[RESULT] Status: cancelled",
            "[PAUSED] Attempt 2 - Draft:\n    1. More energy\n2. Better sleep\n3. Improved mood",
            "[RESULT] Final Agent B summary:\n  Morning exercise lifts energy, sleep and mood.",
            "  Status: completed",
        ),
        model_saw=("Please add a point about improved mood and mental health.",),
        stored=full_review_cycle_outcome,
    ),
    Example(
        HITL + "steps/01_steps_pipeline_confirmation.py",
        replies=(),
        typed=("no",),
        printed=(
            "[DECISION POINT] advanced_processing_pipeline",
            "[HITL] Run advanced processing pipeline? (This includes validation, transformation, and enrichment)",
            "[HITL] Rejected - skipping pipeline",
            "Status: completed",
            "=== FINAL REPORT ===\n\nData collection complete:",
        ),
        stored=workflow_outcome(REJECTED),
    ),
    Example(
        HITL + "router/01_router_user_selection.py",
        replies=(),
        typed=("deep_analysis",),
        printed=(
            "[DECISION POINT] Router: analysis_type_router",
            "[HITL] Select the type of analysis to perform:",
            "Available options:\n  - quick_analysis\n  - deep_analysis\n  - custom_analysis",
            "[HITL] Selected: deep_analysis",
            "Status: completed",
            "=== FINAL REPORT ===\n\nDeep Analysis Results:",
        ),
        stored=workflow_outcome(ROUTE_PICKED),
    ),
    Example(
        HITL + "router/02_router_multi_selection.py",
        replies=(),
        typed=("clean, validate",),
        printed=(
            "[DECISION POINT] Router: processing_pipeline",
            "  1. clean\n  2. validate\n  3. enrich\n  4. transform\n  5. aggregate",
            "Tip: Enter multiple choices separated by commas",
            "[HITL] Selected 2 steps: ['clean', 'validate']",
            "- Data cleaning complete\n\n[VALIDATION]",
            "=== END OF PIPELINE ===",
        ),
        stored=workflow_outcome(ROUTE_PICKED),
    ),
    Example(
        HITL + "router/03_router_nested_choices.py",
        replies=(),
        typed=("standard_package",),
        printed=(
            "[DECISION POINT] package_selector",
            "Available packages:\n  1. quick_scan\n  2. standard_package\n  3. premium_package",
            "[HITL] Selected package: standard_package",
            "Status: completed",
            "Input received: 'quarterly report'",
            "[DEEP ANALYSIS]",
            "- Accuracy verified: 98%",
            "=== PROCESSING COMPLETE ===",
        ),
        stored=workflow_outcome(ROUTE_PICKED),
    ),
    Example(
        HITL + "router/04_router_confirmation.py",
        replies=(),
        typed=("yes",),
        printed=(
            "[ROUTING DECISION] request_router",
            "[HITL] The system has selected a handler. Proceed with the routed action?",
            "[HITL] Confirmed - executing routed steps",
            "Status: completed",
            "=== FINAL RESPONSE ===\n\nUrgent Request Handling:",
        ),
        stored=workflow_outcome(CONFIRMED),
    ),
    Example(
        HITL + "router/07_router_output_review.py",
        replies=(),
        typed=("no", "deep", "yes"),
        printed=(
            "Router 'analysis_router' produced:\n  Quick Analysis:",
            "Review the analysis result. Approve, or pick a different analysis type?",
            "Available routes: ['quick', 'deep', 'custom']",
            "Pick a different route for 'analysis_router':",
            "Router 'analysis_router' produced:\n  Deep Analysis:",
            "Status: completed",
            "=== FINAL REPORT ===\n\nDeep Analysis:",
        ),
        stored=workflow_outcome(("step_output_review", "rejected"), ROUTE_PICKED, REVIEW_APPROVED),
    ),
    Example(
        HITL + "timeout/01_hitl_timeout.py",
        replies=(text("Team lunch next Thursday at noon - join us!"), text("Sent the lunch invite.")),
        typed=(),
        printed=(
            "Draft output:\nTeam lunch next Thursday at noon - join us!",
            "On timeout: approve",
            "Auto-resolved by timeout!",
            "Final status: completed",
            "Final output: Sent the lunch invite.",
        ),
        model_saw=("Team lunch next Thursday at noon - join us!",),
        stored=workflow_outcome(("step_output_review", "expired")),
    ),
    Example(
        HITL + "timeout/02_confirmation_timeout.py",
        replies=(),
        typed=(),
        printed=(
            "Step 'delete_records' requires confirmation:",
            "  Message: About to delete old records. Proceed?",
            "  On timeout: skip",
            "Auto-resolved by timeout (step was skipped).",
            "Status: completed",
            "Output: Report: Data prepared and ready for processing.",
        ),
        stored=workflow_outcome(("step_confirmation", "expired")),
    ),
    Example(
        HITL + "user_input/01_basic_user_input.py",
        replies=(text("1000 Q4 records processed accurately at threshold 0.8."),),
        typed=("0.8", "accurate", ""),
        printed=(
            "[PAUSED] Workflow paused at step 1: 'process_data'",
            "[HITL] Step 'process_data' requires user input",
            "[HITL] Please provide processing parameters:",
            "  threshold* (float) - Processing threshold (0.0 to 1.0): 0.8",
            "  batch_size (int) - Number of records per batch: ",
            "[HITL] User input received - continuing workflow...",
            "Status: completed",
            "Output:\n1000 Q4 records processed accurately at threshold 0.8.",
        ),
        model_saw=("- Threshold: 0.8", "- Mode: accurate", "- Batch size: 100"),
        stored=workflow_outcome(("step_user_input", "answered")),
    ),
    Example(
        HITL + "user_input/02_step_user_input.py",
        replies=(text("Async Python waits without blocking; asyncio.gather runs tasks together."),),
        typed=("casual", "short", "y"),
        printed=(
            "[HITL] Step 'generate_content' requires user input",
            "[HITL] Please provide your content preferences:",
            "  tone* (str) - Tone of the content: 'formal', 'casual', or 'technical': casual",
            "[HITL] Preferences received - continuing workflow...",
            "Status: completed",
            "=== GENERATED CONTENT ===\n\nAsync Python waits without blocking",
        ),
        model_saw=("casual", "short"),
        stored=workflow_outcome(("step_user_input", "answered")),
    ),
    Example(
        HITL + "user_input/03_step_user_input_streaming.py",
        replies=(text("asyncio runs coroutines on one event loop."),),
        typed=("technical", "short", "no"),
        printed=(
            "[EVENT] Workflow started: content_generation_workflow_stream",
            "[EVENT] Step completed: gather_context",
            "[EVENT] Step PAUSED: generate_content",
            "        Reason: User input required",
            "        Message: Please provide your content preferences:",
            "  tone* (str) [formal, casual, technical] - Tone of the content: technical",
            "[EVENT] Step completed: format_output",
            "Final Status: completed",
            "=== GENERATED CONTENT ===\n\nasyncio runs coroutines on one event loop.\n\n=== END ===",
        ),
        model_saw=("technical",),
        stored=workflow_outcome(("step_user_input", "answered")),
    ),
)
