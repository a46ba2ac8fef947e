"""Slack's rate limits as data (https://docs.slack.dev/apis/web-api/rate-limits; each method's
tier is on its page, https://docs.slack.dev/reference/methods/<name>).

Every method the tool calls, with its tier and the rate we assume. Tiers are "N+ per minute"
floors; Slack's guidance is to plan on them. chat.postMessage is special: about one message
per second per channel, plus a workspace-wide cap Slack describes only as "several hundred
per minute" (300 by default, a setting). Everything is multiplied by the rate scale, and any
method can be overridden in migrate.toml (`[slack] method_rates`) for raised limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrate.config import SlackSettings

TIER_PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}

# method -> tier (from each method's page, checked against java-slack-sdk's
# MethodsRateLimits.java).
METHOD_TIERS: dict[str, int | str] = {
    "auth.test": "special",
    "team.info": 3,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "users.info": 4,
    "conversations.list": 2,
    "conversations.create": 2,
    "conversations.rename": 2,     # docs.slack.dev/reference/methods/conversations.rename
    "conversations.info": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.setTopic": 2,
    "conversations.setPurpose": 2,
    "conversations.archive": 2,
    "conversations.members": 4,
    "conversations.history": 3,
    "conversations.replies": 3,
    "chat.postMessage": "special",
    "chat.update": 3,
    "chat.delete": 3,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "reactions.add": 3,
    "pins.add": 2,
    "bookmarks.add": 2,
}
SPECIAL_PER_MINUTE = {"auth.test": 600.0, "chat.postMessage": 60.0}  # postMessage: per channel
POST_PER_CHANNEL_PER_S = 1.0


@dataclass(frozen=True)
class SlackLimits:
    """Rates in calls per second, already scaled and overridden."""

    per_method: dict[str, float]
    post_per_channel: float
    post_workspace: float

    def method_rate(self, method: str) -> float:
        return self.per_method[method]


def slack_limits(settings: SlackSettings, *, cap_share: float = 1.0) -> SlackLimits:
    """Slack's limits as this runner may use them; `cap_share` is its part of the workspace
    posting cap (shards posting into one workspace share it: Settings.cap_share)."""
    scale = settings.rate_scale
    per_method: dict[str, float] = {}
    for method, tier in METHOD_TIERS.items():
        per_minute = SPECIAL_PER_MINUTE[method] if tier == "special" else TIER_PER_MINUTE[int(tier)]
        per_method[method] = per_minute / 60.0
    for method, per_minute in settings.method_rates.items():
        per_method[method] = per_minute / 60.0
    post_channel = per_method.pop("chat.postMessage")  # per channel; the workspace cap is separate
    scaled = {m: r * scale for m, r in per_method.items()}
    return SlackLimits(per_method=scaled, post_per_channel=post_channel * scale,
                       post_workspace=settings.post_cap_per_minute / 60.0 * scale * cap_share)


def ceiling_seconds(messages_per_channel: dict[str, int], limits: SlackLimits) -> float:
    """The ceiling of an import: max(max_c n_c / r_channel, Σ n_c / r_workspace) seconds for
    n_c posts in channel c — the busiest channel at its rate, or all posts at the workspace cap,
    whichever is longer."""
    if not messages_per_channel:
        return 0.0
    busiest = max(messages_per_channel.values()) / limits.post_per_channel
    total = sum(messages_per_channel.values()) / limits.post_workspace
    return max(busiest, total)
