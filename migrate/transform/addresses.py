"""Addresses as identity matching compares them: a Teams user's addresses in the order of the
routes (transform/users.py), and the Slack directory's look-ups by email, normalised alike."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Protocol

from migrate.model import SlackUser, SlackUserId, TeamsUser

SLACKBOT = "USLACKBOT"


def norm_address(address: str | None) -> str | None:
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
            address = norm_address(value)
            if address and address not in seen:
                seen.add(address)
                out.append((route, address))
    return out


def is_bot(user: SlackUser) -> bool:
    return user.is_bot or user.id == SLACKBOT


class SlackUsers(Protocol):
    """The Slack directory as matching reads it: one user by id, every user with an email
    (normalised, bots and deactivated ones included), by id. In memory
    (`SlackUsersInMemory`) or in the store (load/directory.py), so a workspace of 350,000
    people need not be in memory to be matched against."""

    def by_id(self, user_id: str) -> SlackUser | None: ...

    def with_email(self, address: str) -> list[SlackUser]: ...


class SlackUsersInMemory:
    """A list of Slack users with the look-ups matching needs."""

    def __init__(self, users: Iterable[SlackUser]) -> None:
        self._users = sorted({u.id: u for u in users}.values(), key=lambda u: u.id)
        self._by_id = {u.id: u for u in self._users}
        self._by_email: dict[str, list[SlackUser]] = defaultdict(list)
        for user in self._users:
            if address := norm_address(user.email):
                self._by_email[address].append(user)

    def by_id(self, user_id: str) -> SlackUser | None:
        return self._by_id.get(SlackUserId(user_id))

    def with_email(self, address: str) -> list[SlackUser]:
        return list(self._by_email.get(norm_address(address) or "", ()))

    def __iter__(self) -> Iterator[SlackUser]:
        return iter(self._users)

    def __len__(self) -> int:
        return len(self._users)

    def __eq__(self, other: object) -> bool:
        return hasattr(other, "with_email") and self._users == list(other)  # type: ignore[call-overload]

    __hash__ = None  # type: ignore[assignment]
