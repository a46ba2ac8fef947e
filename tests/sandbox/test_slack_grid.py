"""The Slack emulator serving several workspaces of one Enterprise Grid org, driven by the real
slack_sdk WebClient: per-workspace and org-level tokens, routing by channel, and a rate-limit
budget per workspace (slack_org.py)."""

from __future__ import annotations

import threading

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from migrate.sandbox.ratelimit import RateLimiter
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.slack_org import SANDBOX_SLACK_ORG_TOKEN, SlackOrg, workspace_token
from migrate.sandbox.synthetic import synthetic_org, synthetic_tenant
from migrate.sandbox.tenant import SlackWorkspace

A, B = "T0SYNTH0", "T0SYNTH1"
BOT = "W0BOT"


def make_org(channels_per_workspace: int = 0) -> SlackOrg:
    tenant = synthetic_tenant(teams=1, channels=1, messages=1, users=16, seed=3)
    org = synthetic_org(tenant, workspaces=2, matched_share=1.0, multi_share=0.25, seed=3)
    for k, workspace in enumerate(org.workspaces):
        workspace.channels = [
            {"id": f"C{k}POST{i}", "name": f"post-{i}", "created": 1_600_000_000,
             "creator": BOT, "members": [BOT]} for i in range(channels_per_workspace)]
    return org


def client(emu: SlackEmulator, token: str, team_id: str | None = None) -> WebClient:
    return WebClient(token=token, base_url=emu.url, team_id=team_id, retry_handlers=[])


def error_of(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call(*args, **kwargs)
    return info.value


@pytest.fixture
def emu():
    with SlackEmulator(make_org(channels_per_workspace=1), throttle=False) as emulator:
        yield emulator


def members_of(emu: SlackEmulator, team: str) -> set[str]:
    return {u["id"] for u in emu.state(team)["users"]}


# ---------------------------------------------------------------- tokens


def test_workspace_tokens_address_their_own_workspace(emu: SlackEmulator) -> None:
    a, b = client(emu, workspace_token(A)), client(emu, workspace_token(B))
    made_a = a.conversations_create(name="alpha")["channel"]
    made_b = b.conversations_create(name="alpha")["channel"]  # names are per workspace
    assert made_a["id"] != made_b["id"]  # ids are unique across the org
    assert "alpha" in {c["name"] for c in emu.state(A)["channels"]}
    assert {c["id"] for c in emu.state(B)["channels"]} == {"C1POST0", made_b["id"]}
    listed_a = {c["id"] for c in a.conversations_list(limit=100)["channels"]}
    assert listed_a == {"C0POST0", made_a["id"]}
    # users.list lists the workspace's members: org users (W…) of several workspaces in each.
    users_a = {u["id"] for page in a.users_list(limit=5) for u in page["members"]}
    users_b = {u["id"] for page in b.users_list(limit=5) for u in page["members"]}
    assert users_a == members_of(emu, A) and users_b == members_of(emu, B)
    both = users_a & users_b
    assert BOT in both and len(both) > 1 and users_a != users_b
    assert all(u.startswith("W") for u in users_a | users_b)
    # A workspace token ignores a team_id (changes-apis: "ignored … workspace-level token").
    elsewhere = client(emu, workspace_token(A), team_id=B).conversations_create(name="beta")
    assert elsewhere["channel"]["id"] in {c["id"] for c in emu.state(A)["channels"]}


def test_org_token_needs_team_id_where_it_acts_in_a_workspace(emu: SlackEmulator) -> None:
    org = client(emu, SANDBOX_SLACK_ORG_TOKEN)
    for call, kwargs in ((org.conversations_create, {"name": "gamma"}),
                         (org.conversations_list, {}), (org.users_list, {})):
        err = error_of(call, **kwargs)
        assert err.response.status_code == 200 and err.response["error"] == "missing_argument"
    unknown = client(emu, SANDBOX_SLACK_ORG_TOKEN, team_id="T0OTHER")
    assert error_of(unknown.users_list).response["error"] == "team_access_not_granted"
    in_b = client(emu, SANDBOX_SLACK_ORG_TOKEN, team_id=B)
    made = in_b.conversations_create(name="gamma")["channel"]
    assert made["id"] in {c["id"] for c in emu.state(B)["channels"]}
    assert "gamma" not in {c["name"] for c in emu.state(A)["channels"]}
    listed = {c["id"] for c in in_b.conversations_list()["channels"]}
    assert listed == {"C1POST0", made["id"]}
    assert {u["id"] for u in in_b.users_list()["members"]} == members_of(emu, B)
    # Explicit team_id on a call wins over none; the raw form works as well.
    raw = requests.post(emu.url + "users.list", timeout=5,
                        data={"token": SANDBOX_SLACK_ORG_TOKEN, "team_id": A}).json()
    assert raw["ok"] and {u["id"] for u in raw["members"]} == members_of(emu, A)
    # Users are org-wide: users.info finds a member of B only, without team_id.
    only_b = sorted(members_of(emu, B) - members_of(emu, A))[0]
    assert org.users_info(user=only_b)["user"]["enterprise_user"]["teams"] == [B]
    # The calls refused for want of a workspace count in the total only.
    assert emu.counters()["calls"]["users.list"] == 4
    assert emu.counters(B)["calls"]["users.list"] == 1


def test_calls_on_a_channel_go_to_its_workspace(emu: SlackEmulator) -> None:
    org = client(emu, SANDBOX_SLACK_ORG_TOKEN)  # no team_id: the channel says where
    root = org.chat_postMessage(channel="C1POST0", text="root")
    org.chat_postMessage(channel="C1POST0", text="reply", thread_ts=root["ts"])
    assert root["message"]["team"] == B
    org.conversations_setTopic(channel="C1POST0", topic="from the org token")
    assert [m["text"] for m in org.conversations_replies(channel="C1POST0",
                                                         ts=root["ts"])["messages"]] == [
        "root", "reply"]
    assert org.conversations_history(channel="C1POST0")["messages"][0]["subtype"] == "channel_topic"
    only_b = sorted(members_of(emu, B) - members_of(emu, A))
    only_a = sorted(members_of(emu, A) - members_of(emu, B))
    org.conversations_invite(channel="C1POST0", users=only_b[0])
    # An org user who is not in the channel's workspace (conversations.invite's error table).
    err = error_of(org.conversations_invite, channel="C1POST0", users=only_a[0])
    assert err.response["error"] == "org_user_not_in_team"
    # Files: the upload is made in B (team_id) and shared into B's channel.
    in_b = client(emu, SANDBOX_SLACK_ORG_TOKEN, team_id=B)
    shared = in_b.files_upload_v2(channel="C1POST0", content=b"hello", filename="hi.txt")
    file_id = shared["file"]["id"]
    assert [f["id"] for f in emu.state(B)["files"]] == [file_id] and emu.state(A)["files"] == []
    assert emu.file_bytes(file_id) == b"hello"
    url = emu.state(B)["files"][0]["url_private"]
    auth = {"Authorization": f"Bearer {workspace_token(A)}"}
    assert requests.get(url, headers=auth, timeout=5).status_code == 403  # not A's file
    auth = {"Authorization": f"Bearer {workspace_token(B)}"}
    assert requests.get(url, headers=auth, timeout=5).content == b"hello"
    # A workspace token does not see another workspace's channel.
    a = client(emu, workspace_token(A))
    assert error_of(a.chat_postMessage, channel="C1POST0",
                    text="x").response["error"] == "channel_not_found"
    assert error_of(org.chat_postMessage, channel="C9NOWHERE",
                    text="x").response["error"] == "channel_not_found"
    texts = [m["text"] for m in emu.state(B)["messages"]["C1POST0"]]
    assert texts[:2] == ["root", "reply"] and emu.state(A)["messages"]["C0POST0"] == []


def test_auth_test_shapes(emu: SlackEmulator) -> None:
    for team, k in ((A, 0), (B, 1)):
        got = client(emu, workspace_token(team)).auth_test().data
        assert got == {"ok": True, "url": f"https://synthetic-{k}.slack.com/",
                       "team": f"Synthetic {k}", "user": "migrator", "team_id": team,
                       "user_id": BOT, "bot_id": "B0BOT", "is_enterprise_install": False,
                       "enterprise_id": "E0SYNTH"}
    org = client(emu, SANDBOX_SLACK_ORG_TOKEN).auth_test().data
    assert org["is_enterprise_install"] is True and org["enterprise_id"] == "E0SYNTH"
    assert org["user_id"] == BOT and org["bot_id"] == "B0BOT" and org["team"] == "Synthetic Org"
    # slack_sdk sends team_id with every call; auth.test still answers for the org.
    assert client(emu, SANDBOX_SLACK_ORG_TOKEN, team_id=A).auth_test()["is_enterprise_install"]
    info = client(emu, SANDBOX_SLACK_ORG_TOKEN, team_id=A).team_info()["team"]
    assert info["id"] == A and info["enterprise_id"] == "E0SYNTH"
    bad = requests.post(emu.url + "auth.test", data={"token": "xoxb-nope"}, timeout=5).json()
    assert bad == {"ok": False, "error": "invalid_auth"}


# ---------------------------------------------------------------- state and control


def test_state_and_counters_per_workspace(emu: SlackEmulator) -> None:
    org = client(emu, SANDBOX_SLACK_ORG_TOKEN)
    org.chat_postMessage(channel="C0POST0", text="in A")
    org.chat_postMessage(channel="C1POST0", text="in B")
    org.chat_postMessage(channel="C1POST0", text="in B again")
    assert emu.counters(A)["calls"] == {"chat.postMessage": 1} and emu.counters(A)["writes"] == 1
    assert emu.counters(B)["calls"] == {"chat.postMessage": 2} and emu.counters(B)["writes"] == 2
    assert emu.counters()["calls"] == {"chat.postMessage": 3}
    merged = emu.state()
    assert merged["enterprise"]["id"] == "E0SYNTH" and set(merged["workspaces"]) == {A, B}
    assert [m["text"] for m in merged["messages"]["C1POST0"]] == ["in B", "in B again"]
    assert len({u["id"] for u in merged["users"]}) == len(merged["users"])
    base = emu.origin + "/_control/"
    one = requests.get(base + "state", params={"team_id": A}, timeout=5).json()
    assert one["team"]["id"] == A and set(one["messages"]) == {"C0POST0"}
    counted = requests.get(base + "counters", params={"team_id": B}, timeout=5).json()
    assert counted["calls"] == {"chat.postMessage": 2}
    assert requests.get(base + "state", params={"team_id": "T0NOPE"}, timeout=5).status_code == 404
    emu.reset_counters()
    assert emu.counters(B) == {"calls": {}, "ratelimited": {}, "faults": {}, "writes": 0}
    assert set(emu.stores) == {A, B} and emu.store is emu.stores[A]


def test_workspaces_keyword_and_org_checks() -> None:
    one = SlackWorkspace(team={"id": "T1", "name": "One", "domain": "one"},
                         bot={"user_id": "W1BOT", "bot_id": "B1", "app_id": "A1"},
                         channels=[{"id": "C1", "name": "general", "members": ["W1BOT"]}])
    two = SlackWorkspace(team={"id": "T2", "name": "Two", "domain": "two"},
                         bot={"user_id": "W2BOT", "bot_id": "B2", "app_id": "A1"},
                         channels=[{"id": "C2", "name": "general", "members": ["W2BOT"]}])
    with SlackEmulator(workspaces=[one, two], throttle=False) as emu:
        assert client(emu, workspace_token("T2")).auth_test()["user_id"] == "W2BOT"
        posted = client(emu, SANDBOX_SLACK_ORG_TOKEN).chat_postMessage(channel="C2", text="x")
        assert posted["message"]["bot_id"] == "B2"  # the workspace's bot
    clash = SlackWorkspace(team={"id": "T3", "name": "Three"}, bot=dict(two.bot),
                           channels=[{"id": "C1", "name": "other"}])
    with pytest.raises(ValueError, match="unique across the org"):
        SlackEmulator(workspaces=[one, clash])
    with pytest.raises(ValueError, match="SlackOrg.tokens"):
        SlackEmulator(SlackOrg({"id": "E1", "name": "E"}, [one]), tokens=["xoxb-x"])


# ---------------------------------------------------------------- rate limits per workspace


def frozen(emu: SlackEmulator) -> SlackEmulator:
    """Buckets that never refill during the test: what is admitted is the burst alone, so the
    counts below do not depend on how fast the machine is."""
    emu.limiter = RateLimiter(clock=lambda: 1000.0)
    return emu


def post_each(emu: SlackEmulator, token: str, channels: list[str]) -> tuple[int, int]:
    c = client(emu, token)
    ok = limited = 0
    for channel in channels:
        try:
            c.chat_postMessage(channel=channel, text="x")
            ok += 1
        except SlackApiError as exc:
            assert exc.response.status_code == 429 and exc.response["error"] == "ratelimited"
            limited += 1
    return ok, limited


def test_two_workspaces_post_at_once_each_within_its_own_budget() -> None:
    # Workspace posting cap 240/min = 4/s: a burst of 4 posts per workspace; 1/s per channel.
    org = make_org(channels_per_workspace=6)
    with frozen(SlackEmulator(org, rate_scale=1, post_cap_per_minute=240)) as emu:
        # One workspace alone: 6 posts into 6 channels, the cap admits 4.
        assert post_each(emu, workspace_token(A), [f"C0POST{i}" for i in range(6)]) == (4, 2)
        assert emu.counters(A)["ratelimited"] == {"chat.postMessage": 2}
    with frozen(SlackEmulator(org, rate_scale=1, post_cap_per_minute=240)) as emu:
        # Both workspaces at the same time, 4 posts each: 8 posts, at a pace one workspace
        # alone refuses, and not one 429.
        results: dict[str, tuple[int, int]] = {}

        def run(team: str, k: int) -> None:
            results[team] = post_each(emu, workspace_token(team), [f"C{k}POST{i}" for i in range(4)])

        threads = [threading.Thread(target=run, args=(team, k)) for k, team in enumerate((A, B))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {A: (4, 0), B: (4, 0)}
        assert emu.counters()["ratelimited"] == {}
        # Each reached its own ceiling: the next post is refused in each, alone.
        assert post_each(emu, workspace_token(A), ["C0POST5"]) == (0, 1)
        assert post_each(emu, SANDBOX_SLACK_ORG_TOKEN, ["C1POST5"]) == (0, 1)
        assert emu.counters(A)["ratelimited"] == emu.counters(B)["ratelimited"] == {
            "chat.postMessage": 1}
        # The per-channel bucket (1/s) is the channel's: a second post there is refused too.
        assert post_each(emu, workspace_token(B), ["C1POST0"]) == (0, 1)


def test_method_tiers_are_per_workspace_whatever_the_token() -> None:
    with frozen(SlackEmulator(make_org(), rate_scale=1)) as emu:
        a, b = client(emu, workspace_token(A)), client(emu, workspace_token(B))
        a.conversations_create(name="one")  # Tier 2: a burst of 1 per workspace
        b.conversations_create(name="one")  # B's own bucket
        assert error_of(a.conversations_create, name="two").response.status_code == 429
        # The org token acting in A spends A's budget, not a budget of its own.
        in_a = client(emu, SANDBOX_SLACK_ORG_TOKEN, team_id=A)
        assert error_of(in_a.conversations_create, name="two").response.status_code == 429
        assert emu.counters(A)["ratelimited"] == {"conversations.create": 2}
        assert emu.counters(B)["ratelimited"] == {}
