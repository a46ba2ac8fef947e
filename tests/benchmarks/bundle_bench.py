"""Bundle benchmark (a script, not a test): `python tests/benchmarks/bundle_bench.py`.

Builds a store of N channel messages (plan_bench's synthetic tenant: 2,000 people, 500
channels) for each N of --sizes (100,000 and 1,000,000 by default), then runs `migrate bundle`'s
writer in a child process and prints, and writes as JSON (--out):
  messages/s written, seconds, ZIPs and their MB, and the child's peak RSS.
The target (issue 14): memory flat with history — peak RSS at 1M within 1.3× of 100k.
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

from tests.benchmarks.plan_bench import build_store  # noqa: E402

CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from migrate.bundle.writer import BundleWriter
from migrate.config import load_settings
from migrate.load.directory import load_directory
from migrate.store import Store
store = Store.open(sys.argv[1])
settings = load_settings(None, environ={"MIGRATE_WORKDIR": sys.argv[1]})
started = time.monotonic()
cpu = time.process_time()
result = BundleWriter(store, settings, load_directory(store), split="year").run()
seconds = time.monotonic() - started
print(json.dumps({"seconds": round(seconds, 1), "cpu_s": round(time.process_time() - cpu, 1),
                  "messages": result.messages, "zips": len(result.bundles),
                  "zip_mb": round(sum(p.stat().st_size for p in result.bundles) / 2**20, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
'''


def measure(messages: int, channels: int, users: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        build_store(Path(tmp), users, channels, 5, max(1, messages // channels))
        setup = time.monotonic() - started
        out = subprocess.run([sys.executable, "-c", CHILD, tmp, str(ROOT)], capture_output=True,
                             text=True, env={**os.environ})
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        doc = json.loads(out.stdout)
        doc["messages_per_s"] = round(doc["messages"] / max(doc["seconds"], 1e-9))
        return {"store_setup_s": round(setup, 1), **doc}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "bundle.json")
    args = parser.parse_args()
    results = {}
    for size in args.sizes:
        got = measure(size, args.channels, args.users)
        results[str(size)] = got
        print(f"bundle of {got['messages']:,} messages: {got['messages_per_s']:,} messages/s "
              f"({got['seconds']} s, {got['cpu_s']} s CPU), {got['zips']} ZIPs of "
              f"{got['zip_mb']} MB, peak RSS {got['peak_rss_mb']} MB")
    sizes = sorted(results, key=int)
    growth = results[sizes[-1]]["peak_rss_mb"] / max(1, results[sizes[0]]["peak_rss_mb"])
    print(f"peak RSS growth {sizes[0]} → {sizes[-1]}: {growth:.2f}× "
          f"({'flat: met' if growth < 1.3 else 'MISSED: it grows with history'})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"results": results, "rss_growth": round(growth, 2)}, indent=2) + "\n")


if __name__ == "__main__":
    main()
