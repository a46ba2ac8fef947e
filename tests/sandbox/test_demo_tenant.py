"""The committed demo tenant (examples/demo-tenant): it loads, it is exactly its generator's output,
and it holds the edge cases its README and expected.json promise.

Every count and answer is recomputed here from the loaded data, independently of the generator
and of any other migrate code, and compared with expected.json.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from migrate.sandbox.tenant import Sandbox, load_sandbox

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo-tenant"
GENERATOR = ROOT / "examples" / "generate_demo_tenant.py"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEED = 2026

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Json = dict[str, Any]


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return load_sandbox(DEMO)


@pytest.fixture(scope="module")
def expected() -> Json:
    return json.loads((DEMO / "expected.json").read_text(encoding="utf-8"))


def messages(sb: Sandbox) -> list[tuple[Any, Any, Json]]:
    return [(t, c, m) for t in sb.graph.teams for c in t.channels for m in c.messages]


def epoch_ms(stamp: str) -> int:
    t = datetime.strptime(stamp.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return (t - EPOCH) // timedelta(milliseconds=1)


def is_deleted(m: Json) -> bool:
    return m["messageType"] == "message" and (m["deletedDateTime"] is not None or m["body"]["content"] == "")


def find(sb: Sandbox, message_id: str) -> tuple[Any, Any, Json]:
    hits = [(t, c, m) for t, c, m in messages(sb) if m["id"] == message_id]
    assert len(hits) == 1, message_id
    return hits[0]


# ---- the folder ------------------------------------------------------------------------------


def test_loads_with_the_sandbox_loader(sandbox: Sandbox) -> None:
    assert sandbox.graph.tenant_id
    assert sandbox.graph.users and sandbox.graph.teams
    assert sandbox.graph.hosted_contents and sandbox.graph.drive_items
    assert sandbox.slack.team["id"] == "T0NWLABS"


def test_regenerating_with_the_same_seed_gives_the_committed_bytes(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = subprocess.run([sys.executable, str(GENERATOR), "--out", str(out), "--seed", str(SEED)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    committed = {p.relative_to(DEMO).as_posix(): p for p in DEMO.rglob("*") if p.is_file()}
    fresh = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    assert sorted(committed) == sorted(fresh)
    differing = [rel for rel in committed if committed[rel].read_bytes() != fresh[rel].read_bytes()]
    assert not differing, f"committed files differ from the generator's output: {differing}"


def test_total_size_stays_reasonable() -> None:
    assert sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file()) < 6_000_000


# ---- counts ----------------------------------------------------------------------------------


def compute_counts(sb: Sandbox) -> Json:
    users = sb.graph.users
    msgs = messages(sb)
    replies_of: dict[tuple[str, str], int] = {}
    for _, c, m in msgs:
        if m["replyToId"]:
            key = (c.channel["id"], m["replyToId"])
            replies_of[key] = replies_of.get(key, 0) + 1
    deleted = [(c, m) for _, c, m in msgs if is_deleted(m)]
    deleted_roots = [(c, m) for c, m in deleted if m["replyToId"] is None]
    refs = [a for _, _, m in msgs for a in m["attachments"] if a["contentType"] == "reference"]
    urls = {d.web_url for d in sb.graph.drive_items}
    channels = [c.channel for t in sb.graph.teams for c in t.channels]
    archived = [m for t, _, m in msgs if t.team["isArchived"]]
    return {
        "users": len(users),
        "members": sum(u["userType"] == "Member" for u in users),
        "guests": sum(u["userType"] == "Guest" for u in users),
        "disabled": sum(not u["accountEnabled"] for u in users),
        "usersWithoutMail": sum(u["mail"] is None for u in users),
        "teams": len(sb.graph.teams),
        "archivedTeams": sum(bool(t.team["isArchived"]) for t in sb.graph.teams),
        "teamsMissingFromGroupsFilter": sorted(
            t.team["displayName"] for t in sb.graph.teams
            if "Team" not in t.group.get("resourceProvisioningOptions", ["Team"])),
        "channels": {"total": len(channels),
                     **{k: sum(c["membershipType"] == k for c in channels) for k in ("standard", "private", "shared")}},
        "teamMembers": sum(len(t.members) for t in sb.graph.teams),
        "messages": {
            "total": len(msgs),
            "roots": sum(m["replyToId"] is None for _, _, m in msgs),
            "replies": sum(m["replyToId"] is not None for _, _, m in msgs),
            "systemEvents": sum(m["messageType"] == "systemEventMessage" for _, _, m in msgs),
            "deleted": {
                "total": len(deleted),
                "rootsWithReplies": sum(bool(replies_of.get((c.channel["id"], m["id"]))) for c, m in deleted_roots),
                "rootsWithoutReplies": sum(not replies_of.get((c.channel["id"], m["id"])) for c, m in deleted_roots),
                "replies": sum(m["replyToId"] is not None for _, m in deleted),
                "withoutDeletedDateTime": sum(m["deletedDateTime"] is None for _, m in deleted),
            },
            "edited": sum(m["lastEditedDateTime"] is not None for _, _, m in msgs),
            "textBodies": sum(m["body"]["contentType"] == "text" for _, _, m in msgs),
            "withSubject": sum(bool(m["subject"]) for _, _, m in msgs),
            "importanceHigh": sum(m["importance"] == "high" for _, _, m in msgs),
            "importanceUrgent": sum(m["importance"] == "urgent" for _, _, m in msgs),
            "fromApplication": sum(bool(m["from"] and m["from"]["application"]) for _, _, m in msgs),
            "withMentions": sum(bool(m["mentions"]) for _, _, m in msgs),
            "withReactions": sum(bool(m["reactions"]) for _, _, m in msgs),
            "reactions": sum(len(m["reactions"]) for _, _, m in msgs),
            "inArchivedTeam": len(archived),
        },
        # the chats' files are counted under expected.json "chats" (test_demo_chats below)
        "hostedContents": sum(1 for h in sb.graph.hosted_contents if h.chat_id is None),
        "driveItems": sum(1 for d in sb.graph.drive_items if not _chat_file(d.web_url)),
        "referenceAttachments": len(refs),
        "missingFiles": sum(a["contentUrl"] not in urls for a in refs),
        "slackUsers": len(sb.slack.users),
        "slackChannels": len(sb.slack.channels),
    }


def test_counts_meet_the_minimums(sandbox: Sandbox) -> None:
    c = compute_counts(sandbox)
    m = c["messages"]
    assert 35 <= c["users"] <= 45 and c["guests"] >= 3 and c["disabled"] >= 1 and c["usersWithoutMail"] >= 1
    assert c["teams"] == 6 and c["archivedTeams"] == 1
    assert c["channels"]["total"] >= 18 and c["channels"]["private"] >= 2 and c["channels"]["shared"] >= 1
    assert m["total"] >= 2000 and m["replies"] > m["roots"] > 0
    assert m["systemEvents"] >= 3 and m["edited"] >= 1 and m["textBodies"] >= 1 and m["fromApplication"] >= 1
    assert m["importanceHigh"] >= 1 and m["importanceUrgent"] >= 1
    d = m["deleted"]
    assert d["rootsWithReplies"] >= 1 and d["rootsWithoutReplies"] >= 1 and d["withoutDeletedDateTime"] >= 1
    assert c["hostedContents"] >= 3 and c["driveItems"] >= 3 and c["missingFiles"] == 1


def test_counts_equal_expected_json(sandbox: Sandbox, expected: Json) -> None:
    assert compute_counts(sandbox) == expected["counts"]


def test_longest_thread(sandbox: Sandbox, expected: Json) -> None:
    counts: dict[tuple[str, str], int] = {}
    for _, c, m in messages(sandbox):
        if m["replyToId"]:
            counts[(c.channel["id"], m["replyToId"])] = counts.get((c.channel["id"], m["replyToId"]), 0) + 1
    (channel_id, root_id), n = max(counts.items(), key=lambda kv: kv[1])
    assert n > 120
    assert sorted(counts.values())[-2] < n  # one unambiguous longest thread
    team, _, root = find(sandbox, root_id)
    assert root["replyToId"] is None
    assert expected["longestThread"] == {"teamId": team.team["id"], "channelId": channel_id,
                                         "rootId": root_id, "replyCount": n}


# ---- messages --------------------------------------------------------------------------------


def test_every_reply_points_at_a_root_of_its_own_channel(sandbox: Sandbox) -> None:
    for t in sandbox.graph.teams:
        for c in t.channels:
            roots = {m["id"] for m in c.messages if m["replyToId"] is None}
            for m in c.messages:
                assert m["channelIdentity"] == {"teamId": t.team["id"], "channelId": c.channel["id"]}
                if m["replyToId"] is not None:
                    assert m["replyToId"] in roots, (c.channel["displayName"], m["id"])
                    assert epoch_ms(m["createdDateTime"]) > int(m["replyToId"])


def test_message_ids_are_unique_per_channel_and_equal_created_epoch_ms(sandbox: Sandbox) -> None:
    for t in sandbox.graph.teams:
        for c in t.channels:
            ids = [m["id"] for m in c.messages]
            assert len(ids) == len(set(ids)), c.channel["displayName"]
            for m in c.messages:
                assert m["id"] == str(epoch_ms(m["createdDateTime"])), m["id"]


def test_timestamps_are_consistent_and_in_range(sandbox: Sandbox) -> None:
    low, high = epoch_ms("2019-01-01T00:00:00.000Z"), epoch_ms("2026-10-31T23:59:59.999Z")
    for _, c, m in messages(sandbox):
        created = epoch_ms(m["createdDateTime"])
        assert low <= created <= high
        assert epoch_ms(c.channel["createdDateTime"]) < created
        modified = epoch_ms(m["lastModifiedDateTime"])
        assert created <= modified <= high and m["etag"] == str(modified)
        if m["lastEditedDateTime"]:
            assert created < epoch_ms(m["lastEditedDateTime"]) < modified
        if m["deletedDateTime"]:
            assert created < epoch_ms(m["deletedDateTime"]) <= modified
        for r in m["reactions"]:
            assert created <= epoch_ms(r["createdDateTime"]) <= modified


def test_the_archived_team_has_nothing_after_its_archive(sandbox: Sandbox, expected: Json) -> None:
    archived = [t for t in sandbox.graph.teams if t.team["isArchived"]]
    assert [t.team["id"] for t in archived] == [expected["archivedTeam"]["teamId"]]
    cutoff = epoch_ms(expected["archivedTeam"]["archivedDateTime"])
    msgs = [m for c in archived[0].channels for m in c.messages]
    assert msgs
    assert all(epoch_ms(m["lastModifiedDateTime"]) < cutoff for m in msgs)


def test_placeholders_match_attachments_and_mentions(sandbox: Sandbox) -> None:
    for _, _, m in messages(sandbox):
        content = m["body"]["content"]
        if m["body"]["contentType"] == "text":
            assert not m["mentions"] and not m["attachments"]
            continue
        placed = re.findall(r'<attachment id="([^"]+)"></attachment>', content)
        assert sorted(placed) == sorted(a["id"] for a in m["attachments"]), m["id"]
        at_ids = [int(x) for x in re.findall(r'<at id="(\d+)">', content)]
        assert at_ids == [x["id"] for x in m["mentions"]] == list(range(len(m["mentions"]))), m["id"]
        for x in m["mentions"]:
            shown = re.search(rf'<at id="{x["id"]}">(.*?)</at>', content)
            assert shown is not None
            kinds = [k for k in ("user", "application", "conversation", "tag") if x["mentioned"].get(k)]
            assert len(kinds) == 1, m["id"]


def test_system_events_have_the_graph_shape(sandbox: Sandbox) -> None:
    events = [m for _, _, m in messages(sandbox) if m["messageType"] == "systemEventMessage"]
    assert len({e["eventDetail"]["@odata.type"] for e in events}) >= 5
    for e in events:
        assert e["from"] is None and e["body"]["content"] == "<systemEventMessage/>"
        assert e["eventDetail"]["@odata.type"].startswith("#microsoft.graph.")
    assert any(e["replyToId"] for e in events)


def test_deletions_include_the_reference_gotcha(sandbox: Sandbox, expected: Json) -> None:
    for _, _, m in messages(sandbox):
        if is_deleted(m):
            assert m["body"]["content"] == ""
            assert not (m["reactions"] or m["mentions"] or m["attachments"] or m["lastEditedDateTime"])
    cases = expected["edgeCases"]
    _, _, gotcha = find(sandbox, cases["deleted_without_deletedDateTime"][0]["messageId"])
    assert gotcha["deletedDateTime"] is None and gotcha["body"]["content"] == "" and gotcha["from"] is None
    _, c, root = find(sandbox, cases["deleted_root_with_replies"][0]["messageId"])
    assert root["deletedDateTime"] and root["body"]["content"] == ""
    assert any(m["replyToId"] == root["id"] for m in c.messages)
    _, c, lonely = find(sandbox, cases["deleted_root_without_replies"][0]["messageId"])
    assert lonely["deletedDateTime"] and not any(m["replyToId"] == lonely["id"] for m in c.messages)


def test_content_edge_cases_are_present(sandbox: Sandbox, expected: Json) -> None:
    msgs = [m for _, _, m in messages(sandbox)]
    bodies = "\n".join(m["body"]["content"] for m in msgs)
    for needle in ("<codeblock class=\"PlainText\"><code>", "<pre>", "<code>", "hljs-keyword", "<table",
                   "<th>", "<ol>", "<ul>", "<blockquote>", "<h1>", "<h2>", "<h3>", "<a href=", "&nbsp;",
                   "&amp;", "&lt;", "<br>", "<div>", "<emoji id=\"1f440_eyes\" alt=\"👀\" title=\"Eyes\"></emoji>",
                   "itemtype=\"http://schema.skype.com/Emoji\"", "&lt;!channel&gt;", "&amp;lt;!here&amp;gt;",
                   "&lt;@U123ABC&gt;", "@everyone", "&lt;!subteam^S123&gt;"):
        assert needle in bodies, needle
    text_bodies = [m["body"]["content"] for m in msgs if m["body"]["contentType"] == "text"]
    assert any("<!here>" in b for b in text_bodies)
    longest = max(msgs, key=lambda m: len(m["body"]["content"]))
    plain = re.sub(r"<[^>]+>", "", longest["body"]["content"])
    assert len(longest["body"]["content"]) > 9000 and len(plain) > 4000
    legacy = {r["reactionType"] for m in msgs for r in m["reactions"]}
    assert {"like", "heart", "laugh", "surprised", "sad", "angry", "👍", "🎉", "💯", "custom"} <= legacy
    custom = [r for m in msgs for r in m["reactions"] if r["reactionType"] == "custom"]
    assert all(r["displayName"] and r["reactionContentUrl"] for r in custom)
    types = {a["contentType"] for m in msgs for a in m["attachments"]}
    assert {"reference", "messageReference", "forwardedMessageReference",
            "application/vnd.microsoft.card.adaptive"} <= types
    for m in msgs:
        for a in m["attachments"]:
            if a["contentType"] != "reference":
                assert isinstance(json.loads(a["content"]), dict)
    bots = [m for m in msgs if m["from"] and m["from"]["application"]]
    assert bots and all(m["from"]["user"] is None
                        and m["from"]["application"]["applicationIdentityType"] == "bot" for m in bots)
    kinds = {m_["mentioned"]["conversation"]["conversationIdentityType"] for m in msgs for m_ in m["mentions"]
             if m_["mentioned"].get("conversation")}
    assert kinds == {"channel", "team"}
    assert any(x["mentioned"].get("tag") for m in msgs for x in m["mentions"])


def test_per_word_mentions_point_at_one_user(sandbox: Sandbox, expected: Json) -> None:
    _, _, m = find(sandbox, expected["edgeCases"]["mention_per_word"][0]["messageId"])
    assert '<at id="0">Megan</at>&nbsp;<at id="1">Bowen</at>' in m["body"]["content"]
    assert m["mentions"][0]["mentioned"]["user"]["id"] == m["mentions"][1]["mentioned"]["user"]["id"]


def test_special_authors_posted(sandbox: Sandbox, expected: Json) -> None:
    s = expected["specialUsers"]
    authors = {m["from"]["user"]["id"] for _, _, m in messages(sandbox) if m["from"] and m["from"]["user"]}
    mentioned = {x["mentioned"]["user"]["id"] for _, _, m in messages(sandbox) for x in m["mentions"]
                 if x["mentioned"].get("user")}
    assert s["disabled"] in authors
    assert set(s["guests"]) & authors
    assert set(s["guests"]) & mentioned and set(s["unmatched"]) & mentioned


# ---- files -----------------------------------------------------------------------------------


def _chat_file(url: str) -> bool:
    """Chat files live in the sender's OneDrive (reference §4.4), channel files in SharePoint."""
    return url.startswith("https://northwindlabs-my.sharepoint.com/personal/")


def test_every_inline_image_resolves_to_png_bytes(sandbox: Sandbox) -> None:
    hosted = {(h.message_id, h.id): h for h in sandbox.graph.hosted_contents if h.chat_id is None}
    pattern = re.compile(r"/messages/(\d+)(?:/replies/(\d+))?/hostedContents/([^/]+)/\$value")
    seen = set()
    for _, c, m in messages(sandbox):
        urls = re.findall(r'<img[^>]*\ssrc="([^"]+/hostedContents/[^"]+)"', m["body"]["content"])
        urls += [r["reactionContentUrl"] for r in m["reactions"] if r["reactionContentUrl"]]
        for url in urls:
            assert url.startswith(f"https://graph.microsoft.com/v1.0/teams/{m['channelIdentity']['teamId']}"
                                  f"/channels/{c.channel['id']}/messages/"), url
            root, reply, hc = pattern.search(url).groups()
            assert (reply or root) == m["id"] and (m["replyToId"] or m["id"]) == root
            item = hosted.get((m["id"], hc))
            assert item is not None, url
            assert item.data.startswith(PNG_MAGIC) and item.content_type == "image/png"
            seen.add((m["id"], hc))
    assert seen == set(hosted)


def test_every_reference_attachment_resolves_except_the_missing_one(sandbox: Sandbox, expected: Json) -> None:
    by_url = {d.web_url: d for d in sandbox.graph.drive_items}
    missing = []
    for _, _, m in messages(sandbox):
        for a in m["attachments"]:
            if a["contentType"] != "reference":
                continue
            assert a["contentUrl"].startswith("https://northwindlabs.sharepoint.com/sites/")
            assert "/Shared%20Documents/" in a["contentUrl"]
            item = by_url.get(a["contentUrl"])
            if item is None:
                missing.append(a["contentUrl"])
                continue
            assert item.name == a["name"]
    assert missing == expected["files"]["missing"]
    for d in sandbox.graph.drive_items:
        if d.name.endswith(".png"):
            assert d.data.startswith(PNG_MAGIC) and d.mime_type == "image/png"
        elif d.name.endswith(".pdf"):
            assert d.data.startswith(PDF_MAGIC) and d.data.rstrip().endswith(b"%%EOF")
            assert d.mime_type == "application/pdf"
    sizes = sorted(len(d.data) for d in sandbox.graph.drive_items if not _chat_file(d.web_url))
    assert sizes[-1] == expected["files"]["large"]["size"] > 250_000 > sizes[-2]


def test_small_images_are_small_real_pngs(sandbox: Sandbox) -> None:
    for h in sandbox.graph.hosted_contents:
        assert h.data.startswith(PNG_MAGIC) and len(h.data) < 2048
        assert h.data[12:16] == b"IHDR" and h.data.endswith(b"IEND\xaeB`\x82")


# ---- users and Slack ------------------------------------------------------------------------


def compute_matching(sb: Sandbox) -> dict[str, Json]:
    directory: dict[str, list[Json]] = {}
    for su in sb.slack.users:
        email = su.get("profile", {}).get("email")
        if email and not su["is_bot"] and su["id"] != "USLACKBOT":
            directory.setdefault(email.lower(), []).append(su)
    out = {}
    for u in sb.graph.users:
        routes = [("mail", [u["mail"]]), ("userPrincipalName", [u["userPrincipalName"]]),
                  ("otherMails", u["otherMails"]),
                  ("proxyAddresses", [p.split(":", 1)[1] for p in u["proxyAddresses"] if p.lower().startswith("smtp:")])]
        hits = [(route, su) for route, addrs in routes for a in addrs if a for su in directory.get(a.lower(), [])]
        if not hits:
            out[u["id"]] = {"route": "none", "slackUserId": None}
        else:   # DESIGN §4.4: the first route that finds an active account wins
            route, su = next(((r, x) for r, x in hits if not x["deleted"]), hits[0])
            out[u["id"]] = {"route": route, "slackUserId": su["id"],
                            "others": len({x["id"] for _, x in hits}) - 1}
    return out


def test_user_matching_equals_expected(sandbox: Sandbox, expected: Json) -> None:
    ours = compute_matching(sandbox)
    others = sum(1 for v in ours.values() if v.pop("others", 0))
    theirs = {uid: {"route": v["route"], "slackUserId": v["slackUserId"]} for uid, v in expected["userMatching"].items()}
    assert ours == theirs
    routes = [v["route"] for v in ours.values()]
    for route in ("mail", "userPrincipalName", "otherMails", "proxyAddresses", "none"):
        assert route in routes, route
    assert 3 <= routes.count("none") <= 5
    assert others == 1   # one person whose later route finds another account (a warning)


def test_special_users(sandbox: Sandbox, expected: Json) -> None:
    users = {u["id"]: u for u in sandbox.graph.users}
    slack = {u["id"]: u for u in sandbox.slack.users}
    s = expected["specialUsers"]
    assert users[s["disabled"]]["accountEnabled"] is False
    assert users[s["noMail"]]["mail"] is None
    for uid in s["guests"]:
        u = users[uid]
        assert u["userType"] == "Guest" and u["creationType"] == "Invitation"
        assert "#EXT#@northwindlabs.onmicrosoft.com" in u["userPrincipalName"]
        assert u["externalUserState"] in ("Accepted", "PendingAcceptance")
    assert any(users[uid]["userType"] == "Guest" for uid in s["unmatched"])
    a, b = s["sameDisplayName"]
    assert a != b and users[a]["displayName"] == users[b]["displayName"]
    dz = s["deactivatedInSlack"]
    assert slack[dz["slackUserId"]]["deleted"] is True
    assert expected["userMatching"][dz["teamsUserId"]]["slackUserId"] == dz["slackUserId"]
    amb = s["otherAccountByLaterRoute"]
    assert amb["slackUserByMail"] != amb["slackUserByOtherMails"]
    assert expected["userMatching"][amb["teamsUserId"]]["slackUserId"] == amb["slackUserByMail"]
    for uid in s["emailCaseDiffers"]:
        su = slack[expected["userMatching"][uid]["slackUserId"]]
        mine = users[uid]["mail"]
        assert su["profile"]["email"] != mine and su["profile"]["email"].lower() == mine.lower()
    names = [users[uid]["displayName"] for uid in s["nonLatinNames"] + s["accentedNames"]]
    assert all(not n.isascii() for n in names)
    for u in users.values():
        primaries = [p for p in u["proxyAddresses"] if p.startswith("SMTP:")]
        assert len(primaries) <= 1
        if u["mail"] and primaries:
            assert primaries[0][5:] == u["mail"]


def test_team_and_channel_members(sandbox: Sandbox) -> None:
    users = {u["id"]: u for u in sandbox.graph.users}
    for t in sandbox.graph.teams:
        member_ids = {m["userId"] for m in t.members}
        assert any("owner" in m["roles"] for m in t.members)
        for m in t.members:
            assert m["@odata.type"] == "#microsoft.graph.aadUserConversationMember"
            assert m["visibleHistoryStartDateTime"] == "0001-01-01T00:00:00Z"
            assert ("guest" in m["roles"]) == (users[m["userId"]]["userType"] == "Guest")
        for c in t.channels:
            kind = c.channel["membershipType"]
            assert re.fullmatch(r"19:[0-9a-f]{32}@thread\.tacv2", c.channel["id"])
            if kind == "standard":
                assert c.members == []
            elif kind == "private":
                assert c.members and {m["userId"] for m in c.members} < member_ids
            else:
                assert {m["userId"] for m in c.members} - member_ids  # people from outside the team
    for t in sandbox.graph.teams:
        assert t.channels[0].channel["displayName"] == "General"
        assert t.team["internalId"] == t.channels[0].channel["id"]


def slugify(text: str) -> str:
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9_-]+", "-", folded).strip("-")


def test_channel_names_exercise_the_naming_rules(sandbox: Sandbox, expected: Json) -> None:
    rows = []
    for t in sandbox.graph.teams:
        for c in t.channels:
            ts, cs = slugify(t.team["displayName"]), slugify(c.channel["displayName"])
            rows.append((c.channel["createdDateTime"], c.channel["id"], ts, cs))
    slugs: dict[str, list[tuple[str, str]]] = {}
    for created, cid, ts, cs in rows:
        if ts and cs:
            slugs.setdefault(f"{ts}-{cs}", []).append((created, cid))
    planned = {s: [cid for _, cid in sorted(v)] for s, v in slugs.items() if len(v) > 1}
    coll = expected["collidingChannelNames"]
    assert planned == coll["plannedCollisions"] and "r-d-general" in planned
    assert sorted(cid for _, cid, ts, cs in rows if not ts or not cs) == sorted(coll["hashRuleChannels"])
    long = [s for s in slugs if len(s) > 80]
    assert long == [coll["over80Chars"]["slug"]]
    existing = {c["name"]: c for c in sandbox.slack.channels}
    clashes = [n for n in slugs if n in existing]
    assert sorted(clashes) == sorted(e["name"] for e in coll["existingSlackChannels"])
    assert sorted(existing[n]["is_archived"] for n in clashes) == [False, True]
    long_topics = [c.channel["id"] for t in sandbox.graph.teams for c in t.channels
                   if len(c.channel["description"] or "") > 250]
    assert long_topics == coll["topicOver250Chars"]
    assert any(not c.channel["displayName"].replace(" ", "").isalnum()
               for t in sandbox.graph.teams for c in t.channels)


def test_slack_workspace(sandbox: Sandbox) -> None:
    ws = sandbox.slack
    users = {u["id"]: u for u in ws.users}
    bot = users[ws.bot["user_id"]]
    assert bot["is_bot"] is True and bot["profile"]["bot_id"] == ws.bot["bot_id"]
    assert "USLACKBOT" in users
    assert [c["name"] for c in ws.channels if c["is_general"]] == ["general"]
    assert {"general", "random"} <= {c["name"] for c in ws.channels}
    assert any(ws.bot["user_id"] in c["members"] for c in ws.channels)
    assert any(ws.bot["user_id"] not in c["members"] for c in ws.channels)
    for u in ws.users:
        assert re.fullmatch(r"U[0-9A-Z]+", u["id"]) and u["team_id"] == ws.team["id"]
        for size in ("image_72", "image_192"):
            assert u["profile"][size].startswith("https://")
    for c in ws.channels:
        assert set(c["members"]) <= set(users)


# ---- contract: property names of ../shared/contracts/graph-teams-schemas.json -----------------

# Open properties that real payloads carry but the v1.0 CSDL does not declare (reference §5.1, §5.5).
OPEN_EXTRAS = {"teamworkUserIdentity": {"tenantId": "Edm.String"},
               "chatMessageMentionedIdentitySet": {"tag": "teamworkTagIdentity"}}


class Contract:
    def __init__(self, types: Json) -> None:
        self.types = types

    def chain(self, name: str) -> list[str]:
        out = []
        while name:
            out.append(name)
            name = self.types[name].get("baseType")
        return out

    def props(self, name: str) -> Json:
        out: Json = {}
        for n in self.chain(name):
            out.update({k: dict(v) for k, v in (self.types[n].get("properties") or {}).items()})
            for k, t in OPEN_EXTRAS.get(n, {}).items():
                out[k] = {"type": t}
        return out

    def check(self, value: Any, declared: str, path: str, problems: list[str]) -> None:
        if value is None:
            return
        if declared.startswith("Edm."):
            want = {"Edm.String": str, "Edm.DateTimeOffset": str, "Edm.Boolean": bool, "Edm.Int32": int,
                    "Edm.Int64": int}.get(declared)
            if want and (not isinstance(value, want) or (want is int and isinstance(value, bool))):
                problems.append(f"{path}: {declared} expected, got {type(value).__name__}")
            return
        spec = self.types.get(declared)
        if spec is None:
            problems.append(f"{path}: type {declared} not in the contract")
            return
        if spec["kind"] == "enum":
            if value not in spec["members"]:
                problems.append(f"{path}: {value!r} not a member of {declared}")
            return
        if not isinstance(value, dict):
            problems.append(f"{path}: object of {declared} expected")
            return
        actual = declared
        if "@odata.type" in value:
            actual = value["@odata.type"].removeprefix("#microsoft.graph.")
            if actual not in self.types or declared not in self.chain(actual):
                problems.append(f"{path}: @odata.type {actual} is not a {declared}")
                return
        props = self.props(actual)
        for key, item in value.items():
            if key.startswith("@odata."):
                continue
            if key not in props:
                problems.append(f"{path}.{key}: not declared on {actual}")
                continue
            p = props[key]
            if p.get("nullable") is False and item is None:
                problems.append(f"{path}.{key}: null but non-nullable")
            if p.get("collection"):
                if not isinstance(item, list):
                    problems.append(f"{path}.{key}: collection expected")
                    continue
                for i, x in enumerate(item):
                    self.check(x, p["type"], f"{path}.{key}[{i}]", problems)
            else:
                self.check(item, p["type"], f"{path}.{key}", problems)


@pytest.mark.shared
def test_every_graph_object_uses_declared_property_names(sandbox: Sandbox) -> None:
    path = SHARED / "contracts" / "graph-teams-schemas.json"
    if not path.is_file():
        pytest.skip(f"../shared is absent: {SHARED} holds the Graph v1.0 schema extract (CI has it)")
    contract = Contract(json.loads(path.read_text(encoding="utf-8"))["types"])
    problems: list[str] = []
    for u in sandbox.graph.users:
        contract.check(u, "user", f"user {u['displayName']}", problems)
    for t in sandbox.graph.teams:
        contract.check(t.team, "team", f"team {t.team['displayName']}", problems)
        for m in t.members:
            contract.check(m, "conversationMember", f"member {m['displayName']}", problems)
        for c in t.channels:
            contract.check(c.channel, "channel", f"channel {c.channel['displayName']}", problems)
            for m in c.members:
                contract.check(m, "conversationMember", f"channel member {m['displayName']}", problems)
            for m in c.messages:
                contract.check(m, "chatMessage", f"message {m['id']}", problems)
    assert not problems, "\n".join(problems[:40])


# ---- chats -----------------------------------------------------------------------------------


def test_demo_chats_match_their_known_answers(sandbox: Sandbox, expected: Json) -> None:
    known = expected["chats"]
    chats = sandbox.graph.chats
    assert len(chats) == known["total"]
    by_type: dict[str, int] = {}
    for c in chats:
        by_type[c.chat["chatType"]] = by_type.get(c.chat["chatType"], 0) + 1
    assert by_type == known["byChatType"]
    assert sum(len(c.messages) for c in chats) == known["messages"] == known["uniqueMessages"]
    assert [c.chat["id"] for c in chats if len(c.members) > 9] == known["largerThanGroupDm"]
    per_user: dict[str, int] = {}
    for c in chats:
        for m in c.members:
            per_user[m["userId"]] = per_user.get(m["userId"], 0) + len(c.messages)
    assert {u: n for u, n in known["perUserGetAllMessages"].items() if n} == per_user
    assert sum(per_user.values()) == known["getAllMessagesSumOverUsers"] > known["messages"]
    # every chat inline image and file resolves, but the one missing file
    hosted = {(h.chat_id, h.message_id, h.id) for h in sandbox.graph.hosted_contents if h.chat_id}
    urls = {d.web_url for d in sandbox.graph.drive_items}
    missing = []
    for c in chats:
        for m in c.messages:
            assert m["chatId"] == c.chat["id"] and m["channelIdentity"] is None
            for hc in re.findall(r"/hostedContents/([^/]+)/\$value", (m["body"] or {})["content"]):
                assert (c.chat["id"], m["id"], hc) in hosted
            for a in m["attachments"]:
                if a["contentType"] == "reference" and a["contentUrl"] not in urls:
                    missing.append(a["contentUrl"])
    assert missing == known["missingFiles"]
    assert len(hosted) == known["byKind"]["hostedContents"]
