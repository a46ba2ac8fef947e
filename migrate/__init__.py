"""migrate — move an enterprise from Microsoft Teams to Slack.

Export through Microsoft Graph into a local state store, plan (a dry-run report), then import
through the Slack Web API with rate-limit-aware scheduling and an exactly-once ledger.
"""

__version__ = "0.1.0"
