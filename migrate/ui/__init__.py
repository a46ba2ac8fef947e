"""What people see: the console, progress displays, terminal summaries, and the Markdown/HTML
reports of plan, run and verify."""
