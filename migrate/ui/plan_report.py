"""Plan → terminal summary (rich), Markdown, self-contained HTML and JSON reports.

The HTML report is one file with no network access needed: inline CSS, inline SVG charts
(messages per team, the estimated timeline), tables of unmapped users and renamed channels,
and sample messages of each channel rendered the way Slack shows them.
"""

from __future__ import annotations

import heapq
import html
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from migrate.plan.build import Plan
from migrate.plan.estimate import human

EMOJI = {"+1": "👍", "thumbsup": "👍", "heart": "❤️", "joy": "😂", "laughing": "😆",
         "open_mouth": "😮", "cry": "😢", "angry": "😠", "tada": "🎉", "100": "💯", "eyes": "👀",
         "exclamation": "❗", "rotating_light": "🚨", "paperclip": "📎", "smile": "😄",
         "fire": "🔥", "rocket": "🚀", "white_check_mark": "✅", "pray": "🙏", "clap": "👏"}
_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")


def write_reports(plan: Plan, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "plan.json", "md": directory / "plan.md",
             "html": directory / "plan.html"}
    with paths["json"].open("w", encoding="utf-8") as handle:
        plan.write_json(handle)
    paths["md"].write_text(plan_markdown(plan), encoding="utf-8")
    paths["html"].write_text(plan_html(plan), encoding="utf-8")
    return paths


# -- Markdown ------------------------------------------------------------------------------

def md_text(value: object) -> str:
    """Text from Teams in Markdown: HTML and Markdown syntax shown as typed, never rendered
    (a team named `<img src=x onerror=…>` or `**urgent**` reads as that, in any viewer)."""
    text = html.escape(str(value), quote=False).replace("\n", " ")
    return re.sub(r"([\\`*_\[\]|#!~])", r"\\\1", text)


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    def cell(value: str) -> str:
        return md_text(value)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


CHAT_TYPE = {"oneOnOne": "1:1 chats", "group": "group chats", "meeting": "meeting chats"}
CHAT_HEADERS = ["type", "chat", "members", "with Slack", "messages", "fate", "Slack channel", "why"]
CHATS_NOTE = ("A chat's content only ever goes to a private channel whose members are exactly "
              "its members with a Slack account; a chat with more than 9 people is too large "
              "for a Slack group DM.")


# Long lists (a large tenant's chats, its unmapped people) are cut in the md and html reports,
# which people read; plan.json lists every one.
ROWS_SHOWN = 1_000


def _shown(rows: Iterable[list], total: int) -> tuple[list[list], str]:
    """The rows a report shows (the first ROWS_SHOWN of `rows`, which lists `total`), and the
    note saying how many more plan.json lists."""
    shown = list(itertools.islice(rows, ROWS_SHOWN))
    more = total - len(shown)
    return shown, (f"… and {more:,} more: plan.json lists every one." if more > 0 else "")


def _unmapped(plan: Plan) -> tuple[list[list], str]:
    rows = ([u.display_name, "yes" if u.is_guest else "", u.reason or ""]
            for u in plan.users if not u.slack_user_id)
    return _shown(rows, plan.summary()["users"].get("unmapped", 0))


def _chats(plan: Plan) -> tuple[list[list], str]:
    """The first chats by kind and label (a tenant has one for every three people: the
    smallest ROWS_SHOWN are picked as they stream by, never all sorted in memory)."""
    first = heapq.nsmallest(ROWS_SHOWN, plan.chats,
                            key=lambda c: (c.chat_type, c.label.casefold(), c.teams_chat_id))
    rows = ([CHAT_TYPE.get(c.chat_type, c.chat_type), c.label, c.members, c.mapped_members,
             c.messages, "private channel" if c.action == "channel" else "skipped",
             f"#{c.slack_name}" if c.slack_name else "—",
             c.reason + ("; too large for a Slack group DM" if c.larger_than_group_dm else "")]
            for c in first)
    return _shown(rows, len(plan.chats))


def plan_markdown(plan: Plan) -> str:
    s = plan.summary()
    chats, more_chats = _chats(plan)
    unmapped, more_unmapped = _unmapped(plan)
    est = plan.estimate
    out = ["# Migration plan", "", f"Teams data as of {plan.as_of or 'never exported'}.", "",
           "## Summary", "",
           _md_table(["", "count"], [
               ["users mapped", str(s["users"].get("mapped", 0))],
               ["users unmapped", str(s["users"].get("unmapped", 0))],
               ["users ambiguous", str(s["users"].get("ambiguous", 0))],
               ["channels to create", str(s["channels"].get("create", 0))],
               ["channels reused", str(s["channels"].get("reuse", 0))],
               ["channels renamed", str(s["channels"].get("renamed", 0))],
               ["channels skipped", str(s["channels"].get("skip", 0))],
               ["messages to post", str(s["messages"]["to_post"])],
               ["posts (with continuations)", str(s["messages"]["posts"])],
               ["files to upload", f"{s['files']['to_upload']} ({s['files']['bytes']:,} bytes)"],
               ["files skipped", str(s["files"]["skipped"])],
               ["chats found", str(sum(s["chats"]["found"].values()))],
               ["chats to private channels", str(s["chats"]["to_channels"])],
               ["chats skipped", f"{s['chats']['skipped']} ({s['chats']['messages_skipped']} "
                                 "messages)"],
               ["estimated duration", human(est.seconds) if est else "—"]]), ""]
    if est and est.phases:
        out += ["## Estimated run, phase by phase", "", _md_table(
            ["phase", "estimate"], [[name, human(seconds)] for name, seconds in est.phases.items()]
            + [["total", human(est.seconds)]]), "", f"Bound by {est.binding}; channel setup "
            "runs beside the posting.", ""]
    if est and est.advice:
        out += ["## Advice", ""] + [f"- {a}" for a in est.advice] + [""]
    out += ["## Channels", "", _md_table(
        ["team", "Teams channel", "action", "Slack channel", "private", "invites", "posts", "files", "note"],
        [[c.team_name, c.channel_name, c.action, f"#{c.slack_name}" if c.slack_name else "—",
          "yes" if c.is_private else "", str(len(c.invite)), str(c.posts), str(c.uploads),
          "; ".join(filter(None, [f"renamed from {c.renamed_from}" if c.renamed_from else "",
                                  c.reason or "", "archived after import" if c.archive_after else ""]))]
         for c in plan.channels]), ""]
    out += ["## Chats", "", CHATS_NOTE, "", _md_table(
        CHAT_HEADERS, [[str(v) for v in row] for row in chats]) + (f"\n\n{more_chats}" if more_chats else "")
        if plan.chats else "None exported.", ""]
    out += ["## Unmapped users", "",
            "Their messages are still migrated, under their display name.", "",
            _md_table(["Teams user", "guest", "reason"], unmapped)
            + (f"\n\n{more_unmapped}" if more_unmapped else "") if unmapped else "None.", ""]
    out += ["## Skipped", "", _md_table(["kind", "reason", "count"], [
        [kind, reason, str(n)] for (kind, reason), n in sorted(plan.tally.skips.items())])
        if plan.skips
        else "Nothing.", ""]
    out += ["## Warnings", "", _md_table(["kind", "count", "examples"], [
        [kind, str(n), "; ".join(plan.warning_samples.get(kind, [])[:3])]
        for kind, n in plan.warnings.items()]) if plan.warnings else "None.", ""]
    return "\n".join(out)


# -- HTML ----------------------------------------------------------------------------------

def mrkdwn_html(text: str) -> str:
    """Slack's rendering of our mrkdwn, for previews. Our text already escapes & < > (Slack's
    own escaping is valid HTML), so only the markup we emit needs translating."""
    links: list[str] = []

    def keep_link(match: re.Match) -> str:
        # The URL is mrkdwn text: `&` already written `&amp;`. Escaping it again gave
        # `&amp;amp;` (a broken link); only safe schemes become links.
        url, label = match.group(1), match.group(2) or match.group(1)
        target = html.unescape(url)
        if not re.match(r"(?i)^(https?:|mailto:)", target):
            return label
        links.append(f'<a href="{html.escape(target, quote=True)}">{label}</a>')
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(keep_link, text)
    blocks: list[str] = []

    def keep_code(match: re.Match) -> str:
        blocks.append(f"<pre>{match.group(1)}</pre>")
        return f"\x01{len(blocks) - 1}\x01"

    text = re.sub(r"```\n?(.*?)```", keep_code, text, flags=re.S)
    text = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"<i>\1</i>", text)
    text = re.sub(r"(?<![\w~])~([^~\n]+)~(?![\w~])", r"<s>\1</s>", text)
    text = re.sub(r":([a-z0-9_+\-]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    lines = []
    for line in text.split("\n"):
        lines.append(f"<blockquote>{line[5:]}</blockquote>" if line.startswith("&gt; ") else line)
    text = "<br>".join(lines)
    text = re.sub(r"\x01(\d+)\x01", lambda m: blocks[int(m.group(1))], text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def _bar_chart(rows: list[tuple[str, int]], title: str) -> str:
    if not rows:
        return ""
    width, bar_h, label_w = 720, 22, 220
    peak = max(v for _, v in rows) or 1
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" '
             f'height="{len(rows) * bar_h + 10}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        y = i * bar_h + 5
        w = max(1, int((width - label_w - 80) * value / peak))
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{html.escape(label[:32])}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{bar_h - 6}" fill="#4a154b"/>'
                     f'<text x="{label_w + w + 6}" y="{y + 15}">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d1c1d}h1,h2{font-weight:700}table{border-collapse:collapse;width:100%;
margin:.5rem 0 1.5rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;
vertical-align:top;font-size:.9rem}.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px
solid #ddd;border-radius:8px;padding:.6rem 1rem;min-width:9rem}.card b{display:block;font-size:
1.4rem}.msg{display:flex;gap:.6rem;padding:.4rem 0}.avatar{width:36px;height:36px;border-radius:
4px;background:#e8e8e8;flex:none}.msg .who{font-weight:700}.msg .who small{font-weight:400;color:
#616061;margin-left:.4rem}.reply{margin-left:2.6rem;border-left:3px solid #e8e8e8;padding-left:
.6rem}pre{background:#f8f8f8;border:1px solid #e8e8e8;padding:.5rem;white-space:pre-wrap}code{
background:#f4f4f4;color:#e01e5a;padding:0 .2rem}blockquote{border-left:4px solid #ddd;margin:0;
padding-left:.6rem;color:#454245}.channel{border:1px solid #ddd;border-radius:8px;padding:.5rem
1rem;margin:1rem 0}svg text{font-size:12px}"""


def _more(note: str) -> str:
    return f"<p>{html.escape(note)}</p>" if note else ""


def plan_html(plan: Plan, samples_per_channel: int = 6) -> str:
    s = plan.summary()
    est = plan.estimate
    cards = [("users mapped", s["users"].get("mapped", 0)), ("unmapped", s["users"].get("unmapped", 0)),
             ("channels", len(plan.channels)), ("renamed", s["channels"].get("renamed", 0)),
             ("messages", s["messages"]["to_post"]), ("files", s["files"]["to_upload"]),
             ("chats", len(plan.chats)),
             ("estimate", human(est.seconds) if est else "—")]
    per_team = Counter()
    for c in plan.channels:
        per_team[c.team_name] += c.posts
    body = [f"<h1>Migration plan</h1><p>Teams data as of {html.escape(plan.as_of or 'never exported')}."
            " Nothing has been written to Slack.</p>",
            '<div class="cards">' + "".join(f'<div class="card"><b>{html.escape(str(v))}</b>{k}</div>'
                                            for k, v in cards) + "</div>"]
    if est and est.advice:
        body.append("<h2>Advice</h2><ul>" + "".join(f"<li>{html.escape(a)}</li>" for a in est.advice) + "</ul>")
    body.append("<h2>Messages per team</h2>" + _bar_chart(per_team.most_common(), "messages per team"))
    if est:
        phases = ", ".join(f"{name} {human(seconds)}" for name, seconds in est.phases.items())
        body.append(f"<h2>Estimated timeline</h2><p>{human(est.seconds)} in all ({phases}); "
                    f"channel setup {human(est.setup_seconds)} at its tiers, beside the posting "
                    f"(posting alone {human(est.posting_seconds)}); bound by "
                    f"{html.escape(est.binding)}.</p>" + _bar_chart(est.per_day, "posts per day"))
    body.append("<h2>Channels</h2>" + _table(
        ["team", "Teams channel", "action", "Slack channel", "private", "invites", "posts", "files", "note"],
        [[c.team_name, c.channel_name, c.action, f"#{c.slack_name}" if c.slack_name else "—",
          "yes" if c.is_private else "", len(c.invite), c.posts, c.uploads,
          "; ".join(filter(None, [f"renamed from {c.renamed_from}" if c.renamed_from else "",
                                  c.reason or "", "archived after import" if c.archive_after else ""]))]
         for c in plan.channels]))
    renamed = [c for c in plan.channels if c.renamed_from]
    body.append("<h2>Renamed channels</h2>" + (_table(
        ["team", "Teams channel", "plain name", "Slack name", "why"],
        [[c.team_name, c.channel_name, c.renamed_from, c.slack_name or "—", c.reason or "collision"]
         for c in renamed]) if renamed else "<p>None.</p>"))
    found = Counter(c.chat_type for c in plan.chats)
    chats, more_chats = _chats(plan)
    body.append("<h2>Chats</h2><p>" + html.escape(CHATS_NOTE) + "</p><p>"
                + html.escape(", ".join(f"{n} {CHAT_TYPE.get(k, k)}" for k, n in sorted(found.items()))
                              or "None exported.") + "</p>"
                + (_table(CHAT_HEADERS, chats) + _more(more_chats) if plan.chats else ""))
    unmapped, more_unmapped = _unmapped(plan)
    body.append("<h2>Unmapped users</h2><p>Their messages are still migrated under their display "
                "name.</p>" + (_table(["Teams user", "guest", "reason"], unmapped)
                               + _more(more_unmapped) if unmapped else "<p>None.</p>"))
    body.append("<h2>Warnings</h2>" + (_table(["kind", "count", "examples"], [
        [k, n, "; ".join(plan.warning_samples.get(k, [])[:3])] for k, n in plan.warnings.items()])
        if plan.warnings else "<p>None.</p>"))
    body.append("<h2>Preview</h2><p>The first messages of each channel, as Slack will show them"
                f"{f' (the first {ROWS_SHOWN:,} channels)' if len(plan.channels) > ROWS_SHOWN else ''}"
                ".</p>")
    for c in plan.channels[:ROWS_SHOWN]:
        posts = plan.posts.head(c.teams_channel_id, samples_per_channel)
        if not posts:
            continue
        items = "".join(
            f'<div class="msg{" reply" if p.root_id else ""}"><div class="avatar"></div><div>'
            f'<div class="who">{html.escape(p.username)}<small>APP</small></div>'
            f"<div>{mrkdwn_html(p.text)}</div></div></div>" for p in posts)
        body.append(f'<div class="channel"><h3>#{html.escape(c.slack_name or "")} '
                    f'<small>({html.escape(c.team_name)} / {html.escape(c.channel_name)})</small></h3>'
                    f"{items}</div>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Migration plan"
            f"</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")
