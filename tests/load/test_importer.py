"""The importer against the Slack emulator, one rule at a time: an unanswered post is looked up
before anything is re-sent, a root Slack refuses takes its replies along without stopping the
channel, a name taken since the plan gets the next suffix, and invites tolerate members and
guests."""

from __future__ import annotations

import hashlib

from migrate.config import SlackSettings
from migrate.load.client import SlackClient
from migrate.load.importer import Importer
from migrate.load.limits import slack_limits
from migrate.load.scheduler import FakeClock, Scheduler
from migrate.plan.build import ChannelPlan, Plan, Post, Upload
from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.slack_state import SlackError
from migrate.sandbox.synthetic import synthetic_tenant, synthetic_workspace
from migrate.sandbox.tenant import SANDBOX_SLACK_TOKEN
from migrate.store import Store, ledger

from ..conftest import slack_posts

CH = "19:aaaa@thread.tacv2"


def _channel(name="team-general", invite=()):
    return ChannelPlan(CH, "T1", "Team", "General", "create", name, None, False, None, None,
                       False, None, None, tuple(invite))


def _post(mid, text, root=None, part=0):
    return Post(f"post:{CH}:{mid}:{part}", CH, mid, root, part, text, "Ann Author", None,
                "2024-01-01T00:00:00Z")


def _run(emu, tmp_path, plan, clock=None):
    settings = SlackSettings(url=emu.url, token=SANDBOX_SLACK_TOKEN, rate_scale=100)
    store = Store.open(tmp_path / "work")
    try:
        importer = Importer(plan, store, SlackClient(settings, sleep=lambda _s: None),
                            Scheduler(slack_limits(settings), clock=clock),
                            files_dir=tmp_path / "files")
        result = importer.run(workers=1 if clock else 2)
        rows = {k: dict(v) for k, v in ledger.with_prefix(store, "post:").items()}
    finally:
        store.close()
    return result, rows


def _ours(emu):
    return slack_posts(emu.state())



def test_an_unanswered_post_is_found_not_posted_twice(emulator, tmp_path):
    # Every post is stored by Slack, then the connection drops before the answer.
    emulator.configure_faults(1, FaultPlan(rates={"drop_after_processing": 1.0},
                                           only=("chat.postMessage",)))
    plan = Plan(as_of=None, channels=[_channel()],
                posts=[_post("1", "first"), _post("2", "a reply", root="1"), _post("3", "second")])
    result, rows = _run(emulator, tmp_path, plan)
    ours = _ours(emulator)
    assert {k: len(v) for k, v in ours.items()} == {("1", 0): 1, ("2", 0): 1, ("3", 0): 1}
    assert result.resolved_in_doubt == 3 and not result.failed
    assert all(r["state"] == "done" and r["slack_ts"] for r in rows.values())
    assert ours[("2", 0)][0]["thread_ts"] == ours[("1", 0)][0]["ts"]


def test_a_post_whose_request_never_reached_slack_is_posted_after_the_look_up(emulator, tmp_path):
    # A reset before Slack did anything: the look-up finds nothing, so it is posted again once.
    emulator.configure_faults(2, FaultPlan(rates={"reset": 0.5}, only=("chat.postMessage",)))
    plan = Plan(as_of=None, channels=[_channel()],
                posts=[_post(str(n), f"message {n}") for n in range(1, 9)])
    result, _ = _run(emulator, tmp_path, plan)
    ours = _ours(emulator)
    assert sorted(ours) == [(str(n), 0) for n in sorted(range(1, 9), key=str)]
    assert all(len(v) == 1 for v in ours.values())
    assert emulator.counters()["faults"].get("reset", 0) >= 1 and not result.failed


def test_replies_of_a_refused_root_are_skipped_and_the_channel_goes_on(emulator, tmp_path):
    upload = Upload(f"file:{CH}:1:hosted:h1", CH, "1", "1", "hosted", "h1", "a.txt", "ab" * 32, 3,
                    "text/plain")
    plan = Plan(as_of=None, channels=[_channel()],
                posts=[_post("1", ""), _post("2", "reply to nothing", root="1"),
                       _post("3", "the next root")],          # "" → Slack answers no_text
                uploads=[upload])
    result, rows = _run(emulator, tmp_path, plan)
    assert rows[f"post:{CH}:1:0"]["state"] == "skipped"
    assert rows[f"post:{CH}:2:0"]["reason"] == "its thread root was refused by Slack"
    assert result.skipped["the message it belongs to was refused by Slack"] == 1
    assert rows[f"post:{CH}:3:0"]["state"] == "done"
    assert not result.halted and result.finished


def test_an_unanswered_upload_slack_is_still_processing_is_not_shared_twice(tmp_path):
    # Slack processes a file share asynchronously: right after a completion whose answer was
    # lost, its message may not be in the thread yet. It is looked for again before the file
    # counts as never shared; uploading it again at once would share it twice.
    workspace = synthetic_workspace(synthetic_tenant(teams=1, channels=1, messages=1, users=12,
                                                     seed=3), seed=3)
    data = b"quarterly figures"
    sha = hashlib.sha256(data).hexdigest()
    (tmp_path / "files" / sha[:2]).mkdir(parents=True)
    (tmp_path / "files" / sha[:2] / sha).write_bytes(data)
    upload = Upload(f"file:{CH}:1:hosted:h1", CH, "1", "1", "hosted", "h1", "figures.txt", sha,
                    len(data), "text/plain")
    plan = Plan(as_of=None, channels=[_channel()], posts=[_post("1", "hello")], uploads=[upload])
    with SlackEmulator(workspace, rate_scale=100, file_share_delay_s=0.6) as emu:
        emu.configure_faults(1, FaultPlan(rates={"drop_after_processing": 1.0},
                                          only=("files.completeUploadExternal",)))
        result, _ = _run(emu, tmp_path, plan)
        state = emu.state()
    shares = [m for messages in state["messages"].values() for m in messages if m.get("files")]
    assert len(shares) == 1, shares
    assert result.resolved_in_doubt == 1 and not result.failed


def test_a_name_taken_since_the_plan_gets_the_next_suffix(emulator, tmp_path):
    settings = SlackSettings(url=emulator.url, token=SANDBOX_SLACK_TOKEN, rate_scale=100)
    SlackClient(settings).create_channel("team-general", False)   # someone was faster
    plan = Plan(as_of=None, channels=[_channel()], posts=[_post("1", "hello")])
    result, _ = _run(emulator, tmp_path, plan)
    names = {c["name"] for c in emulator.state()["channels"]}
    assert {"team-general", "team-general-2"} <= names
    assert result.outcomes[("channel", "created")] == 1


def test_invites_tolerate_members_and_report_guests(emulator, tmp_path):
    users = [u for u in emulator.state()["users"] if not u.get("is_bot") and not u.get("deleted")
             and u["id"] != "USLACKBOT"]
    guests = [u["id"] for u in users if u.get("is_restricted") or u.get("is_ultra_restricted")]
    members = [u["id"] for u in users if u["id"] not in guests][:5]
    plan = Plan(as_of=None, channels=[_channel(invite=members + guests)],
                posts=[_post("1", "hello")])
    result, _ = _run(emulator, tmp_path, plan)
    channel = next(c for c in emulator.state()["channels"] if c["name"] == "team-general")
    assert set(members) <= set(channel["members"])
    assert not set(guests) & set(channel["members"])
    assert result.outcomes[("member", "invited")] == len(members)
    assert result.outcomes.get(("member", "skipped"), 0) == len(guests)


def test_no_permission_in_one_channel_is_that_channels_failure_not_the_runs(emulator, tmp_path,
                                                                           monkeypatch):
    # conversations.invite documents no_permission: one channel's refusal, not a bad token.
    # The channel's invites fail (retried next run, exit 1); the rest of the run goes on.
    import dataclasses

    from migrate.sandbox import slack_emulator

    def refuse(ctx, args):
        raise SlackError("no_permission")

    spec = slack_emulator.METHODS["conversations.invite"]
    monkeypatch.setitem(slack_emulator.METHODS, "conversations.invite",
                        dataclasses.replace(spec, fn=refuse, errors=spec.errors | {"no_permission"}))
    users = [u["id"] for u in emulator.state()["users"] if not u.get("is_bot")
             and not u.get("deleted") and not u.get("is_restricted")
             and not u.get("is_ultra_restricted") and u["id"] != "USLACKBOT"][:2]
    plan = Plan(as_of=None, channels=[_channel(invite=users)], posts=[_post("1", "hello")])
    result, rows = _run(emulator, tmp_path, plan)
    assert result.outcomes[("channel", "created")] == 1
    assert any("no_permission" in reason for reason in result.failed)
    assert result.finished


def test_a_channel_slack_keeps_rate_limiting_waits_for_the_next_run(emulator, tmp_path):
    # Every post is answered 429 without Retry-After: after the scheduler's patient retries
    # (on a fake clock, so no real waiting) the channel stops cleanly; nothing crashes.
    emulator.configure_faults(4, FaultPlan(rates={"429_no_retry_after": 1.0},
                                           only=("chat.postMessage",)))
    plan = Plan(as_of=None, channels=[_channel()], posts=[_post("1", "hello"), _post("2", "again")])
    result, rows = _run(emulator, tmp_path, plan, clock=FakeClock())
    assert "429" in result.halted["team-general"] and not result.finished
    assert not _ours(emulator)
    # A 429 means Slack did not act: the intent is withdrawn (failed: the next run posts it,
    # with nothing to look up first), never left claiming a call in flight.
    assert rows[f"post:{CH}:1:0"]["state"] == "failed"
    assert "rate limited" in rows[f"post:{CH}:1:0"]["reason"]


def test_an_all_or_nothing_invite_still_invites_everyone_it_can(emulator, tmp_path, monkeypatch):
    # A workspace (or an older Slack) ignoring `force`: one guest makes the whole call fail,
    # naming only the guest. The others must still be invited, and nobody recorded who was not.
    monkeypatch.setattr(SlackClient, "invite", lambda self, channel, users: self.call(
        "conversations.invite", {"channel": channel, "users": ",".join(users)}, write=True))
    users = [u for u in emulator.state()["users"] if not u.get("is_bot") and not u.get("deleted")
             and u["id"] != "USLACKBOT"]
    guests = [u["id"] for u in users if u.get("is_restricted") or u.get("is_ultra_restricted")]
    members = [u["id"] for u in users if u["id"] not in guests][:4]
    if not guests:  # the synthetic workspace decides; make one user a guest if it has none
        guest = members.pop()
        with emulator.store.lock:
            emulator.store.users[guest]["is_restricted"] = True
        guests = [guest]
    plan = Plan(as_of=None, channels=[_channel(invite=sorted(members + guests))],
                posts=[_post("1", "hello")])
    result, _ = _run(emulator, tmp_path, plan)
    channel = next(c for c in emulator.state()["channels"] if c["name"] == "team-general")
    assert set(members) <= set(channel["members"]) and not set(guests) & set(channel["members"])
    assert result.outcomes[("member", "invited")] == len(members)
    assert result.outcomes[("member", "skipped")] == len(guests)


def test_a_failed_edit_leaves_the_post_in_place_and_is_retried_not_reposted(emulator, tmp_path):
    first = Plan(as_of=None, channels=[_channel()], posts=[_post("1", "version 1")])
    _run(emulator, tmp_path, first)
    edited = Plan(as_of=None, channels=[_channel()], posts=[_post("1", "version 2 _(edited)_")])
    emulator.configure_faults(5, FaultPlan(rates={"http_500": 1.0}, only=("chat.update",)))
    result, rows = _run(emulator, tmp_path, edited)
    assert result.failed and rows[f"post:{CH}:1:0"]["state"] == "done"
    emulator.configure_faults(5, FaultPlan())
    result, rows = _run(emulator, tmp_path, edited)             # the next sync
    (post,) = _ours(emulator)[("1", 0)]
    assert post["text"] == "version 2 _(edited)_" and not result.failed
    assert emulator.counters()["calls"]["chat.postMessage"] == 1  # never posted twice
