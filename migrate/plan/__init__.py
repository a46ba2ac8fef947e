"""Plan: build the Plan from the store (mapping, rendering, every action and skip) and
estimate its duration. Pure: it never writes to Slack."""
