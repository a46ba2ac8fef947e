"""`--shard i/n`: teams and chats split deterministically; n shards, each with its own working
directory, together migrate exactly the whole tenant once; shards share the posting cap."""

from __future__ import annotations

import json
import random

import pytest

from migrate.config import load_settings
from migrate.errors import ConfigError
from migrate.export.scope import Shard
from migrate.sandbox.runner import start_sandbox

from .conftest import run_migrate, slack_posts


def test_every_team_and_person_belongs_to_exactly_one_shard():
    rng = random.Random(3)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(2000)]
    shards = [Shard(i, 4) for i in range(1, 5)]
    for key in ids:
        assert sum(s.owns_team(key) for s in shards) == 1
    sizes = [sum(s.owns_team(k) for k in ids) for s in shards]
    assert min(sizes) > 400                                   # an even split
    members = ["b", "a", "c"]
    assert sum(s.owns_chat(members) for s in shards) == 1
    assert [s.owns_chat(members) for s in shards] == [s.owns_person("a") for s in shards]
    assert not any(s.owns_chat([]) for s in shards)


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1/0", "2-3"])
def test_a_malformed_shard_is_a_configuration_error(text):
    with pytest.raises(ConfigError, match="i/n"):
        load_settings(environ={"MIGRATE_SHARD": text})


def test_shards_share_the_posting_cap_unless_told_otherwise():
    assert load_settings(environ={}).cap_share == 1.0
    assert load_settings(environ={"MIGRATE_SHARD": "2/4"}).cap_share == 0.25
    assert load_settings(environ={"MIGRATE_SHARD": "2/4", "MIGRATE_SLACK_CAP_SHARE": "0.5"}
                         ).cap_share == 0.5


def test_n_shards_together_migrate_the_whole_tenant_exactly_once(tmp_path):
    n = 3
    with start_sandbox(rate_scale=400) as sandbox:  # not about rate limits
        base = {**sandbox.env(), "MIGRATE_CHATS_TO_CHANNELS": "group"}
        whole = run_migrate("--json", "plan", env={**base, "MIGRATE_WORKDIR": str(tmp_path / "whole")},
                            timeout=300)
        assert whole.returncode == 0, whole.stderr[-2000:]
        plans = []
        for i in range(1, n + 1):
            env = {**base, "MIGRATE_WORKDIR": str(tmp_path / f"shard-{i}")}
            run = run_migrate("run", "--yes", "--shard", f"{i}/{n}", env=env, timeout=300)
            assert run.returncode == 0, run.stderr[-2000:]
            plans.append(json.loads((tmp_path / f"shard-{i}" / "reports" / "plan.json").read_text()))
        state = sandbox.slack.state()
    whole_plan = json.loads(whole.stdout)
    expected = {c["teams_channel_id"] for c in whole_plan["channels"] if c["action"] != "skip"}
    owned = [{c["teams_channel_id"] for c in p["channels"] if c["action"] != "skip"} for p in plans]
    assert set().union(*owned) == expected                       # all of it…
    assert sum(len(o) for o in owned) == len(expected)           # …each part once
    assert all(owned)                                            # every shard had work
    posts = slack_posts(state)
    planned = {(p["message_id"], p["part"]) for p in whole_plan["posts"]}
    assert planned and all(len(posts.get(key, [])) == 1 for key in planned)
    assert set(posts) == planned                                 # nothing else, nothing twice
    names = [c["name"] for c in state["channels"]]
    assert len(names) == len(set(names))
