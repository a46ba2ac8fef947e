"""Tests of the pure transforms; `slack_text_problems` is the safety check they share, `render`
renders a Graph chatMessage as the plan does (parsed by the Graph side, then rendered)."""

from __future__ import annotations

import re
from typing import Any

from migrate.export.records import teams_message
from migrate.transform.content import RenderContext, Rendered, render_message

# Links we emit: <https://…|label>, <https://…>, <mailto:…|label>.
OUR_LINK = re.compile(r"<(?:https?://|mailto:)[^<>|\s]*(?:\|[^<>\n]*)?>")
NOTIFYING = ("<@", "<!channel>", "<!here>", "<!everyone>", "<!subteam", "<#", "<!")
_QUOTE_START = re.compile(r"(?m)^[ \t•◦▪0-9.]*>")
_HTML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")


def slack_text_problems(text: str) -> list[str]:
    """Why `text` is unsafe to post (empty when safe): a notifying token, an HTML tag, or an
    `&`, `<`, `>` that is not escaped and not part of a link or quote marker we emit."""
    problems = [f"notifying token {token!r}" for token in NOTIFYING if token in text]
    rest = OUR_LINK.sub("", text)
    if _HTML_TAG.search(rest):
        problems.append(f"HTML tag {_HTML_TAG.search(rest).group()!r}")
    if "<" in rest:
        problems.append("unescaped <")
    if ">" in _QUOTE_START.sub("", rest):
        problems.append("unescaped >")
    for match in re.finditer("&", text):
        if not re.match(r"&(?:amp|lt|gt);", text[match.start():]):
            problems.append(f"unescaped & at {match.start()}")
            break
    return problems


def render(raw: dict[str, Any], ctx: RenderContext, **options: Any) -> Rendered:
    """`render_message` of a Graph chatMessage (test data stays the JSON Graph sends), parsed by
    `teams_message` as the exporter's records are."""
    return render_message(teams_message({"id": "m", **raw}, "c"), ctx, **options)
