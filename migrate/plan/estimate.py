"""How long `migrate run` will take, from Slack's limits (load/limits.py), and what would
shorten it.

Posting is bound by max(busiest channel / 1 per second, all posts / workspace cap) — the
ceiling; uploads post into channels too, so they count as posts. The other calls have their
own method limits and run before (creating channels, topics) or beside (invites, archiving)
the posting; the estimate adds the setup phase to the longer of the rest.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from migrate.load.limits import SlackLimits, ceiling_seconds

if TYPE_CHECKING:
    from migrate.plan.build import Plan
    from migrate.plan.tally import Tally

# conversations.invite takes ≤ 100 users per call (the docs say 100 or 1000; the stricter one:
# https://docs.slack.dev/reference/methods/conversations.invite)
INVITE_BATCH = 100


@dataclass
class Estimate:
    seconds: float
    posting_seconds: float
    setup_seconds: float
    binding: str
    calls: dict[str, int] = field(default_factory=dict)
    per_day: list[tuple[str, int]] = field(default_factory=list)  # (day offset label, posts)
    advice: list[str] = field(default_factory=list)
    routes: dict[str, Any] = field(default_factory=dict)   # the API vs an import bundle

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("seconds", "posting_seconds", "setup_seconds"):
            out[key] = round(out[key], 1)
        return out


def human(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def estimate_run(plan: Plan, limits: SlackLimits) -> Estimate:
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
    setup = sum(calls[m] / limits.method_rate(m) for m in
                ("conversations.create", "conversations.setTopic", "conversations.setPurpose"))
    beside = {m: calls[m] / limits.method_rate(m) for m in
              ("conversations.invite", "conversations.archive", "files.getUploadURLExternal")}
    rest = max([posting, *beside.values()])
    binding = "posting" if rest == posting else max(beside, key=beside.get)
    if posting and per_channel and rest == posting:
        busiest = max(per_channel.values()) / limits.post_per_channel
        binding = "one busy channel (1 post/s)" if busiest >= posting else "the workspace posting cap"
    total = setup + rest
    estimate = Estimate(total, posting, setup, binding, dict(sorted(calls.items())))
    estimate.calls["chat.postMessage"] = tally.posts
    estimate.per_day = _timeline(tally, total)
    estimate.advice = _advice(tally, limits, posting, setup)
    estimate.routes = compare_routes(plan, tally, limits, total)
    estimate.advice.append(estimate.routes["summary"])
    return estimate


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
