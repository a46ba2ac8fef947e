"""The plan's records: a channel's plan, each item (a post per message part, an upload per
file, a skip, a retraction), and the `Plan` that holds them, with its summary and plan.json.
plan/build.py makes them."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from migrate.plan.chats import CHAT_TEAM_PREFIX, ChatLine
from migrate.plan.estimate import Estimate
from migrate.plan.people import UserLine
from migrate.plan.review import digest_block, source_fingerprint
from migrate.plan.spool import Items, ListItems, Spool, SpooledItems, as_items
from migrate.plan.tally import Tally

PLAN_VERSION = 1


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    teams_channel_id: str
    team_id: str
    team_name: str
    channel_name: str
    action: str                  # create | reuse | skip
    slack_name: str | None
    slack_channel_id: str | None
    is_private: bool
    renamed_from: str | None
    reason: str | None
    archive_after: bool
    topic: str | None
    purpose: str | None
    invite: tuple[str, ...]
    posts: int = 0
    uploads: int = 0
    rename_to: str | None = None     # renamed in Teams since an earlier run created it

    @property
    def is_chat(self) -> bool:
        """A 1:1, group or meeting chat carried as a private channel (plan/chats.py)."""
        return self.team_id.startswith(CHAT_TEAM_PREFIX)


@dataclass(frozen=True, slots=True)
class Post:
    key: str                     # ledger key: post:<teams channel>:<teams message>:<part>
    channel: str                 # Teams channel id
    message_id: str
    root_id: str | None          # Teams id of the thread root; None for a root's first part
    part: int
    text: str
    username: str
    icon_url: str | None
    created_at: str
    # Carried by an import bundle: the hash of the text as the bundle renders it now. When it
    # differs from what was imported, Teams edited a message that is now a person's own in
    # Slack: reported, never chat.update'd (an app cannot edit it).
    imported_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    key: str                     # ledger key: file:<channel>:<message>:<source>:<source id>
    channel: str
    message_id: str
    thread_of: str               # Teams id of the message whose thread receives the file
    source: str
    source_id: str
    name: str
    sha256: str
    size: int
    mime_type: str | None


@dataclass(frozen=True, slots=True)
class Retraction:
    """A post already in Slack that must go: its Teams message was deleted, or an edit left
    the message with fewer parts."""

    key: str                     # the post's ledger key
    channel: str                 # Teams channel id
    message_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Skip:
    kind: str                    # message | channel | file | user
    subject: str
    reason: str


@dataclass
class Plan:
    """Users, channels and chats are lists; the items (a post per message part, an upload per
    file, skips, retractions) are `Items`: a list when built by hand, the plan's spool
    (plan/spool.py) when `build_plan` made them — iterate them, or read one channel's."""

    as_of: str | None
    users: Items[UserLine] = field(default_factory=ListItems)
    channels: list[ChannelPlan] = field(default_factory=list)
    posts: Items[Post] = field(default_factory=ListItems)
    uploads: Items[Upload] = field(default_factory=ListItems)
    skips: Items[Skip] = field(default_factory=ListItems)
    retractions: Items[Retraction] = field(default_factory=ListItems)
    warnings: dict[str, int] = field(default_factory=dict)
    warning_samples: dict[str, list[str]] = field(default_factory=dict)
    estimate: Estimate | None = None
    chats: list[ChatLine] = field(default_factory=list)
    already_in_slack: int = 0    # planned posts an earlier run already made
    # What a run would still change in Slack, by kind (plan/changes.py); None until counted.
    pending: dict[str, int] | None = None
    source: dict[str, int] = field(default_factory=dict)  # teams, channels, messages found
    # Kept by build_plan as it spools the items; counted afresh from lists built by hand.
    counted: Tally | None = field(default=None, repr=False, compare=False)
    spool: Spool | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _ITEMS and not isinstance(value, ListItems | SpooledItems):
            value = as_items(value)          # a list set by hand: its figures are counted anew
            object.__setattr__(self, "counted", None)
        object.__setattr__(self, name, value)

    @property
    def tally(self) -> Tally:
        if self.counted is not None:
            return self.counted
        return Tally.of(self.posts, self.uploads, self.skips)

    def close(self) -> None:
        """Let go of the spool (its file is deleted). Idempotent."""
        if self.spool is not None:
            self.spool.close()

    def summary(self) -> dict[str, Any]:
        users = Counter("mapped" if u.slack_user_id else "unmapped" for u in self.users)
        users["ambiguous"] = sum(1 for u in self.users if u.reason and u.reason.startswith("ambiguous"))
        channels = Counter(c.action for c in self.channels)
        channels["renamed"] = sum(1 for c in self.channels if c.renamed_from and c.action == "create")
        tally = self.tally
        carried = [c for c in self.chats if c.action == "channel"]
        return {
            "users": dict(users), "channels": dict(channels),
            "messages": {"to_post": tally.messages, "posts": tally.posts,
                         "skipped": tally.skipped_messages()},
            "files": {"to_upload": tally.uploads, "bytes": tally.upload_bytes,
                      "skipped": tally.skipped("file")},
            "chats": {"found": dict(sorted(Counter(c.chat_type for c in self.chats).items())),
                      "to_channels": len(carried),
                      "skipped": len(self.chats) - len(carried),
                      "messages_skipped": sum(c.messages for c in self.chats
                                              if c.action != "channel")},
            "warnings": dict(self.warnings),
            "source": dict(self.source),
            "pending": self.pending,
            "estimate_seconds": round(self.estimate.seconds, 1) if self.estimate else None,
            "estimate_phases": ({k: round(v, 1) for k, v in self.estimate.phases.items()}
                                if self.estimate else None),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"version": PLAN_VERSION, "as_of": self.as_of, "summary": self.summary(),
                "users": [asdict(u) for u in self.users],
                "channels": [asdict(c) for c in self.channels],
                "chats": [asdict(c) for c in self.chats],
                "posts": [asdict(p) for p in self.posts],
                "uploads": [asdict(u) for u in self.uploads],
                "skips": [asdict(s) for s in self.skips],
                "retractions": [asdict(r) for r in self.retractions],
                "warnings": self.warnings, "warning_samples": self.warning_samples,
                "estimate": self.estimate.to_dict() if self.estimate else None}

    def to_json(self) -> str:
        out = io.StringIO()
        self.write_json(out)
        return out.getvalue()

    def write_json(self, out: TextIO) -> None:
        """plan.json, written item by item: the same bytes as json.dumps(self.to_dict(),
        indent=1, sort_keys=True, ensure_ascii=False), then its digest as the last key, without
        ever holding the whole document (a plan of 50,000 channels is hundreds of MB as one
        dict and one string)."""
        def dump(value: Any, depth: int) -> str:
            text = json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)
            return text.replace("\n", "\n" + " " * depth)

        lists = {"users": self.users, "channels": self.channels, "chats": self.chats,
                 "posts": self.posts,
                 "uploads": self.uploads, "skips": self.skips, "retractions": self.retractions}
        scalars = {"version": PLAN_VERSION, "as_of": self.as_of, "summary": self.summary(),
                   "warnings": self.warnings, "warning_samples": self.warning_samples,
                   "estimate": self.estimate.to_dict() if self.estimate else None}
        hasher = hashlib.sha256()

        def write(text: str) -> None:
            hasher.update(text.encode("utf-8"))
            out.write(text)

        write("{")
        for n, key in enumerate(sorted({*lists, *scalars})):
            write(("," if n else "") + "\n " + json.dumps(key) + ": ")
            if key in scalars:
                write(dump(scalars[key], 1))
                continue
            items = lists[key]
            if not items:
                write("[]")
                continue
            write("[")
            for i, item in enumerate(items):
                write(("," if i else "") + "\n  " + dump(asdict(item), 2))
            write("\n ]")
        # Last, its digest (plan/review.py): the content's, and the source's it was built from.
        out.write(digest_block(hasher.hexdigest(), source_fingerprint(self.as_of, self.source)))


_ITEMS = frozenset({"posts", "uploads", "skips", "retractions"})
