"""Typed records built from the store (the raw Graph JSON stays in the Graph adapter)."""

from __future__ import annotations

from migrate.export import records
from migrate.model import (
    TeamsAttachment,
    TeamsChannel,
    TeamsIdentity,
    TeamsMember,
    TeamsMention,
    TeamsMessage,
    TeamsReaction,
    TeamsTeam,
    TeamsUser,
)
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
    shared = {"id": "19:c@thread.tacv2", "displayName": "Bridge", "membershipType": "shared",
              "isArchived": True}
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
    assert [c.is_archived for c in channels] == [False, False, True]
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


# -- messages: the chatMessage envelope is parsed here, once ---------------------------------------

CARD = '{"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Deployed"}]}'
CHAT_MESSAGE = {
    "id": "1709032271111", "replyToId": "1709032200000", "messageType": "message",
    "createdDateTime": "2024-03-05T13:32:10.123Z", "lastModifiedDateTime": "2024-03-05T14:00:00Z",
    "lastEditedDateTime": "2024-03-05T14:00:00Z", "deletedDateTime": None,
    "subject": "Q3 roadmap", "importance": "high", "eventDetail": None,
    "from": {"application": None, "device": None,
             "user": {"id": "u-1", "displayName": "Jane Doe", "userIdentityType": "aadUser"}},
    "body": {"contentType": "html", "content": '<p>Hi <at id="0">Kari</at></p><attachment id="a1"></attachment>'},
    "attachments": [
        {"id": "a1", "contentType": "reference", "contentUrl": "https://x.sharepoint.com/a.pdf",
         "content": None, "name": "a.pdf", "thumbnailUrl": None},
        {"id": "a2", "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": CARD, "name": None}],
    "mentions": [{"id": 0, "mentionText": "Kari",
                  "mentioned": {"application": None, "device": None, "conversation": None,
                                "user": {"id": "u-2", "displayName": "Kari Nordmann"}}}],
    "reactions": [{"reactionType": "like", "displayName": "Like", "createdDateTime": "2024-03-05T14:01:00Z",
                   "user": {"application": None, "user": {"id": "u-3", "displayName": None}}}],
}


def test_a_chat_message_is_parsed_field_by_field():
    message = records.teams_message(CHAT_MESSAGE, "19:a@thread.tacv2")
    assert message == TeamsMessage(
        id="1709032271111", channel_id="19:a@thread.tacv2", reply_to_id="1709032200000",
        created_at="2024-03-05T13:32:10.123Z", sender_user_id="u-1", sender_name="Jane Doe",
        sender_kind="user", sender_app_id=None, message_type="message",
        body='<p>Hi <at id="0">Kari</at></p><attachment id="a1"></attachment>', body_type="html",
        subject="Q3 roadmap", importance="high",
        attachments=(TeamsAttachment("a1", "reference", "https://x.sharepoint.com/a.pdf", "a.pdf", None),
                     TeamsAttachment("a2", "application/vnd.microsoft.card.adaptive", None, None, CARD)),
        mentions=(TeamsMention("0", "Kari", (TeamsIdentity("user", "u-2", "Kari Nordmann"),)),),
        reactions=(TeamsReaction("like", "Like", "u-3", "2024-03-05T14:01:00Z"),),
        edited_at="2024-03-05T14:00:00Z", deleted_at=None, event_type=None)
    assert not hasattr(message, "raw") and not hasattr(message, "__dict__")   # slotted, no dict kept
    assert message.as_root().reply_to_id is None


def test_an_app_post_a_system_event_and_a_deleted_message():
    bot = records.teams_message({
        "id": "1", "from": {"user": None, "application": {"id": "app-1", "displayName": "Release Bot"}},
        "body": {"contentType": "text", "content": "Build 4821"}}, "c")
    assert (bot.sender_user_id, bot.sender_name, bot.sender_kind, bot.sender_app_id) == (
        None, "Release Bot", "application", "app-1")
    assert (bot.body, bot.body_type) == ("Build 4821", "text")
    event = records.teams_message({
        "id": "2", "messageType": "systemEventMessage", "from": None,
        "body": {"contentType": "html", "content": "<systemEventMessage/>"},
        "eventDetail": {"@odata.type": "#microsoft.graph.membersAddedEventMessageDetail", "members": []}}, "c")
    assert (event.message_type, event.event_type) == (
        "systemEventMessage", "#microsoft.graph.membersAddedEventMessageDetail")
    assert (event.sender_kind, event.sender_user_id, event.sender_name) == (None, None, None)
    deleted = records.teams_message({"id": "3", "deletedDateTime": "2023-05-09T11:47:03.915Z",
                                     "body": {"contentType": "html", "content": ""}}, "c")
    assert deleted.deleted_at == "2023-05-09T11:47:03.915Z" and deleted.body == ""


def test_nulls_and_missing_fields_give_the_defaults():
    bare = records.teams_message({"id": "1"}, "c")
    assert bare == TeamsMessage(id="1", channel_id="c", reply_to_id=None, created_at=None,
                                sender_user_id=None, sender_name=None)
    nulls = records.teams_message({
        "id": "1", "replyToId": None, "messageType": None, "createdDateTime": None, "from": None,
        "body": None, "subject": None, "importance": None, "attachments": None, "mentions": None,
        "reactions": None, "lastEditedDateTime": None, "deletedDateTime": None, "eventDetail": None}, "c")
    assert nulls == bare
    assert (bare.message_type, bare.body, bare.body_type, bare.attachments) == ("message", "", "html", ())


def test_odd_shapes_are_read_as_the_renderer_always_read_them():
    message = records.teams_message({
        "id": "1", "from": "someone", "body": "not an object", "subject": 42, "importance": "",
        "attachments": {"id": "not a list"}, "mentions": "nor this", "reactions": 7,
        "eventDetail": {"@odata.type": 5}, "lastEditedDateTime": "", "deletedDateTime": False}, "c")
    assert (message.sender_kind, message.sender_user_id, message.body, message.subject) == (
        None, None, "", "42")
    assert (message.attachments, message.mentions, message.reactions) == ((), (), ())
    assert (message.importance, message.event_type, message.edited_at, message.deleted_at) == (
        None, None, None, None)
    # An entry that is not an object is an attachment or reaction of unknown kind (shown as
    # such); a mention without an id fills no <at> and is left out.
    assert records.teams_attachments([None, "x"]) == (TeamsAttachment(), TeamsAttachment())
    assert records.teams_reactions([None]) == (TeamsReaction(),)
    assert records.teams_mentions([None, {"mentionText": "no id"}, {"id": None}]) == ()
    # Ids that are not text are read as text; a contentUrl that is not text is no link, but
    # still the attachment's reference when it has no id; a payload neither text nor object
    # is dropped.
    assert records.teams_attachments([{"id": 7, "contentUrl": 3, "name": 5, "content": [1]},
                                      {"contentUrl": 3}, {"content": {"type": "AdaptiveCard"}}]) == (
        TeamsAttachment(id="7"), TeamsAttachment(id="3"), TeamsAttachment(content={"type": "AdaptiveCard"}))
    assert records.teams_mentions([{"id": 0, "mentionText": "", "mentioned": {
        "user": {"id": None, "displayName": None}, "tag": {"id": "t-1", "displayName": "Ops"},
        "application": "odd"}}]) == (TeamsMention("0", None, (TeamsIdentity("tag", "t-1", "Ops"),)),)
    assert records.teams_reactions([{"reactionType": None, "displayName": "", "user": {"user": "odd"},
                                     "createdDateTime": 5}]) == (TeamsReaction(),)
    # A user without an id is not an app post, even beside an application.
    odd_sender = records.teams_message({"id": "2", "from": {"user": {"displayName": "X"},
                                                            "application": {"displayName": "Bot"}}}, "c")
    assert (odd_sender.sender_kind, odd_sender.sender_user_id, odd_sender.sender_name) == ("user", None, "Bot")


def test_pascal_case_keys_of_powershell_exports_are_read_too():
    message = records.teams_message({
        "id": "1", "Body": {"ContentType": "Text", "Content": "hi"}, "Subject": "S",
        "Mentions": [{"Id": 1, "MentionText": "Ann", "Mentioned": {"User": {"Id": "u-1", "DisplayName": "Ann"}}}],
        "Attachments": [{"Id": "a", "ContentType": "reference", "ContentUrl": "https://x/a", "Name": "a"}],
        "Reactions": [{"ReactionType": "😍", "User": {"User": {"Id": "x"}}}]}, "c")
    assert (message.body, message.body_type, message.subject) == ("hi", "text", "S")
    assert message.mentions == (TeamsMention("1", "Ann", (TeamsIdentity("user", "u-1", "Ann"),)),)
    assert message.attachments == (TeamsAttachment("a", "reference", "https://x/a", "a"),)
    assert message.reactions == (TeamsReaction("😍", None, "x"),)
