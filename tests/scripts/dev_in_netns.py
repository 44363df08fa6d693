"""Run ``signoff dev`` where nothing answers on localhost:6379, then stop it with SIGTERM.

Run inside ``unshare -n`` by tests/test_dev.py (a network namespace of the test's own, with only
its loopback): prints one JSON document with what was observed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

port = int(sys.argv[1])
workdir = Path(sys.argv[2])
signoff = sys.argv[3]
subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "SLACK_", "OPENAI_"))}
env["DATABASE_URL"] = f"sqlite:///{workdir / 'signoff.db'}"
before = set(subprocess.run(["pgrep", "-f", "redis-server"], capture_output=True, text=True).stdout.split())
proc = subprocess.Popen([signoff, "dev", "--skip-model-check", "--port", str(port)], cwd=workdir, env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
screen: list[str] = []
deadline = time.monotonic() + 60
assert proc.stdout is not None
while time.monotonic() < deadline:
    line = proc.stdout.readline()
    if not line:
        break
    screen.append(line.rstrip("\n"))
    if line.startswith("  3. ") or line.startswith("Slack:"):
        break


def get(path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


health: tuple[int, str] = (0, "")
for _ in range(100):
    try:
        health = get("/healthz")
        break
    except OSError:
        time.sleep(0.1)
docs = get("/docs")
redis_pids = [
    pid for pid in subprocess.run(["pgrep", "-f", "redis-server"], capture_output=True, text=True).stdout.split()
    if pid not in before  # the machine's own Redis is not ours to stop
]
found = subprocess.run(["pgrep", "-f", "worker --skip-model-check"], capture_output=True, text=True)
worker_pids = found.stdout.split()
proc.send_signal(signal.SIGTERM)
try:
    code = proc.wait(timeout=30)
except subprocess.TimeoutExpired:
    proc.kill()
    code = -9
time.sleep(0.5)
alive_after = [
    pid for pid in redis_pids + worker_pids
    if subprocess.run(["kill", "-0", pid], capture_output=True).returncode == 0
]
print(json.dumps({
    "screen": screen,
    "health": health,
    "docs_status": docs[0],
    "docs_uses_cdn": "cdn.jsdelivr" in docs[1] or "unpkg.com" in docs[1],
    "redis_pids": redis_pids,
    "worker_pids": worker_pids,
    "exit": code,
    "alive_after": alive_after,
    "stderr": proc.stderr.read() if proc.stderr else "",
}))
