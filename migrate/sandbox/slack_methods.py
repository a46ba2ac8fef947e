"""Slack Web API methods of the emulator: auth, team, users and conversations.

Each method is registered with its tier, bot scopes and the error codes it can answer; the
contract test checks those against ../shared/contracts/slack-web-methods.json. Message, file,
reaction, pin and bookmark methods are in slack_messages.py. Slack's method pages are at
https://docs.slack.dev/reference/methods/<method name>.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left, bisect_right

from migrate.sandbox.slack_state import (
    Channel,
    Ctx,
    Json,
    MethodSpec,
    Msg,
    SlackError,
    arg_bool,
    arg_int,
    arg_str,
    decode_cursor,
    encode_cursor,
    registrar,
    require,
    ts_key,
)

METHODS: dict[str, MethodSpec] = {}
method = registrar(METHODS)

# Codes any method may answer (Slack's "common errors"); the handler produces most of them.
GENERIC_ERRORS = frozenset({
    "not_authed", "invalid_auth", "missing_scope", "ratelimited", "invalid_arguments",
    "internal_error", "unknown_method", "invalid_json", "invalid_form_data",
})

# Methods implemented here that the contract file does not cover (it lists 29 others).
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

_CREATE_SCOPES = ("groups:write", "im:write", "mpim:write", "channels:write", "channels:manage")
_INVITE_SCOPES = ("channels:write.invites", "groups:write.invites", "channels:manage",
                  "groups:write", "im:write", "mpim:write")
_TOPIC_SCOPES = ("channels:write.topic", "groups:write.topic", "mpim:write.topic",
                 "im:write.topic", "channels:manage", "groups:write", "im:write", "mpim:write")
_READ_SCOPES = ("groups:read", "im:read", "mpim:read", "channels:read")
_HISTORY_SCOPES = ("groups:history", "im:history", "mpim:history", "channels:history")


def page_limit(args: Json, default: int, maximum: int, error: str | None) -> int:
    """`limit` as Slack pages it: a default when absent; above the maximum → `error` or capped."""
    limit = arg_int(args, "limit", error or "invalid_arguments")
    if limit is None or limit == 0:
        return default
    if limit < 0 or limit > maximum:
        if error:
            raise SlackError(error)
        return maximum if limit > maximum else default
    return limit


# ---------------------------------------------------------------- auth, team, users


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


# ---------------------------------------------------------------- channels


def _render(ctx: Ctx, channel: Channel, num_members: bool = True) -> Json:
    return channel.render(ctx.store.bot_user, num_members)


@method("conversations.list", tier="Tier 2", scopes=_READ_SCOPES,
        errors=("invalid_cursor", "invalid_limit", "invalid_types"))
def conversations_list(ctx: Ctx, args: Json) -> Json:
    types = {t.strip() for t in (arg_str(args, "types") or "public_channel").split(",") if t.strip()}
    if not types <= {"public_channel", "private_channel", "mpim", "im"}:
        raise SlackError("invalid_types")
    exclude_archived = arg_bool(args, "exclude_archived")
    store = ctx.store
    wanted = [
        c for c in store.channels.values()
        if c.kind in types
        and not (exclude_archived and c.archived)
        # Private channels, DMs and group DMs are listed only where the bot is a member
        # (https://docs.slack.dev/reference/methods/conversations.list); DMs and group DMs
        # exist only through imports (slack_import.py).
        and not (c.private and not store.is_member(c))
    ]
    start = decode_cursor(arg_str(args, "cursor"), "offset") or 0
    limit = page_limit(args, 100, 1000, "invalid_limit")
    more = start + limit < len(wanted)
    return {"channels": [_render(ctx, c) for c in wanted[start:start + limit]],
            "response_metadata": {"next_cursor": encode_cursor("offset", start + limit) if more else ""}}


_NAME_OK = re.compile(r"[\w-]+")


def _check_name(name: str) -> None:
    """Slack's channel name rules: 1–80 characters, lowercase letters, digits, hyphens and
    underscores (https://docs.slack.dev/reference/methods/conversations.create); the error
    precedence is our choice."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    # \w admits digits, '_' and letters of any script; Latin letters must be lowercase.
    # Non-Latin letters are accepted, as one project measured (a third-party report, not a
    # Slack statement).
    if not _NAME_OK.fullmatch(name) or name != name.lower():
        raise SlackError("invalid_name_specials")
    if not name.strip("-_"):
        raise SlackError("invalid_name_punctuation")


@method("conversations.create", tier="Tier 2", scopes=_CREATE_SCOPES, writes=True,
        errors=("name_taken", "invalid_name_required", "invalid_name_maxlength",
                "invalid_name_specials", "invalid_name_punctuation"))
def conversations_create(ctx: Ctx, args: Json) -> Json:
    store = ctx.store
    name = arg_str(args, "name") or ""
    _check_name(name)
    # Archived channels keep their name (reported by other importers' issue threads, not in
    # Slack's docs), and by_name keeps them.
    if name in store.by_name:
        raise SlackError("name_taken")
    now = int(time.time())
    empty = {"value": "", "creator": "", "last_set": 0}
    data = {"id": store.new_id("C"), "name": name, "is_private": arg_bool(args, "is_private"),
            "is_archived": False, "is_general": False, "created": now, "creator": store.bot_user,
            "topic": dict(empty), "purpose": dict(empty)}
    # the creating bot is a member (https://docs.slack.dev/reference/methods/conversations.create)
    channel = Channel(data, [store.bot_user])
    store.add_channel(channel)
    return {"channel": _render(ctx, channel)}


@method("conversations.rename", tier="Tier 2", scopes=_CREATE_SCOPES, writes=True,
        errors=("channel_not_found", "is_archived", "not_in_channel", "not_authorized",
                "name_taken", "invalid_name_required", "invalid_name_maxlength",
                "invalid_name_specials", "invalid_name_punctuation"),
        required=("channel",))
def conversations_rename(ctx: Ctx, args: Json) -> Json:
    # docs.slack.dev/reference/methods/conversations.rename: only the channel's creator (or an
    # admin / channel manager) may rename it; the name rules are those of create.
    store = ctx.store
    channel = _writable(ctx, arg_str(args, "channel"))
    if channel.data.get("creator") != store.bot_user:
        raise SlackError("not_authorized")
    name = arg_str(args, "name") or ""
    _check_name(name)
    if name != channel.data["name"]:
        if name in store.by_name:
            raise SlackError("name_taken")
        old = channel.data["name"]
        store.rename_channel(channel, name)
        store.system_message(channel, "channel_name", f"renamed the channel from \"{old}\" to "
                             f"\"{name}\"", name=name, old_name=old)
    return {"channel": _render(ctx, channel)}


@method("conversations.info", tier="Tier 3", scopes=_READ_SCOPES, errors=("channel_not_found",),
        required=('channel',))
def conversations_info(ctx: Ctx, args: Json) -> Json:
    channel = ctx.store.visible(arg_str(args, "channel"))
    return {"channel": _render(ctx, channel, arg_bool(args, "include_num_members"))}


def _writable(ctx: Ctx, channel_arg: str | None) -> Channel:
    """Checks shared by invite/topic/purpose/archive: visible, not archived, bot a member."""
    channel = ctx.store.visible(channel_arg)
    if channel.archived:
        raise SlackError("is_archived")
    if not ctx.store.is_member(channel):
        raise SlackError("not_in_channel")
    return channel


def _invite_error(ctx: Ctx, channel: Channel, uid: str) -> str | None:
    store = ctx.store
    user = store.users.get(uid)
    if uid == store.bot_user:
        return "cant_invite_self"
    if user is None:
        # An org user who is not a member of this workspace: org_user_not_in_team (in the
        # method's error table, https://docs.slack.dev/reference/methods/conversations.invite).
        return "org_user_not_in_team" if store.in_org(uid) else "user_not_found"
    if user.get("deleted"):
        return "cant_invite"  # deactivated accounts cannot be invited (our reading)
    if uid in channel.members:
        return "already_in_channel"
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        # Only workspace admins add guests to channels; a bot token is not one (assumption,
        # read from conversations.invite's error codes user_is_restricted and
        # user_is_ultra_restricted).
        return "user_is_restricted"
    return None


def _channel_only(channel: Channel) -> Channel:
    """DMs and group DMs have fixed members: join/invite/archive refuse them (each method's
    error table lists method_not_supported_for_channel_type)."""
    if channel.kind in ("im", "mpim"):
        raise SlackError("method_not_supported_for_channel_type")
    return channel


@method("conversations.invite", tier="Tier 3", scopes=_INVITE_SCOPES, writes=True,
        errors=("channel_not_found", "is_archived", "not_in_channel", "too_many_users",
                "cant_invite_self", "user_not_found", "cant_invite", "already_in_channel",
                "user_is_restricted", "no_user", "method_not_supported_for_channel_type",
                "org_user_not_in_team"),
        required=('channel',))
def conversations_invite(ctx: Ctx, args: Json) -> Json:
    channel = _channel_only(_writable(ctx, arg_str(args, "channel")))
    uids = [u.strip() for u in (arg_str(args, "users") or "").split(",") if u.strip()]
    if not uids:
        raise SlackError("no_user")
    # The docs conflict (100 vs 1000 users per call,
    # https://docs.slack.dev/reference/methods/conversations.invite); we take the stricter 100.
    if len(uids) > 100:
        raise SlackError("too_many_users")
    failures = []
    ok_users: list[str] = []
    for uid in dict.fromkeys(uids):
        error = _invite_error(ctx, channel, uid)
        if error:
            failures.append({"user": uid, "ok": False, "error": error})
        else:
            ok_users.append(uid)
    force = arg_bool(args, "force")
    # All-or-nothing unless `force` (https://docs.slack.dev/reference/methods/conversations.invite).
    if failures and (not force or not ok_users):
        raise SlackError(failures[0]["error"], errors=failures)
    for uid in ok_users:
        channel.members[uid] = None
        ctx.store.system_message(channel, "channel_join", f"<@{uid}> has joined the channel",
                                 user=uid, inviter=ctx.store.bot_user)
    out: Json = {"channel": _render(ctx, channel)}
    if failures:
        out["errors"] = failures
    return out


@method("conversations.join", tier="Tier 3", scopes=("channels:join",), writes=True,
        errors=("channel_not_found", "is_archived", "method_not_supported_for_channel_type"),
        required=('channel',))
def conversations_join(ctx: Ctx, args: Json) -> Json:
    # Private channels (and DMs) the bot is not in are invisible to it: channel_not_found.
    channel = _channel_only(ctx.store.visible(arg_str(args, "channel")))
    if channel.archived:
        raise SlackError("is_archived")
    store = ctx.store
    if store.is_member(channel):
        return {"channel": _render(ctx, channel), "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]}}
    channel.members[store.bot_user] = None
    store.system_message(channel, "channel_join", f"<@{store.bot_user}> has joined the channel")
    return {"channel": _render(ctx, channel)}


def _set_text(ctx: Ctx, args: Json, field: str) -> Json:
    channel = _writable(ctx, arg_str(args, "channel"))
    value = arg_str(args, field)
    if value is None:
        raise SlackError("invalid_arguments")
    # topic and purpose: at most 250 characters
    # (https://docs.slack.dev/reference/methods/conversations.setTopic)
    if len(value) > 250:
        raise SlackError("too_long")
    store = ctx.store
    channel.data[field] = {"value": value, "creator": store.bot_user, "last_set": int(time.time())}
    # Slack records the change in the channel as a system message (the channel_topic and
    # channel_purpose subtypes seen in exports; unconfirmed for API calls, assumed here).
    store.system_message(channel, f"channel_{field}", f"set the channel {field}: {value}",
                         **{field: value})
    return {"channel": _render(ctx, channel)}


_TOPIC_ERRORS = ("channel_not_found", "is_archived", "not_in_channel", "too_long")


@method("conversations.setTopic", tier="Tier 2", scopes=_TOPIC_SCOPES, writes=True,
        errors=_TOPIC_ERRORS,
        required=('channel', 'topic'))
def conversations_set_topic(ctx: Ctx, args: Json) -> Json:
    return _set_text(ctx, args, "topic")


@method("conversations.setPurpose", tier="Tier 2", scopes=_TOPIC_SCOPES, writes=True,
        errors=_TOPIC_ERRORS,
        required=('channel', 'purpose'))
def conversations_set_purpose(ctx: Ctx, args: Json) -> Json:
    return _set_text(ctx, args, "purpose")


@method("conversations.archive", tier="Tier 2", scopes=_CREATE_SCOPES, writes=True,
        errors=("channel_not_found", "already_archived", "not_in_channel", "cant_archive_general",
                "method_not_supported_for_channel_type"),
        required=('channel',))
def conversations_archive(ctx: Ctx, args: Json) -> Json:
    store = ctx.store
    channel = _channel_only(store.visible(arg_str(args, "channel")))
    if channel.archived:
        raise SlackError("already_archived")
    if not store.is_member(channel):
        raise SlackError("not_in_channel")
    if channel.data.get("is_general"):
        raise SlackError("cant_archive_general")
    store.system_message(channel, "channel_archive", f"<@{store.bot_user}> archived the channel")
    channel.data["is_archived"] = True
    # Archiving removes bots from the channel (https://github.com/elastic/connectors/issues/1972).
    channel.members.pop(store.bot_user, None)
    return {}


@method("conversations.members", tier="Tier 4", scopes=_READ_SCOPES,
        errors=("channel_not_found", "invalid_cursor", "invalid_limit"),
        required=('channel',))
def conversations_members(ctx: Ctx, args: Json) -> Json:
    channel = ctx.store.visible(arg_str(args, "channel"))
    members = list(channel.members)
    start = decode_cursor(arg_str(args, "cursor"), "offset") or 0
    limit = page_limit(args, 100, 1000, "invalid_limit")
    more = start + limit < len(members)
    return {"members": members[start:start + limit],
            "response_metadata": {"next_cursor": encode_cursor("offset", start + limit) if more else ""}}


# ---------------------------------------------------------------- history and replies


def _bounds(args: Json) -> tuple[int, int, bool]:
    oldest = ts_key(arg_str(args, "oldest") or "0")
    if oldest is None:
        raise SlackError("invalid_ts_oldest")
    latest_arg = arg_str(args, "latest")
    latest = ts_key(latest_arg) if latest_arg else 1 << 62
    if latest is None:
        raise SlackError("invalid_ts_latest")
    return oldest, latest, arg_bool(args, "inclusive")


def _readable(ctx: Ctx, args: Json, public_nonmember: str) -> Channel:
    channel = ctx.store.visible(arg_str(args, "channel"))
    # A bot reads only channels it is in; archiving removed it
    # (https://github.com/elastic/connectors/issues/1972).
    if not ctx.store.is_member(channel):
        raise SlackError(public_nonmember)
    return channel


def _page(keys: list[int], msgs: list[Msg], args: Json, newest_first: bool) -> Json:
    """Pages `msgs` (ascending, `keys` their ts keys) within oldest/latest, by cursor."""
    oldest, latest, inclusive = _bounds(args)
    limit = page_limit(args, 100, 999, None)  # above the maximum Slack caps the page
    lo = bisect_left(keys, oldest) if inclusive else bisect_right(keys, oldest)
    hi = bisect_right(keys, latest) if inclusive else bisect_left(keys, latest)
    cursor = decode_cursor(arg_str(args, "cursor"), "next_ts")
    include = arg_bool(args, "include_all_metadata")
    if newest_first:
        if cursor is not None:
            hi = min(hi, bisect_left(keys, cursor))
        start = max(lo, hi - limit)
        page = msgs[start:hi][::-1]
        more = start > lo
    else:
        if cursor is not None:
            lo = max(lo, bisect_right(keys, cursor))
        end = min(hi, lo + limit)
        page = msgs[lo:end]
        more = end < hi
    out: Json = {"messages": [m.render(include) for m in page], "has_more": more}
    next_cursor = encode_cursor("next_ts", page[-1].key) if more and page else ""
    out["response_metadata"] = {"next_cursor": next_cursor}
    return out


@method("conversations.history", tier="Tier 3", scopes=_HISTORY_SCOPES,
        errors=("channel_not_found", "not_in_channel", "invalid_cursor", "invalid_ts_latest",
                "invalid_ts_oldest"),
        required=('channel',))
def conversations_history(ctx: Ctx, args: Json) -> Json:
    # Internal (customer-built) apps keep Tier 3 and limits up to 999
    # (https://docs.slack.dev/reference/methods/conversations.history); the project's Slack app is
    # an internal one.
    channel = _readable(ctx, args, "not_in_channel")
    out = _page(channel.keys, channel.top, args, newest_first=True)
    out["pin_count"] = len(channel.pins)
    for name in ("oldest", "latest"):
        if arg_str(args, name):
            out[name] = arg_str(args, name)
    return out


@method("conversations.replies", tier="Tier 3", scopes=_HISTORY_SCOPES,
        errors=("channel_not_found", "thread_not_found", "invalid_cursor", "invalid_ts_latest",
                "invalid_ts_oldest"),
        required=('channel', 'ts'))
def conversations_replies(ctx: Ctx, args: Json) -> Json:
    # The contract lists no not_in_channel for replies: a channel the bot is not in answers
    # channel_not_found here.
    channel = _readable(ctx, args, "channel_not_found")
    msg = ctx.store.message(channel, require(args, "ts"), "thread_not_found")
    root = msg.parent or msg  # `ts` may name any message of the thread (method docs)
    thread = [root, *root.replies]
    return _page([m.key for m in thread], thread, args, newest_first=False)
