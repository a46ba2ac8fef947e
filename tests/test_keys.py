"""Ledger keys (migrate/store/keys.py): the stored format, and parsing back with ':' in the
Teams channel ids (a resumed run once lost its thread roots to a split on the first ':')."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrate.store import Store, keys, ledger
from migrate.store.keys import CHANNEL_STEPS, ChannelStepKey, FileKey, MemberKey, PostKey

TEAMS_CHANNEL = "19:a1b2c3d4e5f6@thread.tacv2"


def test_the_stored_format_is_unchanged():
    assert PostKey(TEAMS_CHANNEL, "1700000000000", 2).text == f"post:{TEAMS_CHANNEL}:1700000000000:2"
    assert str(PostKey("C", "m")) == "post:C:m:0"
    assert FileKey(TEAMS_CHANNEL, "17", "hostedContent", "aGk=").text == \
        f"file:{TEAMS_CHANNEL}:17:hostedContent:aGk="
    assert MemberKey(TEAMS_CHANNEL, "U123").text == f"member:{TEAMS_CHANNEL}:U123"
    assert ChannelStepKey("archive", TEAMS_CHANNEL).text == f"archive:{TEAMS_CHANNEL}"
    assert PostKey.prefix(TEAMS_CHANNEL) == f"post:{TEAMS_CHANNEL}:"
    assert FileKey.prefix(TEAMS_CHANNEL) == f"file:{TEAMS_CHANNEL}:"
    assert MemberKey.prefix(TEAMS_CHANNEL) == f"member:{TEAMS_CHANNEL}:"


def test_a_channel_id_with_colons_parses_back_whole():
    key = keys.parse(f"post:{TEAMS_CHANNEL}:1700000000000:0")
    assert key == PostKey(TEAMS_CHANNEL, "1700000000000", 0)
    assert key.channel == TEAMS_CHANNEL and key.part == 0
    assert keys.parse(f"file:{TEAMS_CHANNEL}:17:attachment:guid") == \
        FileKey(TEAMS_CHANNEL, "17", "attachment", "guid")
    assert keys.parse(f"member:{TEAMS_CHANNEL}:U1") == MemberKey(TEAMS_CHANNEL, "U1")
    assert keys.parse(f"verified:{TEAMS_CHANNEL}") == ChannelStepKey("verified", TEAMS_CHANNEL)


@pytest.mark.parametrize("text", ["post:C:m", "post", "file:C:m:src", "member:C", "nothing:C",
                                  "C", "post:C:m:x"])
def test_what_is_not_a_key_is_refused(text):
    with pytest.raises(ValueError):
        keys.parse(text)


def test_an_unknown_channel_step_is_refused():
    with pytest.raises(ValueError):
        ChannelStepKey("posts", "C")


def test_kind_of_is_what_the_ledger_stores_as_kind(tmp_path):
    store = Store.open(tmp_path / "w")
    for key in (PostKey(TEAMS_CHANNEL, "1"), FileKey(TEAMS_CHANNEL, "1", "hostedContent", "h"),
                MemberKey(TEAMS_CHANNEL, "U1"), ChannelStepKey("topic", TEAMS_CHANNEL)):
        ledger.done(store, key.text)
        assert keys.kind_of(key.text) == key.kind == ledger.get(store, key.text)["kind"]


def test_a_channel_prefix_holds_only_that_channels_keys(tmp_path):
    store = Store.open(tmp_path / "w")
    mine, other = PostKey(TEAMS_CHANNEL, "1"), PostKey("19:zz@thread.tacv2", "1")
    for key in (mine, other, FileKey(TEAMS_CHANNEL, "1", "attachment", "a")):
        ledger.done(store, key.text)
    assert list(ledger.with_prefix(store, PostKey.prefix(TEAMS_CHANNEL))) == [mine.text]


# Only the channel may hold ':' (see the module docstring); the other fields never do.
_channel = st.text(min_size=0, max_size=30)
_field = st.text(min_size=0, max_size=20).filter(lambda s: ":" not in s)


@given(_channel, _field, st.integers(min_value=0, max_value=10_000))
def test_post_keys_round_trip(channel, message, part):
    key = PostKey(channel, message, part)
    assert keys.parse(key.text) == key
    assert key.text.startswith(PostKey.prefix(channel))


@given(_channel, _field, _field, _field)
def test_file_keys_round_trip(channel, message, source, source_id):
    key = FileKey(channel, message, source, source_id)
    assert keys.parse(key.text) == key
    assert key.text.startswith(FileKey.prefix(channel))


@given(_channel, _field)
def test_member_keys_round_trip(channel, user):
    key = MemberKey(channel, user)
    assert keys.parse(key.text) == key


@given(st.sampled_from(CHANNEL_STEPS), _channel)
def test_channel_step_keys_round_trip(step, channel):
    key = ChannelStepKey(step, channel)
    assert keys.parse(key.text) == key
