"""Export benchmark (a script, not a test): `python tests/benchmarks/export_bench.py`.

A synthetic tenant (default 100 teams, 400 channels, 60,000 messages) is served by the Graph
emulator in its own process at a fixed rate scale. The script prints, for `migrate export` and
for a naive exporter (sequential per-channel paging with a replies call per root, retrying on
429 — what a typical admin script does):
  ceiling  the least time the emulator's limits allow for the job (DESIGN §5 style: the
           busiest limiter scope's requests divided by its rate, bursts ignored)
  actual   wall time;  efficiency = ceiling / actual
  429s     as a share of requests;  peak RSS of the exporting process
and repeats `migrate export` on a third of the history to show memory does not grow with it.
The naive exporter runs for at most --naive-budget seconds; its total time is extrapolated
from the share of its requests done. Figures are written as JSON (--out). The tenant lives
only in the emulator's process: a forked child's peak RSS counts its parent's pages, so the
measuring process must stay small.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from migrate.sandbox.graph_emulator import LIMITS, TEAM_RPS  # noqa: E402
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN  # noqa: E402
from tests.benchmarks.measure import run_measured  # noqa: E402
from tests.benchmarks.serve_synthetic import tenant_args  # noqa: E402

PAGE = 50


def ceiling_seconds(info: dict, rate_scale: float) -> tuple[float, str]:
    """Least time for the requests an export needs, under the emulator's limits."""
    by_class: Counter[str] = Counter()
    by_team: Counter[str] = Counter()
    by_class["users"] += math.ceil(info["users"] / 999)
    by_class["teams"] += 1
    for team_id, n in info["teams"].items():
        pages = max(1, math.ceil(n / PAGE))
        for cls, count in (("team", 1), ("members", 1), ("channels", 1), ("getAllMessages", pages)):
            by_class[cls] += count
            by_team[team_id] += count
    bounds = {f"tenant {cls}": count / (LIMITS[cls][0] * rate_scale) for cls, count in by_class.items()}
    busiest, count = by_team.most_common(1)[0]
    bounds[f"team {busiest[:8]}"] = count / (TEAM_RPS * rate_scale)
    binding = max(bounds, key=bounds.get)
    return bounds[binding], binding


def naive_requests_needed(info: dict) -> int:
    total = 1 + len(info["teams"])
    for channel in info["channels"]:
        total += max(1, math.ceil(channel["roots"] / PAGE))
        total += sum(max(1, math.ceil(n / PAGE)) for n in channel["replies"])
    return total


def start_emulator(args, messages: int, scratch: Path) -> tuple[subprocess.Popen, dict]:
    info_file = Path(tempfile.mkdtemp(dir=scratch)) / "info.json"  # fresh per emulator
    cmd = [sys.executable, str(Path(__file__).with_name("serve_synthetic.py")), "--rate-scale",
           str(args.rate_scale), "--info-file", str(info_file), "--teams", str(args.teams),
           "--channels", str(args.channels), "--messages", str(messages), "--users",
           str(args.users), "--skew", str(args.skew), "--seed", str(args.seed)]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)})
    while not info_file.exists():
        if proc.poll() is not None:
            raise SystemExit("the emulator process died")
        time.sleep(0.1)
    return proc, json.loads(info_file.read_text())


def counters(url: str) -> dict:
    return requests.get(url.rsplit("/v1.0", 1)[0] + "/_control/counters", timeout=10).json()


def bench_migrate(args, messages: int, scratch: Path) -> dict:
    emu, info = start_emulator(args, messages, scratch)
    url = info["url"]
    ceiling, binding = ceiling_seconds(info, args.rate_scale)
    try:
        workdir = scratch / f"migrate-{messages}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MIGRATE_GRAPH_URL": url,
               "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN, "MIGRATE_GRAPH_RATE_SCALE": str(args.rate_scale),
               "MIGRATE_WORKDIR": str(workdir)}
        seconds, code, rss, cpu = run_measured(
            [sys.executable, "-m", "migrate", "export", "--graph-workers", "128"], env, quiet=True)
        figures = counters(url)
    finally:
        emu.send_signal(signal.SIGTERM)
        emu.wait()
    if code != 0:
        raise SystemExit(f"migrate export failed with exit {code}")
    stored = int(subprocess.check_output(
        [sys.executable, "-c", f"import sqlite3;print(sqlite3.connect({str(workdir / 'state.db')!r})"
         ".execute('select count(*) from teams_messages').fetchone()[0])"]))
    return {"messages": messages, "stored": stored, "ceiling_s": round(ceiling, 2), "binding": binding,
            "actual_s": round(seconds, 2), "efficiency": round(ceiling / seconds, 3),
            "requests": figures["requests"], "throttled": figures["throttled"],
            "throttled_share": round(figures["throttled"] / max(1, figures["requests"]), 4),
            "peak_rss_mb": round(rss / 2**20, 1), "cpu_s": round(cpu, 2),
            "cpu_us_per_message": round(cpu / max(1, stored) * 1e6, 1)}


NAIVE = r'''
import json, sys, time, requests
url, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
s = requests.Session(); s.headers["Authorization"] = "Bearer " + token
done = 0
def get(u):
    global done
    while True:
        r = s.get(u, timeout=60); done += 1
        if r.status_code == 429:
            time.sleep(float(r.headers.get("Retry-After", "1"))); continue
        r.raise_for_status(); return r.json()
def pages(u):
    while u:
        p = get(u); yield from p["value"]; u = p.get("@odata.nextLink")
try:
    with open(out, "w") as f:
        for g in pages(url + "/groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')"):
            for c in pages(url + "/teams/" + g["id"] + "/channels"):
                base = url + "/teams/" + g["id"] + "/channels/" + c["id"] + "/messages"
                for m in pages(base + "?$top=50"):
                    f.write(json.dumps(m) + "\n")
                    for r in pages(base + "/" + m["id"] + "/replies?$top=50"):
                        f.write(json.dumps(r) + "\n")
except KeyboardInterrupt:
    pass
print(done, file=sys.stderr)
'''


def bench_naive(args, scratch: Path) -> dict:
    emu, info = start_emulator(args, args.messages, scratch)
    url = info["url"]
    ceiling, binding = ceiling_seconds(info, args.rate_scale)
    needed = naive_requests_needed(info)
    try:
        env = {**os.environ}
        seconds, _code, rss, cpu = run_measured(
            [sys.executable, "-c", NAIVE, url, SANDBOX_GRAPH_TOKEN, str(scratch / "naive.jsonl")], env,
            timeout=args.naive_budget, quiet=True)
        figures = counters(url)
    finally:
        emu.send_signal(signal.SIGTERM)
        emu.wait()
    share_done = min(1.0, figures["requests"] / needed)
    estimated = seconds / max(share_done, 1e-9)
    return {"messages": args.messages, "ceiling_s": round(ceiling, 2), "binding": binding,
            "actual_s": round(seconds, 2), "completed_share": round(share_done, 4),
            "estimated_total_s": round(estimated, 1), "efficiency": round(ceiling / estimated, 4),
            "requests": figures["requests"], "throttled": figures["throttled"],
            "throttled_share": round(figures["throttled"] / max(1, figures["requests"]), 4),
            "peak_rss_mb": round(rss / 2**20, 1), "cpu_s": round(cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tenant_args(parser)
    # 1 = Graph's real limits: the figures then say how the tool does against the service.
    parser.add_argument("--rate-scale", type=float, default=1.0)
    parser.add_argument("--naive-budget", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "export.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        small = bench_migrate(args, max(1000, args.messages // 3), scratch)
        full = bench_migrate(args, args.messages, scratch)
        naive = bench_naive(args, scratch)
    result = {"tenant": {"teams": args.teams, "channels": args.channels, "messages": args.messages,
                         "users": args.users, "skew": args.skew, "seed": args.seed},
              "rate_scale": args.rate_scale, "migrate": full, "migrate_small_history": small,
              "naive": naive,
              "targets": {"efficiency>=0.85": full["efficiency"] >= 0.85,
                          "429s<=1%": full["throttled_share"] <= 0.01,
                          "rss<200MB": full["peak_rss_mb"] < 200,
                          "rss_flat": full["peak_rss_mb"] <= small["peak_rss_mb"] * 1.25 + 5}}
    print(f"{'':16}{'ceiling':>9}{'actual':>9}{'effic.':>8}{'429s':>8}{'RSS MB':>8}{'CPU/msg':>9}  binding")
    for name, row in (("migrate export", full), ("  (1/3 history)", small), ("naive", naive)):
        actual = row.get("estimated_total_s", row["actual_s"])
        per_message = f"{row['cpu_us_per_message']:.0f}us" if "cpu_us_per_message" in row else "-"
        print(f"{name:16}{row['ceiling_s']:>8.1f}s{actual:>8.1f}s{row['efficiency']:>8.3f}"
              f"{row['throttled_share']:>8.2%}{row['peak_rss_mb']:>8.1f}{per_message:>9}  {row['binding']}")
    if naive["completed_share"] < 1:
        print(f"naive: stopped after {naive['actual_s']:.0f}s at {naive['completed_share']:.1%} of its "
              "requests; its total is extrapolated")
    print("targets:", ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in result["targets"].items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
