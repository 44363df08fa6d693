"""Continue a paused run by its id, in a process of its own, as a worker or another service would.

The agent is rebuilt from code (the same definition the test used to start the run); everything
else (messages, pending tool calls, requirements) comes from SQL through ``DATABASE_URL``. The
model is whatever ``OPENAI_BASE_URL`` points at. Prints one JSON object: the run's final status,
content, requester, the stream's event names (with ``--stream``) and this process's pid.

    python tests/scripts/continue_run.py RUN_ID [--stream]

The tool appends ``<pid> <record_id>`` to the file named by ``SIGNOFF_TEST_TOOL_LOG`` each time
it runs, so a test can count executions across processes.
"""

from __future__ import annotations

import json
import os
import sys

from runner import Agent, tool
from storage import Database


@tool(requires_confirmation=True)
def delete_record(record_id: str) -> str:
    """Permanently delete a record from the database."""
    with open(os.environ["SIGNOFF_TEST_TOOL_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {record_id}\n")
    return f"Record {record_id} deleted."


def build_agent(db: Database | None = None) -> Agent:
    """The same agent in every process: same id, same tools."""
    return Agent(id="records", name="Records", tools=[delete_record],
                 instructions="You manage records.", db=db)


def main(argv: list[str]) -> int:
    run_id = argv[0]
    stream = "--stream" in argv[1:]
    agent = build_agent()
    paused = agent.get_run_output(run_id)
    for requirement in paused.active_requirements:
        requirement.confirm()
    events: list[str] = []
    if stream:
        output = None
        for event in agent.continue_run(run_id=run_id, requirements=paused.requirements, stream=True):
            events.append(type(event).__name__)
            output = getattr(event, "output", None) or output
        assert output is not None, "the stream ended without a final event"
    else:
        output = agent.continue_run(run_id=run_id, requirements=paused.requirements)
    print(json.dumps({"run_id": output.run_id, "status": str(output.status), "content": output.content,
                      "requester": output.requester, "events": events, "pid": os.getpid()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
