"""Setting up: the settings every command reads, each declared once (settings.py; loaded by
migrate/config.py), `migrate init` (the commented config and override files) and `migrate doctor`
(credentials, permissions, scopes, reachability)."""
