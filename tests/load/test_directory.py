"""The Slack directory: users.list and conversations.list paged to the end through the real
slack_sdk WebClient against the Slack emulator, 429s waited out (decimal Retry-After at a rate
scale), and the snapshot kept in the store."""

from __future__ import annotations

import json

import pytest

from migrate.config import SlackSettings, load_settings
from migrate.errors import AuthError, PermissionMissing, TransientError
from migrate.load.client import SlackClient
from migrate.load.directory import (
    SlackDirectory,
    StoredSlackUsers,
    load_directory,
    read_directory,
    save_directory,
    slack_client,
    slack_user,
)
from migrate.load.limits import slack_limits
from migrate.load.scheduler import FakeClock, Scheduler
from migrate.model import SlackChannel, SlackUser
from migrate.retry import retry_after_of as retry_after_seconds
from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.tenant import SANDBOX_SLACK_TOKEN, SlackWorkspace
from migrate.store import Store

BOT = "UBOT0000001"
USERS = 450  # > 2 pages of 200


def workspace(extra_users: int = USERS) -> SlackWorkspace:
    users = [
        {"id": "USLACKBOT", "name": "slackbot", "deleted": False, "is_bot": False,
         "profile": {"real_name": "Slackbot"}},
        {"id": "U0ANN", "name": "ann", "deleted": False,
         "profile": {"email": "Ann@Example.com", "real_name": "Ann A", "display_name": "ann",
                     "image_72": "https://img.example/ann72.png"}},
        {"id": "U0GONE", "name": "carol", "deleted": True,
         "profile": {"email": "carol@example.com", "real_name": "Carol C"}},
        {"id": "U0GUEST", "name": "dave", "deleted": False, "is_restricted": True,
         "profile": {"email": "dave@partner.com"}},
        {"id": "U0SINGLE", "name": "erin", "deleted": False, "is_restricted": True,
         "is_ultra_restricted": True, "profile": {"email": "erin@partner.com"}},
        {"id": "U0APP", "name": "someapp", "deleted": False, "is_bot": True,
         "profile": {"bot_id": "B0OTHER"}},
    ]
    users += [{"id": f"U1{i:05d}", "name": f"user{i}", "deleted": False,
               "profile": {"email": f"user{i}@example.com"}} for i in range(extra_users)]
    chan = {"created": 1_600_000_000, "creator": "U0ANN"}
    channels = [
        {"id": "C0GENERAL", "name": "general", "is_general": True, **chan, "members": ["U0ANN", BOT]},
        {"id": "C0OLD", "name": "old-stuff", "is_archived": True, **chan, "members": ["U0ANN"]},
        {"id": "C0INNER", "name": "inner-circle", "is_private": True, **chan,
         "members": ["U0ANN", BOT]},
        {"id": "C0SECRET", "name": "secret", "is_private": True, **chan, "members": ["U0ANN"]},
        *({"id": f"C1{i:05d}", "name": f"chan-{i}", **chan, "members": [BOT]} for i in range(230)),
    ]
    return SlackWorkspace(team={"id": "T0SANDBOX", "name": "Sandbox", "domain": "sandbox"},
                          bot={"user_id": BOT, "bot_id": "B0BOT", "app_id": "A0APP", "name": "migrate"},
                          users=users, channels=channels)


@pytest.fixture(scope="module")
def fast_emu():
    with SlackEmulator(workspace(), rate_scale=1000) as emu:
        yield emu


def client(emu: SlackEmulator, token: str = SANDBOX_SLACK_TOKEN, sleep=None) -> SlackClient:
    settings = SlackSettings(url=emu.url, token=token)
    return SlackClient(settings, sleep=sleep) if sleep else SlackClient(settings)


class RecordingScheduler(Scheduler):
    """Paces as if the workspace allowed 1000× the tiers, so the emulator's 429s happen, and
    records each Retry-After the scheduler is told to honour."""

    def __init__(self, clock=None) -> None:
        super().__init__(slack_limits(SlackSettings(rate_scale=1000)), clock=clock)
        self.waits: list[tuple[str, float | None]] = []

    def throttled(self, method, channel, retry_after):
        self.waits.append((method, retry_after))
        super().throttled(method, channel, retry_after)


def read(emu: SlackEmulator, **kw) -> SlackDirectory:
    return read_directory(client(emu, **kw), RecordingScheduler())


def test_reads_every_user_and_channel_across_pages(fast_emu):
    fast_emu.reset_counters()
    directory = read(fast_emu)
    ids = [u.id for u in directory.users]
    # Everyone: deactivated, guests, bots, Slackbot and the app's own bot user.
    assert len(ids) == len(set(ids)) == USERS + 6 + 1
    assert ids == sorted(ids)
    calls = fast_emu.counters()["calls"]
    assert calls["users.list"] == 3  # 457 users at 200 per page
    assert calls["conversations.list"] == 2  # 233 visible channels
    names = {c.name for c in directory.channels}
    assert {"general", "old-stuff", "inner-circle"} <= names
    assert "secret" not in names  # private, and the app is not a member (reference §4.7)
    assert len(directory.channels) == 233


def test_records_carry_the_flags_the_mapping_needs(fast_emu):
    directory = read(fast_emu)
    ann = directory.user_by_id("U0ANN")
    assert ann == SlackUser("U0ANN", "ann", real_name="Ann A", display_name="ann",
                            email="Ann@Example.com", image_72="https://img.example/ann72.png")
    assert directory.user_by_id("U0GONE").deleted
    assert directory.user_by_id("U0GUEST").is_restricted
    assert directory.user_by_id("U0SINGLE").is_ultra_restricted
    assert directory.user_by_id("U0APP").is_bot
    assert directory.user_by_id("USLACKBOT").is_bot  # special-cased by Slack (is_bot false)
    assert directory.user_by_id(BOT).is_bot
    old = directory.channel_by_name("#old-stuff")
    assert old == SlackChannel("C0OLD", "old-stuff", is_private=False, is_archived=True,
                               members=old.members)
    assert directory.channel_by_name("inner-circle").is_private
    assert directory.channel_by_id("C0GENERAL").name == "general"
    assert directory.channel_by_name("nope") is None


def test_lookup_by_email_is_case_insensitive_and_skips_deactivated_and_bots():
    directory = SlackDirectory(
        users=[SlackUser("U1", "a", email="Ann@Example.com"),
               SlackUser("U2", "old", email="old@example.com", deleted=True),
               SlackUser("U3", "bot", email="bot@example.com", is_bot=True),
               SlackUser("U4", "x", email="twin@example.com"),
               SlackUser("U5", "y", email="TWIN@example.com")],
        channels=[])
    assert directory.user_by_email(" ann@EXAMPLE.com ").id == "U1"
    assert directory.user_by_email("old@example.com") is None
    assert [u.id for u in directory.users_by_email("old@example.com")] == ["U2"]
    assert directory.user_by_email("bot@example.com") is None
    assert directory.user_by_email("twin@example.com") is None  # two people: not chosen
    assert [u.id for u in directory.users_by_email("twin@example.com")] == ["U4", "U5"]
    assert directory.user_by_email("nobody@example.com") is None


def test_429_at_a_rate_scale_waits_the_decimal_retry_after():
    # Tier 2 at scale 6 is 2 calls/s with a burst of 2: the third users.list page is refused
    # with a Retry-After below one second, sent as a decimal; the scheduler waits exactly that.
    scheduler = RecordingScheduler()
    with SlackEmulator(workspace(), rate_scale=6) as emu:
        directory = read_directory(client(emu), scheduler)
        counters = emu.counters()
    assert len(directory.users) == USERS + 7
    assert len(directory.channels) == 233
    assert counters["ratelimited"].get("users.list", 0) >= 1
    waits = [s for _, s in scheduler.waits]
    assert waits and all(s is not None and 0 < s < 1 for s in waits)
    assert any(s != int(s) for s in waits)  # decimals, which int() would have turned into 0
    assert counters["calls"]["users.list"] == 3 + counters["ratelimited"]["users.list"]
    assert scheduler.stats.ratelimited["users.list"] == counters["ratelimited"]["users.list"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_429_without_retry_after_and_server_errors_are_retried(seed):
    slept: list[float] = []
    scheduler = RecordingScheduler(FakeClock())
    with SlackEmulator(workspace(), rate_scale=1000) as emu:
        emu.configure_faults(seed, FaultPlan(rates={"429_no_retry_after": 0.25, "http_500": 0.2},
                                             only=("users.list", "conversations.list")))
        directory = read_directory(client(emu, sleep=slept.append), scheduler)
        faults = emu.counters()["faults"]
    assert len(directory.users) == USERS + 7
    assert len(directory.channels) == 233
    assert faults.get("http_500", 0) == len(slept)              # the client's backoff
    assert faults.get("429_no_retry_after", 0) == len(scheduler.waits)   # the scheduler's
    assert all(0 < s <= 31 for s in slept)


def test_429_without_retry_after_waits_about_a_second():
    clock = FakeClock()
    scheduler = RecordingScheduler(clock)
    started = clock.now()
    with SlackEmulator(workspace(10), rate_scale=1000) as emu:
        emu.configure_faults(7, FaultPlan(rates={"429_no_retry_after": 1.0}, only=("users.list",)))
        with pytest.raises(TransientError, match="still rate limited"):
            read_directory(client(emu), scheduler)
    assert len(scheduler.waits) == 30 and all(s is None for _, s in scheduler.waits)
    assert clock.now() - started >= 30  # at least 1 s each when Slack gives no Retry-After


def test_bad_token_and_missing_scope_are_our_errors():
    with SlackEmulator(workspace(5), rate_scale=1000) as emu:
        with pytest.raises(AuthError, match="invalid_auth"):
            read(emu, token="xoxb-wrong")
    with SlackEmulator(workspace(5), rate_scale=1000, scopes={"channels:read"}) as emu:
        with pytest.raises(PermissionMissing, match="users:read"):
            read(emu)


def test_retry_after_parsing():
    assert retry_after_seconds({"Retry-After": "30"}) == 30.0
    assert retry_after_seconds({"retry-after": "0.250"}) == 0.25
    assert retry_after_seconds({"Retry-After": ["2"]}) == 2.0
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"Retry-After": "soon"}) is None


def test_slack_client_from_settings(clean_env):
    settings = load_settings(None, environ={"MIGRATE_SLACK_URL": "http://127.0.0.1:9/api/",
                                            "MIGRATE_SLACK_TOKEN": "xoxb-test",
                                            "MIGRATE_SLACK_TIMEOUT": "7.5"})
    c = slack_client(settings)
    assert c.web.base_url == "http://127.0.0.1:9/api/"
    assert c.web.token == "xoxb-test"
    assert c.web.timeout == 8
    assert c.web.retry_handlers == []  # nothing re-sent behind our back (reference §8.2)


def test_save_and_load_round_trip(fast_emu, tmp_path):
    in_memory = read(fast_emu)
    with Store.open(tmp_path) as store:
        assert load_directory(store) is None
        # Read into a store, the users go there page by page and are looked up there.
        directory = read_directory(client(fast_emu), RecordingScheduler(), store)
        assert isinstance(directory.users, StoredSlackUsers)
        again = load_directory(store)
        assert again == directory  # users, channels and fetched_at
        assert list(again.users) == list(in_memory.users)
        assert again.channels == in_memory.channels
        assert again.user_by_email(" ann@EXAMPLE.com ").id == "U0ANN"
        assert again.user_by_id("U0GONE").deleted
        # The objects as Slack gave them are kept whole.
        raws = [json.loads(r[0]) for r in store.execute("SELECT raw FROM slack_users ORDER BY id")]
        assert [slack_user(raw) for raw in raws] == list(in_memory.users)
        assert store.scalar("SELECT COUNT(*) FROM slack_users") == USERS + 7
        assert store.scalar("SELECT id FROM slack_users WHERE email = 'ann@example.com' "
                            "COLLATE NOCASE") == "U0ANN"
        assert store.scalar("SELECT is_archived FROM slack_channels WHERE name = 'old-stuff'") == 1
        # A new snapshot replaces the old one whole.
        smaller = SlackDirectory(users=[SlackUser("U9", "nine", email="n@example.com")],
                                 channels=[SlackChannel("C9", "nine", is_private=True)],
                                 fetched_at="2026-01-01T00:00:00.000Z")
        save_directory(store, smaller)
        assert load_directory(store) == smaller
