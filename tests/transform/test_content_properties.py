"""Properties of the content conversion (hypothesis): it never raises, never lets a notifying
token or an unescaped `&`/`<` through, and splitting keeps every character within the limit."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.export.records import teams_attachments, teams_mentions
from migrate.transform.content import RenderContext, html_to_mrkdwn, split_text

from . import OUR_LINK, render, slack_text_problems

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CTX = RenderContext(users={"u1": "Jane <Doe>"})

ATOMS = [
    "<p>", "</p>", "<div>", "</div>", "<br>", "<b>", "</b>", "<strong>", "</strong>", "<i>", "</i>", "<s>", "</s>",
    "<u>", "</u>", "<code>", "</code>", "<pre>", "</pre>", "<codeblock><code>", "</code></codeblock>",
    "<blockquote>", "</blockquote>", "<ul>", "<ol>", "<li>", "</li>", "</ul>", "</ol>", "<h1>", "</h1>", "<hr>",
    "<table><tr><td>", "</td><td>", "</td></tr><tr><th>", "</th></tr></table>", "<span>", "</span>",
    "<a href=\"https://x.example/?a=1&amp;b=<c>|d\">", "<a href=\"javascript:alert('<!here>')\">", "<a href=\"mailto:a@b.c\">", "</a>",
    "<at id=\"0\">", "<at id=\"1\">", "<at id=\"9\">", "</at>", "<emoji id=\"1f440_eyes\" alt=\"👀\"></emoji>",
    "<emoji id=\"x\" alt=\"<!channel>\"></emoji>", "<customemoji alt=\"<@U1>\"></customemoji>",
    "<img src=\"https://graph.microsoft.com/v1.0/t/hostedContents/H1/$value\" alt=\"<!here>\">",
    "<img itemtype=\"http://schema.skype.com/Emoji\" itemid=\"laugh\" alt=\"😆\">", "<img src=\"data:x\">",
    "<p itemtype=\"http://schema.skype.com/CodeBlockEditor\">", "<attachment id=\"a1\"></attachment>",
    "<attachment id=\"a2\"></attachment>", "<attachment id=\"a3\"></attachment>", "<attachment id=\"zz\"></attachment>",
    "&lt;!channel&gt;", "&lt;@U123ABC&gt;", "&amp;lt;!here&amp;gt;", "&lt;!subteam^S1&gt;", "@everyone", "&nbsp;",
    "&amp;", "&", "<", ">", "<!here>", "<!channel>", "<@U1>", "<!subteam^S1|x>", "<!--", "-->", "<![CDATA[",
    "`", "```", "*", "_", "~", "|", "\n", " ", "text", "\x00", "\x01", "<marquee>", "<script>", "</script>",
]
HTMLISH = st.lists(st.one_of(st.sampled_from(ATOMS), st.text(max_size=8)), max_size=40).map("".join)
MENTIONS = [
    {"id": 0, "mentionText": "<!channel>", "mentioned": {"user": {"id": "u1", "displayName": "<@U1>"}}},
    {"id": 1, "mentionText": "", "mentioned": {"user": {"id": "u1", "displayName": None}}},
]
ATTACHMENTS = [
    {"id": "a1", "contentType": "messageReference",
     "content": json.dumps({"messagePreview": "<!here> & co", "messageSender": {"user": {"displayName": "<!everyone>"}}})},
    {"id": "a2", "contentType": "forwardedMessageReference",
     "content": json.dumps({"originalMessageContent": "<p>&lt;@U2&gt; <b>x</b></p><attachment id=\"a2\"></attachment>",
                            "originalMessageSender": {"user": {"displayName": "<!here>"}}})},
    {"id": "a3", "contentType": "application/vnd.microsoft.card.adaptive",
     "content": json.dumps({"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "[<!here>](https://x.example/<y>) **<@U1>**"},
                                                            {"type": "FactSet", "facts": [{"title": "<!channel>", "value": "&"}]}]})},
    {"id": "a4", "contentType": "reference", "contentUrl": "https://x.sharepoint.com/<!here>.pdf", "name": "<!here>.pdf"},
    {"id": "a5", "contentType": "<!weird>", "name": "<@U9>"},
]


@SETTINGS
@given(HTMLISH)
def test_html_to_mrkdwn_never_raises_and_emits_nothing_unsafe(html):
    text, files, warnings = html_to_mrkdwn(html, mentions=teams_mentions(MENTIONS), attachments=teams_attachments(ATTACHMENTS), ctx=CTX)
    assert slack_text_problems(text) == [], text
    assert "\x00" not in text and "\x01" not in text
    assert all(isinstance(kind, str) and isinstance(detail, str) for kind, detail in warnings)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_is_safe_as_html_and_as_text(text):
    for content_type in ("html", "text"):
        out, _, _ = html_to_mrkdwn(text, content_type=content_type, ctx=CTX)
        assert slack_text_problems(out) == [], (content_type, out)


@SETTINGS
@given(HTMLISH, st.integers(min_value=300, max_value=2000), st.text(max_size=40),
       st.sampled_from(["normal", "high", "urgent"]))
def test_render_message_parts_fit_and_are_safe(html, max_chars, subject, importance):
    ctx = RenderContext(users={"u1": "Jane"}, max_chars=max_chars)
    message = {"id": "1", "messageType": "message", "createdDateTime": "2024-03-05T13:32:10Z",
               "subject": subject, "importance": importance, "lastEditedDateTime": "2024-03-05T14:00:00Z",
               "body": {"contentType": "html", "content": html * 8}, "mentions": MENTIONS, "attachments": ATTACHMENTS,
               "reactions": [{"reactionType": "<!here>", "user": {"user": {"id": "u1"}}}]}
    rendered = render(message, ctx, has_replies=True)
    assert all(len(part) <= max_chars for part in rendered.parts)
    body, _, _ = html_to_mrkdwn(html * 8, mentions=teams_mentions(MENTIONS), attachments=teams_attachments(ATTACHMENTS), ctx=ctx)
    if all(len(link) < max_chars // 2 for link in OUR_LINK.findall(body)) or len(body) < max_chars // 4:
        for part in rendered.parts:     # (only a bare URL longer than a part may be cut)
            assert slack_text_problems(part) == [], part


def _content(text: str) -> str:
    return re.sub(r"\s+", "", text)


@SETTINGS
@given(st.text(alphabet=st.characters(blacklist_characters="`"), max_size=600), st.integers(min_value=1, max_value=120))
def test_split_text_parts_fit_and_rejoin_to_the_text(text, limit):
    parts = split_text(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert _content("".join(parts)) == _content(text)


LINE = st.text(alphabet=st.characters(blacklist_characters="`\n"), max_size=70)
BLOCK = st.one_of(LINE, st.lists(LINE, min_size=1, max_size=12).map(lambda lines: "\n".join(["```", *lines, "```"])))


@SETTINGS
@given(st.lists(BLOCK, max_size=25).map("\n".join), st.integers(min_value=40, max_value=200))
def test_split_text_keeps_code_fences_balanced(text, limit):
    parts = split_text(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert all(sum(line.count("```") for line in part.split("\n")) % 2 == 0 for part in parts), parts

    def without_fences(s: str) -> str:
        return _content("".join(line for line in s.split("\n") if line.strip() != "```"))
    assert without_fences("\n".join(parts)) == without_fences(text)
