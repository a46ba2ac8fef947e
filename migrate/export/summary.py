"""What an export reports: its summary (counts, Graph's requests and waits, how the directory
was read) and the progress callbacks the CLI turns into bars."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from migrate.export.directory import DirectoryResult

# Export warnings that leave chats unread this time (a person's chat list, or one chat's
# details); `chats_not_read` (the permission is missing) is a setting to fix, not a failure.
UNREAD_CHATS = ("chats_unreadable", "chat_unreadable")
# A file whose download kept failing: left pending for the next export (export/files.py).
UNREAD_FILES = ("file_unavailable",)


@dataclass
class ExportSummary:
    method: str
    incremental: bool
    users: int = 0
    teams: int = 0
    teams_out_of_scope: int = 0
    teams_unreadable: int = 0
    teams_reread: int = 0        # teams whose details, members and channels were read
    directory: str = ""          # "full", or "delta" (users, then teams) where it was incremental
    channels: int = 0
    team_members: int = 0
    channel_members: int = 0
    chat_readers: int = 0        # people whose chat streams were read
    chats_read: int = 0          # chats whose details and members were read
    messages_new: int = 0
    messages_updated: int = 0
    files: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)   # the whole source inventory in the store
    requests: int = 0            # HTTP requests to Graph (a $batch of several calls is one)
    graph_calls: int = 0         # Graph calls: the requests, each $batch counted as its calls
    throttled: int = 0
    throttle_wait_s: float = 0.0
    pacing_wait_s: float = 0.0
    seconds: float = 0.0

    @property
    def unread(self) -> int:
        """Teams and chats Graph would not give this export (refused, or failing past every
        retry): items that failed, which the next export reads again."""
        return self.teams_unreadable + self.unread_files + sum(
            self.warnings.get(kind, 0) for kind in UNREAD_CHATS)

    @property
    def unread_files(self) -> int:
        return sum(self.warnings.get(kind, 0) for kind in UNREAD_FILES)

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


def directory_mode(result: DirectoryResult) -> str:
    """How the directory was read: "full", "delta", or each part's way when they differ."""
    if result.users_full == result.teams_full:
        return "full" if result.users_full else "delta"
    return (f"users {'full' if result.users_full else 'delta'}, "
            f"teams {'full' if result.teams_full else 'delta'}")
