"""The Slack side: directory, limits, scheduler, client, importer."""
