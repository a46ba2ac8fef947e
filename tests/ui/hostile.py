"""The three HTML reports (plan, run, verify) built in-process from hostile Teams content:
names and bodies that are HTML, a `javascript:` link, RTL overrides, every script. Used by
tests/test_report_escaping.py (the text of the pages) and tests/ui/test_browser.py (the pages
in Chromium)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from migrate.export.records import teams_message
from migrate.load.importer import ImportResult
from migrate.load.limits import SlackLimits
from migrate.load.scheduler import FakeClock, Scheduler
from migrate.plan.build import ChannelPlan, Plan, Post, UserLine
from migrate.plan.chats import ChatLine
from migrate.plan.estimate import Estimate
from migrate.store import Store, keys, ledger
from migrate.transform.content import RenderContext, render_message
from migrate.ui.plan_report import plan_html
from migrate.ui.run_report import run_document, run_html
from migrate.ui.verify_report import verify_html
from migrate.verify.check import ChannelCheck, VerifyReport

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
RLO = "\u202egnp.exe\u202c"                     # shows as "exe.png" if not isolated
WORLD = "مرحبا Привет 你好 こんにちは שלום"
NAMES = [f"{SCRIPT} team", f"{IMG} general", f"invoice {RLO} {WORLD}", "javascript:alert(3)"]
BODY = (f"<p>{SCRIPT.replace('<', '&lt;')} <a href=\"javascript:alert(4)\">click</a> "
        f"<img src=x onerror=alert(5)> <a href=\"https://example.com/?a=1&amp;b=2\">ok</a> "
        f"{RLO} {WORLD}</p>")
# What every page must not contain, as markup (it may show it as text).
FORBIDDEN = ("<script>alert", "<img", "onerror=", 'href="javascript:', "href='javascript:")


def hostile_text() -> str:
    """A Teams message with the hostile body, rendered to mrkdwn as the importer posts it."""
    message = {"id": "m1", "messageType": "message", "attachments": [], "mentions": [],
               "reactions": [], "from": None, "createdDateTime": "2024-01-01T00:00:00Z",
               "body": {"contentType": "html", "content": BODY}}
    return render_message(teams_message(message, "c"), RenderContext(users={})).parts[0]


def _channels(n: int) -> list[ChannelPlan]:
    out = []
    for i in range(n):
        name = NAMES[i % len(NAMES)] if i < 8 else f"channel {i:04d}"
        out.append(ChannelPlan(f"19:c{i}@thread.tacv2", f"t{i % 3}", NAMES[i % 3], name,
                               "create" if i % 17 else "skip", f"c-{i:04d}", None, i % 5 == 0,
                               None, None, False, None, None, ("U1", "U2"),
                               posts=(i * 37) % 250 + 1, uploads=i % 4))
    return out


def hostile_plan(channels: int = 1200) -> Plan:
    """A plan with `channels` channels (more than the tables' first screen) and hostile names."""
    plan = Plan(as_of="2024-05-01T00:00:00Z",
                users=[UserLine(f"u{i}", NAMES[i % len(NAMES)], None, None, "no Slack account",
                                i % 2 == 0) for i in range(12)],
                channels=_channels(channels),
                chats=[ChatLine(f"chat{i}", "group", NAMES[i % len(NAMES)], 3, 2, 10, "channel",
                                "members have Slack", slack_name=f"chat-{i}") for i in range(6)],
                warnings={f"{SCRIPT} kind": 2}, warning_samples={f"{SCRIPT} kind": [IMG, RLO]})
    text = hostile_text()
    plan.posts = [Post(f"post:19:c{i}@thread.tacv2:m{j}:0", f"19:c{i}@thread.tacv2", f"m{j}",
                       None if j == 0 else "m0", 0, text if j == 0 else f"reply {j} {WORLD}",
                       NAMES[j % len(NAMES)], None, "2024-01-01T00:00:00Z")
                  for i in range(4) for j in range(3)]
    plan.estimate = Estimate(3 * 86400 + 500, 3 * 86400, 400, "the workspace posting cap",
                             phases={"export": 600.0, "import": 3 * 86400.0},
                             per_day=[("day 1", 120_000), ("day 2", 120_000), ("day 3", 115_000),
                                      ("day 4", 2_000)], advice=[f"advice about {SCRIPT}"])
    return plan


def hostile_plan_html(channels: int = 1200) -> str:
    return plan_html(hostile_plan(channels))


def _stats():
    """Scheduler figures of a five-minute run on a fake clock: a post a second, a burst of
    429s in its second minute."""
    clock = FakeClock()
    scheduler = Scheduler(SlackLimits(per_method={}, post_per_channel=10.0, post_workspace=10.0),
                          clock=clock)
    for i in range(300):
        clock.t = 1000.0 + i
        scheduler.admit("chat.postMessage", f"C{i % 7}")
        if 60 <= i < 80 and i % 2:
            scheduler.throttled("chat.postMessage", f"C{i % 7}", 0.0)
    return scheduler.stats


def hostile_run_html(workdir: Path, plan: Plan | None = None) -> str:
    plan = plan or hostile_plan(60)
    store = Store.open(workdir)
    try:
        run_id = store.start_run("run")
        for c in plan.channels[:20]:
            for j in range(c.posts // 2):
                key = str(keys.PostKey(c.teams_channel_id, f"m{j}", 0))
                if j % 29 == 3:
                    ledger.failed(store, key, f"{SCRIPT} failure", kind="post")
                else:
                    ledger.done(store, key, kind="post", slack_channel="C1", slack_ts=f"{j}.0")
        result = ImportResult(seconds=300.0, posts_done=290, finished=False)
        result.outcomes[("post", "posted")] = 290
        result.failed[f"{IMG} reason"] = 3
        result.halted[NAMES[2]] = f"{SCRIPT} halted"
        outcome = SimpleNamespace(result=result, stats=_stats(), plan=plan, exit_code=1,
                                  ceiling_s=250.0, phases={"import": {"estimate": 240.0,
                                                                      "actual": 300.0}})
        return run_html(run_document(store, run_id, outcome))
    finally:
        store.close()


def hostile_verify_html() -> str:
    report = VerifyReport(source="graph", source_teams=3, source_channels=40,
                          skipped=[f"{n}: {SCRIPT}" for n in NAMES])
    for i in range(40):
        check = ChannelCheck(NAMES[i % len(NAMES)] if i < 8 else f"channel {i}", f"C{i}",
                             expected=100 + i, found=100 + i - (i % 5))
        check.missing = [f"{IMG}{k}" for k in range(i % 5)]
        if i == 3:
            check.gap = f"not in Slack: {SCRIPT}"
        report.channels.append(check)
    return verify_html(report)
