"""Plan benchmark (a script, not a test): `python tests/benchmarks/plan_bench.py`.

Prints, and writes as JSON (--out):
  conversion  messages/s converted on one core (the chatMessage parsed by teams_message, then
              render_message) over the demo tenant and a synthetic corpus of the demo's
              bodies repeated
  plan        build_plan time and peak RSS for a synthetic tenant of --users people
              (350,000 by default) in --channels channels (50,000) with a Slack directory of
              the same people, measured in a child process so the RSS is the plan's own
Targets (issue 4): ≥ 5,000 messages/s converted; the 350k-user plan in < 60 s and < 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from migrate.export.records import teams_message  # noqa: E402
from migrate.sandbox.tenant import default_demo_folder, load_graph_tenant  # noqa: E402
from migrate.transform.content import RenderContext, load_mappings, render_message  # noqa: E402


def conversion(repeat: int) -> dict:
    tenant = load_graph_tenant(default_demo_folder())
    messages = [m for t in tenant.teams for c in t.channels for m in c.messages]
    reactions, emoji, events = load_mappings()
    ctx = RenderContext(users={u["id"]: u["displayName"] for u in tenant.users},
                        timezone="Europe/Paris", emoji=emoji, reactions=reactions,
                        system_events=events)
    corpus = messages * repeat
    started = time.process_time()
    for message in corpus:
        render_message(teams_message(message, "c"), ctx, has_replies=False)
    cpu = time.process_time() - started
    return {"messages": len(corpus), "cpu_s": round(cpu, 2),
            "messages_per_s": round(len(corpus) / cpu)}


def build_store(workdir: Path, users: int, channels: int, per_team: int, messages_per_channel: int) -> None:
    from migrate.load.directory import SlackDirectory, save_directory
    from migrate.model import SlackUser
    from migrate.store import Store
    from migrate.store import teams_objects as teams

    store = Store.open(workdir)
    people = [{"id": f"u-{i:07d}", "displayName": f"Person {i}", "mail": f"p{i}@example.test",
               "userPrincipalName": f"p{i}@example.test", "otherMails": [], "proxyAddresses": [],
               "userType": "Member", "accountEnabled": True} for i in range(users)]
    teams.upsert_users(store, people)
    n_teams = max(1, channels // per_team)
    for t in range(n_teams):
        team_id = f"team-{t:06d}"
        teams.upsert_team(store, {"id": team_id, "displayName": f"Team {t}", "isArchived": False,
                                  "createdDateTime": "2020-01-01T00:00:00Z"})
        teams.replace_team_members(store, team_id, [
            {"id": f"m-{t}-{k}", "userId": people[(t * 7 + k) % users]["id"], "roles": []}
            for k in range(20)])
        page = []
        for c in range(per_team):
            channel_id = f"19:{t:06d}{c:03d}@thread.tacv2"
            teams.upsert_channel(store, team_id, {
                "id": channel_id, "displayName": "General" if c == 0 else f"Channel {c}",
                "membershipType": "standard", "createdDateTime": f"2020-01-01T00:{c:02d}:00Z",
                "description": "Synthetic channel"})
            for m in range(messages_per_channel):
                stamp = f"2021-0{1 + m % 9}-01T00:00:0{m % 10}Z"
                page.append({"id": f"{t}{c}{m}", "replyToId": None, "messageType": "message",
                             "createdDateTime": stamp, "lastModifiedDateTime": stamp,
                             "from": {"user": {"id": people[(t + m) % users]["id"],
                                               "displayName": f"Person {(t + m) % users}"}},
                             "body": {"contentType": "html", "content": f"<p>Hello <b>{m}</b></p>"},
                             "channelIdentity": {"teamId": team_id, "channelId": channel_id},
                             "attachments": [], "mentions": [], "reactions": []})
        teams.upsert_messages(store, team_id, page)
    directory = SlackDirectory(
        users=[SlackUser(f"U{i:08d}", f"p{i}", email=f"p{i}@example.test") for i in range(users)],
        channels=[])
    save_directory(store, directory)
    store.close()


CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from migrate.config import load_settings
from migrate.plan.build import build_plan
from migrate.load.directory import load_directory
from migrate.store import Store
store = Store.open(sys.argv[1])
settings = load_settings(None, environ={"MIGRATE_WORKDIR": sys.argv[1]})
started = time.monotonic()
directory = load_directory(store)
plan = build_plan(store, settings, directory)
path = sys.argv[1] + "/plan.json"
with open(path, "w", encoding="utf-8") as handle:  # as `migrate plan` writes it: streamed
    plan.write_json(handle)
seconds = time.monotonic() - started
import os
print(json.dumps({"seconds": round(seconds, 1), "posts": len(plan.posts), "channels": len(plan.channels),
                  "users": len(plan.users), "plan_json_mb": round(os.path.getsize(path) / 2**20, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
'''


def plan_build(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        build_store(Path(tmp), args.users, args.channels, args.channels_per_team, args.messages_per_channel)
        setup = time.monotonic() - started
        out = subprocess.run([sys.executable, "-c", CHILD, tmp, str(ROOT)], capture_output=True,
                             text=True, env={**os.environ})
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        return {"setup_s": round(setup, 1), **json.loads(out.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--users", type=int, default=350_000)
    parser.add_argument("--channels", type=int, default=50_000)
    parser.add_argument("--channels-per-team", type=int, default=5)
    parser.add_argument("--messages-per-channel", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "plan.json")
    args = parser.parse_args()
    conv = conversion(args.repeat)
    print(f"conversion: {conv['messages_per_s']:,} messages/s on one core ({conv['messages']:,} messages)")
    built = plan_build(args)
    print(f"plan: {built['users']:,} users, {built['channels']:,} channels, {built['posts']:,} posts "
          f"in {built['seconds']} s, peak RSS {built['peak_rss_mb']} MB (plan.json {built['plan_json_mb']} MB)")
    targets = {"conversion>=5000/s": conv["messages_per_s"] >= 5000, "plan<60s": built["seconds"] < 60,
               "plan<2GB": built["peak_rss_mb"] < 2048}
    print("targets:", ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"conversion": conv, "plan": built, "targets": targets}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
