"""How long `migrate run` will take, from Slack's limits (load/limits.py) and what the plan
measured, and what would shorten it.

The whole run, phase by phase, as it really goes: the process starting, the export of what
is left (a few round trips after a plan), the read of Slack's directory and the plan (both as
long as the plan measured them), then the import. In the import, setup and posting overlap:
channels are created (and given purpose and topic) at their method tiers, busiest first, and
each posts as soon as it exists — at most 1 post/s per channel, all of them under the
workspace cap. So the import lasts the longest of: the time a channel exists plus its posts
at the channel rate (for every channel), the time the k-th channel exists plus every post of
it and of the channels after it at the workspace cap (for every k), and the calls beside
posting (invites, archiving, upload URLs) at their tiers. Uploads post into channels too, so
they count as posts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from migrate.load.limits import SlackLimits, ceiling_seconds

if TYPE_CHECKING:
    from migrate.plan.model import Plan
    from migrate.plan.tally import Tally

# A process's start (Python, imports, configuration, auth.test) before its first call,
# measured on the sandbox at 0.3–0.6 s.
STARTUP_S = 0.5
# The phases not bound by Slack's limits are modelled from counts, never measured here, so the
# same data gives the same plan (plan.json is compared byte for byte): a Slack call's round
# trip, and planning's cost per message (135 µs: 10M messages planned in 22.5 min,
# tests/benchmarks/scale_bench.py) over a fixed part (reading the store, writing reports).
SLACK_ROUND_TRIP_S = 0.15
PLAN_BASE_S = 0.1
PLAN_PER_MESSAGE_S = 135e-6
DIRECTORY_PAGE = 200        # users.list / conversations.list page size (load/directory.py)
# conversations.invite takes ≤ 100 users per call (the docs say 100 or 1000; the stricter one:
# https://docs.slack.dev/reference/methods/conversations.invite)
INVITE_BATCH = 100


@dataclass
class RunCosts:
    """What a run spends besides Slack's posting limits, in seconds (`run_costs`)."""

    export: float = 0.0          # the export of what is left (export/estimate.py)
    directory: float = 0.0       # reading Slack's users and channels
    plan: float = 0.0            # building the plan and its reports


def run_costs(source: dict[str, int], slack_users: int, slack_channels: int, *,
              chat_readers: int, graph_scale: float, slack_limits: SlackLimits) -> RunCosts:
    """The run's phases besides the import, from what the plan counted: the export of what is
    left (`source`: teams, messages found), Slack's directory (pages at their tier, each a
    round trip at least) and the planning itself."""
    from migrate.export.estimate import export_left_seconds

    directory = 0.0
    for method, count in (("users.list", slack_users), ("conversations.list", slack_channels)):
        pages = max(1, math.ceil(count / DIRECTORY_PAGE))
        directory += max(pages * SLACK_ROUND_TRIP_S,
                         (pages - 1) / slack_limits.method_rate(method) + SLACK_ROUND_TRIP_S)
    messages = source.get("messages", 0) + source.get("chat_messages", 0)
    return RunCosts(export=export_left_seconds(source.get("teams", 0), chat_readers, graph_scale),
                    directory=directory, plan=PLAN_BASE_S + messages * PLAN_PER_MESSAGE_S)


@dataclass
class Estimate:
    seconds: float
    posting_seconds: float
    setup_seconds: float
    binding: str
    # The run phase by phase (seconds): start, export, directory, plan, then the import, whose
    # setup and posting overlap ("import" is both together, as they really go).
    phases: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    per_day: list[tuple[str, int]] = field(default_factory=list)  # (day offset label, posts)
    advice: list[str] = field(default_factory=list)
    routes: dict[str, Any] = field(default_factory=dict)   # the API vs an import bundle

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("seconds", "posting_seconds", "setup_seconds"):
            out[key] = round(out[key], 1)
        out["phases"] = {k: round(v, 1) for k, v in self.phases.items()}
        return out


def human(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


SETUP_METHODS = ("conversations.create", "conversations.setPurpose", "conversations.setTopic")


def estimate_run(plan: Plan, limits: SlackLimits, costs: RunCosts | None = None) -> Estimate:
    costs = costs or RunCosts()
    tally = plan.tally   # counted once: the plan's items may be millions, on disk
    live = [c for c in plan.channels if c.action != "skip"]
    calls = Counter({
        "conversations.create": sum(1 for c in live if c.action == "create"),
        "conversations.setTopic": sum(1 for c in live if c.topic),
        "conversations.setPurpose": sum(1 for c in live if c.purpose),
        "conversations.invite": sum(math.ceil(len(c.invite) / INVITE_BATCH) for c in live),
        "conversations.archive": sum(1 for c in live if c.archive_after),
        "files.getUploadURLExternal": tally.uploads,
        "files.completeUploadExternal": tally.uploads,
    })
    per_channel = tally.per_channel()
    posting = ceiling_seconds(dict(per_channel), limits)
    setup = sum(calls[m] / limits.method_rate(m) for m in SETUP_METHODS)
    steps = {c.teams_channel_id: _setup_steps(c) for c in live}
    carried = {c.teams_chat_id: ("conversations.create",) for c in plan.chats if c.action == "channel"}
    lanes = [(n, steps.get(key, carried.get(key, ()))) for key, n in per_channel.items()]
    lanes += [(0, s) for key, s in steps.items() if key not in per_channel and s]
    flowing = import_seconds(lanes, limits, closing=calls["conversations.invite"]
                             / limits.method_rate("conversations.invite"))
    beside = {m: calls[m] / limits.method_rate(m) for m in
              ("conversations.invite", "conversations.archive", "files.getUploadURLExternal")}
    rest = max([flowing, *beside.values()])
    binding = "posting" if rest == flowing else max(beside, key=beside.get)
    if posting and per_channel and rest == flowing:
        busiest = max(per_channel.values()) / limits.post_per_channel
        binding = "one busy channel (1 post/s)" if busiest >= posting else "the workspace posting cap"
        if flowing > posting * 1.05:
            binding += ", after the channels are created"
    phases = {"start": STARTUP_S, "export": costs.export, "directory": costs.directory,
              "plan": costs.plan, "import": rest}
    total = sum(phases.values())
    estimate = Estimate(total, posting, setup, binding, phases, dict(sorted(calls.items())))
    estimate.calls["chat.postMessage"] = tally.posts
    estimate.per_day = _timeline(tally, total)
    estimate.advice = _advice(tally, limits, posting, setup)
    estimate.routes = compare_routes(plan, tally, limits, rest)
    estimate.advice.append(estimate.routes["summary"])
    return estimate


def _setup_steps(channel: Any) -> tuple[str, ...]:
    return tuple(m for m, wanted in zip(SETUP_METHODS, (channel.action == "create",
                                                        bool(channel.purpose),
                                                        bool(channel.topic)), strict=True)
                 if wanted)


def import_seconds(lanes: list[tuple[int, tuple[str, ...]]], limits: SlackLimits,
                   closing: float = 0.0) -> float:
    """How long the import's setup and posting take together. `lanes`: per channel, its posts
    and its setup calls. Lanes go busiest first (the scheduler's order); a lane's setup call
    of method m is granted after those of the lanes before it, at m's rate; it posts once its
    setup is done. The import lasts the longer of: each lane's start plus its posts at the
    channel rate (the busiest channel), and the time all posts take when the workspace can
    post at most min(cap, lanes existing × channel rate) — while few channels exist yet, they
    cannot fill the workspace cap. `closing`: the seconds every lane's closing calls take
    (invites, which go after a channel's history): when the workspace cap binds, longest-first
    brings every lane to its end at about the same time, so they all come last."""
    ordered = sorted(lanes, key=lambda lane: -lane[0])
    granted: Counter[str] = Counter()
    starts: list[float] = []
    for _posts, setup in ordered:
        start = 0.0
        for method in setup:
            granted[method] += 1
            start = max(start, (granted[method] - 1) / limits.method_rate(method))
        starts.append(start)
    longest = max((start + n / limits.post_per_channel
                   for start, (n, _s) in zip(starts, ordered, strict=True)), default=0.0)
    flow = _posting_flow([s for s, (n, _x) in zip(starts, ordered, strict=True) if n],
                         sum(n for n, _s in ordered), limits)
    return flow + closing if flow >= longest else longest


def _posting_flow(starts: list[float], posts: int, limits: SlackLimits) -> float:
    """When `posts` posts are through if lanes open at `starts` and the workspace posts at
    min(cap, open lanes × channel rate)."""
    left, now = float(posts), 0.0
    starts = sorted(starts)
    for count, start in enumerate(starts, 1):
        following = starts[count] if count < len(starts) else math.inf
        now = max(now, start)
        rate = min(limits.post_workspace, count * limits.post_per_channel)
        if left <= rate * (following - now):
            return now + left / rate
        left -= rate * (following - now)
        now = following
    return now


# Slack starts one import per hour (slack.com/help/articles/201748703, reference slack.md §13);
# a bundle is one ZIP per year of history (`migrate bundle --split year`).
IMPORT_INTERVAL_S = 3600.0


def compare_routes(plan: Plan, tally: Tally, limits: SlackLimits, api_seconds: float
                   ) -> dict[str, Any]:
    """The two ways history reaches Slack, in numbers, and the one to take."""
    years = tally.years()
    chats_skipped = sum(c.messages for c in plan.chats if c.action != "channel")
    zips = max(1, len(years)) if tally.posts or chats_skipped else 0
    uploads = ceiling_seconds(dict.fromkeys(tally.channel_uploads, 1), limits) \
        if tally.uploads else 0
    uploads = max(uploads, tally.uploads / limits.method_rate("files.getUploadURLExternal"))
    bundle_seconds = zips * IMPORT_INTERVAL_S + uploads
    better = "bundle" if zips and (bundle_seconds < api_seconds or chats_skipped) else "api"
    why = ("faster" if bundle_seconds < api_seconds else "the only way chats keep their authors") \
        if better == "bundle" else "faster for this much history"
    summary = (f"routes: through the API {human(api_seconds)} (every post the app's, dated now); "
               f"as an import bundle {zips} ZIP{'s' if zips != 1 else ''} at one import an hour, "
               f"{human(bundle_seconds)} with the file uploads (real authors and dates"
               + (f", and {chats_skipped} chat messages the API cannot carry" if chats_skipped else "")
               + f"); recommended: {'`migrate bundle`' if better == 'bundle' else '`migrate run`'} "
               f"({why})")
    return {"api_seconds": round(api_seconds, 1), "bundle_zips": zips,
            "bundle_seconds": round(bundle_seconds, 1), "chat_messages_only_by_bundle": chats_skipped,
            "recommended": better, "summary": summary}


def _timeline(tally: Tally, total: float) -> list[tuple[str, int]]:
    """Posts per day of the run, spread evenly (for the report's timeline chart)."""
    days = max(1, math.ceil(total / 86400))
    count = tally.posts + tally.uploads
    base, extra = divmod(count, days)
    return [(f"day {i + 1}", base + (1 if i < extra else 0)) for i in range(days)]


def _advice(tally: Tally, limits: SlackLimits, posting: float, setup: float) -> list[str]:
    advice: list[str] = []
    years = tally.years()
    if posting > 86400 and len(years) > 1:
        # What each cut-off year would save; suggest the earliest one that saves a day or more.
        for year in years[1:]:
            cut = f"{year}-01-01"
            saved = posting - ceiling_seconds(dict(tally.per_channel(since_year=year)), limits)
            if saved >= 86400:
                advice.append(f"history before {year} adds {human(saved)}; consider "
                              f"`since = \"{cut}\"` under [export] to leave it out")
                break
    if setup > 3600:
        advice.append(f"creating channels and setting topics takes {human(setup)} at Tier 2 "
                      "(20 per minute); ask Slack to raise conversations.create for the migration "
                      "and set [slack] method_rates")
    if posting > 86400 and limits.post_workspace * 60 < 600:
        advice.append("posting is bound by the workspace cap; if Slack raises it for your "
                      "workspace, set [slack] post_cap_per_minute")
    return advice
