"""Channel naming and mapping, within Slack's rules for channel names
(https://docs.slack.dev/reference/methods/conversations.create) and purposes
(https://docs.slack.dev/reference/methods/conversations.setPurpose). Pure.

Each Teams channel becomes a Slack channel named `{team}-{channel}`, each part slugified on
its own (`slugify`): lowercase; accents folded to ASCII (NFKD, combining marks dropped, plus a
few letters NFKD leaves alone: ß→ss, æ→ae, œ→oe, ø→o, ł→l, đ/ð→d, þ→th, ı→i); every run of
characters outside `a-z0-9-_` becomes one `-`; trimmed of `-`; at most 80 characters.

- **Hash rule.** A part that slugifies to nothing (a name in a non-Latin script, or only
  emoji; or only `_`, which Slack would refuse as all punctuation) becomes a short stable hash of its Teams id: `t` + the first 6 hex digits of the
  SHA-1 of the team id (UTF-8) for a team, `c` + the same of the channel id for a channel —
  `営業/顧客` → `t1a2b3c-c4d5e6f`. With `unicode_names` the letters are kept instead
  (NFC, lowercased; any `str.isalnum` character and the marks that follow one), and only a
  part with no letter or digit at all is hashed.
- **Length.** A name over 80 characters is cut at 80 (and trimmed of `-`).
- **Collisions.** Names must be unique in the workspace, archived channels included. A name
  held by an existing Slack channel, by a rename override, or by another planned channel gets
  `-2`, `-3`, … — the first free one, the base cut so that name and suffix fit in 80. Among
  the channels whose names collide, the one created first in Teams (createdDateTime as an
  instant, then id) keeps the plain name unless Slack already holds it. Plain names are
  handed out before any suffix, so a suffixed name never takes another channel's plain name.
- **Channels already created by an earlier run** (`mapped`, from the ledger) are reused as
  they are: their Slack channel is "mapped to this one", so it is no collision.
- **Privacy.** Private and shared Teams channels become private Slack channels; one may only
  be merged into a private Slack channel.
- **Archive.** Channels of an archived team are archived after import (not a merge target:
  that channel is not ours to archive).
- **Purpose.** The channel description, escaped like message text (`&`, `<`, `>`: nothing in
  it can ping or link) and trimmed to Slack's 250 characters with `…`; the decision
  notes when it was trimmed. The topic is left alone.

Overrides (CSV `teams_channel,action,slack_channel`, one row per Teams channel, named by its
id or as `Team name/Channel name`): `rename` → that name (Slack's rules; it may not collide
with an existing Slack channel or another rename), `merge` → into an existing Slack channel
by name or id (reused, never archived or re-described), `skip` → not migrated. Anything
malformed or naming no (or several) Teams channels is a ConfigError naming file:line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from migrate.errors import ConfigError
from migrate.model import (
    SlackChannel,
    SlackChannelId,
    TeamsChannel,
    TeamsChannelId,
    TeamsTeam,
    TeamsTeamId,
)
from migrate.timestamps import EPOCH_MIN, parse_instant
from migrate.transform.markup import escape
from migrate.transform.overrides import read_override_rows

MAX_NAME = 80          # Slack's limit for a channel name (conversations.create)
MAX_PURPOSE = 250      # Slack's limit for a purpose or topic (conversations.setPurpose)
HASH_HEX = 6
ACTIONS = ("rename", "merge", "skip")
OVERRIDE_HEADER = ("teams_channel", "action", "slack_channel")

SLACK_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
_ASCII_KEEP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d",
                       "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t"})
_SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


# -- names -------------------------------------------------------------------------------


def slugify(name: str, *, unicode: bool = False) -> str:
    """A Slack channel name part (see the module docstring); "" when nothing is left."""
    if unicode:
        text = unicodedata.normalize("NFC", name.lower())
    else:
        text = unicodedata.normalize("NFKD", name.lower().translate(_FOLD))
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    out: list[str] = []
    in_run = False
    for ch in text:
        if ch in _ASCII_KEEP or (unicode and _unicode_keep(ch, out)):
            out.append(ch)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    return "".join(out).strip("-")[:MAX_NAME].rstrip("-")


def _unicode_keep(ch: str, out: list[str]) -> bool:
    if ch.isalnum():
        return True
    # A combining mark belongs to the letter before it (Devanagari, Thai vowel signs, …).
    return unicodedata.category(ch).startswith("M") and bool(out) and out[-1] not in "-_"


def part_hash(prefix: str, teams_id: str) -> str:
    """The stable stand-in for a part that slugifies to nothing: `t`/`c` + 6 hex of SHA-1."""
    digest = hashlib.sha1(teams_id.encode("utf-8"), usedforsecurity=False).hexdigest()
    return prefix + digest[:HASH_HEX]


def is_valid_name(name: str, *, unicode: bool = False) -> bool:
    """Slack's rules for a channel name: 1–80 characters, lowercase letters, digits,
    `-` and `_`, not only punctuation; Unicode letters only where the workspace takes them."""
    if not name or len(name) > MAX_NAME or not any(ch not in "-_" for ch in name):
        return False
    if not unicode:
        return bool(SLACK_NAME.match(name))
    previous = ""
    for ch in name:
        if not (ch in _ASCII_KEEP or ch.isalnum() and ch == ch.lower()
                or unicodedata.category(ch).startswith("M") and previous not in ("", "-", "_")):
            return False
        previous = ch
    return name == unicodedata.normalize("NFC", name)


def _cut(base: str, suffix: str = "") -> str:
    return base[:MAX_NAME - len(suffix)].rstrip("-") + suffix


# -- records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelOverride:
    teams_channel: str          # a Teams channel id, or "Team name/Channel name"
    action: str                 # rename | merge | skip
    slack_channel: str | None   # the new name (rename) or the Slack channel (merge)
    source: str = ""            # "file:line", for messages


@dataclass(frozen=True)
class ChannelDecision:
    """What happens to one Teams channel.

    action: "create" (a new Slack channel `slack_name`), "reuse" (post into the existing
    `slack_channel_id`: a merge override, or a channel an earlier run created) or "skip".
    renamed_from: the name the plain `{team}-{channel}` rule gives — the slug before a suffix,
    the cut or an override changed it, or "Team/Channel" when a part was hashed — and `reason`
    says why.
    """

    teams_channel_id: TeamsChannelId
    team_id: TeamsTeamId
    action: str
    slack_name: str | None
    slack_channel_id: SlackChannelId | None = None
    is_private: bool = False
    renamed_from: str | None = None
    reason: str | None = None
    archive_after: bool = False
    topic: str | None = None
    purpose: str | None = None
    notes: tuple[str, ...] = ()
    rename_to: str | None = None   # a channel of an earlier run whose Teams name changed


@dataclass
class _Auto:
    channel: TeamsChannel
    base: str                   # the plain name (hash applied, cut to 80)
    renamed_from: str | None
    reasons: list[str]


def _instant(stamp: str | None) -> tuple[int, dt.datetime]:
    """createdDateTime as an instant (Graph trims fractional zeros); unknown ones sort last."""
    when = parse_instant(stamp)
    return (0, when) if when is not None else (1, EPOCH_MIN)


def creation_order(channel: TeamsChannel) -> tuple:
    return (*_instant(channel.created_at), channel.id)


def _purpose(description: str | None) -> tuple[str | None, tuple[str, ...]]:
    """The description as Slack text: escaped like messages (nothing from Teams may notify
    anyone: `<!channel>` or `<@U…>` in a description must not ping anyone when Slack shows the
    purpose), then trimmed so that the text sent fits in 250 characters, never cutting an
    escape in two."""
    text = (description or "").strip()
    if not text:
        return None, ()
    if len(escape(text)) <= MAX_PURPOSE:
        return escape(text), ()
    cut = MAX_PURPOSE - 1
    while len(escape(text[:cut].rstrip())) > MAX_PURPOSE - 1:
        cut -= 1
    return (escape(text[:cut].rstrip()) + "…",
            (f"description trimmed to {MAX_PURPOSE} characters (was {len(text)})",))


def _label(team: TeamsTeam | None, channel: TeamsChannel) -> str:
    return f"{team.display_name if team else channel.team_id}/{channel.display_name}"


def _meaningful(part: str) -> str:
    """A part of only `_` (and `-`) counts as nothing: Slack refuses all-punctuation names."""
    return part if any(ch not in "-_" for ch in part) else ""


def _plain(team: TeamsTeam | None, channel: TeamsChannel, unicode: bool) -> _Auto:
    reasons: list[str] = []
    team_part = _meaningful(slugify(team.display_name, unicode=unicode) if team else "")
    if not team_part:
        team_part = part_hash("t", channel.team_id)
        reasons.append(f"team name {team.display_name if team else channel.team_id!r} has no "
                       f"letters a Slack name keeps: {team_part} stands for it")
    channel_part = _meaningful(slugify(channel.display_name, unicode=unicode))
    if not channel_part:
        channel_part = part_hash("c", channel.id)
        reasons.append(f"channel name {channel.display_name!r} has no letters a Slack name "
                       f"keeps: {channel_part} stands for it")
    full = f"{team_part}-{channel_part}"
    base = _cut(full)
    renamed_from = None
    if reasons:
        renamed_from = _label(team, channel)
    elif base != full:
        renamed_from = full
    if base != full:
        reasons.append(f"cut to {MAX_NAME} characters")
    return _Auto(channel, base, renamed_from, reasons)


def plan_channel_names(
    teams: Iterable[TeamsTeam],
    channels: Iterable[TeamsChannel],
    existing_slack_channels: Iterable[SlackChannel],
    overrides: Iterable[ChannelOverride] = (),
    *,
    unicode_names: bool = False,
    mapped: Mapping[TeamsChannelId, SlackChannelId] | None = None,
    follow_renames: bool = False,
) -> list[ChannelDecision]:
    """One decision per Teams channel, in creation order. `mapped` holds the Slack channel
    an earlier run created for a Teams channel (from the ledger); such a channel is reused.
    With `follow_renames`, a reused channel whose Teams name (or team name) changed since is
    renamed to the new name (the first free of `name`, `name-2`, …)."""
    team_by_id = {t.id: t for t in teams}
    ordered = sorted({c.id: c for c in channels}.values(), key=creation_order)
    existing = sorted(existing_slack_channels, key=lambda c: c.id)
    existing_by_id = {c.id: c for c in existing}
    existing_by_name = {c.name: c for c in existing}
    mapped = dict(mapped or {})
    by_channel = _resolve_overrides(overrides, team_by_id, ordered)

    decisions: dict[TeamsChannelId, ChannelDecision] = {}
    autos: list[_Auto] = []
    holders: dict[str, str] = {
        c.name: f"the existing Slack channel #{c.name}" + (" (archived)" if c.is_archived else "")
        for c in existing}
    renames: list[tuple[ChannelOverride, _Auto]] = []
    moved: list[tuple[TeamsChannel, str]] = []   # channels of earlier runs renamed in Teams

    for channel in ordered:
        team = team_by_id.get(channel.team_id)
        archived = bool(team and team.is_archived) or channel.is_archived
        purpose, notes = _purpose(channel.description)
        if team and team.is_archived:
            notes = (*notes, "team archived in Teams: the channel is archived after import")
        elif channel.is_archived:
            notes = (*notes, "channel archived in Teams: it is archived after import")
        override = by_channel.get(channel.id)
        common = dict(teams_channel_id=channel.id, team_id=channel.team_id)
        if override and override.action == "skip":
            decisions[channel.id] = ChannelDecision(
                **common, action="skip", slack_name=None, is_private=channel.is_private,
                reason=f"skipped by override ({override.source})")
            continue
        if channel.id in mapped:
            slack_id = mapped[channel.id]
            known = existing_by_id.get(slack_id)
            reason = "created by an earlier run"
            if override:
                reason += f"; the {override.action} override ({override.source}) no longer applies"
            decisions[channel.id] = ChannelDecision(
                **common, action="reuse", slack_name=known.name if known else None,
                slack_channel_id=slack_id, is_private=known.is_private if known else channel.is_private,
                reason=reason, archive_after=archived, purpose=purpose, notes=notes)
            if follow_renames and known is not None and not override and not known.is_archived:
                base = _plain(team, channel, unicode_names).base
                if known.name != base and not re.fullmatch(re.escape(base) + r"-\d+", known.name):
                    moved.append((channel, base))
            continue
        if override and override.action == "merge":
            target = _merge_target(override, channel, existing_by_id, existing_by_name)
            decisions[channel.id] = ChannelDecision(
                **common, action="reuse", slack_name=target.name, slack_channel_id=target.id,
                is_private=target.is_private,
                reason=f"merged into the existing #{target.name} by override ({override.source})",
                notes=(("team archived in Teams: the merge target is not archived",)
                       if archived else ()))
            continue
        auto = _plain(team, channel, unicode_names)
        if override and override.action == "rename":
            renames.append((override, auto))
        else:
            autos.append(auto)
        decisions[channel.id] = ChannelDecision(
            **common, action="create", slack_name=None, is_private=channel.is_private,
            archive_after=archived, purpose=purpose, notes=notes)

    names: dict[TeamsChannelId, tuple[str, str | None, str | None]] = {}
    for override, auto in renames:
        name = override.slack_channel or ""
        if not is_valid_name(name, unicode=unicode_names):
            raise ConfigError(f"{override.source}: {name!r} is not a valid Slack channel name "
                              "(lowercase letters, digits, - and _, at most 80)")
        if name in holders:
            raise ConfigError(f"{override.source}: #{name} is already taken by {holders[name]}",
                              hint="choose another name, or merge into that channel")
        holders[name] = f"the rename override at {override.source}"
        if name == auto.base:
            names[auto.channel.id] = (name, None, None)
        else:
            names[auto.channel.id] = (name, auto.base, f"renamed by override ({override.source})")

    # Plain names first, to the earliest-created channel of each name that Slack does not hold.
    suffixed: list[_Auto] = []
    for auto in autos:
        if auto.base in holders:
            suffixed.append(auto)
            continue
        holders[auto.base] = f"{_label(team_by_id.get(auto.channel.team_id), auto.channel)} " \
                             "(created earlier in Teams)"
        reason = "; ".join(auto.reasons) or None
        names[auto.channel.id] = (auto.base, auto.renamed_from, reason)
    for auto in suffixed:
        taken_by = holders[auto.base]
        k = 2
        while _cut(auto.base, f"-{k}") in holders:
            k += 1
        name = _cut(auto.base, f"-{k}")
        holders[name] = _label(team_by_id.get(auto.channel.team_id), auto.channel)
        reason = "; ".join([*auto.reasons, f"#{auto.base} is taken by {taken_by}"])
        names[auto.channel.id] = (name, auto.renamed_from or auto.base, reason)

    for channel, base in moved:
        k, name = 1, base
        while name in holders:
            k += 1
            name = _cut(base, f"-{k}")
        holders[name] = _label(team_by_id.get(channel.team_id), channel)
        old_name = decisions[channel.id].slack_name
        decisions[channel.id] = dataclasses.replace(
            decisions[channel.id], rename_to=name,
            reason=f"created by an earlier run; renamed in Teams: #{old_name} becomes #{name}")

    out = []
    for channel in ordered:
        decision = decisions[channel.id]
        if channel.id in names:
            name, renamed_from, reason = names[channel.id]
            decision = dataclasses.replace(decision, slack_name=name, renamed_from=renamed_from,
                                           reason=reason)
        out.append(decision)
    return out


def _merge_target(override: ChannelOverride, channel: TeamsChannel,
                  by_id: dict[SlackChannelId, SlackChannel],
                  by_name: dict[str, SlackChannel]) -> SlackChannel:
    wanted = (override.slack_channel or "").removeprefix("#")
    target = by_id.get(SlackChannelId(wanted)) or by_name.get(wanted)
    if target is None:
        raise ConfigError(f"{override.source}: no Slack channel {override.slack_channel!r} to "
                          "merge into",
                          hint="name an existing channel; a private one is visible only when "
                          "the app is a member of it")
    if target.is_archived:
        raise ConfigError(f"{override.source}: #{target.name} is archived in Slack",
                          hint="unarchive it, or merge into another channel")
    if channel.is_private and not target.is_private:
        raise ConfigError(f"{override.source}: the {channel.membership_type} Teams channel "
                          f"{channel.display_name!r} cannot be merged into the public #{target.name}",
                          hint="private content only goes to private Slack channels")
    return target


def _resolve_overrides(overrides: Iterable[ChannelOverride],
                       team_by_id: Mapping[TeamsTeamId, TeamsTeam],
                       channels: Sequence[TeamsChannel]) -> dict[TeamsChannelId, ChannelOverride]:
    ids = {c.id for c in channels}
    by_label: dict[str, list[TeamsChannelId]] = defaultdict(list)
    for channel in channels:
        by_label[_label(team_by_id.get(channel.team_id), channel).casefold()].append(channel.id)
    out: dict[TeamsChannelId, ChannelOverride] = {}
    for override in overrides:
        if override.teams_channel in ids:
            found = [TeamsChannelId(override.teams_channel)]
        else:
            found = by_label.get(override.teams_channel.casefold(), [])
        if not found:
            raise ConfigError(f"{override.source}: no Teams channel {override.teams_channel!r}",
                              hint="name it by its id (19:…@thread.tacv2) or as Team name/Channel name")
        if len(found) > 1:
            raise ConfigError(f"{override.source}: {override.teams_channel!r} names "
                              f"{len(found)} Teams channels", hint="name it by its channel id")
        if found[0] in out:
            raise ConfigError(f"{override.source}: {override.teams_channel!r} already has an "
                              f"override at {out[found[0]].source}")
        out[found[0]] = override
    return out


# -- override file -----------------------------------------------------------------------


def load_channel_overrides(path: str | Path) -> list[ChannelOverride]:
    """Read a `teams_channel,action,slack_channel` CSV. Malformed → ConfigError file:line.
    Which Teams channel a row names is resolved by plan_channel_names."""
    out: list[ChannelOverride] = []
    for where, (teams_channel, action, slack_channel) in read_override_rows(path, OVERRIDE_HEADER):
        action = action.lower()
        if not teams_channel:
            raise ConfigError(f"{where}: teams_channel is empty (a Teams channel id, or "
                              "Team name/Channel name)")
        if action not in ACTIONS:
            raise ConfigError(f"{where}: action {action!r} is not one of {', '.join(ACTIONS)}")
        if action == "rename":
            name = slack_channel.removeprefix("#")
            if not is_valid_name(name, unicode=True):
                raise ConfigError(f"{where}: {slack_channel!r} is not a valid Slack channel name "
                                  "(lowercase letters, digits, - and _, at most 80)")
            out.append(ChannelOverride(teams_channel, action, name, where))
        elif action == "merge":
            if not slack_channel:
                raise ConfigError(f"{where}: merge needs slack_channel (a channel name or id)")
            if not (_SLACK_CHANNEL_ID.match(slack_channel)
                    or is_valid_name(slack_channel.removeprefix("#"), unicode=True)):
                raise ConfigError(f"{where}: {slack_channel!r} is neither a Slack channel name "
                                  "nor a channel id (C… or G…)")
            out.append(ChannelOverride(teams_channel, action, slack_channel, where))
        else:
            if slack_channel:
                raise ConfigError(f"{where}: skip takes no slack_channel (found {slack_channel!r})")
            out.append(ChannelOverride(teams_channel, action, None, where))
    return out
