"""`migrate bundle`: the history in Slack's export format, as ZIPs Slack's importer takes,
with real authors and original times, which posting through the API cannot give (a bot's
posts are the app's, whatever name they show, and carry the time they were made); Slack's
import tool: slack.com/help/articles/201748703.

Where each conversation goes: a standard channel → `channels.json`; a private or shared
channel → `groups.json`; a 1:1 chat → `dms.json`; a group or meeting chat → `mpims.json`,
unless it has more people than a Slack group DM holds (9): then a private channel in
`groups.json`, named as `run` would name it. Names are the plan's, so the bundle and the API
agree on where everything is.

Conversation by conversation, day by day: one conversation's messages in memory at a time.
What each ZIP carried is recorded (store/bundles.py): once the admin has imported, `verify`
confirms it by ts and hands over to the API; a later `migrate bundle` carries only what no
bundle carried yet.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from migrate.bundle.archive import Archives
from migrate.bundle.instructions import import_instructions
from migrate.bundle.slack_export import Conversation, bundle_id, convert
from migrate.config import Settings
from migrate.export import records
from migrate.load.directory import SlackDirectory
from migrate.plan.build import build_plan
from migrate.plan.chats import SLACK_GROUP_DM_MAX
from migrate.store import Store, bundles, ledger
from migrate.timestamps import parse_instant
from migrate.transform.channels import part_hash
from migrate.transform.content import load_mappings
from migrate.transform.content_model import RenderContext

Json = dict[str, Any]
KIND_FILE = {"channel": "channels.json", "group": "groups.json", "dm": "dms.json",
             "mpim": "mpims.json"}


@dataclass
class BundleResult:
    bundles: list[Path]
    import_md: Path | None
    generation: int
    conversations: dict[str, int] = field(default_factory=dict)   # by kind
    messages: int = 0                                            # posts carried
    skipped: dict[str, int] = field(default_factory=dict)
    users: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"bundles": [str(p) for p in self.bundles],
                "import_instructions": str(self.import_md) if self.import_md else None,
                "generation": self.generation, "conversations": self.conversations,
                "messages": self.messages, "skipped": self.skipped, "users": self.users}


@dataclass
class _Target:
    teams_id: str
    kind: str                 # channel | group | dm | mpim
    name: str                 # folder: channel/mpim name, or the DM's id
    members: list[str]        # Teams user ids
    created: str | None
    purpose: str = ""
    archived: bool = False
    since: str | None = None


def _handle(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", ".", text.lower()).strip(".")[:40] or "user"


class BundleWriter:
    def __init__(self, store: Store, settings: Settings, directory: SlackDirectory, *,
                 split: str = "year", max_mb: float = 500.0,
                 on_conversation: Callable[[str, int], None] = lambda name, n: None) -> None:
        self.store = store
        self.settings = settings
        self.directory = directory
        self.split = split
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.on_conversation = on_conversation

    # -- who is who ------------------------------------------------------------------------

    def _people(self, plan) -> dict[str, Json]:
        """users.json entries by Teams user id. The email is the one the plan matched (the
        Slack account's), so Slack's importer merges into exactly that account; an unmapped
        person keeps their Teams address and gets an account."""
        mapped = {u.teams_user_id: u.slack_user_id for u in plan.users}
        out: dict[str, Json] = {}
        handles: set[str] = set()
        for user in records.TeamsUsers(self.store):
            slack = self.directory.user_by_id(mapped[user.id]) if mapped.get(user.id) else None
            email = (slack.email if slack else None) or user.mail or (
                user.user_principal_name if "#EXT#" not in (user.user_principal_name or "") else None)
            handle = base = _handle((email or user.display_name).split("@")[0])
            n = 1
            while handle in handles:
                n += 1
                handle = f"{base}{n}"
            handles.add(handle)
            out[user.id] = {"id": bundle_id("U", user.id), "name": handle,
                            "real_name": user.display_name, "deleted": False, "is_bot": False,
                            "profile": {"email": email, "real_name": user.display_name,
                                        "display_name": user.display_name}}
            if not email:
                del out[user.id]["profile"]["email"]
        return out

    # -- where each conversation goes ------------------------------------------------------

    def _targets(self, plan) -> list[_Target]:
        team_members = records.load_team_members(self.store)
        channel_members = records.load_channel_members(self.store)
        channels = {c.id: c for c in records.load_channels(self.store)}
        since = self.settings.export.since or None
        chat_since = max(filter(None, [since, self.settings.export.chats_since or None]),
                         default=None)
        out: list[_Target] = []
        for cp in plan.channels:
            if cp.is_chat or cp.action == "skip" or cp.teams_channel_id not in channels:
                continue
            channel = channels[cp.teams_channel_id]
            members = (channel_members.get(channel.id, []) if cp.is_private
                       else team_members.get(cp.team_id, []))
            out.append(_Target(channel.id, "group" if cp.is_private else "channel",
                               cp.slack_name or part_hash("c", channel.id),
                               [m.user_id for m in members], channel.created_at,
                               cp.purpose or "", cp.archive_after, since))
        chats = {c.id: c for c in records.load_chats(self.store)}
        for line in plan.chats:
            chat = chats[line.teams_chat_id]
            if chat.chat_type == "meeting" and not self.settings.export.meeting_chats:
                continue
            members = [m.user_id for m in chat.members]
            if len(members) > SLACK_GROUP_DM_MAX:
                kind, name = "group", line.slack_name or f"chat-{part_hash('c', chat.id)}"
            elif len(members) == 2:
                kind, name = "dm", bundle_id("D", chat.id)
            elif len(members) > 2:
                kind, name = "mpim", ""          # named from its members' handles
            else:
                continue                         # nobody left in it: nowhere to import it
            out.append(_Target(chat.id, kind, name, members, chat.created_at, since=chat_since))
        return out

    # -- the bundle ------------------------------------------------------------------------

    def run(self) -> BundleResult:
        settings = replace(self.settings, plan=replace(self.settings.plan, chats_to_channels="all"))
        plan = build_plan(self.store, settings, self.directory, for_bundle=True)
        people = self._people(plan)
        opts = self.settings.plan
        reactions, emoji, system_events = load_mappings(opts.reactions_file or None,
                                                        opts.emoji_file or None,
                                                        opts.system_events_file or None)
        ctx = RenderContext(users={tid: p["real_name"] for tid, p in people.items()},
                            timezone=opts.timezone, emoji=emoji, reactions=reactions,
                            system_events=system_events, attribution=False)
        generation = bundles.generation(self.store)
        out_dir = self.settings.workdir_path / "bundle"
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        shard = self.settings.shard_spec     # shards' ZIPs can sit in one folder: named apart
        prefix = (f"slack-import-s{shard.index}of{shard.count}-{generation:02d}" if shard
                  else f"slack-import-{generation:02d}")
        archives = Archives(out_dir, prefix, self.max_bytes)
        result = BundleResult([], None, generation)
        skipped: Counter[str] = Counter()
        metadata: dict[str, tuple[str, Json]] = {}
        extra_users: dict[str, Json] = {}

        def user_id(teams_user: str) -> str:
            if teams_user not in people and teams_user not in extra_users:
                extra_users[teams_user] = {"id": bundle_id("U", teams_user), "name": "",
                                           "real_name": "", "deleted": True, "is_bot": False,
                                           "profile": {}}
            return bundle_id("U", teams_user)

        try:
            for target in self._targets(plan):
                conv = self._conversation(target, ctx, user_id)
                skipped.update(conv.skipped)
                if not conv.carried:
                    continue
                for teams_user, name in conv.authors.items():
                    if teams_user in extra_users and not extra_users[teams_user]["real_name"]:
                        extra_users[teams_user].update(name=_handle(name), real_name=name,
                                                       profile={"real_name": name})
                meta = self._meta(target, people, user_id)
                folder = meta.get("name") or meta["id"]
                metadata[target.teams_id] = (target.kind, meta)
                rows = []
                for day in sorted(conv.days):
                    entries = sorted(conv.days[day], key=lambda m: tuple(map(int, m["ts"].split("."))))
                    data = json.dumps(entries, indent=1, ensure_ascii=False).encode("utf-8")
                    zip_path = archives.add(self._period(day), target.teams_id,
                                            f"{folder}/{day}.json", data)
                    day_ts = {m["ts"] for m in entries}
                    rows += [(c.key, target.teams_id, c.message_id, c.ts, ledger.text_hash(c.text),
                              zip_path.name, generation) for c in conv.carried if c.ts in day_ts]
                bundles.record_conversation(self.store, target.teams_id, target.kind, folder,
                                            meta["id"], target.members)
                bundles.record_items(self.store, rows)
                result.messages += len(rows)
                result.conversations[target.kind] = result.conversations.get(target.kind, 0) + 1
                self.on_conversation(folder, len(rows))
            users = sorted([*people.values(), *extra_users.values()], key=lambda u: u["id"])

            def files_for(held: set[str]) -> dict[str, bytes]:
                lists: dict[str, list[Json]] = {name: [] for name in KIND_FILE.values()}
                for teams_id in sorted(held):
                    kind, meta = metadata[teams_id]
                    lists[KIND_FILE[kind]].append(meta)
                return {"users.json": _dump(users), **{n: _dump(v) for n, v in lists.items()}}

            result.bundles = archives.close(files_for)
        except BaseException:
            archives.abort()
            bundles.forget_generation(self.store, generation)
            raise
        for path in result.bundles:
            os.chmod(path, 0o600)
        result.skipped = dict(sorted(skipped.items()))
        result.users = len(people) + len(extra_users)
        if result.bundles:
            result.import_md = out_dir / "IMPORT.md"
            result.import_md.write_text(import_instructions(bundles.bundles_written(self.store)),
                                        encoding="utf-8")
            os.chmod(result.import_md, 0o600)
        return result

    def _period(self, day: str) -> str:
        return day[:4] if self.split == "year" else day[:7]

    def _conversation(self, target: _Target, ctx: RenderContext,
                      user_id: Callable[[str], str]) -> Conversation:
        messages = records.load_channel_messages(self.store, target.teams_id)
        carried = {row["key"]: row["ts"] for row in bundles.items_of(self.store, target.teams_id)}
        taken = set(carried.values())
        return convert(target.teams_id, messages, ctx, user_id=user_id, carried=carried,
                       taken=taken, since=target.since)

    def _meta(self, target: _Target, people: dict[str, Json],
              user_id: Callable[[str], str]) -> Json:
        members = sorted({user_id(m) for m in target.members})
        created = _epoch(target.created)
        if target.kind == "dm":
            return {"id": target.name, "created": created, "members": members}
        creator = members[0] if members else ""
        meta: Json = {"id": bundle_id("G" if target.kind != "channel" else "C", target.teams_id),
                      "created": created, "creator": creator, "is_archived": target.archived,
                      "is_general": False, "members": members,
                      "topic": {"value": "", "creator": "", "last_set": 0},
                      "purpose": {"value": target.purpose, "creator": creator if target.purpose
                                  else "", "last_set": created if target.purpose else 0}}
        if target.kind == "mpim":
            handles = sorted(people[m]["name"] for m in target.members if m in people)
            meta["name"] = f"mpdm-{'--'.join(handles)}-1"
            meta["is_mpim"] = True
        else:
            meta["name"] = target.name
        return meta


def _epoch(stamp: str | None) -> int:
    moment = parse_instant(stamp)
    return int(moment.timestamp()) if moment else 0


def _dump(value: Any) -> bytes:
    return json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8")
