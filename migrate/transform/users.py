"""Identity mapping: which Slack user each Teams person is, by email (the rules below). Pure.

Matching is by email, case-insensitively, against `profile.email` of the Slack directory. The
addresses of a Teams user are tried in this order, which is also the order that names the
route of a match:

  1. `mail`
  2. `userPrincipalName` — except guest UPNs (`alias_partner.com#EXT#@tenant.onmicrosoft.com`),
     which are not mailboxes and never match
  3. `otherMails`
  4. `proxyAddresses` — `SMTP:` (primary) and `smtp:` (aliases) entries with the prefix
     stripped; other address types (SIP:, X500:, …) are ignored. The project's contract names
     only the first three; proxy aliases are an extension (an alias is often the address
     people use).

The order decides; every other finding is reported, none leaves a person out by itself:

- **First route wins.** A person's addresses are tried in the order above (and, within
  `otherMails` and `proxyAddresses`, in the order Graph lists them); the first that is the
  email of an active Slack account gives the person that account. What a later address finds
  — another Slack account — is a warning on the decision (`UserDecision.warnings`), not a
  doubt: an old account under someone's UPN must not leave her out of every channel.
- **Deactivated accounts and bots never win.** A deactivated (`deleted`) account is skipped
  with a warning, so an active account found by a later route is used; a person whose
  addresses find only deactivated accounts is unmapped, "deactivated in Slack". Bots and
  Slackbot are not in the directory we match against.
- **One address, several active accounts** (two Slack users with one email, which Slack
  does not allow among active users, so rare): the order cannot choose, so the person is
  AMBIGUOUS — unmapped, the accounts named — if that address is the one the order reaches.
  The person does not move on to a weaker route: those accounts may well be theirs.
- **Two people, one account: the stronger route wins** — mail beats userPrincipalName beats
  otherMails beats proxyAddresses, and an override beats them all. Two people reaching it by
  equally strong routes are a tie: the account goes to neither (unless someone stronger
  claims it, who then wins it), and a tied person whose only account it was is unmapped with
  a CONFLICT naming the other(s).
- **Losers fall back.** A person who loses an account — to a stronger claim, or to nobody
  in a tie — moves on to the next account in their own order, as if the lost one had not
  matched, and may win it if nobody stronger claims it; the lost account is then a warning
  on the decision. (A tie is usually an address two people share, e.g. a team mailbox in
  both their otherMails; it says nothing about the next, personal address of either.)
  Losing can cascade (a fallback may beat someone weaker, who falls back in turn): this is
  deferred acceptance with accounts preferring stronger routes, so the result does not
  depend on the order people are looked at. A loser with no account left is unmapped with a
  reason naming, for each account lost, who has it (or who tied for it) and by which route.
- **Guests** are matched like members (`guests="map"`) or never (`guests="unmapped"`).

Consequences worth knowing: nobody is ever mapped to an account that someone else reaches by
a stronger route while wanting it (tested as a property); adding an address to a person never
changes anything for people mapped by a stronger route than the new address, and nothing at
all if the person was already mapped by an address ranked before it. A new address can take
an account from someone mapped by a weaker route, or tie with someone mapped by the same
one.

An override file (CSV `teams_user,slack_user`) decides any of these: a Teams id or email → a
Slack id (U…/W…), a Slack email, or `skip`. Overrides are explicit, so they win over matches
(a match that loses its account to an override falls back like any loser) and may send two
Teams accounts (an old and a new one) to one Slack user.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from migrate.errors import ConfigError
from migrate.model import SlackUser, SlackUserId, TeamsUser, TeamsUserId
from migrate.store.spool import Claims
from migrate.transform.addresses import (
    SlackUsers,
    SlackUsersInMemory,
    is_bot,
    norm_address,
    user_addresses,
)
from migrate.transform.overrides import SLACK_USER_ID, UserOverride

ROUTES = ("mail", "userPrincipalName", "otherMails", "proxyAddresses")
ROUTE_OVERRIDE = "override"
GUEST_POLICIES = ("map", "unmapped")

NO_ACCOUNT = "no Slack account with these addresses"
DEACTIVATED = "deactivated in Slack"
GUEST_POLICY = "guest policy"
SKIPPED = "skipped by override"
UNKNOWN_OVERRIDE = "override names an unknown Slack user"
BOT_OVERRIDE = "override names a Slack bot"

@dataclass(frozen=True, slots=True)
class Candidate:
    """One address of a Teams user that equals a Slack user's email."""

    route: str
    address: str
    slack_user_id: SlackUserId
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class UserDecision:
    """What happens to one Teams user. `slack_user_id` is None when unmapped, and then
    `reason` says why. `route` is how the Slack account named in the decision was found
    ("mail", "userPrincipalName", "otherMails", "proxyAddresses" or "override"); for an
    unmapped person it is the route of the deactivated account, the tie or the first account
    lost to a stronger claim, and None when no account was found (or ambiguous).
    `candidates` are every match of the person's addresses, in order; `warnings` say, for a
    mapped person, what the other candidates were and why they were not used (a later route
    to another account, a deactivated account, an account lost to a stronger claim)."""

    teams_user_id: TeamsUserId
    slack_user_id: SlackUserId | None
    route: str | None
    reason: str | None = None
    candidates: tuple[Candidate, ...] = ()
    warnings: tuple[str, ...] = ()

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

    def user_warnings(self) -> list[tuple[TeamsUserId, str]]:
        """(Teams id, warning) of every decision, by Teams id: what the report lists as
        accounts found but not used."""
        return [(uid, w) for uid, d in self.decisions.items() for w in d.warnings]


# -- addresses ---------------------------------------------------------------------------


def _describe(candidates: Sequence[Candidate]) -> str:
    return ", ".join(f"{c.route} {c.address} → {c.slack_user_id}"
                     + (" (deactivated)" if c.deleted else "") for c in candidates)


# -- matching ----------------------------------------------------------------------------

_OVERRIDE_STRENGTH = -1
_STRENGTH = {route: n for n, route in enumerate(ROUTES)}


@dataclass(frozen=True, slots=True)
class _Step:
    """One address of a person that finds active Slack accounts, in the person's order:
    one account (a claim) or several (ambiguous: the order cannot choose)."""

    route: str
    address: str
    slack_user_ids: tuple[SlackUserId, ...]

    @property
    def strength(self) -> int:
        return _STRENGTH[self.route]


def _candidates(user: TeamsUser, slack_users: SlackUsers) -> tuple[Candidate, ...]:
    """Every match of the person's addresses, in order (an address's accounts by id); bots
    and Slackbot are never matched."""
    return tuple(Candidate(route, address, slack.id, slack.deleted)
                 for route, address in user_addresses(user)
                 for slack in slack_users.with_email(address) if not is_bot(slack))


def _steps(candidates: Sequence[Candidate]) -> list[_Step]:
    """The person's order of active accounts; an account already reached by an earlier
    address is not a step again."""
    steps: list[_Step] = []
    seen: set[SlackUserId] = set()
    by_address: dict[tuple[str, str], list[SlackUserId]] = {}
    for c in candidates:
        if not c.deleted:
            by_address.setdefault((c.route, c.address), []).append(c.slack_user_id)
    for (route, address), ids in by_address.items():
        fresh = tuple(i for i in ids if i not in seen)
        seen.update(fresh)
        if fresh:
            steps.append(_Step(route, address, fresh))
    return steps


@dataclass(slots=True)
class _Account:
    """Who claims one Slack account: the strongest route that reached it so far and everyone
    who came by that route. One of them holds the account; two or more are a tie, and then
    nobody holds it (they all moved on)."""

    strength: int
    claimants: list[TeamsUserId]

    @property
    def holder(self) -> TeamsUserId | None:
        return self.claimants[0] if len(self.claimants) == 1 else None


def _contest(steps: dict[TeamsUserId, list[_Step]],
             claimed: dict[SlackUserId, list[TeamsUserId]]
             ) -> tuple[dict[TeamsUserId, int], dict[SlackUserId, _Account]]:
    """Deferred acceptance. Each person claims the account of their current step; an account
    is held by its one strongest claimant, and everyone else who reached it moves on to their
    next step: the weaker ones, and all of a tie. An ambiguous step stops its person there.
    Accounts given by override are held at a strength no route reaches. Returns each person's
    final step index (== len(steps) when none is left) and the accounts' final claims. A
    rejection is never undone (an account's strongest route only gets stronger), so the
    result is the same in whatever order people are taken."""
    accounts = {sid: _Account(_OVERRIDE_STRENGTH, list(uids)) for sid, uids in claimed.items()}
    position = dict.fromkeys(steps, 0)
    free = sorted(steps, reverse=True)

    def move_on(uid: TeamsUserId) -> None:
        position[uid] += 1
        free.append(uid)

    while free:
        uid = free.pop()
        if position[uid] >= len(steps[uid]):
            continue
        step = steps[uid][position[uid]]
        if len(step.slack_user_ids) > 1:
            continue                                    # ambiguous: stays, claims nothing
        sid = step.slack_user_ids[0]
        account = accounts.get(sid)
        if account is None or step.strength < account.strength:
            if account is not None and account.holder is not None:
                move_on(account.holder)                 # a stronger claim takes it
            accounts[sid] = _Account(step.strength, [uid])
        elif step.strength == account.strength:
            if account.holder is not None:
                move_on(account.holder)                 # a tie: neither keeps it
            account.claimants.append(uid)
            move_on(uid)
        else:
            move_on(uid)                                # someone stronger claims it
    return position, accounts


def _who(uids: Iterable[TeamsUserId], users: dict[TeamsUserId, TeamsUser]) -> str:
    return ", ".join(f"{users[u].display_name} ({u})" for u in sorted(uids))


def _lost(uid: TeamsUserId, step: _Step, account: _Account,
          users: dict[TeamsUserId, TeamsUser]) -> str:
    """Why `uid` did not get the account of `step`."""
    sid = step.slack_user_ids[0]
    if account.strength == _OVERRIDE_STRENGTH:
        return f"Slack user {sid} is given to {_who(account.claimants, users)} by override"
    route = ROUTES[account.strength]
    if uid in account.claimants:
        others = _who((c for c in account.claimants if c != uid), users)
        return f"Slack user {sid} also matches {others} by {route} (a tie)"
    if account.holder is None:
        return (f"Slack user {sid} is tied between {_who(account.claimants, users)} by "
                f"{route}, a stronger route than {step.route}")
    return (f"Slack user {sid} goes to {_who(account.claimants, users)} by {route}, "
            f"a stronger route than {step.route}")


def _decide(user: TeamsUser, candidates: tuple[Candidate, ...], steps: list[_Step], at: int,
            accounts: dict[SlackUserId, _Account],
            users: dict[TeamsUserId, TeamsUser]) -> UserDecision:
    uid = user.id
    lost = [_lost(uid, step, accounts[step.slack_user_ids[0]], users) for step in steps[:at]]
    if at == len(steps):
        if lost:
            return UserDecision(uid, None, steps[0].route, "conflict: " + "; ".join(lost),
                                candidates)
        if candidates:
            return UserDecision(uid, None, candidates[0].route, DEACTIVATED, candidates)
        return UserDecision(uid, None, None, NO_ACCOUNT)
    step = steps[at]
    if len(step.slack_user_ids) > 1:
        found = [c for c in candidates if c.address == step.address and not c.deleted]
        return UserDecision(uid, None, None, f"ambiguous: {_describe(found)} (one address, "
                            "several active Slack users)", candidates)
    sid = step.slack_user_ids[0]
    warnings = [f"{step.route} {step.address} → {sid} is used; {why}" for why in lost]
    reported = {sid} | {s.slack_user_ids[0] for s in steps[:at]}
    for c in candidates:
        if c.slack_user_id in reported:
            continue
        reported.add(c.slack_user_id)
        if c.deleted:
            warnings.append(f"{c.route} {c.address} → {c.slack_user_id} is deactivated in "
                            f"Slack; {step.route} {step.address} → {sid} is used")
        else:
            warnings.append(f"{c.route} {c.address} → {c.slack_user_id} is another Slack "
                            f"account; {step.route} {step.address} → {sid} comes first and is used")
    return UserDecision(uid, sid, step.route, None, candidates, tuple(warnings))


def _resolve_teams_user(override: UserOverride, by_id: dict[TeamsUserId, TeamsUser],
                        by_address: dict[str, list[TeamsUserId]]
                        ) -> tuple[TeamsUserId | None, str | None]:
    """(the Teams user an override names, None) or (None, a warning)."""
    if override.teams_user in by_id:
        return TeamsUserId(override.teams_user), None
    found = by_address.get(norm_address(override.teams_user) or "", [])
    if len(found) == 1:
        return found[0], None
    if found:
        return None, (f"{override.source}: {override.teams_user} is an address of {len(found)} "
                      f"Teams users ({', '.join(found)}); name one by its Teams id")
    return None, f"{override.source}: no Teams user {override.teams_user}; the override is ignored"


def _override_decision(user: TeamsUser, override: UserOverride,
                       slack_users: SlackUsers) -> UserDecision:
    where = f" ({override.source})" if override.source else ""
    if override.skip:
        return UserDecision(user.id, None, ROUTE_OVERRIDE, SKIPPED + where)
    wanted = override.slack_user or ""
    if SLACK_USER_ID.match(wanted):
        slack = slack_users.by_id(wanted)
    else:
        found = [u for u in slack_users.with_email(wanted) if not is_bot(u)]
        active = [u for u in found if not u.deleted]
        slack = active[0] if len(active) == 1 else (found[0] if len(found) == 1 else None)
    if slack is None:
        return UserDecision(user.id, None, ROUTE_OVERRIDE, f"{UNKNOWN_OVERRIDE}: {wanted}{where}")
    if is_bot(slack):
        return UserDecision(user.id, None, ROUTE_OVERRIDE, f"{BOT_OVERRIDE}: {slack.id}{where}")
    if slack.deleted:
        return UserDecision(user.id, None, ROUTE_OVERRIDE,
                            f"{DEACTIVATED}: {slack.id} named by override{where}")
    return UserDecision(user.id, slack.id, ROUTE_OVERRIDE)


_BY_OVERRIDE = "\x00override"    # who reaches an account given by override, in user_claims


def map_users(teams_users: Iterable[TeamsUser], slack_directory_users: Iterable[SlackUser] | SlackUsers,
              overrides: Iterable[UserOverride] = (), *, guests: str = "map") -> UserMapping:
    """Map every Teams user to a Slack user or say why not. Deterministic: decisions are
    keyed and ordered by Teams id, whatever the input order. (All in memory: `decide_users`
    is the same mapping for a tenant's worth of people.)"""
    users: dict[TeamsUserId, TeamsUser] = {}
    for user in sorted(teams_users, key=lambda u: u.id):
        users.setdefault(user.id, user)
    slack = (slack_directory_users if hasattr(slack_directory_users, "with_email")
             else SlackUsersInMemory(slack_directory_users))  # type: ignore[arg-type]
    warnings: list[str] = []
    decisions = {d.teams_user_id: d for _, d in decide_users(
        list(users.values()), slack, overrides, guests=guests, warn=warnings.append)}
    ordered = {uid: decisions[uid] for uid in sorted(decisions)}
    mapping = {uid: d.slack_user_id for uid, d in ordered.items() if d.slack_user_id is not None}
    return UserMapping(mapping, ordered, warnings)


def decide_users(teams_users: Iterable[TeamsUser], slack: SlackUsers,
                 overrides: Iterable[UserOverride] = (), *, guests: str = "map",
                 warn: Callable[[str], None] = lambda message: None,
                 claims: Claims | None = None, contest_everyone: bool = False,
                 ) -> Iterator[tuple[TeamsUser, UserDecision]]:
    """Every Teams user's decision, as (user, decision), with memory that does not grow with
    the people: `teams_users` (each id once) is read two or three times, `slack` is looked up
    address by address, and who reaches which account goes to `claims` (store/spool.py: a
    scratch SQLite table; a private in-memory one by default).

    The contest only matters among people who reach a common account (or one an override
    gives): everyone else gets their first step — nobody else ever claims its account — and is
    decided on the second read, as they come. The contested (in a real tenant, the few who
    share a mailbox or an alias) are decided together at the end, in memory, exactly as the
    whole tenant would be. `contest_everyone` puts everyone in that contest (tests compare).
    Warnings about the overrides (a row naming no Teams user, …) go to `warn`."""
    if guests not in GUEST_POLICIES:
        raise ConfigError(f"guests must be one of {', '.join(GUEST_POLICIES)}, not {guests!r}")
    claims = claims or Claims()
    fixed, override_users = _override_decisions(teams_users, slack, list(overrides), warn)
    claimed: dict[SlackUserId, list[TeamsUserId]] = defaultdict(list)
    for uid, decision in fixed.items():
        if decision.slack_user_id is not None:
            claimed[decision.slack_user_id].append(uid)

    # First read: who reaches which account (a step's accounts, ambiguous ones included;
    # an account given by override is reached by the override too).
    claims.add((sid, _BY_OVERRIDE) for sid in claimed)
    for user in teams_users:
        if user.id in fixed or (user.is_guest and guests == "unmapped"):
            continue
        steps = _steps(_candidates(user, slack))
        claims.add((sid, user.id) for step in steps for sid in step.slack_user_ids)
    contested = claims.contested() - {_BY_OVERRIDE}

    # Second read: everyone's decision; the contested wait for each other.
    for uid, decision in fixed.items():
        yield override_users[uid], decision
    group: dict[TeamsUserId, tuple[TeamsUser, tuple[Candidate, ...], list[_Step]]] = {}
    for user in teams_users:
        if user.id in fixed:
            continue
        if user.is_guest and guests == "unmapped":
            yield user, UserDecision(user.id, None, None, GUEST_POLICY)
            continue
        found = _candidates(user, slack)
        steps = _steps(found)
        if contest_everyone or user.id in contested:
            group[user.id] = (user, found, steps)
            continue
        position, accounts = _contest({user.id: steps}, {})
        yield user, _decide(user, found, steps, position[user.id], accounts, {user.id: user})
    names = {**override_users, **{uid: user for uid, (user, _, _) in group.items()}}
    position, accounts = _contest({uid: steps for uid, (_, _, steps) in group.items()}, claimed)
    for uid in sorted(group):
        user, found, steps = group[uid]
        yield user, _decide(user, found, steps, position[uid], accounts, names)


def _override_decisions(teams_users: Iterable[TeamsUser], slack: SlackUsers,
                        overrides: list[UserOverride], warn: Callable[[str], None],
                        ) -> tuple[dict[TeamsUserId, UserDecision], dict[TeamsUserId, TeamsUser]]:
    """The decisions the overrides make, and the people they name. Overrides are few: the
    people are read once (only when there are overrides) to find whom each one names."""
    if not overrides:
        return {}, {}
    keys = {o.teams_user for o in overrides} | {norm_address(o.teams_user) for o in overrides}
    by_id: dict[TeamsUserId, TeamsUser] = {}
    by_address: dict[str, list[TeamsUserId]] = defaultdict(list)
    for user in teams_users:
        if user.id in keys:
            by_id[user.id] = user
        for _, address in user_addresses(user):
            if address in keys:
                by_id[user.id] = user
                by_address[address].append(user.id)
    decisions: dict[TeamsUserId, UserDecision] = {}
    for override in overrides:
        uid, warning = _resolve_teams_user(override, by_id, by_address)
        if uid is None:
            warn(warning or "")
            continue
        if uid in decisions:
            warn(f"{override.source}: {by_id[uid].display_name} ({uid}) already has an "
                 "override; this one is ignored")
            continue
        decisions[uid] = _override_decision(by_id[uid], override, slack)
    return decisions, {uid: by_id[uid] for uid in decisions}
