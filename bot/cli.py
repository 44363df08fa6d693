"""``signoff``: the command line. One-line errors and a non-zero exit, never a traceback."""

from __future__ import annotations

import sys
from typing import Any

import typer

from bot.audit_cli import audit_app
from bot.console import err, friendly
from bot.settings import get_settings
from storage.errors import SignoffError

app = typer.Typer(
    help="signoff: human sign-off for AI agents, in Slack.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
MODEL_CHECK_HELP = "Ask the model server for its models at start."
token_app = typer.Typer(help="REST API tokens: each belongs to a person or a named service.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(token_app, name="token")
console_app = typer.Typer(help="The web console: one-time login links.", no_args_is_help=True)
app.add_typer(console_app, name="console")

@db_app.command("upgrade")
@friendly
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision to upgrade to.")) -> None:
    """Create or migrate the tables. Several processes upgrading at once take turns (PostgreSQL:
    an advisory lock); the web app and the worker only check, and say to run this."""
    from storage.database import Database

    db = Database(get_settings().database_url)
    try:
        at = db.upgrade(revision)
    finally:
        db.dispose()
    typer.echo(f"database at revision {at}")


def _database() -> Any:
    from storage.database import Database

    return Database.open(get_settings().database_url)


@token_app.command("create")
@friendly
def token_create(
    user: str | None = typer.Option(None, "--user", help="A Slack user id: the token decides as this person."),
    service: str | None = typer.Option(None, "--service", help="A service name: the token acts as svc:NAME."),
    scopes: str | None = typer.Option(
        None, help="Comma-separated: read, decide, export. Default: read,decide for a user, read for a service."
    ),
    name: str | None = typer.Option(None, help="A label to recognise the token by in `signoff token list`."),
    created_by: str | None = typer.Option(None, "--by", help="Who is creating it (recorded in the audit log)."),
) -> None:
    """Create a token; it is printed once and only its hash is kept."""
    from storage.errors import InvalidInput

    if (user is None) == (service is None):
        raise InvalidInput("give exactly one of --user U123 or --service NAME")
    if user is not None and not (user[:1] in ("U", "W") and user.isalnum()):
        raise InvalidInput(f"--user {user!r} is not a Slack user id (like U012ABCDEF)")
    kind = "user" if user is not None else "service"
    wanted = [s.strip() for s in (scopes or ("read,decide" if user else "read")).split(",") if s.strip()]
    db = _database()
    try:
        record, secret = db.create_token(
            name=name or (user or service or ""),
            principal_kind=kind,
            principal_id=user or service or "",
            scopes=wanted,
            created_by=created_by,
        )
    finally:
        db.dispose()
    typer.echo(f"token {record.id} for {record.principal_id} ({', '.join(record.scopes)}):")
    typer.echo(secret)
    err.print("Store it now: it is not shown again. Send it as `Authorization: Bearer <token>`.", highlight=False)


@token_app.command("list")
@friendly
def token_list(all_: bool = typer.Option(False, "--all", help="Include revoked tokens.")) -> None:
    """Tokens (never their secrets): id, principal, scopes, created, last used, revoked."""
    db = _database()
    try:
        tokens = db.list_tokens(include_revoked=all_)
    finally:
        db.dispose()
    if not tokens:
        typer.echo("no tokens (create one with `signoff token create --user U123`)")
        return
    for tok in tokens:
        revoked = f" revoked {tok.revoked_at:%Y-%m-%d %H:%M}" if tok.revoked_at else ""
        typer.echo(
            f"{tok.id}  {tok.principal_id:<24} {','.join(tok.scopes):<18} {tok.name}  "
            f"created {tok.created_at:%Y-%m-%d %H:%M}{revoked}"
        )


@token_app.command("revoke")
@friendly
def token_revoke(
    token_id: str = typer.Argument(..., help="The token's id (from `signoff token list`)."),
    revoked_by: str | None = typer.Option(None, "--by", help="Who is revoking it (recorded in the audit log)."),
) -> None:
    """Revoke a token at once; requests with it get 401 from then on."""
    db = _database()
    try:
        record = db.revoke_token(token_id, revoked_by=revoked_by)
    finally:
        db.dispose()
    typer.echo(f"revoked token {record.id} ({record.principal_id})")


@console_app.command("invite")
@friendly
def console_invite(
    user: str = typer.Argument(..., help="The Slack user id the link signs in (like U012ABCDEF)."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="The console's address (default: SIGNOFF_PUBLIC_URL, else http://localhost:PORT)."
    ),
    created_by: str | None = typer.Option(None, "--by", help="Who is inviting (recorded in the audit log)."),
) -> None:
    """Print a one-time console login link for a person: it works once, within a day, and
    signs them in as that Slack user. Only its hash is stored."""
    settings = get_settings()
    db = _database()
    try:
        token = db.create_console_login(user, created_by=created_by)
    finally:
        db.dispose()
    base = (base_url or settings.signoff_public_url or f"http://localhost:{settings.port}").rstrip("/")
    typer.echo(f"{base}/console/login/{token}")
    err.print(f"Send it to {user} privately: it signs in once and is not shown again.", highlight=False)


@app.command()
@friendly
def worker(
    burst: bool = typer.Option(False, help="Exit when the queue is empty."),
    scheduler: bool = typer.Option(True, help="Also run RQ's scheduler (delayed jobs)."),
    model_check: bool = typer.Option(True, "--model-check/--skip-model-check", help=MODEL_CHECK_HELP),
) -> None:
    """Run an RQ worker on signoff's queue (every problem with the settings is reported first)."""
    from bot.worker import run_worker

    run_worker(get_settings(), burst=burst, with_scheduler=scheduler, check_model=model_check)


@app.command()
@friendly
def chat(
    agent: str | None = typer.Argument(None, help="The agent, team or workflow id (signoff chat --list)."),
    prompt: str | None = typer.Argument(None, help="What it should do."),
    user: str | None = typer.Option(None, "--user", help="Decide as this Slack user id (default: local:<login>)."),
    resume: str | None = typer.Option(None, "--resume", help="Follow a run that was paused (by its id)."),
) -> None:
    """Run an agent here, in the terminal: its answer streams, you decide what it asks."""
    from bot.terminal import run_chat

    code = run_chat(get_settings(), agent, prompt, user=user, resume=resume)
    raise typer.Exit(code)


@app.command()
@friendly
def dev(
    port: int | None = typer.Option(None, help="Port for the web app (default: PORT, else 3000)."),
    model_check: bool = typer.Option(True, "--model-check/--skip-model-check", help=MODEL_CHECK_HELP),
) -> None:
    """Start the web app and a worker together (and a private Redis if none answers), for a try-out."""
    from bot.dev import run_dev

    settings = get_settings()
    raise typer.Exit(run_dev(settings, port=port or settings.port, check_model=model_check))


def main() -> None:
    try:
        app()
    except SignoffError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(1)
