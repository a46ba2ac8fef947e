"""The plan's people: every Teams user's decision (transform/users.py), kept in the plan's
spool (store/spool.py: its `people` table) and looked up by Teams id.

A tenant of 350,000 people is hundreds of MB as records and dicts; the plan needs, per message,
only its author's name, Slack id and picture, and per channel its members' Slack ids. So the
decisions go to a table of the spool as they are made, `plan.users` is read from it in report
order, and `People` answers look-ups with a small cache (a channel's authors are few and come
again and again).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from migrate.load.directory import SlackDirectory
from migrate.model import SlackUserId, TeamsUser
from migrate.plan.spool import Spool, SpooledItems
from migrate.transform.overrides import UserOverride
from migrate.transform.users import UserDecision, decide_users


@dataclass(frozen=True, slots=True)
class UserLine:
    teams_user_id: str
    display_name: str
    slack_user_id: str | None
    route: str | None
    reason: str | None
    is_guest: bool


_BATCH = 2_000


class People:
    """Who each Teams user is in Slack, by Teams id: the spool's `people` table with a cache."""

    CACHE = 8192

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self._row = functools.lru_cache(maxsize=self.CACHE)(spool.person)
        self.names: Mapping[str, str] = _Names(self)

    def name(self, teams_id: str) -> str | None:
        row = self._row(teams_id)
        return row[0] if row else None

    def slack_id(self, teams_id: str | None) -> SlackUserId | None:
        """The Slack account of a mapped person; None for anyone else (or nobody). Interned:
        the channels' invite lists name the same people over and over."""
        row = self._row(teams_id) if teams_id else None
        return SlackUserId(sys.intern(row[1])) if row and row[1] else None

    def icon(self, teams_id: str | None) -> str | None:
        """The picture of the person's Slack account (a post made for them shows it)."""
        row = self._row(teams_id) if teams_id else None
        return row[2] if row else None

    def is_member(self, teams_id: str) -> bool:
        """A Teams user of the tenant who is not a guest."""
        row = self._row(teams_id)
        return bool(row) and not row[3]

    def __len__(self) -> int:
        return self.spool.count_people()


class _Names(Mapping[str, str]):
    """Teams id → display name, for rendering (RenderContext.users)."""

    def __init__(self, people: People) -> None:
        self.people = people

    def __getitem__(self, teams_id: str) -> str:
        name = self.people.name(teams_id)
        if name is None:
            raise KeyError(teams_id)
        return name

    def __iter__(self) -> Iterator[str]:
        return iter(self.people.spool.people_ids())

    def __len__(self) -> int:
        return len(self.people)


def plan_people(spool: Spool, teams_users: Iterable[TeamsUser], directory: SlackDirectory,
                overrides: list[UserOverride], *, guests: str,
                warn: Callable[[str, str], None]) -> tuple[People, SpooledItems[UserLine]]:
    """Decide every Teams user into the spool; the look-ups, and the users in report order
    (by display name, case-folded, then id). `teams_users` is read more than once. Warnings
    (kind, detail) go to `warn`: override rows that name nobody first, then per person in
    report order, each unmapped person and each account found but not used."""
    spool.create_people()
    rows: list[tuple] = []

    def flush() -> None:
        spool.add_people(rows)
        rows.clear()

    decisions = decide_users(teams_users, directory.users, overrides, guests=guests,
                             warn=lambda message: warn("user_override", message),
                             claims=spool.claims())
    for user, decision in decisions:
        rows.append(_row(user, decision, directory))
        if len(rows) >= _BATCH:
            flush()
    flush()

    users: SpooledItems[UserLine] = SpooledItems(spool, UserLine, "users")
    users.fill(spool.copy_people)
    for name, slack_id, reason, notes in spool.people_noted():
        if slack_id is None:
            warn("unmapped_user", f"{name}: {reason}")
        for note in json.loads(notes or "[]"):  # e.g. an old account under a later address
            warn("user_other_account", f"{name}: {note}")
    return People(spool), users


def _row(user: TeamsUser, decision: UserDecision, directory: SlackDirectory) -> tuple:
    slack = directory.users.by_id(decision.slack_user_id) if decision.slack_user_id else None
    return (user.id, user.display_name.casefold(), user.display_name, decision.slack_user_id,
            decision.route, decision.reason, int(user.is_guest), slack.image_72 if slack else None,
            json.dumps(list(decision.warnings)) if decision.warnings else None)
