"""A Teams message's attachments as Slack text. Graph describes them (content types `reference`,
`messageReference`, `forwardedMessageReference`, cards) at
https://learn.microsoft.com/graph/api/resources/chatmessageattachment.

Files (`reference`) become uploads plus a `📎 name` line; quoted replies and forwards become
quoted blocks; cards (adaptive, hero, thumbnail, connector, code snippet, announcement, Loop)
become a short text rendering of their title/text fields and a warning, since Slack shows no
Teams card.
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrate.export.records import graph_field as field
from migrate.model import TeamsAttachment
from migrate.timestamps import parse_instant
from migrate.transform.content_model import FileRef
from migrate.transform.markup import (
    HOSTED_SRC,
    collapse,
    escape_text,
    linkable,
    quote_lines,
    slack_link,
)

_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^)\s]+)\)")
_MD_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_MAX_CARD_DEPTH = 8

CARD_KINDS = {
    "application/vnd.microsoft.card.adaptive": "adaptive card",
    "application/vnd.microsoft.card.hero": "hero card",
    "application/vnd.microsoft.card.thumbnail": "thumbnail card",
    "application/vnd.microsoft.teams.card.o365connector": "connector card",
    "application/vnd.microsoft.card.o365connector": "connector card",
    "application/vnd.microsoft.card.codesnippet": "code snippet",
    "application/vnd.microsoft.card.announcement": "announcement",
    "application/vnd.microsoft.teams.messaging-announcementbanner": "announcement",
    "application/vnd.microsoft.card.fluidembedcard": "loop component",
    "application/vnd.microsoft.card.loop": "loop component",
    "meetingreference": "meeting",
    "tabreference": "tab",
}


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_time(value: Any, timezone: str) -> str | None:
    """`2024-03-05 14:32 CET`: a Graph timestamp in the given IANA zone (UTC if unknown)."""
    moment = parse_instant(value)
    if moment is None:
        return None
    local = moment.astimezone(zone(timezone) or UTC)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")


def identity_name(identity: Any, ctx: Any) -> str | None:
    """Display name of a Graph identity set ({user|application|…}), via ctx.users if needed."""
    for kind in ("user", "application", "device", "conversation"):
        ident = field(identity, kind)
        if not isinstance(ident, dict):
            continue
        name = field(ident, "displayName") or ctx.users.get(field(ident, "id") or "")
        if name:
            return str(name)
    return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _items(value: Any) -> list:
    return value if isinstance(value, list) else []


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return None
    return None


def markdown(text: Any) -> list[str]:
    """Card text (a little Markdown: **bold**, [label](url)) → mrkdwn lines, escaped."""
    if not isinstance(text, str):
        return []
    out, pos = [], 0
    for match in _MD_LINK.finditer(text):
        out.append(_MD_BOLD.sub(r"*\1*", escape_text(text[pos:match.start()])))
        out.append(slack_link(match.group(2), escape_text(match.group(1))))
        pos = match.end()
    out.append(_MD_BOLD.sub(r"*\1*", escape_text(text[pos:])))
    return [collapse(line) for line in "".join(out).replace("\r\n", "\n").split("\n") if line.strip()]


def _bold(lines: list[str]) -> list[str]:
    return [f"*{line.replace('*', '')}*" for line in lines]


def _button(title: Any, url: Any) -> str | None:
    if isinstance(url, str) and linkable(url):
        return slack_link(url, escape_text(collapse(title)) if isinstance(title, str) else "")
    return None


def _adaptive(element: Any, depth: int = 0) -> list[str]:
    if not isinstance(element, dict) or depth > _MAX_CARD_DEPTH:
        return []
    kind = element.get("type")
    lines: list[str] = []
    if kind in ("AdaptiveCard", None) and "body" in element:
        for child in _items(element.get("body")):
            lines.extend(_adaptive(child, depth + 1))
    elif kind == "TextBlock":
        text = markdown(element.get("text"))
        lines.extend(_bold(text) if str(element.get("weight", "")).lower() == "bolder" else text)
    elif kind == "RichTextBlock":
        runs = []
        for run in _items(element.get("inlines")):
            text = run.get("text") if isinstance(run, dict) else run
            if isinstance(text, str) and text.strip():
                piece = escape_text(collapse(text))
                if isinstance(run, dict) and str(run.get("weight", "")).lower() == "bolder":
                    piece = f"*{piece}*"
                runs.append(piece)
        if runs:
            lines.append(" ".join(runs))
    elif kind == "FactSet":
        for fact in _items(element.get("facts")):
            title = collapse(str(fact.get("title") or "")).rstrip(":") if isinstance(fact, dict) else ""
            value = " ".join(markdown(str(fact.get("value") or ""))) if isinstance(fact, dict) else ""
            if any(ch.isalnum() for ch in title):
                lines.append(f"*{escape_text(title).replace('*', '')}:* {value}".rstrip())
            elif value:
                lines.append(f"• {value}")
    elif kind in ("Container", "Column"):
        for child in _items(element.get("items")):
            lines.extend(_adaptive(child, depth + 1))
    elif kind == "ColumnSet":
        for column in _items(element.get("columns")):
            lines.extend(_adaptive(column, depth + 1))
    elif kind == "ActionSet":
        lines.extend(_actions(element.get("actions")))
    elif kind == "Table":
        for row in _items(element.get("rows")):
            if not isinstance(row, dict):
                continue
            cells = [" ".join(line for item in _items(cell.get("items")) for line in _adaptive(item, depth + 1))
                     for cell in _items(row.get("cells")) if isinstance(cell, dict)]
            if any(cells):
                lines.append(" | ".join(cells))
    elif isinstance(element.get("text"), str):
        lines.extend(markdown(element["text"]))
    if depth == 0:
        lines.extend(_actions(element.get("actions")))
    return lines


def _actions(actions: Any) -> list[str]:
    links = [_button(a.get("title"), a.get("url")) for a in _items(actions) if isinstance(a, dict)]
    links = [link for link in links if link]
    return [" · ".join(links)] if links else []


def _hero(card: dict) -> list[str]:
    lines = _bold(markdown(card.get("title"))) + markdown(card.get("subtitle")) + markdown(card.get("text"))
    buttons = [_button(b.get("title"), b.get("value")) for b in _items(card.get("buttons")) if isinstance(b, dict)]
    if any(buttons):
        lines.append(" · ".join(b for b in buttons if b))
    return lines


def _connector(card: dict) -> list[str]:
    lines = _bold(markdown(card.get("title"))) + markdown(card.get("text") or card.get("summary"))
    for section in _items(card.get("sections")):
        if not isinstance(section, dict):
            continue
        lines += _bold(markdown(section.get("activityTitle") or section.get("title")))
        lines += markdown(section.get("activitySubtitle")) + markdown(section.get("activityText"))
        lines += markdown(section.get("text"))
        for fact in _items(section.get("facts")):
            if isinstance(fact, dict) and (fact.get("name") or fact.get("value")):
                lines.append(f"*{escape_text(collapse(str(fact.get('name') or ''))).replace('*', '')}:* "
                             + " ".join(markdown(str(fact.get("value") or ""))))
    buttons = []
    for action in _items(card.get("potentialAction")):
        if not isinstance(action, dict):
            continue
        targets, uri = action.get("targets"), None
        if isinstance(targets, list) and targets and isinstance(targets[0], dict):
            uri = targets[0].get("uri")
        elif isinstance(action.get("target"), list) and action["target"]:
            uri = action["target"][0]
        buttons.append(_button(action.get("name"), uri))
    if any(buttons):
        lines.append(" · ".join(b for b in buttons if b))
    return lines


def _first(content: Any, *names: str) -> str | None:
    for name in names:
        value = field(content, name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def render_attachment(att: TeamsAttachment, walker: Any) -> list[str]:
    """Lines for one attachment of the message being walked (files and warnings go to it)."""
    ctype = (att.content_type or "").strip()
    low = ctype.lower()
    name = _text(att.name)
    if low == "reference":
        url = _text(att.content_url)
        label = name or (PurePosixPath(unquote(urlsplit(url).path)).name if isinstance(url, str) else "") or "file"
        if url:
            walker.add_file(FileRef("reference", att.id or url, label))
        else:
            walker.warn("file_not_migrated", label)
        return [escape_text(f"📎 {label}")]
    content = _json(att.content)
    if low == "messagereference":
        sender = identity_name(field(content, "messageSender"), walker.ctx) or "unknown sender"
        preview = [escape_text(collapse(line)) for line in str(field(content, "messagePreview") or "").split("\n")
                   if line.strip()]
        head = f"*Replying to {escape_text(sender)}:*"
        return quote_lines([f"{head} {preview[0]}" if preview else head, *preview[1:]])
    if low == "forwardedmessagereference":
        sender = identity_name(field(content, "originalMessageSender"), walker.ctx)
        head = f"*Forwarded from {escape_text(sender)}*" if sender else "*Forwarded message*"
        when = local_time(field(content, "originalSentDateTime"), walker.ctx.timezone)
        body = walker.nested(str(field(content, "originalMessageContent") or ""))
        return quote_lines([f"{head} ({when})" if when else head, *body])
    if low.startswith("image/"):
        url = _text(att.content_url)
        label = escape_text(f"[image: {name}]" if name else "[image]")
        return [slack_link(url, label) if isinstance(url, str) and linkable(url) else label]
    kind = CARD_KINDS.get(low)
    if kind is None and not low.startswith("application/vnd.microsoft."):
        walker.warn("unknown_attachment", ctype or "no content type")
        return [escape_text(f"[attachment: {name or ctype or 'unknown'}]")]
    kind = kind or low.rsplit(".", 1)[-1]
    walker.warn("card_rendered_as_text", kind)
    card = content if isinstance(content, dict) else {}
    if kind == "adaptive card":
        lines = _adaptive(card)
    elif kind in ("hero card", "thumbnail card"):
        lines = _hero(card)
    elif kind == "connector card":
        lines = _connector(card)
    elif kind == "code snippet":
        url = _first(card, "codeSnippetUrl") or ""
        hosted = HOSTED_SRC.search(url)
        if hosted:
            walker.add_file(FileRef("hosted", hosted.group(1), None))
        language = _first(card, "language")
        lines = [escape_text(f"💻 Code snippet ({language})" if language else "💻 Code snippet")]
    elif kind == "announcement":
        lines = [f"📢 {line}" for line in _bold(markdown(_first(card, "title", "heading")))]
    else:
        url = _first(card, "componentUrl", "url", "webUrl", "joinUrl", "meetingJoinUrl", "contentUrl")
        title = _first(card, "title", "subject", "displayName", "name") or name or kind.capitalize()
        icon = {"meeting": "📅 ", "loop component": "🔄 "}.get(kind, "")
        label = escape_text(collapse(title))
        return [icon + (slack_link(url, label) if url and linkable(url) else label)]
    if not lines:
        lines = _bold(markdown(_first(card, "title", "text", "summary")))
    return lines or [escape_text(f"[{kind}]")]
