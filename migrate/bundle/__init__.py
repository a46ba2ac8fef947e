"""The import-bundle target: the history as Slack export-format ZIPs for Slack's importer."""
