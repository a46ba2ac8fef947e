"""Channel naming and mapping (DESIGN §4.4): slugs, collisions, the hash rule, overrides."""

from __future__ import annotations

import hashlib
import json
import random
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from migrate.errors import EXIT_USAGE, ConfigError
from migrate.export.records import teams_channel, teams_team
from migrate.load.directory import slack_channel
from migrate.model import SlackChannel, TeamsChannel, TeamsTeam
from migrate.sandbox.tenant import default_demo_folder, load_sandbox
from migrate.transform.channels import (
    ChannelDecision,
    ChannelOverride,
    creation_order,
    is_valid_name,
    load_channel_overrides,
    part_hash,
    plan_channel_names,
    slugify,
)

VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


def team(tid: str, name: str, archived: bool = False) -> TeamsTeam:
    return TeamsTeam(tid, name, is_archived=archived)


def chan(cid: str, tid: str, name: str, created: str | None = "2020-01-01T00:00:00Z",
         kind: str = "standard", description: str | None = None) -> TeamsChannel:
    return TeamsChannel(cid, tid, name, description=description, membership_type=kind,
                        created_at=created)


def by_id(decisions: list[ChannelDecision]) -> dict[str, ChannelDecision]:
    return {d.teams_channel_id: d for d in decisions}


# -- slugify -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "slug"), [
    ("General", "general"),
    ("Incidents 🔥 & Outages!", "incidents-outages"),
    ("Customer Success & Support Operations (EMEA + APAC)", "customer-success-support-operations-emea-apac"),
    ("Québec Renewals", "quebec-renewals"),
    ("Partner Bridge – Fabrikam", "partner-bridge-fabrikam"),
    ("R&D", "r-d"),
    ("R-D", "r-d"),
    ("snake_case  stays", "snake_case-stays"),
    ("a - b", "a---b"),  # every run outside a-z0-9-_ is one "-"; "-" itself is kept
    ("--Ünïcödé--", "unicode"),
    ("Straße Øresund Łódź Æsir", "strasse-oresund-lodz-aesir"),
    ("ＦＵＬＬ width", "full-width"),
    ("営業", ""),
    ("🔥🔥", ""),
    ("x" * 100, "x" * 80),
    ("a" * 79 + " b", "a" * 79),  # cut at 80, then trimmed of "-"
])
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_slugify_unicode_keeps_letters():
    assert slugify("営業", unicode=True) == "営業"
    assert slugify("Québec Renewals", unicode=True) == "québec-renewals"
    assert slugify("Дмитрий Иванов", unicode=True) == "дмитрий-иванов"
    assert slugify("हिंदी टीम", unicode=True) == "हिंदी-टीम"  # vowel signs stay on their letters
    assert slugify("🔥 & !", unicode=True) == ""
    assert slugify("ＡＢ", unicode=True) == "ａｂ"


def test_part_hash_is_documented_format():
    tid = "38e53905-db10-4724-bd87-0b6ec5027c0d"
    assert part_hash("t", tid) == "t" + hashlib.sha1(tid.encode(), usedforsecurity=False).hexdigest()[:6]
    assert re.fullmatch(r"t[0-9a-f]{6}", part_hash("t", tid))


def test_is_valid_name():
    assert is_valid_name("r-d_general-2")
    assert not is_valid_name("R-D") and not is_valid_name("a.b") and not is_valid_name("")
    assert not is_valid_name("x" * 81) and not is_valid_name("--_")
    assert not is_valid_name("営業") and is_valid_name("営業", unicode=True)
    assert not is_valid_name("Québec", unicode=True)


# -- naming and collisions ---------------------------------------------------------------


def test_collision_with_existing_slack_channel_archived_included():
    teams = [team("t1", "Engineering"), team("t2", "Marketing")]
    channels = [chan("c1", "t1", "General"), chan("c2", "t2", "Campaigns"), chan("c3", "t1", "Backend")]
    existing = [SlackChannel("C1", "engineering-general"),
                SlackChannel("C2", "marketing-campaigns", is_archived=True)]
    d = by_id(plan_channel_names(teams, channels, existing, []))
    assert d["c1"].slack_name == "engineering-general-2"
    assert d["c1"].renamed_from == "engineering-general"
    assert "existing Slack channel #engineering-general" in d["c1"].reason
    assert d["c2"].slack_name == "marketing-campaigns-2"
    assert "(archived)" in d["c2"].reason
    assert (d["c3"].slack_name, d["c3"].renamed_from, d["c3"].reason) == ("engineering-backend", None, None)
    assert all(x.action == "create" and x.slack_channel_id is None for x in d.values())


def test_planned_collisions_go_by_creation_instant_then_id():
    teams = [team("t1", "R&D"), team("t2", "R-D"), team("t3", "R D")]
    channels = [
        chan("c-late", "t2", "General", "2021-02-01T14:10:03.877Z"),
        # .9Z is later than .877Z although it sorts first as text: instants, not strings.
        chan("c-early", "t1", "General", "2019-05-06T08:31:51.9Z"),
        chan("c-a", "t3", "General", "2021-02-01T14:10:03.877Z"),  # same instant as c-late
        chan("c-unknown", "t3", "general!", None),                 # unknown date: last
    ]
    decisions = plan_channel_names(teams, channels, [], [])
    assert [x.teams_channel_id for x in decisions] == ["c-early", "c-a", "c-late", "c-unknown"]
    d = by_id(decisions)
    assert d["c-early"].slack_name == "r-d-general" and d["c-early"].renamed_from is None
    assert d["c-a"].slack_name == "r-d-general-2"
    assert d["c-late"].slack_name == "r-d-general-3"
    assert d["c-unknown"].slack_name == "r-d-general-4"
    assert "R&D/General (created earlier in Teams)" in d["c-late"].reason


def test_a_suffix_never_takes_another_channels_plain_name():
    teams = [team("t1", "A"), team("t2", "A B")]
    channels = [chan("x1", "t1", "B", "2020-01-01T00:00:00Z"),
                chan("x2", "t1", "b", "2020-01-02T00:00:00Z"),       # a-b → suffixed
                chan("y", "t2", "2", "2020-01-03T00:00:00Z")]        # a-b-2 is its plain name
    d = by_id(plan_channel_names(teams, channels, [], []))
    assert (d["x1"].slack_name, d["x2"].slack_name, d["y"].slack_name) == ("a-b", "a-b-3", "a-b-2")


def test_long_names_are_cut_and_the_base_shortened_for_the_suffix():
    teams = [team("t1", "Customer Success & Support Operations (EMEA + APAC)")]
    channels = [chan("c1", "t1", "Escalations, Post-Mortems and Lessons Learned", "2020-03-02T10:00:51Z"),
                chan("c2", "t1", "Escalations, Post-Mortems and Lessons Learned (old)",
                     "2020-03-03T10:00:51Z")]
    full = "customer-success-support-operations-emea-apac-escalations-post-mortems-and-lessons-learned"
    d = by_id(plan_channel_names(teams, channels, [], []))
    assert d["c1"].slack_name == full[:80] and len(d["c1"].slack_name) == 80
    assert d["c1"].renamed_from == full and "cut to 80" in d["c1"].reason
    assert d["c2"].slack_name == full[:78] + "-2"
    assert len(d["c2"].slack_name) == 80


def test_hash_rule_for_parts_that_slugify_to_nothing():
    tid, cid = "38e53905-db10-4724-bd87-0b6ec5027c0d", "19:c09a059133c259bfa1ffdbcd6e3dbd4d@thread.tacv2"
    teams = [team(tid, "営業")]
    channels = [chan("19:g", tid, "General"), chan(cid, tid, "顧客")]
    d = by_id(plan_channel_names(teams, channels, [], []))
    t_hash, c_hash = part_hash("t", tid), part_hash("c", cid)
    assert d["19:g"].slack_name == f"{t_hash}-general"
    assert d[cid].slack_name == f"{t_hash}-{c_hash}"
    assert d[cid].renamed_from == "営業/顧客"
    assert t_hash in d[cid].reason and c_hash in d[cid].reason
    # Stable: the same ids give the same names, whatever else is planned.
    again = by_id(plan_channel_names(teams + [team("t9", "Other")], channels + [chan("z", "t9", "X")],
                                     [], []))
    assert again[cid].slack_name == d[cid].slack_name


def test_a_part_of_only_underscores_is_hashed_too():
    d = by_id(plan_channel_names([team("t1", "__")], [chan("c1", "t1", "_")], [], []))
    assert d["c1"].slack_name == f"{part_hash('t', 't1')}-{part_hash('c', 'c1')}"


def test_unicode_setting_keeps_letters_instead_of_hashing():
    tid = "38e53905-db10-4724-bd87-0b6ec5027c0d"
    teams = [team(tid, "営業")]
    channels = [chan("19:g", tid, "General"), chan("19:k", tid, "顧客"), chan("19:f", tid, "🔥")]
    d = by_id(plan_channel_names(teams, channels, [], [], unicode_names=True))
    assert d["19:g"].slack_name == "営業-general" and d["19:g"].renamed_from is None
    assert d["19:k"].slack_name == "営業-顧客"
    assert d["19:f"].slack_name == f"営業-{part_hash('c', '19:f')}"


def test_privacy_archive_and_purpose():
    teams = [team("t1", "Eng"), team("t2", "Old", archived=True)]
    long = "x" * 300
    channels = [chan("s", "t1", "Std", description="  What we do  "),
                chan("p", "t1", "Priv", kind="private", description=long),
                chan("h", "t1", "Shared", kind="shared"),
                chan("o", "t2", "General")]
    d = by_id(plan_channel_names(teams, channels, [], []))
    assert [d[k].is_private for k in "sph"] == [False, True, True]
    assert d["s"].purpose == "What we do" and d["s"].topic is None and d["s"].notes == ()
    assert len(d["p"].purpose) == 250 and d["p"].purpose.endswith("…")
    assert d["p"].notes == ("description trimmed to 250 characters (was 300)",)
    assert d["h"].purpose is None
    assert d["o"].archive_after and not d["s"].archive_after
    assert any("archived after import" in n for n in d["o"].notes)


def test_a_channel_archived_alone_in_an_active_team_is_archived_after_import():
    archived = TeamsChannel("a", "t1", "Old project", is_archived=True)
    d = by_id(plan_channel_names([team("t1", "Eng")], [archived, chan("s", "t1", "Std")], [], []))
    assert d["a"].archive_after and not d["s"].archive_after
    assert d["a"].notes == ("channel archived in Teams: it is archived after import",)


def test_channels_an_earlier_run_created_are_reused_not_renamed():
    teams = [team("t1", "Eng")]
    channels = [chan("c1", "t1", "General", "2020-01-01T00:00:00Z"),
                chan("c2", "t1", "General!", "2020-01-02T00:00:00Z")]
    existing = [SlackChannel("C1", "eng-general")]
    d = by_id(plan_channel_names(teams, channels, existing, [], mapped={"c1": "C1"}))
    assert (d["c1"].action, d["c1"].slack_channel_id, d["c1"].slack_name) == ("reuse", "C1", "eng-general")
    assert d["c1"].renamed_from is None
    assert d["c2"].slack_name == "eng-general-2"  # the name is still taken for others


# -- overrides ---------------------------------------------------------------------------


def ov(ref: str, action: str, target: str | None = None, line: int = 2) -> ChannelOverride:
    return ChannelOverride(ref, action, target, f"channels.csv:{line}")


def test_overrides_rename_merge_skip():
    teams = [team("t1", "Eng"), team("t2", "Ops")]
    channels = [chan("c1", "t1", "General"), chan("c2", "t1", "Random"), chan("c3", "t2", "Noise"),
                chan("c4", "t2", "General", "2021-01-01T00:00:00Z"),
                chan("c5", "t2", "Secret", kind="private")]
    existing = [SlackChannel("C0ALL", "all-hands"), SlackChannel("C0SEC", "sec", is_private=True)]
    overrides = [ov("c1", "rename", "eng"), ov("eng/random", "merge", "#all-hands", 3),
                 ov("Ops/Noise", "skip", None, 4), ov("c5", "merge", "C0SEC", 5)]
    d = by_id(plan_channel_names(teams, channels, existing, overrides))
    assert (d["c1"].action, d["c1"].slack_name, d["c1"].renamed_from) == ("create", "eng", "eng-general")
    assert d["c1"].reason == "renamed by override (channels.csv:2)"
    assert (d["c2"].action, d["c2"].slack_channel_id, d["c2"].slack_name) == ("reuse", "C0ALL", "all-hands")
    assert "merged into the existing #all-hands" in d["c2"].reason
    assert d["c2"].purpose is None and not d["c2"].archive_after  # not ours to describe
    assert (d["c3"].action, d["c3"].slack_name) == ("skip", None)
    assert d["c3"].reason == "skipped by override (channels.csv:4)"
    assert (d["c5"].action, d["c5"].slack_channel_id, d["c5"].is_private) == ("reuse", "C0SEC", True)
    assert d["c4"].slack_name == "ops-general"


def test_a_rename_wins_its_name_over_automatic_names():
    teams = [team("t1", "Eng")]
    channels = [chan("c1", "t1", "General", "2020-01-01T00:00:00Z"),
                chan("c2", "t1", "Other", "2021-01-01T00:00:00Z")]
    d = by_id(plan_channel_names(teams, channels, [], [ov("c2", "rename", "eng-general")]))
    assert d["c2"].slack_name == "eng-general"
    assert d["c1"].slack_name == "eng-general-2"
    assert "rename override at channels.csv:2" in d["c1"].reason


@pytest.mark.parametrize(("overrides", "message"), [
    ([ov("c1", "rename", "taken")], "already taken by the existing Slack channel #taken"),
    ([ov("c1", "rename", "same"), ov("c2", "rename", "same", 3)], "already taken by the rename override"),
    ([ov("c1", "rename", "営業")], "not a valid Slack channel name"),
    ([ov("c1", "merge", "nowhere")], "no Slack channel 'nowhere' to merge into"),
    ([ov("c1", "merge", "old")], "#old is archived in Slack"),
    ([ov("priv", "merge", "taken")], "cannot be merged into the public #taken"),
    ([ov("Nope/General", "skip")], "no Teams channel 'Nope/General'"),
    ([ov("Twin/General", "skip")], "names 2 Teams channels"),
    ([ov("c1", "skip"), ov("Eng/General", "skip", None, 3)], "already has an override at channels.csv:2"),
])
def test_override_errors(overrides, message):
    teams = [team("t1", "Eng"), team("t2", "Twin"), team("t3", "Twin")]
    channels = [chan("c1", "t1", "General"), chan("c2", "t1", "Other"),
                chan("priv", "t1", "Priv", kind="private"),
                chan("d1", "t2", "General"), chan("d2", "t3", "General")]
    existing = [SlackChannel("C1", "taken"), SlackChannel("C2", "old", is_archived=True)]
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        plan_channel_names(teams, channels, existing, overrides)
    assert str(info.value).startswith("channels.csv:")


def test_load_channel_overrides(tmp_path):
    path = tmp_path / "channels.csv"
    path.write_text("teams_channel,action,slack_channel\n"
                    "19:abc@thread.tacv2,rename,#eng-talk\n"
                    "\"Sales, EMEA/General\",MERGE,C0ALL\n"
                    "Eng/Random,merge,#all-hands\n"
                    "Eng/Noise,skip\n"
                    "Eng/Noise 2,skip,\n", encoding="utf-8")
    assert load_channel_overrides(path) == [
        ChannelOverride("19:abc@thread.tacv2", "rename", "eng-talk", f"{path}:2"),
        ChannelOverride("Sales, EMEA/General", "merge", "C0ALL", f"{path}:3"),
        ChannelOverride("Eng/Random", "merge", "#all-hands", f"{path}:4"),
        ChannelOverride("Eng/Noise", "skip", None, f"{path}:5"),
        ChannelOverride("Eng/Noise 2", "skip", None, f"{path}:6"),
    ]


@pytest.mark.parametrize(("body", "line", "message"), [
    ("teams_channel,action\n", 1, "the header must be teams_channel,action,slack_channel"),
    ("teams_channel,action,slack_channel\nA/B,archive,x\n", 2, "action 'archive' is not one of"),
    ("teams_channel,action,slack_channel\nA/B,rename,Bad Name\n", 2, "not a valid Slack channel name"),
    ("teams_channel,action,slack_channel\nA/B,rename\n", 2, "not a valid Slack channel name"),
    ("teams_channel,action,slack_channel\nA/B,rename," + "x" * 81 + "\n", 2, "not a valid"),
    ("teams_channel,action,slack_channel\n\nA/B,merge\n", 3, "merge needs slack_channel"),
    ("teams_channel,action,slack_channel\nA/B,merge,Bad.Name\n", 2, "neither a Slack channel name"),
    ("teams_channel,action,slack_channel\nA/B,skip,x\n", 2, "skip takes no slack_channel"),
    ("teams_channel,action,slack_channel\n,skip\n", 2, "teams_channel is empty"),
    ("teams_channel,action,slack_channel\nA/B,skip,,,x\n", 2, "expected 3 columns"),
])
def test_malformed_channel_override_files(tmp_path, body, line, message):
    path = tmp_path / "channels.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        load_channel_overrides(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert info.value.exit_code == EXIT_USAGE


# -- properties --------------------------------------------------------------------------

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)
simple_names = st.sampled_from(["General", "general", "R&D", "R-D", "Lab Notes", "営業", "🔥",
                                "x" * 85, "y" * 79 + "!", "Québec", "a-b", "A B", "b", "2"])
stamps = st.one_of(st.none(), st.datetimes(
    min_value=__import__("datetime").datetime(2015, 1, 1),
    max_value=__import__("datetime").datetime(2026, 1, 1)).map(
        lambda d: d.isoformat(timespec="milliseconds") + "Z"))


@settings(max_examples=400, deadline=None)
@given(names)
def test_slug_is_a_valid_slack_name_part_and_stable(name):
    slug = slugify(name)
    assert slug == slugify(name)
    assert len(slug) <= 80
    assert slug == "" or VALID.match(slug)
    assert not slug.startswith("-") and not slug.endswith("-")


@settings(max_examples=300, deadline=None)
@given(names)
def test_unicode_slug_is_lowercase_and_at_most_80(name):
    slug = slugify(name, unicode=True)
    assert len(slug) <= 80 and slug == slugify(name, unicode=True)
    assert slug == "" or is_valid_name(slug, unicode=True) or not slug.strip("-_")
    assert not slug.startswith("-") and not slug.endswith("-")


@st.composite
def plans(draw):
    team_names = draw(st.lists(st.one_of(simple_names, names), min_size=1, max_size=4))
    teams = [team(f"t{i}", n) for i, n in enumerate(team_names)]
    channels = [chan(f"c{i}", f"t{draw(st.integers(0, len(teams) - 1))}",
                     draw(st.one_of(simple_names, names)), draw(stamps))
                for i in range(draw(st.integers(1, 10)))]
    existing_names = draw(st.lists(st.sampled_from(
        ["general", "r-d-general", "r-d-general-2", "a-b", "a-b-2", "x" * 80]), unique=True))
    existing = [SlackChannel(f"C{i}", n, is_archived=draw(st.booleans()))
                for i, n in enumerate(existing_names)]
    return teams, channels, existing


@settings(max_examples=300, deadline=None)
@given(plans(), st.randoms(use_true_random=False))
def test_plan_properties(plan, rnd):
    teams, channels, existing = plan
    decisions = plan_channel_names(teams, channels, existing, [])
    # Deterministic, whatever the input order.
    shuffled = channels[:]
    rnd.shuffle(shuffled)
    assert plan_channel_names(list(reversed(teams)), shuffled, existing[::-1], []) == decisions
    planned = [d.slack_name for d in decisions]
    assert all(VALID.match(n) and is_valid_name(n) for n in planned)
    assert len(set(planned)) == len(planned)                 # unique across the plan
    assert not set(planned) & {c.name for c in existing}     # and free in Slack, archived too
    # The earliest-created channel of each plain name keeps it, unless Slack holds it.
    team_names = {t.id: t.display_name for t in teams}
    plain: dict[str, list[TeamsChannel]] = {}
    for c in channels:
        base = plain_name(team_names[c.team_id], c)
        plain.setdefault(base, []).append(c)
    taken = {c.name for c in existing}
    d = by_id(decisions)
    for base, group in plain.items():
        first = min(group, key=creation_order)
        if base not in taken:
            assert d[first.id].slack_name == base
        for c in group:
            if d[c.id].slack_name != base:
                assert d[c.id].renamed_from is not None and d[c.id].reason


def plain_name(team_name: str, channel: TeamsChannel) -> str:
    t = slugify(team_name).strip("_") and slugify(team_name) or part_hash("t", channel.team_id)
    c = (slugify(channel.display_name).strip("_") and slugify(channel.display_name)
         or part_hash("c", channel.id))
    return f"{t}-{c}"[:80].rstrip("-")


@settings(max_examples=100, deadline=None)
@given(plans())
def test_unicode_plans_are_unique_too(plan):
    teams, channels, existing = plan
    planned = [d.slack_name for d in plan_channel_names(teams, channels, existing, [],
                                                        unicode_names=True)]
    assume(planned)
    assert len(set(planned)) == len(planned)
    assert all(len(n) <= 80 and is_valid_name(n, unicode=True) for n in planned)


# -- known answers: the demo tenant -------------------------------------------------------


def test_demo_tenant_channel_names_known_answers():
    folder = default_demo_folder()
    sandbox = load_sandbox(folder)
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    teams = [teams_team(t.team) for t in sandbox.graph.teams]
    channels = [teams_channel(c.channel, t.team["id"]) for t in sandbox.graph.teams for c in t.channels]
    existing = [slack_channel(c) for c in sandbox.slack.channels]
    random.Random(3).shuffle(channels)
    decisions = plan_channel_names(teams, channels, existing, [])
    d = by_id(decisions)
    want = expected["channels"]
    # One decision per channel, in the README's creation order.
    assert [x.teams_channel_id for x in decisions] == [w["channelId"] for w in want]
    for w in want:
        got = d[w["channelId"]]
        label = f"{w['team']}/{w['channel']}"
        assert got.action == "create", label
        assert got.is_private == (w["membershipType"] != "standard"), label
        if w["slug"] is not None:
            assert plain_name(w["team"], channel_of(channels, w)) == w["slug"][:80], label
        if w["expectedSlackName"] is not None:
            assert got.slack_name == w["expectedSlackName"], label
    collisions = expected["collidingChannelNames"]
    for existing_channel in collisions["existingSlackChannels"]:
        got = d[existing_channel["teamsChannelId"]]
        assert got.slack_name == existing_channel["name"] + "-2"
        assert got.renamed_from == existing_channel["name"]
        assert ("(archived)" in got.reason) == existing_channel["isArchived"]
    for name, (first, later) in collisions["plannedCollisions"].items():
        assert (d[first].slack_name, d[later].slack_name) == (name, f"{name}-2")
    for cid in collisions["hashRuleChannels"]:
        w = next(x for x in want if x["channelId"] == cid)
        got = d[cid]
        team_id = w["teamId"]
        parts = got.slack_name.split("-")
        assert parts[0] == part_hash("t", team_id)  # "team" is in every hashParts here
        if "channel" in w["hashParts"]:
            assert parts[1] == part_hash("c", cid)
        else:
            assert parts[1] == slugify(w["channel"])
        assert got.renamed_from == f"{w['team']}/{w['channel']}"
    long = collisions["over80Chars"]
    got = d[long["channelId"]]
    assert got.slack_name == long["slug"][:80] and len(got.slack_name) == 80
    assert got.renamed_from == long["slug"]
    for cid in collisions["topicOver250Chars"]:
        assert len(d[cid].purpose) == 250 and d[cid].notes[0].startswith("description trimmed")
    archived = expected["archivedTeam"]["teamId"]
    assert all(x.archive_after == (x.team_id == archived) for x in decisions)
    names = [x.slack_name for x in decisions]
    assert len(set(names)) == len(names) and all(VALID.match(n) for n in names)


def channel_of(channels: list[TeamsChannel], w: dict) -> TeamsChannel:
    return next(c for c in channels if c.id == w["channelId"])


def test_a_description_becomes_a_purpose_that_cannot_ping_or_link():
    from migrate.transform.channels import MAX_PURPOSE, _purpose

    purpose, notes = _purpose("Ask <!channel> & <@U123> here <b>now</b>")
    assert purpose == "Ask &lt;!channel&gt; &amp; &lt;@U123&gt; here &lt;b&gt;now&lt;/b&gt;"
    assert notes == ()
    long, notes = _purpose("R&D <team> " * 40)
    assert len(long) <= MAX_PURPOSE and long.endswith("…") and notes
    assert "<" not in long and not long[:-1].endswith(("&", "&a", "&am", "&amp", "&l", "&lt"))
