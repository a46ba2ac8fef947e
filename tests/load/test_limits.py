"""Slack limits as data: tiers, the posting special case, scale and overrides."""

from __future__ import annotations

import pytest

from migrate.config import load_settings
from migrate.load.limits import METHOD_TIERS, ceiling_seconds, slack_limits


def limits(**env):
    return slack_limits(load_settings(None, environ=env).slack)


def test_tiers_and_posting_limits():
    lim = limits()
    assert lim.method_rate("conversations.create") == pytest.approx(20 / 60)   # Tier 2
    assert lim.method_rate("conversations.history") == pytest.approx(50 / 60)  # Tier 3
    assert lim.method_rate("files.completeUploadExternal") == pytest.approx(100 / 60)  # Tier 4
    assert lim.post_per_channel == pytest.approx(1.0)
    assert lim.post_workspace == pytest.approx(5.0)  # 300 per minute
    assert "chat.postMessage" not in lim.per_method  # per channel, never a method-wide rate


def test_scale_cap_and_overrides(tmp_path):
    (tmp_path / "m.toml").write_text('[slack]\npost_cap_per_minute = 600\n'
                                     'method_rates = { "conversations.create" = 100 }\n')
    lim = slack_limits(load_settings(tmp_path / "m.toml",
                                     environ={"MIGRATE_SLACK_RATE_SCALE": "10"}).slack)
    assert lim.method_rate("conversations.create") == pytest.approx(1000 / 60)
    assert lim.method_rate("users.list") == pytest.approx(200 / 60)
    assert lim.post_per_channel == pytest.approx(10.0) and lim.post_workspace == pytest.approx(100.0)


def test_every_method_the_tool_calls_has_a_tier_from_the_contracts(shared_dir):
    import json

    scrape = json.loads((shared_dir / "contracts" / "slack-web-methods.json").read_text())[
        "docs_slack_dev_scrape"]
    for method, tier in METHOD_TIERS.items():
        if method in scrape:
            expected = scrape[method]["rateLimitTier"]
            assert expected == ("Special" if tier == "special" else f"Tier {tier}"), method


def test_ceiling_is_the_busiest_channel_or_the_workspace_cap():
    lim = limits()
    assert ceiling_seconds({"a": 600, "b": 10}, lim) == pytest.approx(600.0)  # one busy channel
    even = {str(i): 100 for i in range(40)}
    assert ceiling_seconds(even, lim) == pytest.approx(4000 / 5.0)  # 40 channels: the cap binds
    assert ceiling_seconds({}, lim) == 0.0
