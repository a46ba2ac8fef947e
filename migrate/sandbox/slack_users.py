"""Slack Web API methods of the emulator about who is there: auth.test, team.info and users.*
(list, lookupByEmail, info). Slack's method pages are at
https://docs.slack.dev/reference/methods/<method name>.
"""

from __future__ import annotations

import time

from migrate.sandbox.slack_paging import page_limit
from migrate.sandbox.slack_state import (
    Ctx,
    Json,
    MethodSpec,
    SlackError,
    arg_str,
    decode_cursor,
    encode_cursor,
    registrar,
    require,
)

METHODS: dict[str, MethodSpec] = {}
method = registrar(METHODS)


@method("auth.test", tier="Special")
def auth_test(ctx: Ctx, args: Json) -> Json:
    s = ctx.store
    # A workspace of a Grid org adds its enterprise_id (an output of the method's page); an
    # org-level token's own answer is slack_org.Grid.org_auth_test.
    grid = {"enterprise_id": s.enterprise["id"]} if s.enterprise else {}
    return {"url": f"https://{s.team.get('domain', 'sandbox')}.slack.com/", "team": s.team["name"],
            "user": s.users[s.bot_user].get("name", "migrate"), "team_id": s.team["id"],
            "user_id": s.bot_user, "bot_id": s.bot["bot_id"], "is_enterprise_install": False,
            **grid}


@method("team.info", tier="Tier 3", scopes=("team:read",))
def team_info(ctx: Ctx, args: Json) -> Json:
    team, e = ctx.store.team, ctx.store.enterprise
    # A Grid workspace names its org (enterprise_id/_name: assumed from memory of the page).
    grid = {"enterprise_id": e["id"], "enterprise_name": e["name"]} if e else {}
    return {"team": {"id": team["id"], "name": team["name"], "domain": team.get("domain", ""),
                     "email_domain": team.get("email_domain", ""),
                     "icon": team.get("icon", {"image_default": True}), **grid}}


def _user_view(ctx: Ctx, user: Json) -> Json:
    # profile.email needs users:read.email besides users:read
    # (https://docs.slack.dev/reference/methods/users.list).
    if "users:read.email" in ctx.scopes or "email" not in user.get("profile", {}):
        return user
    return dict(user, profile={k: v for k, v in user["profile"].items() if k != "email"})


@method("users.list", tier="Tier 2", scopes=("users:read",), errors=("invalid_cursor",))
def users_list(ctx: Ctx, args: Json) -> Json:
    # Returns deleted and bot users too (https://docs.slack.dev/reference/methods/users.list).
    # Without `limit` real Slack tries to return everyone (large teams get limit_required); a
    # sandbox workspace is small enough.
    users = list(ctx.store.users.values())
    start = decode_cursor(arg_str(args, "cursor"), "offset") or 0
    limit = page_limit(args, len(users) or 1, 1000, None)
    page = users[start:start + limit]
    more = start + limit < len(users)
    return {"members": [_user_view(ctx, u) for u in page], "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": encode_cursor("offset", start + limit) if more else ""}}


@method("users.lookupByEmail", tier="Tier 3", scopes=("users:read.email",),
        errors=("users_not_found",),
        required=('email',))
def users_lookup_by_email(ctx: Ctx, args: Json) -> Json:
    # Deactivated users are returned (with deleted: true): Slack's page does not say whether
    # they are (https://docs.slack.dev/reference/methods/users.lookupByEmail), and the importer must
    # check `deleted` either way.
    uid = ctx.store.by_email.get(require(args, "email").strip().lower())
    if uid is None:
        raise SlackError("users_not_found")
    return {"user": _user_view(ctx, ctx.store.users[uid])}


@method("users.info", tier="Tier 4", scopes=("users:read",), errors=("user_not_found",),
        required=('user',))
def users_info(ctx: Ctx, args: Json) -> Json:
    user = ctx.store.users.get(require(args, "user"))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": _user_view(ctx, user)}
