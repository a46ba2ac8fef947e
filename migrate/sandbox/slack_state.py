"""State of the Slack emulator: workspace, channels, messages, files; plus argument helpers.

Everything here is called with `Store.lock` held (the emulator takes it around every method),
so the classes themselves do no locking. Messages are kept per channel in ts order: ts values
are issued in increasing order, so appending keeps the lists sorted and paging is a bisect.
"""

from __future__ import annotations

import base64
import json
import random
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from migrate.sandbox.tenant import SlackWorkspace

Json = dict[str, Any]


class SlackError(Exception):
    """An `{"ok": false, "error": code}` answer; `extra` adds fields (e.g. missing_scope's `needed`)."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


# ---------------------------------------------------------------- method registry


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fn: Callable[[Ctx, Json], Json]
    tier: str  # "Tier 1".."Tier 4" or "Special" (contracts rateLimitTier)
    scopes: tuple[str, ...]  # bot scopes, any one of which admits the call (contracts scopes.bot)
    writes: bool  # changes state: counted in counters()["writes"], eligible for drop_after_processing
    errors: frozenset[str]  # method-specific codes this emulator can answer (contract-tested)
    # Arguments whose absence answers invalid_arguments before the method runs. Arguments whose
    # absence has its own code (conversations.create `name` → invalid_name_required…) are
    # checked by the method instead.
    required: tuple[str, ...] = ()


def registrar(table: dict[str, MethodSpec]) -> Callable[..., Callable]:
    """A decorator that records a method implementation in `table`."""

    def method(name: str, *, tier: str, scopes: tuple[str, ...] = (), writes: bool = False,
               errors: tuple[str, ...] = (), required: tuple[str, ...] = ()) -> Callable:
        def register(fn: Callable[[Ctx, Json], Json]) -> Callable[[Ctx, Json], Json]:
            table[name] = MethodSpec(name, fn, tier, tuple(scopes), writes, frozenset(errors),
                                     tuple(required))
            return fn

        return register

    return method


@dataclass
class Ctx:
    """What a method implementation sees: the store, the token's scopes, the server origin."""

    store: Store
    scopes: frozenset[str]
    origin: str


# ---------------------------------------------------------------- argument helpers
# Form bodies carry strings ("1", "true"); JSON bodies carry typed values. Both are accepted.


def arg_str(args: Json, name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def arg_bool(args: Json, name: str, default: bool = False) -> bool:
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def arg_int(args: Json, name: str, error: str = "invalid_arguments") -> int | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise SlackError(error) from None


def arg_json(args: Json, name: str, error: str) -> Any:
    """A JSON-valued argument: a string in form bodies, already parsed in JSON bodies."""
    value = args.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(error) from None
    return value


def require(args: Json, name: str, error: str = "invalid_arguments") -> str:
    value = arg_str(args, name)
    if value is None or value == "":
        raise SlackError(error)
    return value


# ---------------------------------------------------------------- ts and cursors


def ts_key(ts: Any) -> int | None:
    """'1700000000.000123' → 1700000000000123 (microseconds); None when not a number."""
    try:
        return int(Decimal(str(ts).strip()) * 1_000_000)
    except (InvalidOperation, ValueError):
        return None


def ts_str(key: int) -> str:
    return f"{key // 1_000_000}.{key % 1_000_000:06d}"


def encode_cursor(kind: str, value: int) -> str:
    # Real cursors are opaque base64 strings of this kind ("next_ts:…", "user:…").
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str | None, kind: str) -> int | None:
    if not cursor:
        return None
    try:
        got_kind, value = base64.b64decode(cursor.encode(), validate=True).decode().split(":", 1)
        if got_kind != kind:
            raise ValueError(got_kind)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None


# ---------------------------------------------------------------- records


class Msg:
    """One message. `data` is the public message object (metadata included when set)."""

    __slots__ = ("key", "data", "replies", "parent", "extra", "visible_at")

    def __init__(self, key: int, data: Json, parent: Msg | None = None) -> None:
        self.key = key
        self.data = data
        self.replies: list[Msg] = []
        self.parent = parent
        # Request options kept for state() only (icon_url/icon_emoji as sent, unfurl flags…).
        self.extra: Json = {}
        # time.monotonic() before which history and replies do not show it (a file share
        # still being processed: Store.share_delay_s).
        self.visible_at = 0.0

    def render(self, include_metadata: bool) -> Json:
        out = dict(self.data)
        if not include_metadata:
            out.pop("metadata", None)
        if self.replies:
            users: list[str] = []
            for reply in self.replies:
                user = reply.data.get("user") or reply.data.get("bot_id")
                if user and user not in users:
                    users.append(user)
            out["thread_ts"] = self.data["ts"]
            out["reply_count"] = len(self.replies)
            out["reply_users"] = users
            out["reply_users_count"] = len(users)
            out["latest_reply"] = self.replies[-1].data["ts"]
        if "reactions" in out:
            out["reactions"] = [dict(r, users=list(r["users"])) for r in out["reactions"]]
        return out


class Channel:
    __slots__ = ("data", "members", "keys", "top", "by_key", "last_key", "pins", "bookmarks")

    def __init__(self, data: Json, members: list[str]) -> None:
        self.data = data
        self.members: dict[str, None] = dict.fromkeys(members)  # ordered set
        # History-visible messages (roots and broadcast replies), ascending; parallel lists.
        self.keys: list[int] = []
        self.top: list[Msg] = []
        # Every message of the channel by ts key; insertion order is ts order.
        self.by_key: dict[int, Msg] = {}
        self.last_key = 0
        self.pins: list[int] = []
        self.bookmarks: list[Json] = []

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def private(self) -> bool:
        return bool(self.data.get("is_private"))

    @property
    def archived(self) -> bool:
        return bool(self.data.get("is_archived"))

    @property
    def kind(self) -> str:
        """conversations.list's type: public_channel, private_channel, im or mpim (DMs and
        group DMs exist only through imports, slack_import.py; both are private)."""
        if self.data.get("is_im"):
            return "im"
        if self.data.get("is_mpim"):
            return "mpim"
        return "private_channel" if self.private else "public_channel"

    def render(self, bot_user: str, num_members: bool = True) -> Json:
        d = self.data
        if self.kind == "im":
            # A DM object names the other person (docs.slack.dev/reference/objects/conversation-object).
            other = next((u for u in self.members if u != bot_user), bot_user)
            return {"id": d["id"], "created": d["created"], "is_archived": self.archived,
                    "is_channel": False, "is_group": False, "is_im": True, "is_mpim": False,
                    "is_private": True, "is_org_shared": False, "user": other,
                    "is_user_deleted": False, "priority": 0}
        out = {
            "id": d["id"], "name": d["name"], "is_channel": self.kind != "mpim", "is_group": False,
            "is_im": False, "is_mpim": self.kind == "mpim", "is_private": self.private,
            "created": d["created"], "is_archived": self.archived,
            "is_general": bool(d.get("is_general")), "unlinked": 0,
            "name_normalized": d["name"], "is_shared": False, "is_org_shared": False,
            "is_ext_shared": False, "is_pending_ext_shared": False,
            "is_member": bot_user in self.members, "creator": d.get("creator", ""),
            "topic": dict(d["topic"]), "purpose": dict(d["purpose"]), "previous_names": [],
        }
        if num_members:
            out["num_members"] = len(self.members)
        return out


@dataclass
class FileRec:
    data: Json  # the public file object
    length: int  # declared by files.getUploadURLExternal
    content: bytes | None = None  # None until the bytes were POSTed to the upload URL
    shares: list[tuple[str, int]] = field(default_factory=list)  # (channel id, message ts key)


# ---------------------------------------------------------------- the store

_ID_CHARS = string.ascii_uppercase + string.digits


def _text_field(value: Any, creator: str) -> Json:
    if isinstance(value, dict):
        return {"value": value.get("value", ""), "creator": value.get("creator", creator),
                "last_set": value.get("last_set", 0)}
    return {"value": value or "", "creator": creator if value else "", "last_set": 0}


class IdPool:
    """Where new ids and upload tokens come from. Seeded: the same calls give the same ids. The
    workspaces of an org share one pool, so channel and file ids are unique across the org."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.taken: set[str] = set()
        self.lock = threading.Lock()  # the org's stores each hold their own lock, not this one


class Store:
    def __init__(self, workspace: SlackWorkspace, seed: int = 0, ids: IdPool | None = None,
                 enterprise: Json | None = None) -> None:
        self.lock = threading.Lock()
        self._pool = ids if ids is not None else IdPool(seed)
        self._taken = self._pool.taken
        # The Enterprise Grid org the workspace belongs to (None: a standalone workspace), and
        # whether a user id is a member of another workspace of that org (set by slack_org).
        self.enterprise: Json | None = enterprise
        self.in_org: Callable[[str], bool] = lambda uid: False
        self.team: Json = dict(workspace.team)
        self.bot: Json = dict(workspace.bot)
        self.bot_user: str = self.bot["user_id"]
        self.users: dict[str, Json] = {}
        self.by_email: dict[str, str] = {}
        for user in workspace.users:
            self._add_user(dict(user))
        if self.bot_user not in self.users:
            # users.list includes the app's own bot user; the workspace file may leave it out.
            self._add_user({
                "id": self.bot_user, "team_id": self.team["id"],
                "name": self.bot.get("name", "migrate"), "deleted": False, "is_bot": True,
                "is_app_user": False, "real_name": self.bot.get("name", "migrate"),
                "profile": {"bot_id": self.bot["bot_id"], "real_name": self.bot.get("name", "migrate")},
            })
        # Seconds before a completed upload's share message shows in history and replies: Slack
        # processes files asynchronously, and `shares` (and the message) may be missing right
        # after completeUploadExternal (python-slack-sdk issues 1329, 1590; node-slack-sdk 1865).
        self.share_delay_s = 0.0
        self.channels: dict[str, Channel] = {}
        self.by_name: dict[str, str] = {}
        for raw in workspace.channels:
            data = {k: v for k, v in raw.items() if k != "members"}
            data.setdefault("created", 0)
            data.setdefault("creator", "")
            data["topic"] = _text_field(raw.get("topic"), data["creator"])
            data["purpose"] = _text_field(raw.get("purpose"), data["creator"])
            self._taken.add(data["id"])
            self.add_channel(Channel(data, list(raw.get("members", []))))
        self.files: dict[str, FileRec] = {}
        self.uploads: dict[str, str] = {}  # upload URL token → file id

    def _add_user(self, user: Json) -> None:
        self._taken.add(user["id"])
        self.users[user["id"]] = user
        email = (user.get("profile") or {}).get("email")
        if email:
            self.by_email.setdefault(email.lower(), user["id"])

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.id] = channel
        self.by_name[channel.data["name"]] = channel.id

    def rename_channel(self, channel: Channel, name: str) -> None:
        self.by_name.pop(channel.data["name"], None)
        channel.data["name"] = name
        channel.data["name_normalized"] = name
        self.by_name[name] = channel.id

    def new_id(self, prefix: str, length: int = 10) -> str:
        pool = self._pool
        with pool.lock:
            while True:
                candidate = prefix + "".join(pool.rng.choice(_ID_CHARS) for _ in range(length))
                if candidate not in pool.taken:
                    pool.taken.add(candidate)
                    return candidate

    def new_token(self) -> str:
        pool = self._pool
        with pool.lock:
            return "".join(pool.rng.choice(string.ascii_letters + string.digits) for _ in range(24))

    def next_key(self, channel: Channel) -> int:
        """A ts for a new message: now, or just after the channel's last one (strictly increasing)."""
        key = max(time.time_ns() // 1000, channel.last_key + 1)
        channel.last_key = key
        return key

    def find(self, arg: str | None) -> Channel | None:
        """A channel by id, or (public channels only, as Slack allows) by name with or without '#'."""
        if not arg:
            return None
        channel = self.channels.get(arg)
        if channel is None:
            cid = self.by_name.get(arg.lstrip("#"))
            channel = self.channels.get(cid) if cid else None
            if channel is not None and channel.private:
                return None
        return channel

    def visible(self, arg: str | None) -> Channel:
        """The channel as the bot sees it: private channels it is not in do not exist for it."""
        channel = self.find(arg)
        if channel is None or (channel.private and self.bot_user not in channel.members):
            raise SlackError("channel_not_found")
        return channel

    def is_member(self, channel: Channel) -> bool:
        return self.bot_user in channel.members

    def message(self, channel: Channel, ts: str | None, error: str = "message_not_found") -> Msg:
        key = ts_key(ts) if ts else None
        msg = channel.by_key.get(key) if key is not None else None
        if msg is None:
            raise SlackError(error)
        return msg

    def append(self, channel: Channel, data: Json, parent: Msg | None = None,
               in_history: bool = True) -> Msg:
        """Store a new message (ts already in `data`); O(1): ts keys only ever grow."""
        key = ts_key(data["ts"])
        msg = Msg(key, data, parent)
        channel.by_key[key] = msg
        if parent is not None:
            parent.replies.append(msg)
        if in_history:
            channel.keys.append(key)
            channel.top.append(msg)
        return msg

    def system_message(self, channel: Channel, subtype: str, text: str, user: str | None = None,
                       **fields: Any) -> Msg:
        """The messages Slack itself adds to a channel (channel_join, channel_topic, …)."""
        ts = ts_str(self.next_key(channel))
        data = {"type": "message", "subtype": subtype, "ts": ts, "user": user or self.bot_user,
                "text": text, **fields}
        return self.append(channel, data)

    def bot_fields(self) -> Json:
        return {"user": self.bot_user, "bot_id": self.bot["bot_id"],
                "app_id": self.bot.get("app_id", ""), "team": self.team["id"]}

    def owned(self, msg: Msg) -> bool:
        return msg.data.get("bot_id") == self.bot["bot_id"]
