"""`/users/delta` and `/groups/delta` of the Graph emulator over real HTTP with `requests`:
the first round over pages ending in a deltaLink, only later changes after it, `$select`
baked into the tokens, members@delta (added and removed), `$deltatoken=latest`, refused tokens
(400 syncStateNotFound, 410 Gone), refused options, permissions, and the control operations
that move the change log (microsoft-graph-docs-contrib api/user-delta.md, api/group-delta.md,
concepts/delta-query-overview.md, concepts/delta-query-groups.md)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, GraphTenant, TeamsChannelData, TeamsTeamData

AUTH = {"Authorization": f"Bearer {SANDBOX_GRAPH_TOKEN}"}
TENANT = "7f1a5c00-0000-4000-8000-00000000de17"
TEAM_A = "a1a1a1a1-0000-4000-8000-0000000000d1"
TEAM_B = "b2b2b2b2-0000-4000-8000-0000000000d2"
EMPTY = "c3c3c3c3-0000-4000-8000-0000000000d3"
USERS = 450
USER_TYPE = "#microsoft.graph.user"


def uid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def user(i: int) -> dict:
    return {"id": uid(i), "displayName": f"User {i}", "mail": f"user{i}@contoso.com",
            "userPrincipalName": f"user{i}@contoso.onmicrosoft.com", "jobTitle": "Engineer",
            "accountEnabled": True, "userType": "Member", "otherMails": []}


def member(i: int, *roles: str) -> dict:
    return {"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": list(roles),
            "displayName": f"User {i}", "userId": uid(i), "email": f"user{i}@contoso.com"}


def channel(cid: str, name: str, kind: str = "standard") -> dict:
    return {"id": cid, "displayName": name, "membershipType": kind,
            "createdDateTime": "2024-01-01T00:00:00Z"}


def build_tenant() -> GraphTenant:
    team_a = TeamsTeamData({"id": TEAM_A, "displayName": "Engineering", "description": "Builders",
                            "visibility": "private"},
                           [member(0, "owner"), member(1), member(2)],
                           [TeamsChannelData(channel("19:general-a@thread.tacv2", "General")),
                            TeamsChannelData(channel("19:private-a@thread.tacv2", "Secret", "private"),
                                             [member(0, "owner"), member(1)])])
    team_b = TeamsTeamData({"id": TEAM_B, "displayName": "Sales", "visibility": "public"},
                           [member(3, "owner"), member(4)],
                           [TeamsChannelData(channel("19:general-b@thread.tacv2", "General"))])
    empty = TeamsTeamData({"id": EMPTY, "displayName": "Nobody yet", "visibility": "private"}, [],
                          [TeamsChannelData(channel("19:general-c@thread.tacv2", "General"))])
    return GraphTenant(TENANT, "Contoso", users=[user(i) for i in range(USERS)],
                       teams=[team_a, team_b, empty])


@pytest.fixture
def emu():
    with GraphEmulator(build_tenant(), throttle=False) as emulator:
        yield emulator


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers={**AUTH, **headers}, timeout=10)


def round_of(url: str, **headers: str) -> tuple[list[dict], str, int]:
    """Follow nextLinks to the deltaLink: (items, deltaLink, pages)."""
    items, pages = [], 0
    while True:
        response = get(url, **headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["value"]
        pages += 1
        if "@odata.nextLink" in body:
            assert "@odata.deltaLink" not in body
            url = body["@odata.nextLink"]
            continue
        return items, body["@odata.deltaLink"], pages


def assert_error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return error


# ---- users --------------------------------------------------------------------------------------

def test_first_round_pages_every_user_then_ends_in_a_delta_link(emu):
    first = get(f"{emu.url}/users/delta?$select=displayName,mail").json()
    assert first["@odata.context"].endswith("$metadata#users") and len(first["value"]) == 200
    next_link = first["@odata.nextLink"]
    # the query options are encoded in the token: the link carries nothing else
    assert set(parse_qs(urlsplit(next_link).query)) == {"$skiptoken"}
    items, delta_link, pages = round_of(f"{emu.url}/users/delta?$select=displayName,mail")
    assert pages == 3 and len(items) == USERS == len({u["id"] for u in items})
    assert all(set(u) == {"id", "displayName", "mail"} for u in items)   # id is always returned
    assert set(parse_qs(urlsplit(delta_link).query)) == {"$deltatoken"}
    # nothing changed: an empty page and a new deltaLink
    again = get(delta_link).json()
    assert again["value"] == [] and "@odata.deltaLink" in again and "@odata.nextLink" not in again


def test_a_delta_link_returns_only_what_changed_since(emu):
    _items, link, _pages = round_of(f"{emu.url}/users/delta?$select=displayName,jobTitle,mail")
    ctl = f"{emu.origin}/_control/users"
    created = requests.post(ctl, json={"user": {"displayName": "New Hire", "mail": "new@contoso.com",
                                                "jobTitle": "Analyst"}}, timeout=10)
    assert created.status_code == 201
    new_id = created.json()["id"]
    assert requests.patch(f"{ctl}/{uid(7)}", json={"jobTitle": "Manager"}, timeout=10).ok
    assert requests.delete(f"{ctl}/{uid(9)}", timeout=10).ok
    items, link2, pages = round_of(link)
    assert pages == 1
    by_id = {u["id"]: u for u in items}
    assert set(by_id) == {new_id, uid(7), uid(9)}
    assert by_id[new_id] == {"id": new_id, "displayName": "New Hire", "jobTitle": "Analyst",
                             "mail": "new@contoso.com"}
    # default response: every tracked property, changed or not
    assert by_id[uid(7)] == {"id": uid(7), "displayName": "User 7", "jobTitle": "Manager",
                             "mail": "user7@contoso.com"}
    # deleted users are restorable for 30 days: reason "changed" (delta-query-overview.md)
    assert by_id[uid(9)] == {"id": uid(9), "@removed": {"reason": "changed"}}
    assert get(link2).json()["value"] == []
    # Prefer: return=minimal → only what changed (user-delta.md)
    requests.patch(f"{ctl}/{uid(8)}", json={"jobTitle": "Director"}, timeout=10).raise_for_status()
    (minimal,), _link, _ = round_of(link2, Prefer="return=minimal")
    assert minimal == {"id": uid(8), "jobTitle": "Director"}
    # an untracked property does not bring the user back
    requests.patch(f"{ctl}/{uid(8)}", json={"officeLocation": "Paris"}, timeout=10).raise_for_status()
    assert round_of(_link)[0] == []


def test_select_of_a_later_round_is_the_first_one(emu):
    _items, link, _ = round_of(f"{emu.url}/users/delta?$select=id,mail")
    emu.store.update_user(uid(3), {"mail": "three@contoso.com"})
    (changed,), _link, _ = round_of(link)
    assert changed == {"id": uid(3), "mail": "three@contoso.com"}
    # no $select at all: the default property set of GET /users
    default = get(f"{emu.url}/users/delta").json()["value"][0]
    assert {"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
            "officeLocation", "preferredLanguage", "surname", "userPrincipalName"} == set(default)


def test_id_filter_tracks_only_those_users(emu):
    flt = f"id eq '{uid(1)}' or id eq '{uid(2)}'"
    items, link, _ = round_of(f"{emu.url}/users/delta?$select=displayName&$filter={flt}")
    assert {u["id"] for u in items} == {uid(1), uid(2)}
    emu.store.update_user(uid(2), {"displayName": "Two"})
    emu.store.update_user(uid(5), {"displayName": "Five"})
    assert round_of(link)[0] == [{"id": uid(2), "displayName": "Two"}]
    assert_error(get(f"{emu.url}/users/delta?$filter=displayName eq 'x'"), 400, "BadRequest")
    many = " or ".join(f"id eq '{uid(i)}'" for i in range(51))
    assert_error(get(f"{emu.url}/users/delta?$filter={many}"), 400, "BadRequest")


@pytest.mark.parametrize("option", ["$top=10", "$orderby=displayName", "$expand=manager",
                                    "$count=true", "$search=\"displayName:a\""])
def test_options_delta_does_not_support_are_refused(emu, option):
    error = assert_error(get(f"{emu.url}/users/delta?{option}"), 400, "BadRequest")
    assert "is not allowed" in error["message"]


def test_select_beside_a_skiptoken_is_refused(emu):
    next_link = get(f"{emu.url}/users/delta?$select=mail").json()["@odata.nextLink"]
    assert_error(get(next_link + "&$select=displayName"), 400, "BadRequest")
    assert_error(get(f"{emu.url}/users/delta?$select=nope"), 400, "BadRequest")


# ---- tokens ---------------------------------------------------------------------------------------

def test_latest_gives_a_delta_link_without_data(emu):
    emu.store.update_user(uid(1), {"jobTitle": "before"})       # before: never reported
    body = get(f"{emu.url}/users/delta?$select=jobTitle&$deltatoken=latest").json()
    assert body["value"] == [] and "@odata.nextLink" not in body
    emu.store.update_user(uid(2), {"jobTitle": "after"})
    assert round_of(body["@odata.deltaLink"])[0] == [{"id": uid(2), "jobTitle": "after"}]
    groups = get(f"{emu.url}/groups/delta?$select=displayName,members&$deltatoken=latest").json()
    assert groups["value"] == []
    emu.add_member(TEAM_B, {"userId": uid(20), "displayName": "User 20"})
    (changed,), _link, _ = round_of(groups["@odata.deltaLink"])
    assert changed["id"] == TEAM_B and changed["members@delta"] == [{"@odata.type": USER_TYPE,
                                                                      "id": uid(20)}]


def test_refused_tokens_answer_the_documented_errors(emu):
    _items, link, _ = round_of(f"{emu.url}/users/delta?$select=mail")
    error = assert_error(get(f"{emu.url}/users/delta?$deltatoken=not-a-token"), 400,
                         "syncStateNotFound")
    assert "expired" in error["message"]
    assert_error(get(f"{emu.url}/users/delta?$skiptoken=forged"), 400, "syncStateNotFound")
    # a users token is no groups token
    token = parse_qs(urlsplit(link).query)["$deltatoken"][0]
    assert_error(get(f"{emu.url}/groups/delta?$deltatoken={token}"), 400, "syncStateNotFound")
    # directory delta tokens live 7 days (overview "Token duration"); here: zero seconds
    ctl = requests.post(f"{emu.origin}/_control/delta", json={"tokenSeconds": 0}, timeout=10)
    assert ctl.ok and ctl.json()["tokenSeconds"] == 0
    assert_error(get(link), 400, "syncStateNotFound")
    requests.post(f"{emu.origin}/_control/delta", json={"tokenSeconds": 7 * 86400}, timeout=10)
    assert get(link).status_code == 200
    # a synchronization reset: 410 Gone, and Location starts a full round with the same options
    assert requests.post(f"{emu.origin}/_control/delta", json={"resync": True}, timeout=10).ok
    gone = get(link)
    assert_error(gone, 410, "resyncRequired")
    restart = gone.headers["Location"]
    assert "$select=mail" in restart
    items, fresh, _ = round_of(restart)
    assert len(items) == USERS and all(set(u) == {"id", "mail"} for u in items)
    assert get(fresh).json()["value"] == []


# ---- groups ------------------------------------------------------------------------------------------

def test_groups_first_round_lists_every_team_group_with_its_members(emu):
    items, _link, _ = round_of(f"{emu.url}/groups/delta?$select=displayName,description,members")
    by_id = {g["id"]: g for g in items}
    assert set(by_id) == {TEAM_A, TEAM_B, EMPTY}
    assert by_id[TEAM_A]["displayName"] == "Engineering" and by_id[TEAM_A]["description"] == "Builders"
    assert by_id[TEAM_A]["members@delta"] == [{"@odata.type": USER_TYPE, "id": uid(i)} for i in range(3)]
    assert "members@delta" not in by_id[EMPTY]      # no members: no annotation (delta-query-groups.md)
    owners = round_of(f"{emu.url}/groups/delta?$select=owners")[0]
    assert {g["id"]: [o["id"] for o in g.get("owners@delta", [])] for g in owners} == {
        TEAM_A: [uid(0)], TEAM_B: [uid(3)], EMPTY: []}
    plain = get(f"{emu.url}/groups/delta").json()["value"]      # no $select: members by default
    assert any("members@delta" in g for g in plain) and all("mailNickname" in g for g in plain)


def test_membership_and_renames_show_in_groups_delta_but_channels_do_not(emu):
    _items, link, _ = round_of(f"{emu.url}/groups/delta?$select=displayName,members")
    ctl = f"{emu.origin}/_control"
    # Teams-only changes: channels and private-channel membership are not directory objects
    new_channel = emu.add_channel(TEAM_A, {"displayName": "Launch", "membershipType": "private"},
                                  [member(0, "owner")])
    emu.add_member(TEAM_A, {"userId": uid(30), "displayName": "User 30"}, new_channel["id"])
    emu.update_channel(TEAM_A, "19:private-a@thread.tacv2", {"displayName": "Top secret"})
    emu.add_message(TEAM_A, "19:general-a@thread.tacv2", {"body": {"content": "hello"}})
    assert round_of(link)[0] == []
    # team membership is group membership
    assert requests.post(f"{ctl}/members", json={"teamId": TEAM_A, "member": {
        "userId": uid(40), "displayName": "User 40"}}, timeout=10).status_code == 201
    assert requests.delete(f"{ctl}/members/{TEAM_A}/{uid(2)}", timeout=10).ok
    (changed,), link2, _ = round_of(link)
    assert changed == {"id": TEAM_A, "displayName": "Engineering", "members@delta": [
        {"@odata.type": USER_TYPE, "id": uid(40)},
        {"@odata.type": USER_TYPE, "id": uid(2), "@removed": {"reason": "deleted"}}]}
    members = get(f"{emu.url}/teams/{TEAM_A}/members").json()["value"]
    assert uid(40) in {m["userId"] for m in members} and uid(2) not in {m["userId"] for m in members}
    # a renamed team: its group appears, with no membership change
    renamed = requests.patch(f"{ctl}/teams/{TEAM_B}", json={"displayName": "Sales EMEA"}, timeout=10)
    assert renamed.ok and renamed.json()["displayName"] == "Sales EMEA"
    (changed,), link3, _ = round_of(link2)
    assert changed == {"id": TEAM_B, "displayName": "Sales EMEA"}
    assert get(f"{emu.url}/teams").json()["value"][1]["displayName"] == "Sales EMEA"
    # archiving is a team setting, not a group property
    emu.store.update_team(TEAM_B, {"isArchived": True})
    assert round_of(link3)[0] == []
    # channel membership removal is no group change either
    emu.store.remove_member(TEAM_A, uid(1), "19:private-a@thread.tacv2")
    assert round_of(link3)[0] == []


def test_a_new_team_appears_in_groups_delta_and_in_the_listings(emu):
    _items, link, _ = round_of(f"{emu.url}/groups/delta?$select=displayName,members")
    created = requests.post(f"{emu.origin}/_control/teams", json={
        "team": {"displayName": "Launch Crew"}, "members": [member(5, "owner"), member(6)]},
        timeout=10)
    assert created.status_code == 201
    team = created.json()
    (changed,), _link, _ = round_of(link)
    assert changed == {"id": team["id"], "displayName": "Launch Crew", "members@delta": [
        {"@odata.type": USER_TYPE, "id": uid(5)}, {"@odata.type": USER_TYPE, "id": uid(6)}]}
    assert team["id"] in {t["id"] for t in get(f"{emu.url}/teams").json()["value"]}
    channels = get(f"{emu.url}/teams/{team['id']}/channels").json()["value"]
    assert [c["displayName"] for c in channels] == ["General"]
    assert requests.post(f"{emu.origin}/_control/teams", json={"team": {}}, timeout=10).status_code == 400


# ---- routing: batch, permissions, counters, control errors ------------------------------------------

def test_delta_links_work_inside_a_batch_and_are_counted(emu):
    link = get(f"{emu.url}/users/delta?$select=mail&$deltatoken=latest").json()["@odata.deltaLink"]
    emu.store.update_user(uid(4), {"mail": "four@contoso.com"})
    relative = link.split("/v1.0", 1)[1]
    answer = requests.post(f"{emu.url}/$batch", headers=AUTH, timeout=10, json={"requests": [
        {"id": "1", "method": "GET", "url": relative},
        {"id": "2", "method": "GET", "url": "/groups/delta?$select=id&$deltatoken=latest"}]}).json()
    users, groups = sorted(answer["responses"], key=lambda r: r["id"])
    assert users["status"] == 200 and users["body"]["value"] == [{"id": uid(4), "mail": "four@contoso.com"}]
    assert groups["status"] == 200 and "@odata.deltaLink" in groups["body"]
    routes = emu.counters()["byRoute"]
    assert routes["usersDelta"] == 2 and routes["groupsDelta"] == 1


def test_delta_needs_the_permissions_of_its_collection():
    with GraphEmulator(build_tenant(), throttle=False, permissions={"Team.ReadBasic.All"}) as emu:
        assert_error(get(f"{emu.url}/users/delta"), 403, "Authorization_RequestDenied")
        assert_error(get(f"{emu.url}/groups/delta"), 403, "Authorization_RequestDenied")
    with GraphEmulator(build_tenant(), throttle=False,
                       permissions={"User.Read.All", "GroupMember.Read.All"}) as emu:
        assert get(f"{emu.url}/users/delta").ok and get(f"{emu.url}/groups/delta").ok


def test_delta_is_throttled_as_the_directory_routes():
    with GraphEmulator(build_tenant(), rate_scale=0.05) as emu:   # users: 30 rps → 1.5 rps
        statuses = [get(f"{emu.url}/users/delta?$deltatoken=latest").status_code for _ in range(4)]
        assert 429 in statuses
        assert emu.counters()["throttled"] >= 1


def test_directory_control_operations_refuse_unknown_ids(emu):
    ctl = f"{emu.origin}/_control"
    assert requests.patch(f"{ctl}/users/nobody", json={"mail": "x"}, timeout=10).status_code == 404
    assert requests.delete(f"{ctl}/users/nobody", timeout=10).status_code == 404
    assert requests.patch(f"{ctl}/users/{uid(1)}", json={"id": "x"}, timeout=10).status_code == 400
    assert requests.post(f"{ctl}/users", json={"user": user(1)}, timeout=10).status_code == 400
    assert requests.patch(f"{ctl}/teams/nope", json={"displayName": "x"}, timeout=10).status_code == 404
    assert requests.delete(f"{ctl}/members/{TEAM_A}/{uid(99)}", timeout=10).status_code == 404
