"""Identity mapping: Teams users → Slack users by email, with every doubt reported."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.errors import EXIT_USAGE, ConfigError
from migrate.graph.records import teams_user
from migrate.model import SlackUser, TeamsUser
from migrate.sandbox.tenant import default_demo_folder, load_sandbox
from migrate.slack.directory import slack_user
from migrate.transform.users import (
    DEACTIVATED,
    GUEST_POLICY,
    NO_ACCOUNT,
    SKIPPED,
    UNKNOWN_OVERRIDE,
    UserOverride,
    load_user_overrides,
    map_users,
    user_addresses,
)


def T(uid: str, mail: str | None = None, upn: str | None = None, other=(), proxy=(),
      guest: bool = False, name: str | None = None) -> TeamsUser:
    return TeamsUser(uid, name or uid, mail=mail, user_principal_name=upn, other_mails=tuple(other),
                     proxy_addresses=tuple(proxy), user_type="Guest" if guest else "Member")


def S(sid: str, email: str | None, **flags) -> SlackUser:
    return SlackUser(sid, sid.lower(), email=email, **flags)


def decide(teams, slack, overrides=(), **kw):
    return map_users(teams, slack, list(overrides), **kw)


# -- routes ------------------------------------------------------------------------------


def test_each_route_in_design_order():
    teams = [
        T("a", mail="a@x.com", upn="a.upn@x.com"),
        T("b", mail=None, upn="B@X.com"),
        T("c", mail="c@x.com", other=["c@partner.com"]),
        T("d", mail="d@x.com", proxy=["SMTP:d@x.com", "smtp:dee@x.com", "SIP:dee2@x.com"]),
    ]
    slack = [S("UA", "A@x.com"), S("UB", "b@x.com"), S("UC", "c@PARTNER.com"), S("UD", "dee@x.com"),
             S("UX", "dee2@x.com")]
    m = decide(teams, slack)
    assert m.teams_user_id_to_slack_user_id == {"a": "UA", "b": "UB", "c": "UC", "d": "UD"}
    assert [m.decisions[u].route for u in "abcd"] == [
        "mail", "userPrincipalName", "otherMails", "proxyAddresses"]
    assert all(d.reason is None for d in m.decisions.values())


def test_addresses_are_normalised_deduplicated_and_guest_upns_dropped():
    user = T("k", mail=" Kari@Fabrikam.com ", upn="kari_fabrikam.com#EXT#@nw.onmicrosoft.com",
             other=["kari@fabrikam.com", "k2@fabrikam.com"],
             proxy=["SMTP:kari@fabrikam.com", "smtp:K3@fabrikam.com", "X500:/o=x", "nocolon"])
    assert user_addresses(user) == [("mail", "kari@fabrikam.com"), ("otherMails", "k2@fabrikam.com"),
                                    ("proxyAddresses", "k3@fabrikam.com")]


def test_guest_upn_never_matches_even_if_slack_has_it():
    upn = "kari_fabrikam.com#EXT#@nw.onmicrosoft.com"
    m = decide([T("k", upn=upn, guest=True)], [S("UK", upn)])
    assert m.decisions["k"].slack_user_id is None
    assert m.decisions["k"].reason == NO_ACCOUNT


def test_no_match():
    m = decide([T("a", mail="a@x.com")], [S("UB", "b@x.com"), S("UN", None)])
    d = m.decisions["a"]
    assert (d.slack_user_id, d.route, d.reason) == (None, None, NO_ACCOUNT)
    assert m.unmapped() == [d]


def test_deactivated_slack_user_is_reported_not_used():
    m = decide([T("ben", mail="ben@x.com")], [S("UBEN", "ben@x.com", deleted=True)])
    d = m.decisions["ben"]
    assert d.slack_user_id is None and d.reason == DEACTIVATED and d.route == "mail"
    assert [(c.slack_user_id, c.deleted) for c in d.candidates] == [("UBEN", True)]
    assert "ben" not in m.teams_user_id_to_slack_user_id


def test_bots_and_slackbot_never_match():
    teams = [T("a", mail="bot@x.com"), T("b", mail="slackbot@x.com")]
    slack = [S("UBOT", "bot@x.com", is_bot=True), S("USLACKBOT", "slackbot@x.com")]
    m = decide(teams, slack)
    assert m.teams_user_id_to_slack_user_id == {}
    assert {d.reason for d in m.decisions.values()} == {NO_ACCOUNT}


def test_ambiguous_when_addresses_reach_two_slack_users():
    sam = T("sam", mail="sam.taylor@x.com", upn="sam.taylor@x.com", other=["sam@adatum.com"])
    m = decide([sam], [S("U1", "sam.taylor@x.com"), S("U2", "Sam@Adatum.com")])
    d = m.decisions["sam"]
    assert d.slack_user_id is None and d.route is None
    assert d.reason.startswith("ambiguous: ")
    assert "mail sam.taylor@x.com → U1" in d.reason and "otherMails sam@adatum.com → U2" in d.reason
    assert [(c.route, c.slack_user_id) for c in d.candidates] == [("mail", "U1"), ("otherMails", "U2")]


def test_ambiguous_when_two_slack_accounts_share_an_email_even_if_one_is_deactivated():
    m = decide([T("a", mail="a@x.com")], [S("U1", "a@x.com"), S("U2", "A@x.com", deleted=True)])
    assert m.decisions["a"].reason.startswith("ambiguous: ")
    assert "U2 (deactivated)" in m.decisions["a"].reason


def test_conflict_two_teams_people_one_slack_user_neither_chosen():
    teams = [T("old", mail="pat@x.com", name="Pat (old)"),
             T("new", mail="pat.new@x.com", other=["pat@x.com"], name="Pat")]
    m = decide(teams, [S("UP", "pat@x.com")])
    assert m.teams_user_id_to_slack_user_id == {}
    assert m.decisions["old"].reason == "conflict: Slack user UP also matches Pat (new)"
    assert m.decisions["new"].reason == "conflict: Slack user UP also matches Pat (old) (old)"
    assert m.decisions["new"].route == "otherMails"


def test_an_override_decides_a_conflict():
    teams = [T("old", mail="pat@x.com", name="Pat (old)"), T("new", other=["pat@x.com"], name="Pat")]
    m = decide(teams, [S("UP", "pat@x.com")], [UserOverride("new", "UP", "users.csv:2")])
    assert m.teams_user_id_to_slack_user_id == {"new": "UP"}
    assert m.decisions["new"].route == "override"
    assert m.decisions["old"].reason == "conflict: Slack user UP is given to Pat (new) by override"


# -- guests ------------------------------------------------------------------------------


def test_guest_policy():
    teams = [T("g", mail="g@partner.com", guest=True), T("m", mail="m@x.com")]
    slack = [S("UG", "g@partner.com", is_restricted=True), S("UM", "m@x.com")]
    assert decide(teams, slack).teams_user_id_to_slack_user_id == {"g": "UG", "m": "UM"}
    m = decide(teams, slack, guests="unmapped")
    assert m.teams_user_id_to_slack_user_id == {"m": "UM"}
    assert m.decisions["g"].reason == GUEST_POLICY
    # An override is explicit: it maps a guest whatever the policy.
    m = decide(teams, slack, [UserOverride("g", "UG", "f:2")], guests="unmapped")
    assert m.teams_user_id_to_slack_user_id["g"] == "UG"
    with pytest.raises(ConfigError, match="guests must be one of"):
        decide(teams, slack, guests="invite")


# -- overrides ---------------------------------------------------------------------------


def test_overrides_by_id_and_email_to_id_email_or_skip():
    teams = [T("a", mail="a@x.com"), T("b", mail="b@x.com", other=["bee@x.com"]),
             T("c", mail="c@x.com"), T("d", mail="d@x.com")]
    slack = [S("UA", "a@x.com"), S("UB", "b@x.com"), S("UC2", "c2@x.com"), S("UD", "d@x.com")]
    overrides = [UserOverride("a", "UB", "f:2"),                  # id → id, beats the email match
                 UserOverride("BEE@x.com", None, "f:3"),          # email → skip
                 UserOverride("c", "C2@X.com", "f:4")]            # id → Slack email
    m = decide(teams, slack, overrides)
    assert m.teams_user_id_to_slack_user_id == {"a": "UB", "c": "UC2", "d": "UD"}
    assert m.decisions["b"].reason == f"{SKIPPED} (f:3)" and m.decisions["b"].route == "override"
    assert m.warnings == []


def test_override_to_unknown_deactivated_or_bot_slack_user_is_reported_not_fatal():
    teams = [T("a", mail="a@x.com"), T("b", mail="b@x.com"), T("c", mail="c@x.com"),
             T("d", mail="d@x.com")]
    slack = [S("UA", "a@x.com"), S("UOLD", "old@x.com", deleted=True), S("UBOT", None, is_bot=True)]
    overrides = [UserOverride("a", "UNOPE", "f:2"), UserOverride("b", "UOLD", "f:3"),
                 UserOverride("c", "UBOT", "f:4"), UserOverride("d", "ghost@x.com", "f:5")]
    m = decide(teams, slack, overrides)
    assert m.teams_user_id_to_slack_user_id == {}
    assert m.decisions["a"].reason == f"{UNKNOWN_OVERRIDE}: UNOPE (f:2)"
    assert m.decisions["b"].reason.startswith(DEACTIVATED)
    assert "bot" in m.decisions["c"].reason
    assert m.decisions["d"].reason == f"{UNKNOWN_OVERRIDE}: ghost@x.com (f:5)"


def test_override_naming_no_or_several_teams_users_is_a_warning():
    teams = [T("a", mail="a@x.com", other=["team@x.com"]), T("b", mail="b@x.com", other=["team@x.com"])]
    overrides = [UserOverride("nobody@x.com", "UA", "f:2"), UserOverride("team@x.com", "UA", "f:3"),
                 UserOverride("a", "UA", "f:4"), UserOverride("A@x.com", None, "f:5")]
    m = decide(teams, [S("UA", "zzz@x.com")], overrides)
    assert m.teams_user_id_to_slack_user_id == {"a": "UA"}
    assert len(m.warnings) == 3
    assert m.warnings[0].startswith("f:2: no Teams user nobody@x.com")
    assert "name one by its Teams id" in m.warnings[1]
    assert m.warnings[2].startswith("f:5:") and "already has an override" in m.warnings[2]


# -- override file -----------------------------------------------------------------------

GUID = "8c1a7ff8-6d0a-4f02-b469-91b8a4747dd1"


def test_load_user_overrides(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("\ufeffTeams_User , slack_user\n"
                    "# a comment\n"
                    f"{GUID},U0123ABC\n"
                    "\n"
                    "ann@contoso.com, ann@example.com ,\n"
                    "\"bob@contoso.com\",SKIP\n"
                    "carl@contoso.com,W0ENTERPRISE\n", encoding="utf-8")
    assert load_user_overrides(path) == [
        UserOverride(GUID, "U0123ABC", f"{path}:3"),
        UserOverride("ann@contoso.com", "ann@example.com", f"{path}:5"),
        UserOverride("bob@contoso.com", None, f"{path}:6"),
        UserOverride("carl@contoso.com", "W0ENTERPRISE", f"{path}:7"),
    ]
    path.write_text("teams_user,slack_user\n", encoding="utf-8")
    assert load_user_overrides(path) == []  # what `migrate init` writes


@pytest.mark.parametrize(("body", "line", "message"), [
    ("teams,slack\n", 1, "the header must be teams_user,slack_user"),
    (f"teams_user,slack_user\n{GUID},U1AB,extra\n", 2, "expected 2 columns"),
    (f"teams_user,slack_user\n{GUID}\n", 2, "slack_user is empty"),
    ("teams_user,slack_user\n,U1AB\n", 2, "teams_user is empty"),
    (f"teams_user,slack_user\n\n{GUID},not an id\n", 3, "is not a Slack user id"),
    (f"teams_user,slack_user\n{GUID},u1ab\n", 2, "is not a Slack user id"),
    ("teams_user,slack_user\nPat Rivera,U1AB\n", 2, "neither a Teams user id"),
    (f"teams_user,slack_user\n{GUID},U1AB\n{GUID.upper()},skip\n", 3, "already has an override at"),
])
def test_malformed_override_files_name_file_and_line(tmp_path, body, line, message):
    path = tmp_path / "users.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_user_overrides(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert info.value.exit_code == EXIT_USAGE


def test_missing_or_empty_override_file(tmp_path):
    with pytest.raises(ConfigError, match="override file not found"):
        load_user_overrides(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("\n# nothing\n")
    with pytest.raises(ConfigError, match="empty override file"):
        load_user_overrides(tmp_path / "empty.csv")


# -- determinism -------------------------------------------------------------------------

emails = st.sampled_from(["a@x.com", "B@x.com", "b@x.com", "c@x.com", "d@partner.com", None])


@st.composite
def worlds(draw):
    teams = [T(f"t{i}", mail=draw(emails), other=[e for e in [draw(emails)] if e],
               guest=draw(st.booleans())) for i in range(draw(st.integers(0, 6)))]
    slack = [S(f"U{i}", draw(emails), deleted=draw(st.booleans()), is_bot=draw(st.booleans()))
             for i in range(draw(st.integers(0, 6)))]
    return teams, slack


@settings(max_examples=200, deadline=None)
@given(worlds(), st.randoms(use_true_random=False))
def test_mapping_is_deterministic_and_safe(world, rnd):
    teams, slack = world
    m = decide(teams, slack)
    shuffled_t, shuffled_s = teams[:], slack[:]
    rnd.shuffle(shuffled_t)
    rnd.shuffle(shuffled_s)
    again = decide(shuffled_t, shuffled_s)
    assert again == m
    assert list(m.decisions) == sorted(m.decisions)
    by_id = {u.id: u for u in slack}
    targets = list(m.teams_user_id_to_slack_user_id.values())
    assert len(targets) == len(set(targets))  # never two people silently on one account
    for uid, sid in m.teams_user_id_to_slack_user_id.items():
        assert not by_id[sid].deleted and not by_id[sid].is_bot
        assert m.decisions[uid].reason is None
    for d in m.decisions.values():
        assert (d.slack_user_id is None) == (d.reason is not None)


# -- known answers: the demo tenant -------------------------------------------------------


def test_demo_tenant_user_matching_known_answers():
    folder = default_demo_folder()
    sandbox = load_sandbox(folder)
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    teams = [teams_user(u) for u in sandbox.graph.users]
    slack = [slack_user(u) for u in sandbox.slack.users]
    random.Random(7).shuffle(teams)
    m = map_users(teams, slack, [])
    assert len(m.decisions) == len(expected["userMatching"]) == 42
    for uid, want in expected["userMatching"].items():
        d = m.decisions[uid]
        label = f"{want['displayName']} ({uid})"
        if want["route"] == "none":
            assert (d.slack_user_id, d.reason) == (None, NO_ACCOUNT), label
        elif want["route"] == "ambiguous":
            assert d.slack_user_id is None and d.reason.startswith("ambiguous: "), label
            found = {(c.route, c.slack_user_id) for c in d.candidates}
            assert {c.slack_user_id for c in d.candidates} == set(want["candidates"].values())
            # An address that is both mail and UPN/proxy is listed once, under mail.
            assert found <= set(want["candidates"].items())
        elif want["slackDeleted"]:
            assert (d.slack_user_id, d.route, d.reason) == (None, want["route"], DEACTIVATED), label
            assert [c.slack_user_id for c in d.candidates] == [want["slackUserId"]]
        else:
            assert (d.slack_user_id, d.route, d.reason) == (want["slackUserId"], want["route"], None), label
    special = expected["specialUsers"]
    assert m.decisions[special["proxyAddressOnly"]].route == "proxyAddresses"
    for guest in special["guests"]:
        if m.decisions[guest].slack_user_id:
            assert m.decisions[guest].route == "mail"  # never their #EXT# UPN
    unmapped = map_users(teams, slack, [], guests="unmapped")
    assert all(unmapped.decisions[g].reason == GUEST_POLICY for g in special["guests"])
