"""Setting up: `migrate init` (the commented config and override files) and `migrate doctor`
(credentials, permissions, scopes, reachability)."""
