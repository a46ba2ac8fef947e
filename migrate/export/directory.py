"""The directory side of an export: users, and which teams changed, through Graph's delta queries
(https://learn.microsoft.com/graph/delta-query-overview, /graph/api/user-delta,
/graph/api/group-delta), so that a sync reads what changed rather than the directory.

* **Users.** The first export reads every user through `GET /users/delta?$select=…` (delta takes
  no `$top`) and keeps the final deltaLink (checkpoint `delta:users`); each page is stored with
  the link to the next, so a killed read resumes where it stopped. Later exports call the
  deltaLink: changed users are upserted; a removed user (`@removed`) stays in the store, since
  they still author history.
* **Teams.** Before any team is read, a `GET /groups/delta?$select=…,members,owners&$deltatoken=
  latest` link is taken (checkpoint `delta:groups`: one request, no data — a full groups delta
  read would list every group of the tenant, and the teams' details come from the Teams API
  anyway). Every change after that moment shows in the next round: a group (= team: same id)
  whose name, description, visibility, members or owners changed. Those teams are marked for a
  re-read (checkpoint `details:team:<id>` in progress) in the transaction that stores the new
  link, so a killed export cannot lose them; a team's details read completely marks it done.
* **A full pass** (users read in full, every team's details read again) happens on the first
  export, when the last full pass is older than `export.full_directory_hours`, and for the part
  whose saved link Graph refuses (expired after 7 days: 400 `syncStateNotFound`; or 410 Gone,
  "synchronization reset") — a log warning, never a failure. Where Graph refuses even a fresh
  delta query, users are listed in full and every team's details read again, each export.

Where the calls start, the users and groups delta calls and the teams listing go in one `$batch`
round trip (https://learn.microsoft.com/graph/json-batching); each still counts against
Graph's limits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from migrate.errors import MigrateError
from migrate.export.client import GraphClient
from migrate.export.errors import GraphNotFound, GraphRequestError
from migrate.store import Store
from migrate.store import teams_objects as teams_store
from migrate.timestamps import parse_instant

log = logging.getLogger(__name__)
Json = dict[str, Any]

USER_FIELDS = ("id,displayName,givenName,surname,mail,userPrincipalName,otherMails,proxyAddresses,"
               "accountEnabled,userType,jobTitle,creationType,externalUserState,mailNickname")
# Group properties a team's name and membership come from; members/owners track membership
# (https://learn.microsoft.com/graph/api/group-delta: $select=members returns membership
# changes).
GROUP_FIELDS = "id,displayName,description,visibility,members,owners"
USERS_SCOPE = "delta:users"
GROUPS_SCOPE = "delta:groups"
DETAILS_PREFIX = "details:team:"
USERS_FULL = f"/users/delta?$select={USER_FIELDS}"
# Where Graph refuses the users delta (a cloud or tenant without it): the plain listing, 999 a
# page (https://learn.microsoft.com/graph/api/user-list).
USERS_LIST = f"/users?$select={USER_FIELDS}&$top=999"
GROUPS_LATEST = f"/groups/delta?$select={GROUP_FIELDS}&$deltatoken=latest"
# A saved link Graph will not take any more: expired (400 syncStateNotFound), reset (410 Gone).
REFUSED = (GraphRequestError, GraphNotFound)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class DirectoryResult:
    users: int = 0                 # users stored (read in full, or changed)
    users_removed: int = 0         # users Graph reports removed (kept in the store)
    users_full: bool = False
    teams_full: bool = False       # every team's details are read again in this export
    changed_teams: set[str] = field(default_factory=set)   # in scope, changed in /groups/delta
    fallbacks: list[str] = field(default_factory=list)     # parts whose saved link was refused


class DirectoryReader:
    def __init__(self, client: GraphClient, store: Store, *, full_after: dt.timedelta,
                 now: Callable[[], dt.datetime], run_id: int | None, track_groups: bool) -> None:
        self.client = client
        self.store = store
        self.full_after = full_after
        self.now = now
        self.run_id = run_id
        self.track_groups = track_groups
        self.started = _stamp(now())
        self.result = DirectoryResult()
        self._users = store.checkpoint(USERS_SCOPE)
        self._groups = store.checkpoint(GROUPS_SCOPE)
        self._users_url = self._resume_users()
        self._groups_url = self._resume_groups() if track_groups else None
        if not track_groups:   # per-channel exports read every team's channels to read messages
            self.result.teams_full = True

    # -- where each part starts ----------------------------------------------------------

    def _due(self, watermark: str | None) -> bool:
        """Is a full pass due: never done, or done longer ago than the setting says?"""
        last = parse_instant(watermark) if watermark else None
        return last is None or self.now() - last >= self.full_after

    def _resume_users(self) -> str:
        cp = self._users
        if cp and cp["status"] == "in_progress" and cp["next_link"]:
            self.result.users_full = cp["window_end"] is not None   # a full read under way
            return cp["next_link"]
        if cp and cp["next_link"] and not self._due(cp["watermark"]):
            return cp["next_link"]
        self.result.users_full = True
        return USERS_FULL

    def _resume_groups(self) -> str:
        cp = self._groups
        due = self._due(cp["watermark"] if cp else None)
        if cp and cp["status"] == "in_progress" and cp["next_link"]:
            self.result.teams_full = due
            return cp["next_link"]
        if cp and cp["next_link"] and not due:
            return cp["next_link"]
        self.result.teams_full = True
        return GROUPS_LATEST

    def first_requests(self) -> list[Json]:
        """The directory's first calls, for one $batch with the caller's own."""
        out = [{"url": self._relative(self._users_url)}]
        if self._groups_url:
            out.append({"url": self._relative(self._groups_url)})
        return out

    def _relative(self, url: str) -> str:
        base = self.client.base_url + "/"
        return "/" + url[len(base):] if url.startswith(base) else url

    # -- paging ----------------------------------------------------------------------------

    def _pages(self, first: Json | MigrateError, url: str) -> Iterator[tuple[Json, str]]:
        """(page, the URL it came from), the first from the batch, the rest by their nextLinks."""
        page = first
        while True:
            if isinstance(page, MigrateError):
                raise page
            yield page, url
            if not page.get("@odata.nextLink"):
                return
            url = page["@odata.nextLink"]
            page = self.client.get_json(url)

    def _without_delta(self, part: str, exc: MigrateError) -> None:
        """Graph refused even a fresh delta query (a tenant or cloud without it): this export
        reads the part without one — every user listed, every team's details read again."""
        log.warning("Graph refused the %s delta query (%s); reading them without it", part, exc)
        self.result.fallbacks.append(f"{part} (no delta)")

    def _refused(self, part: str, exc: MigrateError) -> None:
        log.warning("Graph refused the saved %s delta link (%s); reading them in full instead",
                    part, exc)
        self.result.fallbacks.append(part)

    # -- users ---------------------------------------------------------------------------

    def read_users(self, first: Json | MigrateError) -> DirectoryResult:
        try:
            self._read_users(first, self._users_url)
        except REFUSED as exc:
            self.result.users_full = True
            self._fall_back("users", self._users_url != USERS_FULL, exc,
                            lambda: self._read_users(self.client.get_json(USERS_FULL),
                                                     USERS_FULL),
                            self._list_users)
        return self.result

    def _fall_back(self, part: str, saved: bool, exc: MigrateError, fresh: Callable[[], None],
                   without: Callable[[], None]) -> None:
        """A delta link Graph refused: a `saved` one gives way to a `fresh` delta query; a
        fresh one refused too, to reading the part `without` delta."""
        if saved:
            self._refused(part, exc)
            try:
                fresh()
                return
            except REFUSED as again:
                exc = again
        self._without_delta(part, exc)
        without()

    def _list_users(self) -> None:
        """Every user from the plain listing: with $select and $top, or, where the service
        refuses those options, as it gives them."""
        try:
            first = self.client.get_json(USERS_LIST)
            url = USERS_LIST
        except GraphRequestError:
            first, url = self.client.get_json("/users"), "/users"
        for page, _url in self._pages(first, url):
            self.result.users += teams_store.upsert_users(self.store, page.get("value", []))

    def _read_users(self, first: Json | MigrateError, url: str) -> None:
        cp = self._users
        previous = cp["watermark"] if cp else None
        # A full read keeps its start in window_end while under way: the watermark it leaves.
        full_start = None
        if self.result.users_full:
            resumed = cp and cp["status"] == "in_progress" and url == cp["next_link"]
            full_start = cp["window_end"] if resumed else self.started
        for page, _url in self._pages(first, url):
            users = page.get("value", [])
            kept = [u for u in users if "@removed" not in u]
            nxt, delta = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
            with self.store.transaction():
                stored = teams_store.upsert_users(self.store, kept)
                if nxt or delta:
                    done = not nxt
                    self.store.save_checkpoint(
                        USERS_SCOPE, next_link=nxt or delta, run_id=self.run_id,
                        watermark=(full_start or previous) if done else previous,
                        window_end=None if done else full_start,
                        status="complete" if done else "in_progress")
            self.result.users += stored
            self.result.users_removed += len(users) - len(kept)

    # -- groups → teams to read again ------------------------------------------------------

    def read_groups(self, first: Json | MigrateError | None, team_ids: set[str]) -> DirectoryResult:
        """Follow the groups delta round; the teams among `team_ids` it names are marked for a
        re-read. Without groups tracking (per-channel exports read every team), nothing."""
        if self._groups_url is None or first is None:
            return self.result
        try:
            self._read_groups(first, self._groups_url, team_ids)
        except REFUSED as exc:
            self.result.teams_full = True      # without delta: every team's details again
            self._fall_back("groups", self._groups_url != GROUPS_LATEST, exc,
                            lambda: self._read_groups(self.client.get_json(GROUPS_LATEST),
                                                      GROUPS_LATEST, team_ids),
                            lambda: None)
        return self.result

    def _read_groups(self, first: Json | MigrateError, url: str, team_ids: set[str]) -> None:
        previous = self._groups["watermark"] if self._groups else None
        for page, _url in self._pages(first, url):
            changed = {g["id"] for g in page.get("value", []) if g.get("id") in team_ids}
            nxt, delta = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
            with self.store.transaction():
                if not self.result.teams_full:
                    self.mark_stale(changed - self.result.changed_teams)
                if nxt or delta:
                    self.store.save_checkpoint(
                        GROUPS_SCOPE, next_link=nxt or delta, watermark=previous,
                        status="in_progress" if nxt else "complete", run_id=self.run_id)
            self.result.changed_teams |= changed

    # -- per-team details checkpoints --------------------------------------------------------

    def read_teams(self) -> set[str]:
        """Teams whose details were read completely and not marked stale since."""
        return {scope[len(DETAILS_PREFIX):]
                for scope in self.store.completed_checkpoint_scopes(DETAILS_PREFIX)}

    def mark_stale(self, team_ids: set[str]) -> None:
        """These teams' stored details are out of date: read them again (now or next export)."""
        if not team_ids:
            return
        with self.store.transaction():
            for team_id in sorted(team_ids):
                self.store.save_checkpoint(DETAILS_PREFIX + team_id, next_link=None, watermark=None,
                                           status="in_progress", run_id=self.run_id)

    def mark_read(self, team_id: str) -> None:
        self.store.save_checkpoint(DETAILS_PREFIX + team_id, next_link=None,
                                   watermark=_stamp(self.now()), status="complete",
                                   run_id=self.run_id)

    def finish(self) -> None:
        """After an export that read every team's details: the full pass is done."""
        if self.result.teams_full and self._groups_url is not None:
            cp = self.store.checkpoint(GROUPS_SCOPE)
            if cp and cp["status"] == "complete":
                self.store.save_checkpoint(GROUPS_SCOPE, next_link=cp["next_link"],
                                           watermark=self.started, status="complete",
                                           run_id=self.run_id)
