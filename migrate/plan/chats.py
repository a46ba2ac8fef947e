"""What happens to each 1:1, group and meeting chat, and the private channel a carried chat
becomes.

Through the API a bot cannot write as people into their DMs, so by default chats are skipped
and counted (the import bundle carries them with their real authors). With
`plan.chats_to_channels = group`, each group and meeting chat — with `all`, each 1:1 chat too —
becomes a private Slack channel whose members are exactly the chat's mapped current members:
the content of a chat only ever goes where its own people can read it.

Naming rule: `{kind}-{label}` through the channel naming rules (transform/channels.py: slug,
80 characters, `-2`… on collision), where kind is `dm` (1:1), `chat` (group) or `meeting`, and
label is the chat's topic, or else its members' given names in alphabetical order (full names
when two share a given name; at most four, then `and-N-more`): `dm-alex-sam`, `chat-launch-crew`, `meeting-weekly-sync`.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableSequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migrate.config import Settings
from migrate.export import records
from migrate.model import TeamsChannel, TeamsChannelId, TeamsChat, TeamsTeam, TeamsTeamId
from migrate.store import Store, teams_chats

if TYPE_CHECKING:
    from migrate.plan.people import People

KIND = {"oneOnOne": "dm", "group": "chat", "meeting": "meeting"}
CHAT_TEAM_PREFIX = "chats:"      # the stand-in team id of a chat carried as a channel
# The team name a carried chat's channel is listed under, by its stand-in team's kind.
KIND_LABEL = {"dm": "1:1 chats", "chat": "Group chats", "meeting": "Meeting chats"}
# A Slack group DM holds at most 9 people, you included
# (https://slack.com/help/articles/212281468-What-is-a-direct-message): a larger group chat
# can only be a private channel, even in an import bundle.
SLACK_GROUP_DM_MAX = 9
NAMES_IN_LABEL = 4


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One chat in the plan: what it is and what happens to it, with the reason."""

    teams_chat_id: str
    chat_type: str                 # oneOnOne | group | meeting
    label: str                     # the topic, or the members' names
    members: int                   # current members
    mapped_members: int            # of them, with a Slack account
    messages: int                  # exported (system events and deleted ones included)
    action: str                    # channel | skip
    reason: str
    slack_name: str | None = None
    larger_than_group_dm: bool = False


def chat_label(chat: TeamsChat, names: Mapping[str, str]) -> str:
    """The chat's topic, or its members' names (given names where known)."""
    if chat.topic and chat.topic.strip():
        return chat.topic.strip()
    full = sorted((name for m in chat.members if (name := names.get(m.user_id) or m.display_name)),
                  key=str.casefold)
    if not full:
        return "chat"
    given = [name.split()[0] for name in full]
    # Two people with one given name (the two Alex Kims) would read as one: full names then.
    people = given if len(set(given)) == len(given) else full
    shown = people[:NAMES_IN_LABEL]
    more = len(people) - len(shown)
    return " ".join(shown) + (f" and {more} more" if more else "")


def chat_fate(chat: TeamsChat, mapped: int, *, chats_to_channels: str,
              meeting_chats: bool) -> tuple[str, str]:
    """("channel" | "skip", why) for one chat."""
    if chat.chat_type == "meeting" and not meeting_chats:
        return "skip", "meeting chats are excluded (export.meeting_chats = false)"
    if chats_to_channels == "none":
        return "skip", ("through the API a bot cannot post as people into their DMs; set "
                        "plan.chats_to_channels = group or all to carry chats as private "
                        "channels, or use an import bundle")
    if chat.chat_type == "oneOnOne" and chats_to_channels != "all":
        return "skip", "1:1 chats become private channels only with plan.chats_to_channels = all"
    if mapped == 0:
        return "skip", "no member of the chat has a Slack account"
    return "channel", (f"a private channel of its {mapped} mapped member"
                       f"{'' if mapped == 1 else 's'}")


def chat_as_channel(chat: TeamsChat, label: str, purpose: str) -> tuple[TeamsTeam, TeamsChannel]:
    """The chat as the (team, channel) pair the channel naming and the posts planner take:
    always private, its kind standing in for the team's name."""
    kind = KIND.get(chat.chat_type, "chat")
    team = TeamsTeam(id=TeamsTeamId(f"{CHAT_TEAM_PREFIX}{kind}"), display_name=kind)
    channel = TeamsChannel(id=TeamsChannelId(chat.id), team_id=team.id, display_name=label,
                           description=purpose, membership_type="private",
                           created_at=chat.created_at)
    return team, channel


def chat_purpose(chat: TeamsChat, names: Mapping[str, str]) -> str:
    """What the channel says it is: shown only to its members, who are the chat's own."""
    people = sorted({names.get(m.user_id) or m.display_name or "someone" for m in chat.members},
                    key=str.casefold)
    what = {"oneOnOne": "1:1 chat", "group": "group chat", "meeting": "meeting chat"}.get(
        chat.chat_type, "chat")
    return f"Teams {what} with {', '.join(people)}" if people else f"Teams {what}"


def plan_chats(store: Store, settings: Settings, people: People,
               lines: MutableSequence[ChatLine]) -> tuple[
        dict[str, TeamsTeam], list[TeamsChannel], dict[str, list]]:
    """Every exported chat's fate, appended to `lines` (a tenant has one chat for every three
    people: the plan's spool takes them); for the chats carried as private channels, the
    (team, channel) pairs they become and their members (who alone are invited)."""
    names = people.names
    teams: dict[str, TeamsTeam] = {}
    channels: list[TeamsChannel] = []
    members: dict[str, list] = {}
    for chat in records.load_chats(store):
        if not settings.owns_chat([m.user_id for m in chat.members
                                   if people.is_member(m.user_id)]):
            continue      # another shard's (it reads its smallest member's stream) or workspace's
        mapped = sum(1 for m in chat.members if people.slack_id(m.user_id))
        action, reason = chat_fate(chat, mapped, chats_to_channels=settings.plan.chats_to_channels,
                                   meeting_chats=settings.export.meeting_chats)
        label = chat_label(chat, names)
        lines.append(ChatLine(chat.id, chat.chat_type, label, len(chat.members), mapped,
                              teams_chats.chat_message_count(store, chat.id), action, reason,
                              larger_than_group_dm=len(chat.members) > SLACK_GROUP_DM_MAX))
        if action == "channel":
            team, channel = chat_as_channel(chat, label, chat_purpose(chat, names))
            teams[team.id] = team
            channels.append(channel)
            members[chat.id] = list(chat.members)
    return teams, channels, members
