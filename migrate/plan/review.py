"""Reviewed plans, as Terraform does them: a plan.json carries a digest, `migrate run --plan
FILE` executes exactly what was approved, and `migrate plan diff OLD NEW` says what changed.

* **Digest.** plan.json ends with a `"digest"` block: `content`, the SHA-256 of every byte
  before it (so an edited file is refused), and `source`, a fingerprint of the Teams data the
  plan was built from (its newest change and its counts).
* **Intent.** What a plan asks of Slack, whatever has been done of it: the people's mapping,
  each channel's name, privacy, purpose, topic, members and fate, every post's text and place,
  every file, skip and deletion. Progress (a channel now existing, posts already made) and
  figures derived from the rest (summary, estimate, warnings) are left out, so a run stopped
  half way can go on under the same approval. Two plans with the same intent do the same.
* plan.json is read a line at a time in the shape `Plan.write_json` writes it (each item of a
  list starts at a two-space `{` line and ends at a two-space `}` line): a plan of ten million
  posts is never one object in memory.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.errors import ConfigError

DIGEST_MARK = b',\n "digest": '
LISTS = ("users", "channels", "chats", "posts", "uploads", "skips", "retractions")
# Channel fields that record progress (set once the channel exists), not intent.
CHANNEL_PROGRESS = ("action", "slack_channel_id", "reason", "renamed_from", "posts", "uploads")
CHANNEL_FIELDS = ("slack_name", "is_private", "topic", "purpose", "archive_after", "rename_to",
                  "invite")


def digest_block(content_sha256: str, source: str) -> str:
    """The text `Plan.write_json` ends plan.json with (after the last key's value)."""
    return (DIGEST_MARK.decode() + json.dumps({"content": content_sha256, "source": source},
                                              sort_keys=True) + "\n}\n")


def source_fingerprint(as_of: str | None, source: dict[str, int]) -> str:
    text = json.dumps({"as_of": as_of, "source": source}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Checked:
    path: Path
    content: str             # the digest the file carries
    source: str
    intact: bool             # its bytes still hash to it


def check_file(path: Path) -> Checked:
    """The digest a plan file carries, and whether its content still matches it."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            tail_at = max(0, size - 4096)
            handle.seek(tail_at)
            tail = handle.read()
            mark = tail.rfind(DIGEST_MARK)
            if mark < 0:
                raise ConfigError(f"{path}: not a plan written by `migrate plan` (it carries no "
                                  "digest)", hint="run `migrate plan` and review the plan.json "
                                                  "it writes in reports/")
            block = json.loads(tail[mark + len(DIGEST_MARK):].rstrip().rstrip(b"}").rstrip())
            handle.seek(0)
            hasher = hashlib.sha256()
            left = tail_at + mark
            while left > 0:
                chunk = handle.read(min(1 << 20, left))
                if not chunk:
                    break
                hasher.update(chunk)
                left -= len(chunk)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read it as a plan ({exc})") from None
    return Checked(path, str(block.get("content")), str(block.get("source")),
                   hasher.hexdigest() == block.get("content"))


class _Lines:
    """A file's lines, with one line pushed back."""

    def __init__(self, handle: Any) -> None:
        self._lines = iter(handle)
        self._back: str | None = None

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._back is not None:
            line, self._back = self._back, None
            return line
        return next(self._lines)

    def push(self, line: str) -> None:
        self._back = line


def read_plan(path: Path) -> Iterator[tuple[str, Any]]:
    """(key, value) for each top-level key of plan.json; a list's value is an iterator of its
    items (to be consumed before the next key is read)."""
    with path.open(encoding="utf-8") as handle:
        lines = _Lines(handle)
        for line in lines:
            if not line.startswith(' "'):
                continue
            key, _, rest = line[2:].partition('": ')
            rest = rest.rstrip("\n")
            if key in LISTS:
                yield key, (iter(()) if rest.startswith("[]") else _items(lines))
                continue
            text = [rest]
            for more in lines:
                if more.startswith((' "', "}")):
                    lines.push(more)
                    break
                text.append(more.rstrip("\n"))
            yield key, json.loads("\n".join(text).rstrip().rstrip(","))


def _items(lines: _Lines) -> Iterator[dict[str, Any]]:
    buffer: list[str] = []
    for line in lines:
        stripped = line.rstrip("\n")
        if not buffer and stripped.startswith(" ]"):
            return
        buffer.append(stripped)
        if stripped in ("  }", "  },"):
            yield json.loads("\n".join(buffer).rstrip(","))
            buffer = []


@dataclass
class PlanIndex:
    """What a diff and an approval need of a plan, with posts only counted."""

    intent: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    posts_per_channel: Counter[str] = field(default_factory=Counter)
    skips: Counter[str] = field(default_factory=Counter)


def index_plan(path: Path) -> PlanIndex:
    """Read a plan.json once: its intent digest and what `diff` compares."""
    index = PlanIndex()
    hasher = hashlib.sha256()
    try:
        for key, value in read_plan(path):
            if key == "summary" and isinstance(value, dict):
                index.summary = value
            if key not in LISTS:
                continue
            hasher.update(f"\n#{key}\n".encode())
            for item in value:
                index.counts[key] += 1
                hasher.update(_intent_line(key, item))
                if key == "users":
                    index.users[item["teams_user_id"]] = item
                elif key == "channels":
                    index.channels[item["teams_channel_id"]] = item
                elif key == "chats":
                    index.chats[item["teams_chat_id"]] = item
                elif key == "posts":
                    index.posts_per_channel[item["channel"]] += 1
                elif key == "skips":
                    index.skips[f"{item['kind']}: {item['reason']}"] += 1
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a plan.json this version reads ({exc})",
                          hint="plans are written by `migrate plan` into reports/plan.json") from None
    index.intent = hasher.hexdigest()
    return index


def _intent_line(key: str, item: dict[str, Any]) -> bytes:
    if key == "channels":
        item = {"teams_channel_id": item["teams_channel_id"],
                "carried": item.get("action") != "skip",
                **{name: item.get(name) for name in CHANNEL_FIELDS}}
    elif key == "chats":
        item = {k: v for k, v in item.items() if k != "messages"}
    return json.dumps(item, sort_keys=True, ensure_ascii=False).encode() + b"\n"


# -- diff ------------------------------------------------------------------------------------

SUMMARY_COUNTS = (("users mapped", ("users", "mapped")), ("users unmapped", ("users", "unmapped")),
                  ("channels to create", ("channels", "create")),
                  ("channels reused", ("channels", "reuse")),
                  ("channels skipped", ("channels", "skip")),
                  ("messages to post", ("messages", "to_post")), ("posts", ("messages", "posts")),
                  ("files to upload", ("files", "to_upload")))


def diff_plans(old: PlanIndex, new: PlanIndex) -> dict[str, Any]:
    """What changed from `old` to `new`: channels, people, counts, skips."""
    def name(channel: dict[str, Any]) -> str:
        return channel.get("slack_name") or f"{channel.get('team_name')}/{channel.get('channel_name')}"

    changed = []
    for cid in sorted(old.channels.keys() & new.channels.keys()):
        a, b = old.channels[cid], new.channels[cid]
        fields = {f: [_short(a.get(f)), _short(b.get(f))]
                  for f in ("action", *CHANNEL_FIELDS) if a.get(f) != b.get(f)}
        if old.posts_per_channel[cid] != new.posts_per_channel[cid]:
            fields["posts"] = [old.posts_per_channel[cid], new.posts_per_channel[cid]]
        if fields:
            changed.append({"channel": name(b), "teams_channel_id": cid, "fields": fields})
    people = []
    for uid in sorted(old.users.keys() | new.users.keys()):
        a, b = old.users.get(uid) or {}, new.users.get(uid) or {}
        if a.get("slack_user_id") != b.get("slack_user_id"):
            people.append({"person": b.get("display_name") or a.get("display_name") or uid,
                           "teams_user_id": uid, "slack_user_id": [a.get("slack_user_id"),
                                                                    b.get("slack_user_id")]})
    counts = {}
    for label, (group, key) in SUMMARY_COUNTS:
        before = (old.summary.get(group) or {}).get(key, 0)
        after = (new.summary.get(group) or {}).get(key, 0)
        if before != after:
            counts[label] = [before, after]
    for key in ("posts", "uploads", "skips", "retractions", "chats"):
        if old.counts[key] != new.counts[key]:
            counts[f"{key} listed"] = [old.counts[key], new.counts[key]]
    skips = {reason: [old.skips[reason], new.skips[reason]]
             for reason in sorted(old.skips.keys() | new.skips.keys())
             if old.skips[reason] != new.skips[reason]}
    return {"identical": old.intent == new.intent,
            "channels": {"added": sorted(name(new.channels[c]) for c in
                                         new.channels.keys() - old.channels.keys()),
                         "removed": sorted(name(old.channels[c]) for c in
                                           old.channels.keys() - new.channels.keys()),
                         "changed": changed},
            "people": people, "counts": counts, "skips": skips}


def _short(value: Any) -> Any:
    if isinstance(value, list):
        return f"{len(value)} members" if len(value) > 5 else value
    return value


def diff_lines(diff: dict[str, Any], limit: int = 20) -> list[str]:
    """The diff for people: one line each, at most `limit` per section."""
    if diff["identical"]:
        return ["No changes: both plans ask the same of Slack."]
    out: list[str] = []
    channels = diff["channels"]
    for label, names in (("+ channel", channels["added"]), ("- channel", channels["removed"])):
        out += [f"{label} #{n}" for n in names[:limit]]
        if len(names) > limit:
            out.append(f"  … and {len(names) - limit} more")
    for change in channels["changed"][:limit]:
        what = ", ".join(f"{f} {a!r} → {b!r}" for f, (a, b) in change["fields"].items())
        out.append(f"~ channel #{change['channel']}: {what}")
    for person in diff["people"][:limit]:
        a, b = person["slack_user_id"]
        out.append(f"~ person {person['person']}: {a or 'unmapped'} → {b or 'unmapped'}")
    out += [f"~ {label}: {a} → {b}" for label, (a, b) in diff["counts"].items()]
    out += [f"~ skipped ({reason}): {a} → {b}" for reason, (a, b) in list(diff["skips"].items())[:limit]]
    if len(out) == 0:
        out.append("The plans differ in content (texts, files or order) with the same counts.")
    return out
