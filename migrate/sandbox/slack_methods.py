"""The Slack Web API methods the emulator serves, as one table.

Each family's module registers its methods with their tier, bot scopes and the error codes they
can answer (slack_users.py: auth, team, users; slack_conversations.py: channels;
slack_history.py: history and replies; slack_messages.py: chat.*, reactions, pins, bookmarks;
slack_files.py: the external upload flow); the contract test checks those against
../shared/contracts/slack-web-methods.json. Here are the merged table, the codes any method may
answer, and the methods the contract does not cover.
"""

from __future__ import annotations

from migrate.sandbox import (
    slack_conversations,
    slack_files,
    slack_history,
    slack_messages,
    slack_users,
)
from migrate.sandbox.slack_state import MethodSpec

METHODS: dict[str, MethodSpec] = {**slack_users.METHODS, **slack_conversations.METHODS,
                                  **slack_history.METHODS, **slack_messages.METHODS,
                                  **slack_files.METHODS}

# Codes any method may answer (Slack's "common errors"); the handler produces most of them.
GENERIC_ERRORS = frozenset({
    "not_authed", "invalid_auth", "missing_scope", "ratelimited", "invalid_arguments",
    "internal_error", "unknown_method", "invalid_json", "invalid_form_data",
    # and two the emulator answers itself (slack_emulator.py)
    "service_unavailable", "request_timeout",
})

# Methods the emulator implements that the contract file does not cover (it lists 29 others).
NON_CONTRACT_METHODS = {
    # Special tier ("hundreds per minute"; Slack's Java SDK plans 600/min in
    # MethodsRateLimits.java), no scope (https://docs.slack.dev/reference/methods/auth.test).
    "auth.test": "special tier, no scope (docs.slack.dev/reference/methods/auth.test)",
    # Not in the contract file; Tier 3 and scope team:read as docs.slack.dev
    # documents team.info (assumed from memory of the method page).
    "team.info": "assumed: Tier 3, team:read",
    # Not in the contract file (added for syncs that follow Teams renames): Tier 2, bot scopes
    # channels:manage/channels:write/groups:write, errors per docs.slack.dev's method page.
    "conversations.rename": "docs.slack.dev/reference/methods/conversations.rename",
}
