"""Verify: the source inventory and the plan against what Slack holds (reads only)."""
