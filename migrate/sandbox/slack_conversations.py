"""Slack Web API methods of the emulator that manage channels: conversations.list, create,
rename, info, invite, join, setTopic, setPurpose, archive and members, with Slack's channel
rules (names, archived names stay taken, bots removed on archive, private channels invisible
unless the bot is a member, all-or-nothing invites). Reading history is slack_history.py.
Slack's method pages are at https://docs.slack.dev/reference/methods/<method name>.
"""

from __future__ import annotations

import re
import time

from migrate.sandbox.slack_paging import page_limit
from migrate.sandbox.slack_state import (
    Channel,
    Ctx,
    Json,
    MethodSpec,
    SlackError,
    arg_bool,
    arg_str,
    decode_cursor,
    encode_cursor,
    registrar,
)

METHODS: dict[str, MethodSpec] = {}
method = registrar(METHODS)

_CREATE_SCOPES = ("groups:write", "im:write", "mpim:write", "channels:write", "channels:manage")
_INVITE_SCOPES = ("channels:write.invites", "groups:write.invites", "channels:manage",
                  "groups:write", "im:write", "mpim:write")
_TOPIC_SCOPES = ("channels:write.topic", "groups:write.topic", "mpim:write.topic",
                 "im:write.topic", "channels:manage", "groups:write", "im:write", "mpim:write")
_READ_SCOPES = ("groups:read", "im:read", "mpim:read", "channels:read")


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


def check_name(name: str) -> None:
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
    check_name(name)
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
    check_name(name)
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
