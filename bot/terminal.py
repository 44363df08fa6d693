"""``signoff chat``: the terminal surface. A run in this process, decided at the keyboard.

The run uses the same runtime as a worker (the database, the model server from the settings),
and every decision goes through the same decision service as a Slack click (surface
``terminal``): policy on the final arguments, escalation to approvers, the audit row. The person
at the keyboard is a principal like any other (``--user U123``, else ``local:<login>``), so they
confirm their own run's plain confirmations and never approve their own ``required`` request.

Output streams as the model writes it; each requirement is asked about with rich prompts:
approve, reject with a reason, edit the arguments (typed by the tool's schema), answer input
fields, report the result of a step done by hand. Sensitive values are masked on screen like on
every other surface.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt
from rich.table import Table

from bot.settings import Settings
from runner import driver
from runner.decisions import Action, DecisionService
from runner.events import RunCompleted, RunContent, RunError, RunEvent, RunPaused, ToolCallCompleted, ToolCallStarted
from runner.protocols import Runnable
from runner.registry import load
from runner.runtime import Runtime
from runner.tools import json_type
from storage.database import Database
from storage.errors import ConfigError, InvalidInput, SignoffError
from storage.records import (
    ANSWER_KINDS,
    EDIT_KINDS,
    Principal,
    RequirementKind,
    RequirementRecord,
    RunRecord,
    RunStatus,
    Surface,
)
from storage.redaction import MASK, is_sensitive_name, redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_WAITING = 3
"""The run waits for someone else (an approver): it continues when they decide, elsewhere."""

_JSON_KINDS = {"array", "object"}


def local_user() -> str:
    """The principal at the keyboard when ``--user`` is not given."""
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local:terminal"


def check_model(settings: Settings) -> None:
    """Say exactly what to set when no model server is configured (before anything runs)."""
    if settings.openai_api_key is None and not settings.openai_base_url:
        raise ConfigError(
            "OPENAI_API_KEY",
            "no model is configured: export OPENAI_API_KEY=sk-... for OpenAI, or point OPENAI_BASE_URL at "
            "any OpenAI-compatible server, a local one included (e.g. OPENAI_BASE_URL=http://localhost:11434/v1 "
            "for Ollama), and OPENAI_MODEL at a model it serves",
        )


class TerminalChat:
    """One run at the keyboard: stream, ask, decide through the service, continue."""

    def __init__(self, settings: Settings, console: Console, principal: Principal) -> None:
        self.settings = settings
        self.console = console
        self.principal = principal
        self.db = Database.open(settings.database_url)
        self.registry = load(settings.signoff_agents)
        self.runtime = Runtime(
            self.db, model_defaults=settings.model_defaults(), approvers=list(settings.signoff_approvers)
        )

    def close(self) -> None:
        self.db.dispose()

    def target(self, target_id: str) -> Runnable:
        target = self.registry.get(target_id)
        if target is None:
            known = ", ".join(self.registry.ids())
            raise InvalidInput(f"there is no agent, team or workflow {target_id!r}; try one of: {known}", "agent")
        return target

    def service(self, target: Runnable) -> DecisionService:
        return DecisionService(
            self.db,
            registry=self.registry,
            lookup=target.lookup,
            default_approvers=self.settings.signoff_approvers,
        )

    # ------------------------------------------------------------------ the run

    def start(self, target_id: str, prompt: str) -> int:
        target = self.target(target_id)
        text = self.service(target).check_start(self.principal, target.id, prompt, surface=Surface.TERMINAL)
        events = driver.start(
            target, self.runtime, text, requester=self.principal.id, requester_name=self.principal.name, stream=True
        )
        return self.follow(target, events)

    def resume(self, run_id: str) -> int:
        run = self.db.get_run(run_id)
        target = self.target(run.target_id)
        return self.follow(target, driver.resume(target, self.runtime, run_id, stream=True))

    def follow(self, target: Runnable, events: Iterator[RunEvent]) -> int:
        while True:
            last = self.show(events)
            if isinstance(last, RunPaused):
                run = self.db.get_run(last.run_id)
                if not self.ask(target, run):
                    self.console.print(
                        f"[yellow]Run {run.id} waits for an approver.[/yellow] It continues when they decide "
                        f"(Slack, the API or the console); `signoff chat --resume {run.id}` follows it here."
                    )
                    return EXIT_WAITING
                events = driver.resume(target, self.runtime, run.id, stream=True)
                continue
            if isinstance(last, RunError):
                self.console.print(f"[red]The run failed ({last.kind}):[/red] {last.error}")
                return EXIT_FAILED
            return EXIT_OK

    def show(self, events: Iterator[RunEvent]) -> RunEvent | None:
        """Print the stream; return the event that ended it."""
        last: RunEvent | None = None
        streamed = False
        for event in events:
            last = event
            if isinstance(event, RunContent) and event.content:
                self.console.print(event.content, end="", markup=False, highlight=False)
                streamed = True
            elif isinstance(event, ToolCallStarted):
                self.console.print(f"\n[dim]→ {event.tool_name}[/dim]", highlight=False)
            elif isinstance(event, ToolCallCompleted):
                self.console.print(f"[dim]← {event.tool_name}: {event.status}[/dim]", highlight=False)
            elif isinstance(event, RunCompleted):
                if streamed:
                    self.console.print()
                elif event.content:
                    self.console.print(event.content, markup=False, highlight=False)
                if event.output is not None and event.output.status is RunStatus.CANCELLED:
                    self.console.print("[yellow]The run was cancelled.[/yellow]")
        return last

    # ------------------------------------------------------------------ asking

    def ask(self, target: Runnable, run: RunRecord) -> bool:
        """Ask about each pending requirement; False when one needs someone else."""
        service = self.service(target)
        decided_all = True
        for req in self.db.requirements_for_run(run.id, round=run.round):
            if not req.is_pending:
                continue
            while True:
                try:
                    done = self.ask_one(service, run, req)
                    break
                except InvalidInput as exc:
                    self.console.print(f"[red]Not applied:[/red] {exc.message}")
                except SignoffError as exc:
                    self.console.print(f"[yellow]{exc.message}[/yellow]")
                    done = False
                    break
                req = self.db.get_requirement(req.id)
            decided_all = decided_all and done
        return decided_all

    def ask_one(self, service: DecisionService, run: RunRecord, req: RequirementRecord) -> bool:
        declared = service.declared(run, req)
        self.describe(req, declared)
        decide = self.decider(service, req)
        if req.kind in ANSWER_KINDS:
            values: dict[str, Any] = {}
            for spec in req.user_input_schema:
                name = str(spec.get("name"))
                optional = not spec.get("required", True)
                choices = [str(c) for c in spec.get("choices") or []]
                several = spec.get("field_type") == "list"
                if choices:
                    self.console.print(f"choices: {', '.join(choices)}" + (" (comma-separated, in order)"
                                                                             if several else ""), highlight=False)
                label = f"{name} ({spec.get('field_type', 'str')})" + (" \\[optional]" if optional else "")
                secret = is_sensitive_name(name, declared)
                raw = Prompt.ask(label, console=self.console, password=secret, default="" if optional else None,
                                 choices=choices if choices and not several else None)
                if raw:
                    values[name] = [part.strip() for part in raw.split(",") if part.strip()] if several else raw
            return decide(Action.ANSWER, values=values)
        if req.kind is RequirementKind.EXTERNAL_EXECUTION:
            result = Prompt.ask("Result of the step done by hand", console=self.console)
            return decide(Action.DONE, result=result)
        choices = ["a", "r", "v"] + (["e"] if req.kind in EDIT_KINDS else [])
        while True:
            choice = Prompt.ask(
                "\\[a]pprove, \\[r]eject" + (", \\[e]dit" if "e" in choices else "") + ", \\[v]iew all arguments",
                console=self.console,
                choices=choices,
                show_choices=False,
            )
            if choice == "v":
                self.console.print_json(json.dumps(redact(req.current_args, declared), default=str))
                continue
            if choice == "a":
                return decide(Action.APPROVE)
            if choice == "r":
                note = Prompt.ask("Reason (the agent sees it)", console=self.console, default="")
                return decide(Action.REJECT, note=note or None)
            if req.kind is RequirementKind.STEP_OUTPUT_REVIEW:
                output = Prompt.ask("The output to go on with", console=self.console)
                return decide(Action.EDIT, args={"output": output})
            return decide(Action.EDIT, args=self.edits(service, run, req, declared))

    def decider(self, service: DecisionService, req: RequirementRecord) -> Any:
        def decide(action: Action, **kwargs: Any) -> bool:
            result = service.decide(
                req.id, self.principal, action, surface=Surface.TERMINAL, seen_hash=req.current_hash, resume=False,
                **kwargs,
            )
            if result.escalated:
                self.console.print(
                    "[yellow]The edited arguments need an approver's sign-off: sent to the approvers.[/yellow]"
                )
                return False
            if not result.decided:
                self.console.print(f"Your approval is recorded ({result.votes} of {result.quorum}).")
                return False
            return True

        return decide

    def edits(
        self, service: DecisionService, run: RunRecord, req: RequirementRecord, declared: list[str] | None
    ) -> dict[str, Any]:
        """Ask for each parameter of the tool, typed by its schema; Enter keeps the current value."""
        fn = service.tool_for(run, req)
        if fn is None:
            raise InvalidInput(f"{req.tool_name} is no longer defined here: its arguments cannot be edited")
        props: dict[str, Any] = fn.parameters.get("properties", {}) or {}
        current = req.current_args
        out: dict[str, Any] = {}
        for name, prop in props.items():
            kind = json_type(prop)
            secret = is_sensitive_name(name, declared)
            shown = MASK if secret and name in current else _render(current.get(name))
            raw = Prompt.ask(f"{name} ({kind}) [dim]now {escape(shown)}; Enter keeps it[/dim]", console=self.console,
                             default="", show_default=False, password=secret)
            if raw == "":
                continue
            out[name] = json.loads(raw) if kind in _JSON_KINDS else raw
        if not out:
            raise InvalidInput("nothing was changed; approve instead, or give a new value")
        return out

    def describe(self, req: RequirementRecord, declared: list[str] | None) -> None:
        kinds = {
            RequirementKind.CONFIRMATION: "needs confirmation",
            RequirementKind.STEP_CONFIRMATION: "step needs confirmation",
            RequirementKind.USER_INPUT: "needs input",
            RequirementKind.STEP_USER_INPUT: "step needs input",
            RequirementKind.STEP_ROUTE_SELECTION: "router needs a route chosen",
            RequirementKind.STEP_ERROR: "step failed: retry or skip",
            RequirementKind.STEP_OUTPUT_REVIEW: "step output needs review",
            RequirementKind.EXTERNAL_EXECUTION: "is done by hand: report its result",
        }
        title = "[bold]Approval required[/bold]" if req.approval_type == "required" else kinds[req.kind]
        who = f" ({req.member_agent_name})" if req.member_agent_name else ""
        self.console.print(f"\n[bold]{req.tool_name or 'step'}[/bold]{who} {title}", highlight=False)
        if req.message:
            self.console.print(f"[dim]{req.message}[/dim]", markup=True, highlight=False)
        table = Table(show_header=False, box=None, pad_edge=False)
        for name, value in (redact(req.current_args, declared) or {}).items():
            table.add_row(f"  {name}", _clip(_render(value)))
        self.console.print(table)


def _render(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1] + f"… ({len(text):,} characters: [v]iew all)"


def run_chat(settings: Settings, target_id: str | None, prompt: str | None, *, user: str | None,
             resume: str | None, console: Console | None = None) -> int:
    """``signoff chat``: start (or follow) a run at the keyboard; returns the exit code."""
    check_model(settings)
    principal = Principal(user or local_user())
    if not resume and (not target_id or not prompt):
        raise InvalidInput('say which agent and what to do: signoff chat <agent> "<prompt>"', "agent")
    chat = TerminalChat(settings, console or Console(highlight=False), principal)
    try:
        if resume:
            return chat.resume(resume)
        assert target_id is not None and prompt is not None
        return chat.start(target_id, prompt)
    finally:
        chat.close()
