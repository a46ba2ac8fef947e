"""Reading 1:1, group and meeting chats into the store, resumably and incrementally.

Graph's export API for chats is per person: `GET /users/{id}/chats/getAllMessages` returns
every message of every chat the person is a member of (app-only, Chat.Read.All;
https://learn.microsoft.com/graph/api/chats-getallmessages). Each member's stream therefore
repeats a chat's messages once per member; the store keys messages by (chat, id) and keeps the
newest copy, so every message lands once whatever the overlap.

Why every member's stream is read unfiltered, although Graph can filter on the sender
(`from/user/id eq '…'`): a sender filter returns only what a current member wrote, and loses
what no one we read wrote — a member who left the chat (they no longer see it), an account
since deleted, a guest or external person, an app, and every system event. A chat's whole
history is only certain from a stream that is not filtered by sender.

Each person's stream is read in `lastModifiedDateTime` windows with its own checkpoint, like a
team's channel messages (messages.py): a killed export resumes at the first page not stored,
and a later export reads only what changed. The chat objects (type, topic) and their current
members come from `GET /chats/{id}` and `/chats/{id}/members`, read for chats that are new or
had activity (a member added or removed is itself a message, so membership changes show).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from migrate.errors import MigrateError, PermissionMissing
from migrate.export.client import GraphClient
from migrate.export.errors import GraphNotFound, GraphRequestError, GraphUnavailable
from migrate.export.messages import PREFER_ALL_ENUMS, MessageReader, RemainingPages
from migrate.store import Store
from migrate.store import teams_chats as chats_store
from migrate.store import teams_objects as teams_store
from migrate.store.teams_objects import CHAT_TEAM
from migrate.store.writer import Hand

Json = dict[str, Any]
PERMISSION = "Chat.Read.All"
PEOPLE_PER_BATCH = 20        # $batch takes at most 20 requests
# Batches of people read at once, by as many workers (one job per 20 people had a thread per
# job: +70 MB at 17,000 people). A batch's first pages count against the writer's page budget
# (store/writer.py) until stored. 16 × 20 streams still keep Graph's 200 requests/s for
# getAllMessages busy.
BATCHES_IN_FLIGHT = 16
DETAILS_PER_BATCH = 10       # two calls each: $batch takes at most 20 requests


def _scope(user_id: str) -> str:
    return f"messages:chats:{user_id}"


class PeopleBatches:
    """The people whose streams are read, handed to the workers 20 at a time as they ask (a
    job per batch held a future and a list per 20 people: 1,700 of them at 33,000 people)."""

    def __init__(self, people: Iterator[str]) -> None:
        self._people = people
        self._lock = threading.Lock()

    def next(self) -> list[str]:
        with self._lock:
            return list(itertools.islice(self._people, PEOPLE_PER_BATCH))


class ChatReader:
    def __init__(self, client: GraphClient, store: Store, reader: MessageReader, *,
                 since: str | None, warn: Callable[[str, str, str | None], None],
                 batch_get: Callable[..., list[Json | MigrateError]] | None = None
                 ) -> None:
        self.client = client
        self.batch_get = batch_get or client.batch_get   # the exporter's counts its calls
        self.store = store
        self.reader = reader
        self.since = since
        self.warn = warn
        self.refused: PermissionMissing | None = None   # Chat.Read.All not granted
        self.in_flight = threading.BoundedSemaphore(BATCHES_IN_FLIGHT)

    def _start(self, user_id: str) -> tuple[str, str, str | None, bool]:
        """(url, window end, watermark, resuming) of one person's stream."""
        checkpoint = self.store.checkpoint(_scope(user_id))
        watermark = checkpoint["watermark"] if checkpoint else None
        if checkpoint and checkpoint["status"] == "in_progress" and checkpoint["next_link"]:
            return checkpoint["next_link"], checkpoint["window_end"], watermark, True
        window_end = self.reader.window_end
        start = self.reader.window_start(watermark, since=self.since)
        return (f"/users/{user_id}/chats/getAllMessages?$top=50&$filter="
                f"lastModifiedDateTime gt {start} and lastModifiedDateTime lt {window_end}",
                window_end, watermark, False)

    def read_all(self, batches: PeopleBatches) -> None:
        """One worker: batch after batch until none is left (after a refusal the batches are
        still taken, so every person in scope is counted)."""
        while batch := batches.next():
            self.read_people(batch)

    def read_people(self, user_ids: list[str]) -> None:
        """Up to 20 people's streams: the first page of each fresh window in one $batch (a
        no-change sync of a large tenant is then one round trip per 20 people, not per
        person — Graph still counts each call), then the rest of each stream page by page."""
        if self.refused is not None:
            return
        with self.in_flight:
            self._read_people(user_ids)

    def _read_people(self, user_ids: list[str]) -> None:
        starts = {u: self._start(u) for u in user_ids}
        fresh = [u for u in user_ids if not starts[u][3]]
        estimates = {u: RemainingPages(starts[u][1]) for u in user_ids}
        going_on: dict[str, str] = {}      # whose stream has more pages, from which link
        with self.reader.hand() as hand:
            firsts: dict[str, Json | MigrateError] = {}
            if fresh:
                # systemEventMessage is an evolvable enum member: without the Prefer header
                # Graph says unknownFutureValue (as for channel messages, messages.py).
                answers = self.batch_get([{"url": starts[u][0], "headers": PREFER_ALL_ENUMS}
                                          for u in fresh], admit=lambda: hand.take(len(fresh)))
                firsts = dict(zip(fresh, answers, strict=True))
            # Every first page goes to the writer before any stream goes on: one left waiting
            # for the streams before it would hold its memory and its place in the page budget.
            for user_id in user_ids:
                first = firsts.pop(user_id, None)
                if first is None:                  # resuming: on from the checkpoint's link
                    going_on[user_id] = starts[user_id][0]
                    continue
                if isinstance(first, GraphRequestError) and "&$filter=" in starts[user_id][0]:
                    # The window's filter refused: the person's whole stream (stored by id).
                    going_on[user_id] = starts[user_id][0].split("&$filter=")[0]
                    continue
                with self._guard(user_id, starts[user_id][2]):
                    if isinstance(first, MigrateError):
                        raise first
                    next_link = first.get("@odata.nextLink")
                    self._store(user_id, starts[user_id], estimates[user_id],
                                first.get("value", []), next_link, hand)
                    if next_link:
                        going_on[user_id] = next_link
        for user_id, url in going_on.items():
            estimate = estimates[user_id]
            with self._guard(user_id, starts[user_id][2]), self.reader.hand() as hand:
                for items, next_link in self.client.iter_pages(
                        url, headers=PREFER_ALL_ENUMS, priority=estimate.pages_left,
                        admit=hand.take):
                    self._store(user_id, starts[user_id], estimate, items, next_link, hand)

    def _store(self, user_id: str, start: tuple[str, str, str | None, bool],
               estimate: RemainingPages, items: list[Json], next_link: str | None,
               hand: Hand) -> None:
        """A page of one person's stream, with the checkpoint naming the next."""
        _url, window_end, watermark, _resuming = start
        estimate.saw(items)
        done = next_link is None
        self.reader.store_page(CHAT_TEAM, _scope(user_id), items, next_link,
                               window_end if done else watermark, None if done else window_end,
                               hand)

    @contextlib.contextmanager
    def _guard(self, user_id: str, watermark: str | None) -> Iterator[None]:
        """One person's stream failing is a warning about them (a refusal stops the rest); a
        link Graph refused is forgotten, so the next export reads their window afresh."""
        try:
            yield
        except PermissionMissing as exc:
            self.refused = exc
        except GraphNotFound:
            self.warn("chat_reader_vanished", f"user {user_id} disappeared before their chats "
                      "were read", user_id)
        except (GraphRequestError, GraphUnavailable) as exc:
            if isinstance(exc, GraphRequestError):
                self.reader.restart_stream(_scope(user_id), watermark)
            self.warn("chats_unreadable", f"the chats of user {user_id} could not be read: {exc}",
                      user_id)

    def read_details(self, chat_ids: list[str]) -> int:
        """Type, topic and current members of these chats, two calls per chat in $batch."""
        read = 0
        for start in range(0, len(chat_ids), DETAILS_PER_BATCH):
            chunk = chat_ids[start:start + DETAILS_PER_BATCH]
            calls = [call for chat_id in chunk for call in (
                {"url": f"/chats/{chat_id}"}, {"url": f"/chats/{chat_id}/members"})]
            answers = self.batch_get(calls)
            for n, chat_id in enumerate(chunk):
                chat, members = answers[2 * n], answers[2 * n + 1]
                if isinstance(chat, MigrateError) or isinstance(members, MigrateError):
                    problem = chat if isinstance(chat, MigrateError) else members
                    if isinstance(problem, PermissionMissing):
                        raise problem
                    self.warn("chat_unreadable", f"chat {chat_id}: its details or members "
                              f"could not be read: {problem}", chat_id)
                    continue
                chats_store.upsert_chat(self.store, chat)
                chats_store.replace_chat_members(self.store, chat_id,
                                                 list(self.client.follow(members)))
                read += 1
        return read

    def finish(self, started_at: str) -> int:
        """After the streams: the refusal said once, then the details (type, topic, members) of
        new chats and of chats with activity since `started_at`; how many were read."""
        self.refusal_warning()
        if self.refused is not None:
            return 0
        wanted = sorted(set(chats_store.chats_without_details(self.store))
                        | set(chats_store.chats_changed_since(self.store, started_at)))
        return self.read_details(wanted)

    def refusal_warning(self) -> None:
        if self.refused is not None:
            self.warn("chats_not_read", f"chats were not exported: the app lacks {PERMISSION} "
                      f"({self.refused}); grant it with admin consent, or set export.chats = "
                      "false to leave chats out", None)


def people_in_scope(store: Store, owns: Callable[[str], bool]) -> Iterator[str]:
    """Whose chat streams an export reads (the tenant's members this shard owns), from the
    store a thousand at a time: 350,000 ids need not be in memory at once."""
    after = ""
    while ids := teams_store.member_user_ids(store, after, limit=1000):
        after = ids[-1]
        yield from (person for person in ids if owns(person))
