"""Export a Teams tenant through Microsoft Graph into the state store.

Order: users and the teams listing (with the groups delta, directory.py) → per team,
concurrently: its messages and, where needed, its details (team, members, channels, members of
private/shared channels) in $batch → inline images and files. Raw objects are stored as read.
A team or channel that vanishes mid-export (404) is a warning; a missing permission (403)
stops the export with the permission's name (exit 3).

Which teams' details are read: on a full pass (the first export, then every
`export.full_directory_hours`, or when Graph refuses the saved groups delta link) and in
per-channel mode (it reads messages channel by channel), every team's. Otherwise only teams
that are new (never read completely), changed in `/groups/delta` (name, description,
visibility, members, owners), renamed in the `GET /teams` listing, or that had messages new or
updated in this export's window — read after their message stream, since only it tells. The
rest keep what the store has: a no-change sync reads the listing, two delta rounds and one
getAllMessages window per team. What only a full pass sees: a channel created, renamed or
re-described, or a private channel's membership changed, in a team with no message activity
since (any message in the team makes the export read it all again, so no message is planned
against stale channels or memberships).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from migrate.config import Settings
from migrate.errors import MigrateError, PermissionMissing
from migrate.export.arenas import cap_malloc_arenas
from migrate.export.chats import BATCHES_IN_FLIGHT, ChatReader, PeopleBatches, people_in_scope
from migrate.export.client import GraphClient
from migrate.export.directory import USER_FIELDS, DirectoryReader, DirectoryResult
from migrate.export.errors import GraphNotFound, GraphRequestError, GraphUnavailable
from migrate.export.files import download_pending
from migrate.export.jobs import run_jobs, share_out
from migrate.export.messages import PREFER_ALL_ENUMS, MessageReader, iso
from migrate.export.scope import team_in_scope
from migrate.export.shared_channels import SharedChannels
from migrate.export.summary import ExportProgress, ExportSummary, directory_mode
from migrate.export.team_history import StreamQueue, TeamHistory, streams_per_team
from migrate.store import Store, teams_files
from migrate.store import teams_objects as teams_store
from migrate.store.db import utcnow
from migrate.store.writer import StoreWriter

Json = dict[str, Any]
__all__ = ["USER_FIELDS", "ExportProgress", "ExportSummary", "TeamsExporter"]
# Teams whose message streams are read at once (the CLI's --graph-workers). getAllMessages is
# served at 200 requests/s per app and tenant, and at most 4/s on one team (Teams service
# limits, https://learn.microsoft.com/graph/throttling-limits): 50 streams at
# their full rate fill the tenant's, and 64 still do while a page takes under ~0.3 s. A fixed
# number of threads, not one per team: each costs memory (its connection, its allocator's
# caches) whatever pages it holds.
TEAMS_IN_FLIGHT = 64
# Teams whose details (the team, its members, channels) are read at once in getAllMessages mode.
# A team's members come whole (up to 999 a page, all kept until they replace the stored ones):
# reading every team's at once measured +10 MB at 50 teams. Graph caps these reads per app and
# tenant at 30 requests/s (GET team) and 60 (members, channels) (same page): 8 workers, a $batch
# per ~0.25 s round trip each, already ask for the 30 teams/s that allows.
DETAILS_IN_FLIGHT = 8
# A team's members, 999 a page (the most; the default is 100): `$top` is documented today
# (https://learn.microsoft.com/graph/api/team-list-members), but older versions of that page
# named only $filter and $select, so a refusal of it is answered by reading the default pages.
TEAM_MEMBERS = "/teams/{}/members?$top=999"


class TeamsExporter:
    def __init__(self, client: GraphClient, store: Store, settings: Settings, *,
                 run_id: int | None = None, progress: ExportProgress | None = None,
                 workers: int = TEAMS_IN_FLIGHT,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 on_structure: Callable[[], None] = lambda: None,
                 on_team: Callable[[str], None] = lambda team_id: None):
        self.client = client
        self.store = store
        self.settings = settings
        self.options = settings.export
        self.run_id = run_id
        self.progress = progress or ExportProgress()
        self.progress.attach(client.stats)
        self.workers = workers
        self.now = now
        self._lock = threading.Lock()
        self._vanished_teams: set[str] = set()
        self._shared = SharedChannels(client, store, run_id)
        self._directory: DirectoryReader | None = None
        self._listing: Json | MigrateError | None = None   # GET /teams's first page, if read
        self._reread: set[str] = set()        # teams whose details this export reads up front
        self._active: set[str] = set()        # teams with messages new or updated in this export
        self.batched_calls = 0
        self.summary = ExportSummary(method=self.options.method, incremental=False)
        # For a run that posts while it exports (stages.run_while_exporting): `on_structure`
        # once the people and every team's details are stored, `on_team(id)` once a team's
        # messages are committed and their files downloaded. Early only on a full read in
        # getAllMessages mode (where every team's details are read up front); otherwise both
        # come at the end.
        self.on_structure, self.on_team = on_structure, on_team
        self._early = False
        self._parts: dict[str, set[str]] = {}
        self._details_left = 0
        self._writer: StoreWriter | None = None
        self._team_files: Counter[str] = Counter()   # downloads done team by team

    # -- helpers -------------------------------------------------------------------------

    def _warn(self, kind: str, message: str, subject: str | None = None) -> None:
        self.store.add_warning("export", kind, message, subject=subject, run_id=self.run_id)

    def _add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self.summary, name, getattr(self.summary, name) + delta)

    def _on_messages(self, new: int, updated: int) -> None:
        self._add(messages_new=new, messages_updated=updated)
        self.progress.messages(new, updated)

    def _on_team_messages(self, team_id: str, new: int, updated: int) -> None:
        """A page of one team stored (on the writer thread, in the transaction that stores
        it): activity makes its details stale, committed with the messages themselves, so an
        export killed before reading them leaves the team marked for the next one."""
        self._on_messages(new, updated)
        if not (new or updated):
            return
        with self._lock:
            first = team_id not in self._active
            self._active.add(team_id)
        if first and team_id not in self._reread and self._directory is not None:
            self._directory.mark_stale({team_id})

    def _batch_get(self, calls: list[Json], *, admit: Callable[[], None] | None = None
                   ) -> list[Json | MigrateError]:
        """`client.batch_get`, counting the calls a $batch carries (for `graph_calls`)."""
        with self._lock:
            self.batched_calls += len(calls)
        return self.client.batch_get(calls, admit=admit)

    # -- stages --------------------------------------------------------------------------

    def list_teams(self) -> list[Json]:
        """Every team in scope, by id (the listing's first page came in the opening $batch).
        `GET /teams` is the source of truth: the groups filter on resourceProvisioningOptions
        misses older teams (https://learn.microsoft.com/graph/api/teams-list; known issue
        13633). It carries only id, displayName and description; the rest comes from each
        team's `GET /teams/{id}`. Each listed team is recorded at once (a team whose details
        cannot be read stays in the inventory, and `verify` reports it); one listed under a new
        name is marked for a re-read first."""
        first, self._listing = self._listing, None
        if isinstance(first, MigrateError):
            raise first
        teams = list(self.client.follow(first) if first is not None
                     else self.client.iter_items("/teams"))
        chosen = [t for t in teams if team_in_scope(t["id"], t.get("displayName") or "",
                                                    self.options.include_teams,
                                                    self.options.exclude_teams)
                  and self.settings.owns_team(t["id"], t.get("displayName") or "")]
        self._add(teams_out_of_scope=len(teams) - len(chosen))
        stored = teams_store.team_names_by_id(self.store)
        renamed = {t["id"] for t in chosen
                   if t["id"] in stored and stored[t["id"]] != t.get("displayName")}
        if self._directory is not None:
            self._directory.mark_stale(renamed)
        for team in chosen:
            teams_store.record_listed_team(self.store, team)
        return sorted(chosen, key=lambda t: t["id"])

    def _vanished(self, group: Json, what: str) -> None:
        with self._lock:  # its message stream and its small reads may both notice: say it once
            if group["id"] in self._vanished_teams:
                return
            self._vanished_teams.add(group["id"])
        self._warn("team_vanished", f"team {group.get('displayName')!r} disappeared while {what}",
                   subject=group["id"])

    def _unreadable(self, group: Json, what: str, exc: Exception) -> None:
        """A team Graph would not give us (a refusal, or failures past every retry): a
        warning with the reason, counted in the summary — never a silent absence. The team
        stays in the inventory, so `verify` reports it until a later export reads it."""
        with self._lock:
            first = group["id"] not in self._vanished_teams
            self._vanished_teams.add(group["id"])
        if first:
            self._add(teams_unreadable=1)
        self._warn("team_unreadable", f"team {group.get('displayName')!r}: {what} could not be "
                   f"read: {exc}", subject=group["id"])

    def export_team_messages(self, group: Json, reader: MessageReader, streams: StreamQueue
                             ) -> None:
        """getAllMessages mode: the team's history (the long part of the export), its parts
        read by the stream workers beside other teams'."""
        team_id = group["id"]
        history = TeamHistory(
            reader, team_id, spawn=lambda job: streams.add(team_id, job, first=True),
            finished=lambda error: self._team_messages_read(group, error, reader))
        history.start()

    def _team_messages_read(self, group: Json, error: Exception | None,
                            reader: MessageReader) -> None:
        if isinstance(error, GraphRequestError | GraphNotFound):
            # getAllMessages refused (or not there): the team read channel by channel instead.
            try:
                reader.read_team_by_channel(group["id"])
            except (GraphRequestError, GraphNotFound, GraphUnavailable) as exc:
                error = exc
            else:
                self._warn("all_messages_refused", f"team {group.get('displayName')!r}: "
                           f"getAllMessages failed ({error}); read channel by channel",
                           subject=group["id"])
                error = None
        if isinstance(error, GraphNotFound):
            self._vanished(group, "its messages were read")
        elif error is not None:
            self._unreadable(group, "its messages", error)
        if group["id"] not in self._reread:  # its details are not read up front: it is done
            self.progress.team_done(group.get("displayName") or group["id"])
        if self._early and self._writer is not None:
            self._writer.wait_written()       # its pages committed: the plan reads them
            self._part_done(group["id"], "messages")

    def export_team(self, group: Json, reader: MessageReader, announce: bool = True) -> None:
        """A team's details, members and channels (and, per-channel mode, its messages).
        In getAllMessages mode this runs beside the message stream, so the tenant-wide
        limits of these small reads are spent while the messages flow, not after them."""
        team_id = group["id"]
        try:
            # Three small reads in one $batch round trip (each still counts against the limits).
            team, member_page, channel_page = self._batch_get([
                {"url": f"/teams/{team_id}"},  # isArchived is only here
                {"url": TEAM_MEMBERS.format(team_id)},
                {"url": f"/teams/{team_id}/channels", "headers": PREFER_ALL_ENUMS}])
            for answer in (team, member_page, channel_page):
                if isinstance(answer, PermissionMissing):   # a setting to fix: stop, name it
                    raise answer
            for answer in (team, channel_page):
                if isinstance(answer, Exception):
                    raise answer
            teams_store.upsert_team(self.store, team)
            channels = list(self.client.follow(channel_page, headers=PREFER_ALL_ENUMS))
        except GraphNotFound:
            self._vanished(group, "it was being exported")
            return
        except (GraphRequestError, GraphUnavailable) as exc:
            self._unreadable(group, "its details or channels", exc)
            return
        # Its members apart: a refusal there leaves its channels and messages to migrate (with
        # the members stored before), and the team unmarked, so the next export reads them.
        members_read = self._read_team_members(group, member_page)
        self.progress.channels_found(len(channels))
        for channel in channels:
            teams_store.upsert_channel(self.store, team_id, channel)
            try:
                if channel.get("membershipType") in ("private", "shared", "unknownFutureValue"):
                    members = list(self.client.iter_items(
                        f"/teams/{team_id}/channels/{channel['id']}/members?$top=999"))
                    self._add(channel_members=teams_store.replace_channel_members(
                        self.store, channel["id"], members))
                if self.options.method == "per-channel" or self._shared.read_apart(
                        channel.get("membershipType")):
                    reader.read_channel(team_id, channel["id"])
            except GraphNotFound:
                self._warn("channel_vanished", f"channel {channel.get('displayName')!r} of "
                           f"{group.get('displayName')!r} disappeared during the export",
                           subject=channel["id"])
            except (GraphRequestError, GraphUnavailable) as exc:   # the team's other channels go on
                self._unreadable(group, f"channel {channel.get('displayName')!r}", exc)
                members_read = False          # read the team again next time
        self._add(channels=len(channels), teams_reread=1)
        if self._directory is not None and members_read:
            self._directory.mark_read(team_id)
        if announce:
            self.progress.team_done(group.get("displayName") or team_id)

    def _read_team_members(self, group: Json, first_page: Json | Exception) -> bool:
        """The team's members stored in place of the old ones; False (a warning, counted as
        unreadable) when Graph would not give them. The team itself has just answered, so a
        404 here is no vanished team: like a 400, it is taken as `$top` refused."""
        try:
            if isinstance(first_page, GraphRequestError | GraphNotFound):   # the default pages
                members = list(self.client.iter_items(f"/teams/{group['id']}/members"))
            elif isinstance(first_page, Exception):
                raise first_page
            else:
                members = list(self.client.follow(first_page))
        except (GraphRequestError, GraphNotFound, GraphUnavailable) as exc:
            self._unreadable(group, "its members", exc)
            return False
        self._add(team_members=teams_store.replace_team_members(self.store, group["id"], members))
        return True

    def _export_details(self, group: Json, reader: MessageReader) -> None:
        """A team's details (export_team), then, when a run posts while it exports, the
        signals: the tenant's structure once every team's are in, the team once its
        messages are in too."""
        try:
            self.export_team(group, reader)
        finally:
            if self._early:
                with self._lock:
                    self._details_left -= 1
                    last = self._details_left == 0
                if last:
                    self.on_structure()
                self._part_done(group["id"], "details")

    def _part_done(self, team_id: str, part: str) -> None:
        with self._lock:
            parts = self._parts.setdefault(team_id, set())
            parts.add(part)
            complete = parts == {"messages", "details"}
        if complete:
            got = self._download(team_id)
            with self._lock:
                self._team_files.update(got)
            self.on_team(team_id)

    def _download(self, team_id: str | None = None) -> dict[str, int]:
        """The pending files (of one team's channels, or all)."""
        channels = None if team_id is None else teams_store.channel_ids_of_team(self.store, team_id)
        return download_pending(
            self.client, self.store, self.settings.workdir_path / "files",
            max_bytes=int(self.options.max_file_mb * 1024 * 1024), workers=min(self.workers, 16),
            run_id=self.run_id, on_file=self.progress.file_done, channels=channels)

    def _export_active_team(self, group: Json, reader: MessageReader) -> None:
        if group["id"] not in self._vanished_teams:
            self.export_team(group, reader, announce=False)

    # -- the whole export ----------------------------------------------------------------

    def _reader(self, team_id: str | None, writer: StoreWriter | None, window_end: str) -> MessageReader:
        """A team's own reader, so its stored pages are known to be its own (activity); the
        chats' reader (team_id None) only counts what it stores."""
        on_messages = self._on_messages if team_id is None else (
            lambda new, updated: self._on_team_messages(team_id, new, updated))
        return MessageReader(self.client, self.store, run_id=self.run_id, window_end=window_end,
                             writer=writer, overlap=dt.timedelta(hours=self.options.overlap_hours),
                             since=self.options.since or None, on_messages=on_messages)

    def _open_directory(self) -> tuple[list[Json], DirectoryResult]:
        """Users, the teams listing and the groups delta: the first calls in one $batch."""
        directory = self._directory = DirectoryReader(
            self.client, self.store, now=self.now, run_id=self.run_id,
            full_after=dt.timedelta(hours=self.options.full_directory_hours),
            track_groups=self.options.method != "per-channel")
        first = directory.first_requests()
        # A Graph that never answers fails here, at once, as unreachable (the client's rule).
        answers = self._batch_get([*first, {"url": "/teams"}])
        result = directory.read_users(answers[0])
        self._add(users=result.users)
        self._listing = answers[-1]
        teams = self.list_teams()
        directory.read_groups(answers[1] if len(first) > 1 else None, {t["id"] for t in teams})
        return teams, result

    def _shared_channels_apart(self, team_ids: set[str], window_end: str) -> None:
        """getAllMessages mode: where it leaves shared channels out (shared_channels.py), their
        history, read channel by channel."""
        if self.options.method == "per-channel" or not self._shared.found_apart(team_ids):
            return
        self._warn("shared_channels_apart", "getAllMessages gave no message of a shared channel "
                   "that has some: shared channels are read channel by channel from now on")
        names = teams_store.team_names_by_id(self.store)
        for team_id, channel_id in self._shared.channels(team_ids):
            try:
                self._reader(team_id, None, window_end).read_channel(team_id, channel_id)
            except (GraphRequestError, GraphUnavailable) as exc:
                self._unreadable({"id": team_id, "displayName": names.get(team_id)},
                                 "a shared channel", exc)
            except GraphNotFound:
                continue

    def _teams_to_read(self, teams: list[Json], result: DirectoryResult) -> set[str]:
        ids = {t["id"] for t in teams}
        if self.options.method == "per-channel" or result.teams_full or self._directory is None:
            return ids
        # New, changed, renamed, or left stale — and, where getAllMessages leaves shared channels
        # out, those with one (their history is read with their details: shared_channels.py).
        return ids - (self._directory.read_teams() - self._shared.teams())

    _run_jobs = staticmethod(run_jobs)   # an attribute, so a test can count the threads

    def _chat_reader(self, writer: StoreWriter, window_end: str) -> ChatReader | None:
        if not self.options.chats:
            return None
        return ChatReader(self.client, self.store, self._reader(None, writer, window_end), since=self.options.chats_since or None,
                          warn=lambda kind, message, subject: self._warn(kind, message, subject),
                          batch_get=self._batch_get)

    def _people(self) -> Iterator[str]:
        """Whose chat streams this export reads, each counted as it is handed out."""
        for person in people_in_scope(self.store, self.settings.owns_person):
            self._add(chat_readers=1)
            yield person

    def run(self) -> ExportSummary:
        started = time.monotonic()
        cap_malloc_arenas()     # before the reader threads start (arenas.py)
        window_end = iso(self.now())
        self.summary.incremental = self.store.has_completed_checkpoint("messages:")
        teams, directory = self._open_directory()
        self._reread = self._teams_to_read(teams, directory)
        self.summary.directory = directory_mode(directory)
        self.progress.teams_found(len(teams))
        started_at = utcnow()
        ids = {t["id"] for t in teams}
        self._early = (self.options.method != "per-channel" and bool(ids)
                       and self._reread == ids)
        self._details_left = len(ids)
        with StoreWriter(self.store) as writer:
            self._writer = writer
            readers = {t["id"]: self._reader(t["id"], writer, window_end) for t in teams}
            chats = self._chat_reader(writer, window_end)
            reread = [t for t in teams if t["id"] in self._reread]
            if self.options.method == "per-channel":   # the details carry the messages
                jobs = share_out(reread, lambda t: self.export_team(t, readers[t["id"]]),
                                 self.workers)
            else:
                # The message streams on `workers` threads (a team's parts beside other
                # teams'), and beside them a few workers for the small reads (DETAILS_IN_FLIGHT).
                streams = StreamQueue(lambda team_id: streams_per_team(self.client))
                for team in teams:
                    streams.add(team["id"], partial(self.export_team_messages, team,
                                                    readers[team["id"]], streams))
                jobs = [streams.work] * (self.workers if teams else 0)
                jobs += share_out(reread, lambda t: self._export_details(t, readers[t["id"]]),
                                  DETAILS_IN_FLIGHT)
            if chats:
                batches = PeopleBatches(self._people())
                jobs += [partial(chats.read_all, batches) for _ in range(BATCHES_IN_FLIGHT)]
            self._run_jobs(jobs)
        # Teams whose messages changed: their details now (the writer has stored every page).
        self._run_jobs(share_out(
            [t for t in teams if t["id"] in self._active and t["id"] not in self._reread],
            lambda t: self._export_active_team(t, readers[t["id"]]), DETAILS_IN_FLIGHT))
        self._shared_channels_apart(ids, window_end)
        if chats is not None:
            self._add(chats_read=chats.finish(started_at))
        self.summary.teams = len(teams) - len(self._vanished_teams & {t["id"] for t in teams})
        if self._directory is not None:
            self._directory.finish()
        self._writer = None
        pending = teams_files.count_pending_files(self.store)
        self.progress.files_found(pending)
        downloaded = self._download()
        self.summary.files = {k: downloaded.get(k, 0) + self._team_files.get(k, 0)
                              for k in {*downloaded, *self._team_files}}
        if not self._early:
            self.on_structure()       # the teams are planned after the export
        stats = self.client.stats
        self.summary.requests = stats.requests
        self.summary.graph_calls = (stats.requests - stats.by_kind.get("batch", 0)
                                    + self.batched_calls)
        self.summary.throttled = stats.throttled
        self.summary.throttle_wait_s = stats.throttle_wait
        self.summary.pacing_wait_s = self.client.pacer.waited
        self.summary.warnings = self.store.warning_counts_of_run("export", self.run_id)
        self.summary.found = teams_store.inventory(self.store)
        self.summary.seconds = time.monotonic() - started
        return self.summary

