"""Identity mapping: which Slack user each Teams person is (DESIGN §4.4). Pure.

Matching is by email, case-insensitively, against `profile.email` of the Slack directory. The
addresses of a Teams user are tried in this order, which is also the order that names the
route of a match:

  1. `mail`
  2. `userPrincipalName` — except guest UPNs (`alias_partner.com#EXT#@tenant.onmicrosoft.com`),
     which are not mailboxes and never match
  3. `otherMails`
  4. `proxyAddresses` — `SMTP:` (primary) and `smtp:` (aliases) entries with the prefix
     stripped; other address types (SIP:, X500:, …) are ignored. DESIGN §4.4 names only the
     first three; proxy aliases are an extension (an alias is often the address people use).

Every address is looked up, not only the first that matches, so that nothing is chosen
silently:

- one Teams person whose addresses reach two different Slack users is AMBIGUOUS — unmapped,
  both candidates reported;
- two Teams people reaching the same Slack user are a CONFLICT — both unmapped, each naming the
  other — unless an override decides;
- a Slack user found but deactivated (`deleted`) is reported "deactivated in Slack", never used;
- bots (and Slackbot) never match;
- guests are matched like members (`guests="map"`) or never (`guests="unmapped"`).

An override file (CSV `teams_user,slack_user`) decides any of these: a Teams id or email → a
Slack id (U…/W…), a Slack email, or `skip`. Overrides are explicit, so they win over matches
and may send two Teams accounts (an old and a new one) to one Slack user.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migrate.errors import ConfigError
from migrate.model import SlackUser, SlackUserId, TeamsUser, TeamsUserId

ROUTES = ("mail", "userPrincipalName", "otherMails", "proxyAddresses")
ROUTE_OVERRIDE = "override"
GUEST_POLICIES = ("map", "unmapped")

NO_ACCOUNT = "no Slack account with these addresses"
DEACTIVATED = "deactivated in Slack"
GUEST_POLICY = "guest policy"
SKIPPED = "skipped by override"
UNKNOWN_OVERRIDE = "override names an unknown Slack user"
BOT_OVERRIDE = "override names a Slack bot"

SLACKBOT = "USLACKBOT"
OVERRIDE_HEADER = ("teams_user", "slack_user")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Candidate:
    """One address of a Teams user that equals a Slack user's email."""

    route: str
    address: str
    slack_user_id: SlackUserId
    deleted: bool = False


@dataclass(frozen=True)
class UserDecision:
    """What happens to one Teams user. `slack_user_id` is None when unmapped, and then
    `reason` says why. `route` is how the Slack account named in the decision was found
    ("mail", "userPrincipalName", "otherMails", "proxyAddresses" or "override"); it is kept
    for a deactivated or conflicting match too, and is None when no single account was found."""

    teams_user_id: TeamsUserId
    slack_user_id: SlackUserId | None
    route: str | None
    reason: str | None = None
    candidates: tuple[Candidate, ...] = ()

    @property
    def mapped(self) -> bool:
        return self.slack_user_id is not None


@dataclass
class UserMapping:
    teams_user_id_to_slack_user_id: dict[TeamsUserId, SlackUserId]
    decisions: dict[TeamsUserId, UserDecision]          # one per Teams user, by Teams id
    warnings: list[str] = field(default_factory=list)   # overrides that named no Teams user, …

    def unmapped(self) -> list[UserDecision]:
        return [d for d in self.decisions.values() if d.slack_user_id is None]


@dataclass(frozen=True)
class UserOverride:
    teams_user: str             # a Teams user id, or one of the user's addresses
    slack_user: str | None      # a Slack user id or email; None = skip
    source: str = ""            # "file:line", for messages

    @property
    def skip(self) -> bool:
        return self.slack_user is None


# -- addresses ---------------------------------------------------------------------------


def _norm(address: str | None) -> str | None:
    if not address:
        return None
    address = address.strip().lower()
    return address if "@" in address else None


def is_guest_upn(upn: str) -> bool:
    return "#ext#" in upn.lower()


def user_addresses(user: TeamsUser) -> list[tuple[str, str]]:
    """(route, normalised address) in matching order; an address appears once, under the
    first route that has it."""
    routes: list[tuple[str, Iterable[str | None]]] = [
        ("mail", [user.mail]),
        ("userPrincipalName",
         [user.user_principal_name] if user.user_principal_name
         and not is_guest_upn(user.user_principal_name) else []),
        ("otherMails", user.other_mails),
        ("proxyAddresses", [p.split(":", 1)[1] for p in user.proxy_addresses
                            if ":" in p and p.split(":", 1)[0].lower() == "smtp"]),
    ]
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for route, values in routes:
        for value in values:
            address = _norm(value)
            if address and address not in seen:
                seen.add(address)
                out.append((route, address))
    return out


def _is_bot(user: SlackUser) -> bool:
    return user.is_bot or user.id == SLACKBOT


def _slack_email_index(users: Iterable[SlackUser]) -> dict[str, list[SlackUser]]:
    index: dict[str, list[SlackUser]] = defaultdict(list)
    for user in users:
        address = _norm(user.email)
        if address and not _is_bot(user):
            index[address].append(user)
    return {k: sorted(v, key=lambda u: u.id) for k, v in index.items()}


def _describe(candidates: Sequence[Candidate]) -> str:
    return ", ".join(f"{c.route} {c.address} → {c.slack_user_id}"
                     + (" (deactivated)" if c.deleted else "") for c in candidates)


# -- matching ----------------------------------------------------------------------------


def _match(user: TeamsUser, index: dict[str, list[SlackUser]]) -> UserDecision:
    candidates = tuple(
        Candidate(route, address, slack.id, slack.deleted)
        for route, address in user_addresses(user) for slack in index.get(address, ()))
    ids = list(dict.fromkeys(c.slack_user_id for c in candidates))
    if not candidates:
        return UserDecision(user.id, None, None, NO_ACCOUNT)
    if len(ids) > 1:
        return UserDecision(user.id, None, None, f"ambiguous: {_describe(candidates)}",
                            candidates)
    first = candidates[0]
    if first.deleted:
        return UserDecision(user.id, None, first.route, DEACTIVATED, candidates)
    return UserDecision(user.id, first.slack_user_id, first.route, None, candidates)


def _resolve_teams_user(override: UserOverride, by_id: dict[TeamsUserId, TeamsUser],
                        by_address: dict[str, list[TeamsUserId]]
                        ) -> tuple[TeamsUserId | None, str | None]:
    """(the Teams user an override names, None) or (None, a warning)."""
    if override.teams_user in by_id:
        return TeamsUserId(override.teams_user), None
    found = by_address.get(_norm(override.teams_user) or "", [])
    if len(found) == 1:
        return found[0], None
    if found:
        return None, (f"{override.source}: {override.teams_user} is an address of {len(found)} "
                      f"Teams users ({', '.join(found)}); name one by its Teams id")
    return None, f"{override.source}: no Teams user {override.teams_user}; the override is ignored"


def _override_decision(user: TeamsUser, override: UserOverride,
                       slack_by_id: dict[str, SlackUser],
                       index: dict[str, list[SlackUser]]) -> UserDecision:
    where = f" ({override.source})" if override.source else ""
    if override.skip:
        return UserDecision(user.id, None, ROUTE_OVERRIDE, SKIPPED + where)
    wanted = override.slack_user or ""
    if _SLACK_ID.match(wanted):
        slack = slack_by_id.get(wanted)
    else:
        found = index.get(_norm(wanted) or "", [])
        active = [u for u in found if not u.deleted]
        slack = active[0] if len(active) == 1 else (found[0] if len(found) == 1 else None)
    if slack is None:
        return UserDecision(user.id, None, ROUTE_OVERRIDE, f"{UNKNOWN_OVERRIDE}: {wanted}{where}")
    if _is_bot(slack):
        return UserDecision(user.id, None, ROUTE_OVERRIDE, f"{BOT_OVERRIDE}: {slack.id}{where}")
    if slack.deleted:
        return UserDecision(user.id, None, ROUTE_OVERRIDE,
                            f"{DEACTIVATED}: {slack.id} named by override{where}")
    return UserDecision(user.id, slack.id, ROUTE_OVERRIDE)


def map_users(teams_users: Iterable[TeamsUser], slack_directory_users: Iterable[SlackUser],
              overrides: Iterable[UserOverride] = (), *, guests: str = "map") -> UserMapping:
    """Map every Teams user to a Slack user or say why not. Deterministic: decisions are
    keyed and ordered by Teams id, whatever the input order."""
    if guests not in GUEST_POLICIES:
        raise ConfigError(f"guests must be one of {', '.join(GUEST_POLICIES)}, not {guests!r}")
    users: dict[TeamsUserId, TeamsUser] = {}
    for user in sorted(teams_users, key=lambda u: u.id):
        users.setdefault(user.id, user)
    slack_users = list(slack_directory_users)
    slack_by_id = {u.id: u for u in slack_users}
    index = _slack_email_index(slack_users)
    warnings: list[str] = []

    # Overrides first: they decide whatever the addresses say.
    by_address: dict[str, list[TeamsUserId]] = defaultdict(list)
    for user in users.values():
        for _, address in user_addresses(user):
            by_address[address].append(user.id)
    decisions: dict[TeamsUserId, UserDecision] = {}
    for override in overrides:
        uid, warning = _resolve_teams_user(override, users, by_address)
        if uid is None:
            warnings.append(warning or "")
            continue
        if uid in decisions:
            warnings.append(f"{override.source}: {users[uid].display_name} ({uid}) already has an "
                            "override; this one is ignored")
            continue
        decisions[uid] = _override_decision(users[uid], override, slack_by_id, index)

    for uid, user in users.items():
        if uid in decisions:
            continue
        if user.is_guest and guests == "unmapped":
            decisions[uid] = UserDecision(uid, None, None, GUEST_POLICY)
        else:
            decisions[uid] = _match(user, index)

    # Conflicts: one Slack user reached by several Teams people. An override keeps it; the
    # matches by address that compete with each other (or with an override) are all dropped.
    claims: dict[SlackUserId, list[TeamsUserId]] = defaultdict(list)
    for uid, decision in decisions.items():
        if decision.slack_user_id is not None:
            claims[decision.slack_user_id].append(uid)
    for slack_id, claimants in claims.items():
        if len(claimants) < 2:
            continue
        by_override = [u for u in claimants if decisions[u].route == ROUTE_OVERRIDE]
        for uid in claimants:
            decision = decisions[uid]
            if decision.route == ROUTE_OVERRIDE:
                continue
            if by_override:
                others = ", ".join(f"{users[o].display_name} ({o})" for o in by_override)
                reason = f"conflict: Slack user {slack_id} is given to {others} by override"
            else:
                others = ", ".join(f"{users[o].display_name} ({o})" for o in claimants if o != uid)
                reason = f"conflict: Slack user {slack_id} also matches {others}"
            decisions[uid] = UserDecision(uid, None, decision.route, reason, decision.candidates)

    ordered = {uid: decisions[uid] for uid in sorted(decisions)}
    mapping = {uid: d.slack_user_id for uid, d in ordered.items() if d.slack_user_id is not None}
    return UserMapping(mapping, ordered, warnings)


# -- override file -----------------------------------------------------------------------


def read_override_rows(path: str | Path, header: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """Rows of an override CSV as ("file:line", cells): the header checked, blank lines and
    lines starting with `#` skipped, cells stripped, trailing empty cells dropped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: override file not found",
                          hint=f"create it with the header line {','.join(header)}, or unset "
                          "the setting that names it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the override file ({exc})") from None
    reader = csv.reader(text.splitlines(keepends=True))
    rows: list[tuple[str, list[str]]] = []
    seen_header = False
    try:
        for cells in reader:
            where = f"{path}:{reader.line_num}"
            cells = [c.strip() for c in cells]
            while cells and not cells[-1]:
                cells.pop()
            if not cells or cells[0].startswith("#"):
                continue
            if not seen_header:
                if tuple(c.lower() for c in cells) != header:
                    raise ConfigError(f"{where}: the header must be {','.join(header)} "
                                      f"(found {','.join(cells)})")
                seen_header = True
                continue
            if len(cells) > len(header):
                raise ConfigError(f"{where}: expected {len(header)} columns "
                                  f"({','.join(header)}), found {len(cells)}",
                                  hint="quote a value that contains a comma")
            rows.append((where, cells + [""] * (len(header) - len(cells))))
    except csv.Error as exc:
        raise ConfigError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    if not seen_header:
        raise ConfigError(f"{path}: empty override file",
                          hint=f"the first line must be the header {','.join(header)}")
    return rows


def load_user_overrides(path: str | Path) -> list[UserOverride]:
    """Read a `teams_user,slack_user` CSV. Malformed → ConfigError naming file:line (exit 2).
    Whether the ids exist is checked by map_users, which reports rather than fails."""
    out: list[UserOverride] = []
    first_line: dict[str, str] = {}
    for where, (teams_user, slack_user) in read_override_rows(path, OVERRIDE_HEADER):
        if not teams_user:
            raise ConfigError(f"{where}: teams_user is empty (a Teams user id or email)")
        if not (_GUID.match(teams_user) or _EMAIL.match(teams_user)):
            raise ConfigError(f"{where}: teams_user {teams_user!r} is neither a Teams user id "
                              "(a GUID) nor an email")
        if not slack_user:
            raise ConfigError(f"{where}: slack_user is empty (a Slack user id, an email, or skip)")
        key = teams_user.lower()
        if key in first_line:
            raise ConfigError(f"{where}: {teams_user} already has an override at {first_line[key]}")
        first_line[key] = where
        if slack_user.lower() == "skip":
            out.append(UserOverride(teams_user, None, where))
        elif _SLACK_ID.match(slack_user) or _EMAIL.match(slack_user):
            out.append(UserOverride(teams_user, slack_user, where))
        else:
            raise ConfigError(f"{where}: slack_user {slack_user!r} is not a Slack user id "
                              "(U… or W…), an email, or skip")
    return out
