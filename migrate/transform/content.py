"""Teams message content → Slack message text, as pure functions.

`render_message` turns one TeamsMessage — a Graph chatMessage as migrate/export/records.py
parsed it: its envelope typed, its body (HTML or text) and its cards' payloads as Teams wrote
them — into the text(s) to post: an importance mark and the subject in bold, the body as mrkdwn
(`html_to_mrkdwn`), an "(edited)" mark, the reactions summary and a provenance line with the
original date and time; long texts are split into continuation parts. It also says which files
to upload into the thread, what was lossy (warnings), and when the message is not posted at all
(system events, deletions).

Nothing from the source can notify anyone: mentions are plain `@Name` text and every `&`, `<`, `>`
of the source is escaped, so `<@U…>`, `<!channel>`, `<!here>`, `<!everyone>` and
`<!subteam^…>` cannot appear. `@everyone` stays harmless text as long as the poster keeps
`link_names` off (the Slack adapter does).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from migrate.model import TeamsAttachment, TeamsMention, TeamsMessage, TeamsReaction
from migrate.transform.cards import local_time, zone
from migrate.transform.content_model import FileRef, RenderContext, Rendered
from migrate.transform.html_walk import Walker
from migrate.transform.mappings import load_mappings
from migrate.transform.markup import (
    CONTROL_CHARS,
    escape,
    escape_text,
    short_name,
    tidy,
)
from migrate.transform.split import split_text

__all__ = ["FileRef", "RenderContext", "Rendered", "html_to_mrkdwn", "load_mappings",
           "reactions_summary", "render_message", "split_text"]

IMPORTANCE = {"high": ":exclamation: *Important*", "urgent": ":rotating_light: *Urgent*"}
EDITED = "_(edited)_"
CONTINUED = "_(continued)_"
DELETED = "_This message was deleted in Teams._"
_SKIN_TONES = {"\U0001f3fb": 2, "\U0001f3fc": 3, "\U0001f3fd": 4, "\U0001f3fe": 5, "\U0001f3ff": 6}
_LINK = re.compile(r"<((?:https?://|mailto:)[^<>|\s]*)(?:\|([^<>\n]*))?>")
_EVENT_NAME = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def html_to_mrkdwn(html: str, *, content_type: str = "html", mentions: Sequence[TeamsMention] = (),
                   attachments: Sequence[TeamsAttachment] = (), ctx: RenderContext
                   ) -> tuple[str, list[FileRef], list[tuple[str, str]]]:
    """A message body as mrkdwn, the files it shows (to upload), and what was lossy."""
    walker = Walker(ctx, mentions, attachments)
    if (content_type or "html").lower() == "text":
        text = CONTROL_CHARS.sub("", (html or "").replace("\r\n", "\n").replace("\r", "\n"))
        lines = [escape_text(line) for line in text.split("\n")]
        lines.extend(walker.convert(""))       # attachments of a text message, if any
    else:
        lines = walker.convert(html or "")
    return "\n".join(tidy(lines, keep_marks=False)), walker.files, walker.warnings


def reaction_token(reaction_type: str, display_name: str | None, ctx: RenderContext) -> str:
    """`:short_name:` of one Teams reactionType (or the Unicode emoji when unmapped)."""
    kind = (reaction_type or "").strip()
    if kind.lower() == "custom":
        name = short_name(display_name or "")
        return f":{name}:" if name else ":custom:"

    def lookup(key: str) -> str:
        mapped = ctx.reactions.get(key) or ctx.reactions.get(key.replace("\ufe0f", ""))
        return short_name(mapped) if isinstance(mapped, str) else ""

    if name := lookup(kind) or lookup(kind.lower()):
        return f":{name}:"
    tone = next((_SKIN_TONES[ch] for ch in kind if ch in _SKIN_TONES), None)
    if tone and (name := lookup("".join(ch for ch in kind if ch not in _SKIN_TONES))):
        return f":{name}::skin-tone-{tone}:"
    if kind and not kind.isascii():
        return escape(kind)
    return f":{short_name(kind) or 'unknown'}:"


def reactions_summary(reactions: Sequence[TeamsReaction], ctx: RenderContext) -> str:
    """`:+1: 3  :heart: 1` — count per reaction, most first, then by name: reactions are
    summarized on the message, since a bot cannot react as the people who did."""
    counts: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    for reaction in reactions:
        token = reaction_token(reaction.reaction_type, reaction.display_name, ctx)
        user = reaction.user_id
        if user:
            if (token, user) in seen:
                continue
            seen.add((token, user))
        counts[token] += 1
    return "  ".join(f"{token} {n}" for token, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def describe_event(kind: str | None, ctx: RenderContext) -> str | None:
    """Short name of a system event ("members added") from its eventDetail @odata.type."""
    if not kind:
        return None
    if ctx.system_events.get(kind):
        return str(ctx.system_events[kind])
    name = kind.rsplit(".", 1)[-1].removesuffix("EventMessageDetail")
    return _EVENT_NAME.sub(" ", name).lower() or None


def _is_system_event(message: TeamsMessage) -> bool:
    if message.message_type in ("systemEventMessage", "chatEvent", "typing"):
        return True
    return message.body.lstrip().lower().startswith("<systemeventmessage")


def provenance(message: TeamsMessage, ctx: RenderContext) -> str | None:
    """`_Posted in Teams on 2024-03-05 14:32 CET_`; names the author when it is an app/bot
    (a person's name is the post's username already)."""
    when = local_time(message.created_at, ctx.timezone)
    if when is None:
        return None
    if message.sender_kind == "application":
        name = message.sender_name or ctx.users.get(message.sender_app_id or "") or "an app"
        return f"_Posted in Teams by {escape(name)} (app) on {when}_"
    return f"_Posted in Teams on {when}_"


def _unwrap_long_links(text: str, longest: int) -> str:
    """`<url|label>` tokens too long to stay whole in one part become `label (<url>)` (or
    `label (url)` as text when the URL alone is that long), so a split never has to cut one."""
    def unwrap(match: re.Match) -> str:
        url, label = match.group(1), match.group(2)
        if len(match.group()) <= longest or label is None:
            return match.group()
        return f"{label} (<{url}>)" if len(url) + 2 <= longest else f"{label} ({url})"
    return _LINK.sub(unwrap, text) if len(text) > longest else text


def _with_edited(body: str) -> str:
    if not body:
        return EDITED
    last = body.rsplit("\n", 1)[-1]
    if "```" in last or last.startswith(">"):
        return f"{body}\n{EDITED}"
    return f"{body} {EDITED}"


def render_message(message: TeamsMessage, ctx: RenderContext, *, has_replies: bool = False) -> Rendered:
    """One Teams message → what to post (see the module docstring)."""
    content, attachments = message.body, message.attachments
    if _is_system_event(message):
        event = describe_event(message.event_type, ctx)
        return Rendered((), (), (), f"system event: {event}" if event else "system event")
    warnings: list[tuple[str, str]] = []
    if zone(ctx.timezone) is None:
        warnings.append(("bad_timezone", ctx.timezone))
    footer = [line for line in (provenance(message, ctx),) if line] if ctx.attribution else []
    if message.deleted_at or (not content.strip() and not attachments):
        if not has_replies:
            return Rendered((), (), tuple(warnings), "deleted in Teams")
        return Rendered(("\n".join([DELETED, *footer]),), (), tuple(warnings))
    text, files, body_warnings = html_to_mrkdwn(
        content, content_type=message.body_type, mentions=message.mentions, attachments=attachments,
        ctx=ctx)
    warnings.extend(w for w in body_warnings if w not in warnings)
    header = []
    importance = (message.importance or "").lower()
    if importance in IMPORTANCE:
        header.append(IMPORTANCE[importance])
    subject = " ".join((message.subject or "").split())
    if subject:
        header.append(f"*{escape_text(subject)}*")
    if message.edited_at and ctx.attribution:
        text = _with_edited(text)
    summary = reactions_summary(message.reactions, ctx) if ctx.attribution else ""
    footer = ([summary] if summary else []) + footer
    head, foot = "\n".join(header), "\n".join(footer)
    whole = "\n".join(part for part in (head, text, foot) if part)
    if len(whole) <= ctx.max_chars:
        return Rendered((whole,), tuple(files), tuple(warnings))
    text = _unwrap_long_links(text, ctx.max_chars // 4)
    whole = "\n".join(part for part in (head, text, foot) if part)
    overhead = max(len(head) + len(foot) + 2, len(CONTINUED) + 1)
    if ctx.max_chars - overhead >= ctx.max_chars // 2:
        chunks = split_text(text, ctx.max_chars - overhead)
        first = "\n".join(part for part in (head, chunks[0], foot) if part)
    else:   # a header/footer too long to share parts with the body: split all of it
        chunks = split_text(whole, max(1, ctx.max_chars - len(CONTINUED) - 1))
        first = chunks[0]
    parts = (first, *(f"{CONTINUED}\n{chunk}" for chunk in chunks[1:]))
    warnings.append(("message_split", f"{len(parts)} parts"))
    return Rendered(parts, tuple(files), tuple(warnings))
