"""A read-only look at the Slack workspace for the plan: every user and every channel.

`read_directory` pages `users.list` (deactivated users, guests and bots included:
https://docs.slack.dev/reference/methods/users.list) and `conversations.list` (public and
private, archived included — an archived channel still holds its name; private ones only where
the app is a member: https://docs.slack.dev/reference/methods/conversations.list), 200 per page
as Slack recommends, through the same client and scheduler as the import: the scheduler paces
the calls at their tier and waits out a 429's `Retry-After` (integer or decimal seconds); the
client retries server errors and dropped connections with backoff.

`read_directory(…, store)` writes the users into the store's snapshot (slack_users,
slack_channels: the raw objects plus query columns) page by page as they are read, and the
directory then looks them up there (`StoredSlackUsers`): a workspace of 350,000 people is never
in memory. `load_directory` gives the stored snapshot back (reports and `migrate verify` read
the directory the plan was made with); `save_directory` stores one built in memory. Raw Slack
objects stay in this module; the rest of the tool sees `SlackUser` and `SlackChannel`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from migrate.errors import TransientError
from migrate.load.client import SlackClient, SlackRateLimited, SlackRefused, SlackUnavailable
from migrate.load.paging import SlackCursor
from migrate.load.scheduler import Scheduler
from migrate.model import SlackChannel, SlackChannelId, SlackUser, SlackUserId
from migrate.store import Store, slack_directory, utcnow
from migrate.transform.users import SlackUsers, SlackUsersInMemory

Json = dict[str, Any]
PAGE_SIZE = 200           # Slack recommends at most 200 per page (docs.slack.dev pagination)
MAX_RATE_LIMITED = 30     # 429s in a row on one page before giving up (each waits Retry-After)
SLACKBOT = "USLACKBOT"


@dataclass
class SlackDirectory:
    """The workspace as the plan sees it. `users` are looked up, not held: in the store when
    read by `read_directory(…, store)` or `load_directory` (a workspace of 350,000 people is
    hundreds of MB as records), in memory when built from a list (tests, small tools)."""

    users: SlackUsers
    channels: list[SlackChannel]
    fetched_at: str | None = None
    # The channel objects as Slack gave them, by id (the lost-state check and adopt read them).
    raw_channels: dict[str, Json] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not hasattr(self.users, "with_email"):
            self.users = SlackUsersInMemory(self.users)
        self._channels_by_name = {c.name: c for c in self.channels}
        self._channels_by_id = {c.id: c for c in self.channels}

    def users_by_email(self, email: str) -> list[SlackUser]:
        """Every user whose profile email is `email`, case-insensitively (bots and
        deactivated users included; callers decide)."""
        return self.users.with_email(email)

    def user_by_email(self, email: str) -> SlackUser | None:
        """The active, non-bot user with this email; None when there is none or several."""
        found = [u for u in self.users_by_email(email) if not u.deleted and not u.is_bot]
        return found[0] if len(found) == 1 else None

    def user_by_id(self, user_id: str) -> SlackUser | None:
        return self.users.by_id(SlackUserId(user_id))

    def channel_by_name(self, name: str) -> SlackChannel | None:
        """The channel holding `name` (a leading `#` is ignored), archived ones included."""
        return self._channels_by_name.get(name.strip().removeprefix("#"))

    def channel_by_id(self, channel_id: str) -> SlackChannel | None:
        return self._channels_by_id.get(SlackChannelId(channel_id))


class StoredSlackUsers:
    """The snapshot's users in the store, looked up one at a time (the plan asks for the same
    few authors again and again: a small cache by id)."""

    CACHE = 4096

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_id = functools.lru_cache(maxsize=self.CACHE)(self._by_id)

    def _by_id(self, user_id: str) -> SlackUser | None:
        row = slack_directory.user_by_id(self.store, user_id)
        return _stored_user(row) if row else None

    def with_email(self, address: str) -> list[SlackUser]:
        key = slack_directory.email_key(address)
        return [_stored_user(row) for row in slack_directory.users_with_email(self.store, key)] \
            if key else []

    def __iter__(self) -> Iterator[SlackUser]:
        return (_stored_user(row) for row in slack_directory.iter_users(self.store))

    def __len__(self) -> int:
        return slack_directory.count_users(self.store)

    def __eq__(self, other: object) -> bool:
        return hasattr(other, "with_email") and list(self) == list(other)  # type: ignore[call-overload]

    __hash__ = None  # type: ignore[assignment]


def _stored_user(row: tuple) -> SlackUser:
    (uid, name, real_name, display_name, email, deleted, is_bot, restricted, ultra,
     image) = row
    return SlackUser(SlackUserId(uid), name or uid, real_name, display_name, email, bool(deleted),
                     bool(is_bot), bool(restricted), bool(ultra), image)


# -- Slack objects → records ---------------------------------------------------------------


def slack_user(raw: Json) -> SlackUser:
    profile = raw.get("profile") or {}
    return SlackUser(
        id=SlackUserId(raw["id"]),
        name=raw.get("name") or raw["id"],
        real_name=raw.get("real_name") or profile.get("real_name") or None,
        display_name=profile.get("display_name") or None,
        email=profile.get("email") or None,
        deleted=bool(raw.get("deleted")),
        # Slackbot is special-cased by Slack (is_bot false); app users act for an app (users.list: is_app_user).
        is_bot=bool(raw.get("is_bot") or raw.get("is_app_user") or raw["id"] == SLACKBOT),
        is_restricted=bool(raw.get("is_restricted")),
        is_ultra_restricted=bool(raw.get("is_ultra_restricted")),
        image_72=profile.get("image_72") or None,
    )


def slack_channel(raw: Json) -> SlackChannel:
    return SlackChannel(
        id=SlackChannelId(raw["id"]),
        name=raw.get("name") or raw["id"],
        is_private=bool(raw.get("is_private") or raw.get("is_group")),
        is_archived=bool(raw.get("is_archived")),
        members=tuple(SlackUserId(m) for m in raw.get("members") or ()),
    )


def _directory(users: SlackUsers, channels: list[Json], fetched_at: str | None) -> SlackDirectory:
    raw_channels = {c["id"]: c for c in channels}
    return SlackDirectory(
        users=users, channels=[slack_channel(raw_channels[k]) for k in sorted(raw_channels)],
        fetched_at=fetched_at, raw_channels=raw_channels)


# -- reading -------------------------------------------------------------------------------


def slack_client(settings: Any) -> SlackClient:
    """The Slack client for `settings.slack` (base URL, bot token, timeout)."""
    return SlackClient(settings.slack)


class _Patient:
    """Admits the directory's reads through the scheduler, waiting out more 429s than a post
    would (a workspace read must finish), and turns what still fails into one clear error."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def call(self, method: str, channel: str | None, fn: Callable[[], Json]) -> Json:
        try:
            return self.scheduler.call(method, channel, fn, max_limited=MAX_RATE_LIMITED)
        except SlackRateLimited:
            raise TransientError(f"Slack {method}: still rate limited after {MAX_RATE_LIMITED} "
                                 "waits", hint="run again later") from None
        except SlackUnavailable as exc:
            raise TransientError(f"cannot read Slack {method} ({exc.code})",
                                 hint="check MIGRATE_SLACK_URL and the network, or run again "
                                 "later") from None
        except SlackRefused as exc:
            raise TransientError(f"Slack {method} answered {exc.code}") from None


def _pages(client: SlackClient, scheduler: Scheduler, method: str, key: str,
           args: Json) -> Iterator[Json]:
    def fetch(cursor: str) -> Json:
        return client.call(method, {**args, "limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})})
    return SlackCursor(_Patient(scheduler), method, fetch).items(key)


def read_directory(client: SlackClient, scheduler: Scheduler,
                   store: Store | None = None) -> SlackDirectory:
    """Every user and channel of the workspace (read-only), paced and 429-aware through the
    scheduler, like every other Slack call. With a `store`, the users go into its snapshot
    page by page as they are read (replacing the old one only once all are read) and are
    looked up there; without one, they are kept in memory."""
    fetched_at = utcnow()
    channels = list(_pages(client, scheduler, "conversations.list", "channels",
                           {"types": "public_channel,private_channel", "exclude_archived": False}))
    users = _pages(client, scheduler, "users.list", "members", {})
    if store is None:
        return _directory(SlackUsersInMemory(slack_user(raw) for raw in users), channels,
                          fetched_at)
    slack_directory.replace_directory(
        store, ((slack_user(raw), slack_directory.compact_json(raw)) for raw in users),
        [(slack_channel(raw), raw) for raw in channels], fetched_at)
    return _directory(StoredSlackUsers(store), channels, fetched_at)


# -- the store -----------------------------------------------------------------------------


def save_directory(store: Store, directory: SlackDirectory) -> None:
    """Replace the stored snapshot with a directory held in memory (one `read_directory`
    read into a store is there already); its users are then looked up in the store."""
    if isinstance(directory.users, StoredSlackUsers) and directory.users.store is store:
        return
    now = directory.fetched_at or utcnow()
    slack_directory.replace_directory(
        store, [(user, _user_json(user)) for user in directory.users],
        [(channel, directory.raw_channels.get(channel.id) or _channel_json(channel))
         for channel in directory.channels], now)
    directory.users = StoredSlackUsers(store)


def remember_channel(store: Store, raw: Json) -> None:
    """Add a channel the import just created to the stored snapshot, so the reports and
    `migrate verify` name it without reading the whole workspace again."""
    slack_directory.save_channel(store, slack_channel(raw), raw)


def load_directory(store: Store) -> SlackDirectory | None:
    """The stored snapshot, or None when no directory was ever saved."""
    channels = slack_directory.raw_channels(store)
    if not channels and not slack_directory.has_users(store):
        return None
    return _directory(StoredSlackUsers(store), channels,
                      slack_directory.snapshot_fetched_at(store))


def _user_json(user: SlackUser) -> Json:
    """A users.list-shaped object for a record built without one (tests, synthetic data)."""
    profile = {k: v for k, v in (("real_name", user.real_name), ("display_name", user.display_name),
                                 ("email", user.email), ("image_72", user.image_72)) if v}
    return {"id": user.id, "name": user.name, "real_name": user.real_name, "deleted": user.deleted,
            "is_bot": user.is_bot, "is_restricted": user.is_restricted,
            "is_ultra_restricted": user.is_ultra_restricted, "profile": profile}


def _channel_json(channel: SlackChannel) -> Json:
    return {"id": channel.id, "name": channel.name, "is_private": channel.is_private,
            "is_archived": channel.is_archived, "members": list(channel.members)}
