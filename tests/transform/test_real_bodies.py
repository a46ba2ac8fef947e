"""Every real Teams body (../shared/corpus/teams-real-bodies.json) and every message of the demo
tenant converts: no exception, no HTML left, no notifying token, nothing unescaped, code kept,
mentions as @names. The corpus half skips where ../shared is absent."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from migrate.export.assets import message_assets
from migrate.export.records import teams_attachments, teams_mentions
from migrate.transform.content import RenderContext, html_to_mrkdwn

from . import render, slack_text_problems

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "teams-real-bodies.json"
DEMO = ROOT / "examples" / "demo-tenant"

_CODE = re.compile(r"<(pre|codeblock)\b[^>]*>(.*?)</\1>", re.S | re.I)
_AT = re.compile(r'<at id="(\d+)">(.*?)</at>', re.S)


def _corpus() -> list[dict]:
    if not CORPUS.is_file():
        pytest.skip(f"../shared is absent: {CORPUS} not found (the corpus lives beside the checkout in CI)")
    return json.loads(CORPUS.read_text("utf-8"))


def _as_message(entry: dict) -> dict:
    """A corpus entry (PowerShell export shape) as a Graph chatMessage."""
    return {"id": entry["id"], "replyToId": entry["reply_to_id"], "messageType": entry["message_type"],
            "createdDateTime": "2025-08-05T13:19:43Z",
            "body": {"contentType": entry["body_content_type"], "content": entry["body"]},
            "mentions": entry["mentions"], "attachments": entry["attachments"], "reactions": entry["reactions"]}


def _code_lines(body: str) -> list[str]:
    """The code of each code block, read independently of the converter, escaped for Slack."""
    lines = []
    for _, inner in _CODE.findall(body):
        text = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", "\n", inner, flags=re.I)))
        for line in text.replace("\xa0", " ").split("\n"):
            if line.strip():
                lines.append(line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return lines


def _mention_user(mentions: list[dict], index: str) -> str | None:
    for mention in mentions:
        if str(mention.get("Id", mention.get("id"))) == index:
            mentioned = mention.get("Mentioned") or mention.get("mentioned") or {}
            ident = mentioned.get("User") or mentioned.get("user") or mentioned.get("Conversation") or {}
            return ident.get("Id") or ident.get("id")
    return None


@pytest.mark.shared
def test_every_real_body_converts_safely():
    ctx = RenderContext(users={})
    entries = _corpus()
    assert len(entries) == 165
    for entry in entries:
        text, _, _ = html_to_mrkdwn(entry["body"], content_type=entry["body_content_type"],
                                    mentions=teams_mentions(entry["mentions"]),
                                    attachments=teams_attachments(entry["attachments"]), ctx=ctx)
        assert slack_text_problems(text) == [], (entry["id"], text)
        rendered = render(_as_message(entry), ctx, has_replies=True)
        for part in rendered.parts:
            assert len(part) <= ctx.max_chars
            assert slack_text_problems(part) == [], (entry["id"], part)
            assert "\x00" not in part and "\x01" not in part


@pytest.mark.shared
def test_real_system_events_are_skipped():
    ctx = RenderContext(users={})
    events = [e for e in _corpus() if "<systemEventMessage" in e["body"]]
    assert len(events) == 64
    assert {render(_as_message(e), ctx).skip_reason for e in events} == {"system event"}


@pytest.mark.shared
def test_real_code_blocks_keep_their_text():
    ctx = RenderContext(users={})
    checked = 0
    for entry in _corpus():
        expected = _code_lines(entry["body"])
        if not expected:
            continue
        text, _, _ = html_to_mrkdwn(entry["body"], ctx=ctx)
        lines = text.split("\n")
        for line in expected:
            assert line in lines, (entry["id"], line, text)
        assert text.count("```") % 2 == 0
        checked += 1
    assert checked >= 6


@pytest.mark.shared
def test_real_mentions_become_at_names():
    ctx = RenderContext(users={})
    checked = 0
    for entry in _corpus():
        body, mentions = entry["body"], entry["mentions"]
        matches = list(_AT.finditer(body))
        if not matches:
            continue
        text, _, _ = html_to_mrkdwn(body, mentions=teams_mentions(mentions), ctx=ctx)
        for previous, match in zip([None, *matches], matches, strict=False):
            word = html.unescape(match.group(2)).strip()
            continues = (previous is not None
                         and not html.unescape(body[previous.end():match.start()]).strip()
                         and _mention_user(mentions, previous.group(1)) == _mention_user(mentions, match.group(1)))
            assert (word in text) if continues else (f"@{word}" in text), (entry["id"], word, text)
        assert "<@" not in text
        checked += 1
    assert checked >= 13


# -- the demo tenant (no ../shared needed) --------------------------------------------------------

def _demo_messages() -> list[dict]:
    messages = []
    for path in sorted((DEMO / "graph" / "teams").glob("*.json")):
        for channel in json.loads(path.read_text("utf-8"))["channels"]:
            messages.extend(channel["messages"])
    return messages


def test_every_demo_message_renders():
    users = {u["id"]: u["displayName"] for u in json.loads((DEMO / "graph" / "users.json").read_text("utf-8"))}
    ctx = RenderContext(users=users, timezone="Europe/Berlin")
    messages = _demo_messages()
    expected = json.loads((DEMO / "expected.json").read_text("utf-8"))["counts"]["messages"]
    assert len(messages) == expected["total"]
    with_replies = {m["replyToId"] for m in messages if m.get("replyToId")}
    skips: Counter[str] = Counter()
    edited = marked = 0
    for message in messages:
        rendered = render(message, ctx, has_replies=message["id"] in with_replies)
        if rendered.skip_reason:
            skips["system" if rendered.skip_reason.startswith("system event") else rendered.skip_reason] += 1
            continue
        assert rendered.parts and all(0 < len(part) <= 4000 for part in rendered.parts)
        for part in rendered.parts:
            assert slack_text_problems(part) == [], (message["id"], part)
            assert part.count("```") % 2 == 0, (message["id"], part)
        edited += "_(edited)_" in rendered.parts[-1] or "_(edited)_" in rendered.parts[0]
        marked += rendered.parts[0].startswith((":exclamation: *Important*", ":rotating_light: *Urgent*"))
        # the files the converter asks to upload are exactly the ones the exporter records
        assert {(f.source, f.source_id) for f in rendered.files} == {
            (a.source, a.source_id) for a in message_assets(message)}, message["id"]
    deleted = expected["deleted"]
    assert skips == {"system": expected["systemEvents"],
                     "deleted in Teams": deleted["total"] - deleted["rootsWithReplies"]}
    assert edited == expected["edited"]
    assert marked == expected["importanceHigh"] + expected["importanceUrgent"]


def test_demo_edge_cases_render_as_documented():
    ctx = RenderContext(users={u["id"]: u["displayName"]
                               for u in json.loads((DEMO / "graph" / "users.json").read_text("utf-8"))})
    by_id = {m["id"]: m for m in _demo_messages()}
    first = {key: render(by_id[key], ctx, has_replies=True).parts[0].split("\n")[0] for key in (
        "1744621397661", "1686052968590", "1712671590002", "1683622935480", "1583860925870", "1742373055049")}
    assert first["1744621397661"].startswith("@Megan Bowen can you confirm")
    assert first["1686052968590"].startswith("@Kari Nordmann and @Victor Ng")
    assert first["1712671590002"].startswith("Plain-text reply: &lt;!here&gt; &lt;!channel&gt; &lt;@U123ABC&gt;")
    assert first["1683622935480"] == "_This message was deleted in Teams._"
    assert first["1583860925870"] == "Spring Launch went great 😆 1,204 sign-ups on day one"
    forwarded = render(by_id["1742373055049"], ctx).parts[0].split("\n")
    assert forwarded[1] == "> *Forwarded from José Núñez* (2025-03-18 08:12 UTC)"
    long_post = render(by_id["1742565607205"], ctx)
    assert len(long_post.parts) == 3 and all(len(p) <= 4000 for p in long_post.parts)
