"""What keeps the export's memory flat: people handed out a batch at a time from the store,
and pages waiting for the writer as rows, not parsed JSON."""

from __future__ import annotations

import threading

from migrate.export.chats import PEOPLE_PER_BATCH, PeopleBatches
from migrate.store import Store
from migrate.store import teams_objects as teams


def test_member_ids_read_a_part_at_a_time_are_every_member_once_without_guests(tmp_path):
    store = Store.open(tmp_path)
    users = [{"id": f"u{n:03}", "userType": "Guest" if n % 7 == 0 else "Member"}
             for n in range(95)]
    teams.upsert_users(store, users)
    parts, after = [], ""
    while ids := teams.member_user_ids(store, after, limit=10):
        parts.append(ids)
        after = ids[-1]
    assert [i for part in parts for i in part] == teams.member_user_ids(store) == sorted(
        u["id"] for u in users if u["userType"] == "Member")
    assert max(len(part) for part in parts) == 10
    store.close()


def test_people_batches_give_each_person_once_across_workers():
    people = [f"p{n}" for n in range(1003)]
    batches = PeopleBatches(iter(people))
    taken: list[list[str]] = []
    lock = threading.Lock()

    def worker() -> None:
        while batch := batches.next():
            with lock:
                taken.append(batch)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(p for batch in taken for p in batch) == sorted(people)
    assert all(len(batch) <= PEOPLE_PER_BATCH for batch in taken)


def test_message_rows_store_like_upsert_messages(tmp_path):
    page = [{"id": str(n), "replyToId": None, "messageType": "message",
             "createdDateTime": "2024-01-01T00:00:00Z", "lastModifiedDateTime": "2024-01-01T00:00:00Z",
             "body": {"contentType": "html", "content": f"m{n}"},
             "channelIdentity": {"teamId": "T", "channelId": "C"}} for n in range(3)]
    store = Store.open(tmp_path)
    rows = teams.message_rows("T", page)
    assert teams.store_message_rows(store, rows) == (3, 0)
    assert teams.upsert_messages(store, "T", page) == (0, 0)
    assert [m["body"]["content"] for m in teams.raw_messages_of_channel(store, "C")] == \
        ["m0", "m1", "m2"]
    store.close()
