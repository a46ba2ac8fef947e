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
from migrate.graph.errors import GraphNotFound
from migrate.graph.export_files import download_pending
from migrate.graph.export_messages import PREFER_ALL_ENUMS, MessageReader, iso
from migrate.graph.scope import team_in_scope
from migrate.store import Store
from migrate.store import teams_objects as teams_store

Json = dict[str, Any]

USER_FIELDS = ("id,displayName,givenName,surname,mail,userPrincipalName,otherMails,proxyAddresses,"
               "accountEnabled,userType,jobTitle,creationType,externalUserState,mailNickname")
GROUP_FIELDS = "id,displayName,description,visibility,createdDateTime,mail,resourceProvisioningOptions"
BATCH = 20


@dataclass
class ExportSummary:
    method: str
    incremental: bool
    users: int = 0
    teams: int = 0
    teams_out_of_scope: int = 0
    channels: int = 0
    team_members: int = 0
    channel_members: int = 0
    messages_new: int = 0
    messages_updated: int = 0
    files: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
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
        """Every team in scope, with its full details (isArchived is only on /teams/{id})."""
        groups = list(self.client.iter_items(
            "/groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')"
            f"&$select={GROUP_FIELDS}&$top=999"))
        chosen = [g for g in groups if team_in_scope(g["id"], g.get("displayName") or "",
                                                     self.options.include_teams,
                                                     self.options.exclude_teams)]
        self._add(teams_out_of_scope=len(groups) - len(chosen))
        teams: list[Json] = []
        for start in range(0, len(chosen), BATCH):
            chunk = chosen[start:start + BATCH]
            answers = self.client.batch([{"url": f"/teams/{g['id']}"} for g in chunk])
            for group, answer in zip(chunk, answers, strict=True):
                if answer["status"] == 200:
                    team = answer["body"]
                    team.setdefault("createdDateTime", group.get("createdDateTime"))
                    teams.append(team)
                elif answer["status"] == 404:
                    self._warn("team_vanished", f"team {group.get('displayName')!r} disappeared "
                               "while it was being exported", subject=group["id"])
                else:  # 403 and others: ask directly so the error is translated the usual way
                    teams.append(self.client.get_json(f"/teams/{group['id']}"))
        return sorted(teams, key=lambda t: (t.get("createdDateTime") or "", t["id"]))

    def export_team(self, team: Json, reader: MessageReader) -> None:
        team_id = team["id"]
        teams_store.upsert_team(self.store, team)
        try:
            members = list(self.client.iter_items(f"/teams/{team_id}/members?$top=999"))
            self._add(team_members=teams_store.replace_team_members(self.store, team_id, members))
            channels = list(self.client.iter_items(f"/teams/{team_id}/channels",
                                                   headers=PREFER_ALL_ENUMS))
        except GraphNotFound:
            self._warn("team_vanished", f"team {team.get('displayName')!r} disappeared while it "
                       "was being exported", subject=team_id)
            return
        self.progress.channels_found(len(channels))
        live_channels = []
        for channel in channels:
            teams_store.upsert_channel(self.store, team_id, channel)
            if channel.get("membershipType") in ("private", "shared", "unknownFutureValue"):
                try:
                    members = list(self.client.iter_items(
                        f"/teams/{team_id}/channels/{channel['id']}/members?$top=999"))
                except GraphNotFound:
                    self._warn("channel_vanished", f"channel {channel.get('displayName')!r} of "
                               f"{team.get('displayName')!r} disappeared during the export",
                               subject=channel["id"])
                    continue
                self._add(channel_members=teams_store.replace_channel_members(
                    self.store, channel["id"], members))
            live_channels.append(channel)
        self._add(channels=len(channels))
        try:
            if self.options.method == "per-channel":
                for channel in live_channels:
                    try:
                        reader.read_channel(team_id, channel["id"])
                    except GraphNotFound:
                        self._warn("channel_vanished", f"channel {channel.get('displayName')!r} "
                                   "disappeared during the export", subject=channel["id"])
            else:
                reader.read_team(team_id)
        except GraphNotFound:
            self._warn("team_vanished", f"team {team.get('displayName')!r} disappeared while "
                       "its messages were read", subject=team_id)
        self._add(teams=1)
        self.progress.team_done(team.get("displayName") or team_id)

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
        reader = MessageReader(self.client, self.store, run_id=self.run_id, window_end=window_end,
                               overlap=dt.timedelta(hours=self.options.overlap_hours),
                               since=self.options.since or None, on_messages=self._on_messages)
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(teams) or 1)),
                                thread_name_prefix="graph-team") as pool:
            for future in [pool.submit(self.export_team, team, reader) for team in teams]:
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
        self.summary.seconds = time.monotonic() - started
        return self.summary
