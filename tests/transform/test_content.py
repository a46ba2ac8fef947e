"""Content conversion (DESIGN §4.4): table-driven HTML → mrkdwn cases, render_message, the
reactions summary, splitting, and the mapping files with their admin overrides."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path

import pytest

from migrate.errors import ConfigError
from migrate.export.records import teams_attachments, teams_mentions, teams_reactions
from migrate.transform.content import (
    FileRef,
    RenderContext,
    Rendered,
    html_to_mrkdwn,
    load_mappings,
    reactions_summary,
    split_text,
)

from . import render, slack_text_problems

CASES = json.loads((Path(__file__).resolve().parents[1] / "data" / "content_cases.json").read_text("utf-8"))
JANE, JOSE = "0b0a0000-0000-4000-8000-00000000000a", "34d590e3-e46c-4398-bf4a-1596a2a50d6f"
CTX = RenderContext(users={JANE: "Jane Doe", JOSE: "José Núñez"})


def test_there_are_enough_cases_and_names_are_unique():
    assert len(CASES) >= 80
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    text, refs, warnings = html_to_mrkdwn(
        case["html"], content_type=case.get("content_type", "html"), mentions=teams_mentions(case.get("mentions", [])),
        attachments=teams_attachments(case.get("attachments", [])), ctx=CTX)
    assert text == case["expected"]
    assert slack_text_problems(text) == []
    if "files" in case:
        assert [[f.source, f.source_id, f.name] for f in refs] == case["files"]
    if "warnings" in case:
        assert [list(w) for w in warnings] == case["warnings"]


# -- render_message ----------------------------------------------------------------------------

def message(html: str = "<p>Hello</p>", **fields) -> dict:
    base = {
        "id": "1709032271111", "replyToId": None, "messageType": "message",
        "createdDateTime": "2024-03-05T13:32:10.123Z", "lastModifiedDateTime": "2024-03-05T13:32:10.123Z",
        "lastEditedDateTime": None, "deletedDateTime": None, "subject": None, "importance": "normal",
        "from": {"application": None, "device": None,
                 "user": {"id": JANE, "displayName": "Jane Doe", "userIdentityType": "aadUser"}},
        "body": {"contentType": "html", "content": html},
        "attachments": [], "mentions": [], "reactions": [], "eventDetail": None,
    }
    base.update(fields)
    return base


def reaction(kind: str, user: str, display_name: str | None = None) -> dict:
    return {"reactionType": kind, "displayName": display_name, "reactionContentUrl": None,
            "createdDateTime": "2024-03-05T14:00:00Z",
            "user": {"application": None, "device": None, "user": {"id": user, "displayName": None}}}


def test_plain_message_has_body_and_provenance():
    rendered = render(message(), CTX)
    assert rendered == Rendered(("Hello\n_Posted in Teams on 2024-03-05 13:32 UTC_",), (), ())


def test_subject_is_a_bold_first_line():
    rendered = render(message(subject="Q3 roadmap & <plans>"), CTX)
    assert rendered.parts[0].split("\n")[0] == "*Q3 roadmap &amp; &lt;plans&gt;*"


@pytest.mark.parametrize(("importance", "mark"), [
    ("high", ":exclamation: *Important*"), ("urgent", ":rotating_light: *Urgent*"), ("normal", None)])
def test_importance_is_marked_before_the_subject(importance, mark):
    lines = render(message(subject="SEV1", importance=importance), CTX).parts[0].split("\n")
    assert lines[:2] == ([mark, "*SEV1*"] if mark else ["*SEV1*", "Hello"])


def test_edited_mark():
    rendered = render(message(lastEditedDateTime="2024-03-05T14:00:00Z"), CTX)
    assert rendered.parts[0].startswith("Hello _(edited)_\n")


def test_edited_mark_after_a_code_block_goes_on_its_own_line():
    rendered = render(message("<pre>x = 1</pre>", lastEditedDateTime="2024-03-05T14:00:00Z"), CTX)
    assert rendered.parts[0].startswith("```\nx = 1\n```\n_(edited)_\n")


@pytest.mark.parametrize(("zone", "created", "expected"), [
    ("Europe/Berlin", "2024-03-05T13:32:10.123Z", "_Posted in Teams on 2024-03-05 14:32 CET_"),
    ("Europe/Berlin", "2024-07-05T13:32:10Z", "_Posted in Teams on 2024-07-05 15:32 CEST_"),
    ("America/New_York", "2024-01-01T03:00:00+00:00", "_Posted in Teams on 2023-12-31 22:00 EST_"),
    ("Asia/Tokyo", "2021-12-03T04:20:18.3391234Z", "_Posted in Teams on 2021-12-03 13:20 JST_"),
])
def test_provenance_in_the_configured_timezone(zone, created, expected):
    ctx = RenderContext(users={}, timezone=zone)
    assert render(message(createdDateTime=created), ctx).parts[0].split("\n")[-1] == expected


def test_unknown_timezone_falls_back_to_utc_with_a_warning():
    rendered = render(message(), RenderContext(users={}, timezone="Mars/Olympus"))
    assert rendered.parts[0].endswith("_Posted in Teams on 2024-03-05 13:32 UTC_")
    assert ("bad_timezone", "Mars/Olympus") in rendered.warnings


def test_provenance_names_an_app_author():
    bot = {"application": {"id": "f3f4", "displayName": "Release Bot", "applicationIdentityType": "bot"},
           "device": None, "user": None}
    rendered = render(message("<p><strong>Build 4821 succeeded</strong></p>", **{"from": bot}), CTX)
    assert rendered.parts[0] == ("*Build 4821 succeeded*\n"
                                 "_Posted in Teams by Release Bot (app) on 2024-03-05 13:32 UTC_")


def test_reactions_summary_line_before_provenance():
    reactions = [reaction("like", "u1"), reaction("👍", "u2", "Thumbs up"), reaction("heart", "u3"),
                 reaction("🎉", "u1", "Party popper"), reaction("💯", "u4", "Hundred points"), reaction("like", "u5")]
    rendered = render(message(reactions=reactions), CTX)
    assert rendered.parts[0] == "Hello\n:+1: 3  :100: 1  :heart: 1  :tada: 1\n_Posted in Teams on 2024-03-05 13:32 UTC_"


def test_reactions_summary_order_count_then_name():
    reactions = [reaction("sad", "a"), reaction("angry", "b"), reaction("sad", "c"), reaction("surprised", "d"),
                 reaction("laugh", "e"), reaction("laugh", "f"), reaction("laugh", "g")]
    assert reactions_summary(teams_reactions(reactions), CTX) == ":laughing: 3  :cry: 2  :angry: 1  :open_mouth: 1"


def test_reactions_summary_kinds():
    reactions = [
        reaction("custom", "a", "fabrikam-logo"),            # custom: its name
        reaction("❤️", "b", "Red heart"),                      # with variation selector
        reaction("👍🏽", "c", "Thumbs up"),                     # skin tone
        reaction("🦩", "d", "Flamingo"),                       # not in the mapping: the emoji itself
        reaction("like", "e"), reaction("like", "e"),         # the same user twice counts once
        reaction("<!here>", "f"),                             # nonsense stays harmless
    ]
    summary = reactions_summary(teams_reactions(reactions), CTX)
    assert summary == ":+1: 1  :+1::skin-tone-4: 1  :fabrikam-logo: 1  :heart: 1  :here: 1  🦩 1"
    assert slack_text_problems(summary) == []
    assert reactions_summary(teams_reactions([]), CTX) == ""


def test_reactions_from_pascal_case_exports():
    reactions = [{"ReactionType": "😍", "User": {"User": {"Id": "x"}}}, {"ReactionType": "😍", "User": {"User": {"Id": "y"}}},
                 {"ReactionType": "👀", "User": {"User": {"Id": "y"}}}]
    assert reactions_summary(teams_reactions(reactions), CTX) == ":heart_eyes: 2  :eyes: 1"


@pytest.mark.parametrize("fields", [
    {"deletedDateTime": "2023-05-09T11:47:03.915Z", "body": {"contentType": "html", "content": ""}},
    {"body": {"contentType": "html", "content": ""}},                                  # no deletedDateTime
    {"body": {"contentType": "html", "content": "  "}, "from": None},                  # and no author
])
def test_deleted_message_without_replies_is_skipped(fields):
    rendered = render(message(**fields), CTX)
    assert rendered.skip_reason == "deleted in Teams"
    assert rendered.parts == () and rendered.files == ()


def test_deleted_message_with_replies_becomes_a_placeholder():
    rendered = render(message("", deletedDateTime="2023-05-09T11:47:03Z", subject="",
                                      reactions=[reaction("like", "a")]), CTX, has_replies=True)
    assert rendered.skip_reason is None
    assert rendered.parts == ("_This message was deleted in Teams._\n_Posted in Teams on 2024-03-05 13:32 UTC_",)


def test_empty_body_with_an_attachment_is_not_deleted():
    att = {"id": "a1", "contentType": "reference", "contentUrl": "https://x.sharepoint.com/a.pdf", "name": "a.pdf"}
    rendered = render(message("", attachments=[att]), CTX)
    assert rendered.skip_reason is None
    assert rendered.parts[0].startswith("📎 a.pdf\n")
    assert rendered.files == (FileRef("reference", "a1", "a.pdf"),)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"messageType": "systemEventMessage", "eventDetail": {"@odata.type": "#microsoft.graph.membersAddedEventMessageDetail"}},
     "system event: members added"),
    ({"messageType": "systemEventMessage", "eventDetail": {"@odata.type": "#microsoft.graph.messagePinnedEventMessageDetail"},
      "replyToId": "1707215412019"}, "system event: message pinned"),
    ({"messageType": "unknownFutureValue", "eventDetail": {"@odata.type": "#microsoft.graph.teamRenamedEventMessageDetail"}},
     "system event: team renamed"),
    ({"messageType": "unknownFutureValue"}, "system event"),
    ({"messageType": "systemEventMessage", "eventDetail": {"@odata.type": "#microsoft.graph.brandNewThingEventMessageDetail"}},
     "system event: brand new thing"),
])
def test_system_events_are_skipped_with_their_name(fields, reason):
    rendered = render(message("<systemEventMessage/>", **{"from": None, **fields}), CTX)
    assert (rendered.skip_reason, rendered.parts) == (reason, ())


def test_system_event_names_come_from_the_mapping():
    ctx = RenderContext(users={}, system_events={"#microsoft.graph.membersAddedEventMessageDetail": "people joined"})
    rendered = render(message("<systemEventMessage/>", messageType="systemEventMessage",
                                      eventDetail={"@odata.type": "#microsoft.graph.membersAddedEventMessageDetail"}), ctx)
    assert rendered.skip_reason == "system event: people joined"


def test_text_body_is_escaped_as_text():
    body = {"contentType": "text", "content": "Plain: <!here> <@U123ABC> & <b>not bold</b>"}
    rendered = render(message(body=body), CTX)
    assert rendered.parts[0].split("\n")[0] == "Plain: &lt;!here&gt; &lt;@U123ABC&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;"
    assert slack_text_problems(rendered.parts[0]) == []


def test_per_word_mention_and_guest_mention():
    mentions = [{"id": 0, "mentionText": "Kari Nordmann", "mentioned": {"user": {"id": "b7a8", "displayName": "Kari Nordmann"}}},
                {"id": 1, "mentionText": "Victor", "mentioned": {"user": {"id": "32fb", "displayName": "Victor"}}},
                {"id": 2, "mentionText": "Ng", "mentioned": {"user": {"id": "32fb", "displayName": "Ng"}}}]
    html = '<p><at id="0">Kari Nordmann</at> and <at id="1">Victor</at>&nbsp;<at id="2">Ng</at> — sync?</p>'
    rendered = render(message(html, mentions=mentions), CTX)
    assert rendered.parts[0].split("\n")[0] == "@Kari Nordmann and @Victor Ng — sync?"
    assert "<@" not in rendered.parts[0]


def test_files_and_warnings_are_reported():
    html = ('<p><img src="https://graph.microsoft.com/v1.0/teams/t/channels/c/messages/1/hostedContents/HC1/$value"></p>'
            '<attachment id="card"></attachment>')
    card = {"id": "card", "contentType": "application/vnd.microsoft.card.adaptive",
            "content": json.dumps({"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Hi"}]})}
    rendered = render(message(html, attachments=[card]), CTX)
    assert rendered.parts[0].startswith("[image]\nHi\n")
    assert rendered.files == (FileRef("hosted", "HC1", None),)
    assert rendered.warnings == (("card_rendered_as_text", "adaptive card"),)


def test_rendering_is_deterministic():
    html = CASES[0]["html"] + "".join(c["html"] for c in CASES if c.get("content_type") != "text")
    first = render(message(html, reactions=[reaction("like", "a"), reaction("heart", "b")]), CTX)
    assert all(render(message(html, reactions=[reaction("like", "a"), reaction("heart", "b")]), CTX) == first
               for _ in range(3))


# -- splitting -----------------------------------------------------------------------------------

def _long_body(paragraphs: int = 60) -> str:
    sentence = "The recommendations widget issued an unbounded query & held connections for seconds. "
    return "".join(f"<p>{i}: {sentence * 2}</p>" for i in range(paragraphs))


def test_a_9000_char_body_is_split_into_parts_of_at_most_4000_with_nothing_lost():
    html = _long_body(52)
    body, _, _ = html_to_mrkdwn(html, ctx=CTX)
    assert len(body) > 9000
    rendered = render(message(html, subject="Post-mortem", importance="high",
                                      reactions=[reaction("like", "a")]), CTX)
    assert len(rendered.parts) == 3
    assert all(len(part) <= 4000 for part in rendered.parts)
    assert rendered.parts[0].startswith(":exclamation: *Important*\n*Post-mortem*\n0: ")
    assert rendered.parts[0].endswith("\n:+1: 1\n_Posted in Teams on 2024-03-05 13:32 UTC_")
    assert all(part.startswith("_(continued)_\n") for part in rendered.parts[1:])
    chunks = [rendered.parts[0].split("\n", 2)[2].rsplit("\n", 2)[0]]
    chunks += [part.removeprefix("_(continued)_\n") for part in rendered.parts[1:]]
    assert "\n".join(chunks) == body
    assert ("message_split", "3 parts") in rendered.warnings


def test_max_chars_is_respected():
    rendered = render(message(_long_body(10)), RenderContext(users={}, max_chars=500))
    assert len(rendered.parts) > 3
    assert all(len(part) <= 500 for part in rendered.parts)


def _fences_balanced(part: str) -> bool:
    return sum(line.count("```") for line in part.split("\n")) % 2 == 0


def test_code_fences_stay_balanced_across_parts():
    code = "\n".join(f"2025-11-20T17:40:{i % 60:02d}Z WARN checkout-api latency_ms={i} path=/v2/orders?page={i} &amp; ok"
                     for i in range(120))
    html = f"<p>Full log:</p><codeblock class=\"PlainText\"><code>{code}</code></codeblock><p>Thoughts?</p>"
    rendered = render(message(html), CTX)
    assert len(rendered.parts) == 3
    for part in rendered.parts:
        assert len(part) <= 4000
        assert _fences_balanced(part), part
        assert slack_text_problems(part) == []
    code_lines = [line for part in rendered.parts for line in part.split("\n") if "WARN" in line]
    assert code_lines == [line.replace("&amp;", "&amp;") for line in code.split("\n")]
    assert rendered.parts[1].startswith("_(continued)_\n```\n")


def test_split_text_short_text_is_one_part():
    assert split_text("short", 4000) == ["short"]
    assert split_text("", 10) == [""]


def test_split_text_prefers_lines_then_words():
    assert split_text("aaaa bbbb\ncccc dddd", 10) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("abcdefghijklmnop", 5) == ["abcde", "fghij", "klmno", "p"]


def test_split_text_never_cuts_an_escape_or_a_link():
    parts = split_text("x" * 8 + "&amp;" + "y" * 8, 10)
    assert parts == ["x" * 8, "&amp;" + "y" * 5, "yyy"]
    assert split_text("see <https://example.com/a|a link> now", 35) == ["see <https://example.com/a|a link>", "now"]
    assert split_text("see <https://example.com/a|a link> now", 30) == ["see", "<https://example.com/a|a link>", "now"]


def test_split_text_rejects_a_useless_limit():
    with pytest.raises(ValueError):
        split_text("abc", 0)


def test_split_text_closes_and_reopens_code_fences():
    text = "intro\n```\n" + "\n".join(f"line {i:03d}" for i in range(30)) + "\n```\nafter"
    parts = split_text(text, 100)
    assert all(len(p) <= 100 and _fences_balanced(p) for p in parts)
    assert parts[1].startswith("```\nline")
    rejoined = [line for p in parts for line in p.split("\n") if line.startswith("line")]
    assert rejoined == [f"line {i:03d}" for i in range(30)]


def test_split_moves_a_trailing_heading_to_the_next_part():
    text = "\n".join(["x" * 70] * 3 + ["*Next section*", "y" * 70])
    parts = split_text(text, 250)
    assert parts == ["\n".join(["x" * 70] * 3), "*Next section*\n" + "y" * 70]


# -- mappings ------------------------------------------------------------------------------------

def test_default_mappings_come_from_the_installed_package():
    reactions, emoji, events = load_mappings()
    for name in ("reactions.toml", "emoji.toml", "system_events.toml"):
        assert files("migrate.mappings").joinpath(name).is_file()
    assert {k: reactions[k] for k in ("like", "heart", "laugh", "surprised", "sad", "angry", "👍")} == {
        "like": "+1", "heart": "heart", "laugh": "laughing", "surprised": "open_mouth", "sad": "cry",
        "angry": "angry", "👍": "+1"}
    assert emoji["1f440_eyes"] == "eyes" and emoji["laugh"] == "laughing"
    assert events["#microsoft.graph.membersAddedEventMessageDetail"] == "members added"
    assert RenderContext(users={}).reactions == reactions


def test_every_documented_system_event_has_a_description():
    names = re.findall(r"\w+", "callEnded callRecording callStarted callTranscript channelAdded channelDeleted "
             "channelDescriptionUpdated channelRenamed channelSetAsFavoriteByDefault "
             "channelUnsetAsFavoriteByDefault chatRenamed conversationMemberRoleUpdated meetingPolicyUpdated "
             "membersAdded membersDeleted membersJoined membersLeft messagePinned messageUnpinned tabUpdated "
             "teamArchived teamCreated teamDescriptionUpdated teamJoiningDisabled teamJoiningEnabled teamRenamed "
             "teamsAppInstalled teamsAppRemoved teamsAppUpgraded teamUnarchived")
    _, _, events = load_mappings()
    assert {f"#microsoft.graph.{n}EventMessageDetail" for n in names} <= set(events)


def test_an_override_replaces_its_keys_and_keeps_the_others(tmp_path):
    override = tmp_path / "reactions.toml"
    override.write_text('like = "thumbsup"\n"🦩" = ":flamingo:"\n', encoding="utf-8")
    reactions, emoji, _ = load_mappings(reactions_file=str(override))
    assert reactions["like"] == "thumbsup" and reactions["🦩"] == "flamingo"
    assert reactions["heart"] == "heart"
    assert emoji == load_mappings()[1]
    ctx = RenderContext(users={}, reactions=reactions)
    assert reactions_summary(teams_reactions([reaction("like", "a"), reaction("🦩", "b")]), ctx) == ":flamingo: 1  :thumbsup: 1"


@pytest.mark.parametrize(("text", "line", "what"), [
    ('like = "+1"\nheart = "heart\n', 2, "Illegal character"),      # TOML syntax error
    ('like = "+1"\n\nheart = 3\n', 3, "must be a string"),
    ('like = "+1"\n[table]\nx = "y"\n', 2, "must be a string"),
    ('like = "+1"\nheart = "<!channel>"\n', 2, "not a Slack emoji short name"),
])
def test_a_malformed_override_names_file_and_line(tmp_path, text, line, what):
    override = tmp_path / "bad.toml"
    override.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_mappings(reactions_file=str(override))
    assert str(error.value).startswith(f"{override}:{line}: ")
    assert what in str(error.value)


def test_a_missing_override_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "nope.toml"))):
        load_mappings(emoji_file=str(tmp_path / "nope.toml"))


def test_system_event_descriptions_must_not_be_empty(tmp_path):
    override = tmp_path / "events.toml"
    override.write_text('"#microsoft.graph.teamCreatedEventMessageDetail" = "  "\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"events\.toml:1: "):
        load_mappings(system_events_file=str(override))
