"""Slack's import tool, emulated: a Slack export ZIP merged into the emulator's workspace.

What it emulates (slack.com/help/articles/201748703 "Import data from one Slack workspace to
another", 220556107 "How to read Slack data exports", 360049597673 the import FAQ):
- the layout: users.json, channels.json (public), groups.json (private), dms.json, mpims.json at
  the root, any of them missing or []; one folder per conversation (channels, groups and mpims
  by `name`, DMs by `id`, as zulip's zerver/data_import/slack.py reads them) of YYYY-MM-DD.json
  arrays of messages; other files are ignored;
- members merged into the existing member with the same email (case-insensitive); one with an
  email and no match becomes a new active member; one without an email becomes a deactivated
  placeholder (Slack imports such members as bots and shows their posts as bot messages; here
  they stay ordinary messages of a deactivated user — a simplification);
- channels: a name that exists already receives the messages (Slack's "import into an existing
  channel"; how split bundles add up), otherwise a new public or private channel of the mapped
  members; DMs and group DMs between the mapped members (the same members → the same one);
- messages keep their original ts, authors (mapped), threads, reactions and edits; a ts the
  conversation already holds is skipped, so importing a bundle twice adds nothing;
- one import at a time (409 import_in_progress) and, with `interval_s`, one started per interval
  (Slack starts at most one per hour; 429 import_rate_limited + Retry-After).

Assumptions where Slack is silent: user mentions in text (<@U…>) are rewritten to the mapped ids;
a thread reply whose root is in neither this bundle nor the conversation is skipped (import
bundles oldest first); mapped members are added to an existing channel, never removed; the bot
is a member only where its own id (or a user matched to it) is listed. Files are kept as the
export describes them (no download).
"""

from __future__ import annotations

import io
import json
import math
import re
import threading
import time
import zipfile
import zlib
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from typing import Any

from migrate.sandbox.slack_conversations import check_name
from migrate.sandbox.slack_state import Channel, Json, Msg, SlackError, Store, ts_key, ts_str

# root file → the conversations.list type of its entries
_META = (("channels.json", "public_channel"), ("groups.json", "private_channel"),
         ("dms.json", "im"), ("mpims.json", "mpim"))
_DAY_FILE = re.compile(r"([^/]+)/\d{4}-\d{2}-\d{2}\.json")
# Thread summaries of the export; the emulator computes them from the replies it holds.
_SUMMARY = frozenset({"replies", "reply_count", "reply_users", "reply_users_count",
                      "latest_reply", "thread_ts"})
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)((?:\|[^>]*)?)>")


class ArchiveError(Exception):
    """An archive Slack could not read; `detail` names the file."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Bundle:
    users: list[Json]
    conversations: list[tuple[str, str, Json]]  # (type, file name, entry)
    days: dict[str, list[Json]]  # folder → its messages, day files in name order


@dataclass
class Outcome:
    status: int
    payload: Json
    headers: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- reading the ZIP


def _array(archive: zipfile.ZipFile, name: str) -> list[Json]:
    """A JSON array of objects from the archive ([] when the file is absent)."""
    try:
        raw = archive.read(name)
    except KeyError:
        return []
    except (zipfile.BadZipFile, zlib.error, RuntimeError, OSError, EOFError,
            NotImplementedError) as exc:
        raise ArchiveError(f"{name}: unreadable ({exc})") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"{name}: invalid JSON ({exc})") from None
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ArchiveError(f"{name}: not a JSON array of objects")
    return data


def _check_entries(name: str, entries: list[Json], needs: tuple[str, ...]) -> None:
    for i, entry in enumerate(entries):
        for key in needs:
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise ArchiveError(f"{name}: entry {i} has no {key!r}")


def read_bundle(data: bytes) -> Bundle:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ArchiveError(f"the request body is not a ZIP archive ({exc})") from None
    with archive:
        users = _array(archive, "users.json")
        _check_entries("users.json", users, ("id",))
        conversations = []
        for name, kind in _META:
            entries = _array(archive, name)
            _check_entries(name, entries, ("id",) if kind == "im" else ("id", "name"))
            conversations += [(kind, name, e) for e in entries]
        days: dict[str, list[Json]] = {}
        for name in sorted(archive.namelist()):
            match = _DAY_FILE.fullmatch(name)
            if match:
                days.setdefault(match.group(1), []).extend(_array(archive, name))
    return Bundle(users, conversations, days)


# ---------------------------------------------------------------- the importer


class Importer:
    """One per emulator. The id maps outlive an import: a later bundle of the same export may
    leave users.json or channels.json out, and its folders still land where the first went."""

    def __init__(self, store: Store, interval_s: float = 0.0) -> None:
        self.store = store
        self.interval_s = interval_s
        self._busy = threading.Lock()
        self._last_start: float | None = None
        self.user_ids: dict[str, str] = {}  # bundle user id → workspace user id
        self.folders: dict[str, str] = {}  # bundle folder → conversation id

    @property
    def running(self) -> bool:
        return self._busy.locked()

    def run(self, data: bytes) -> Outcome:
        if not self._busy.acquire(blocking=False):
            return Outcome(409, {"ok": False, "error": "import_in_progress"})
        try:
            return self._run(data)
        finally:
            self._busy.release()

    def _run(self, data: bytes) -> Outcome:
        now = time.monotonic()
        if self.interval_s > 0 and self._last_start is not None:
            # Slack starts at most one import per hour (interval_s); refused ones do not count
            wait = self._last_start + self.interval_s - now
            if wait > 0:
                return Outcome(429, {"ok": False, "error": "import_rate_limited"},
                               {"Retry-After": str(max(1, math.ceil(wait)))})
        try:
            bundle = read_bundle(data)
        except ArchiveError as exc:
            return Outcome(400, {"ok": False, "error": "invalid_archive", "detail": exc.detail})
        self._last_start = now
        with self.store.lock:
            return Outcome(200, _Apply(self, bundle).run())


class _Apply:
    """One import, run with the store's lock held."""

    def __init__(self, importer: Importer, bundle: Bundle) -> None:
        self.importer = importer
        self.store = importer.store
        self.bundle = bundle
        self.ids = importer.user_ids
        self.users = {"matched": 0, "created": 0}
        self.conversations = {"created": 0, "existing": 0}
        self.messages = 0
        self.skipped: list[str] = []
        self.skipped_messages = 0
        self.unknown: dict[str, None] = {}

    def run(self) -> Json:
        for user in self.bundle.users:
            self._user(user)
        targets: dict[str, Channel] = {}
        for kind, file, entry in self.bundle.conversations:
            channel = self._conversation(kind, file, entry)
            if channel is not None:
                folder = entry["id"] if kind == "im" else entry["name"]
                targets[folder] = channel
                self.importer.folders[folder] = channel.id
        for folder, messages in self.bundle.days.items():
            channel = targets.get(folder) or self._earlier(folder)
            if channel is None:
                self._skip(len(messages), f"{folder}/: no entry in channels.json, groups.json, "
                                          f"dms.json or mpims.json")
                continue
            self._messages(folder, channel, messages)
        if self.unknown:
            self.skipped.append("user ids not in users.json kept as they are: "
                                + ", ".join(self.unknown))
        return {"ok": True, "users": self.users, "conversations": self.conversations,
                "messages": self.messages, "skipped": self.skipped,
                "skipped_messages": self.skipped_messages}

    def _skip(self, count: int, reason: str) -> None:
        self.skipped_messages += count
        self.skipped.append(f"{reason} ({count} message{'s' if count != 1 else ''} not imported)")

    # ------------------------------------------------------------ users

    def uid(self, bundle_id: Any) -> Any:
        if not isinstance(bundle_id, str) or not bundle_id:
            return bundle_id
        if bundle_id in self.ids:
            return self.ids[bundle_id]
        if bundle_id not in self.store.users:  # the workspace's own ids (the bot's) pass as they are
            self.unknown[bundle_id] = None
        return bundle_id

    def _user(self, user: Json) -> None:
        store, bid = self.store, user["id"]
        profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
        email = str(profile.get("email") or user.get("email") or "").strip().lower()
        if bid == store.bot_user:
            found: str | None = bid
        elif email:
            found = store.by_email.get(email)
        else:  # no email: the placeholder an earlier import made for the same bundle id
            found = self.ids.get(bid) if self.ids.get(bid) in store.users else None
        if found is not None:
            self.ids[bid] = found
            self.users["matched"] += 1
            return
        uid = store.new_id("U")
        real = user.get("real_name") or profile.get("real_name") or user.get("name") or ""
        new_profile = {"real_name": real, "display_name": profile.get("display_name") or ""}
        if email:
            new_profile["email"] = profile.get("email") or user.get("email")
        store._add_user({
            "id": uid, "team_id": store.team["id"], "name": user.get("name") or uid.lower(),
            # without an email Slack cannot invite the member: a deactivated account
            "deleted": not email or bool(user.get("deleted")), "is_bot": False,
            "is_app_user": False, "real_name": real, "profile": new_profile,
        })
        self.ids[bid] = uid
        self.users["created"] += 1

    # ------------------------------------------------------------ conversations

    def _earlier(self, folder: str) -> Channel | None:
        """Where a folder without an entry goes: where an earlier import put it, or a channel
        of that name."""
        cid = self.importer.folders.get(folder) or self.store.by_name.get(folder)
        return self.store.channels.get(cid) if cid else None

    def _conversation(self, kind: str, file: str, entry: Json) -> Channel | None:
        store = self.store
        members = list(dict.fromkeys(self.uid(m) for m in entry.get("members") or ()
                                     if isinstance(m, str)))
        if kind in ("im", "mpim"):
            if kind == "im" and not 1 <= len(members) <= 2:
                self.skipped.append(f"{file}: DM {entry['id']} has {len(members)} members, "
                                    "not 2; not imported")
                return None
            same = next((c for c in store.channels.values()
                         if c.kind == kind and set(c.members) == set(members)), None)
            if same is not None:
                self.conversations["existing"] += 1
                return same
            prefix, name = ("D", "") if kind == "im" else ("G", entry["name"])
        else:
            name = entry["name"]
            try:
                check_name(name)
            except SlackError as exc:
                self.skipped.append(f"{file}: channel {name!r} not imported ({exc.code})")
                return None
            if name in store.by_name:
                channel = store.channels[store.by_name[name]]
                for uid in members:
                    channel.members.setdefault(uid, None)
                self.conversations["existing"] += 1
                return channel
            prefix = "C"  # private channels get C ids too, as conversations.create gives them
        channel = Channel(self._data(kind, entry, prefix, name), members)
        if kind in ("im", "mpim"):
            store.channels[channel.id] = channel  # no name to look up (Store.find)
        else:
            store.add_channel(channel)
        self.conversations["created"] += 1
        return channel

    def _data(self, kind: str, entry: Json, prefix: str, name: str) -> Json:
        creator = self.uid(entry.get("creator")) or ""
        data = {"id": self.store.new_id(prefix), "name": name,
                "is_private": kind != "public_channel",
                "is_archived": bool(entry.get("is_archived")), "is_general": False,
                "created": _int(entry.get("created")), "creator": creator,
                "topic": self._text(entry.get("topic")), "purpose": self._text(entry.get("purpose"))}
        if kind == "im":
            data["is_im"] = True
        elif kind == "mpim":
            data["is_mpim"] = True
        return data

    def _text(self, value: Any) -> Json:
        value = value if isinstance(value, dict) else {}
        return {"value": str(value.get("value") or ""), "creator": self.uid(value.get("creator")) or "",
                "last_set": _int(value.get("last_set"))}

    # ------------------------------------------------------------ messages

    def _messages(self, folder: str, channel: Channel, raw: list[Json]) -> None:
        keyed = [(ts_key(m.get("ts")), m) for m in raw if m.get("ts") not in (None, "")]
        bad = len(raw) - sum(1 for k, _ in keyed if k is not None)
        keyed = sorted(((k, m) for k, m in keyed if k is not None), key=lambda p: p[0])
        present = orphans = 0
        resort = False
        for key, message in keyed:
            if key in channel.by_key:
                present += 1  # already imported (or posted) with this ts
                continue
            data, parent = self._message(message, key), None
            thread = ts_key(message.get("thread_ts")) if message.get("thread_ts") else None
            if thread is not None and thread != key:
                parent = channel.by_key.get(thread)
                if parent is None:
                    orphans += 1
                    continue
                parent = parent.parent or parent  # a reply to a reply joins the root's thread
                data["thread_ts"] = parent.data["ts"]
            in_history = parent is None or data.get("subtype") == "thread_broadcast"
            resort = _insert(channel, Msg(key, data, parent), in_history) or resort
            self.messages += 1
        if resort:  # by_key's order is ts order (state() and Store.append rely on it)
            ordered = sorted(channel.by_key.items())
            channel.by_key.clear()
            channel.by_key.update(ordered)
        if present:
            self._skip(present, f"{folder}: ts already present in the conversation")
        if orphans:
            self._skip(orphans, f"{folder}: thread replies whose root is not imported")
        if bad:
            self._skip(bad, f"{folder}: messages without a valid ts")

    def _message(self, raw: Json, key: int) -> Json:
        data = {k: v for k, v in raw.items() if k not in _SUMMARY}
        data["type"] = raw.get("type") or "message"
        data["ts"] = ts_str(key)
        for name in ("user", "parent_user_id"):
            if name in data:
                data[name] = self.uid(data[name])
        if isinstance(data.get("text"), str):
            data["text"] = _MENTION.sub(
                lambda m: f"<@{self.ids.get(m.group(1), m.group(1))}{m.group(2)}>", data["text"])
        if isinstance(data.get("edited"), dict):
            data["edited"] = dict(data["edited"], user=self.uid(data["edited"].get("user")))
        if "reactions" in data:
            data["reactions"] = [self._reaction(r) for r in data["reactions"] or ()
                                 if isinstance(r, dict) and r.get("name")]
            if not data["reactions"]:
                del data["reactions"]
        return data

    def _reaction(self, reaction: Json) -> Json:
        users = list(dict.fromkeys(self.uid(u) for u in reaction.get("users") or ()))
        return {"name": str(reaction["name"]), "users": users,
                "count": max(len(users), _int(reaction.get("count")))}


def _insert(channel: Channel, msg: Msg, in_history: bool) -> bool:
    """Stores an imported message at its place in ts order (imports may go back in time);
    True when channel.by_key must be re-sorted."""
    late = bool(channel.by_key) and msg.key < next(reversed(channel.by_key))
    channel.by_key[msg.key] = msg
    if msg.parent is not None:
        insort(msg.parent.replies, msg, key=lambda m: m.key)
    if in_history:
        i = bisect_left(channel.keys, msg.key)
        channel.keys.insert(i, msg.key)
        channel.top.insert(i, msg)
    # later posts get a ts after every imported one (Store.next_key)
    channel.last_key = max(channel.last_key, msg.key)
    return late


def _int(value: Any) -> int:
    """Epoch seconds as exports give them: numbers or numeric strings (zulip's fixtures)."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0
