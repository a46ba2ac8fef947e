"""A lane reads its channel's posts from the plan a few at a time (lane.WINDOW). Whatever the
window, Slack receives the same: every post once, roots in order, each reply in its root's
thread, each file in its message's thread right after the message's last part — also when a
message's parts straddle two windows, and from the spool `build_plan` writes."""

from __future__ import annotations

import hashlib

import pytest

from migrate.config import SlackSettings
from migrate.load import lane
from migrate.load.client import SlackClient
from migrate.load.importer import Importer
from migrate.load.limits import slack_limits
from migrate.load.scheduler import Scheduler
from migrate.plan.build import ChannelPlan, Plan, Post, Upload
from migrate.plan.spool import Spool, SpooledItems
from migrate.sandbox.tenant import SANDBOX_SLACK_TOKEN
from migrate.store import Store

from ..conftest import slack_posts

CH = "19:windows@thread.tacv2"
DATA = b"file body"
SHA = hashlib.sha256(DATA).hexdigest()


def _items() -> tuple[list[Post], list[Upload]]:
    """Roots 1…9, message 3 and 6 in three parts, replies to 1 and 6, files on 3, 4 and 7."""
    posts: list[Post] = []
    for n in range(1, 10):
        mid = f"{n:03d}"
        parts = 3 if n in (3, 6) else 1
        for part in range(parts):
            posts.append(Post(f"post:{CH}:{mid}:{part}", CH, mid, None if part == 0 else mid,
                              part, f"message {n} part {part}", "Ann", None, f"2024-01-0{n}T00:00:00Z"))
        if n in (1, 6):
            rid = f"{n:03d}r"
            posts.append(Post(f"post:{CH}:{rid}:0", CH, rid, mid, 0, f"reply to {n}", "Bo", None,
                              f"2024-01-0{n}T01:00:00Z"))
    uploads = [Upload(f"file:{CH}:{n:03d}:hosted:h{n}", CH, f"{n:03d}", f"{n:03d}", "hosted",
                      f"h{n}", f"f{n}.txt", SHA, len(DATA), "text/plain") for n in (3, 4, 7)]
    return posts, uploads


def _plan(tmp_path, spooled: bool) -> Plan:
    posts, uploads = _items()
    channel = ChannelPlan(CH, "T1", "Team", "General", "create", "windows", None, False, None,
                          None, False, None, None, (), posts=len(posts), uploads=len(uploads))
    plan = Plan(as_of=None, channels=[channel], posts=posts, uploads=uploads)
    if spooled:
        spool = Spool(tmp_path / "work")
        plan.posts = SpooledItems(spool, Post, "posts")
        plan.posts.extend(posts)
        plan.uploads = SpooledItems(spool, Upload, "uploads")
        plan.uploads.extend(uploads)
        plan.posts.seal()
        plan.uploads.seal()
    return plan


@pytest.mark.parametrize("window", [1, 2, 5, 64])
@pytest.mark.parametrize("spooled", [False, True])
def test_every_window_gives_slack_the_same_order(emulator, tmp_path, monkeypatch, window, spooled):
    monkeypatch.setattr(lane, "WINDOW", window)
    files = tmp_path / "files" / SHA[:2]
    files.mkdir(parents=True)
    (files / SHA).write_bytes(DATA)
    plan = _plan(tmp_path, spooled)
    settings = SlackSettings(url=emulator.url, token=SANDBOX_SLACK_TOKEN, rate_scale=100)
    with Store.open(tmp_path / "work") as store:
        result = Importer(plan, store, SlackClient(settings, sleep=lambda _s: None),
                          Scheduler(slack_limits(settings)), files_dir=tmp_path / "files").run()
    assert result.finished and not result.failed and result.not_attempted == 0

    state = emulator.state()
    ours = slack_posts(state)
    posts, _ = _items()
    assert sorted(ours) == sorted((p.message_id, p.part) for p in posts)
    assert all(len(found) == 1 for found in ours.values())          # each exactly once
    (channel,) = {found[0]["channel"] for found in ours.values()}
    top = [m for m in state["messages"][channel] if m.get("thread_ts") in (None, m["ts"])]
    roots = [(m["metadata"]["event_payload"]["teams_message_id"],
              m["metadata"]["event_payload"]["part"]) for m in top if m.get("metadata")]
    assert roots == [(p.message_id, p.part) for p in posts if p.root_id is None]
    for p in posts:
        if p.root_id is not None:   # later parts and replies: in their root's thread
            (found,) = ours[(p.message_id, p.part)]
            assert found["thread_ts"] == ours[(p.root_id, 0)][0]["ts"]
    # Each file in its message's thread, after the message's last part.
    shared = {f["name"]: m for m in state["messages"][channel] for f in m.get("files") or []}
    for n, parts in ((3, 3), (4, 1), (7, 1)):
        mid = f"{n:03d}"
        share = shared[f"f{n}.txt"]
        assert share.get("thread_ts") == ours[(mid, 0)][0]["ts"]
        last_part = ours[(mid, parts - 1)][0]["ts"]
        assert float(share["ts"]) > float(last_part)


def test_a_spool_is_deleted_with_its_plan_and_a_dead_process_spool_is_swept(tmp_path):
    spool = Spool(tmp_path)
    items = SpooledItems(spool, Post, "posts")
    posts, _ = _items()
    items.extend(posts)
    assert list(items) == posts and len(items) == len(posts)
    assert items.count(CH) == len(posts) and items.head(CH, 2) == posts[:2]
    window, after, seen = [], 0, []
    while True:
        window, after = items.chunk(CH, after, 4)
        if not window:
            break
        seen.extend(window)
    assert seen == posts
    path = spool.path
    assert path.exists()
    items.close()
    assert not path.exists()

    stale = tmp_path / "plan-999999999-1.spool"      # no such pid
    stale.write_bytes(b"")
    Spool(tmp_path).close()
    assert not stale.exists()
