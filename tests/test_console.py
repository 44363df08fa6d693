"""The admin console (``/console``) against ``create_app(deps)`` under a real uvicorn.

Real pieces throughout: Slack requests signed and sent to the same server (``tests.slack_harness``),
the local Slack stand-in with "Sign in with Slack" (``tests.fakes.slack_oidc``), the fake model
server, SQLite, the local Redis and an in-process RQ worker. The browser tests drive Debian's
``chromium`` through Playwright's Python client (never a downloaded browser), check each page
for basic accessibility and write a screenshot of it to ``artifacts/console/`` (git-ignored).
Time is an injected clock (the database's): the idle timeout is tested without sleeping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.deps import build_deps
from bot.web.app import create_app
from bot.web.console.sessions import COOKIE
from storage import schema as t
from storage.export import verify_lines
from storage.records import RequirementRecord, RequirementStatus, RunRecord, RunStatus
from storage.timeouts import CONSOLE_IDLE_TIMEOUT_S, CONSOLE_SESSION_MAX_S
from tests.conftest import migrated
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.slack_oidc import SlackOIDC
from tests.slack_harness import ROOT, Bot, ServerThread, make_settings

pytestmark = [pytest.mark.redis]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "artifacts" / "console"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    """Real time plus an offset a test moves forward (the database's and the console's clock)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class Browserless(httpx.Client):
    """An HTTP client that may be used in a ``with`` after its first request (it closes on exit)."""

    def __enter__(self) -> Browserless:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Console:
    bot: Bot
    url: str
    clock: Clock
    slack: SlackOIDC

    @property
    def db(self) -> Any:
        return self.bot.deps.db

    def invite(self, user: str) -> str:
        return f"{self.url}/console/login/{self.db.create_console_login(user, created_by='U_ADMIN')}"

    def client(self) -> Browserless:
        return Browserless(base_url=self.url, timeout=10)

    def sign_in(self, user: str) -> tuple[Browserless, str]:
        """A plain HTTP client signed in as ``user`` (through an invite link), and its CSRF token."""
        http = self.client()
        link = self.invite(user)
        page = http.get(link)
        assert page.status_code == 200, page.text
        signed = http.post(link, data={"csrf": csrf_of(page.text)})
        assert signed.status_code == 303 and signed.headers["location"] == "/console/", signed.text
        home = http.get("/console/")
        assert home.status_code == 200 and user in home.text
        return http, csrf_of(home.text)

    def paused_run(self, amount: int = 50, user: str = "U_ALICE") -> tuple[RunRecord, RequirementRecord]:
        """``/agent finance Refund ...`` in Slack, drained by the worker: paused on one request."""
        self.bot.openai.script(
            tool_call("process_refund", {"customer_id": "42", "amount": amount}),
            text(f"Done with the ${amount} refund."),
        )
        run = self.bot.start(f"finance Refund ${amount} to customer 42", user=user)
        (req,) = self.bot.pending(run)
        return run, req


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
def oidc_slack() -> Iterator[SlackOIDC]:
    with SlackOIDC() as fake:
        yield fake


@pytest.fixture
def console(sqlite_url: str, oidc_slack: SlackOIDC, fake_openai: FakeOpenAI, queue_name: str) -> Iterator[Console]:
    clock = Clock()
    settings = make_settings(
        sqlite_url, oidc_slack, fake_openai, queue_name,
        slack_client_id=SlackOIDC.client_id, slack_client_secret=SlackOIDC.client_secret,
        signoff_secret_key="console-test-secret-key",
    )
    deps = build_deps(settings, db=migrated(settings.database_url, clock=clock))
    server = ServerThread(create_app(deps)).__enter__()
    http = httpx.Client(base_url=server.url, timeout=10)
    try:
        yield Console(Bot(oidc_slack, fake_openai, deps, http), server.url, clock, oidc_slack)
    finally:
        http.close()
        server.__exit__()
        deps.queue.empty()
        deps.close()
        deps.db.dispose()


# ------------------------------------------------------------------------------ the browser

A11Y_CHECK = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("the page has no lang attribute");
  if (!document.title.trim()) problems.push("the page has no title");
  if (document.querySelectorAll("h1").length !== 1) problems.push("the page needs exactly one h1");
  let previous = 0;
  for (const h of document.querySelectorAll("h1, h2, h3, h4")) {
    const level = Number(h.tagName[1]);
    if (previous && level > previous + 1) problems.push("heading level skipped at " + h.textContent.trim());
    previous = level;
  }
  const ids = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    if (ids.has(el.id)) problems.push("duplicate id " + el.id);
    ids.add(el.id);
  }
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const label = el.id && document.querySelector('label[for="' + el.id + '"]');
    if (!(label && label.textContent.trim()) && !el.getAttribute("aria-label") && !el.closest("label"))
      problems.push("input without a label: " + (el.name || el.outerHTML.slice(0, 80)));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label"))
      problems.push("no text: " + el.outerHTML.slice(0, 80));
    if (el.tabIndex < 0) problems.push("not reachable by keyboard: " + el.outerHTML.slice(0, 80));
  }
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const texts = document.querySelectorAll(
    "body, p, td, th, dt, dd, label, button, a, h1, h2, h3, li, code, pre, span, strong");
  for (const el of texts) {
    if (!el.textContent.trim() || el.closest(".visually-hidden, .skip")) continue;
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) problems.push("contrast " + ratio.toFixed(2) + " for " + el.outerHTML.slice(0, 60));
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def check_page(page: Any, name: str) -> None:
    """Accessibility checks on the page as it is, then its screenshot in ``artifacts/console``."""
    problems = page.evaluate(A11Y_CHECK)
    assert problems == [], f"{name}: {problems}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def press_tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Move the focus with the Tab key until it is on ``selector``: the element works by keyboard."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reachable with the Tab key")


@pytest.mark.slow
def test_invite_link_pending_appears_live_approve_by_keyboard_run_completes(
    console: Console, page_factory: Any
) -> None:
    page = page_factory()
    link = console.invite("U_ALICE")
    page.goto(link)
    check_page(page, "login-invite")
    page.get_by_role("button", name="Sign in as U_ALICE").click()
    page.wait_for_url(f"{console.url}/console/")
    assert page.get_by_text("Nothing is waiting for a decision.").is_visible()

    run, req = console.paused_run(50)  # started in Slack, while the page is open
    row = page.locator(f'tr[data-requirement="{req.id}"]')
    row.wait_for()  # no reload: the live refresh brought it
    assert "process_refund" in row.inner_text() and '"amount": 50' in row.inner_text()
    check_page(page, "pending")

    press_tab_to(page, f'tr[data-requirement="{req.id}"] button[value=approve]')
    page.keyboard.press("Enter")
    page.get_by_text("Approved: process_refund.").wait_for()
    card = console.bot.card(req)
    console.bot.wait_card_update(card, "Approved")  # the Slack card changed through the service

    page.goto(f"{console.url}/console/runs/{run.id}")
    console.bot.drain()
    page.locator('[data-run-status="completed"]').wait_for()  # again without a reload
    assert "Done with the $50 refund." in page.locator("pre.answer").inner_text()
    assert page.get_by_role("link", name="Open the run's thread in Slack").get_attribute("href") == (
        f"https://slack.com/app_redirect?channel={run.channel}"
    )
    check_page(page, "run")
    approved = next(e for e in console.db.audit_events(run_id=run.id) if e.action == "requirement.approved")
    assert approved.actor_id == "U_ALICE" and approved.details["via"] == "console"
    assert console.db.get_run(run.id).status is RunStatus.COMPLETED

    again = page_factory()  # the same link a second time: spent
    response = again.goto(link)
    assert response.status == 410 and again.get_by_text("already used").is_visible()


@pytest.mark.slow
def test_sign_in_with_slack_reject_with_reason_reaches_the_model(console: Console, page_factory: Any) -> None:
    page = page_factory()
    redirects: list[str] = []

    def slack_authorize(route: Any) -> None:  # Slack's consent page: the person clicks "Allow"
        redirects.append(route.request.url)
        route.fulfill(status=302, headers={"Location": console.slack.authorize(route.request.url, "U_ALICE")})

    page.context.route("https://slack.com/openid/connect/authorize**", slack_authorize)
    page.goto(f"{console.url}/")
    page.wait_for_url(re.compile(r"/console/login"))
    check_page(page, "login")
    page.get_by_role("link", name="Sign in with Slack").click()
    page.wait_for_url(f"{console.url}/console/")
    assert page.locator("[data-user=U_ALICE]").inner_text() == "Alice Archer"
    assert len(redirects) == 1 and "nonce=" in redirects[0]
    assert [c.method for c in console.slack.calls if c.method.startswith("openid")] == [
        "openid.connect.token", "openid.connect.userInfo"]

    run, req = console.paused_run(80)
    page.goto(f"{console.url}/console/requirements/{req.id}")
    check_page(page, "requirement")
    page.get_by_label("Reason (the agent is told)").fill("Wrong customer, it is 43")
    page.get_by_role("button", name="Reject", exact=True).click()
    page.get_by_text("Rejected: process_refund.").wait_for()
    console.bot.wait_card_update(console.bot.card(req), "Rejected")
    console.bot.drain()
    assert console.db.get_run(run.id).status is RunStatus.COMPLETED
    tool_message = next(m for m in console.bot.openai.last_messages() if m["role"] == "tool")
    assert "Wrong customer, it is 43" in tool_message["content"]
    rejected = next(e for e in console.db.audit_events(run_id=run.id) if e.action == "requirement.rejected")
    assert (rejected.actor_id, rejected.actor_name, rejected.details["via"]) == ("U_ALICE", "Alice Archer", "console")

    # The other pages, each checked and photographed: runs, start a run (end to end without Slack), audit.
    page.goto(f"{console.url}/console/runs")
    check_page(page, "runs")
    page.goto(f"{console.url}/console/start")
    check_page(page, "start")
    console.bot.openai.script(text("Hello from the email agent."))
    page.get_by_label("What should it do?").fill("Say hello")
    page.locator("label", has_text="(agent, customer-email)").click()
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Started Customer email.").wait_for()
    started = console.db.list_runs(limit=1)[0]
    assert (started.target_id, started.requester, started.channel) == ("customer-email", "U_ALICE", None)
    console.bot.drain()
    page.locator('[data-run-status="completed"]').wait_for()
    page.goto(f"{console.url}/console/audit?verify_chain=1")
    assert page.locator("[data-chain=ok]").is_visible()
    check_page(page, "audit")


@pytest.mark.slow
def test_a_person_who_may_not_decide_sees_no_buttons_and_a_forged_post_is_refused(
    console: Console, page_factory: Any
) -> None:
    run, req = console.paused_run(50)  # a plain confirmation: Alice (the requester) or an approver
    page = page_factory()
    page.goto(console.invite("U_DAVE"))
    page.get_by_role("button", name="Sign in as U_DAVE").click()
    row = page.locator(f'tr[data-requirement="{req.id}"]')
    assert "Not yours to decide" in row.inner_text()
    assert page.locator("main button[name=action]").count() == 0
    page.goto(f"{console.url}/console/requirements/{req.id}")
    assert page.locator("main form").count() == 0 and page.get_by_text("You cannot decide this request").is_visible()
    check_page(page, "requirement-not-yours")

    token = page.locator("form.whoami input[name=csrf]").get_attribute("value")  # the right CSRF token
    forged = page.request.post(
        f"{console.url}/console/requirements/{req.id}/decide",
        form={"csrf": token, "action": "approve", "seen_hash": req.current_hash},
        max_redirects=0,
    )
    assert forged.status == 403 and f"U_DAVE may not decide requirement {req.id}" in forged.text()
    assert console.db.get_requirement(req.id).is_pending and console.bot.deps.queue.count == 0
    refused = [e for e in console.db.audit_events(run_id=run.id) if e.action == "decision.refused"]
    assert [(e.actor_id, e.outcome, e.details["via"]) for e in refused] == [("U_DAVE", "NotAnApprover", "console")]


# --------------------------------------------------------------------------- plain HTTP


def test_root_goes_to_the_console_which_asks_to_sign_in(console: Console) -> None:
    with console.client() as http:
        assert http.get("/").headers["location"] == "/console/"
        page = http.get("/console/")
        assert page.status_code == 303 and page.headers["location"].startswith("/console/login?next=")
        assert http.get("/console/live.json").status_code == 401
        assert http.get(page.headers["location"]).status_code == 200


def test_a_post_without_the_csrf_token_or_with_another_is_403(console: Console) -> None:
    _, req = console.paused_run(50)
    http, csrf = console.sign_in("U_ALICE")
    with http:
        url = f"/console/requirements/{req.id}/decide"
        assert http.post(url, data={"action": "approve", "seen_hash": req.current_hash}).status_code == 403
        assert http.post(url, data={"action": "approve", "csrf": csrf[:-2] + "xx"}).status_code == 403
        assert http.post("/console/logout", data={}).status_code == 403
        assert http.post("/console/start", data={"target": "support", "prompt": "hi"}).status_code == 403
        assert console.db.get_requirement(req.id).is_pending and not console.db.list_runs(status="queued")
        other, other_csrf = console.sign_in("U_BOB")  # a token of another session is not this one's
        with other:
            assert http.post(url, data={"action": "approve", "csrf": other_csrf}).status_code == 403
        done = http.post(url, data={"action": "approve", "csrf": csrf, "seen_hash": req.current_hash})
        assert done.status_code == 303
        assert console.db.get_requirement(req.id).status is RequirementStatus.APPROVED


def test_a_stale_page_cannot_approve_edited_arguments(console: Console) -> None:
    _, req = console.paused_run(50)
    http, csrf = console.sign_in("U_ALICE")
    with http:
        stale = http.post(f"/console/requirements/{req.id}/decide",
                          data={"action": "approve", "csrf": csrf, "seen_hash": "0" * 64})
        assert stale.status_code == 409 and "changed" in stale.text
        assert console.db.get_requirement(req.id).is_pending


def test_an_idle_or_old_session_is_refused(console: Console) -> None:
    _, req = console.paused_run(50)
    http, csrf = console.sign_in("U_ALICE")
    with http:
        for _ in range(3):  # activity keeps it alive
            console.clock.advance(CONSOLE_IDLE_TIMEOUT_S - 60)
            assert http.get("/console/").status_code == 200
        console.clock.advance(CONSOLE_IDLE_TIMEOUT_S + 1)
        assert http.get("/console/live.json").status_code == 401
        gone = http.get("/console/runs")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/console/login")
        refused = http.post(f"/console/requirements/{req.id}/decide",
                            data={"action": "approve", "csrf": csrf, "seen_hash": req.current_hash})
        assert refused.status_code in (401, 403)
        assert console.db.get_requirement(req.id).is_pending

    http, csrf = console.sign_in("U_ALICE")  # however active, a session ends after its maximum age
    with http:
        elapsed = 0
        while elapsed <= CONSOLE_SESSION_MAX_S:
            console.clock.advance(CONSOLE_IDLE_TIMEOUT_S - 60)
            elapsed += CONSOLE_IDLE_TIMEOUT_S - 60
            http.get("/console/runs")
        assert http.get("/console/runs").status_code == 303


def test_polling_does_not_keep_a_session_alive(console: Console) -> None:
    http, _ = console.sign_in("U_ALICE")
    with http:
        for _ in range(3):
            console.clock.advance(CONSOLE_IDLE_TIMEOUT_S / 2)
            assert http.get("/console/live.json").status_code in (200, 401)
        assert http.get("/console/").status_code == 303


def test_an_invite_link_signs_in_once_and_is_audited(console: Console) -> None:
    link = console.invite("U_BOB")
    with console.client() as first, console.client() as second:
        page = first.get(link)
        assert "Sign in as U_BOB" in page.text
        token_page = second.get(link)
        assert first.post(link, data={"csrf": csrf_of(page.text)}).status_code == 303
        assert second.post(link, data={"csrf": csrf_of(token_page.text)}).status_code == 410
        assert second.get(link).status_code == 410
        assert second.get("/console/").status_code == 303
        bogus = link[:-4] + "abcd"
        assert second.get(bogus).status_code == 410
    logins = [(e.action, e.actor_id, e.outcome) for e in console.db.audit_events() if e.action.startswith("console.")]
    assert logins == [("console.invited", "U_ADMIN", "created"), ("console.login", "U_BOB", "signed_in"),
                      ("console.login", "U_BOB", "refused_used")]
    expired = console.invite("U_CAROL")
    console.clock.advance(25 * 3600)
    assert console.client().get(expired).status_code == 410


def test_signoff_console_invite_prints_a_link_and_stores_only_a_hash(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import app
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", console.bot.deps.settings.database_url)
    monkeypatch.setenv("SIGNOFF_PUBLIC_URL", console.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["console", "invite", "U_CAROL"])
        bad = CliRunner().invoke(app, ["console", "invite", "carol"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    link = result.stdout.strip().splitlines()[0]
    assert re.fullmatch(re.escape(console.url) + r"/console/login/[0-9a-f]{12}_[\w-]{43}", link)
    assert bad.exit_code != 0
    secret = link.rsplit("_", 1)[1]
    with console.db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(t.console_logins)).mappings()]
    assert len(rows) == 1 and secret not in json.dumps(rows, default=str) and rows[0]["user_id"] == "U_CAROL"
    with console.client() as http:
        page = http.get(link)
        assert http.post(link, data={"csrf": csrf_of(page.text)}).status_code == 303


def test_slack_sign_in_refuses_a_callback_it_did_not_start(console: Console) -> None:
    with console.client() as http:
        start = http.get("/console/login/slack")
        assert start.status_code == 303 and start.headers["location"].startswith(
            "https://slack.com/openid/connect/authorize?")
        back = console.slack.authorize(start.headers["location"], "U_BOB")
        forged = back.replace("state=", "state=x")
        assert http.get(forged.replace(console.url, "")).status_code == 400
        assert http.get("/console/").status_code == 303  # not signed in
        with console.client() as other:  # a callback in another browser (no state there)
            assert other.get(back.replace(console.url, "")).status_code == 400


def test_audit_export_is_for_approvers_and_audited(console: Console) -> None:
    run, _ = console.paused_run(50)
    bob, bob_csrf = console.sign_in("U_BOB")  # in S_ADMINS
    dave, dave_csrf = console.sign_in("U_DAVE")
    with bob, dave:
        assert "Download" in bob.get("/console/audit").text and "Download" not in dave.get("/console/audit").text
        assert dave.post("/console/audit/export", data={"csrf": dave_csrf, "format": "csv"}).status_code == 403
        csv_export = bob.post("/console/audit/export", data={"csrf": bob_csrf, "format": "csv"})
        assert csv_export.status_code == 200 and csv_export.headers["content-type"].startswith("text/csv")
        assert "requirement.created" in csv_export.text or "run.started" in csv_export.text
        jsonl = bob.post("/console/audit/export", data={"csrf": bob_csrf, "format": "jsonl"})
        assert verify_lines(jsonl.text.splitlines()).ok
        filtered = bob.get("/console/audit", params={"run": run.id, "verify_chain": "1"})
        assert 'data-chain="ok"' in filtered.text and run.id[:8] in filtered.text
    exported = [e for e in console.db.audit_events() if e.action == "audit.exported"]
    assert [(e.actor_id, e.details["via"], e.details["format"]) for e in exported] == [
        ("U_BOB", "console", "csv"), ("U_BOB", "console", "jsonl")]
    assert [e.actor_id for e in console.db.audit_events() if e.action == "audit.export_refused"] == ["U_DAVE"]


def test_the_session_cookie_is_signed_httponly_and_lax(console: Console) -> None:
    with console.client() as http:
        page = http.get("/console/login")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace(
            "Lax", "lax")
        http.cookies.set(COOKIE, '{"c": "x", "u": "U_BOB", "i": 9999999999, "s": 9999999999}')
        assert http.get("/console/").status_code == 303  # an unsigned cookie is nobody


def test_edit_and_approve_from_the_schema_form(console: Console) -> None:
    _, req = console.paused_run(50)
    http, csrf = console.sign_in("U_ALICE")
    with http:
        page = http.get(f"/console/requirements/{req.id}")
        assert 'name="arg.amount"' in page.text and 'name="arg.customer_id"' in page.text
        bad = http.post(f"/console/requirements/{req.id}/decide",
                        data={"action": "edit", "csrf": csrf, "seen_hash": req.current_hash, "arg.amount": "lots"})
        assert bad.status_code == 422 and "must be a number" in bad.text
        done = http.post(f"/console/requirements/{req.id}/decide",
                         data={"action": "edit", "csrf": csrf, "seen_hash": req.current_hash, "arg.amount": "60",
                               "arg.customer_id": ""})
        assert done.status_code == 303
    decided = console.db.get_requirement(req.id)
    assert decided.status is RequirementStatus.APPROVED
    edited = decided.resolution["edited_args"]
    assert edited["amount"] == 60 and edited["customer_id"] == "42"


def test_workflow_checkpoints_in_the_console_route_choice_and_output_edit(console: Console) -> None:
    """A Router's choice is a select of its routes (a forged one is refused, nothing applied), and
    a step's output review can be edited from the console, through the same decision service."""
    from tests import workflow_slack_agents as flows

    for workflow in flows.workflows:
        console.bot.deps.registry.targets[workflow.id] = workflow
    flows.SEEN.clear()
    run = console.bot.start("route-flow The export is slow", user="U_ALICE")
    (choice,) = console.bot.pending(run)
    assert choice.kind.value == "step_route_selection"
    http, csrf = console.sign_in("U_ALICE")
    with http:
        page = http.get(f"/console/requirements/{choice.id}")
        assert "<select" in page.text and 'name="field.route"' in page.text and "deep_analysis" in page.text
        forged = http.post(f"/console/requirements/{choice.id}/decide",
                           data={"action": "answer", "csrf": csrf, "seen_hash": choice.current_hash,
                                 "field.route": '"rm -rf"'})
        assert forged.status_code == 422 and "is not a choice" in forged.text
        assert console.db.get_requirement(choice.id).is_pending
        chosen = http.post(f"/console/requirements/{choice.id}/decide",
                           data={"action": "answer", "csrf": csrf, "seen_hash": choice.current_hash,
                                 "field.route": '"deep_analysis"'})
        assert chosen.status_code == 303
    assert console.db.get_requirement(choice.id).resolution["values"] == {"route": "deep_analysis"}

    review_run = console.bot.start("review-flow quarterly numbers", user="U_ALICE")
    (review,) = console.bot.pending(review_run)
    http, csrf = console.sign_in("U_ALICE")
    with http:
        page = http.get(f"/console/requirements/{review.id}")
        assert 'name="arg.output"' in page.text
        done = http.post(f"/console/requirements/{review.id}/decide",
                         data={"action": "edit", "csrf": csrf, "seen_hash": review.current_hash,
                               "arg.output": "Edited in the console."})
        assert done.status_code == 303
    decided = console.db.get_requirement(review.id)
    assert decided.status is RequirementStatus.APPROVED
    assert decided.resolution["edited_args"] == {"output": "Edited in the console."}
    console.bot.drain()
    assert ("Send", "Edited in the console.") in flows.SEEN
