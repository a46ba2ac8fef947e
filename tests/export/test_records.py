"""Typed records built from the store (the raw Graph JSON stays in the Graph adapter)."""

from __future__ import annotations

from migrate.export import records
from migrate.model import TeamsChannel, TeamsMember, TeamsTeam, TeamsUser
from migrate.sandbox.tenant import default_demo_folder, load_graph_tenant
from migrate.store import Store
from migrate.store import teams_objects as teams

GUEST = {
    "id": "b7a8b5d6-1a6b-4c1f-bbaa-45575fad1e38", "displayName": "Kari Nordmann",
    "mail": "kari.nordmann@fabrikam.com",
    "userPrincipalName": "kari.nordmann_fabrikam.com#EXT#@northwindlabs.onmicrosoft.com",
    "otherMails": ["kari.nordmann@fabrikam.com"], "proxyAddresses": ["SMTP:kari.nordmann@fabrikam.com"],
    "accountEnabled": True, "userType": "Guest", "creationType": "Invitation",
}
NO_MAIL = {"id": "8c1a7ff8-6d0a-4f02-b469-91b8a4747dd1", "displayName": "Pat Rivera", "mail": None,
           "userPrincipalName": "pat.rivera@northwindlabs.com", "otherMails": [],
           "proxyAddresses": [], "accountEnabled": False, "userType": "Member"}
BARE = {"id": "00000000-0000-0000-0000-000000000001", "userPrincipalName": "svc@contoso.com"}


def test_users(tmp_path):
    with Store.open(tmp_path) as store:
        teams.upsert_users(store, [NO_MAIL, GUEST, BARE])
        users = list(records.TeamsUsers(store))
    assert [u.id for u in users] == sorted(u["id"] for u in (NO_MAIL, GUEST, BARE))
    by_id = {u.id: u for u in users}
    assert by_id[GUEST["id"]] == TeamsUser(
        id=GUEST["id"], display_name="Kari Nordmann", mail="kari.nordmann@fabrikam.com",
        user_principal_name=GUEST["userPrincipalName"], other_mails=("kari.nordmann@fabrikam.com",),
        proxy_addresses=("SMTP:kari.nordmann@fabrikam.com",), user_type="Guest", account_enabled=True)
    assert by_id[GUEST["id"]].is_guest
    pat = by_id[NO_MAIL["id"]]
    assert pat.mail is None and not pat.account_enabled and pat.other_mails == ()
    # Only the default property set was read: defaults fill the rest.
    bare = by_id[BARE["id"]]
    assert bare.display_name == "svc@contoso.com" and bare.user_type == "Member"
    assert bare.account_enabled and bare.proxy_addresses == ()


def test_teams_channels_and_members(tmp_path):
    team = {"id": "t-1", "displayName": "R&D", "description": "Research", "visibility": "private",
            "isArchived": True, "createdDateTime": "2019-05-06T08:31:50Z"}
    private = {"id": "19:b@thread.tacv2", "displayName": "Submissions", "membershipType": "private",
               "description": None, "createdDateTime": "2021-04-12T08:40:27.93Z"}
    general = {"id": "19:a@thread.tacv2", "displayName": "General", "membershipType": "standard",
               "description": "Everything", "createdDateTime": "2019-05-06T08:31:51.402Z"}
    shared = {"id": "19:c@thread.tacv2", "displayName": "Bridge", "membershipType": "shared"}
    owner = {"id": "m-1", "userId": "u-2", "displayName": "Ann", "roles": ["owner"]}
    member = {"id": "m-2", "userId": "u-1", "displayName": "Bob", "roles": []}
    anonymous = {"id": "m-3", "displayName": "Visitor", "roles": ["guest"]}  # no Entra user id
    with Store.open(tmp_path) as store:
        teams.upsert_team(store, team)
        for channel in (private, general, shared):
            teams.upsert_channel(store, "t-1", channel)
        teams.replace_team_members(store, "t-1", [owner, member, anonymous])
        teams.replace_channel_members(store, private["id"], [owner])
        assert records.load_teams(store) == [TeamsTeam(
            "t-1", "R&D", description="Research", visibility="private", is_archived=True,
            created_at="2019-05-06T08:31:50Z")]
        channels = records.load_channels(store)
        team_members = records.load_team_members(store)
        channel_members = records.load_channel_members(store)
    assert [c.id for c in channels] == ["19:a@thread.tacv2", "19:b@thread.tacv2", "19:c@thread.tacv2"]
    assert channels[0] == TeamsChannel("19:a@thread.tacv2", "t-1", "General", description="Everything",
                                       membership_type="standard",
                                       created_at="2019-05-06T08:31:51.402Z")
    assert [c.is_private for c in channels] == [False, True, True]
    assert channels[2].membership_type == "shared" and channels[2].created_at is None
    assert team_members == {"t-1": [TeamsMember("u-1", "Bob", ()), TeamsMember("u-2", "Ann", ("owner",))]}
    assert channel_members == {private["id"]: [TeamsMember("u-2", "Ann", ("owner",))]}


def test_the_whole_demo_tenant(tmp_path):
    tenant = load_graph_tenant(default_demo_folder())
    with Store.open(tmp_path) as store:
        teams.upsert_users(store, tenant.users)
        for data in tenant.teams:
            teams.upsert_team(store, data.team)
            teams.replace_team_members(store, data.team["id"], data.members)
            for c in data.channels:
                teams.upsert_channel(store, data.team["id"], c.channel)
                if c.members:
                    teams.replace_channel_members(store, c.channel["id"], c.members)
        users = list(records.TeamsUsers(store))
        team_list = records.load_teams(store)
        channels = records.load_channels(store)
        team_members = records.load_team_members(store)
        channel_members = records.load_channel_members(store)
    assert len(users) == 42 and sum(u.is_guest for u in users) == 4
    assert sum(not u.account_enabled for u in users) == 1
    assert len(team_list) == 6 and sum(t.is_archived for t in team_list) == 1
    assert len(channels) == 21
    assert sorted(c.membership_type for c in channels).count("standard") == 18
    assert sum(len(m) for m in team_members.values()) == 67
    # Private and shared channels carry their own members; the shared one includes a guest
    # from outside the team.
    assert set(channel_members) == {c.id for c in channels if c.is_private}
    omar = next(u for u in users if u.display_name == "Omar Haddad")
    assert "smtp:ohaddad@northwindlabs.com" in omar.proxy_addresses
