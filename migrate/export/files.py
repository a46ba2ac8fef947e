"""Inline images and referenced files of exported messages: recorded, then downloaded to
`$MIGRATE_WORKDIR/files/` content-addressed. A file over the size cap, gone from SharePoint or
not readable by the app becomes a warning and a status on its row — never a failed export. A
download Graph refuses (400) counts as gone; one that keeps failing past every retry stays
pending, for the next export (a warning, counted as not read: the run exits 1)."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from migrate.errors import PermissionMissing
from migrate.export.assets import message_assets
from migrate.export.client import GraphClient
from migrate.export.errors import FileTooLarge, GraphNotFound, GraphRequestError, GraphUnavailable
from migrate.store import Store, teams_files
from migrate.store import teams_objects as teams_store

AssetRow = tuple[str, str, str, str, str | None, str | None]
UNAVAILABLE = "file_unavailable"     # the warning of a download left pending


def record_assets(store: Store, messages: list[dict]) -> int:
    """Add a pending row for every asset of these messages (called in the transaction that
    stores them, so a resumed export never forgets the files of pages stored before a kill)."""
    return teams_files.add_pending_files(store, asset_rows(messages))


def asset_rows(messages: list[dict]) -> Iterator[AssetRow]:
    """(channel_id, message_id, source, source_id, name, url) of every asset of the messages
    that are not deleted."""
    for message in messages:
        if teams_store.is_deleted_message(message):
            continue
        channel_id = teams_store.message_conversation(message)
        for asset in message_assets(message):
            yield channel_id, message["id"], asset.source, asset.source_id, asset.name, asset.url


def download_pending(client: GraphClient, store: Store, files_dir: Path, *, max_bytes: int,
                     workers: int, run_id: int | None,
                     on_file: Callable[[str, int], None] = lambda status, size: None,
                     channels: list[str] | None = None) -> dict[str, int]:
    """Download every pending file (of these channels only, when given). For the whole
    export, files the app was refused before are asked again once one of them downloads."""
    if channels is None:
        readable_again(client, store, files_dir, max_bytes=max_bytes)
    # Taken one at a time by `workers` threads, each row dropped once done: a future per row
    # held every row to the end (+15 MB for the 7,545 files of 3M messages).
    pending = collections.deque(teams_files.pending_files(store, channels))
    outcome: dict[str, int] = {}
    lock = threading.Lock()

    def fetch(row) -> None:
        key = (row["channel_id"], row["message_id"], row["source"], row["source_id"])
        label = row["name"] or f"inline image {row['source_id'][:12]}"
        size = None
        try:
            got = client.download(row["url"], files_dir, max_bytes=max_bytes)
            status, size, sha, mime = "downloaded", got.size, got.sha256, got.content_type
        except FileTooLarge as exc:
            status, size, sha, mime = "too_large", exc.size, None, None
            store.add_warning("export", "file_too_large",
                              f"{label} ({exc.size:,} bytes) is over the size cap of "
                              f"{max_bytes:,} bytes; it will be skipped", subject=row["message_id"],
                              run_id=run_id)
        except GraphNotFound:
            status, sha, mime = "missing", None, None
            store.add_warning("export", "file_missing",
                              f"{label} is gone from SharePoint/OneDrive", subject=row["message_id"],
                              run_id=run_id)
        except PermissionMissing as exc:
            status, sha, mime = "forbidden", None, None
            store.add_warning("export", "file_forbidden", f"{label}: {exc.one_line()}",
                              subject=row["message_id"], run_id=run_id)
        except GraphRequestError as exc:
            status, sha, mime = "missing", None, None
            store.add_warning("export", "file_refused", f"{label}: Graph refused its download "
                              f"({exc.one_line()})", subject=row["message_id"], run_id=run_id)
        except GraphUnavailable as exc:        # still pending: the next export tries again
            store.add_warning("export", UNAVAILABLE, f"{label}: {exc.one_line()}; the next "
                              "export tries again", subject=row["message_id"], run_id=run_id)
            with lock:
                outcome["pending"] = outcome.get("pending", 0) + 1
            on_file("pending", 0)
            return
        teams_files.record_download(store, key, status=status, size=size, sha256=sha,
                                    mime_type=mime)
        with lock:
            outcome[status] = outcome.get(status, 0) + 1
        on_file(status, size or 0)

    def worker() -> None:
        while True:
            try:
                row = pending.popleft()
            except IndexError:
                return
            fetch(row)

    count = max(1, min(workers, len(pending)))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="graph-file") as pool:
        for future in [pool.submit(worker) for _ in range(count)]:
            future.result()
    return outcome


def readable_again(client: GraphClient, store: Store, files_dir: Path, *, max_bytes: int,
                   probes: int = 3) -> int:
    """Files refused (403) by an earlier export are pending again when a few of them, asked
    now, download: the admin granted the permission since (`migrate doctor` names it). Files
    that are refused for good (never shared with the app) cost `probes` requests an export."""
    for row in teams_files.forbidden_samples(store, probes):
        try:
            client.download(row["url"], files_dir, max_bytes=max_bytes)
        except (PermissionMissing, GraphNotFound, GraphRequestError, GraphUnavailable,
                FileTooLarge):
            continue
        return teams_files.requeue_forbidden(store)
    return 0
