"""Store ingest benchmark (a script, not a test): `python tests/benchmarks/store_bench.py`.

Stores N synthetic channel messages (--messages, 200,000) page by page (50 a page, one
transaction each, as the export does) under several SQLite settings and prints messages/s and
bytes per message for each, so the settings `Store.open` uses are chosen by a measurement:

  wal-normal   journal_mode=WAL, synchronous=NORMAL (what Store.open sets)
  wal-full     journal_mode=WAL, synchronous=FULL (an fsync per transaction)
  delete-full  journal_mode=DELETE, synchronous=FULL (SQLite's defaults)
  wal-normal-cache64  as wal-normal with a 64 MB page cache (cache_size=-65536)
  wal-off      synchronous=OFF (not crash-safe; shown as the ceiling only)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from migrate.store import Store  # noqa: E402
from migrate.store import teams_objects as teams  # noqa: E402

VARIANTS = {
    "wal-normal": [],
    "wal-full": ["PRAGMA synchronous=FULL"],
    "delete-full": ["PRAGMA journal_mode=DELETE", "PRAGMA synchronous=FULL"],
    "wal-normal-cache64": ["PRAGMA cache_size=-65536"],
    "wal-off": ["PRAGMA synchronous=OFF"],
}


def _pages(messages: int, channels: int = 100):
    page = []
    for i in range(messages):
        channel = f"19:{i % channels:06d}@thread.tacv2"
        stamp = f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:{i % 60:02d}Z"
        page.append({"id": str(1_600_000_000_000 + i), "replyToId": None, "messageType": "message",
                     "createdDateTime": stamp, "lastModifiedDateTime": stamp,
                     "from": {"user": {"id": f"u{i % 997}", "displayName": f"Person {i % 997}"}},
                     "body": {"contentType": "html",
                              "content": f"<p>Message {i} about <b>things</b> and more things</p>"},
                     "channelIdentity": {"teamId": "team", "channelId": channel},
                     "attachments": [], "mentions": [], "reactions": []})
        if len(page) == 50:
            yield page
            page = []
    if page:
        yield page


def measure(name: str, pragmas: list[str], messages: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(tmp)
        for pragma in pragmas:
            store.conn.execute(pragma)
        started = time.monotonic()
        for page in _pages(messages):
            with store.transaction():
                teams.upsert_messages(store, "team", page)
        seconds = time.monotonic() - started
        store.close()
        size = sum(p.stat().st_size for p in Path(tmp).glob("state.db*"))
        return {"variant": name, "messages_per_s": round(messages / seconds),
                "bytes_per_message": round(size / messages)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "store.json")
    args = parser.parse_args()
    results = [measure(name, pragmas, args.messages) for name, pragmas in VARIANTS.items()]
    for r in results:
        print(f"{r['variant']:<20} {r['messages_per_s']:>8,} messages/s  {r['bytes_per_message']:>5} B/message")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
