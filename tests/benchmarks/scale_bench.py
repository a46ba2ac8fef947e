"""Scale benchmark (a script, not a test): `python tests/benchmarks/scale_bench.py`.

For each N of --sizes (100,000 and 1,000,000 by default; `--long` adds 10,000,000), starts
`migrate sandbox --synthetic N` (a generated enterprise-shaped tenant, served lazily), then runs
`migrate export` and `migrate plan --no-export` against it as a user would, each in its own
process, and prints, and writes as JSON (--out, bench-results/scale.json):
  messages/s per stage, peak RSS per stage (the child's own VmHWM), the store's bytes
  per message, and the projection to 350,000 people at the largest N measured.
Targets (issue 15): export and plan under 300 MB peak RSS, within 1.3× from 100k to 1M.
`--people P` keeps the people fixed (the tenant grows only in history): memory that still
grows then follows the history, not the people.
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


def _migrate(args: list[str], env: dict[str, str], *, json_out: bool = True) -> dict:
    """Run `python -m migrate …`; its wall time, its own peak RSS and its JSON output (or
    none: `plan --json` prints the whole plan, hundreds of MB at 1M messages).

    The peak is the child's VmHWM, polled from /proc while it runs and checked against wait4's
    ru_maxrss: Linux carries a parent's high-water mark at fork() into the child's ru_maxrss
    (the forked copy of the parent's memory is the child's until exec), so a benchmark that
    once held a large document would report that figure for every later child."""
    import threading

    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "migrate", *(["--json"] if json_out else []),
                             *args], env=env, stdout=subprocess.PIPE if json_out else
                            subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    hwm = [0]
    watcher = threading.Thread(target=_watch_hwm, args=(proc.pid, hwm), daemon=True)
    watcher.start()
    out = proc.stdout.read() if json_out else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    watcher.join()
    seconds = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"migrate {' '.join(args)} failed ({proc.returncode}): {''.join(err)[-2000:]}")
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(hwm[0] / 1024),
            "ru_maxrss_mb": round(usage.ru_maxrss / 1024), "doc": json.loads(out or "{}")}


def _watch_hwm(pid: int, hwm: list[int]) -> None:
    """The child's VmHWM (kB) until it exits; it only grows, so the last read is the peak but
    for the final 50 ms."""
    path = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = path.read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                hwm[0] = max(hwm[0], int(line.split()[1]))
                break
        else:
            return                      # a zombie: its memory is gone
        time.sleep(0.05)


def measure(messages: int, seed: int, people: int | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "sandbox.env"
        base = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATE_")}
        base["PYTHONPATH"] = str(ROOT)
        sandbox = subprocess.Popen([sys.executable, "-m", "migrate", "sandbox", "--synthetic",
                                    str(messages), "--seed", str(seed), "--rate-scale", "1000",
                                    "--no-throttle", "--env-file", str(env_file),
                                    *(["--people", str(people)] if people else [])],
                                   env=base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not env_file.exists():
                if sandbox.poll() is not None:
                    raise SystemExit("the synthetic sandbox did not start")
                time.sleep(0.2)
            env = {**base, **dict(line.removeprefix("export ").split("=", 1)
                                  for line in env_file.read_text().splitlines() if line),
                   "MIGRATE_WORKDIR": str(Path(tmp) / "work")}
            export = _migrate(["export"], env)
            plan = _migrate(["plan", "--no-export"], env, json_out=False)
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=60)
        store = Path(tmp) / "work" / "state.db"
        found = export["doc"].get("found", {})
        stored = found.get("messages", 0) + found.get("chat_messages", 0)
        return {
            "messages": messages, "stored_messages": stored, "users": export["doc"].get("users"),
            "export": {"seconds": export["seconds"], "peak_rss_mb": export["peak_rss_mb"],
                       "messages_per_s": round(stored / max(export["seconds"], 1e-9))},
            "plan": {"seconds": plan["seconds"], "peak_rss_mb": plan["peak_rss_mb"],
                     "messages_per_s": round(stored / max(plan["seconds"], 1e-9))},
            "store_bytes_per_message": round(store.stat().st_size / max(stored, 1)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--long", action="store_true", help="also 10,000,000 messages (hours)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--people", type=int, default=None,
                        help="fix the number of people (default: one per 30 messages, as in a "
                        "real tenant) to measure what grows with history alone")
    parser.add_argument("--out", type=Path, default=None,
                        help="default bench-results/scale.json (scale-people-P.json with --people)")
    args = parser.parse_args()
    args.out = args.out or ROOT / "bench-results" / (
        f"scale-people-{args.people}.json" if args.people else "scale.json")
    sizes = sorted(set(args.sizes + ([10_000_000] if args.long else [])))
    results = []
    for size in sizes:
        got = measure(size, args.seed, args.people)
        results.append(got)
        print(f"{size:>11,} messages ({got['users']:,} people): export {got['export']['seconds']} s "
              f"({got['export']['messages_per_s']:,}/s, {got['export']['peak_rss_mb']} MB), plan "
              f"{got['plan']['seconds']} s ({got['plan']['messages_per_s']:,}/s, "
              f"{got['plan']['peak_rss_mb']} MB), store {got['store_bytes_per_message']} B/message",
              flush=True)
    first, last = results[0], results[-1]
    verdict = {}
    for stage in ("export", "plan"):
        growth = last[stage]["peak_rss_mb"] / max(1, first[stage]["peak_rss_mb"])
        verdict[stage] = {"rss_growth": round(growth, 2),
                          "under_300mb": last[stage]["peak_rss_mb"] < 300, "flat": growth < 1.3}
        print(f"{stage}: peak RSS {first[stage]['peak_rss_mb']} → {last[stage]['peak_rss_mb']} MB "
              f"({growth:.2f}×): {'met' if growth < 1.3 and last[stage]['peak_rss_mb'] < 300 else 'MISSED'}")
    people = 350_000
    per_person = last["messages"] / max(1, last["users"] or 1)
    projection = {"people": people, "messages": round(people * per_person),
                  "export_hours": round(people * per_person / max(1, last["export"]["messages_per_s"]) / 3600, 1),
                  "store_gb": round(people * per_person * last["store_bytes_per_message"] / 2**30, 1)}
    print(f"projection for {people:,} people (~{projection['messages']:,} messages at this shape): "
          f"export ≈ {projection['export_hours']} h on one runner at the measured rate, store ≈ "
          f"{projection['store_gb']} GB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"results": results, "verdict": verdict,
                                    "projection": projection}, indent=2) + "\n")


if __name__ == "__main__":
    main()
