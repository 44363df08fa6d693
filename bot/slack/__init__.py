"""The Slack surface: the bolt app (HTTP or Socket Mode), its listeners, Block Kit builders,
modals and the notifier that posts a run's cards and answers."""
