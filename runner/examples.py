"""The bundled examples (the default ``SIGNOFF_AGENTS``): the seed's use cases, ready to try.

The tools only describe what they would do: wire them to your systems in your own module and
point ``SIGNOFF_AGENTS`` at it.
"""

from __future__ import annotations

from runner.agent import Agent
from runner.approval import approval
from runner.team import Team
from runner.tools import tool
from runner.workflow import Step, Workflow

REFUND_ADMIN_THRESHOLD = 100.0
"""Refunds above this many dollars need an admin's sign-off; smaller ones only the requester's."""


# --------------------------------------------------------------- customer email


@tool
def lookup_customer(customer_id: str) -> str:
    """Look up a customer's name, email and plan by id."""
    return f"Customer {customer_id}: Dana Example <dana@example.com>, plan Pro, active since 2023."


@tool(requires_confirmation=True)
def send_customer_email(customer_id: str, subject: str, body: str) -> str:
    """Send an email to a customer. A person reviews the exact text before it goes out."""
    return f"Email '{subject}' sent to customer {customer_id}."


customer_email = Agent(
    id="customer-email",
    name="Customer email",
    tools=[lookup_customer, send_customer_email],
    description="Drafts and sends customer emails; every email is reviewed before it is sent.",
    instructions="You write short, friendly customer emails. Look the customer up first.",
)


# ---------------------------------------------------------------------- finance


@tool
def check_balance(customer_id: str) -> str:
    """Show a customer's balance and recent payments."""
    return f"Customer {customer_id}: balance $0.00, last payment $120.00 on 2026-11-01."


@tool(requires_confirmation=lambda args: float(args.get("amount", 0)) <= REFUND_ADMIN_THRESHOLD)
@approval(type="required", when=lambda args: float(args.get("amount", 0)) > REFUND_ADMIN_THRESHOLD)
def process_refund(customer_id: str, amount: float, reason: str = "") -> str:
    """Refund a customer. Over $100 needs an admin's approval; smaller refunds the requester's."""
    return f"Refund of ${amount:.2f} processed for customer {customer_id}."


@tool
@approval(type="audit")
def export_customer_data(customer_id: str) -> str:
    """Export a customer's data. Runs at once and is recorded for compliance."""
    return f"Data export for customer {customer_id} is ready: exports/{customer_id}.json"


finance = Agent(
    id="finance",
    name="Finance",
    tools=[check_balance, process_refund, export_customer_data],
    description="Refunds and data exports: refunds over $100 need an admin, exports are audited.",
    instructions="You handle refunds and data exports for customers. Check the balance first.",
)


# ----------------------------------------------------------------- infrastructure


@tool
def get_service_status(service: str, environment: str = "production") -> str:
    """Report a service's health and version in an environment."""
    return f"{service} in {environment}: healthy, version 2026.11.3, 4 replicas."


@tool(requires_confirmation=True, stop_after_tool_call=True)
@approval(type="required")
def apply_production_change(service: str, change: str) -> str:
    """Apply a change to production. Needs an approver, and the run stops right after it."""
    return f"Change applied to {service}: {change}"


@tool(external_execution=True)
def rotate_database_credentials(database: str) -> str:
    """Rotate a database's credentials. Done by a person with vault access, who reports back."""
    return "done by hand"


infrastructure = Agent(
    id="infra",
    name="Infrastructure",
    tools=[get_service_status, apply_production_change, rotate_database_credentials],
    description="Looks at services; production changes need an approver and hard-stop the run.",
    instructions="You are a careful SRE. Check status before changing anything.",
)



# ------------------------------------------------------------------ data pipeline


def collect_data(request: str) -> str:
    """Collect the rows the request is about (a fixed sample here: wire it to your warehouse)."""
    rows = [
        ("2026-11-17", "north", 1240.50),
        ("2026-11-17", "south", 980.00),
        ("2026-11-18", "north", 1315.25),
        ("2026-11-18", "south", -45.00),
        ("2026-11-19", "north", 1190.75),
    ]
    lines = "\n".join(f"{day},{region},{amount:.2f}" for day, region, amount in rows)
    return f"Request: {request}\nCollected {len(rows)} rows (date,region,amount):\n{lines}"


def publish_report(report: str) -> str:
    """Push the report to the production dashboard. Runs only after a person approved it."""
    return f"Published the report ({len(report)} characters) to the production dashboard."


data_transformer = Agent(
    id="data-transformer",
    name="Transformer",
    description="Cleans and aggregates collected rows into a report ready to publish.",
    instructions=(
        "You turn collected rows into a short report ready to publish: totals per region, "
        "rows that look wrong (negative or missing amounts) flagged. Return only the report."
    ),
)

data_pipeline = Workflow(
    id="data-pipeline",
    name="Data pipeline",
    description="Collect -> transform -> publish; a person reviews the report before it is published.",
    steps=[
        Step(name="Collect", executor=collect_data),
        Step(name="Transform", agent=data_transformer),
        Step(
            name="Publish",
            executor=publish_report,
            requires_confirmation=True,
            confirmation_message="Review the report above before it is published to the production dashboard.",
            on_reject="cancel",
        ),
    ],
)


# ------------------------------------------------------------------------ support


support = Team(
    id="support",
    name="Support",
    members=[customer_email, finance],
    description="Customer support: hands emails and refunds to its members, whose own checks still apply.",
    instructions="You run customer support. Use Finance for balances and refunds, Customer email for emails.",
)

agents = [customer_email, finance, infrastructure]
teams = [support]
workflows = [data_pipeline]
