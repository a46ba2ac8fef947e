"""Identity mapping: Teams users → Slack users by email, with every doubt reported."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.errors import EXIT_USAGE, ConfigError
from migrate.export.records import teams_user
from migrate.load.directory import slack_user
from migrate.model import SlackUser, TeamsUser
from migrate.sandbox.tenant import default_demo_folder, load_sandbox
from migrate.transform.overrides import UserOverride, load_user_overrides
from migrate.transform.users import (
    DEACTIVATED,
    GUEST_POLICY,
    NO_ACCOUNT,
    ROUTES,
    SKIPPED,
    UNKNOWN_OVERRIDE,
    SlackUsersInMemory,
    decide_users,
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


def test_first_route_wins_and_a_later_different_account_is_a_warning():
    # The outside check: an old Slack account under her UPN left a person out of every channel.
    ana = T("ana", mail="ana.lima@x.com", upn="alima@x.com", other=["ana@adatum.com"])
    slack = [S("UNEW", "ana.lima@x.com"), S("UOLD", "alima@x.com"), S("UADA", "Ana@Adatum.com")]
    m = decide([ana], slack)
    d = m.decisions["ana"]
    assert (d.slack_user_id, d.route, d.reason) == ("UNEW", "mail", None)
    assert [(c.route, c.slack_user_id) for c in d.candidates] == [
        ("mail", "UNEW"), ("userPrincipalName", "UOLD"), ("otherMails", "UADA")]
    assert len(d.warnings) == 2
    assert "userPrincipalName alima@x.com → UOLD" in d.warnings[0] and "mail" in d.warnings[0]
    assert "otherMails ana@adatum.com → UADA" in d.warnings[1]
    assert m.user_warnings() == [("ana", w) for w in d.warnings]
    assert m.warnings == []  # those are for override rows; user warnings are per decision


def test_deactivated_first_route_then_active_later_route_uses_the_active_one():
    bo = T("bo", mail="bo@x.com", upn="bo.new@x.com")
    m = decide([bo], [S("UOLD", "bo@x.com", deleted=True), S("UNEW", "bo.new@x.com")])
    d = m.decisions["bo"]
    assert (d.slack_user_id, d.route, d.reason) == ("UNEW", "userPrincipalName", None)
    assert len(d.warnings) == 1 and "mail bo@x.com → UOLD" in d.warnings[0]
    assert "deactivated" in d.warnings[0]


def test_an_active_account_wins_over_a_deactivated_one_with_the_same_email():
    m = decide([T("a", mail="a@x.com")], [S("U1", "a@x.com"), S("U2", "A@x.com", deleted=True)])
    d = m.decisions["a"]
    assert (d.slack_user_id, d.route) == ("U1", "mail")
    assert "U2" in d.warnings[0] and "deactivated" in d.warnings[0]


def test_one_address_of_several_active_slack_accounts_is_ambiguous():
    # The first route finds two active accounts: the documented order cannot choose.
    m = decide([T("a", mail="a@x.com", other=["a2@x.com"])],
               [S("U1", "a@x.com"), S("U2", "A@x.com"), S("U3", "a2@x.com")])
    d = m.decisions["a"]
    assert d.slack_user_id is None and d.route is None
    assert d.reason.startswith("ambiguous: ") and "U1" in d.reason and "U2" in d.reason


def test_two_people_one_account_the_stronger_route_wins():
    teams = [T("old", mail="pat@x.com", name="Pat (old)"),
             T("new", mail="pat.new@x.com", other=["pat@x.com"], name="Pat")]
    m = decide(teams, [S("UP", "pat@x.com")])
    assert m.teams_user_id_to_slack_user_id == {"old": "UP"}
    assert (m.decisions["old"].route, m.decisions["old"].reason) == ("mail", None)
    d = m.decisions["new"]
    assert d.slack_user_id is None and d.route == "otherMails"
    assert d.reason == ("conflict: Slack user UP goes to Pat (old) (old) by mail, "
                        "a stronger route than otherMails")


def test_the_loser_of_a_contest_falls_back_to_its_next_unclaimed_account():
    teams = [T("a", upn="shared@x.com", other=["a@x.com"], name="A"),
             T("b", mail="shared@x.com", name="B"),
             T("c", other=["shared@x.com"], proxy=["smtp:c@x.com"], name="C")]
    slack = [S("US", "shared@x.com"), S("UA", "a@x.com"), S("UC", "c@x.com")]
    m = decide(teams, slack)
    assert m.teams_user_id_to_slack_user_id == {"a": "UA", "b": "US", "c": "UC"}
    assert m.decisions["a"].route == "otherMails" and m.decisions["c"].route == "proxyAddresses"
    assert any("US" in w and "B (b)" in w for w in m.decisions["a"].warnings)


def test_a_fallback_never_takes_an_account_from_someone_stronger():
    # a loses US to b (mail beats UPN), then UD to d (mail beats proxyAddresses): nothing left.
    teams = [T("a", upn="s@x.com", proxy=["smtp:d@x.com"], name="A"),
             T("b", mail="s@x.com", name="B"), T("d", mail="d@x.com", name="D")]
    m = decide(teams, [S("US", "s@x.com"), S("UD", "d@x.com")])
    assert m.teams_user_id_to_slack_user_id == {"b": "US", "d": "UD"}
    reason = m.decisions["a"].reason
    assert reason.startswith("conflict: ")
    assert "US goes to B (b) by mail" in reason and "UD goes to D (d) by mail" in reason


def test_a_tie_stays_unmapped_and_each_names_the_other():
    teams = [T("p1", upn="pat@x.com", name="Pat One"), T("p2", upn="PAT@x.com", name="Pat Two"),
             T("p3", other=["pat@x.com"], name="Pat Three")]
    m = decide(teams, [S("UP", "pat@x.com")])
    assert m.teams_user_id_to_slack_user_id == {}
    assert m.decisions["p1"].reason == \
        "conflict: Slack user UP also matches Pat Two (p2) by userPrincipalName (a tie)"
    assert m.decisions["p2"].reason == \
        "conflict: Slack user UP also matches Pat One (p1) by userPrincipalName (a tie)"
    assert m.decisions["p1"].route == m.decisions["p2"].route == "userPrincipalName"
    # The weaker third claimant lost to the tie, not to a single winner.
    assert m.decisions["p3"].reason.startswith("conflict: Slack user UP is tied between ")


def test_a_tie_sends_both_on_to_their_next_route():
    # A team mailbox in both people's otherMails says nothing about their own addresses.
    teams = [T("t1", other=["team@x.com", "t1@x.com"], name="One"),
             T("t2", other=["team@x.com"], name="Two"), T("t3", proxy=["smtp:t1@x.com"], name="Three")]
    m = decide(teams, [S("UTEAM", "team@x.com"), S("U1", "t1@x.com")])
    assert m.teams_user_id_to_slack_user_id == {"t1": "U1"}
    assert m.decisions["t1"].warnings == (
        "otherMails t1@x.com → U1 is used; Slack user UTEAM also matches Two (t2) by otherMails (a tie)",)
    assert m.decisions["t2"].reason == \
        "conflict: Slack user UTEAM also matches One (t1) by otherMails (a tie)"
    assert m.decisions["t3"].reason == ("conflict: Slack user U1 goes to One (t1) by otherMails, "
                                        "a stronger route than proxyAddresses")


def test_a_stronger_route_breaks_a_weaker_tie():
    teams = [T("p1", other=["pat@x.com"]), T("p2", other=["pat@x.com"]), T("p3", mail="pat@x.com")]
    m = decide(teams, [S("UP", "pat@x.com")])
    assert m.teams_user_id_to_slack_user_id == {"p3": "UP"}
    assert "goes to p3 (p3) by mail" in m.decisions["p1"].reason


def test_an_override_decides_a_conflict():
    teams = [T("old", mail="pat@x.com", name="Pat (old)"), T("new", other=["pat@x.com"], name="Pat")]
    m = decide(teams, [S("UP", "pat@x.com")], [UserOverride("new", "UP", "users.csv:2")])
    assert m.teams_user_id_to_slack_user_id == {"new": "UP"}
    assert m.decisions["new"].route == "override"
    assert m.decisions["old"].reason == "conflict: Slack user UP is given to Pat (new) by override"


def test_an_override_wins_over_a_mail_match_and_the_loser_falls_back():
    teams = [T("a", mail="a@x.com", other=["a.alt@x.com"], name="A"), T("b", mail="b@x.com", name="B")]
    slack = [S("UA", "a@x.com"), S("UALT", "a.alt@x.com"), S("UB", "b@x.com")]
    m = decide(teams, slack, [UserOverride("b", "UA", "users.csv:2")])
    assert m.teams_user_id_to_slack_user_id == {"a": "UALT", "b": "UA"}
    assert (m.decisions["a"].route, m.decisions["b"].route) == ("otherMails", "override")
    assert any("UA is given to B (b) by override" in w for w in m.decisions["a"].warnings)


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


STRENGTH = {route: n for n, route in enumerate(ROUTES)}


def _stronger_claim_left_out(m, teams, slack) -> str | None:
    """A person mapped to U by route r while someone else reaches U by a stronger route and
    did not get an account they rank higher: what "the stronger route wins" forbids."""
    active = {u.id for u in slack if not u.deleted and not u.is_bot and u.id != "USLACKBOT"}
    by_email: dict[str, list[str]] = {}
    for u in slack:
        if u.email and u.id in active:
            by_email.setdefault(u.email.lower(), []).append(u.id)
    for p, dp in m.decisions.items():
        if not dp.mapped or dp.route == "override":
            continue
        for q in teams:
            dq = m.decisions[q.id]
            if q.id == p or dq.route == "override" or dq.reason == GUEST_POLICY \
                    or (dq.reason or "").startswith("ambiguous"):  # stops at its first route
                continue
            ranked = [(route, ids[0]) for route, address in user_addresses(q)
                      for ids in [by_email.get(address, [])] if len(ids) == 1]
            own = next((n for n, (_, sid) in enumerate(ranked) if sid == dq.slack_user_id), None)
            for n, (route, sid) in enumerate(ranked):
                if sid == dp.slack_user_id and STRENGTH[route] < STRENGTH[dp.route] \
                        and (own is None or own > n):
                    return f"{q.id} reaches {sid} by {route}, stronger than {p}'s {dp.route}"
    return None


pool = st.sampled_from(["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"])
maybe = st.one_of(st.none(), pool)
rarely = st.sampled_from([False, False, False, True])


@st.composite
def tenants(draw):
    teams = [T(f"t{i}", mail=draw(maybe), upn=draw(maybe), other=draw(st.lists(pool, max_size=2)),
               proxy=[f"smtp:{a}" for a in draw(st.lists(pool, max_size=2))])
             for i in range(draw(st.integers(1, 5)))]
    slack = [S(f"U{i}", draw(maybe), deleted=draw(rarely), is_bot=draw(rarely))
             for i in range(draw(st.integers(1, 6)))]
    return teams, slack


@settings(max_examples=400, deadline=None)
@given(tenants())
def test_the_stronger_route_always_wins(world):
    teams, slack = world
    assert _stronger_claim_left_out(decide(teams, slack), teams, slack) is None


@settings(max_examples=600, deadline=None)
@given(tenants(), st.data())
def test_adding_a_lower_route_address_never_unmaps_anyone_it_ranks_below(world, data):
    """Adding an otherMails or proxyAddresses address (at the end of that list) to any Teams
    user Q never un-maps, nor moves, a person mapped by a stronger route than the added one;
    and if Q was mapped by that route or a stronger one, nobody's mapping changes at all.

    (What it may change, by DESIGN §4.4: a person mapped by the same or a weaker route, when the
    new address makes Q reach that person's account by a route as strong — a tie — or stronger.)"""
    teams, slack = world
    q = data.draw(st.sampled_from(teams))
    route = data.draw(st.sampled_from(["otherMails", "proxyAddresses"]))
    address = data.draw(pool)
    if route == "otherMails":
        grown = dataclasses.replace(q, other_mails=(*q.other_mails, address))
    else:
        grown = dataclasses.replace(q, proxy_addresses=(*q.proxy_addresses, f"smtp:{address}"))
    before = decide(teams, slack)
    after = decide([grown if t.id == q.id else t for t in teams], slack)
    for uid, d in before.decisions.items():
        if d.mapped and STRENGTH[d.route] < STRENGTH[route]:
            assert after.decisions[uid].slack_user_id == d.slack_user_id, uid
    mine = before.decisions[q.id]
    if mine.mapped and STRENGTH[mine.route] <= STRENGTH[route]:
        assert after.teams_user_id_to_slack_user_id == before.teams_user_id_to_slack_user_id


@settings(max_examples=400, deadline=None)
@given(tenants(), st.data())
def test_deciding_the_uncontested_alone_changes_nothing(world, data):
    """decide_users decides people who share no account with anyone as they come, and only
    the rest in one contest (so a tenant's people need not all be in memory): the decisions
    are exactly those of one contest over everyone, with or without overrides."""
    teams, slack = world
    index = SlackUsersInMemory(slack)
    overrides = [UserOverride(data.draw(st.sampled_from([t.id for t in teams])),
                              data.draw(st.sampled_from([u.id for u in slack])), "o.csv")
                 for _ in range(data.draw(st.integers(0, 2)))]
    guests = data.draw(st.sampled_from(["map", "unmapped"]))

    def run(**kw):
        warned: list[str] = []
        out = {d.teams_user_id: d for _, d in decide_users(
            teams, index, overrides, guests=guests, warn=warned.append, **kw)}
        return out, warned

    assert run() == run(contest_everyone=True)


def test_a_new_claim_as_strong_as_a_mapped_one_makes_a_tie():
    """The limit of the property above, as DESIGN §4.4 wants it: equal routes are a tie."""
    teams = [T("r", proxy=["smtp:x@x.com"]), T("q")]
    slack = [S("UX", "x@x.com")]
    assert decide(teams, slack).teams_user_id_to_slack_user_id == {"r": "UX"}
    teams[1] = T("q", proxy=["smtp:x@x.com"])
    m = decide(teams, slack)
    assert m.teams_user_id_to_slack_user_id == {}
    assert "(a tie)" in m.decisions["r"].reason


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
            # expected.json still says "ambiguous" (two Slack users through different routes);
            # by DESIGN §4.4 the first route wins and the other account is a warning.
            first = next(r for r in ROUTES if r in want["candidates"])
            assert (d.slack_user_id, d.route, d.reason) == (want["candidates"][first], first, None), label
            found = {(c.route, c.slack_user_id) for c in d.candidates}
            assert {c.slack_user_id for c in d.candidates} == set(want["candidates"].values())
            # An address that is both mail and UPN/proxy is listed once, under mail.
            assert found <= set(want["candidates"].items())
            for other in set(want["candidates"].values()) - {d.slack_user_id}:
                assert any(other in w for w in d.warnings), label
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
