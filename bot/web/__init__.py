"""The web surface: the FastAPI app (health, the REST API, its schemas) that also serves Slack's
HTTP endpoint."""
