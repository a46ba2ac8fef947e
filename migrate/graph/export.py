"""Export a Teams tenant through Microsoft Graph into the state store.

Order: users → teams (list, then details in $batch) → per team, concurrently: members,
channels, members of private/shared channels, messages → inline images and files. Raw objects
are stored as read. A team or channel that vanishes mid-export (404) is a warning; a missing
permission (403) stops the export with the permission's name (exit 3).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from migrate.config import Settings
from migrate.graph.client import GraphClient
from migrate.graph.errors import GraphNotFound, GraphRequestError, GraphUnavailable
from migrate.graph.export_files import download_pending
from migrate.graph.export_messages import PREFER_ALL_ENUMS, MessageReader, iso
from migrate.graph.scope import team_in_scope
from migrate.store import Store
from migrate.store import teams_objects as teams_store
from migrate.store.writer import StoreWriter

Json = dict[str, Any]

USER_FIELDS = ("id,displayName,givenName,surname,mail,userPrincipalName,otherMails,proxyAddresses,"
               "accountEnabled,userType,jobTitle,creationType,externalUserState,mailNickname")


@dataclass
class ExportSummary:
    method: str
    incremental: bool
    users: int = 0
    teams: int = 0
    teams_out_of_scope: int = 0
    teams_unreadable: int = 0
    channels: int = 0
    team_members: int = 0
    channel_members: int = 0
    messages_new: int = 0
    messages_updated: int = 0
    files: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)   # the whole source inventory in the store
    requests: int = 0
    throttled: int = 0
    throttle_wait_s: float = 0.0
    pacing_wait_s: float = 0.0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("throttle_wait_s", "pacing_wait_s", "seconds"):
            out[key] = round(out[key], 3)
        return out


class ExportProgress:
    """Callbacks the CLI turns into progress bars; the default does nothing."""

    def attach(self, stats: Any) -> None:
        """The client's live counters (requests, throttling), for display."""

    def teams_found(self, total: int) -> None: ...
    def team_done(self, name: str) -> None: ...
    def channels_found(self, count: int) -> None: ...
    def messages(self, new: int, updated: int) -> None: ...
    def files_found(self, total: int) -> None: ...
    def file_done(self, status: str, size: int) -> None: ...


class TeamsExporter:
    def __init__(self, client: GraphClient, store: Store, settings: Settings, *,
                 run_id: int | None = None, progress: ExportProgress | None = None,
                 workers: int = 64, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
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
        self.summary = ExportSummary(method=self.options.method, incremental=False)

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

    # -- stages --------------------------------------------------------------------------

    def export_users(self) -> None:
        for users, _next in self.client.iter_pages(f"/users?$select={USER_FIELDS}&$top=999"):
            self._add(users=teams_store.upsert_users(self.store, users))

    def list_teams(self) -> list[Json]:
        """Every team in scope, by id.

        `GET /teams` is the source of truth: the groups filter on resourceProvisioningOptions
        misses older teams whose group lacks "Team" (reference/graph.md §3.1, §12; known issue
        13633). The list carries only id, displayName and description (learn `teams-list`);
        createdDateTime and isArchived come from `GET /teams/{id}` in each team's $batch, so no
        group field is needed. Each listed team is recorded at once, so a team whose details
        cannot be read is still in the source inventory (and `verify` reports it)."""
        teams = list(self.client.iter_items("/teams"))
        chosen = [t for t in teams if team_in_scope(t["id"], t.get("displayName") or "",
                                                    self.options.include_teams,
                                                    self.options.exclude_teams)]
        self._add(teams_out_of_scope=len(teams) - len(chosen))
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

    def export_team_messages(self, group: Json, reader: MessageReader) -> None:
        """getAllMessages mode: the team's message stream (the long part of the export)."""
        try:
            reader.read_team(group["id"])
        except GraphNotFound:
            self._vanished(group, "its messages were read")
        except (GraphRequestError, GraphUnavailable) as exc:
            self._unreadable(group, "its messages", exc)

    def export_team(self, group: Json, reader: MessageReader) -> None:
        """A team's details, members and channels (and, per-channel mode, its messages).
        In getAllMessages mode this runs beside the message stream, so the tenant-wide
        limits of these small reads are spent while the messages flow, not after them."""
        team_id = group["id"]
        try:
            # Three small reads in one $batch round trip (each still counts against the limits).
            answers = self.client.batch_get([
                {"url": f"/teams/{team_id}"},  # isArchived is only here
                {"url": f"/teams/{team_id}/members?$top=999"},
                {"url": f"/teams/{team_id}/channels", "headers": PREFER_ALL_ENUMS}])
            for answer in answers:
                if isinstance(answer, Exception):
                    raise answer
            team, member_page, channel_page = answers
            teams_store.upsert_team(self.store, team)
            members = list(self.client.follow(member_page))
            self._add(team_members=teams_store.replace_team_members(self.store, team_id, members))
            channels = list(self.client.follow(channel_page, headers=PREFER_ALL_ENUMS))
        except GraphNotFound:
            self._vanished(group, "it was being exported")
            return
        except (GraphRequestError, GraphUnavailable) as exc:
            self._unreadable(group, "its details, members or channels", exc)
            return
        self.progress.channels_found(len(channels))
        for channel in channels:
            teams_store.upsert_channel(self.store, team_id, channel)
            try:
                if channel.get("membershipType") in ("private", "shared", "unknownFutureValue"):
                    members = list(self.client.iter_items(
                        f"/teams/{team_id}/channels/{channel['id']}/members?$top=999"))
                    self._add(channel_members=teams_store.replace_channel_members(
                        self.store, channel["id"], members))
                if self.options.method == "per-channel":
                    reader.read_channel(team_id, channel["id"])
            except GraphNotFound:
                self._warn("channel_vanished", f"channel {channel.get('displayName')!r} of "
                           f"{group.get('displayName')!r} disappeared during the export",
                           subject=channel["id"])
        self._add(channels=len(channels), teams=1)
        self.progress.team_done(group.get("displayName") or team_id)

    # -- the whole export ----------------------------------------------------------------

    def run(self) -> ExportSummary:
        started = time.monotonic()
        window_end = iso(self.now())
        self.summary.incremental = bool(self.store.scalar(
            "SELECT 1 FROM export_checkpoints WHERE scope LIKE 'messages:%' AND status = 'complete' "
            "LIMIT 1"))
        self.export_users()
        teams = self.list_teams()
        self.progress.teams_found(len(teams))
        with StoreWriter(self.store) as writer:
            reader = MessageReader(self.client, self.store, run_id=self.run_id,
                                   window_end=window_end, writer=writer,
                                   overlap=dt.timedelta(hours=self.options.overlap_hours),
                                   since=self.options.since or None, on_messages=self._on_messages)
            # Message streams first: they are long, and the small reads fit around them.
            jobs = [] if self.options.method == "per-channel" else [
                (self.export_team_messages, team) for team in teams]
            jobs += [(self.export_team, team) for team in teams]
            # `workers` teams at a time, each with its message stream and its small reads.
            per_team = 2 if self.options.method != "per-channel" else 1
            with ThreadPoolExecutor(max_workers=max(1, min(self.workers * per_team, len(jobs))),
                                    thread_name_prefix="graph-team") as pool:
                for future in [pool.submit(job, team, reader) for job, team in jobs]:
                    future.result()
        pending = int(self.store.scalar("SELECT COUNT(*) FROM teams_files WHERE status = 'pending'"))
        self.progress.files_found(pending)
        self.summary.files = download_pending(
            self.client, self.store, self.settings.workdir_path / "files",
            max_bytes=int(self.options.max_file_mb * 1024 * 1024), workers=min(self.workers, 16),
            run_id=self.run_id, on_file=self.progress.file_done)
        stats = self.client.stats
        self.summary.requests = stats.requests
        self.summary.throttled = stats.throttled
        self.summary.throttle_wait_s = stats.throttle_wait
        self.summary.pacing_wait_s = self.client.pacer.waited
        self.summary.warnings = dict(self.store.execute(
            "SELECT kind, COUNT(*) FROM warnings WHERE stage = 'export' AND run_id IS ? "
            "GROUP BY kind", (self.run_id,)).fetchall())
        self.summary.found = teams_store.inventory(self.store)
        self.summary.seconds = time.monotonic() - started
        return self.summary
