"""Serve a synthetic tenant from its own process (so a benchmark measures only the client's
memory): `python tests/benchmarks/serve_synthetic.py --info-file F [sizes]`; runs until SIGTERM.
The info file (JSON, written once the emulator listens) holds its URL and the tenant's shape
(messages per team, roots and replies per channel) for the benchmark's ceiling."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections import Counter
from pathlib import Path

from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.synthetic import synthetic_tenant


def tenant_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--channels", type=int, default=400)
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--skew", type=float, default=2.5)
    parser.add_argument("--seed", type=int, default=42)


def build(args: argparse.Namespace):
    return synthetic_tenant(teams=args.teams, channels=args.channels, messages=args.messages,
                            users=args.users, skew=args.skew, seed=args.seed)


def main() -> None:
    parser = argparse.ArgumentParser()
    tenant_args(parser)
    parser.add_argument("--rate-scale", type=float, required=True)
    parser.add_argument("--info-file", type=Path, required=True)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    tenant = build(args)
    with GraphEmulator(tenant, rate_scale=args.rate_scale) as emu:
        info = {"url": emu.url, "users": len(tenant.users),
                "teams": {t.team["id"]: sum(len(c.messages) for c in t.channels) for t in tenant.teams},
                "channels": [shape(c.messages) for t in tenant.teams for c in t.channels]}
        tmp = args.info_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(args.info_file)
        stop.wait()


def shape(messages: list[dict]) -> dict:
    """Roots and the reply count of each root: what a per-channel reader must page through."""
    replies = Counter(m["replyToId"] for m in messages if m.get("replyToId"))
    roots = [m["id"] for m in messages if not m.get("replyToId")]
    return {"roots": len(roots), "replies": [replies.get(r, 0) for r in roots]}


if __name__ == "__main__":
    main()
