"""The Graph client against the Graph emulator, through real HTTP: paging, pacing, 429s,
faults, token refresh, error translation, $batch and downloads."""

from __future__ import annotations

import hashlib
import socket

import pytest

from migrate.config import load_settings
from migrate.errors import EXIT_AUTH, EXIT_USAGE, PermissionMissing, ServiceUnreachable
from migrate.export.assets import share_token
from migrate.export.auth import StaticTokenAuth
from migrate.export.client import GraphClient
from migrate.export.errors import FileTooLarge, GraphNotFound, GraphRequestError, GraphUnavailable
from migrate.retry import parse_retry_after
from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.synthetic import synthetic_tenant
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, DriveItem


def make_client(emu: GraphEmulator, *, rate_scale: float | None = None, token: str = SANDBOX_GRAPH_TOKEN,
                auth=None, **kwargs) -> GraphClient:
    env = {"MIGRATE_GRAPH_URL": emu.url, "MIGRATE_GRAPH_TOKEN": token,
           "MIGRATE_GRAPH_RATE_SCALE": str(rate_scale or emu.rate_scale)}
    settings = load_settings(None, environ=env)
    return GraphClient(settings.graph, auth or StaticTokenAuth(token), **kwargs)


@pytest.fixture(scope="module")
def tenant():
    t = synthetic_tenant(teams=2, channels=4, messages=240, users=250, seed=3)
    t.drive_items.append(DriveItem("d1", "i1", "report.pdf",
                                   "https://example.sharepoint.com/sites/a/Shared%20Documents/report.pdf",
                                   "application/pdf", b"%PDF-1.4 " + b"x" * 5000))
    return t


@pytest.fixture(scope="module")
def emu(tenant):
    with GraphEmulator(tenant, rate_scale=200) as emulator:
        yield emulator


def channel_path(tenant, i=0):
    team = tenant.teams[0]
    return f"/teams/{team.team['id']}/channels/{team.channels[i].channel['id']}"


def test_paging_returns_every_item_once(emu, tenant):
    client = make_client(emu)
    users = list(client.iter_items("/users?$top=100&$select=id,displayName"))
    assert [u["id"] for u in users] == [u["id"] for u in tenant.users]
    pages = list(client.iter_pages("/users?$top=100"))
    assert [len(items) for items, _ in pages] == [100, 100, 50]
    assert pages[-1][1] is None and pages[0][1].startswith(emu.url)


def test_get_all_messages_reads_roots_and_replies_exactly(emu, tenant):
    client = make_client(emu)
    team = tenant.teams[1]
    got = list(client.iter_items(f"/teams/{team.team['id']}/channels/getAllMessages?$top=50"))
    expected = sorted((m["channelIdentity"]["channelId"], m["id"]) for c in team.channels for m in c.messages)
    assert sorted((m["channelIdentity"]["channelId"], m["id"]) for m in got) == expected


def test_pacing_at_the_emulated_rate_avoids_429s():
    tenant = synthetic_tenant(teams=1, channels=1, messages=30, seed=4)
    with GraphEmulator(tenant, rate_scale=20) as emu:  # 20 requests/s on the channel
        client = make_client(emu)
        for _ in range(25):
            client.get_json(channel_path(tenant) + "/messages?$top=1")
        assert client.stats.throttled == 0
        assert emu.counters()["throttled"] == 0
        assert client.pacer.waited > 0.8  # 25 requests at ≤ 20/s take over a second


def test_429_waits_retry_after_then_succeeds():
    tenant = synthetic_tenant(teams=1, channels=1, messages=30, seed=4)
    with GraphEmulator(tenant, rate_scale=10) as emu:
        slept: list[float] = []
        # The client believes in 10x the emulator's limits, so the emulator must push back.
        client = make_client(emu, rate_scale=100, sleep=lambda s: (slept.append(s), __import__("time").sleep(s)))
        for _ in range(12):
            client.get_json(channel_path(tenant) + "/messages?$top=1")
        assert client.stats.throttled > 0
        assert client.stats.throttle_wait > 0
        assert all(0 < s <= 0.11 for s in slept)  # Retry-After at 10x: a tenth of a second


def test_transient_faults_are_retried_and_nothing_is_lost(tenant):
    plan = FaultPlan(rates={"http_503": 0.15, "http_504": 0.1, "reset": 0.1})
    with GraphEmulator(tenant, rate_scale=500, faults=plan, seed=11) as emu:
        client = make_client(emu, backoff_cap=0.01, max_attempts=12)
        users = list(client.iter_items("/users?$top=10"))
        assert len(users) == len(tenant.users)
        assert client.stats.retried > 0
        assert sum(emu.counters()["faults"].values()) == client.stats.retried


def test_429_without_retry_after_backs_off(tenant):
    plan = FaultPlan(rates={"429_no_retry_after": 0.3})
    with GraphEmulator(tenant, rate_scale=500, faults=plan, seed=5) as emu:
        client = make_client(emu, backoff_cap=0.01, max_attempts=15)
        assert len(list(client.iter_items("/users?$top=25"))) == len(tenant.users)
        assert client.stats.throttled > 0


def test_a_host_that_never_answered_is_unreachable_after_three_refusals(emu):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {"MIGRATE_GRAPH_URL": f"http://127.0.0.1:{port}/v1.0", "MIGRATE_GRAPH_TOKEN": "t"}
    slept: list[float] = []
    client = GraphClient(load_settings(None, environ=env).graph, StaticTokenAuth("t"),
                         sleep=slept.append)
    with pytest.raises(ServiceUnreachable, match="Graph is unreachable at") as caught:
        client.get_json("/users")
    assert caught.value.exit_code == EXIT_USAGE
    assert client.stats.retried == 2            # three tries, not the policy's eight

    # Once the host has answered, a refused connection is an outage to ride out, not a URL to fix.
    client = make_client(emu, sleep=slept.append, max_attempts=4)
    client.get_json("/users?$top=1")
    client.base_url = f"http://127.0.0.1:{port}/v1.0"
    with pytest.raises(GraphUnavailable):
        client.get_json("/users?$top=1")
    assert client.stats.retried == 3


def test_a_next_link_that_leads_back_to_its_own_page_stops_the_stream(emu, monkeypatch):
    client = make_client(emu)
    get_json = GraphClient.get_json

    def looping(self, url, *args, **kwargs):
        page = get_json(self, url, *args, **kwargs)
        return {**page, "@odata.nextLink": page.get("@odata.nextLink") and url}

    monkeypatch.setattr(GraphClient, "get_json", looping)
    pages = client.iter_pages(emu.url + "/users?$top=100")
    with pytest.raises(GraphRequestError, match="as its own next page"):
        for _ in range(3):          # the second page asked for would be the first again
            next(pages)


class RotatingAuth:
    """First hands out an expired token; after invalidate() a valid one."""

    description = "test"

    def __init__(self) -> None:
        self.current = "expired"
        self.invalidated = 0

    def token(self) -> str:
        return self.current

    def invalidate(self) -> None:
        self.invalidated += 1
        self.current = SANDBOX_GRAPH_TOKEN


def test_401_refreshes_the_token_once(emu):
    auth = RotatingAuth()
    client = make_client(emu, auth=auth)
    assert client.get_json("/users?$top=1")["value"]
    assert auth.invalidated == 1


def test_403_names_the_missing_permission(tenant):
    with GraphEmulator(tenant, rate_scale=500, permissions={"User.Read.All"}) as emu:
        client = make_client(emu)
        assert client.get_json("/users?$top=1")
        with pytest.raises(PermissionMissing) as info:
            client.get_json(f"/teams/{tenant.teams[0].team['id']}/channels/getAllMessages")
    assert info.value.exit_code == EXIT_AUTH
    assert "ChannelMessage.Read.All" in info.value.one_line()


def test_404_is_graph_not_found(emu):
    with pytest.raises(GraphNotFound):
        make_client(emu).get_json("/teams/00000000-0000-0000-0000-000000000000")


def test_batch_answers_in_order_across_several_envelopes(emu, tenant):
    client = make_client(emu)
    team_ids = [t.team["id"] for t in tenant.teams] * 12 + ["absent"]
    answers = client.batch([{"url": f"/teams/{tid}"} for tid in team_ids])
    assert [a["status"] for a in answers] == [200] * 24 + [404]
    assert [a["body"]["id"] for a in answers[:24]] == team_ids[:24]
    assert emu.counters()["byRoute"].get("batch", 0) >= 2


def test_download_follows_the_302_and_stores_by_content(emu, tmp_path):
    client = make_client(emu)
    url = "https://example.sharepoint.com/sites/a/Shared%20Documents/report.pdf"
    got = client.download(f"/shares/{share_token(url)}/driveItem/content", tmp_path, max_bytes=10_000)
    data = got.path.read_bytes()
    assert data.startswith(b"%PDF") and got.size == len(data) == 5009
    assert got.sha256 == hashlib.sha256(data).hexdigest() and got.path.name == got.sha256
    with pytest.raises(FileTooLarge) as info:
        client.download(f"/shares/{share_token(url)}/driveItem/content", tmp_path / "small", max_bytes=1000)
    assert info.value.size == 5009
    assert not list((tmp_path / "small").glob("**/*")) or all(p.is_dir() for p in (tmp_path / "small").glob("**/*"))


@pytest.mark.parametrize("header, seconds", [("30", 30.0), ("0.25", 0.25), (None, None), ("soon", None),
                                             ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds
