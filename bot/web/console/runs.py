"""Runs: the list, one run (its timeline from the audit log, requests and votes, the Slack thread,
the answer or the error), Retry and Cancel, and starting a run from the console.

Starting, retrying and cancelling go through the decision service (``Surface.CONSOLE``): the same
rate limits, prompt checks and permissions as ``/agent`` and the API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from bot.web.api import status_for
from bot.web.console.common import PREFIX, Console
from bot.web.console.pending import ReqView, build_view
from runner.registry import describe
from storage.errors import SignoffError
from storage.records import Principal, RunRecord, RunStatus, Surface
from storage.timeouts import CONSOLE_LIST_LIMIT


def slack_link(run: RunRecord) -> str | None:
    if not (run.channel and run.thread_ts):
        return None
    return f"https://slack.com/app_redirect?channel={quote(run.channel, safe='')}"


def router(console: Console) -> APIRouter:
    r = APIRouter(prefix=PREFIX)
    deps = console.deps
    service = deps.service

    def targets() -> list[dict[str, str]]:
        return [{"id": t.id, "name": t.name, "kind": t.kind, "about": describe(t)} for t in deps.registry]

    @r.get("/runs")
    async def runs_page(request: Request, status: str = "", agent: str = "") -> Response:
        console.user(request)
        wanted = status if status in {s.value for s in RunStatus} else ""
        found = await console.call(deps.db.list_runs, status=wanted or None, limit=CONSOLE_LIST_LIMIT)
        if agent:
            found = [run for run in found if run.target_id == agent]
        return console.render(request, "runs.html", {
            "title": "Runs", "runs": found, "status": wanted, "agent": agent[:128],
            "statuses": [s.value for s in RunStatus], "agents": deps.registry.ids(),
        })

    def run_context(run_id: str, who: Principal) -> dict[str, Any]:
        run = deps.db.get_run(run_id)
        views: list[ReqView] = [build_view(console, req, run, who) for req in deps.db.requirements_for_run(run.id)]
        events = list(deps.db.audit_events(run_id=run.id))
        manage = service.may_manage(run, who)
        return {
            "title": f"Run of {run.target_name}", "run": run, "views": views, "events": events,
            "slack": slack_link(run), "can_cancel": manage and not run.is_finished,
            "can_retry": manage and run.status is RunStatus.FAILED,
            "live": f"{PREFIX}/live.json?run={run.id}",
        }

    @r.get("/runs/{run_id}")
    async def run_page(request: Request, run_id: str) -> Response:
        who = console.user(request)
        try:
            context = await console.call(run_context, run_id[:64], who)
        except SignoffError as exc:
            return console.render(request, "error.html", {"title": "Not found", "message": exc.message},
                                  status_code=status_for(exc))
        return console.render(request, "run.html", context)

    @r.post("/runs/{run_id}/cancel")
    async def cancel(request: Request, run_id: str) -> Response:
        who = console.user(request)
        form = await console.form(request)
        reason = str(form.get("reason") or "").strip()[:500] or None
        try:
            await console.call(service.cancel, run_id, who, surface=Surface.CONSOLE, reason=reason)
        except SignoffError as exc:
            return await refused(request, run_id, who, exc)
        return console.redirect(request, f"{PREFIX}/runs/{run_id}", "Run cancelled.")

    @r.post("/runs/{run_id}/retry")
    async def retry(request: Request, run_id: str) -> Response:
        who = console.user(request)
        await console.form(request)
        try:
            await console.call(service.retry, run_id, who, surface=Surface.CONSOLE)
        except SignoffError as exc:
            return await refused(request, run_id, who, exc)
        return console.redirect(request, f"{PREFIX}/runs/{run_id}", "Retry queued: a worker picks it up.")

    async def refused(request: Request, run_id: str, who: Principal, exc: SignoffError) -> Response:
        try:
            context = await console.call(run_context, run_id, who)
        except SignoffError:
            return console.render(request, "error.html", {"title": "Refused", "message": exc.message},
                                  status_code=status_for(exc))
        return console.render(request, "run.html", context | {"error": exc.message}, status_code=status_for(exc))

    @r.get("/start")
    async def start_page(request: Request, target: str = "") -> Response:
        console.user(request)
        return console.render(request, "start.html", {"title": "Start a run", "targets": targets(),
                                                       "target": target, "prompt": ""})

    @r.post("/start")
    async def start(request: Request) -> Response:
        who = console.user(request)
        form = await console.form(request)
        target = str(form.get("target") or "")
        prompt = str(form.get("prompt") or "")
        try:
            run = await console.call(service.start, who, target, prompt, surface=Surface.CONSOLE)
        except SignoffError as exc:
            return console.render(request, "start.html", {
                "title": "Start a run", "targets": targets(), "target": target, "prompt": prompt,
                "error": exc.message}, status_code=status_for(exc))
        return console.redirect(request, f"{PREFIX}/runs/{run.id}", f"Started {run.target_name}.")

    return r
