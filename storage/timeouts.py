"""Every timeout and TTL signoff uses, in one place."""

SLACK_EVENT_DEDUPE_TTL_S = 3600
"""How long a seen Slack ``event_id`` is remembered to drop Slack's retries; recovery prunes older ones."""

USERGROUP_CACHE_TTL_S = 300
"""How long a user group's member list is trusted before asking Slack again."""

REQUIREMENT_DEFAULT_EXPIRY_S = 24 * 3600
"""A requirement with no ``expires_in`` of its own expires after a day."""

MODEL_REQUEST_TIMEOUT_S = 60.0
"""Upper bound on one model call; past it the run fails with a timeout error, its state kept."""

MODEL_MAX_RETRIES = 2
"""Retries the openai SDK makes on 429/5xx/connection errors before the run fails."""

JOB_TIMEOUT_S = 900
"""RQ kills a start/continue job that runs longer than this."""

JOB_RESULT_TTL_S = 3600
"""How long RQ keeps a finished job's record (ids only, the truth is in SQL)."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for the lock before failing."""

HEALTHCHECK_TIMEOUT_S = 2.0
"""/healthz gives up on the database or Redis after this long and reports it unreachable."""

MCP_TIMEOUT_S = 30.0
"""Default bound on one MCP exchange (connecting and listing the tools, or one tool call)."""

MAX_MODEL_TURNS = 30
"""A run that has called the model this many times without finishing is failed, not left looping."""

HEARTBEAT_INTERVAL_S = 5.0
"""How often the worker driving a run refreshes ``runs.heartbeat_at`` (from a thread, also while a tool runs)."""

HEARTBEAT_STALE_S = 30
"""A ``running`` run whose heartbeat (or last write) is older than this lost its worker; recovery takes it over."""

QUEUED_GRACE_S = 60
"""A run still ``queued`` this long after creation lost its start job (Redis loss); recovery re-enqueues it."""

RECOVERY_INTERVAL_S = 10
"""How often a worker looks for runs whose job was lost, whose worker died, or whose requirements expired."""

MAX_REQUEST_BODY_BYTES = 1_048_576
"""The web process refuses a request body larger than this (1 MiB) with 413, before parsing it."""

MAX_PROMPT_CHARS = 4000
"""The longest ``/agent`` prompt accepted, in characters; a longer one is refused before anything is posted."""

RUN_START_WINDOW_S = 60
"""The window over which one person's run starts are counted (``SIGNOFF_RUNS_PER_MINUTE``)."""

RUNS_PER_USER_PER_WINDOW = 10
"""Default: how many runs one person may start per window before being asked to wait."""

MAX_QUEUED_RUNS_PER_AGENT = 50
"""Default: how many runs of one agent may wait for a worker before new starts are refused."""

PENDING_LIST_SHOWN = 40
"""How many pending decisions ``/approvals`` shows (the soonest to expire and the newest first)."""

PREFLIGHT_TIMEOUT_S = 5.0
"""How long a start-up check waits for Redis, Slack or the model server before calling it unreachable."""

WORKER_STOP_TIMEOUT_S = 10.0
"""How long ``signoff dev`` waits for its worker to finish its job on exit before killing it."""

CONSOLE_INVITE_TTL_S = 24 * 3600
"""A one-time console login link (``signoff console invite``) works once, within this long."""

CONSOLE_IDLE_TIMEOUT_S = 30 * 60
"""A console session unused this long is refused; the person signs in again."""

CONSOLE_SESSION_MAX_S = 12 * 3600
"""A console session ends this long after sign-in, however active it was."""

CONSOLE_OIDC_STATE_TTL_S = 600
"""How long a "Sign in with Slack" round trip (its state and nonce) may take."""

CONSOLE_POLL_INTERVAL_S = 2
"""How often an open console page asks whether something changed (decisions made elsewhere)."""

CONSOLE_LIST_LIMIT = 200
"""How many rows a console list (pending decisions, runs, audit events) shows at most."""

REMIND_AFTER_S: float | None = None
"""Default for ``SIGNOFF_REMIND_AFTER``: no reminder unless a tool, an approval or the settings ask for one."""

ESCALATE_AFTER_S: float | None = None
"""Default for ``SIGNOFF_ESCALATE_AFTER``: no escalation unless a tool, an approval or the settings ask for one."""

REMINDER_SWEEP_LIMIT = 500
"""How many due reminders or escalations one recovery pass handles (the rest wait for the next pass)."""

HOME_REFRESH_DEBOUNCE_S = 2.0
"""A person's App Home is republished at most once per this window; changes within it are coalesced."""

HOME_RECENT_RUNS = 10
"""How many of the viewer's own runs the App Home lists (the newest first)."""

HOME_RUNS_SCANNED = 500
"""How many of the newest runs are read to find a viewer's recent ones for the App Home."""

HOME_PERMALINK_CACHE = 2000
"""How many message permalinks a process remembers (App Home links, the cards clicks come from); they never change."""

AUDIT_SEAL_BATCH = 5000
"""Pending audit events chained per statement pair by the sealer (PostgreSQL); it loops until none are left."""

AUDIT_READ_BATCH = 10_000
"""Audit rows fetched per keyset query by exports, verification and reads: the memory bound of a stream."""

CARD_UPDATE_THREADS = 2
"""Threads of the web process's card-update queue (``bot.slack.cards_sync``), apart from the default pool."""

CARD_UPDATE_QUEUE_MAX = 1000
"""Runs with card updates waiting at most; past it the deciding thread updates its cards itself (back-pressure)."""

CARD_UPDATE_DRAIN_S = 10.0
"""How long closing the web process waits for queued card updates before dropping them (the cards stay as they were)."""

CARD_DIGESTS_REMEMBERED = 5000
"""How many Slack messages' last drawn content a process remembers, to skip a ``chat.update`` that changes nothing."""

SLACK_FOLLOWUPS_AT_ONCE = 4
"""Slack listeners doing their after-ack work at once in a web process; the others wait, so acks keep the event loop."""

SLACK_FOLLOWUP_WAIT_S = 1.0
"""The longest a listener's after-ack work waits for a turn before going ahead anyway (a trigger_id lives 3 s)."""

AUDIT_FLAGGED_ROWS = 1000
"""Rows a database-side verification pass returns for Python to judge; past them it reads on in Python."""

AUDIT_VERIFY_PARTS = 2
"""``seq`` ranges a PostgreSQL ``signoff audit verify`` checks at once, each on its own connection (core)."""

AUDIT_VERIFY_SPLIT_ROWS = 100_000
"""From this many audit rows on, verification is split into ``AUDIT_VERIFY_PARTS`` ranges."""
