"""Run benchmark (a script, not a test): `python tests/benchmarks/run_bench.py`.

The whole `migrate run --yes` — export, plan and import, as an admin runs it on a fresh
working directory — on fresh tenants served by both emulators (real HTTP, each pair in its own
process) at --rate-scale (20: Graph and Slack at 20× their real limits), Graph answering each
request in --latency seconds (0.25: a real page of messages takes a few hundred ms, and that,
not the limits, bounds an export that reads page after page), side by side with a
naive script on a fresh pair of the same tenant. Shapes (--shapes):
  one-team     1 team of 40 channels, 60 messages each
  forty-teams  40 teams of one channel, 60 messages each
  uneven       8 teams, 40 channels, 2,400 messages of very uneven (Pareto) sizes
For each it prints:
  ceiling     DESIGN §5: max(max_c n_c / r_channel, Σ n_c / r_workspace) at the scaled limits,
              n_c the posts Slack holds in channel c afterwards (counted by the emulator)
  wall        the whole command's wall time, process start to exit;  efficiency = ceiling / wall
  429s        as a share of the tool's Slack calls
  estimate    `migrate plan` on another fresh pair, then `migrate run --yes` timed: the plan's
              duration estimate against that run's wall time (the reviewed flow)
  naive       a typical admin script: each channel read from Graph page by page (replies per
              root), then posted with slack_sdk (its rate-limit retry handler), channel after
              channel; run for at most --naive-budget seconds, its total extrapolated from the
              share of posts it made
Targets (issue 16): efficiency ≥ 0.9 with the export included, ≤ 0.5 % of calls answered 429,
the estimate within 10 %. JSON in bench-results/run.json (--out).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SHAPES = {
    "one-team": {"teams": 1, "channels": 40, "messages": 2400, "skew": 1000.0},
    "forty-teams": {"teams": 40, "channels": 40, "messages": 2400, "skew": 1000.0},
    "uneven": {"teams": 8, "channels": 40, "messages": 2400, "skew": 1.1},
}
USERS = 60


# ------------------------------------------------------------------------------ children


def role_serve(args: argparse.Namespace) -> None:
    """Both emulators on one tenant until SIGTERM; then what Slack holds, per channel, and
    the Slack emulator's counters."""
    from migrate.sandbox.graph_emulator import GraphEmulator
    from migrate.sandbox.slack_emulator import SlackEmulator
    from migrate.sandbox.synthetic import synthetic_tenant, synthetic_workspace
    from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, SANDBOX_SLACK_TOKEN

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    shape = SHAPES[args.shape]
    tenant = synthetic_tenant(teams=shape["teams"], channels=shape["channels"],
                              messages=shape["messages"], users=USERS, skew=shape["skew"],
                              seed=args.seed)
    if args.workspaces:      # an Enterprise Grid org of that many workspaces
        from migrate.sandbox.synthetic import synthetic_org

        workspace = synthetic_org(tenant, workspaces=args.workspaces, seed=args.seed)
    else:
        workspace = synthetic_workspace(tenant, seed=args.seed)
    with GraphEmulator(tenant, rate_scale=args.rate_scale, latency=args.latency) as graph, \
            SlackEmulator(workspace, rate_scale=args.rate_scale) as slack:
        scale = str(args.rate_scale)
        _write_json(args.info_file, {
            "graph": graph.url, "slack": slack.url,
            "env": {"MIGRATE_GRAPH_URL": graph.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
                    "MIGRATE_TENANT_ID": tenant.tenant_id, "MIGRATE_GRAPH_RATE_SCALE": scale,
                    "MIGRATE_SLACK_URL": slack.url, "MIGRATE_SLACK_TOKEN": SANDBOX_SLACK_TOKEN,
                    "MIGRATE_SLACK_RATE_SCALE": scale},
            "messages": sum(len(c.messages) for t in tenant.teams for c in t.channels)})
        stop.wait()
        state = slack.state()
        spaces = state.get("workspaces") or {"only": state}   # one workspace: its own state
        per_workspace = {tid: {cid: len(m) for cid, m in ws["messages"].items() if m}
                         for tid, ws in spaces.items()}
        _write_json(args.result, {
            "posts": {cid: len(msgs) for cid, msgs in state["messages"].items() if msgs},
            "per_workspace": per_workspace,
            "counters": slack.counters()})


NAIVE = r'''
import json, random, sys, time, requests
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
info, scale, budget, out = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
env = info["env"]
started = time.monotonic()
graph = requests.Session(); graph.headers["Authorization"] = "Bearer " + env["MIGRATE_GRAPH_TOKEN"]


class DecimalRetryAfter(RateLimitErrorRetryHandler):
    """The stock handler, but Retry-After may be decimal (the emulators at a rate scale)."""
    def prepare_for_next_attempt(self, *, state, request, response=None, error=None):
        if response is None:
            raise error
        state.next_attempt_requested = True
        value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        wait = float(value[0] if isinstance(value, list) else value) if value else 1.0
        time.sleep(wait + random.random() / scale)
        state.increment_current_attempt()


slack = WebClient(base_url=env["MIGRATE_SLACK_URL"], token=env["MIGRATE_SLACK_TOKEN"],
                  retry_handlers=[DecimalRetryAfter(max_retry_count=50)])
posted = 0


def get(url):
    while True:
        r = graph.get(url, timeout=60)
        if r.status_code == 429:
            time.sleep(float(r.headers.get("Retry-After", "1"))); continue
        r.raise_for_status(); return r.json()


def pages(url):
    while url:
        page = get(url); yield from page["value"]; url = page.get("@odata.nextLink")


def over():
    return time.monotonic() - started > budget


try:
    base = env["MIGRATE_GRAPH_URL"]
    for team in pages(base + "/teams"):
        for channel in pages(base + "/teams/" + team["id"] + "/channels"):
            url = base + "/teams/" + team["id"] + "/channels/" + channel["id"] + "/messages"
            thread = []
            for m in pages(url + "?$top=50"):
                thread.append((m, [r for r in pages(url + "/" + m["id"] + "/replies?$top=50")]))
                if over(): raise TimeoutError
            name = (team["displayName"] + "-" + channel["displayName"]).lower().replace(" ", "-")[:80]
            sid = slack.conversations_create(name=name)["channel"]["id"]
            for m, replies in sorted(thread, key=lambda t: t[0]["createdDateTime"]):
                ts = slack.chat_postMessage(channel=sid, text=m["body"]["content"] or "-")["ts"]
                posted += 1
                for r in sorted(replies, key=lambda r: r["createdDateTime"]):
                    slack.chat_postMessage(channel=sid, text=r["body"]["content"] or "-", thread_ts=ts)
                    posted += 1
                if over(): raise TimeoutError
except TimeoutError:
    pass
json.dump({"seconds": time.monotonic() - started, "posted": posted}, open(out, "w"))
'''


# -------------------------------------------------------------------------------- parent


def _write_json(path: Path, data: dict) -> None:
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


class Served:
    """A fresh pair of emulators for one shape, in a child process."""

    def __init__(self, args: argparse.Namespace, shape: str, scratch: Path,
                 workspaces: int = 0) -> None:
        args = argparse.Namespace(**{**vars(args), "workspaces": workspaces})
        folder = Path(tempfile.mkdtemp(dir=scratch))
        self.info_file, self.result = folder / "info.json", folder / "result.json"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--role", "serve", "--shape", shape, "--seed",
             str(args.seed), "--rate-scale", str(args.rate_scale), "--latency", str(args.latency),
             "--workspaces", str(getattr(args, "workspaces", 0)),
             "--info-file",
             str(self.info_file), "--result", str(self.result)],
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        while not self.info_file.exists():
            if self.proc.poll() is not None:
                raise SystemExit("the emulators did not start")
            time.sleep(0.1)
        self.info = json.loads(self.info_file.read_text())

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        return json.loads(self.result.read_text())


def ceiling(posts: dict[str, int], rate_scale: float) -> float:
    from migrate.config import SlackSettings
    from migrate.load.limits import ceiling_seconds, slack_limits

    return ceiling_seconds(posts, slack_limits(SlackSettings(rate_scale=rate_scale)))


def bench_migrate(args: argparse.Namespace, shape: str, scratch: Path) -> dict:
    served = Served(args, shape, scratch)
    workdir = scratch / f"migrate-{shape}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATE_")}
    env.update(served.info["env"], PYTHONPATH=str(ROOT), MIGRATE_WORKDIR=str(workdir))
    try:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "migrate", "--json", "run", "--yes"],
                              env=env, capture_output=True, text=True, timeout=1800)
        wall = time.monotonic() - started
    finally:
        slack = served.stop()
    if proc.returncode != 0:
        raise SystemExit(f"migrate run ({shape}) exited {proc.returncode}: {proc.stderr[-2000:]}")
    doc = json.loads(proc.stdout)
    calls = sum(doc["slack"]["calls"].values())
    limited = sum(doc["slack"]["ratelimited"].values())
    estimate = doc["plan"]["estimate_seconds"] or 0.0
    limit = ceiling(slack["posts"], args.rate_scale)
    return {"shape": shape, "messages": served.info["messages"],
            "posts": sum(slack["posts"].values()), "ceiling_s": round(limit, 2),
            "wall_s": round(wall, 2), "efficiency": round(limit / wall, 3),
            "calls": calls, "ratelimited": limited, "share_429": round(limited / max(1, calls), 4),
            "run_estimate_s": round(estimate, 1)}


def bench_plan_then_run(args: argparse.Namespace, shape: str, scratch: Path) -> dict:
    """The reviewed flow on a fresh pair: `migrate plan` (which exports), then `migrate run
    --yes` timed; the plan's estimate against that run's wall time, phase by phase."""
    served = Served(args, shape, scratch)
    workdir = scratch / f"reviewed-{shape}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATE_")}
    env.update(served.info["env"], PYTHONPATH=str(ROOT), MIGRATE_WORKDIR=str(workdir))
    try:
        planned = subprocess.run([sys.executable, "-m", "migrate", "--json", "plan"], env=env,
                                 capture_output=True, text=True, timeout=1800)
        if planned.returncode != 0:
            raise SystemExit(f"migrate plan ({shape}) exited {planned.returncode}: "
                             f"{planned.stderr[-2000:]}")
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "migrate", "--json", "run", "--yes"],
                              env=env, capture_output=True, text=True, timeout=1800)
        wall = time.monotonic() - started
    finally:
        served.stop()
    if proc.returncode != 0:
        raise SystemExit(f"migrate run ({shape}) exited {proc.returncode}: {proc.stderr[-2000:]}")
    estimate = json.loads(planned.stdout)["estimate"]
    doc = json.loads(proc.stdout)
    return {"estimate_s": estimate["seconds"], "reviewed_wall_s": round(wall, 2),
            "estimate_error": round((estimate["seconds"] - wall) / wall, 3),
            "estimate_phases": estimate.get("phases", {}),
            "actual_phases": (doc.get("phases") or {})}


GRID_CONFIG = {1: [("all", ["*"])],
               2: [("first", ["Team 00*", "Team 01*"]), ("second", ["*"])]}


def bench_grid(args: argparse.Namespace, scratch: Path) -> dict:
    """The forty-teams tenant into one workspace of an Enterprise Grid org, then into two (the
    teams split in half by [[workspaces]]): `migrate run --yes` wall time for each, and the
    speed-up. Each workspace has its own posting budget, so two should take about half."""
    from migrate.sandbox.slack_org import workspace_token

    out: dict = {}
    for count, spaces in GRID_CONFIG.items():
        served = Served(args, "forty-teams", scratch, workspaces=count)
        folder = scratch / f"grid-{count}"
        folder.mkdir()
        tables = "".join(f'[[workspaces]]\nname = "{name}"\nteams = {json.dumps(teams)}\n'
                         f'token_env = "SLACK_TOKEN_{k}"\n\n'
                         for k, (name, teams) in enumerate(spaces))
        (folder / "migrate.toml").write_text(tables)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATE_")}
        env.update(served.info["env"], PYTHONPATH=str(ROOT), MIGRATE_WORKDIR=str(folder / "work"),
                   MIGRATE_CONFIG=str(folder / "migrate.toml"),
                   **{f"SLACK_TOKEN_{k}": workspace_token(f"T0SYNTH{k}") for k in range(count)})
        try:
            started = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "migrate", "--json", "run", "--yes"],
                                  env=env, capture_output=True, text=True, timeout=1800)
            wall = time.monotonic() - started
        finally:
            slack = served.stop()
        if proc.returncode != 0:
            raise SystemExit(f"migrate run into {count} workspace(s) exited {proc.returncode}: "
                             f"{proc.stderr[-2000:]}")
        limit = max(ceiling(posts, args.rate_scale) for posts in slack["per_workspace"].values())
        out[count] = {"workspaces": count, "wall_s": round(wall, 2), "ceiling_s": round(limit, 2),
                      "posts": sum(sum(p.values()) for p in slack["per_workspace"].values())}
    out["speedup"] = round(out[1]["wall_s"] / out[2]["wall_s"], 2)
    return out


def bench_naive(args: argparse.Namespace, shape: str, scratch: Path, posts: int) -> dict:
    served = Served(args, shape, scratch)
    out = scratch / f"naive-{shape}.json"
    try:
        proc = subprocess.run([sys.executable, "-c", NAIVE, str(served.info_file),
                               str(args.rate_scale), str(args.naive_budget), str(out)],
                              timeout=args.naive_budget + 600, capture_output=True, text=True)
    finally:
        slack = served.stop()
    if proc.returncode != 0:
        raise SystemExit(f"the naive script ({shape}) failed: {proc.stderr[-2000:]}")
    figures = json.loads(out.read_text())
    done = max(figures["posted"], 1)
    total = figures["seconds"] * max(posts, done) / done
    limit = ceiling(slack["posts"], args.rate_scale) * max(posts, done) / done
    return {"shape": shape, "seconds": round(figures["seconds"], 1), "posted": figures["posted"],
            "estimated_total_s": round(total, 1), "efficiency": round(limit / total, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--rate-scale", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.25,
                        help="seconds each Graph answer takes (real Graph: a few hundred ms)")
    parser.add_argument("--naive-budget", type=float, default=60.0,
                        help="seconds the naive script may run")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "run.json")
    parser.add_argument("--role", choices=("serve",), help=argparse.SUPPRESS)
    parser.add_argument("--shape", choices=list(SHAPES), help=argparse.SUPPRESS)
    parser.add_argument("--info-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workspaces", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-grid", action="store_true",
                        help="skip the one-workspace / two-workspaces comparison")
    args = parser.parse_args()
    if args.role == "serve":
        role_serve(args)
        return
    random.seed(args.seed)
    rows, naive = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes:
            rows.append(bench_migrate(args, shape, Path(tmp)))
            rows[-1].update(bench_plan_then_run(args, shape, Path(tmp)))
            if not args.no_naive:
                naive.append(bench_naive(args, shape, Path(tmp), rows[-1]["posts"]))
        grid = None if args.no_grid else bench_grid(args, Path(tmp))
    print(f"{'shape':13}{'posts':>7}{'ceiling':>9}{'wall':>8}{'effic.':>8}{'429s':>8}"
          f"{'estimate':>10}{'error':>8}{'naive':>9}{'n.effic':>8}")
    for n, row in enumerate(rows):
        baseline = naive[n] if naive else None
        print(f"{row['shape']:13}{row['posts']:>7}{row['ceiling_s']:>8.1f}s{row['wall_s']:>7.1f}s"
              f"{row['efficiency']:>8.2f}{row['share_429']:>8.2%}{row['estimate_s']:>9.1f}s"
              f"{row['estimate_error']:>+8.0%}"
              + (f"{baseline['estimated_total_s']:>8.0f}s{baseline['efficiency']:>8.2f}"
                 if baseline else ""))
    if grid:
        for count in (1, 2):
            g = grid[count]
            print(f"grid: {g['posts']} posts into {count} workspace(s): {g['wall_s']:.1f} s "
                  f"(ceiling {g['ceiling_s']:.1f} s)")
        print(f"grid: two workspaces {grid['speedup']:.2f}x as fast as one")
    targets = {"efficiency>=0.9": all(r["efficiency"] >= 0.9 for r in rows),
               "429s<=0.5%": all(r["share_429"] <= 0.005 for r in rows),
               "estimate within 10%": all(abs(r["estimate_error"]) <= 0.10 for r in rows)}
    if grid:
        targets["two workspaces ~2x"] = grid["speedup"] >= 1.7
    print("targets:", ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rate_scale": args.rate_scale, "migrate": rows,
                                    "naive": naive, "grid": grid, "targets": targets},
                                   indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
