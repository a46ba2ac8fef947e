"""Import benchmark (a script, not a test): `python tests/benchmarks/import_bench.py`.

A synthetic Plan (default 40 channels, 8,000 messages, uneven channel sizes, a share of thread
replies, a handful of files) is imported by our Importer into a fresh Slack emulator (real HTTP
on 127.0.0.1, its own process) at a fixed rate scale, then by a naive script on another fresh
emulator. For both the script prints:
  ceiling  DESIGN §5: max(max_c n_c / r_channel, Σ n_c / r_workspace) at the scaled limits,
           n_c counting the posts of channel c and its file shares (a share is a post, §1.7)
  actual   wall time of the import;  efficiency = ceiling / actual
  429s     as a share of all Web API calls (the emulator's counters)
  RSS      peak RSS of the importing process;  CPU per posted message
The naive script is what an admin typically writes: slack_sdk's WebClient with a rate-limit
retry handler, each channel created and then its messages posted in order, channel after
channel. Sequential channels make it bound by the per-channel rate, so it runs for at most
--naive-budget seconds and its total is extrapolated from the share of its posts done.
Targets: efficiency ≥ 0.9, 429s ≤ 1 % of calls, faster than the naive script.

Every measured job runs in a child process (peak RSS from wait4), and so does each emulator.
The parent stays small because a child's peak RSS counts its parent's pages at fork time.
The children rebuild the same Plan from the seed; nothing big crosses a process boundary.
Figures are written as JSON (--json, default bench-results/import.json like export_bench's).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from migrate.config import SlackSettings  # noqa: E402
from migrate.load.limits import ceiling_seconds, slack_limits  # noqa: E402
from tests.benchmarks.measure import run_measured  # noqa: E402

POST_CAP_PER_MINUTE = 300.0     # the emulator's and the tool's default workspace cap
MAX_SIZE_RATIO = 12.0           # biggest channel ≤ 12 × the smallest (keeps the shape stable)


# ---------------------------------------------------------------------------------- the plan


def synthetic_plan(args: argparse.Namespace, files_dir: Path | None = None):
    """The Plan `migrate plan` would make for a tenant of this shape (deterministic for a seed).

    Channel sizes are heavy-tailed (a few busy channels, many quiet ones) and shuffled, so the
    busiest channel is not simply first. Within a channel, posts come in Plan order: each root
    followed by its thread; ~1 % of messages are long enough to need a second part. When
    `files_dir` is given, the uploads' bytes are written where the importer reads them.
    """
    from migrate.plan.build import ChannelPlan, Plan, Post, Upload

    rng = random.Random(args.seed)
    weights = [min(rng.paretovariate(args.skew), MAX_SIZE_RATIO) for _ in range(args.channels)]
    total = args.channels * args.messages
    sizes = [max(1, round(total * w / sum(weights))) for w in weights]
    rng.shuffle(sizes)
    stamp = 1_672_531_200_000  # 2023-01-01 in epoch ms: Teams message ids are creation times
    plan = Plan(as_of=None)
    for c, size in enumerate(sizes):
        cid = f"19:{c:032x}@thread.tacv2"
        roots: list[str] = []
        threads: dict[str, list[str]] = {}
        for _ in range(size):
            stamp += rng.randint(1, 60_000)
            mid = str(stamp)
            if roots and rng.random() < args.reply_share:
                threads[rng.choice(roots[-8:])].append(mid)  # replies go to recent threads
            else:
                roots.append(mid)
                threads[mid] = []
        posts = []
        for root in roots:
            for mid, root_id in [(root, None)] + [(reply, root) for reply in threads[root]]:
                author = rng.randrange(200)
                text = f"Message {mid} in channel {c}: " + "lorem ipsum " * rng.randint(1, 30)
                parts = 2 if rng.random() < 0.01 else 1
                for part in range(parts):
                    # A root's later parts go into its own thread (as build_plan does).
                    posts.append(Post(
                        f"post:{cid}:{mid}:{part}", cid, mid,
                        root_id if (root_id or part == 0) else mid, part,
                        text if part == 0 else f"(part {part + 1}) " + text, f"User {author:04d}",
                        f"https://avatars.example.test/{author}.png", _iso(int(mid))))
        plan.channels.append(ChannelPlan(
            cid, f"team-{c % 5}", f"Team {c % 5}", f"Channel {c:03d}", "create",
            f"bench-channel-{c:03d}", None, False, None, None, False, None, None, (),
            posts=len(posts), uploads=0))
        plan.posts.extend(posts)
    # A handful of files, each on a random message, shared into that message's thread.
    for n in range(args.uploads):
        post = rng.choice(plan.posts)
        data = f"file {n} of the import benchmark\n".encode() * 40
        sha = hashlib.sha256(data).hexdigest()
        if files_dir is not None:
            (files_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
            (files_dir / sha[:2] / sha).write_bytes(data)
        plan.uploads.append(Upload(
            f"file:{post.channel}:{post.message_id}:hostedContent:hc{n}", post.channel,
            post.message_id, post.root_id or post.message_id, "hostedContent", f"hc{n}",
            f"notes-{n}.txt", sha, len(data), "text/plain"))
    files = Counter(u.channel for u in plan.uploads)
    plan.channels = [replace(cp, uploads=files[cp.teams_channel_id]) for cp in plan.channels]
    return plan


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def posts_per_channel(plan) -> dict[str, int]:
    """n_c of DESIGN §5 for each Teams channel: its posts plus its file shares."""
    n = Counter(p.channel for p in plan.posts)
    n.update(u.channel for u in plan.uploads)
    return dict(n)


# ---------------------------------------------------------------------------------- children


def role_emulator(args: argparse.Namespace) -> None:
    """Serve a fresh SlackEmulator until SIGTERM, then write its counters and what Slack holds
    (checked against the Plan with --verify: every post once, in order, in the right thread)."""
    from migrate.sandbox.slack_emulator import SlackEmulator
    from migrate.sandbox.synthetic import synthetic_tenant, synthetic_workspace

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workspace = synthetic_workspace(synthetic_tenant(teams=1, channels=1, messages=1, users=20,
                                                     seed=args.seed), seed=args.seed)
    with SlackEmulator(workspace, rate_scale=args.rate_scale,
                       post_cap_per_minute=POST_CAP_PER_MINUTE) as emu:
        _write_json(args.info_file, {"url": emu.url})
        stop.wait()
        summary = {"counters": emu.counters(),
                   "slack": check_slack(emu.state(), synthetic_plan(args) if args.verify else None)}
    _write_json(args.result, summary)


def check_slack(state: dict, plan) -> dict:
    """Counts of what the benchmark's channels hold; with a Plan, also the problems found: a
    channel missing, posts missing, doubled or out of order, a post outside its thread, files."""
    names = {c["id"]: c["name"] for c in state["channels"]}
    counts: Counter[str] = Counter()
    for cid, messages in state["messages"].items():
        if names.get(cid, "").startswith("bench-channel-"):
            counts["channels"] += 1
            for m in messages:
                counts["messages"] += 1
                counts["replies"] += bool(m.get("thread_ts") and m["thread_ts"] != m["ts"])
                counts["files"] += len(m.get("files") or [])
    out: dict = dict(counts)
    if plan is None:
        return out
    problems: list[str] = []
    by_name = {name: cid for cid, name in names.items()}
    posts: dict[str, list] = {}
    for post in plan.posts:
        posts.setdefault(post.channel, []).append(post)
    files = Counter(u.channel for u in plan.uploads)
    for cp in plan.channels:
        cid = by_name.get(cp.slack_name)
        if cid is None:
            problems.append(f"#{cp.slack_name} was not created")
            continue
        messages = state["messages"][cid]
        tagged = [(m, (m.get("metadata") or {}).get("event_payload") or {}) for m in messages]
        got = [(p["teams_message_id"], int(p["part"])) for _, p in tagged if p]
        want_posts = posts.get(cp.teams_channel_id, [])
        want = [(p.message_id, p.part) for p in want_posts]
        if got != want:  # ts order is posting order: this also checks order and duplicates
            problems.append(f"#{cp.slack_name}: {len(got)} posts, expected {len(want)}"
                            + (" (same count, other order)" if len(got) == len(want) else ""))
            continue
        posted = [m for m, p in tagged if p]  # one per planned post, in Plan order (checked)
        ts = {(p.message_id, p.part): m["ts"] for m, p in zip(posted, want_posts, strict=True)}
        for m, post in zip(posted, want_posts, strict=True):
            expected = ts[(post.root_id, 0)] if post.root_id else m["ts"]
            if m.get("thread_ts", m["ts"]) != expected:
                problems.append(f"#{cp.slack_name}: {post.key} is not in its thread")
                break
        got_files = sum(len(m.get("files") or []) for m in messages)
        if got_files != files[cp.teams_channel_id]:
            problems.append(f"#{cp.slack_name}: {got_files} files, expected "
                            f"{files[cp.teams_channel_id]}")
    out["problems"] = problems[:10]
    out["ok"] = not problems
    return out


def role_import(args: argparse.Namespace) -> None:
    """Our importer, exactly as `migrate run` wires it (the measured child)."""
    from migrate.load.client import SlackClient
    from migrate.load.importer import Importer
    from migrate.load.scheduler import Scheduler
    from migrate.sandbox.tenant import SANDBOX_SLACK_TOKEN
    from migrate.store import Store

    work = Path(args.workdir)
    began = time.monotonic()
    plan = synthetic_plan(args, work / "files")
    plan_s = time.monotonic() - began
    stamps: list[float] = []  # when each post or file share was accepted (the profile)

    class TimedClient(SlackClient):
        def post_message(self, *a, **kw):
            answer = super().post_message(*a, **kw)
            stamps.append(time.monotonic())  # list.append is atomic: no lock needed
            return answer

        def complete_upload(self, *a, **kw):
            answer = super().complete_upload(*a, **kw)
            stamps.append(time.monotonic())
            return answer

    settings = SlackSettings(url=args.url, token=SANDBOX_SLACK_TOKEN, rate_scale=args.rate_scale,
                             post_cap_per_minute=POST_CAP_PER_MINUTE)
    store = Store.open(work / "state")
    scheduler = Scheduler(slack_limits(settings))
    importer = Importer(plan, store, TimedClient(settings), scheduler, files_dir=work / "files")
    cpu = time.process_time()
    started = time.monotonic()
    result = importer.run(workers=args.workers)
    cpu = time.process_time() - cpu
    store.close()
    _write_json(args.result, {
        "per_channel": posts_per_channel(plan), "plan_s": round(plan_s, 2),
        "seconds": result.seconds, "cpu_s": cpu, "result": result.as_dict(),
        "scheduler": scheduler.stats.as_dict(),
        "post_times": [round(t - started, 3) for t in stamps]})


def role_naive(args: argparse.Namespace) -> None:
    """The baseline: a straightforward admin script over the same Plan."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    from migrate.sandbox.tenant import SANDBOX_SLACK_TOKEN

    class DecimalRetryAfter(RateLimitErrorRetryHandler):
        """slack_sdk's RateLimitErrorRetryHandler, parsing Retry-After as a float.

        The stock handler does int(Retry-After) and the emulator sends decimals above rate
        scale 1 (DESIGN §5), which would crash the script. Its jitter (up to 1 s on top of a
        whole-second Retry-After) is divided by the rate scale so that the time compression
        neither favours nor penalises the baseline.
        """

        def prepare_for_next_attempt(self, *, state, request, response=None, error=None) -> None:
            if response is None:
                raise error  # type: ignore[misc]
            state.next_attempt_requested = True
            value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"),
                         None)
            wait = float(value[0] if isinstance(value, list) else value) if value else 1.0
            time.sleep(wait + random.random() / args.rate_scale)
            state.increment_current_attempt()

    work = Path(args.workdir)
    plan = synthetic_plan(args, work / "files")
    client = WebClient(base_url=args.url, token=SANDBOX_SLACK_TOKEN,
                       retry_handlers=[DecimalRetryAfter(max_retry_count=50)])
    posts: dict[str, list] = {}
    for post in plan.posts:
        posts.setdefault(post.channel, []).append(post)
    uploads: dict[tuple[str, str], list] = {}
    for upload in plan.uploads:
        uploads.setdefault((upload.channel, upload.message_id), []).append(upload)
    done: Counter[str] = Counter()
    error = None
    cpu = time.process_time()
    started = time.monotonic()

    def out_of_time() -> bool:
        return bool(args.budget) and time.monotonic() - started > args.budget

    def migrate_channel(cp) -> bool:
        """Create the channel, then post its messages in order; False when out of time."""
        channel = client.conversations_create(name=cp.slack_name)["channel"]["id"]
        done["channels"] += 1
        threads: dict[str, str] = {}
        items = posts.get(cp.teams_channel_id, [])
        for i, post in enumerate(items):
            if out_of_time():
                return False
            answer = client.chat_postMessage(
                channel=channel, text=post.text, username=post.username, icon_url=post.icon_url,
                thread_ts=threads.get(post.root_id or ""))
            if post.root_id is None:
                threads[post.message_id] = answer["ts"]
            done["posts"] += 1
            if i + 1 < len(items) and items[i + 1].message_id == post.message_id:
                continue  # files go after the message's last part
            for upload in uploads.get((post.channel, post.message_id), []):
                path = work / "files" / upload.sha256[:2] / upload.sha256
                client.files_upload_v2(channel=channel, content=path.read_bytes(),
                                       filename=upload.name, thread_ts=threads[upload.thread_of])
                done["posts"] += 1  # a file share is a post (§1.7)
        return True

    try:
        for cp in plan.channels:
            if out_of_time() or not migrate_channel(cp):
                break
    except Exception as exc:  # a typical script dies on the first error: record it and stop
        error = f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.monotonic() - started
    _write_json(args.result, {"per_channel": posts_per_channel(plan), "seconds": seconds,
                              "cpu_s": time.process_time() - cpu, "done": dict(done),
                              "error": error})


# ---------------------------------------------------------------------------------- parent


def _write_json(path: Path, data: dict) -> None:
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _child_cmd(args: argparse.Namespace, role: str, **extra) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--role", role,
           "--rate-scale", str(args.rate_scale), "--channels", str(args.channels),
           "--messages", str(args.messages), "--reply-share", str(args.reply_share),
           "--uploads", str(args.uploads), "--skew", str(args.skew), "--seed", str(args.seed),
           "--workers", str(args.workers)]
    for key, value in extra.items():
        if value is True:
            cmd.append(f"--{key.replace('_', '-')}")
        elif value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    return cmd


class Emulator:
    """A SlackEmulator in its own process; stop() returns its summary."""

    def __init__(self, args: argparse.Namespace, scratch: Path, *, verify: bool) -> None:
        folder = Path(tempfile.mkdtemp(dir=scratch))
        self.info, self.summary = folder / "info.json", folder / "summary.json"
        self.proc = subprocess.Popen(_child_cmd(args, "emulator", info_file=self.info,
                                                result=self.summary, verify=verify or None))
        while not self.info.exists():
            if self.proc.poll() is not None:
                raise SystemExit("the Slack emulator process died")
            time.sleep(0.05)
        self.url = json.loads(self.info.read_text())["url"]

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=300)
        return json.loads(self.summary.read_text())


def ceiling(per_channel: dict[str, int], rate_scale: float) -> tuple[float, str]:
    limits = slack_limits(SlackSettings(rate_scale=rate_scale,
                                        post_cap_per_minute=POST_CAP_PER_MINUTE))
    busiest = max(per_channel.values()) / limits.post_per_channel
    workspace = sum(per_channel.values()) / limits.post_workspace
    return ceiling_seconds(per_channel, limits), ("busiest channel" if busiest > workspace
                                                  else "workspace cap")


def share_429(counters: dict) -> tuple[int, int, float]:
    calls = sum(counters["calls"].values())
    limited = sum(counters["ratelimited"].values())
    return calls, limited, limited / max(1, calls)


def profile(times: list[float], window: float) -> list[float]:
    """Accepted posts per second in consecutive windows of `window` seconds from the start of
    the run. The last window is as long as what is left of the run, and left out when that is
    under a second (its rate would be noise)."""
    if not times:
        return []
    end = max(times)
    buckets = Counter(int(t // window) for t in times)
    rates = []
    for i in range(int(end // window) + 1):
        length = min(window, end - i * window)
        if length >= 1.0:
            rates.append(round(buckets.get(i, 0) / length, 1))
    return rates


def bench_import(args: argparse.Namespace, scratch: Path) -> dict:
    emulator = Emulator(args, scratch, verify=True)
    workdir, result_file = scratch / "import", scratch / "import.json"
    try:
        wall, code, rss, cpu_total = run_measured(
            _child_cmd(args, "import", url=emulator.url, workdir=workdir, result=result_file),
            timeout=args.timeout)
    finally:
        summary = emulator.stop()
    if code != 0 or not result_file.exists():
        raise SystemExit(f"the import child failed (exit {code})")
    child = json.loads(result_file.read_text())
    bound, binding = ceiling(child["per_channel"], args.rate_scale)
    calls, limited, share = share_429(summary["counters"])
    posted = child["result"]["posts_done"] + child["result"]["outcomes"].get("file", {}).get(
        "uploaded", 0)
    times = child["post_times"]
    return {"ceiling_s": round(bound, 2), "binding": binding, "actual_s": round(child["seconds"], 2),
            "efficiency": round(bound / child["seconds"], 3), "calls": calls, "ratelimited": limited,
            "ratelimited_share": round(share, 4), "calls_by_method": summary["counters"]["calls"],
            "peak_rss_mb": round(rss / 2**20, 1), "cpu_s": round(child["cpu_s"], 2),
            "cpu_us_per_message": round(child["cpu_s"] / max(1, posted) * 1e6, 1),
            "process_wall_s": round(wall, 2), "process_cpu_s": round(cpu_total, 2),
            "plan_build_s": child["plan_s"], "posted": posted,
            "first_post_s": times and round(min(times), 2), "last_post_s": times and round(max(times), 2),
            "posts_per_s_by_5s": profile(times, 5.0), "importer": child["result"],
            "scheduler": child["scheduler"], "slack": summary["slack"]}


def bench_naive(args: argparse.Namespace, scratch: Path) -> dict:
    emulator = Emulator(args, scratch, verify=False)
    result_file = scratch / "naive.json"
    try:
        wall, code, rss, _cpu = run_measured(
            _child_cmd(args, "naive", url=emulator.url, workdir=scratch / "naive",
                       result=result_file, budget=args.naive_budget),
            timeout=args.timeout)
    finally:
        summary = emulator.stop()
    if not result_file.exists():
        raise SystemExit(f"the naive child failed (exit {code})")
    child = json.loads(result_file.read_text())
    per_channel = child["per_channel"]
    needed = sum(per_channel.values())
    done = child["done"].get("posts", 0)
    completed = done / needed
    limits = slack_limits(SlackSettings(rate_scale=args.rate_scale))
    # No script posting one channel at a time can beat Σ (n_c - burst) / r_channel: the emulator
    # lets each channel start with one second's worth of posts, then refills at r_channel.
    burst = max(1.0, limits.post_per_channel)
    floor = sum(max(0.0, n - burst) for n in per_channel.values()) / limits.post_per_channel
    # Linear in posts: past its burst each post costs the script about 1/r_channel. When the
    # budget ends early in small channels the burst makes the line too optimistic, so the
    # estimate is never taken below the floor.
    linear = child["seconds"] / max(completed, 1e-9)
    estimated = linear if completed >= 1 else max(linear, floor)
    bound, binding = ceiling(per_channel, args.rate_scale)
    calls, limited, share = share_429(summary["counters"])
    return {"ceiling_s": round(bound, 2), "binding": binding, "actual_s": round(child["seconds"], 2),
            "completed_share": round(completed, 4), "linear_estimate_s": round(linear, 1),
            "estimated_total_s": round(estimated, 1),
            "efficiency": round(bound / estimated, 3), "calls": calls, "ratelimited": limited,
            "ratelimited_share": round(share, 4), "peak_rss_mb": round(rss / 2**20, 1),
            "cpu_s": round(child["cpu_s"], 2),
            "cpu_us_per_message": round(child["cpu_s"] / max(1, done) * 1e6, 1),
            "posted": done, "channels_created": child["done"].get("channels", 0),
            "sequential_floor_s": round(floor, 1),
            "error": child["error"], "slack": summary["slack"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 20: workspace cap 100 posts/s and 20/s per channel, so the default import takes ~80 s.
    parser.add_argument("--rate-scale", type=float, default=20.0)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--messages", type=int, default=200, help="average per channel")
    parser.add_argument("--reply-share", type=float, default=0.3)
    parser.add_argument("--uploads", type=int, default=8)
    parser.add_argument("--skew", type=float, default=1.3, help="Pareto shape of channel sizes")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--naive-budget", type=float, default=30.0,
                        help="seconds the naive script may run (0: to the end)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per measured child")
    parser.add_argument("--json", "--out", dest="json", type=Path,
                        default=ROOT / "bench-results" / "import.json")
    # Internal: the children this script starts.
    parser.add_argument("--role", choices=("emulator", "import", "naive"), help=argparse.SUPPRESS)
    for name in ("--url", "--result", "--info-file", "--workdir", "--budget"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        args.result = Path(args.result)
        args.info_file = args.info_file and Path(args.info_file)
        args.budget = float(args.budget or 0)
        {"emulator": role_emulator, "import": role_import, "naive": role_naive}[args.role](args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        ours = bench_import(args, Path(tmp))
        naive = bench_naive(args, Path(tmp))
    targets = {"efficiency>=0.9": ours["efficiency"] >= 0.9,
               "429s<=1%": ours["ratelimited_share"] <= 0.01,
               "faster_than_naive": ours["actual_s"] < naive["estimated_total_s"]}
    result = {"plan": {"channels": args.channels, "messages_per_channel": args.messages,
                       "posts": ours["posted"], "reply_share": args.reply_share,
                       "uploads": args.uploads, "skew": args.skew, "seed": args.seed},
              "rate_scale": args.rate_scale, "workers": args.workers,
              "migrate": ours, "naive": naive, "targets": targets}

    print(f"plan: {args.channels} channels, {ours['posted']} posts (incl. {args.uploads} file "
          f"shares), rate scale {args.rate_scale:g}, {args.workers} workers")
    print(f"{'':10}{'ceiling':>9}{'actual':>9}{'effic.':>8}{'429s':>8}{'RSS MB':>8}{'CPU/msg':>9}"
          "  binding")
    for name, row in (("migrate", ours), ("naive", naive)):
        actual = row.get("estimated_total_s", row["actual_s"])
        print(f"{name:10}{row['ceiling_s']:>8.1f}s{actual:>8.1f}s{row['efficiency']:>8.3f}"
              f"{row['ratelimited_share']:>8.2%}{row['peak_rss_mb']:>8.1f}"
              f"{row['cpu_us_per_message']:>7.0f}us  {row['binding']}")
    print(f"migrate: {ours['calls']} calls, {ours['ratelimited']} answered 429; first post at "
          f"{ours['first_post_s']}s, last at {ours['last_post_s']}s; posts/s per 5 s: "
          + " ".join(f"{v:g}" for v in ours["posts_per_s_by_5s"]))
    slack = ours["slack"]
    print(f"migrate: Slack holds {slack.get('messages', 0)} messages ({slack.get('replies', 0)} in "
          f"threads, {slack.get('files', 0)} files) in {slack.get('channels', 0)} channels; "
          + ("every post once, in order, in its thread" if slack.get("ok")
             else f"PROBLEMS: {slack.get('problems')}"))
    if naive["completed_share"] < 1:
        print(f"naive: stopped after {naive['actual_s']:.0f}s at {naive['completed_share']:.1%} of "
              f"its posts ({naive['posted']}); total estimated as the larger of the linear "
              f"extrapolation ({naive['linear_estimate_s']:.0f}s) and the floor no sequential "
              f"script can beat, Σ(n_c - burst)/r_channel ({naive['sequential_floor_s']:.0f}s)")
    if naive["error"]:
        print(f"naive: died on {naive['error']}")
    print("targets:", ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in targets.items()))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
